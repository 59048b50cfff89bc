"""Output paths as a clumsy user or an attacker meets them (issue 9): `--ics` never
replaces the clinic book, a config or any file that is not a ketaplan calendar, writes
into devices and pipes as asked, leaves links to the kernel, and a failing stdout is one
line that never reports a stored booking as a failure. Each refusal leaves every file
byte for byte as it was."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.clirun import file_hashes, run

CLINIC = """[clinic]
timezone = "Europe/Berlin"
require_screening = false
"""
PLAN = ("plan", "--start", "2030-01-07", "--patient", "P-001", "--maintenance-sessions", "1")
BOOK = (
    "book",
    "--patient",
    "P-001",
    "--start",
    "2030-01-07",
    "--maintenance-sessions",
    "1",
)


@pytest.fixture(autouse=True)
def _clinic(tmp_path: Path) -> None:
    (tmp_path / "ketaplan.toml").write_text(CLINIC, encoding="utf-8")


def ketaplan(cwd: Path, *args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    """The real command in a process of its own (for real stdout and pipes)."""
    env = {**os.environ, "KETAPLAN_BOOK": str(cwd / "book.sqlite")}
    if "stdout" not in kwargs:
        kwargs["capture_output"] = True
    return subprocess.run(  # type: ignore[call-overload, no-any-return]
        [sys.executable, "-m", "ketaplan", *args],
        cwd=cwd,
        env=env,
        text=True,
        check=False,
        timeout=120,
        **kwargs,
    )


def test_export_into_the_book_in_use_is_refused_and_changes_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert run(capsys, *BOOK).code == 0
    before = file_hashes(tmp_path)
    result = run(capsys, "export", "--staff", "--from", "2030-01-01", "--ics", "book.sqlite")
    assert (result.code, result.out) == (1, "")
    assert result.message == "Error: book.sqlite is the clinic book in use; it is never replaced\n"
    assert file_hashes(tmp_path) == before
    # Not even with --force.
    forced = run(capsys, "export", "--staff", "--ics", "book.sqlite", "--force")
    assert (forced.code, forced.message) == (1, result.message)
    assert file_hashes(tmp_path) == before


def test_a_config_or_any_file_not_a_ketaplan_calendar_needs_force(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "roster.csv").write_text("patient,start\nP-001,2030-01-07\n", encoding="utf-8")
    before = file_hashes(tmp_path)
    for name in ("ketaplan.toml", "roster.csv"):
        result = run(capsys, *PLAN, "--ics", name)
        assert (result.code, result.out) == (1, "")
        assert result.message == (
            f"Error: {name} exists and is not a calendar ketaplan wrote; not replaced: "
            "choose another name, or give --force to replace it\n"
        )
    assert file_hashes(tmp_path) == before
    forced = run(capsys, *PLAN, "--ics", "roster.csv", "--force")
    assert forced.code == 0
    assert (tmp_path / "roster.csv").read_bytes().startswith(b"BEGIN:VCALENDAR")


def test_another_sqlite_file_is_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    import sqlite3

    with sqlite3.connect(tmp_path / "other.db") as db:
        db.execute("CREATE TABLE t (x)")
    before = file_hashes(tmp_path)
    result = run(capsys, *PLAN, "--ics", "other.db")
    assert result.code == 1
    assert result.message == (
        "Error: other.db is an SQLite database (a clinic book?); not replaced: choose another "
        "name, or give --force\n"
    )
    assert file_hashes(tmp_path) == before


def test_a_ketaplan_calendar_and_an_empty_file_are_replaced(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert run(capsys, *PLAN, "--ics", "course.ics").code == 0
    (tmp_path / "empty.ics").write_bytes(b"")
    assert run(capsys, *PLAN, "--patient", "P-002", "--ics", "course.ics").code == 0
    assert b"P-002" in (tmp_path / "course.ics").read_bytes()
    assert run(capsys, *PLAN, "--ics", "empty.ics").code == 0
    assert (tmp_path / "empty.ics").read_bytes().startswith(b"BEGIN:VCALENDAR")


def test_a_character_device_is_written_not_replaced(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    before = os.stat("/dev/null")
    result = run(capsys, *PLAN, "--ics", "/dev/null")
    assert (result.code, result.message) == (0, "")
    after = os.stat("/dev/null")
    assert stat.S_ISCHR(after.st_mode)
    assert (after.st_ino, after.st_rdev) == (before.st_ino, before.st_rdev)


def test_dev_stdout_writes_the_calendar_into_the_pipe(tmp_path: Path) -> None:
    proc = ketaplan(tmp_path, *PLAN, "--format", "json", "--ics", "/dev/stdout")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("BEGIN:VCALENDAR")
    assert '"patient": "P-001"' in proc.stdout


def test_a_fifo_is_written_as_asked(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    fifo = tmp_path / "calendar.pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    result = run(capsys, *PLAN, "--ics", str(fifo))
    reader.join(timeout=30)
    assert (result.code, result.message) == (0, "")
    assert received[0].startswith(b"BEGIN:VCALENDAR")
    assert stat.S_ISFIFO(fifo.lstat().st_mode)


def test_a_socket_is_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    import socket

    with socket.socket(socket.AF_UNIX) as server:
        server.bind("s.sock")
        result = run(capsys, *PLAN, "--ics", "s.sock")
    assert (result.code, result.message) == (
        1,
        "Error: s.sock is a socket, not a file; not written\n",
    )


def test_a_dangling_link_is_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "course.ics").symlink_to(tmp_path / "gone" / "elsewhere.ics")
    before = file_hashes(tmp_path)
    result = run(capsys, *PLAN, "--ics", "course.ics")
    assert (result.code, result.out) == (1, "")
    assert result.message == (
        "Error: course.ics is a link to a file that does not exist; give the file itself\n"
    )
    assert file_hashes(tmp_path) == before


def test_a_link_to_the_book_or_a_config_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert run(capsys, *BOOK).code == 0
    (tmp_path / "to-book.ics").symlink_to(tmp_path / "book.sqlite")
    (tmp_path / "to-config.ics").symlink_to(tmp_path / "ketaplan.toml")
    before = file_hashes(tmp_path)
    result = run(capsys, "export", "--staff", "--ics", "to-book.ics")
    assert result.message == (
        "Error: to-book.ics leads to the clinic book in use; it is never replaced\n"
    )
    result = run(capsys, *PLAN, "--ics", "to-config.ics")
    assert result.code == 1
    assert "to-config.ics exists and is not a calendar ketaplan wrote" in result.message
    assert file_hashes(tmp_path) == before


def test_the_kernel_follows_links_so_its_sticky_folder_protection_applies(
    tmp_path: Path,
) -> None:
    """In a sticky world-writable folder with fs.protected_symlinks on, a link owned by
    another user is not followed: the write fails instead of going where the link
    points."""
    protected = Path("/proc/sys/fs/protected_symlinks")
    if not protected.exists() or protected.read_text().strip() != "1":
        pytest.skip("fs.protected_symlinks is off on this machine (a sysctl of the host)")
    if os.geteuid() != 0:
        pytest.skip("needs root to create a link owned by another user")
    sticky = tmp_path / "shared"
    sticky.mkdir(mode=0o1777)
    sticky.chmod(0o1777)
    victim = tmp_path / "victim.ics"
    victim.write_bytes(b"BEGIN:VCALENDAR\r\nPRODID:-//ketaplan//x//EN\r\n")
    link = sticky / "course.ics"
    link.symlink_to(victim)
    os.lchown(link, 65534, 65534)
    proc = ketaplan(tmp_path, *PLAN, "--ics", str(link))
    assert proc.returncode == 1
    assert proc.stderr == f"Error: cannot write {link}: permission denied\n"
    assert victim.read_bytes().startswith(b"BEGIN:VCALENDAR\r\nPRODID:-//ketaplan//x")


def test_a_full_stdout_is_one_line(tmp_path: Path) -> None:
    with open("/dev/full", "w") as full:
        proc = ketaplan(tmp_path, *PLAN, stdout=full, stderr=subprocess.PIPE)
    assert proc.returncode == 1
    assert proc.stderr == "Error: cannot write the output: no space left on the device\n"


def test_a_booking_into_a_full_stdout_is_stored_and_says_so(tmp_path: Path) -> None:
    with open("/dev/full", "w") as full:
        proc = ketaplan(
            tmp_path,
            *BOOK,
            "--format",
            "json",
            stdout=full,
            stderr=subprocess.PIPE,
        )
    assert proc.stderr == (
        f"Created a new clinic book at {tmp_path}/book.sqlite\n"
        f"Book: {tmp_path}/book.sqlite · clinic Ketamine clinic\n"
        f"Stored the clinic Ketamine clinic in the book {tmp_path}/book.sqlite (settings "
        "from ketaplan.toml)\n"
        f"Booked and stored 1 course in {tmp_path}/book.sqlite (the output could not be "
        "written: no space left on the device).\n"
    )
    assert proc.returncode == 0
    # A script that retries anyway books nothing twice: the booking is known as asked.
    again = ketaplan(tmp_path, *BOOK)
    assert (again.returncode, again.stdout) == (0, "")
    assert again.stderr.endswith(
        "P-001 is already booked as asked (IV ketamine, start 2030-01-07); nothing new was "
        "booked: `ketaplan course --patient P-001` shows it\n"
    )


def test_a_roster_piped_into_head_exits_0_when_it_is_stored(tmp_path: Path) -> None:
    rows = "".join(f"P-{n:03},2030-01-07\n" for n in range(1, 41))
    (tmp_path / "roster.csv").write_text("patient,start\n" + rows, encoding="utf-8")
    env = {**os.environ, "KETAPLAN_BOOK": str(tmp_path / "book.sqlite")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "ketaplan", "book", "--roster", "roster.csv", "--format", "json"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stderr is not None
    # The reader has gone before the output comes (`| head -1` after its line).
    proc.stdout.close()
    err = proc.stderr.read()
    assert proc.wait(timeout=120) == 0
    assert err == (
        f"Created a new clinic book at {tmp_path}/book.sqlite\n"
        f"Book: {tmp_path}/book.sqlite · clinic Ketamine clinic\n"
        f"Stored the clinic Ketamine clinic in the book {tmp_path}/book.sqlite (settings "
        "from ketaplan.toml)\n"
        f"Booked and stored 40 courses in {tmp_path}/book.sqlite (the reader of the output "
        "has gone away).\n"
    )
