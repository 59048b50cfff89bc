"""Safety around the book (issue 5), through the real CLI and a real book file: the
screening check and its override, REMS enrollment, monitoring-form markers across clock
changes, and staff checklists that never reach a patient's calendar."""

from __future__ import annotations

import json
import sqlite3
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from ketaplan.safety.screening import (
    CLINICIAN_FLAGS,
    CONTEXT,
    CONTRAINDICATIONS,
    CRITERIA,
    Question,
)
from tests.clirun import Result, run
from tests.ics_readers import read_agreed
from tests.uids import book_uid

# A long screening validity: these tests book far ahead so that "in the past" never
# applies; test_screening_validity_* use the default of 90 days.
CLINIC = """[clinic]
name = "Lakeside"
timezone = "Europe/Berlin"
chairs = 2
hours = "08:00-20:00"
screening_valid_days = 3650

[rems]
program = "us-spravato"
"""
START = "2030-01-07"  # a Monday, so that "in the past" never applies
SCREENED = "2026-11-20"  # a screening records answers already given: in the past
RULE = "─"  # the agenda table's line under its header
OVERRIDE_HINT = 'give --override "REASON" if the clinician decides to treat anyway'


@pytest.fixture(autouse=True)
def _clinic(tmp_path: Path) -> None:
    (tmp_path / "ketaplan.toml").write_text(CLINIC, encoding="utf-8")


def answers(tmp_path: Path, name: str = "a.toml", **yes: object) -> Path:
    """Every question answered: criteria met, no contraindication, except `yes`."""
    values: dict[str, object] = {q.key: 3 if q.kind == "count" else True for q in CRITERIA}
    values |= {q.key: False for q in CONTRAINDICATIONS + CLINICIAN_FLAGS + CONTEXT}
    values.update(yes)
    path = tmp_path / name
    path.write_text("".join(f"{k} = {json.dumps(v)}\n" for k, v in values.items()), "utf-8")
    return path


def screen(capsys: pytest.CaptureFixture[str], tmp_path: Path, patient: str, **yes: object) -> None:
    path = answers(tmp_path, f"{patient}.toml", **yes)
    result = run(capsys, "screen", "--patient", patient, "--date", SCREENED, "--answers", str(path))
    assert result.code == 0, result.message


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
    assert result.message == (
        f"Error: P-001: the latest screening ({SCREENED}) is contraindicated: {question.name}; "
        f"not booked: {OVERRIDE_HINT}\n"
    )
    assert booked_patients(tmp_path) == []


def test_a_screening_without_contraindication_lets_the_patient_book(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    screen(capsys, tmp_path, "P-001")
    result = book(capsys, "P-001")
    assert (result.code, result.message) == (0, "")
    assert "Screening override" not in result.out
    assert booked_patients(tmp_path) == ["P-001"]


def test_a_patient_without_screening_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    result = book(capsys, "P-001")
    assert (result.code, result.out) == (1, "")
    assert result.message == (
        f"Created a new clinic book at {tmp_path}/book.sqlite\n"
        "Error: P-001: no screening recorded; screen the patient first (`ketaplan screen "
        '--patient P-001`), or give --override "REASON" if the clinician decides to book '
        "anyway\n"
    )
    assert booked_patients(tmp_path) == []


def test_the_latest_screening_counts(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = answers(tmp_path, "old.toml", mania_current=True)
    run(capsys, "screen", "--patient", "P-001", "--date", "2026-11-01", "--answers", str(path))
    screen(capsys, tmp_path, "P-001")  # a later screening lists nothing
    assert book(capsys, "P-001").code == 0


def test_an_override_is_stored_with_its_reason_and_shown(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    screen(capsys, tmp_path, "P-001", uncontrolled_hypertension=True)
    reason = "cleared by Dr. A after cardiology review"
    result = book(capsys, "P-001", "--override", reason)
    assert (result.code, result.message) == (0, "")
    shown = (
        f"Screening override: {reason} (at booking: screening of {SCREENED}: "
        "contraindicated: uncontrolled hypertension)"
    )
    assert result.out.splitlines()[1] == shown
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
    # Wrapped at the terminal's width, whole words only.
    assert " ".join(shown.split()) in " ".join(detail.out.split())
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
    assert (result.code, result.out, result.message) == (2, "", f"Error: {message}\n")
    assert not (tmp_path / "book.sqlite").exists()


def test_require_screening_false_books_the_unscreened_but_not_the_contraindicated(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "ketaplan.toml").write_text(
        CLINIC.replace("[rems]", "require_screening = false\n\n[rems]"), "utf-8"
    )
    assert book(capsys, "P-001").code == 0
    screen(capsys, tmp_path, "P-002", schizophrenia=True)
    result = book(capsys, "P-002")
    assert (result.code, result.message) == (
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
    screen(capsys, tmp_path, "P-002", mania_current=True)
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
    assert result.message == (
        "Error: 2 of 4 courses cannot be booked, nothing was booked:\n"
        f"  line 3 (P-002): the latest screening ({SCREENED}) is contraindicated: current "
        "mania; not booked: fill in the roster's override column if the clinician decides to "
        "treat anyway\n"
        "  line 4 (P-003): no screening recorded; screen the patient first (`ketaplan screen "
        "--patient P-003`), or fill in the roster's override column if the clinician decides "
        "to book anyway\n"
    )
    assert booked_patients(tmp_path) == []


def test_a_roster_books_with_override_and_enrollment_columns(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    screen(capsys, tmp_path, "P-002", mania_current=True)
    screen(capsys, tmp_path, "P-004")
    (tmp_path / "r.csv").write_text(
        ROSTER
        + f"P-002,iv,{START},09:00,mania in remission per Dr. B,\n"
        + f"P-004,esketamine,{START},11:00,,2026-11-02\n",
        "utf-8",
    )
    result = run(capsys, "book", "--roster", "r.csv")
    assert result.code == 0, result.message
    assert result.out.splitlines()[-2:] == [
        "Screening overrides (1):",
        "  P-002: Screening override: mania in remission per Dr. B (at booking: screening of "
        f"{SCREENED}: contraindicated: current mania)",
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


def test_a_roster_enrollment_more_than_a_year_ahead_is_a_bad_cell(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "r.csv").write_text(ROSTER + f"P-004,esketamine,{START},,,2199-01-01\n", "utf-8")
    result = run(capsys, "book", "--roster", "r.csv")
    assert result.code == 2
    assert result.message.startswith(
        "Error: r.csv: 1 problem, nothing was booked:\n"
        "  line 2, column 6: rems_enrolled 2199-01-01 is more than 366 days after today ("
    )


def test_a_roster_takes_no_override_option(capsys: pytest.CaptureFixture[str]) -> None:
    result = run(capsys, "book", "--roster", "r.csv", "--override", "x")
    assert (result.code, result.message) == (
        2,
        "Error: --roster takes each patient's options from the file; drop --override\n",
    )


# --- REMS -------------------------------------------------------------------------


def test_esketamine_without_enrollment_is_booked_and_flagged_in_output_and_book(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # Enrollment is needed before the first treatment, not before booking.
    screen(capsys, tmp_path, "P-001")
    result = book(capsys, "P-001", "--protocol", "esketamine")
    assert (result.code, result.message) == (0, "")
    assert result.out.splitlines()[1] == (
        "Flag: REMS enrollment not recorded: needed before the first treatment"
    )
    assert booked_patients(tmp_path) == ["P-001"]
    db = sqlite3.connect(tmp_path / "book.sqlite")
    (flags,) = db.execute("SELECT flags FROM courses").fetchone()
    db.close()
    assert json.loads(flags) == ["REMS enrollment not recorded: needed before the first treatment"]
    detail = run(capsys, "agenda", "--day", START, "--detail")
    flag = "    ! REMS enrollment not recorded: needed before the first treatment\n"
    assert flag in detail.out
    assert run(capsys, "rems", "enroll", "--patient", "P-001", "--date", "2026-11-02").code == 0
    detail = run(capsys, "agenda", "--day", START, "--detail")
    assert "REMS enrollment not recorded" not in detail.out


def test_outside_the_rems_esketamine_needs_no_enrollment_and_owes_no_form(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "ketaplan.toml").write_text(CLINIC.replace("us-spravato", "none"), "utf-8")
    screen(capsys, tmp_path, "P-001")
    result = book(capsys, "P-001", "--protocol", "esketamine", "--format", "json")
    assert result.code == 0, result.message
    assert json.loads(result.out)["courses"][0]["flags"] == []
    out = run(capsys, "export", "--staff", "--ics", "-", "--from", START, "--to", START).out
    assert "REMS" not in out


def test_an_enrolled_patient_books_esketamine(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    screen(capsys, tmp_path, "P-001")
    enrolled = run(capsys, "rems", "enroll", "--patient", "P-001", "--date", "2026-11-02")
    assert enrolled.code == 0, enrolled.message
    result = book(capsys, "P-001", "--protocol", "esketamine")
    assert result.code == 0, result.message
    assert booked_patients(tmp_path) == ["P-001"]


# --- markers and checklists in calendars -----------------------------------------------


def marker_uids(tmp_path: Path) -> dict[str, str]:
    """Each session's staff event UID, and its REMS marker's UID."""
    db = sqlite3.connect(tmp_path / "book.sqlite")
    try:
        keys = [key for (key,) in db.execute("SELECT uid FROM sessions")]
    finally:
        db.close()
    book = tmp_path / "book.sqlite"
    return {book_uid(book, "team", key): book_uid(book, "rems", key) for key in keys}


def book_esketamine(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, start: str, at: str = "09:00"
) -> None:
    screen(capsys, tmp_path, "P-001")
    assert run(capsys, "rems", "enroll", "--patient", "P-001", "--date", "2026-11-02").code == 0
    result = run(
        capsys, "book", "--patient", "P-001", "--protocol", "esketamine", "--start", start,
        "--time", at, "--maintenance-sessions", "4",
    )  # fmt: skip
    assert result.code == 0, result.message


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
    assert result.code == 0, result.message
    data = (tmp_path / "staff.ics").read_bytes()
    (reading,) = read_agreed(data)  # three independent readers agree on the file
    events = Calendar.from_ical(data).walk("VEVENT")
    sessions = [e for e in events if str(e["UID"]).startswith("team-")]
    markers = {str(e["UID"]): e for e in events if str(e["UID"]).startswith("rems-")}
    assert (len(sessions), len(markers)) == (16, 16)
    where = ZoneInfo(zone)
    marker_of = marker_uids(tmp_path)
    for session in sessions:
        local_day = session.decoded("DTSTART").astimezone(where).date()
        marker = markers[marker_of[str(session["UID"])]]
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
        "--time", "13:00", "--maintenance-sessions", "1", "--replace", "--yes",
    )  # fmt: skip
    assert result.code == 0, result.err
    # Markers by due date: the forms of the sessions of 7 and 10 January are due on the
    # 14th and 17th, so a window of those days holds their markers.
    out = run(
        capsys, "export", "--staff", "--ics", "-", "--from", "2030-01-14", "--to", "2030-01-17"
    )
    events = {str(e["UID"]): e for e in Calendar.from_ical(out.out.encode()).walk("VEVENT")}
    statuses = sorted(
        (str(e["SUMMARY"]).split(" · ")[0], str(e["STATUS"]), e.decoded("SEQUENCE"))
        for e in events.values()
        if str(e["UID"]).startswith("rems-")
    )
    assert statuses == [
        ("Cancelled: REMS monitoring form due", "CANCELLED", 1),
        ("Cancelled: REMS monitoring form due", "CANCELLED", 1),
    ]
    assert [e.decoded("DTSTART") for e in events.values() if str(e["UID"]).startswith("rems-")] == [
        date(2030, 1, 14),
        date(2030, 1, 17),
    ]
    out = run(capsys, "export", "--staff", "--ics", "-", "--from", START, "--to", "2030-01-10")
    events = {str(e["UID"]): e for e in Calendar.from_ical(out.out.encode()).walk("VEVENT")}
    statuses = sorted(
        (str(e["SUMMARY"]).split(" · ")[0], str(e["STATUS"]), e.decoded("SEQUENCE"))
        for e in events.values()
    )
    assert statuses == [
        ("Cancelled: Esketamine nasal spray 1/8", "CANCELLED", 1),
        ("Cancelled: Esketamine nasal spray 2/8", "CANCELLED", 1),
        ("IV ketamine 1/6", "CONFIRMED", 0),
        ("IV ketamine 2/6", "CONFIRMED", 0),
    ]
    for event in events.values():
        if str(event["STATUS"]) == "CANCELLED":
            assert str(event["TRANSP"]) == "TRANSPARENT"


def test_staff_events_carry_the_routes_checklist(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    book_esketamine(capsys, tmp_path, "2030-01-07")
    out = run(capsys, "export", "--staff", "--ics", "-", "--from", START, "--to", START).out
    session = next(
        e for e in Calendar.from_ical(out.encode()).walk("VEVENT")
        if str(e["UID"]).startswith("team-")
    )  # fmt: skip
    description = str(session["DESCRIPTION"])
    assert description.startswith("Patient P-001, chair 1, 09:00-11:25 in the chair; ")
    assert "Staff checklist: esketamine nasal spray\n" in description
    assert "Before: pregnancy status confirmed; blood pressure before dosing" not in description
    assert "During: administration from 09:15, devices 5 minutes apart, the last at 09:25; " in (
        description
    )
    assert "After: blood pressure about 40 minutes after the dose, at 10:05; " in description
    assert "Observe until 11:25 (at least 2 hours after the last device, at 09:25)\n" in (
        description
    )
    assert description.endswith("REMS: patient monitoring form due by 2030-01-14")


def test_patient_calendars_never_carry_the_staff_checklist(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    screen(capsys, tmp_path, "P-001")
    result = run(
        capsys, "book", "--patient", "P-001", "--start", START, "--maintenance-sessions", "2",
        "--lozenges", "3d",
    )  # fmt: skip
    assert result.code == 0, result.message
    exported = run(capsys, "export", "--patient", "P-001", "--ics", "p.ics")
    assert exported.code == 0, exported.message
    planned = run(
        capsys, "plan", "--patient", "P-001", "--start", START, "--protocol", "esketamine",
        "--maintenance-sessions", "2", "--lozenges", "3d", "--ics", "-",
    )  # fmt: skip
    assert planned.code == 0, planned.message
    for reading in read_agreed((tmp_path / "p.ics").read_bytes(), planned.out.encode()):
        events = reading["events"]
        assert any(e["categories"] == ["Home dose"] for e in events)
        for event in events:
            text = event["description"] or ""
            for staff_only in ("Staff checklist", "Watch (", "Discharge:", "REMS"):
                assert staff_only not in text
            assert not event["uid"].startswith(("rems-", "team-"))
        clinic = next(e for e in events if e["categories"] == ["Appointment"])
        assert "Arrange for someone to drive you home." in clinic["description"]


def test_agenda_detail_prints_the_checklist_under_each_session(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    screen(capsys, tmp_path, "P-001")
    book(capsys, "P-001")
    result = run(capsys, "agenda", "--day", START, "--detail")
    assert (result.code, result.message) == (0, "")
    assert result.out == (
        "Agenda 2030-01-07 · Lakeside · 2 chairs · Europe/Berlin\n"
        "\n"
        "Mon 2030-01-07 · 1 session · chairs 8% used\n"
        "Time         Chair  Patient  Session                         Status\n"
        f"{RULE * 67}\n"
        "09:00-11:00  1      P-001    IV ketamine induction 1/6 (#1)  booked\n"
        "    Staff checklist: IV ketamine\n"
        # Wrapped at the terminal's width (100 here), whole words only.
        "    Before: vitals before the infusion (blood pressure, heart rate, oxygen saturation); "
        "blood\n"
        "      pressure before dosing, against the clinic's threshold 140/90: above it the "
        "clinician decides\n"
        "      whether to dose, and the reason is recorded\n"
        "    During: vitals every 15 minutes during the infusion (blood pressure, heart rate, "
        "oxygen\n"
        "      saturation)\n"
        "    After: vitals after the infusion, before discharge\n"
        "    Observe until 11:00 (the infusion ends at 10:00)\n"
        "    Watch (risks): respiratory depression (breathing, oxygen saturation), cardiovascular "
        "instability\n"
        "      (blood pressure, heart rate), sedation\n"
        "    Watch (common): drowsiness, dizziness, dissociation, nausea, blurred or double "
        "vision, vertigo,\n"
        "      psychosis (hallucinations, delusions), headaches, altered taste\n"
        "    Watch (rare): mania, poor muscle control, restlessness, panic attacks, thoughts of "
        "self-harm,\n"
        "      out-of-body experiences\n"
        "    Discharge: clinically stable: alert, breathing normally, sedation and dissociation "
        "resolved;\n"
        "      blood pressure back to a safe level (below 140/90, or the patient's baseline); a "
        "driver is\n"
        "      present to take the patient home; no driving and no return to work for the rest of "
        "the day\n"
        "\n"
        "1 session listed.\n"
    )


def test_agenda_detail_fits_80_columns_and_never_cuts_a_word(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A long patient code narrows the Session column, so that a title has to wrap; the
    # esketamine patient's missing REMS enrollment adds a flag line.
    long_code = "LAKESIDE-2030-0002"
    screen(capsys, tmp_path, "P-001")
    screen(capsys, tmp_path, long_code)
    assert book(capsys, "P-001").code == 0
    assert book(capsys, long_code, "--protocol", "esketamine", "--time", "11:00").code == 0
    monkeypatch.setenv("COLUMNS", "80")
    result = run(capsys, "agenda", "--day", START, "--detail")
    assert (result.code, result.message) == (0, "")
    lines = result.out.splitlines()
    assert max(len(line) for line in lines) <= 80
    # The Time, Chair, Patient and Status cells stay whole; only the title wraps, at a space.
    assert lines[3:7] == [
        "Time         Chair  Patient             Session                           Status",
        RULE * 80,
        "09:00-11:00  1      P-001               IV ketamine induction 1/6 (#1)    booked",
        "    Staff checklist: IV ketamine",
    ]
    row = lines.index(
        "11:00-13:25  1      LAKESIDE-2030-0002  Esketamine nasal spray induction  booked"
    )
    assert lines[row + 1 : row + 3] == [
        "                                        1/8 (#1)",
        "    ! REMS enrollment not recorded: needed before the first treatment",
    ]
    # Every word of both checklists, whole (items are joined by "," and ";").
    as_json = run(capsys, "agenda", "--day", START, "--detail", "--format", "json").out
    shown = {word.strip(",;") for word in result.out.split()}
    for session in json.loads(as_json)["sessions"]:
        items = [v for v in session["checklist"].values() if isinstance(v, list)]
        words = {w.strip(",;") for item in items for text in item for w in text.split()}
        assert len(words) > 50
        assert words - shown == set()
    # The same words as on a terminal wide enough that nothing wraps, only rearranged;
    # and on one too narrow for the table, which is then wider than it, not cut.
    monkeypatch.setenv("COLUMNS", "1000")
    wide = run(capsys, "agenda", "--day", START, "--detail").out
    assert max(len(line) for line in wide.splitlines()) > 200
    monkeypatch.setenv("COLUMNS", "40")
    narrow = run(capsys, "agenda", "--day", START, "--detail").out
    for out in (result.out, narrow):
        assert sorted(w for w in out.split() if set(w) != {RULE}) == sorted(
            w for w in wide.split() if set(w) != {RULE}
        )


def test_agenda_json_adds_a_checklist_only_with_detail(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    screen(capsys, tmp_path, "P-001")
    book(capsys, "P-001")
    plain = json.loads(run(capsys, "agenda", "--day", START, "--format", "json").out)
    assert list(plain["sessions"][0]) == [
        "patient", "number", "phase", "phase_number", "start", "end", "location", "chair", "uid",
        "status", "note", "flags",
    ]  # fmt: skip
    detail = json.loads(run(capsys, "agenda", "--day", START, "--format", "json", "--detail").out)
    (session,) = detail["sessions"]
    assert list(session)[-2:] == ["checklist", "override"]
    assert session["override"] is None
    assert session["checklist"]["route"] == "iv"
    assert session["checklist"]["observe_until"] == "2030-01-07T11:00:00+01:00"
    assert datetime.fromisoformat(session["checklist"]["start"]) == datetime.fromisoformat(
        session["start"]
    )


def test_agenda_detail_is_not_for_csv(capsys: pytest.CaptureFixture[str]) -> None:
    result = run(capsys, "agenda", "--detail", "--format", "csv")
    assert (result.code, result.message) == (
        2,
        "Error: --detail is for --format table or json; csv keeps its columns\n",
    )


# --- flags, validity, combinations (issue 12) -------------------------------------------


def test_a_booking_whose_screening_misses_the_criteria_says_so_and_stores_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    screen(capsys, tmp_path, "P-001", antidepressants_this_episode=1)
    result = book(capsys, "P-001")
    assert (result.code, result.message) == (0, "")
    flag = "screening does not meet the criteria: 2 adequate antidepressant trials this episode"
    assert result.out.splitlines()[1] == f"Flag: {flag}"
    db = sqlite3.connect(tmp_path / "book.sqlite")
    (stored,) = db.execute("SELECT flags FROM courses").fetchone()
    db.close()
    assert json.loads(stored) == [flag]
    sessions = json.loads(run(capsys, "agenda", "--day", START, "--format", "json").out)
    assert sessions["sessions"][0]["flags"] == [flag]


def test_a_contraindication_screened_after_booking_flags_the_agenda(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    screen(capsys, tmp_path, "P-001")
    assert book(capsys, "P-001").code == 0
    time.sleep(1.1)  # the book keeps whole seconds: this screening comes after the booking
    path = answers(tmp_path, "later.toml", intracerebral_haemorrhage=True)
    later = run(capsys, "screen", "--patient", "P-001", "--answers", str(path))
    assert later.code == 0, later.message
    today = date.today().isoformat()
    result = run(capsys, "agenda", "--day", START)
    assert result.out.splitlines()[-3:-2] == [
        f"    ! screening of {today} after booking: contraindicated: history of "
        "intracerebral haemorrhage"
    ]
    flag = (
        f"screening of {today} after booking: contraindicated: history of intracerebral haemorrhage"
    )
    # `course` shows it under every session still to come, as the agenda does.
    shown = run(capsys, "course", "--patient", "P-001")
    assert shown.out.count("      ! screening of ") == 7
    assert shown.out.splitlines()[5] == f"      ! {flag}"  # at the tests' 100 columns
    data = json.loads(run(capsys, "course", "--patient", "P-001", "--format", "json").out)
    assert [s["flags"] for s in data["sessions"]] == [[flag]] * 7
    out = run(capsys, "export", "--staff", "--ics", "-", "--from", START, "--to", START).out
    description = str(Calendar.from_ical(out.encode()).walk("VEVENT")[0]["DESCRIPTION"])
    # The calendar says to look; the health fact itself stays in the book.
    assert "Flagged for the clinician: see `ketaplan agenda --detail`." in description
    assert "haemorrhage" not in description


def test_a_screening_older_than_the_clinics_validity_is_refused_like_none(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "ketaplan.toml").write_text(
        CLINIC.replace("screening_valid_days = 3650", "screening_valid_days = 30"), "utf-8"
    )
    today = date.today()
    screened = (today - timedelta(days=20)).isoformat()
    path = answers(tmp_path)
    run(capsys, "screen", "--patient", "P-001", "--date", screened, "--answers", str(path))
    start = (today + timedelta(days=14)).isoformat()
    result = run(capsys, "book", "--patient", "P-001", "--start", start, "--time", "09:00")
    assert (result.code, result.out) == (1, "")
    assert result.message.startswith(
        f"Error: P-001: the latest screening ({screened}) is more than 30 days old on the "
        f"course's start ({start}), so it counts as none; screen the patient first"
    )
    soon = (today + timedelta(days=7)).isoformat()
    assert run(capsys, "book", "--patient", "P-001", "--start", soon).code == 0


def test_esketamine_with_home_lozenges_needs_an_override(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    screen(capsys, tmp_path, "P-001")
    args = ("--protocol", "esketamine", "--lozenges", "3d")
    result = book(capsys, "P-001", *args)
    assert (result.code, result.out) == (1, "")
    assert result.message == (
        "Error: P-001: esketamine with home lozenges: esketamine is never for home use "
        "(REMS), and adding home lozenges to its course is a clinician's decision; not "
        f"booked: {OVERRIDE_HINT}\n"
    )
    assert book(capsys, "P-001", *args, "--override", "Dr. A: lozenges between sprays").code == 0


def test_pregnancy_is_asked_again_before_a_replacing_course(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    screen(capsys, tmp_path, "P-001", could_become_pregnant=True)
    assert book(capsys, "P-001").code == 0
    again = book(capsys, "P-001", "--replace", "--yes")
    assert again.code == 1
    # After the list of what --replace would cancel (nothing was):
    assert again.message.split("\nError: ", 1)[1].startswith(
        f"P-001: pregnancy status was last asked on {SCREENED}, before the course this "
        "one replaces; it is asked again before each course;"
    )
    time.sleep(1.1)  # the book keeps whole seconds: the new answer comes after the booking
    screen(capsys, tmp_path, "P-001", could_become_pregnant=True)
    assert book(capsys, "P-001", "--replace", "--yes").code == 0
    detail = run(capsys, "agenda", "--day", START, "--detail").out
    assert "Before: pregnancy status confirmed; vitals before the infusion" in detail


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('[safety]\nbp_threshold = "90/140"\n', "safety.bp_threshold '90/140' is not a "
         "plausible blood pressure; systolic 50 to 300 above diastolic 20 to 200 mmHg"),
        ('[rems]\nprogram = "eu"\n', "rems.program must be one of us-spravato, none, got 'eu'"),
        ("[patient]\nfasting_liquids_hours = 8\n", "patient.fasting_liquids_hours (8) is "
         "more than patient.fasting_solids_hours (6)"),
        ("[safety]\nvitals_every_minutes = 0\n", "safety.vitals_every_minutes must be a whole "
         "number from 1 to 60, got 0"),
    ],
)  # fmt: skip
def test_bad_safety_settings_are_refused_by_name(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, toml: str, message: str
) -> None:
    (tmp_path / "ketaplan.toml").write_text(toml, "utf-8")
    result = run(capsys, "agenda")
    assert (result.code, result.message) == (2, f"Error: ketaplan.toml: {message}\n")


def test_the_clinics_threshold_and_interval_reach_the_checklist(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "ketaplan.toml").write_text(
        CLINIC + '\n[safety]\nbp_threshold = "150/95"\nvitals_every_minutes = 10\n', "utf-8"
    )
    screen(capsys, tmp_path, "P-001")
    book(capsys, "P-001")
    detail = run(capsys, "agenda", "--day", START, "--detail").out
    assert "against the clinic's threshold 150/95" in detail
    assert "vitals every 10 minutes during the infusion" in detail
