"""Rosters as clinics have them: files saved by Excel (byte order mark, semicolons, tabs,
CRLF, cp1252), dates in the clinic's order, any case, more columns, every problem in
one run, and a roster booked twice booking nothing new."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from tests.clirun import Result, run

FIXTURES = Path(__file__).parent / "fixtures"
CLINIC = """[clinic]
name = "Lakeside"
timezone = "Europe/Berlin"
chairs = 2
hours = "08:00-16:00"
require_screening = false
"""


def roster(tmp_path: Path, name: str) -> str:
    shutil.copy(FIXTURES / name, tmp_path / name)
    return name


def config(tmp_path: Path, extra: str = "") -> None:
    (tmp_path / "ketaplan.toml").write_text(CLINIC + extra, encoding="utf-8")


def book_roster(capsys: pytest.CaptureFixture[str], name: str, *args: str) -> Result:
    return run(capsys, "book", "--roster", name, *args)


def starts(capsys: pytest.CaptureFixture[str], day: str) -> list[tuple[str, str]]:
    result = run(capsys, "agenda", "--day", day, "--format", "json")
    return [(s["patient"], s["start"]) for s in json.loads(result.out)["sessions"]]


def test_excels_utf8_csv_with_semicolons_and_local_dates_books(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config(tmp_path, 'date_order = "DMY"\n')
    name = roster(tmp_path, "roster-excel-utf8-de.csv")
    result = book_roster(capsys, name)
    assert result.code == 0, result.err
    assert result.out.startswith("Booked 2 patients from roster-excel-utf8-de.csv: ")
    # IV and Esketamine by any case; the weekdays as Excel capitalises them.
    assert starts(capsys, "2030-01-07") == [("P-001", "2030-01-07T09:00:00+01:00")]
    assert starts(capsys, "2030-01-08") == [("P-002", "2030-01-08T13:00:00+01:00")]
    db = sqlite3.connect(tmp_path / "book.sqlite")
    assert db.execute("SELECT patient, override_reason FROM courses ORDER BY patient").fetchall()[
        1
    ] == ("P-002", "Überweisung: Dr. Müller")
    db.close()


def test_local_dates_without_the_clinics_order_are_refused_naming_both_readings(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config(tmp_path)
    name = roster(tmp_path, "roster-excel-utf8-de.csv")
    result = book_roster(capsys, name)
    assert (result.code, result.out) == (2, "")
    assert result.message == (
        "Error: roster-excel-utf8-de.csv: 2 problems, nothing was booked:\n"
        "  line 2, column 3: start '07.01.2030' could be 7 January 2030 or 1 July 2030; "
        'write YYYY-MM-DD, or set the clinic\'s date_order = "DMY" or "MDY" in ketaplan.toml\n'
        "  line 3, column 3: start '08.01.2030' could be 8 January 2030 or 1 August 2030; "
        'write YYYY-MM-DD, or set the clinic\'s date_order = "DMY" or "MDY" in ketaplan.toml\n'
    )
    assert not (tmp_path / "book.sqlite").exists()


def test_excels_plain_csv_in_cp1252_is_refused_with_the_fix_and_read_with_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config(tmp_path, 'date_order = "DMY"\n')
    name = roster(tmp_path, "roster-excel-cp1252.csv")
    refused = book_roster(capsys, name)
    assert (refused.code, refused.out) == (2, "")
    assert refused.message == (
        'Error: roster roster-excel-cp1252.csv is not UTF-8 text; save it as "CSV UTF-8" in '
        "Excel, or give its encoding, e.g. --encoding cp1252 (Excel's plain CSV on Windows)\n"
    )
    assert not (tmp_path / "book.sqlite").exists()
    booked = book_roster(capsys, name, "--encoding", "cp1252")
    assert booked.code == 0, booked.err
    db = sqlite3.connect(tmp_path / "book.sqlite")
    assert db.execute("SELECT override_reason FROM courses").fetchone() == (
        "Überweisung: Dr. Müller",
    )
    db.close()
    unknown = book_roster(capsys, name, "--encoding", "klingon")
    assert unknown.message.endswith("Error: --encoding 'klingon' is not an encoding Python knows\n")
    alone = run(capsys, "book", "--patient", "P-9", "--start", "2030-01-07", "--encoding", "x")
    assert (alone.code, alone.err) == (
        2,
        "Error: --encoding is the roster's; give it with --roster FILE.csv\n",
    )


def test_tabs_us_dates_and_the_new_columns(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config(tmp_path, 'date_order = "MDY"\n')
    name = roster(tmp_path, "roster-excel-tab-us.csv")
    result = book_roster(capsys, name, "--format", "json")
    assert result.code == 0, result.err
    courses = {c["patient"]: c for c in json.loads(result.out)["courses"]}
    until = [s for s in courses["P-004"]["sessions"] if s["phase"] == "maintenance"]
    assert until[-1]["start"] <= "2030-06-28T23:59"
    assert len(until) > 1
    im = [s for s in courses["P-005"]["sessions"] if s["phase"] == "maintenance"]
    assert len(im) == 2
    assert courses["P-005"]["sessions"][0]["start"] == "2030-01-08T11:00:00+01:00"


def test_a_roster_booked_twice_books_nothing_new(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config(tmp_path, 'date_order = "DMY"\n')
    name = roster(tmp_path, "roster-excel-utf8-de.csv")
    assert book_roster(capsys, name).code == 0
    db = sqlite3.connect(tmp_path / "book.sqlite")
    before = db.execute("SELECT count(*) FROM sessions").fetchone()
    again = book_roster(capsys, name)
    assert (again.code, again.out) == (0, "")
    assert again.message == (
        "Every row of roster-excel-utf8-de.csv is already booked as asked; nothing new was "
        "booked.\n"
    )
    assert db.execute("SELECT count(*) FROM sessions").fetchone() == before
    db.close()


def test_every_problem_of_every_row_comes_in_one_run(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "ketaplan.toml").write_text(
        CLINIC.replace("require_screening = false", "require_screening = true"), "utf-8"
    )
    (tmp_path / "r.csv").write_text(
        "patient,protocol,start\nP-001,iv,someday\nP-002,iv,2030-01-07\nP-003,xx,2030-01-07\n",
        "utf-8",
    )
    result = book_roster(capsys, "r.csv")
    assert (result.code, result.out) == (1, "")
    assert result.message == (
        "Error: r.csv: 3 problems, nothing was booked:\n"
        "  line 2, column 3: start 'someday' is not a date; use YYYY-MM-DD, today or tomorrow\n"
        "  line 3 (P-002): no screening recorded; screen the patient first (`ketaplan screen "
        "--patient P-002`), or fill in the roster's override column if the clinician decides "
        "to book anyway\n"
        "  line 4, column 2: unknown protocol 'xx'; built in: iv, im, esketamine, lozenge, or "
        "give a FILE.toml\n"
    )
    assert not (tmp_path / "book.sqlite").exists()
