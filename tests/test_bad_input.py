"""Bad input that once crashed or hung (issue 9): dates near 9999-12-31, Ctrl-C during a
roster, and a roster into a clinic that cannot hold it. Each is one line (or a capped
list), the right exit code, and nothing changed."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from ketaplan.booking import courses
from ketaplan.cli import book as book_command
from ketaplan.parsing import FIRST_DATE, LAST_DATE
from tests.clirun import file_hashes, run

CLINIC = """[clinic]
timezone = "Europe/Berlin"
require_screening = false
"""
RANGE = "is outside the dates ketaplan takes, 1900-01-01 to 2199-12-31"


@pytest.fixture(autouse=True)
def _clinic(tmp_path: Path) -> None:
    (tmp_path / "ketaplan.toml").write_text(CLINIC, encoding="utf-8")


def roster(tmp_path: Path, patients: int, start: str = "2030-01-07") -> Path:
    rows = "".join(f"P-{n:05},{start}\n" for n in range(1, patients + 1))
    path = tmp_path / "roster.csv"
    path.write_text("patient,start\n" + rows, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("args", "given"),
    [
        (("agenda", "--from", "2030-01-01", "--to", "9999-12-31"), "--to 9999-12-31"),
        (("rems", "due", "--week", "9999-12-31"), "--week 9999-12-31"),
        (("plan", "--patient", "P-001", "--start", "9999-12-01"), "--start 9999-12-01"),
        (("plan", "--patient", "P-001", "--start", "2030-01-07", "--until", "2200-01-01"),
         "--until 2200-01-01"),
        (("export", "--staff", "--ics", "s.ics", "--from", "0001-01-01"), "--from 0001-01-01"),
        (("screen", "--patient", "P-001", "--date", "1899-12-31"), "--date 1899-12-31"),
        (("plan", "--patient", "P-001", "--start", "2030-01-07", "--closed", "9999-12-31"),
         "closure 9999-12-31"),
    ],
)  # fmt: skip
def test_a_date_outside_the_range_is_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, args: tuple[str, ...], given: str
) -> None:
    assert run(capsys, "book", "--patient", "P-009", "--start", "2030-01-07").code == 0
    before = file_hashes(tmp_path)
    result = run(capsys, *args)
    assert (result.code, result.out, result.message) == (2, "", f"Error: {given} {RANGE}\n")
    assert file_hashes(tmp_path) == before


def test_the_range_is_what_the_docs_say() -> None:
    assert (date(1900, 1, 1), date(2199, 12, 31)) == (FIRST_DATE, LAST_DATE)


@pytest.mark.parametrize(
    "args",
    [
        ("plan", "--start", "2199-12-31", "--maintenance-sessions", "200",
         "--maintenance-every", "6w"),
        ("plan", "--start", "2199-12-31", "--protocol", "esketamine"),
        ("plan", "--start", "2199-12-31", "--until", "2199-12-31", "--protocol", "lozenge"),
        ("book", "--start", "2199-12-31", "--maintenance-sessions", "200"),
        ("agenda", "--week", "2199-12-31"),
        ("rems", "due", "--week", "2199-12-31"),
        ("export", "--staff", "--ics", "-", "--from", "2199-12-31"),
    ],
)  # fmt: skip
def test_the_last_date_never_overflows(
    capsys: pytest.CaptureFixture[str], args: tuple[str, ...]
) -> None:
    if args[0] in ("plan", "book"):
        args = (*args, "--patient", "P-001")
    if args[0] != "book":
        run(capsys, "book", "--patient", "P-002", "--start", "2199-11-01")
    result = run(capsys, *args)
    assert result.code in (0, 1), result.message
    assert "Traceback" not in result.message
    assert result.message.count("\n") <= 1


def test_a_roster_the_clinic_cannot_hold_is_refused_at_once_with_the_numbers(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert run(capsys, "book", "--patient", "P-99999", "--start", "2030-01-07").code == 0
    roster(tmp_path, 3000)
    before = file_hashes(tmp_path)
    result = run(capsys, "book", "--roster", "roster.csv")
    assert (result.code, result.out) == (1, "")
    assert result.message == (
        "Error: the roster cannot fit: its 3,000 courses need at least 72,000 chair-hours "
        "(36,000 clinic sessions) from 2030-01-07 to 2031-05-20, and the clinic has at most "
        "14,256 chair-hours and 29,274 start slots free then (4 chairs, its opening hours); "
        "nothing was booked: book it in parts, or add chairs or hours in ketaplan.toml\n"
    )
    assert file_hashes(tmp_path) == before


def test_the_list_of_refused_courses_is_capped(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    for n in range(1, 31):
        # Another start than the roster's: the roster asks for other courses.
        assert run(capsys, "book", "--patient", f"P-{n:05}", "--start", "2030-01-14").code == 0
    roster(tmp_path, 30)
    result = run(capsys, "book", "--roster", "roster.csv")
    lines = result.message.splitlines()
    assert lines[0] == "Error: 30 of 30 courses cannot be booked, nothing was booked:"
    assert len(lines) == 1 + courses.MAX_LISTED + 1
    assert lines[-1] == "  ... and 10 more"


def test_a_roster_says_how_far_it_is_on_stderr_when_not_on_a_terminal(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(book_command, "PROGRESS_SECONDS", 0.0)
    roster(tmp_path, 3)
    result = run(capsys, "book", "--roster", "roster.csv")
    assert result.code == 0
    assert result.message == (
        f"Created a new clinic book at {tmp_path}/book.sqlite\n"
        "Booking: 1 of 3 courses placed\n"
        "Booking: 2 of 3 courses placed\n"
        "Booking: 3 of 3 courses placed\n"
    )


# Runs ketaplan with a progress line for every course, so that the test knows when the
# booking transaction is under way.
EVERY_COURSE = (
    "import sys; import ketaplan.cli.book as b; b.PROGRESS_SECONDS = 0.0\n"
    "from ketaplan.cli import main; sys.exit(main(sys.argv[1:]))\n"
)


def test_ctrl_c_during_a_roster_books_nothing_and_says_so(tmp_path: Path) -> None:
    env = {**os.environ, "KETAPLAN_BOOK": str(tmp_path / "book.sqlite")}
    # The book keeps the clinic it is made for: 60 chairs from the start.
    (tmp_path / "ketaplan.toml").write_text(CLINIC + "chairs = 60\n", encoding="utf-8")
    setup = subprocess.run(
        [sys.executable, "-m", "ketaplan", "book", "--patient", "P-99999", "--start", "2030-01-07"],
        cwd=tmp_path, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert setup.returncode == 0, setup.stderr
    roster(tmp_path, 400)
    before = file_hashes(tmp_path)
    proc = subprocess.Popen(
        [sys.executable, "-c", EVERY_COURSE, "book", "--roster", "roster.csv"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stderr is not None
    first = proc.stderr.readline()
    if first.startswith("Book: "):  # which book, first
        first = proc.stderr.readline()
    assert first.startswith("Booking: "), first
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130
    assert out == ""
    assert err.splitlines()[-1] == "Error: interrupted; nothing was booked"
    assert "Traceback" not in err
    assert file_hashes(tmp_path) == before
    with sqlite3.connect(tmp_path / "book.sqlite") as db:
        assert db.execute("SELECT count(*) FROM courses").fetchone() == (1,)
