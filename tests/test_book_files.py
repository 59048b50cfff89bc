"""The clinic book file as a clumsy user meets it (issue 9): a damaged book, an empty
file, a FIFO, a device, an empty --book, a Windows path, a network file system, a
restored dump, and the admin backup and check. Every refusal is one line, exit 1 (2 for
usage), and leaves every file byte for byte as it was."""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from ketaplan.store import sqlite as store
from tests.clirun import Result, file_hashes, run

CLINIC = """[clinic]
timezone = "Europe/Berlin"
require_screening = false
"""
START = "2030-01-07"
DAMAGED = (
    "Error: the book {path} is damaged (database disk image is malformed); nothing was "
    "changed: restore your latest backup (made with `ketaplan admin backup`), and check it "
    "with `ketaplan admin check --book FILE`\n"
)


@pytest.fixture(autouse=True)
def _clinic(tmp_path: Path) -> None:
    (tmp_path / "ketaplan.toml").write_text(CLINIC, encoding="utf-8")


def book(capsys: pytest.CaptureFixture[str], patient: str, *args: str) -> Result:
    return run(
        capsys, "book", "--patient", patient, "--start", START, "--maintenance-sessions", "1", *args
    )


def a_book_with_courses(capsys: pytest.CaptureFixture[str], tmp_path: Path, n: int = 5) -> Path:
    for number in range(1, n + 1):
        assert book(capsys, f"P-{number:03}").code == 0
    return tmp_path / "book.sqlite"


def damage(path: Path) -> None:
    """Overwrite pages in the middle of the file, as a failing disk or a stray `dd` would."""
    with path.open("r+b") as file:
        file.seek(2 * 4096)
        file.write(b"\xff" * 3 * 4096)


def test_a_damaged_book_says_so_points_to_the_backup_and_changes_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = a_book_with_courses(capsys, tmp_path)
    damage(path)
    before = file_hashes(tmp_path)
    for args in (
        ("agenda", "--week", START),
        ("export", "--patient", "P-001", "--ics", "p.ics"),
        ("book", "--patient", "P-009", "--start", START),
        ("rems", "enroll", "--patient", "P-009", "--date", "2026-11-01"),
    ):
        result = run(capsys, *args)
        assert (result.code, result.out) == (1, ""), args
        assert result.message == DAMAGED.format(path=path), args
        assert file_hashes(tmp_path) == before, args


def test_admin_check_finds_the_damage_and_changes_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = a_book_with_courses(capsys, tmp_path)
    intact = run(capsys, "admin", "check")
    assert (intact.code, intact.message) == (0, "")
    assert intact.out == (
        f"The book {path} is intact: 5 courses, 35 sessions, 0 screenings (SQLite's "
        "integrity check: ok)\n"
    )
    damage(path)
    before = file_hashes(tmp_path)
    result = run(capsys, "admin", "check")
    assert result.code == 1
    assert result.out.startswith("  ")
    assert result.message == (
        f"Error: the book {path} is damaged (1 problem above); restore your latest backup "
        "(made with `ketaplan admin backup`)\n"
    )
    assert result.message.count("\n") == 1
    assert file_hashes(tmp_path) == before


def test_admin_backup_copies_the_book_0600_and_the_copy_is_a_book(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = a_book_with_courses(capsys, tmp_path, 2)
    old = os.umask(0o022)
    try:
        result = run(capsys, "admin", "backup", "copy.sqlite")
    finally:
        os.umask(old)
    assert (result.code, result.message) == (0, "")
    assert result.out == (
        f"Backed up {path} to copy.sqlite: 2 courses, 14 sessions, 0 screenings; the copy "
        "passed SQLite's integrity check\n"
    )
    assert stat.S_IMODE((tmp_path / "copy.sqlite").stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "book.sqlite",
        "copy.sqlite",
        "ketaplan.toml",
    ]
    agenda = run(capsys, "agenda", "--week", START, "--book", "copy.sqlite", "--format", "json")
    assert agenda.code == 0
    assert agenda.out.count('"patient": "P-00') == 6


def test_admin_backup_never_replaces_the_book_and_an_old_copy_only_with_force(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    a_book_with_courses(capsys, tmp_path, 1)
    assert run(capsys, "admin", "backup", "copy.sqlite").code == 0
    before = file_hashes(tmp_path)
    again = run(capsys, "admin", "backup", "copy.sqlite")
    assert (again.code, again.out) == (1, "")
    assert again.message == (
        "Error: copy.sqlite is an SQLite database (a clinic book?); not replaced: choose "
        "another name, or give --force\n"
    )
    itself = run(capsys, "admin", "backup", "book.sqlite", "--force")
    assert itself.message == "Error: book.sqlite is the clinic book in use; it is never replaced\n"
    assert file_hashes(tmp_path) == before
    assert run(capsys, "admin", "backup", "copy.sqlite", "--force").code == 0


def test_admin_backup_runs_while_another_coordinator_is_booking(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = a_book_with_courses(capsys, tmp_path, 1)
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("UPDATE courses SET title = 'changed, not committed'")
    try:
        result = run(capsys, "admin", "backup", "copy.sqlite")
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert result.code == 0, result.message
    with sqlite3.connect(tmp_path / "copy.sqlite") as copy:
        assert copy.execute("SELECT title FROM courses").fetchall() == [("IV ketamine",)]


def test_a_book_restored_from_a_dump_is_recognised(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = a_book_with_courses(capsys, tmp_path, 2)
    restored = tmp_path / "restored.sqlite"
    sqlite_cli = shutil.which("sqlite3")
    if sqlite_cli:
        dump = subprocess.run(
            [sqlite_cli, str(path), ".dump"], capture_output=True, text=True, check=True
        ).stdout
        subprocess.run([sqlite_cli, str(restored)], input=dump, text=True, check=True)
    else:  # the same SQL as `.dump`, from Python's own dumper
        with sqlite3.connect(path) as db, sqlite3.connect(restored) as new:
            new.executescript("\n".join(db.iterdump()))
    with sqlite3.connect(restored) as db:
        assert db.execute("PRAGMA application_id").fetchone() == (0,)
    restored.chmod(0o644)  # as the sqlite3 shell makes it: readable by everyone
    result = run(capsys, "agenda", "--week", START, "--book", str(restored), "--format", "json")
    assert (result.code, result.message) == (
        0,
        f"Made {restored} unreadable by other users (mode 0644 -> 0640)\n",
    )
    assert stat.S_IMODE(restored.stat().st_mode) == 0o640
    assert result.out.count('"patient"') == 6
    with sqlite3.connect(restored) as db:
        assert db.execute("PRAGMA application_id").fetchone() == (store.APPLICATION_ID,)
        assert db.execute("PRAGMA user_version").fetchone() == (store.SCHEMA_VERSION,)


def test_a_command_that_only_reads_never_makes_a_book_of_an_empty_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "empty.sqlite").write_bytes(b"")
    for args in (("agenda",), ("export", "--staff", "--ics", "x.ics"), ("rems", "due")):
        result = run(capsys, *args, "--book", "empty.sqlite")
        assert (result.code, result.out) == (1, ""), args
        assert result.message == (
            "Error: empty.sqlite is an empty file, not a clinic book; `ketaplan book` creates "
            "a book\n"
        )
    assert (tmp_path / "empty.sqlite").read_bytes() == b""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.sqlite", "ketaplan.toml"]


def test_booking_creates_the_book_and_says_so_once(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    first = book(capsys, "P-001")
    assert first.message == f"Created a new clinic book at {tmp_path}/book.sqlite\n"
    assert book(capsys, "P-002").message == ""
    (tmp_path / "new.sqlite").write_bytes(b"")
    into_empty = book(capsys, "P-003", "--book", "new.sqlite")
    assert into_empty.message == "Created a new clinic book at new.sqlite\n"


def test_a_fifo_as_the_book_is_refused_without_waiting(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    os.mkfifo(tmp_path / "book.pipe")
    before = file_hashes(tmp_path)
    results: list[Result] = []
    worker = threading.Thread(
        target=lambda: results.append(run(capsys, "agenda", "--book", "book.pipe"))
    )
    worker.start()
    worker.join(timeout=20)
    assert results, "ketaplan waited on the FIFO"
    assert (results[0].code, results[0].err) == (
        1,
        "Error: the book book.pipe is a FIFO (named pipe), not a file; left untouched\n",
    )
    assert file_hashes(tmp_path) == before


def test_a_character_device_as_the_book_is_refused_and_gets_no_journal(
    capsys: pytest.CaptureFixture[str],
) -> None:
    result = book(capsys, "P-001", "--book", "/dev/null")
    assert (result.code, result.message) == (
        1,
        "Error: the book /dev/null is a character device, not a file; left untouched\n",
    )
    assert not Path("/dev/null-journal").exists()
    assert not Path("/dev/null-wal").exists()


def test_an_empty_book_option_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    result = run(capsys, "agenda", "--book", "")
    assert (result.code, result.out) == (2, "")
    assert result.message == (
        "Error: --book is empty; give the clinic book's file, e.g. --book book.sqlite\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ketaplan.toml"]


@pytest.mark.parametrize("pasted", [r"\\server\share\book.sqlite", r"C:\clinic\book.sqlite"])
def test_a_pasted_windows_path_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, pasted: str
) -> None:
    result = book(capsys, "P-001", "--book", pasted)
    assert (result.code, result.out) == (1, "")
    assert result.message == (
        f"Error: the book path {pasted} is a Windows path, which this system would take as a "
        "file name; give the path where the share or drive is mounted here\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ketaplan.toml"]


def test_a_windows_path_in_the_config_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KETAPLAN_BOOK")
    config = CLINIC + "[book]\npath = '\\\\server\\share\\book.sqlite'\n"
    (tmp_path / "ketaplan.toml").write_text(config, encoding="utf-8")
    result = book(capsys, "P-001")
    assert (result.code, result.out) == (2, "")
    assert result.message == (
        "Error: ketaplan.toml: book.path \\\\server\\share\\book.sqlite is a Windows path, "
        "which this system would take as a file name; give the path where the share or drive "
        "is mounted here\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ketaplan.toml"]


MOUNTINFO = """\
22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
40 22 0:35 / /mnt/clinic\\040share rw,relatime shared:20 - nfs4 srv:/export rw,vers=4.2
41 22 0:36 / /mnt/smb rw,relatime shared:21 - cifs //srv/clinic rw
42 40 8:2 / /mnt/clinic\\040share/local rw,relatime shared:22 - ext4 /dev/sdb1 rw
"""


@pytest.mark.parametrize(
    ("folder", "kind"),
    [
        ("/mnt/clinic share", "nfs4"),
        ("/mnt/clinic share/ketaplan", "nfs4"),
        ("/mnt/smb/books", "cifs"),
        ("/mnt/clinic share/local/books", None),
        ("/mnt/clinic shares", None),
        ("/home/coordinator", None),
    ],
)
def test_network_file_systems_are_told_from_the_mount_table(folder: str, kind: str | None) -> None:
    assert store.network_file_system(Path(folder), MOUNTINFO) == kind


def test_a_book_on_a_network_file_system_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The mount table says the test's folder is an NFS mount (mounting a real one needs
    an NFS server this machine does not run)."""
    table = tmp_path.parent / f"{tmp_path.name}.mountinfo"
    real = Path("/proc/self/mountinfo").read_text(encoding="utf-8")
    escaped = str(tmp_path).replace(" ", "\\040")
    table.write_text(
        real + f"99 22 0:99 / {escaped} rw,relatime - nfs4 srv:/export rw\n", encoding="utf-8"
    )
    monkeypatch.setattr(store, "MOUNTINFO", table)
    result = book(capsys, "P-001")
    assert (result.code, result.out) == (1, "")
    assert result.message == (
        f"Error: the book's folder {tmp_path} is on a network file system (nfs4), where "
        "SQLite's locking and shared memory are not safe; keep the book on a local disk, and "
        "use PostgreSQL for a book shared between computers\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ketaplan.toml"]


def test_a_book_of_another_version_or_program_is_still_refused_after_dump_support(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with sqlite3.connect(tmp_path / "other.sqlite") as db:
        db.execute("CREATE TABLE courses (x)")
        db.execute("CREATE TABLE sessions (x)")
    before = file_hashes(tmp_path)
    result = run(capsys, "agenda", "--book", "other.sqlite")
    assert (result.code, result.message) == (
        1,
        "Error: other.sqlite is another program's SQLite database, not a ketaplan book; left "
        "untouched\n",
    )
    assert file_hashes(tmp_path) == before


def test_python_m_ketaplan_runs_the_cli(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "ketaplan", "admin", "check", "--book", "missing.sqlite"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert (proc.returncode, proc.stderr) == (
        1,
        "Error: there is no clinic book at missing.sqlite yet; `ketaplan init` or the first "
        "`ketaplan book` creates it\n",
    )
