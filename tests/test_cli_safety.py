"""Safety around the book (issue 5), through the real CLI and a real book file: the
screening check and its override, REMS enrollment, monitoring-form markers across clock
changes, and staff checklists that never reach a patient's calendar."""

from __future__ import annotations

import json
import sqlite3
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from ketaplan.safety.screening import CONTRAINDICATIONS, CRITERIA, Question
from tests.clirun import Result, run
from tests.ics_readers import read_agreed

CLINIC = """[clinic]
name = "Lakeside"
timezone = "Europe/Berlin"
chairs = 2
hours = "08:00-20:00"
"""
START = "2030-01-07"  # a Monday, so that "in the past" never applies
SCREENED = "2026-11-20"  # a screening records answers already given: in the past
OVERRIDE_HINT = 'give --override "REASON" if the clinician decides to treat anyway'


@pytest.fixture(autouse=True)
def _clinic(tmp_path: Path) -> None:
    (tmp_path / "ketaplan.toml").write_text(CLINIC, encoding="utf-8")


def answers(tmp_path: Path, name: str = "a.toml", **yes: object) -> Path:
    """Every question answered: criteria met, no contraindication, except `yes`."""
    values: dict[str, object] = {q.key: 3 if q.kind == "count" else True for q in CRITERIA}
    values |= {q.key: False for q in CONTRAINDICATIONS}
    values.update(yes)
    path = tmp_path / name
    path.write_text("".join(f"{k} = {json.dumps(v)}\n" for k, v in values.items()), "utf-8")
    return path


def screen(capsys: pytest.CaptureFixture[str], tmp_path: Path, patient: str, **yes: object) -> None:
    path = answers(tmp_path, f"{patient}.toml", **yes)
    result = run(capsys, "screen", "--patient", patient, "--date", SCREENED, "--answers", str(path))
    assert result.code == 0, result.err


def book(capsys: pytest.CaptureFixture[str], patient: str, *args: str) -> Result:
    return run(
        capsys, "book", "--patient", patient, "--start", START, "--time", "09:00",
        "--maintenance-sessions", "1", *args,
    )  # fmt: skip


def booked_patients(tmp_path: Path) -> list[str]:
    db = sqlite3.connect(tmp_path / "book.sqlite")
    try:
        rows = db.execute(
            "SELECT DISTINCT c.patient FROM sessions s JOIN courses c ON c.id = s.course_id "
            "ORDER BY c.patient"
        ).fetchall()
    finally:
        db.close()
    return [patient for (patient,) in rows]


# --- the screening check ----------------------------------------------------------


@pytest.mark.parametrize("question", CONTRAINDICATIONS, ids=lambda q: q.key)
def test_every_contraindication_alone_blocks_booking_and_is_named(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, question: Question
) -> None:
    screen(capsys, tmp_path, "P-001", **{question.key: True})
    result = book(capsys, "P-001")
    assert (result.code, result.out) == (1, "")
    assert result.err == (
        f"Error: P-001: the latest screening ({SCREENED}) is contraindicated: {question.name}; "
        f"not booked: {OVERRIDE_HINT}\n"
    )
    assert booked_patients(tmp_path) == []


def test_a_screening_without_contraindication_lets_the_patient_book(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    screen(capsys, tmp_path, "P-001")
    result = book(capsys, "P-001")
    assert (result.code, result.err) == (0, "")
    assert "Screening override" not in result.out
    assert booked_patients(tmp_path) == ["P-001"]


def test_a_patient_without_screening_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    result = book(capsys, "P-001")
    assert (result.code, result.out) == (1, "")
    assert result.err == (
        "Error: P-001: no screening recorded; screen the patient first (`ketaplan screen "
        '--patient P-001`), or give --override "REASON" if the clinician decides to book '
        "anyway\n"
    )
    assert booked_patients(tmp_path) == []


def test_the_latest_screening_counts(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = answers(tmp_path, "old.toml", mania=True)
    run(capsys, "screen", "--patient", "P-001", "--date", "2026-11-01", "--answers", str(path))
    screen(capsys, tmp_path, "P-001")  # a later screening lists nothing
    assert book(capsys, "P-001").code == 0


def test_an_override_is_stored_with_its_reason_and_shown(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    screen(capsys, tmp_path, "P-001", uncontrolled_hypertension=True)
    reason = "cleared by Dr. A after cardiology review"
    result = book(capsys, "P-001", "--override", reason)
    assert (result.code, result.err) == (0, "")
    shown = (
        f"Screening override: {reason} (at booking: screening of {SCREENED}: "
        "contraindicated: uncontrolled hypertension)"
    )
    assert result.out.splitlines()[2] == shown
    db = sqlite3.connect(tmp_path / "book.sqlite")
    stored = db.execute("SELECT override_reason, override_screening FROM courses").fetchall()
    db.close()
    assert stored == [
        (reason, f"screening of {SCREENED}: contraindicated: uncontrolled hypertension")
    ]
    as_json = json.loads(book(capsys, "P-002", "--override", "x", "--format", "json").out)
    assert as_json["courses"][0]["override"] == {
        "reason": "x",
        "screening": "no screening recorded",
    }
    detail = run(capsys, "agenda", "--day", START, "--detail")
    assert f"      {shown}\n" in detail.out
    sessions = json.loads(
        run(capsys, "agenda", "--day", START, "--detail", "--format", "json").out
    )["sessions"]
    assert sessions[0]["override"] == {
        "reason": reason,
        "screening": f"screening of {SCREENED}: contraindicated: uncontrolled hypertension",
    }


@pytest.mark.parametrize(
    ("reason", "message"),
    [
        ("  ", '--override needs a reason, e.g. --override "cleared by Dr. A after cardiology '
         'review"'),
        ("x" * 201, "--override reason is 201 characters; at most 200"),
        ("two\nlines", "--override reason must be one line of text, without control characters"),
    ],
)  # fmt: skip
def test_a_bad_override_reason_is_refused_as_bad_input(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, reason: str, message: str
) -> None:
    result = book(capsys, "P-001", "--override", reason)
    assert (result.code, result.out, result.err) == (2, "", f"Error: {message}\n")
    assert not (tmp_path / "book.sqlite").exists()


def test_require_screening_false_books_the_unscreened_but_not_the_contraindicated(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "ketaplan.toml").write_text(CLINIC + "require_screening = false\n", "utf-8")
    assert book(capsys, "P-001").code == 0
    screen(capsys, tmp_path, "P-002", schizophrenia=True)
    result = book(capsys, "P-002")
    assert (result.code, result.err) == (
        1,
        f"Error: P-002: the latest screening ({SCREENED}) is contraindicated: schizophrenia; "
        f"not booked: {OVERRIDE_HINT}\n",
    )
    assert booked_patients(tmp_path) == ["P-001"]
    assert book(capsys, "P-002", "--override", "psychiatry consult").code == 0


# --- rosters ----------------------------------------------------------------------

ROSTER = "patient,protocol,start,time,override,rems_enrolled\n"


def test_a_roster_reports_every_refused_row_at_once_and_books_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    screen(capsys, tmp_path, "P-001")
    screen(capsys, tmp_path, "P-002", mania=True)
    screen(capsys, tmp_path, "P-004")
    (tmp_path / "r.csv").write_text(
        ROSTER
        + f"P-001,iv,{START},09:00,,\n"
        + f"P-002,iv,{START},09:00,,\n"
        + f"P-003,iv,{START},10:30,,\n"
        + f"P-004,esketamine,{START},11:00,,\n",
        "utf-8",
    )
    result = run(capsys, "book", "--roster", "r.csv")
    assert (result.code, result.out) == (1, "")
    assert result.err == (
        "Error: 3 of 4 courses cannot be booked, nothing was booked:\n"
        f"  line 3 (P-002): the latest screening ({SCREENED}) is contraindicated: mania; not "
        "booked: fill in the roster's override column if the clinician decides to treat anyway\n"
        "  line 4 (P-003): no screening recorded; screen the patient first (`ketaplan screen "
        "--patient P-003`), or fill in the roster's override column if the clinician decides "
        "to book anyway\n"
        "  line 5 (P-004): esketamine needs REMS enrollment before the first treatment "
        "(2030-01-07), and none is recorded for patient P-004; record it with `ketaplan rems "
        "enroll P-004 --date DATE`\n"
    )
    assert booked_patients(tmp_path) == []


def test_a_roster_books_with_override_and_enrollment_columns(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    screen(capsys, tmp_path, "P-002", mania=True)
    screen(capsys, tmp_path, "P-004")
    (tmp_path / "r.csv").write_text(
        ROSTER
        + f"P-002,iv,{START},09:00,mania in remission per Dr. B,\n"
        + f"P-004,esketamine,{START},11:00,,2026-11-02\n",
        "utf-8",
    )
    result = run(capsys, "book", "--roster", "r.csv")
    assert result.code == 0, result.err
    assert result.out.splitlines()[-2:] == [
        "Screening overrides (1):",
        "  P-002: Screening override: mania in remission per Dr. B (at booking: screening of "
        f"{SCREENED}: contraindicated: mania)",
    ]
    assert booked_patients(tmp_path) == ["P-002", "P-004"]
    db = sqlite3.connect(tmp_path / "book.sqlite")
    enrolled = db.execute("SELECT patient, enrolled_on FROM rems_enrollments").fetchall()
    db.close()
    assert enrolled == [("P-004", "2026-11-02")]


def test_a_refused_roster_records_no_enrollment_either(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    screen(capsys, tmp_path, "P-004")
    (tmp_path / "r.csv").write_text(
        ROSTER + f"P-004,esketamine,{START},11:00,,2026-11-02\nP-005,iv,{START},09:00,,\n",
        "utf-8",
    )
    assert run(capsys, "book", "--roster", "r.csv").code == 1
    db = sqlite3.connect(tmp_path / "book.sqlite")
    assert db.execute("SELECT count(*) FROM rems_enrollments").fetchone()[0] == 0
    db.close()


def test_a_roster_enrollment_in_the_future_is_a_bad_cell(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "r.csv").write_text(ROSTER + f"P-004,esketamine,{START},,,2999-01-01\n", "utf-8")
    result = run(capsys, "book", "--roster", "r.csv")
    assert result.code == 2
    assert result.err.startswith(
        "Error: r.csv: 1 problem, nothing was booked:\n"
        "  line 2, column 6: rems_enrolled 2999-01-01 is after today ("
    )


def test_a_roster_takes_no_override_option(capsys: pytest.CaptureFixture[str]) -> None:
    result = run(capsys, "book", "--roster", "r.csv", "--override", "x")
    assert (result.code, result.err) == (
        2,
        "Error: --roster takes each patient's options from the file; drop --override\n",
    )


# --- REMS -------------------------------------------------------------------------


def test_esketamine_without_enrollment_is_refused_with_the_exact_message(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    screen(capsys, tmp_path, "P-001")
    result = book(capsys, "P-001", "--protocol", "esketamine")
    assert (result.code, result.out) == (1, "")
    assert result.err == (
        "Error: esketamine needs REMS enrollment before the first treatment (2030-01-07), and "
        "none is recorded for patient P-001; record it with `ketaplan rems enroll P-001 "
        "--date DATE`\n"
    )
    assert booked_patients(tmp_path) == []


def test_an_override_does_not_replace_rems_enrollment(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    result = book(capsys, "P-001", "--protocol", "esketamine", "--override", "screened elsewhere")
    assert result.code == 1
    assert result.err.startswith("Error: esketamine needs REMS enrollment")
    assert booked_patients(tmp_path) == []


def test_an_enrolled_patient_books_esketamine(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    screen(capsys, tmp_path, "P-001")
    enrolled = run(capsys, "rems", "enroll", "P-001", "--date", "2026-11-02")
    assert enrolled.code == 0, enrolled.err
    result = book(capsys, "P-001", "--protocol", "esketamine")
    assert result.code == 0, result.err
    assert booked_patients(tmp_path) == ["P-001"]


# --- markers and checklists in calendars -----------------------------------------------


def book_esketamine(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, start: str, at: str = "09:00"
) -> None:
    screen(capsys, tmp_path, "P-001")
    assert run(capsys, "rems", "enroll", "P-001", "--date", "2026-11-02").code == 0
    result = run(
        capsys, "book", "--patient", "P-001", "--protocol", "esketamine", "--start", start,
        "--time", at, "--maintenance-sessions", "4",
    )  # fmt: skip
    assert result.code == 0, result.err


@pytest.mark.parametrize(
    ("zone", "start", "at"),
    [
        ("Europe/Berlin", "2027-03-15", "09:00"),  # clocks go forward on 28 March 2027
        ("Europe/Berlin", "2027-10-18", "09:00"),  # and back on 31 October 2027
        ("America/New_York", "2027-10-25", "19:30"),  # back on 7 November; 00:30 UTC next day
        ("Australia/Sydney", "2027-03-22", "08:00"),  # back on 4 April; the day before in UTC
    ],
)
def test_rems_markers_fall_exactly_7_days_after_each_esketamine_session(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, zone: str, start: str, at: str
) -> None:
    (tmp_path / "ketaplan.toml").write_text(
        CLINIC.replace("Europe/Berlin", zone).replace("08:00-20:00", "07:00-22:00"), "utf-8"
    )
    book_esketamine(capsys, tmp_path, start, at)
    result = run(capsys, "export", "--staff", "--ics", "staff.ics", "--from", start)
    assert result.code == 0, result.err
    data = (tmp_path / "staff.ics").read_bytes()
    (reading,) = read_agreed(data)  # three independent readers agree on the file
    events = Calendar.from_ical(data).walk("VEVENT")
    sessions = [e for e in events if not str(e["UID"]).startswith("rems-")]
    markers = {str(e["UID"]): e for e in events if str(e["UID"]).startswith("rems-")}
    assert (len(sessions), len(markers)) == (16, 16)
    where = ZoneInfo(zone)
    for session in sessions:
        local_day = session.decoded("DTSTART").astimezone(where).date()
        marker = markers[f"rems-{session['UID']}"]
        assert marker.decoded("DTSTART") == local_day + timedelta(days=7)
        assert type(marker.decoded("DTSTART")) is date  # all day
        assert marker.decoded("DTEND") == local_day + timedelta(days=8)
        assert str(marker["TRANSP"]) == "TRANSPARENT"
        assert str(marker["STATUS"]) == "CONFIRMED"
    assert len(reading["events"]) == 32


def test_a_cancelled_sessions_marker_is_cancelled_with_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    book_esketamine(capsys, tmp_path, "2030-01-07")
    result = run(
        capsys, "book", "--patient", "P-001", "--protocol", "iv", "--start", "2030-01-08",
        "--time", "13:00", "--maintenance-sessions", "1", "--replace",
    )  # fmt: skip
    assert result.code == 0, result.err
    out = run(capsys, "export", "--staff", "--ics", "-", "--from", START, "--to", "2030-01-10")
    events = {str(e["UID"]): e for e in Calendar.from_ical(out.out.encode()).walk("VEVENT")}
    statuses = sorted(
        (str(e["SUMMARY"]).split(" · ")[0], str(e["STATUS"]), e.decoded("SEQUENCE"))
        for e in events.values()
    )
    assert statuses == [
        ("Esketamine nasal spray 1/8", "CANCELLED", 1),
        ("Esketamine nasal spray 2/8", "CANCELLED", 1),
        ("IV ketamine 1/6", "CONFIRMED", 0),
        ("IV ketamine 2/6", "CONFIRMED", 0),
        ("REMS monitoring form due", "CANCELLED", 1),
        ("REMS monitoring form due", "CANCELLED", 1),
    ]
    for uid, event in events.items():
        if uid.startswith("rems-"):
            assert events[uid.removeprefix("rems-")]["STATUS"] == "CANCELLED"
            assert str(event["TRANSP"]) == "TRANSPARENT"


def test_staff_events_carry_the_routes_checklist(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    book_esketamine(capsys, tmp_path, "2030-01-07")
    out = run(capsys, "export", "--staff", "--ics", "-", "--from", START, "--to", START).out
    session = next(
        e for e in Calendar.from_ical(out.encode()).walk("VEVENT")
        if not str(e["UID"]).startswith("rems-")
    )  # fmt: skip
    description = str(session["DESCRIPTION"])
    assert description.startswith("Patient P-001, chair 1, 09:00-11:00 in the chair; ")
    assert "Staff checklist: esketamine nasal spray\n" in description
    assert "After: blood pressure about 40 minutes after the dose, at 09:40\n" in description
    assert "Observe until 11:00 (at least 2 hours after the dose)\n" in description
    assert description.endswith("REMS: patient monitoring form due by 2030-01-14")


def test_patient_calendars_never_carry_the_staff_checklist(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    screen(capsys, tmp_path, "P-001")
    result = run(
        capsys, "book", "--patient", "P-001", "--start", START, "--maintenance-sessions", "2",
        "--lozenges", "3d",
    )  # fmt: skip
    assert result.code == 0, result.err
    exported = run(capsys, "export", "--patient", "P-001", "--ics", "p.ics")
    assert exported.code == 0, exported.err
    planned = run(
        capsys, "plan", "--patient", "P-001", "--start", START, "--protocol", "esketamine",
        "--maintenance-sessions", "2", "--lozenges", "3d", "--ics", "-",
    )  # fmt: skip
    assert planned.code == 0, planned.err
    for reading in read_agreed((tmp_path / "p.ics").read_bytes(), planned.out.encode()):
        events = reading["events"]
        assert any(e["categories"] == ["Home dose"] for e in events)
        for event in events:
            text = event["description"] or ""
            for staff_only in ("Staff checklist", "Watch (", "Discharge:", "REMS"):
                assert staff_only not in text
            assert not event["uid"].startswith("rems-")
        clinic = next(e for e in events if e["categories"] == ["Appointment"])
        assert "Arrange for someone to drive you home." in clinic["description"]


def test_agenda_detail_prints_the_checklist_under_each_session(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    screen(capsys, tmp_path, "P-001")
    book(capsys, "P-001")
    result = run(capsys, "agenda", "--day", START, "--detail")
    assert (result.code, result.err) == (0, "")
    assert result.out == (
        "Agenda 2030-01-07 · Lakeside · 2 chairs · Europe/Berlin\n"
        "\n"
        "Mon 2030-01-07 · 1 session · chairs 6% used\n"
        "  Time         Chair  Patient  Session                         Status\n"
        "  09:00-10:30  1      P-001    IV ketamine induction 1/6 (#1)  booked\n"
        "      Staff checklist: IV ketamine\n"
        "      Before: vitals before the infusion\n"
        "      After: vitals after the infusion, before discharge\n"
        "      Observe until 10:30\n"
        "      Watch (common): drowsiness, dizziness, dissociation, nausea, blurred or double "
        "vision, vertigo, psychosis (hallucinations, delusions), headaches, altered taste\n"
        "      Watch (rare): mania, poor muscle control, restlessness, panic attacks, thoughts "
        "of self-harm, out-of-body experiences\n"
        "      Discharge: a driver is present to take the patient home; no driving and no "
        "return to work for the rest of the day\n"
    )


def test_agenda_json_adds_a_checklist_only_with_detail(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    screen(capsys, tmp_path, "P-001")
    book(capsys, "P-001")
    plain = json.loads(run(capsys, "agenda", "--day", START, "--format", "json").out)
    assert list(plain["sessions"][0]) == [
        "patient", "number", "phase", "start", "end", "chair", "uid", "status",
    ]  # fmt: skip
    detail = json.loads(run(capsys, "agenda", "--day", START, "--format", "json", "--detail").out)
    (session,) = detail["sessions"]
    assert list(session)[-2:] == ["checklist", "override"]
    assert session["override"] is None
    assert session["checklist"]["route"] == "iv"
    assert session["checklist"]["observe_until"] == "2030-01-07T10:30:00+01:00"
    assert datetime.fromisoformat(session["checklist"]["start"]) == datetime.fromisoformat(
        session["start"]
    )


def test_agenda_detail_is_not_for_csv(capsys: pytest.CaptureFixture[str]) -> None:
    result = run(capsys, "agenda", "--detail", "--format", "csv")
    assert (result.code, result.err) == (
        2,
        "Error: --detail is for --format table or json; csv keeps its columns\n",
    )
