"""attend, miss, cancel, move, booster, replan, course, history, agenda --patient and
export after changes: exact output, refusals and exit codes, with the clock pinned."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.clirun import Result, run
from tests.pinned import pin

CLINIC = """[clinic]
name = "Lakeside"
timezone = "Europe/Berlin"
chairs = 2
hours = "08:00-18:00"
require_screening = false
"""


@pytest.fixture(autouse=True)
def _clinic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "ketaplan.toml").write_text(CLINIC, encoding="utf-8")
    monkeypatch.setenv("LOGNAME", "coordinator")
    monkeypatch.setenv("KETAPLAN_BOOK", "book.sqlite")


At = Callable[[str], None]


@pytest.fixture
def at(monkeypatch: pytest.MonkeyPatch) -> At:
    return pin(monkeypatch)


NEW_BOOK = "Created a new clinic book at book.sqlite\n"


def ok(result: Result) -> str:
    """The output of a command that succeeded, saying nothing on stderr (but that the
    first booking created the book)."""
    assert (result.code, result.message.replace(NEW_BOOK, "")) == (0, ""), result.message
    return result.out


def enrolled(result: Result) -> None:
    """`rems enroll` succeeded; it says so on stderr, as every status line."""
    assert result.code == 0, result.message
    assert result.message.replace(NEW_BOOK, "").startswith("Recorded the REMS enrollment of ")


def refused(result: Result, code: int = 1) -> str:
    assert (result.code, result.out) == (code, "")
    return result.message


def book_iv(capsys: pytest.CaptureFixture[str], at: At, patient: str = "P-001") -> None:
    at("2026-12-01T09:00:00+01:00")
    ok(
        run(
            capsys, "book", "--patient", patient, "--start", "2026-12-07", "--time", "09:00",
            "--maintenance-sessions", "2",
        )
    )  # fmt: skip


def test_refusals_name_the_problem_in_one_line(capsys: pytest.CaptureFixture[str], at: At) -> None:
    book_iv(capsys, at)
    at("2026-12-07T10:00:00+01:00")
    cases = [
        (("attend", "--patient", "P-404"), 1,
         "P-404 has no course in the book; book one with "
         "`ketaplan book --patient P-404 --start DATE`"),
        (("attend", "--patient", "P-001", "--date", "2026-12-08"), 1,
         "P-001 has no session on Tue 2026-12-08 (next: Wed 2026-12-09, session 2)"),
        (("attend", "--patient", "P-001", "--session", "2"), 1,
         "session 2 of P-001 is on Wed 2026-12-09, after today (2026-12-07); attendance is "
         "recorded on the day or after"),
        (("miss", "--patient", "P-001", "--session", "2"), 1,
         "session 2 of P-001 is on Wed 2026-12-09, after today (2026-12-07); a missed session "
         "is recorded on the day or after; to call it off, use `ketaplan cancel`"),
        (("attend", "--patient", "P-001", "--session", "99"), 1,
         "P-001 has no session 99; `ketaplan course --patient P-001` lists the sessions"),
        (("attend", "--patient", "P-001", "--session", "1", "--date", "2026-12-07"), 2,
         "give --session or --date, not both"),
        (("attend", "--patient", "P-001", "--bp", "82/128"), 2,
         "--bp '82/128' is not a plausible blood pressure; systolic 50 to 300 above "
         "diastolic 20 to 200 mmHg"),
        (("attend", "--patient", "P-001", "--hr", "fast"), 2,
         "--hr 'fast' is not a whole number from 20 to 250"),
        (("attend", "--patient", "P-001", "--spo2", "101"), 2,
         "--spo2 '101' is not a whole number from 50 to 100"),
        (("attend", "--patient", "P-001", "--phq9", "28"), 2,
         "--phq9 '28' is not a whole number from 0 to 27"),
        (("attend", "--patient", "P-001", "--not-dosed", " "), 2, "--not-dosed is empty"),
        (("attend", "--patient", "Jane Doe"), 2,
         "patient code 'Jane Doe' has a space or control character; use the clinic's patient "
         "code (e.g. P-001), never a name"),
        (("cancel", "--patient", "P-001", "--reason", "x"), 2,
         "give one of --session N, --from DATE or --course"),
        (("cancel", "--patient", "P-001", "--reason", "x", "--session", "2", "--course"), 2,
         "give one of --session N, --from DATE or --course"),
        (("cancel", "--patient", "P-001", "--reason", "x", "--from", "2026-12-01"), 2,
         "--from 2026-12-01 is in the past; sessions from today on can be cancelled"),
        (("move", "--patient", "P-001", "--session", "2", "--to", "2026-12-12"), 1,
         "the clinic is closed on Sat 2026-12-12 (not an open weekday)"),
        (("move", "--patient", "P-001", "--session", "2", "--to", "2026-12-04"), 2,
         "--to 2026-12-04 is in the past (today is 2026-12-07)"),
        (("booster", "--patient", "P-001", "--date", "2026-12-15"), 1,
         "a booster is one extra maintenance session; P-001's induction runs until 2026-12-18"),
        (("replan", "--patient", "P-001"), 2,
         "give one of --continue, --restart or --previous-frequency"),
        (("replan", "--patient", "P-001", "--continue", "--from", "2026-12-20"), 2,
         "--from is for --restart"),
        (("replan", "--patient", "P-001", "--continue"), 1,
         "P-001's induction is not interrupted; --continue is for an induction that lost its "
         "window"),
        (("replan", "--patient", "P-001", "--previous-frequency"), 1,
         "--previous-frequency is the esketamine label's guidance for a missed maintenance "
         "session; P-001's course is IV ketamine"),
        (("course", "--patient", "P-404"), 1, "P-404 has no course in the book book.sqlite"),
        (("history", "--patient", "P-404"), 1, "P-404 has no course in the book book.sqlite"),
        (("agenda", "--patient", "P-001", "--status", "done"), 2,
         "--status 'done' is not one of booked, attended, missed, not-dosed, cancelled"),
        (("rems", "filed", "--patient", "P-001", "--session", "1"), 1,
         "P-001's course is IV ketamine: no REMS forms"),
    ]  # fmt: skip
    for args, code, message in cases:
        assert refused(run(capsys, *args), code) == f"Error: {message}\n", args
    ok(run(capsys, "attend", "--patient", "P-001", "--by", "anna"))
    assert refused(run(capsys, "miss", "--patient", "P-001")) == (
        "Error: session 1 of P-001 (Mon 2026-12-07) is already recorded as attended by anna on "
        "2026-12-07; to correct it give --correct: a later record supersedes, both kept\n"
    )
    assert refused(run(capsys, "cancel", "--patient", "P-001", "--session", "1", "--reason", "x"))
    history = json.loads(ok(run(capsys, "history", "--patient", "P-001", "--format", "json")))
    assert [e["what"] for e in history["history"]] == ["book", "attended"]
    # The same changes as CSV: one row each, the count of sessions it changed.
    rows = ok(run(capsys, "history", "--patient", "P-001", "--format", "csv")).splitlines()
    assert rows[0] == "patient,when,who,what,why,sessions"
    assert [row.split(",")[2:] for row in rows[1:]] == [
        [history["history"][0]["who"], "book", "", "8"],
        ["anna", "attended", "", "1"],
    ]
    # A course's sessions as CSV have the agenda's columns and rows.
    course = ok(run(capsys, "course", "--patient", "P-001", "--format", "csv"))
    agenda = ok(run(capsys, "agenda", "--patient", "P-001", "--format", "csv", "--all"))
    assert course.splitlines()[0] == (
        "patient,number,phase,start,end,chair,uid,status,phase_number,location,note"
    )
    assert course == agenda


def test_a_missed_infusion_is_made_up_and_dry_run_writes_nothing(
    capsys: pytest.CaptureFixture[str],
    at: At,
    tmp_path: Path,
) -> None:
    book_iv(capsys, at)
    at("2026-12-07T10:00:00+01:00")
    ok(run(capsys, "attend", "--patient", "P-001", "--phq9", "19"))
    at("2026-12-09T18:00:00+01:00")
    before = (tmp_path / "book.sqlite").read_bytes()
    dry = ok(run(capsys, "miss", "--patient", "P-001", "--reason", "no-show", "--dry-run"))
    assert dry.splitlines()[-1] == "Dry run: nothing was written."
    assert (tmp_path / "book.sqlite").read_bytes() == before
    out = ok(run(capsys, "miss", "--patient", "P-001", "--reason", "no-show"))
    assert out == dry.replace("Dry run: nothing was written.\n", "")
    assert out == (
        "Recorded P-001 session 2 (induction 2/6, Wed 2026-12-09) as missed: no-show.\n"
        "  #  Session          Before                After\n"
        "  2  induction 2/6    Wed 2026-12-09 09:00  missed\n"
        "  3  induction 2/6    Fri 2026-12-11 09:00  Thu 2026-12-10 09:00, chair 1\n"
        "      was induction 3/6\n"
        "  4  induction 3/6    Mon 2026-12-14 09:00  Mon 2026-12-14 09:00, chair 1\n"
        "      was induction 4/6\n"
        "  5  induction 4/6    Wed 2026-12-16 09:00  Wed 2026-12-16 09:00, chair 1\n"
        "      was induction 5/6\n"
        "  6  induction 5/6    Fri 2026-12-18 09:00  Fri 2026-12-18 09:00, chair 1\n"
        "      was induction 6/6\n"
        "  9  induction 6/6    new                   Mon 2026-12-21 09:00, chair 1\n"
        "  7  maintenance 1/2  Fri 2027-01-01 09:00  Mon 2027-01-04 09:00, chair 1\n"
        "  8  maintenance 2/2  Fri 2027-01-22 09:00  Mon 2027-01-25 09:00, chair 1\n"
    )
    data = json.loads(ok(run(capsys, "course", "--patient", "P-001", "--format", "json")))
    assert data["status"] == "active"
    assert data["next_session"]["number"] == 3
    statuses = [(s["number"], s["status"], s["sequence"]) for s in data["sessions"]]
    assert statuses[:3] == [(1, "attended", 0), (2, "missed", 0), (3, "booked", 1)]
    assert statuses[6] == (9, "booked", 0)
    assert data["sessions"][0]["record"]["phq9"] == 19
    assert data["phq9"] == [{"date": "2026-12-07", "score": 19}]
    assert [s["review"] for s in data["sessions"]] == [
        False, False, False, True, False, False, True, False, False,
    ]  # fmt: skip
    uids = [s["uid"] for s in data["sessions"]]
    assert len(set(uids)) == len(uids)


def test_a_rule_breaking_move_needs_an_override_which_is_kept(
    capsys: pytest.CaptureFixture[str],
    at: At,
) -> None:
    book_iv(capsys, at)
    at("2026-12-02T10:00:00+01:00")
    args = ("move", "--patient", "P-001", "--session", "7", "--to", "2026-12-28")
    assert refused(run(capsys, *args)) == (
        "Error: cannot move session 7 of P-001 to Mon 2026-12-28: the sessions on 2026-12-18 "
        "and 2026-12-28 are 10 days apart; at least 14; nothing was changed; give --override "
        '"REASON" to move it anyway\n'
    )
    out = ok(run(capsys, *args, "--override", "family emergency", "--by", "dr-lee"))
    assert out.splitlines()[0] == (
        "Moved P-001 session 7 (maintenance 1/2) from Fri 2027-01-01 09:00 to Mon 2026-12-28 "
        "09:00 (override: family emergency)."
    )
    history = json.loads(ok(run(capsys, "history", "--patient", "P-001", "--format", "json")))
    move, override = history["history"][-2:]
    assert (move["what"], move["who"], move["why"]) == ("move", "dr-lee", "family emergency")
    assert move["before"][0]["start"] == "2027-01-01T09:00:00+01:00"
    assert move["after"][0]["start"] == "2026-12-28T09:00:00+01:00"
    assert move["after"][0]["sequence"] == 1
    assert (override["what"], override["why"]) == ("override", "family emergency")


def test_cancelling_the_course_frees_the_patient_for_a_new_one(
    capsys: pytest.CaptureFixture[str],
    at: At,
) -> None:
    book_iv(capsys, at)
    at("2026-12-07T10:00:00+01:00")
    ok(run(capsys, "attend", "--patient", "P-001"))
    out = ok(run(capsys, "cancel", "--patient", "P-001", "--course", "--reason", "moved away"))
    assert out == (
        "Cancelled 7 booked sessions of P-001 (the whole course): moved away.\n"
        "  #  Session          Before                After\n"
        "  2  induction 2/6    Wed 2026-12-09 09:00  cancelled\n"
        "  3  induction 3/6    Fri 2026-12-11 09:00  cancelled\n"
        "  4  induction 4/6    Mon 2026-12-14 09:00  cancelled\n"
        "  5  induction 5/6    Wed 2026-12-16 09:00  cancelled\n"
        "  6  induction 6/6    Fri 2026-12-18 09:00  cancelled\n"
        "  7  maintenance 1/2  Fri 2027-01-01 09:00  cancelled\n"
        "  8  maintenance 2/2  Fri 2027-01-22 09:00  cancelled\n"
    )
    course = json.loads(ok(run(capsys, "course", "--patient", "P-001", "--format", "json")))
    assert course["status"] == "cancelled"
    assert json.loads(ok(run(capsys, "agenda", "--patient", "P-001", "--format", "json")))[
        "sessions"
    ][0] == {
        "patient": "P-001",
        "number": 1,
        "phase": "induction",
        "phase_number": 1,
        "start": "2026-12-07T09:00:00+01:00",
        "end": "2026-12-07T11:00:00+01:00",
        "location": "clinic",
        "chair": 1,
        "uid": course["sessions"][0]["uid"],
        "status": "attended",
        "note": None,
        "flags": [],
    }
    ok(run(capsys, "book", "--patient", "P-001", "--start", "2027-01-11"))
    ics = ok(run(capsys, "export", "--patient", "P-001", "--ics", "-"))
    assert ics.count("STATUS:CANCELLED") == 7
    assert ics.count("BEGIN:VEVENT") == 6 + 6 + 7


def test_a_completed_course_books_a_new_one_without_replace(
    capsys: pytest.CaptureFixture[str],
    at: At,
) -> None:
    at("2026-12-01T09:00:00+01:00")
    ok(run(capsys, "book", "--patient", "P-001", "--protocol", "lozenge", "--start", "2026-12-07",
           "--maintenance-sessions", "1"))  # fmt: skip
    at("2026-12-08T09:00:00+01:00")
    assert refused(run(capsys, "attend", "--patient", "P-001", "--session", "1")) == (
        "Error: session 1 of P-001 is a home dose; only clinic sessions are recorded\n"
    )
    book_iv(capsys, at, "P-002")
    at("2027-01-25T18:00:00+01:00")
    for number in range(1, 9):
        ok(run(capsys, "attend", "--patient", "P-002", "--session", str(number)))
    course = json.loads(ok(run(capsys, "course", "--patient", "P-002", "--format", "json")))
    assert (course["status"], course["next_session"]) == ("completed", None)
    out = ok(run(capsys, "book", "--patient", "P-002", "--start", "2027-02-01"))
    assert "Replaced" not in out


def test_esketamine_maintenance_miss_offers_the_previous_frequency(
    capsys: pytest.CaptureFixture[str],
    at: At,
) -> None:
    at("2026-12-01T09:00:00+01:00")
    enrolled(run(capsys, "rems", "enroll", "--patient", "P-003", "--date", "2026-12-01"))
    ok(run(capsys, "book", "--patient", "P-003", "--protocol", "esketamine", "--start",
           "2026-12-07", "--time", "14:00", "--maintenance-sessions", "3"))  # fmt: skip
    at("2027-02-16T18:00:00+01:00")
    for number in range(1, 13):
        ok(run(capsys, "attend", "--patient", "P-003", "--session", str(number), "--phq9",
               str(20 - number)))  # fmt: skip
    ok(run(capsys, "attend", "--patient", "P-003", "--session", "13", "--phq9", "12"))
    at("2027-02-22T18:00:00+01:00")
    out = ok(run(capsys, "miss", "--patient", "P-003"))
    assert out.splitlines()[-1] == (
        "PHQ-9 rose from 8 to 12; with worsening symptoms the label's missed-dose guidance is "
        "to consider the previous frequency: `ketaplan replan --patient P-003 "
        "--previous-frequency`"
    )
    replanned = ok(run(capsys, "replan", "--patient", "P-003", "--previous-frequency"))
    assert replanned.splitlines()[0] == ("Re-planned P-003's course: maintenance every 7 days.")
    data = json.loads(ok(run(capsys, "course", "--patient", "P-003", "--format", "json")))
    booked = [s["start"][:10] for s in data["sessions"] if s["status"] == "booked"]
    assert booked == ["2027-02-23"]
    reviews = [s["number"] for s in data["sessions"] if s["review"]]
    assert reviews == [8, 12]
    forms = [s["rems_form"] for s in data["sessions"] if s["rems_form"]]
    assert len(forms) == 13
    assert forms[0] == {"state": "overdue", "due": "2026-12-14"}


def test_a_correction_supersedes_and_keeps_the_first_record(
    capsys: pytest.CaptureFixture[str], at: At
) -> None:
    book_iv(capsys, at)
    at("2026-12-07T18:00:00+01:00")
    ok(run(capsys, "miss", "--patient", "P-001", "--by", "anna"))
    out = ok(run(capsys, "attend", "--patient", "P-001", "--session", "1", "--correct",
                 "--phq9", "17", "--by", "ben"))  # fmt: skip
    assert out == (
        "Recorded P-001 session 1 (induction 1/6, Mon 2026-12-07) as attended.\n  PHQ-9 17\n"
    )
    history = json.loads(ok(run(capsys, "history", "--patient", "P-001", "--format", "json")))
    assert [(e["what"], e["who"]) for e in history["history"]] == [
        ("book", "coordinator"),
        ("missed", "anna"),
        ("correct (missed -> attended)", "ben"),
    ]
    course = json.loads(ok(run(capsys, "course", "--patient", "P-001", "--format", "json")))
    assert course["sessions"][0]["status"] == "attended"
    assert course["sessions"][0]["record"]["by"] == "ben"


def test_cancel_from_a_date_keeps_the_rows(capsys: pytest.CaptureFixture[str], at: At) -> None:
    book_iv(capsys, at)
    at("2026-12-02T09:00:00+01:00")
    out = ok(run(capsys, "cancel", "--patient", "P-001", "--from", "2027-01-01",
                 "--reason", "moves abroad"))  # fmt: skip
    assert out == (
        "Cancelled 2 booked sessions of P-001 (from 2027-01-01): moves abroad.\n"
        "  #  Session          Before                After\n"
        "  7  maintenance 1/2  Fri 2027-01-01 09:00  cancelled\n"
        "  8  maintenance 2/2  Fri 2027-01-22 09:00  cancelled\n"
    )
    assert refused(run(capsys, "cancel", "--patient", "P-001", "--from", "2027-01-01",
                       "--reason", "again"))  == (
        "Error: P-001 has no booked session from 2027-01-01 on\n"
    )  # fmt: skip
    agenda = json.loads(ok(run(capsys, "agenda", "--patient", "P-001", "--format", "json")))
    assert [s["status"] for s in agenda["sessions"]] == ["booked"] * 6 + ["cancelled"] * 2


def test_an_esketamine_session_cannot_leave_its_week(
    capsys: pytest.CaptureFixture[str], at: At
) -> None:
    at("2026-12-01T09:00:00+01:00")
    enrolled(run(capsys, "rems", "enroll", "--patient", "P-003", "--date", "2026-12-01"))
    ok(run(capsys, "book", "--patient", "P-003", "--protocol", "esketamine", "--start",
           "2026-12-07", "--time", "14:00", "--maintenance-sessions", "1"))  # fmt: skip
    moved = run(capsys, "move", "--patient", "P-003", "--session", "3", "--to", "2026-12-22")
    assert refused(moved) == (
        "Error: cannot move session 3 of P-003 to Tue 2026-12-22: induction 3/8 belongs in the "
        "week from 2026-12-14 to 2026-12-20, not on 2026-12-22; nothing was changed; give "
        '--override "REASON" to move it anyway\n'
    )
    within = ok(run(capsys, "move", "--patient", "P-003", "--session", "3", "--to", "2026-12-15"))
    assert within.splitlines()[:3] == [
        "Moved P-003 session 3 (induction 3/8) from Mon 2026-12-14 14:00 to Tue 2026-12-15 14:00.",
        "  #  Session        Before                After",
        "  3  induction 3/8  Mon 2026-12-14 14:00  Tue 2026-12-15 14:00, chair 1",
    ]


def test_a_dose_above_the_bp_threshold_needs_a_reason_or_is_not_dosed(
    capsys: pytest.CaptureFixture[str], at: At
) -> None:
    book_iv(capsys, at)
    at("2026-12-07T09:00:00+01:00")
    high = run(capsys, "attend", "--patient", "P-001", "--bp", "150/95")
    assert refused(high) == (
        "Error: P-001: blood pressure 150/95 is above the clinic's threshold 140/90: dose only "
        "with the clinician's reason, or record the session as not dosed: give --override "
        '"REASON" or --not-dosed REASON\n'
    )
    out = ok(run(capsys, "attend", "--patient", "P-001", "--bp", "150/95", "--override",
                 "rechecked 138/88 after rest", "--by", "dr-lee"))  # fmt: skip
    assert out == (
        "Recorded P-001 session 1 (induction 1/6, Mon 2026-12-07) as attended.\n  BP 150/95\n"
    )
    course = json.loads(ok(run(capsys, "course", "--patient", "P-001", "--format", "json")))
    assert course["sessions"][0]["record"]["note"] == (
        "dosed above the threshold: rechecked 138/88 after rest"
    )
    assert [(e["what"], e["why"]) for e in course["history"]][-2:] == [
        ("override", "rechecked 138/88 after rest"),
        ("attended", None),
    ]


def test_the_first_esketamine_treatment_needs_the_rems_enrollment(
    capsys: pytest.CaptureFixture[str], at: At, tmp_path: Path
) -> None:
    (tmp_path / "ketaplan.toml").write_text(CLINIC + '[rems]\nprogram = "us-spravato"\n')
    at("2026-12-01T09:00:00+01:00")
    ok(run(capsys, "book", "--patient", "P-003", "--protocol", "esketamine", "--start",
           "2026-12-07", "--time", "14:00", "--maintenance-sessions", "1"))  # fmt: skip
    at("2026-12-07T16:00:00+01:00")
    assert refused(run(capsys, "attend", "--patient", "P-003")) == (
        "Error: P-003's first esketamine treatment needs the REMS enrollment, and none is "
        "recorded; record it with `ketaplan rems enroll --patient P-003 --date DATE` first\n"
    )
    enrolled(run(capsys, "rems", "enroll", "--patient", "P-003", "--date", "2026-12-07"))
    ok(run(capsys, "attend", "--patient", "P-003"))


def test_home_doses_follow_the_visits_they_sit_between(
    capsys: pytest.CaptureFixture[str], at: At
) -> None:
    at("2026-12-01T09:00:00+01:00")
    ok(run(capsys, "book", "--patient", "P-001", "--start", "2026-12-07", "--time", "09:00",
           "--maintenance-sessions", "3", "--maintenance-every", "2w",
           "--lozenges", "3d"))  # fmt: skip
    moved = ok(run(capsys, "move", "--patient", "P-001", "--session", "11", "--to", "2027-01-19"))
    # Doses that must go move (their calendar events kept); what is left over is new.
    assert moved.splitlines()[1:] == [
        "  #   Session          Before                After",
        "  8   home 1/8         Mon 2027-01-04 09:00  Mon 2027-01-04 09:00",
        "      was home 1/6",
        "  9   home 2/8         Thu 2027-01-07 09:00  Thu 2027-01-07 09:00",
        "      was home 2/6",
        "  10  home 3/8         Sun 2027-01-10 09:00  Sun 2027-01-10 09:00",
        "      was home 3/6",
        "  12  home 4/8         Mon 2027-01-18 09:00  Wed 2027-01-13 09:00",
        "      was home 4/6",
        "  13  home 5/8         Thu 2027-01-21 09:00  Sat 2027-01-16 09:00",
        "      was home 5/6",
        "  11  maintenance 2/3  Fri 2027-01-15 09:00  Tue 2027-01-19 09:00, chair 1",
        "  14  home 6/8         Sun 2027-01-24 09:00  Fri 2027-01-22 09:00",
        "      was home 6/6",
        "  16  home 7/8         new                   Mon 2027-01-25 09:00",
        "  17  home 8/8         new                   Thu 2027-01-28 09:00",
        "  15  maintenance 3/3  Fri 2027-01-29 09:00  Tue 2027-02-02 09:00, chair 1",
        "      moved from Fri 2027-01-29 (14 to 42 days after 2027-01-19)",
    ]
    # As planned: every 3 days between two visits, at least 3 days from each.
    data = json.loads(ok(run(capsys, "course", "--patient", "P-001", "--format", "json")))
    live = sorted(
        (s["start"][:10], s["phase"]) for s in data["sessions"] if s["status"] != "cancelled"
    )
    maintenance = [(d, p) for d, p in live if d >= "2027-01-01"]
    assert [d for d, p in maintenance if p == "home"] == [
        "2027-01-04", "2027-01-07", "2027-01-10", "2027-01-13", "2027-01-16",
        "2027-01-22", "2027-01-25", "2027-01-28",
    ]  # fmt: skip


def test_re_planned_sessions_keep_the_days_the_patient_can_come(
    capsys: pytest.CaptureFixture[str], at: At
) -> None:
    at("2026-12-01T09:00:00+01:00")
    ok(run(capsys, "book", "--patient", "P-001", "--start", "2026-12-07", "--time", "09:00",
           "--days", "mon,wed,fri", "--closed", "2026-12-14",
           "--maintenance-sessions", "1"))  # fmt: skip
    at("2026-12-09T18:00:00+01:00")
    ok(run(capsys, "miss", "--patient", "P-001", "--session", "2", "--reason", "no-show"))
    data = json.loads(ok(run(capsys, "course", "--patient", "P-001", "--format", "json")))
    booked = [s["start"][:10] for s in data["sessions"] if s["status"] == "booked"]
    assert booked, data
    from datetime import date

    days = [date.fromisoformat(d) for d in booked]
    assert all(d.weekday() in (0, 2, 4) for d in days), booked
    assert date(2026, 12, 14) not in days, booked


def test_a_course_of_home_doses_alone_keeps_its_doses(
    capsys: pytest.CaptureFixture[str], at: At
) -> None:
    at("2026-12-01T09:00:00+01:00")
    ok(run(capsys, "book", "--patient", "P-002", "--start", "2026-12-07", "--time", "09:00",
           "--protocol", "lozenge"))  # fmt: skip
    ok(run(capsys, "cancel", "--patient", "P-002", "--session", "3", "--reason", "away"))
    shown = ok(run(capsys, "course", "--patient", "P-002")).splitlines()
    assert shown[1] == "Next: session 1, home 1/10, Mon 2026-12-07 09:00, at home"
    data = json.loads(ok(run(capsys, "course", "--patient", "P-002", "--format", "json")))
    assert [s["status"] for s in data["sessions"]].count("booked") == 9
