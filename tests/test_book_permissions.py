"""Who can read the book (issue 9): a new book and its -wal and -shm files are the
owner's alone (0600, in a 0700 data folder) whatever the umask, or 0660 in the clinic's
group with `[book] group`; a shared book works for every member of the group, whoever
opened it last; the error for a book one cannot use names the file and the permission.

The two-user tests create OS users (CI runs as root) and run ketaplan as them with the
system's Python 3.11 (the test venv's interpreter lives under /root, which other users
cannot enter); they are skipped, saying why, where that is impossible."""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from ketaplan.store import open_book
from tests.clirun import run

CLINIC = """[clinic]
timezone = "Europe/Berlin"
require_screening = false
"""
BOOK = ("book", "--start", "2030-01-07", "--maintenance-sessions", "1", "--patient")
ROOT = Path(__file__).parent.parent


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(params=[0o022, 0o002], ids=["umask-022", "umask-002"])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    old = os.umask(request.param)
    yield int(request.param)
    os.umask(old)


def side_file_modes(path: Path) -> dict[str, tuple[int, int]]:
    """Mode and group of the -wal and -shm files while a connection holds the book open."""
    book = open_book(path, create=False)
    try:
        found = {}
        for suffix in ("-wal", "-shm"):
            info = Path(f"{path}{suffix}").stat()
            found[suffix] = (stat.S_IMODE(info.st_mode), info.st_gid)
        return found
    finally:
        book.close()


def test_a_new_book_and_its_data_folder_are_the_owners_alone(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    umask: int,
) -> None:
    (tmp_path / "ketaplan.toml").write_text(CLINIC, encoding="utf-8")
    monkeypatch.delenv("KETAPLAN_BOOK")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    result = run(capsys, *BOOK, "P-001")
    folder = tmp_path / "data" / "ketaplan"
    assert (result.code, result.message) == (
        0,
        f"Created a new clinic book at {folder}/book.sqlite\n",
    )
    assert mode(folder) == 0o700
    assert mode(folder / "book.sqlite") == 0o600
    gid = os.getegid()
    assert side_file_modes(folder / "book.sqlite") == {"-wal": (0o600, gid), "-shm": (0o600, gid)}


def test_a_book_and_data_folder_from_an_earlier_ketaplan_lose_other_users_access(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An earlier ketaplan made the folder 0755 and the book 0644; the group's
    permissions are left alone (a group may share them)."""
    (tmp_path / "ketaplan.toml").write_text(CLINIC, encoding="utf-8")
    monkeypatch.delenv("KETAPLAN_BOOK")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert run(capsys, *BOOK, "P-001").code == 0
    folder = tmp_path / "data" / "ketaplan"
    folder.chmod(0o755)
    (folder / "book.sqlite").chmod(0o644)
    result = run(capsys, *BOOK, "P-002")
    assert (result.code, result.message) == (
        0,
        f"Made {folder} unreadable by other users (mode 0755 -> 0750)\n"
        f"Made {folder}/book.sqlite unreadable by other users (mode 0644 -> 0640)\n",
    )
    assert (mode(folder), mode(folder / "book.sqlite")) == (0o750, 0o640)
    assert run(capsys, *BOOK, "P-003").message == ""


def test_a_group_book_is_0660_in_the_clinics_group(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, umask: int
) -> None:
    group = grp.getgrgid(os.getegid()).gr_name
    config = CLINIC + f'[book]\npath = "shared/book.sqlite"\ngroup = "{group}"\n'
    (tmp_path / "ketaplan.toml").write_text(config, encoding="utf-8")
    (tmp_path / "shared").mkdir()
    monkeypatch.delenv("KETAPLAN_BOOK")
    assert run(capsys, *BOOK, "P-001").code == 0
    book = tmp_path / "shared" / "book.sqlite"
    assert mode(book) == 0o660
    gid = os.getegid()
    assert book.stat().st_gid == gid
    assert side_file_modes(book) == {"-wal": (0o660, gid), "-shm": (0o660, gid)}


def test_naming_a_group_in_the_config_shares_an_existing_book(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "ketaplan.toml").write_text(CLINIC, encoding="utf-8")
    assert run(capsys, *BOOK, "P-001").code == 0
    book = tmp_path / "book.sqlite"
    assert mode(book) == 0o600
    group = grp.getgrgid(os.getegid()).gr_name
    config = CLINIC + f'[book]\ngroup = "{group}"\n'
    (tmp_path / "ketaplan.toml").write_text(config, encoding="utf-8")
    result = run(capsys, "agenda", "--week", "2030-01-07")
    assert (result.code, result.message) == (
        0,
        f"Shared {book} with the group {group} (mode 0660)\n",
    )
    assert mode(book) == 0o660
    assert run(capsys, "agenda", "--week", "2030-01-07").message == ""


def test_an_unknown_group_is_refused_before_anything_is_made(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config = CLINIC + '[book]\ngroup = "no-such-clinic-group"\n'
    (tmp_path / "ketaplan.toml").write_text(config, encoding="utf-8")
    result = run(capsys, *BOOK, "P-001")
    assert (result.code, result.out) == (1, "")
    assert result.message == (
        "Error: [book] group = 'no-such-clinic-group' is not a group on this system; create "
        "it (groupadd) or change ketaplan.toml\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ketaplan.toml"]


# Two OS users and a third who is not in the clinic's group.
GROUP = "ktplclinic"
OWNER, READER, OUTSIDER = "ktplowner", "ktplreader", "ktploutsider"
SYSTEM_PYTHON = Path(f"/usr/bin/python{sys.version_info[0]}.{sys.version_info[1]}")
RUN_KETAPLAN = "import sys; from ketaplan.cli import main; sys.exit(main(sys.argv[1:]))"
# A reader that dies with the book open: its -wal and -shm stay behind, owned by it.
READ_AND_DIE = (
    "import os, sys; from datetime import datetime, UTC; from pathlib import Path\n"
    "from ketaplan.store import open_book\n"
    "book = open_book(Path(sys.argv[1]), create=False)\n"
    "book.sessions_between(datetime(2030, 1, 1, tzinfo=UTC), datetime(2030, 2, 1, tzinfo=UTC))\n"
    "os._exit(0)\n"
)


def _why_not_two_users() -> str | None:
    if os.geteuid() != 0:
        return "creating OS users needs root (CI runs as root)"
    for tool in ("useradd", "groupadd", "setpriv"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed"
    if not SYSTEM_PYTHON.exists():
        return f"{SYSTEM_PYTHON} (a Python other users can run) is not installed"
    check = subprocess.run(
        [str(SYSTEM_PYTHON), "-c", "import sqlite3"], capture_output=True, check=False
    )
    if check.returncode != 0:
        return f"{SYSTEM_PYTHON} has no sqlite3 module"
    return None


def _ensure_users() -> None:
    if subprocess.run(["getent", "group", GROUP], capture_output=True).returncode != 0:
        subprocess.run(["groupadd", GROUP], check=True)
    for user, groups in ((OWNER, [GROUP]), (READER, [GROUP]), (OUTSIDER, [])):
        try:
            pwd.getpwnam(user)
        except KeyError:
            extra = ["-G", ",".join(groups)] if groups else []
            subprocess.run(
                ["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", *extra, user],
                check=True,
            )


@pytest.fixture
def shared(request: pytest.FixtureRequest) -> Iterator[Path]:
    """A clinic folder shared by the group, as docs/reliability.md says to make it, in a
    folder every user can enter (pytest's own tmp folders are root's alone)."""
    why = _why_not_two_users()
    if why is not None:
        pytest.skip(why)
    _ensure_users()
    base = Path(tempfile.mkdtemp(prefix="ketaplan-share-", dir="/tmp"))
    base.chmod(0o755)
    folder = base / "clinic"
    folder.mkdir()
    os.chown(folder, 0, grp.getgrnam(GROUP).gr_gid)
    folder.chmod(request.param)
    config = CLINIC + f'[book]\npath = "{folder}/book.sqlite"\ngroup = "{GROUP}"\n'
    (base / "ketaplan.toml").write_text(config, encoding="utf-8")
    try:
        yield base
    finally:
        shutil.rmtree(base)


def as_user(user: str, base: Path, code: str, *args: str) -> subprocess.CompletedProcess[str]:
    site = next(Path(sys.prefix, "lib").glob("python3*/site-packages"))
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": f"{ROOT / 'src'}:{site}",
        "TZ": "UTC",
        "NO_COLOR": "1",
        "HOME": str(base),
    }
    switch = ["setpriv", f"--reuid={user}", f"--regid={user}", "--init-groups", "--"]
    return subprocess.run(
        [*switch, str(SYSTEM_PYTHON), "-c", code, *args],
        cwd=base,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


@pytest.mark.parametrize(
    "shared", [0o2770, 0o770], ids=["setgid-folder", "plain-folder"], indirect=True
)
def test_a_shared_book_works_for_every_member_whoever_opened_it_last(shared: Path) -> None:
    book = shared / "clinic" / "book.sqlite"
    first = as_user(OWNER, shared, RUN_KETAPLAN, *BOOK, "P-001")
    assert (first.returncode, first.stderr) == (
        0,
        f"Created a new clinic book at {book}\nBook: {book} · clinic Ketamine clinic\n"
        f"Stored the clinic Ketamine clinic in the book {book} (settings from ketaplan.toml)\n",
    )
    clinic_gid = grp.getgrnam(GROUP).gr_gid
    assert (mode(book), book.stat().st_gid) == (0o660, clinic_gid)

    died = as_user(READER, shared, READ_AND_DIE, str(book))
    assert died.returncode == 0, died.stderr
    reader_uid = pwd.getpwnam(READER).pw_uid
    for suffix in ("-wal", "-shm"):
        left = Path(f"{book}{suffix}").stat()
        assert left.st_uid == reader_uid, suffix
        assert (stat.S_IMODE(left.st_mode), left.st_gid) == (0o660, clinic_gid), suffix

    # The owner's next booking: once "attempt to write a readonly database".
    second = as_user(OWNER, shared, RUN_KETAPLAN, *BOOK, "P-002")
    said = f"Book: {book} · clinic Ketamine clinic\n"  # which book, and nothing else
    assert (second.returncode, second.stderr) == (0, said)
    by_reader = as_user(READER, shared, RUN_KETAPLAN, *BOOK, "P-003")
    assert (by_reader.returncode, by_reader.stderr) == (0, said)
    agenda = as_user(OWNER, shared, RUN_KETAPLAN, "agenda", "--week", "2030-01-07")
    assert agenda.returncode == 0
    assert {"P-001", "P-002", "P-003"} <= set(agenda.stdout.split())


@pytest.mark.parametrize("shared", [0o2770], indirect=True)
def test_one_who_cannot_use_the_book_is_told_which_file_and_permission(shared: Path) -> None:
    book = shared / "clinic" / "book.sqlite"
    assert as_user(OWNER, shared, RUN_KETAPLAN, *BOOK, "P-001").returncode == 0
    before = book.read_bytes()

    outsider = as_user(OUTSIDER, shared, RUN_KETAPLAN, "agenda", "--week", "2030-01-07")
    assert (outsider.returncode, outsider.stdout) == (1, "")
    assert outsider.stderr == (
        f"Error: cannot use the book {book}: you need permission to open its folder "
        f"{book.parent} (read and execute; ask its owner to add you to the book's group)\n"
    )

    book.chmod(0o640)  # the owner took the group's write permission away
    reader = as_user(READER, shared, RUN_KETAPLAN, *BOOK, "P-002")
    assert (reader.returncode, reader.stdout) == (1, "")
    assert reader.stderr == (
        f"Error: cannot use the book {book}: you need read and write permission on it (its "
        "owner can share it with a group: [book] group in ketaplan.toml)\n"
    )

    book.chmod(0o660)
    (book.parent).chmod(0o2750)  # the group may no longer make files in the folder
    reader = as_user(READER, shared, RUN_KETAPLAN, *BOOK, "P-002")
    assert reader.stderr == (
        f"Error: cannot use the book {book}: you need write permission on its folder "
        f"{book.parent} (SQLite keeps the book's -wal and -shm files beside it)\n"
    )
    assert book.read_bytes() == before
