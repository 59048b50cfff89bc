"""`ketaplan book`, `agenda` and `export`: exact output, refusals, rosters, two
coordinators at once, and calendars with the book's UIDs."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from datetime import date
from itertools import pairwise
from pathlib import Path

import pytest
from icalendar import Calendar

from ketaplan.cli.common import date_range, this_week
from tests.clirun import Result, run
from tests.uids import book_uid

# These tests are about capacity; the screening check is tested in test_cli_safety.py.
CLINIC = """[clinic]
name = "Lakeside"
timezone = "Europe/Berlin"
chairs = 1
hours = "08:00-13:00"
require_screening = false
"""
START = "2030-01-07"  # a Monday, so that "in the past" never applies
BOOK = "Book: book.sqlite · clinic Lakeside\n"
CREATED = "Created a new clinic book at book.sqlite\n"
STORED = "Stored the clinic Lakeside in the book book.sqlite (settings from ketaplan.toml)\n"
RULE = "─"  # the agenda table's line under its header


@pytest.fixture(autouse=True)
def _clinic(tmp_path: Path) -> None:
    (tmp_path / "ketaplan.toml").write_text(CLINIC, encoding="utf-8")


def book(capsys: pytest.CaptureFixture[str], patient: str, *args: str) -> Result:
    return run(
        capsys,
        "book",
        "--patient",
        patient,
        "--start",
        START,
        "--time",
        "09:00",
        "--maintenance-sessions",
        "1",
        "--book",
        "book.sqlite",
        *args,
    )


def agenda_json(capsys: pytest.CaptureFixture[str], *args: str) -> list[dict[str, object]]:
    result = run(capsys, "agenda", "--book", "book.sqlite", "--format", "json", *args)
    assert result.code == 0, result.err
    sessions: list[dict[str, object]] = json.loads(result.out)["sessions"]
    return sessions


def test_book_prints_the_course_with_chairs(capsys: pytest.CaptureFixture[str]) -> None:
    result = book(capsys, "P-001")
    # A first booking makes the book, stores the clinic in it, and says so.
    assert (result.code, result.err) == (0, CREATED + BOOK + STORED)
    assert result.out == (
        "Booked P-001: IV ketamine (iv), 7 sessions, 7 in clinic chairs · Europe/Berlin\n"
        "                                                                     \n"
        " #   Phase             Day   Date         Time          Chair   Note \n"
        " ─────────────────────────────────────────────────────────────────── \n"
        " 1   induction 1/6     Mon   2030-01-07   09:00-11:00   1            \n"
        " 2   induction 2/6     Wed   2030-01-09   09:00-11:00   1            \n"
        " 3   induction 3/6     Fri   2030-01-11   09:00-11:00   1            \n"
        " 4   induction 4/6     Mon   2030-01-14   09:00-11:00   1            \n"
        " 5   induction 5/6     Wed   2030-01-16   09:00-11:00   1            \n"
        " 6   induction 6/6     Fri   2030-01-18   09:00-11:00   1            \n"
        " 7   maintenance 1/1   Fri   2030-02-01   09:00-11:00   1            \n"
        "                                                                     \n"
        "Every session on its ideal date, at the preferred time where one was given.\n"
    )


def test_a_taken_chair_moves_the_next_patient_and_says_why(
    capsys: pytest.CaptureFixture[str],
) -> None:
    book(capsys, "P-001")
    second = book(capsys, "P-002", "--format", "json")
    notes = {s["note"] for s in json.loads(second.out)["courses"][0]["sessions"]}
    assert notes == {"at 11:00, not 09:00: no chair free"}
    third = book(capsys, "P-003", "--format", "json")
    first = json.loads(third.out)["courses"][0]["sessions"][0]
    assert (first["start"], first["note"]) == (
        "2030-01-08T09:00:00+01:00",
        "moved from Mon 2030-01-07 (fully booked)",
    )


def test_a_patient_with_an_active_course_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    book(capsys, "P-001")
    result = book(capsys, "P-001", "--time", "11:00")
    assert (result.code, result.out) == (1, "")
    assert result.err == BOOK + (
        "Error: P-001: already has an active course (IV ketamine, start 2030-01-07); give "
        "--replace to cancel its future sessions and book this one\n"
    )


def test_replace_cancels_the_old_courses_future_sessions_and_keeps_them(
    capsys: pytest.CaptureFixture[str],
) -> None:
    book(capsys, "P-001")
    args = (
        "book", "--patient", "P-001", "--start", "2030-01-08", "--time", "10:00",
        "--maintenance-sessions", "1", "--book", "book.sqlite", "--replace",
    )  # fmt: skip
    before = Path("book.sqlite").read_bytes()
    unconfirmed = run(capsys, *args)
    assert (unconfirmed.code, unconfirmed.out) == (2, "")
    assert unconfirmed.err == BOOK + (
        "--replace cancels 7 booked sessions (kept in the book as cancelled):\n"
        "  P-001 #1 Mon 2030-01-07 09:00 induction 1/6\n"
        "  P-001 #2 Wed 2030-01-09 09:00 induction 2/6\n"
        "  P-001 #3 Fri 2030-01-11 09:00 induction 3/6\n"
        "  P-001 #4 Mon 2030-01-14 09:00 induction 4/6\n"
        "  P-001 #5 Wed 2030-01-16 09:00 induction 5/6\n"
        "  P-001 #6 Fri 2030-01-18 09:00 induction 6/6\n"
        "  P-001 #7 Fri 2030-02-01 09:00 maintenance 1/1\n"
        "Error: --replace cancels 7 booked sessions (listed above); give --yes to confirm, "
        "there is no terminal to ask\n"
    )
    assert Path("book.sqlite").read_bytes() == before
    result = run(capsys, *args, "--yes")
    assert result.code == 0, result.err
    assert result.err.endswith("Replaced the active course: 7 future sessions cancelled.\n")
    sessions = agenda_json(capsys, "--from", "2030-01-07", "--to", "2030-01-09")
    assert [(s["start"], s["status"]) for s in sessions] == [
        ("2030-01-07T09:00:00+01:00", "cancelled"),
        ("2030-01-08T10:00:00+01:00", "booked"),
        ("2030-01-09T09:00:00+01:00", "cancelled"),
    ]


def test_agenda_lists_sessions_by_day_time_and_chair_with_utilization(
    capsys: pytest.CaptureFixture[str],
) -> None:
    book(capsys, "P-001")
    book(capsys, "P-002")
    result = run(capsys, "agenda", "--day", START, "--book", "book.sqlite")
    assert (result.code, result.err) == (0, BOOK)
    assert result.out == (
        "Agenda 2030-01-07 · Lakeside · 1 chair · Europe/Berlin\n"
        "\n"
        "Mon 2030-01-07 · 2 sessions · chairs 80% used\n"
        "Time         Chair  Patient  Session                         Status\n"
        f"{RULE * 67}\n"
        "09:00-11:00  1      P-001    IV ketamine induction 1/6 (#1)  booked\n"
        "11:00-13:00  1      P-002    IV ketamine induction 1/6 (#1)  booked\n"
        "\n"
        "2 sessions listed.\n"
    )


def test_agenda_hides_cancelled_sessions_unless_all_and_shows_closed_days_with_why(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "ketaplan.toml").write_text(
        CLINIC + 'holidays = "DE-BE"\nclosed = ["2030-01-09"]\n', encoding="utf-8"
    )
    book(capsys, "P-001")
    book(capsys, "P-001", "--start", "2030-01-08", "--replace", "--yes")
    week = run(capsys, "agenda", "--week", START, "--book", "book.sqlite")
    assert week.out == (
        "Agenda 2030-01-07 to 2030-01-13 · Lakeside · 1 chair · Europe/Berlin\n"
        "\n"
        "Mon 2030-01-07 · 0 sessions · chairs 0% used\n"
        "\n"
        "Tue 2030-01-08 · 1 session · chairs 40% used\n"
        "Time         Chair  Patient  Session                         Status\n"
        f"{RULE * 67}\n"
        "09:00-11:00  1      P-001    IV ketamine induction 1/6 (#1)  booked\n"
        "\n"
        "Wed 2030-01-09 · closed: clinic closed\n"
        "\n"
        "Thu 2030-01-10 · 1 session · chairs 40% used\n"
        "Time         Chair  Patient  Session                         Status\n"
        f"{RULE * 67}\n"
        "09:00-11:00  1      P-001    IV ketamine induction 2/6 (#2)  booked\n"
        "\n"
        "Fri 2030-01-11 · 0 sessions · chairs 0% used\n"
        "\n"
        "Sat 2030-01-12 · closed: not an opening day\n"
        "\n"
        "Sun 2030-01-13 · closed: not an opening day\n"
        "\n"
        "2 sessions listed (2 cancelled not shown: --all lists them).\n"
    )
    every = run(capsys, "agenda", "--day", START, "--all", "--book", "book.sqlite")
    assert every.out.splitlines()[2:6] == [
        "Mon 2030-01-07 · 1 session · chairs 0% used",
        "Time         Chair  Patient  Session                         Status",
        f"{RULE * 70}",
        "09:00-11:00  1      P-001    IV ketamine induction 1/6 (#1)  cancelled",
    ]
    new_year = run(capsys, "agenda", "--day", "2031-01-01", "--book", "book.sqlite")
    assert new_year.out.splitlines()[2] == "Wed 2031-01-01 · closed: New Year's Day"


def test_agenda_json_has_the_documented_fields(capsys: pytest.CaptureFixture[str]) -> None:
    book(capsys, "P-001")
    (session,) = agenda_json(capsys, "--day", START)
    assert list(session) == [
        "patient", "number", "phase", "phase_number", "start", "end", "location", "chair", "uid",
        "status", "note", "flags",
    ]  # fmt: skip
    assert session["start"] == "2030-01-07T09:00:00+01:00"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--day", START, "--week", START], "give one of --day, --week, --month or --from/--to, "
         "not --day and --week"),
        (["--from", START], "--from needs --to"),
        (["--to", START], "--to needs --from"),
        (["--from", "2030-01-08", "--to", START], "--to 2030-01-07 is before --from 2030-01-08"),
        (["--week", "next"], "--week 'next' is not a date; use YYYY-MM-DD, today or tomorrow"),
    ],
)  # fmt: skip
def test_agenda_refuses_bad_dates(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    result = run(capsys, "agenda", *args)
    assert (result.code, result.out, result.err) == (2, "", f"Error: {message}\n")


def test_agenda_without_a_book_says_so_and_creates_none(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    result = run(capsys, "agenda", "--book", "none.sqlite")
    assert result.code == 1
    assert result.err == (
        "Error: there is no clinic book at none.sqlite yet; `ketaplan init` or the first "
        "`ketaplan book` creates it\n"
    )
    assert not (tmp_path / "none.sqlite").exists()


def test_a_file_that_is_not_a_book_is_refused_and_untouched(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "notes.sqlite").write_text("hello\n", encoding="utf-8")
    result = book(capsys, "P-001", "--book", "notes.sqlite")
    assert result.code == 1
    assert result.err == (
        "Error: notes.sqlite is not a ketaplan book (not an SQLite database); left untouched\n"
    )
    assert (tmp_path / "notes.sqlite").read_text(encoding="utf-8") == "hello\n"


def test_the_book_is_found_by_option_then_environment_then_config(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "ketaplan.toml").write_text(CLINIC + '[book]\npath = "cfg.sqlite"\n', "utf-8")
    args = ["book", "--start", START, "--maintenance-sessions", "1"]
    run(capsys, *args, "--patient", "P-001")
    assert (tmp_path / "book.sqlite").exists()  # KETAPLAN_BOOK, set by conftest
    monkeypatch.delenv("KETAPLAN_BOOK")
    run(capsys, *args, "--patient", "P-002")
    assert (tmp_path / "cfg.sqlite").exists()
    run(capsys, *args, "--patient", "P-003", "--book", "opt.sqlite")
    assert (tmp_path / "opt.sqlite").exists()


def test_a_start_in_the_past_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    result = run(capsys, "book", "--patient", "P-001", "--start", "2020-01-06")
    assert result.code == 2
    assert result.err.splitlines()[0].startswith(
        "Error: --start 2020-01-06 is in the past; the book takes"
    )
    assert not Path("book.sqlite").exists()


ROSTER = "patient,protocol,start,time,days,maintenance_every\n"


def test_a_roster_books_every_patient(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "r.csv").write_text(
        ROSTER + f'P-001,iv,{START},09:00,,\nP-002,im,{START},09:00,"tue,thu",4w\n', "utf-8"
    )
    result = run(capsys, "book", "--roster", "r.csv", "--book", "book.sqlite")
    assert result.code == 0, result.err
    assert result.out == (
        "Booked 2 patients from r.csv: 24 sessions, 24 in clinic chairs.\n"
        "At the preferred time: 24 of 24 (100%) clinic sessions.\n"
        "On the ideal date: 24 of 24 (100%) sessions.\n"
    )
    starts = [s["start"] for s in agenda_json(capsys, "--day", "2030-01-08")]
    assert starts == ["2030-01-08T09:00:00+01:00"]  # P-002 comes on Tuesdays and Thursdays


def test_a_roster_that_fails_half_way_books_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "long.toml").write_text(
        'name = "long"\n[[phases]]\nname = "visit"\nsessions = 2\nmin_gap_days = 2\n'
        "max_gap_days = 7\nchair_minutes = 360\n",
        "utf-8",
    )
    (tmp_path / "r.csv").write_text(
        ROSTER + f"P-001,iv,{START},,,\nP-002,long.toml,{START},,,\nP-003,iv,{START},,,\n",
        "utf-8",
    )
    book(capsys, "P-000", "--start", "2030-03-04")
    before = (tmp_path / "book.sqlite").read_bytes()
    result = run(capsys, "book", "--roster", "r.csv", "--book", "book.sqlite")
    assert (result.code, result.out) == (1, "")
    assert result.err == BOOK + (
        "Error: 1 of 3 courses cannot be booked, nothing was booked:\n"
        "  line 3 (P-002): cannot book P-002: 120 days fully booked from 2030-01-07 to "
        "2030-06-21; the clinic has no room for this course within 120 tries\n"
    )
    db = sqlite3.connect(tmp_path / "book.sqlite")
    assert db.execute("SELECT DISTINCT patient FROM courses").fetchall() == [("P-000",)]
    db.close()
    assert len(before) > 0


def test_a_bad_roster_reports_every_row_and_books_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "r.csv").write_text(ROSTER + "P-001,iv,someday,,,\nP-002,iv,2030-01-07,25:00,,\n")
    result = run(capsys, "book", "--roster", "r.csv", "--book", "book.sqlite")
    assert result.code == 2
    assert result.err == BOOK + (
        "Error: r.csv: 2 problems, nothing was booked:\n"
        "  line 2, column 3: start 'someday' is not a date; use YYYY-MM-DD, today or tomorrow\n"
        "  line 3, column 4: time '25:00' is not a time; use 24-hour HH:MM, e.g. 09:30\n"
    )
    assert not (tmp_path / "book.sqlite").exists()


def test_a_roster_takes_no_patient_options(capsys: pytest.CaptureFixture[str]) -> None:
    result = run(capsys, "book", "--roster", "r.csv", "--time", "09:00")
    assert (result.code, result.err) == (
        2,
        "Error: --roster takes each patient's options from the file; drop --time\n",
    )


# One chair for one 90-minute visit a day on Mondays, Wednesdays and Fridays, and a
# protocol of two visits 2 days apart within 3 days: when P-001 holds the chair, a course
# asked from the same Monday cannot start before the Monday after (start date moved).
FULL_CLINIC = """[clinic]
name = "Lakeside"
timezone = "Europe/Berlin"
chairs = 1
hours = "09:00-10:30"
days = ["mon", "wed", "fri"]
require_screening = false
"""
PAIR = """name = "pair"
[[phases]]
name = "visit"
sessions = 2
min_gap_days = 2
max_gap_days = 2
chair_minutes = 90
window_days = 3
"""


def full_start_day(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "ketaplan.toml").write_text(FULL_CLINIC, "utf-8")
    (tmp_path / "pair.toml").write_text(PAIR, "utf-8")
    taken = run(capsys, "book", "--patient", "P-001", "--start", START, "--protocol", "pair.toml")
    assert taken.code == 0, taken.err


def counts(tmp_path: Path) -> tuple[int, int, int]:
    with sqlite3.connect(tmp_path / "book.sqlite") as db:
        return (
            db.execute("SELECT count(*) FROM courses").fetchone()[0],
            db.execute("SELECT count(*) FROM sessions").fetchone()[0],
            db.execute("SELECT count(*) FROM history").fetchone()[0],
        )


def test_a_roster_row_moved_for_want_of_room_is_booked_as_asked_the_second_time(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    full_start_day(tmp_path, capsys)
    (tmp_path / "r.csv").write_text(
        f"patient,protocol,start,time\nP-002,pair.toml,{START},09:00\n", "utf-8"
    )
    first = run(capsys, "book", "--roster", "r.csv")
    assert first.code == 0, first.err
    assert "P-002 #1 Mon 2030-01-14 09:00 chair 1: start date moved from 2030-01-07 to " in (
        first.out
    )
    before = counts(tmp_path)
    again = run(capsys, "book", "--roster", "r.csv")
    assert (again.code, again.out, again.message) == (
        0,
        "",
        "Every row of r.csv is already booked as asked; nothing new was booked.\n",
    )
    assert counts(tmp_path) == before


def test_one_course_moved_for_want_of_room_is_booked_as_asked_the_second_time(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    full_start_day(tmp_path, capsys)
    args = ("book", "--patient", "P-002", "--start", START, "--protocol", "pair.toml")
    first = run(capsys, *args, "--time", "09:00", "--format", "json")
    assert first.code == 0, first.err
    assert json.loads(first.out)["courses"][0]["sessions"][0]["start"] == (
        "2030-01-14T09:00:00+01:00"
    )
    before = counts(tmp_path)
    again = run(capsys, *args, "--time", "09:00")
    assert (again.code, again.out, again.message) == (
        0,
        "",
        "P-002 is already booked as asked (pair, start 2030-01-07); nothing new was "
        "booked: `ketaplan course --patient P-002` shows it\n",
    )
    # A script reads an empty result, not nothing.
    as_json = run(capsys, *args, "--time", "09:00", "--format", "json")
    assert (as_json.code, json.loads(as_json.out)) == (0, {"courses": [], "cancelled": 0})
    assert counts(tmp_path) == before
    # The same course from a roster row is the same request.
    (tmp_path / "r.csv").write_text(
        f"patient,protocol,start,time\nP-002,pair.toml,{START},09:00\n", "utf-8"
    )
    assert run(capsys, "book", "--roster", "r.csv").message == (
        "Every row of r.csv is already booked as asked; nothing new was booked.\n"
    )
    # Asked otherwise (another time), it is another course: refused without --replace.
    other = run(capsys, *args, "--time", "09:15")
    assert (other.code, other.message) == (
        1,
        "Error: P-002: already has an active course (pair, start 2030-01-12); give --replace "
        "to cancel its future sessions and book this one\n",
    )
    assert counts(tmp_path) == before


def test_a_roster_rows_replace_asked_again_books_nothing_new(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert book(capsys, "P-001").code == 0
    (tmp_path / "r.csv").write_text(
        "patient,start,time,replace\nP-001,2030-01-14,09:00,yes\n", "utf-8"
    )
    assert run(capsys, "book", "--roster", "r.csv").code == 0
    before = counts(tmp_path)
    again = run(capsys, "book", "--roster", "r.csv")
    assert (again.code, again.message) == (
        0,
        "Every row of r.csv is already booked as asked; nothing new was booked.\n",
    )
    assert counts(tmp_path) == before


def test_a_course_booked_before_requests_were_kept_is_compared_by_its_start(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    full_start_day(tmp_path, capsys)
    (tmp_path / "r.csv").write_text(
        f"patient,protocol,start,time\nP-001,pair.toml,{START},09:00\n"
        f"P-002,pair.toml,{START},09:00\n",
        "utf-8",
    )
    run(capsys, "book", "--patient", "P-002", "--start", START, "--protocol", "pair.toml")
    # As a book migrated to version 9 holds them: no request stored.
    with sqlite3.connect(tmp_path / "book.sqlite") as db:
        db.execute("UPDATE courses SET asked = NULL")
    again = run(capsys, "book", "--roster", "r.csv")
    # P-001 started on the day asked: booked as asked; P-002's start moved, which only
    # the stored request would tell.
    assert (again.code, again.message) == (
        1,
        "Error: 1 of 2 courses cannot be booked, nothing was booked:\n"
        "  line 3 (P-002): already has an active course (pair, start 2030-01-12); set the "
        "roster's replace column to yes to cancel its future sessions and book this one\n",
    )


# A coordinator's process: ready, then `ketaplan book --roster` the moment "go" appears.
COORDINATOR = """
import pathlib, sys, time
from ketaplan.cli import book, main
pathlib.Path(sys.argv[2]).touch()
while not pathlib.Path("go").exists():
    time.sleep(0.001)
sys.exit(main(["book", "--roster", sys.argv[1]]))
"""


def test_two_coordinators_booking_at_once_never_share_a_chair(tmp_path: Path) -> None:
    (tmp_path / "ketaplan.toml").write_text(
        CLINIC.replace("chairs = 1", "chairs = 4").replace("08:00-12:00", "08:00-18:00"), "utf-8"
    )
    for name in ("a", "b"):
        rows = "".join(f"{name.upper()}-{i:03},iv,{START},09:00,,\n" for i in range(15))
        (tmp_path / f"{name}.csv").write_text(ROSTER + rows, "utf-8")
    env = {**os.environ, "KETAPLAN_BOOK": str(tmp_path / "shared.sqlite")}
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", COORDINATOR, f"{name}.csv", f"{name}.ready"],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for name in ("a", "b")
    ]
    # Both processes have started and imported everything: let them book at once.
    deadline = time.monotonic() + 60
    while not all((tmp_path / f"{n}.ready").exists() for n in "ab"):
        assert time.monotonic() < deadline, "the booking processes did not start"
        time.sleep(0.01)
    (tmp_path / "go").touch()
    for process in processes:
        _, err = process.communicate(timeout=120)
        assert process.returncode == 0, err.decode()
    db = sqlite3.connect(tmp_path / "shared.sqlite")
    held = db.execute(
        "SELECT chair, start_utc, end_utc FROM sessions WHERE status <> 'cancelled' "
        "ORDER BY chair, start_utc"
    ).fetchall()
    assert db.execute("SELECT count(DISTINCT course_id) FROM sessions").fetchone()[0] == 30
    for (chair_a, _, end_a), (chair_b, start_b, _) in pairwise(held):
        assert chair_a != chair_b or end_a <= start_b, f"chair {chair_a} double-booked"


def test_staff_export_carries_patient_chair_and_the_books_uids(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    book(capsys, "P-001")
    result = run(
        capsys, "export", "--staff", "--ics", "staff.ics", "--book", "book.sqlite",
        "--from", START, "--to", "2030-01-09",
    )  # fmt: skip
    assert (result.code, result.out, result.err) == (0, "", BOOK + "Wrote 2 events to staff.ics\n")
    calendar = Calendar.from_ical((tmp_path / "staff.ics").read_bytes())
    events = calendar.walk("VEVENT")
    assert [str(e["SUMMARY"]) for e in events] == [
        "IV ketamine 1/6 · induction · P-001 · chair 1",
        "IV ketamine 2/6 · induction · P-001 · chair 1",
    ]
    keys = [s["uid"] for s in agenda_json(capsys, "--from", START, "--to", "2030-01-09")]
    uids = [book_uid(tmp_path / "book.sqlite", "team", key) for key in keys]
    assert [str(e["UID"]) for e in events] == uids


def test_patient_export_is_the_booked_course_with_the_books_uids(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    book(capsys, "P-001")
    book(capsys, "P-002")  # moved to 11:00 by P-001
    result = run(capsys, "export", "--patient", "P-002", "--ics", "p.ics", "--book", "book.sqlite")
    assert (result.code, result.err) == (0, BOOK + "Wrote 7 events to p.ics\n")
    events = Calendar.from_ical((tmp_path / "p.ics").read_bytes()).walk("VEVENT")
    booked = agenda_json(capsys, "--from", START, "--to", "2030-03-01")
    mine = [s for s in booked if s["patient"] == "P-002"]
    assert [str(e["UID"]) for e in events] == [
        book_uid(tmp_path / "book.sqlite", "appt", s["uid"]) for s in mine
    ]
    assert events[0].decoded("DTSTART").isoformat() == "2030-01-07T10:00:00+00:00"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "give --patient CODE or --staff"),
        (["--patient", "P-1", "--staff"], "give --patient CODE or --staff"),
        (["--patient", "P-1", "--from", START], "--day, --week, --month, --from and --to are "
         "for --staff; --patient exports the whole course"),
    ],
)  # fmt: skip
def test_export_refuses_unclear_requests(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    result = run(capsys, "export", "--ics", "x.ics", *args)
    assert (result.code, result.err) == (2, f"Error: {message}\n")


def test_exporting_a_patient_without_a_course_is_refused(
    capsys: pytest.CaptureFixture[str],
) -> None:
    book(capsys, "P-001")
    result = run(capsys, "export", "--patient", "P-404", "--ics", "x.ics", "--book", "book.sqlite")
    assert (result.code, result.err) == (
        1,
        BOOK + "Error: P-404 has no course in the book book.sqlite\n",
    )


def test_a_patients_days_must_be_open_clinic_days(capsys: pytest.CaptureFixture[str]) -> None:
    result = book(capsys, "P-001", "--days", "sat,sun")
    assert (result.code, result.err) == (
        2,
        "Error: --days sat,sun are not among the clinic's open weekdays\n",
    )


def test_a_patients_days_restrict_the_course_to_them(capsys: pytest.CaptureFixture[str]) -> None:
    result = book(capsys, "P-001", "--days", "tue,thu", "--format", "json")
    assert result.code == 0, result.err
    days = {s["start"][:10] for s in json.loads(result.out)["courses"][0]["sessions"]}
    assert min(days) == "2030-01-08"
    assert all(date.fromisoformat(d).weekday() in (1, 3) for d in days)


def test_closed_on_a_book_command_names_days_the_patient_cannot_come(
    capsys: pytest.CaptureFixture[str],
) -> None:
    result = book(capsys, "P-001", "--closed", "2030-01-09", "--closed", "2030-01-13..2030-01-14")
    assert result.code == 0, result.err
    assert [line.rstrip() for line in result.out.splitlines()] == [
        "Booked P-001: IV ketamine (iv), 7 sessions, 7 in clinic chairs · Europe/Berlin",
        "",
        " #   Phase             Day   Date         Time          Chair   Note",
        " " + "─" * 98,
        " 1   induction 1/6     Mon   2030-01-07   09:00-11:00   1",
        " 2   induction 2/6     Thu   2030-01-10   09:00-11:00   1       moved from Wed 2030-01-09 "
        "(patient",
        "                                                                unavailable)",
        " 3   induction 3/6     Tue   2030-01-15   09:00-11:00   1       moved from Mon 2030-01-14 "
        "(patient",
        "                                                                unavailable)",
        " 4   induction 4/6     Thu   2030-01-17   09:00-11:00   1",
        " 5   induction 5/6     Mon   2030-01-21   09:00-11:00   1",
        " 6   induction 6/6     Wed   2030-01-23   09:00-11:00   1",
        " 7   maintenance 1/1   Wed   2030-02-06   09:00-11:00   1",
        "",
        "2 of 7 sessions moved; the notes say why.",
    ]
    # The patient's days stay the patient's: the clinic is open on them for everyone else.
    notes = [s["note"] for s in agenda_json(capsys, "--patient", "P-001")]
    assert notes[1] == "moved from Wed 2030-01-09 (patient unavailable)"
    other = book(capsys, "P-002", "--format", "json")
    days = [s["start"][:10] for s in json.loads(other.out)["courses"][0]["sessions"]]
    assert days[:2] == ["2030-01-07", "2030-01-09"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--closed", "2030-01-09..2030-01-08"),
         "--closed '2030-01-09..2030-01-08' ends before it starts"),
        (("--closed", "someday"), "--closed 'someday' is not a date; use YYYY-MM-DD"),
        (("--holidays", "DE-BY"),
         "--holidays DE-BY are not the holidays of the book's clinic (none); the book's clinic "
         "keeps its holidays: drop --holidays, or change them with `ketaplan clinic apply "
         "FILE`"),
    ],
)  # fmt: skip
def test_a_book_command_refuses_bad_closed_days_and_other_holidays(
    capsys: pytest.CaptureFixture[str], args: tuple[str, ...], message: str
) -> None:
    result = book(capsys, "P-001", *args)
    assert (result.code, result.out, result.message) == (2, "", f"Error: {message}\n")
    assert not Path("book.sqlite").exists()


def test_holidays_equal_to_the_book_clinics_are_harmless(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "ketaplan.toml").write_text(CLINIC + 'holidays = "DE-BY"\n', "utf-8")
    assert book(capsys, "P-001").code == 0
    refused = book(capsys, "P-002", "--holidays", "DE")
    assert (refused.code, refused.err) == (
        2,
        BOOK + "Error: --holidays DE are not the holidays of the book's clinic (DE-BY); the "
        "book's clinic keeps its holidays: drop --holidays, or change them with `ketaplan "
        "clinic apply FILE`\n",
    )
    same = book(capsys, "P-002", "--holidays", "de-by", "--start", "2030-06-20", "--format", "json")
    assert same.code == 0, same.err
    first = json.loads(same.out)["courses"][0]["sessions"][0]
    # Corpus Christi is a holiday in Bavaria (not in all of Germany): the clinic's, kept.
    assert (first["start"][:10], first["note"]) == (
        "2030-06-21",
        "moved from Thu 2030-06-20 (Corpus Christi)",
    )


def test_a_roster_takes_no_closed_days(capsys: pytest.CaptureFixture[str]) -> None:
    result = run(capsys, "book", "--roster", "r.csv", "--closed", "2030-01-09")
    assert (result.code, result.err) == (
        2,
        "Error: --roster takes each patient's options from the file; drop --closed\n",
    )


def test_date_ranges_are_one_parser() -> None:
    assert this_week(date(2026, 12, 9)) == (date(2026, 12, 7), date(2026, 12, 13))
    assert date_range(None, None, None, None, None, date(2026, 12, 9)) is None
    assert date_range(None, "2026-12-13", None, None, None, date(2026, 1, 1)) == (
        date(2026, 12, 7),
        date(2026, 12, 13),
    )
    assert date_range(None, None, "2027-02", None, None, date(2026, 1, 1)) == (
        date(2027, 2, 1),
        date(2027, 2, 28),
    )
    assert date_range(None, None, "2026-12-15", None, None, date(2026, 1, 1)) == (
        date(2026, 12, 1),
        date(2026, 12, 31),
    )
    assert date_range(None, None, None, None, "2026-12-15", date(2026, 12, 1), open_end=True) == (
        date(2026, 12, 1),
        date(2026, 12, 15),
    )


def test_book_csv_has_one_row_per_session_with_its_chair(
    capsys: pytest.CaptureFixture[str],
) -> None:
    result = book(capsys, "P-001", "--format", "csv")
    lines = result.out.splitlines()
    # The columns it always had, then the session keys every session row has.
    assert lines[0] == "patient,number,phase,start,end,location,chair,uid,note,phase_number,status"
    assert lines[1].startswith(
        "P-001,1,induction,2030-01-07T09:00:00+01:00,2030-01-07T11:00:00+01:00,clinic,1,"
    )
    assert len(lines) == 8


def test_staff_export_marks_a_replaced_session_cancelled_with_a_raised_sequence(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    book(capsys, "P-001")
    book(capsys, "P-001", "--start", "2030-01-08", "--replace", "--yes")
    result = run(
        capsys, "export", "--staff", "--ics", "-", "--book", "book.sqlite",
        "--from", START, "--to", START,
    )  # fmt: skip
    assert result.code == 0, result.err
    (event,) = Calendar.from_ical(result.out.encode()).walk("VEVENT")
    assert (str(event["STATUS"]), event.decoded("SEQUENCE")) == ("CANCELLED", 1)


def test_a_session_has_the_same_keys_and_values_in_plan_book_and_agenda(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from ketaplan.formats.shapes import SESSION_KEYS

    args = ("--patient", "P-001", "--start", START, "--time", "09:00", "--maintenance-sessions")
    planned = json.loads(run(capsys, "plan", *args, "1", "--format", "json").out)["sessions"]
    booked = json.loads(book(capsys, "P-001", "--format", "json").out)["courses"][0]["sessions"]
    listed = agenda_json(capsys, "--day", START)
    assert [list(s)[: len(SESSION_KEYS)] for s in (planned[0], booked[0], listed[0])] == [
        list(SESSION_KEYS)
    ] * 3
    same = ("patient", "number", "phase", "phase_number", "start", "end", "location", "uid")
    assert {k: planned[0][k] for k in same} == {k: booked[0][k] for k in same}
    assert {k: booked[0][k] for k in (*same, "chair", "status", "note")} == {
        k: listed[0][k] for k in (*same, "chair", "status", "note")
    }
    for command in (["plan", *args, "1"], ["agenda", "--day", START]):
        header = run(capsys, *command, "--format", "csv").out.splitlines()[0].split(",")
        assert set(SESSION_KEYS) <= set(header), command
