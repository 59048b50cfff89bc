"""Atomic writes: the new file whole, or the old file untouched, and never a temporary
file left behind. Failures are real ones (a missing directory, a file size limit), not
mocks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ketaplan.errors import OutputError
from ketaplan.formats.files import write_output

OURS = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//ketaplan//ketaplan 0.1.0//EN\r\n"

# Runs write_output under a 1,000-byte file size limit, so the write itself fails midway.
SIZE_LIMITED = """\
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (1000, 1000))
{body}
"""


def run_size_limited(body: str, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", SIZE_LIMITED.format(body=body), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


@pytest.mark.parametrize("umask", [0o022, 0o002, 0o077])
def test_a_new_file_is_readable_by_its_owner_only_whatever_the_umask(
    tmp_path: Path, umask: int
) -> None:
    # A calendar or a handout names a patient and their treatment: health data.
    old = os.umask(umask)
    try:
        write_output(tmp_path / "a.ics", b"BEGIN:VCALENDAR\r\n")
    finally:
        os.umask(old)
    assert (tmp_path / "a.ics").read_bytes() == b"BEGIN:VCALENDAR\r\n"
    assert (tmp_path / "a.ics").stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.ics"]


def test_replaces_an_old_file_and_keeps_its_permissions(tmp_path: Path) -> None:
    target = tmp_path / "a.ics"
    target.write_bytes(OURS)
    target.chmod(0o640)
    write_output(str(target), b"new")
    assert target.read_bytes() == b"new"
    assert target.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.ics"]


def test_a_symlink_keeps_pointing_at_the_replaced_file(tmp_path: Path) -> None:
    (tmp_path / "synced").mkdir()
    real = tmp_path / "synced" / "a.ics"
    real.write_bytes(OURS + b"a longer old calendar than the new one\r\n")
    (tmp_path / "link.ics").symlink_to(real)
    write_output(tmp_path / "link.ics", b"new")
    assert (tmp_path / "link.ics").is_symlink()
    assert real.read_bytes() == b"new"
    assert sorted(p.name for p in (tmp_path / "synced").iterdir()) == ["a.ics"]


def test_a_dash_writes_the_bytes_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    print("before")
    write_output("-", "X:ä\r\n".encode())
    assert capsys.readouterr().out == "before\nX:ä\r\n"


def test_a_missing_directory_is_one_clear_error_and_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(OutputError) as caught:
        write_output(tmp_path / "nope" / "a.ics", b"x")
    assert str(caught.value) == f"cannot write {tmp_path}/nope/a.ics: the directory does not exist"
    assert list(tmp_path.iterdir()) == []


def test_a_file_in_the_path_is_named_as_the_reason(tmp_path: Path) -> None:
    (tmp_path / "plain").write_bytes(b"")
    with pytest.raises(OutputError, match=r"a part of the path is not a directory$"):
        write_output(tmp_path / "plain" / "a.ics", b"x")
    assert [p.name for p in tmp_path.iterdir()] == ["plain"]


def test_a_directory_is_never_replaced(tmp_path: Path) -> None:
    (tmp_path / "cal").mkdir()
    with pytest.raises(OutputError, match=r"cal: it is a directory$"):
        write_output(tmp_path / "cal", b"x")
    assert (tmp_path / "cal").is_dir()
    assert [p.name for p in tmp_path.iterdir()] == ["cal"]


def test_an_empty_path_is_refused() -> None:
    with pytest.raises(OutputError, match="empty name"):
        write_output("", b"x")


def test_a_write_that_fails_midway_leaves_the_old_file_and_no_temporary_file(
    tmp_path: Path,
) -> None:
    (tmp_path / "a.ics").write_bytes(OURS)
    body = (
        "from ketaplan.formats.files import write_output\n"
        "from ketaplan.errors import OutputError\n"
        "try:\n"
        "    write_output('a.ics', b'x' * 5000)\n"
        "except OutputError as exc:\n"
        "    print(exc)\n"
    )
    proc = run_size_limited(body, tmp_path)
    assert proc.stdout == "cannot write a.ics: the file is larger than this system allows\n"
    assert (tmp_path / "a.ics").read_bytes() == OURS
    assert [p.name for p in tmp_path.iterdir()] == ["a.ics"]
