"""Reading input files with one friendly error each, and the one writer every output
path goes through.

`read_text` and `read_toml` name the file and what it is for (`roster`, `config file`)
in every refusal: missing, unreadable, not UTF-8, not valid TOML.

What `write_output` will replace (everything else is refused with one line, the old file
untouched):

- a path that does not exist yet;
- an empty file, or a calendar file ketaplan wrote (recognised by its PRODID);
- any other existing regular file only with `force` (the caller's `--force`);
- never the clinic book in use (`protected`), nor any SQLite file without `force`.

A character device or a FIFO (`/dev/stdout`, a named pipe) is written directly, as
asked; any other non-regular file (a directory, a socket, a block device) is refused.
Links are never resolved here: the kernel opens the final path, so the platform's own
protections (Linux's protected_symlinks in sticky folders) apply, and a dangling link is
refused. A calendar reached through a link is rewritten in place, the link kept, with
its space reserved first so that a full disk cannot leave half of it.

A regular file is written to a temporary file in the target's own directory (so the
rename never crosses a file system), fsynced and renamed over the target with
`os.replace`: a reader sees the old file or the new one, never a mix. `-` means standard
output.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from ketaplan.errors import OutputError, UsageError

# Every new file ketaplan writes: read and write for its owner only.
NEW_FILE_MODE = 0o600
STDOUT = "-"
T = TypeVar("T")
Writer = Callable[[bytes], object]
SQLITE_MAGIC = b"SQLite format 3\x00"
# How ketaplan's calendars begin and how they name their maker (formats/ics.py's PRODID).
_CALENDAR_START = b"BEGIN:VCALENDAR"
_OUR_PRODID = b"PRODID:-//ketaplan//"
_SNIFF_BYTES = 4096


class Ours:
    """How to tell an existing file ketaplan wrote, which may be replaced without --force.
    (A plain class: this module loads on every command, a dataclass costs start-up time.)

    Attributes:
        what: the kind of file, for messages (`calendar`, `handout`).
        test: whether the file's bytes are ketaplan's.
        whole: the test needs the whole file, not its first 4 KiB.
    """

    __slots__ = ("test", "what", "whole")

    def __init__(self, what: str, test: Callable[[bytes], bool], *, whole: bool = False):
        self.what = what
        self.test = test
        self.whole = whole


def _our_calendar(head: bytes) -> bool:
    return head.lstrip(b"\xef\xbb\xbf").startswith(_CALENDAR_START) and _OUR_PRODID in head


CALENDAR = Ours("calendar", _our_calendar)

# Plain words for the failures a coordinator can fix; anything else uses the OS's text.
_REASONS = {
    errno.ENOENT: "the directory does not exist",
    errno.ENOTDIR: "a part of the path is not a directory",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.EISDIR: "it is a directory",
    errno.EROFS: "the file system is read-only",
    errno.ENOSPC: "no space left on the device",
    errno.EFBIG: "the file is larger than this system allows",
    errno.EDQUOT: "disk quota exceeded",
    errno.ENAMETOOLONG: "the file name is too long",
    errno.ELOOP: "too many levels of links",
    errno.EPIPE: "the reader has gone away",
}


def reason(exc: OSError) -> str:
    """An OSError in plain words, for one-line messages."""
    if exc.errno in _REASONS:
        return _REASONS[exc.errno]
    text = exc.strerror or str(exc) or type(exc).__name__
    return " ".join(text.split()).lower()


def read_text(path: Path, what: str, *, encoding: str = "utf-8") -> str:
    """The text of an input file, or UsageError: `{what} {path} does not exist`, `... is
    not UTF-8 text`, or `cannot read {what} {path}: reason`."""
    try:
        return path.read_text(encoding=encoding)
    except FileNotFoundError:
        raise UsageError(f"{what} {path} does not exist") from None
    except UnicodeDecodeError:
        raise UsageError(f"{what} {path} is not UTF-8 text") from None
    except OSError as exc:
        raise UsageError(f"cannot read {what} {path}: {reason(exc)}") from None


def read_bytes(path: Path, what: str) -> bytes:
    """The bytes of an input file, or UsageError as `read_text` says."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise UsageError(f"{what} {path} does not exist") from None
    except OSError as exc:
        raise UsageError(f"cannot read {what} {path}: {reason(exc)}") from None


def read_toml(path: Path, what: str) -> dict[str, Any]:
    """The tables of a TOML input file, or UsageError as `read_text` says, or `{what}
    {path} is not valid TOML: where`."""
    import tomllib  # only commands that read a TOML file pay for the parser

    text = read_text(path, what)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{what} {path} is not valid TOML: {exc}") from None


def write_output(
    path: str | Path,
    data: bytes,
    *,
    force: bool = False,
    protected: Iterable[Path] = (),
    ours: Ours = CALENDAR,
) -> None:
    """Write `data` to `path` (see the module docstring), or to standard output for `-`.
    `ours` tells the files ketaplan wrote of this kind (default: calendars).

    Raises OutputError (one line, naming the path and why) when the file may not or
    cannot be written; the old file, if any, is then untouched and no temporary file is
    left.
    """
    if str(path) == STDOUT:
        write_stdout(data)
        return
    if not str(path):
        raise OutputError("cannot write a file with an empty name")
    target = Path(path)
    try:
        kind = _target_kind(target, force=force, protected=protected, ours=ours)
        if kind == "new" or kind == "regular":
            with replacing(target, force=force, protected=protected, checked=True) as temp:
                _write_new(temp, data)
        elif kind == "device":
            _write_device(target, data)
        else:
            _rewrite_through_link(target, data, force=force, protected=protected, ours=ours)
    except OSError as exc:
        raise OutputError(f"cannot write {target}: {reason(exc)}") from None


def write_output_stream(
    path: str | Path,
    produce: Callable[[Writer], T],
    *,
    force: bool = False,
    protected: Iterable[Path] = (),
    ours: Ours = CALENDAR,
) -> T:
    """Like `write_output`, for output made piece by piece (a year's calendar of a large
    clinic): `produce` is handed a write function, and its result is returned. A new or
    regular file gets the pieces straight in its temporary file, so they are never all in
    memory; standard output, a device or a file reached through a link gets them joined
    first. Nothing replaces the old file unless `produce` returns."""
    if str(path) != STDOUT and str(path):
        target = Path(path)
        try:
            kind = _target_kind(target, force=force, protected=protected, ours=ours)
            if kind == "new" or kind == "regular":
                with (
                    replacing(target, force=force, protected=protected, checked=True) as temp,
                    open(temp, "wb", buffering=1 << 20) as handle,
                ):
                    result = produce(handle.write)
                    handle.flush()
                    os.fsync(handle.fileno())
                return result
        except OSError as exc:
            raise OutputError(f"cannot write {target}: {reason(exc)}") from None
    chunks: list[bytes] = []
    result = produce(chunks.append)
    write_output(path, b"".join(chunks), force=force, protected=protected, ours=ours)
    return result


def write_stdout(data: bytes) -> None:
    """The bytes on standard output; a full disk or a closed pipe is one line, not a
    traceback (a closed pipe is re-raised as BrokenPipeError for the CLI to end quietly)."""
    try:
        sys.stdout.flush()
        buffer = getattr(sys.stdout, "buffer", None)
        if buffer is None:
            # A text-only stream (some embedders): the bytes are UTF-8 by contract.
            sys.stdout.write(data.decode("utf-8"))
            sys.stdout.flush()
        else:
            buffer.write(data)
            buffer.flush()
    except BrokenPipeError:
        raise
    except OSError as exc:
        raise OutputError(f"cannot write to standard output: {reason(exc)}") from None


@contextlib.contextmanager
def replacing(
    target: Path,
    *,
    force: bool = False,
    protected: Iterable[Path] = (),
    mode: int | None = None,
    checked: bool = False,
) -> Iterator[str]:
    """A temporary file's name in `target`'s directory; when the block ends without an
    error it is fsynced and renamed over `target`, else removed. `mode` is the new
    file's mode (default: the old file's, or its owner's only (0600)). For writers that
    need a path rather than bytes (SQLite's backup)."""
    if not checked:
        try:
            kind = _target_kind(target, force=force, protected=protected)
        except OSError as exc:
            raise OutputError(f"cannot write {target}: {reason(exc)}") from None
        if kind not in ("new", "regular"):
            raise OutputError(f"cannot write {target}: it is not a regular file")
    import tempfile  # random and friends: only when a file is written, never for a plan

    final_mode = _mode_for(target) if mode is None else mode
    try:
        fd, temp_name = tempfile.mkstemp(
            prefix=f".{target.name}.", suffix=".tmp", dir=target.parent
        )
        os.close(fd)
    except OSError as exc:
        raise OutputError(f"cannot write {target}: {reason(exc)}") from None
    try:
        # mkstemp makes 0600 files; a file system without modes is no reason to fail.
        with contextlib.suppress(OSError):
            os.chmod(temp_name, final_mode)
        yield temp_name
        os.replace(temp_name, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp_name)
        raise
    _sync_directory(target.parent)


def _target_kind(
    target: Path, *, force: bool, protected: Iterable[Path], ours: Ours = CALENDAR
) -> str:
    """new, regular (replace atomically), device (write directly) or link (to a regular
    file: rewrite in place); raises OutputError for what must not be written."""
    try:
        info = os.lstat(target)
    except FileNotFoundError:
        if not target.parent.is_dir():
            raise
        return "new"
    if _is_protected(info, protected):
        raise OutputError(f"{target} is the clinic book in use; it is never replaced")
    if stat.S_ISLNK(info.st_mode):
        try:
            followed = os.stat(target)
        except FileNotFoundError:
            raise OutputError(
                f"{target} is a link to a file that does not exist; give the file itself"
            ) from None
        if _is_protected(followed, protected):
            raise OutputError(f"{target} leads to the clinic book in use; it is never replaced")
        if stat.S_ISREG(followed.st_mode):
            return "link"
        info = followed
    if stat.S_ISDIR(info.st_mode):
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(target))
    if stat.S_ISCHR(info.st_mode) or stat.S_ISFIFO(info.st_mode):
        return "device"
    if not stat.S_ISREG(info.st_mode):
        raise OutputError(f"{target} is {_kind_name(info.st_mode)}, not a file; not written")
    with open(target, "rb") as handle:
        head = handle.read() if ours.whole else handle.read(_SNIFF_BYTES)
    _check_replaceable(target, head, force=force, ours=ours)
    return "regular"


def _check_replaceable(target: Path, head: bytes, *, force: bool, ours: Ours) -> None:
    if not head or force:
        return
    if head.startswith(SQLITE_MAGIC):
        raise OutputError(
            f"{target} is an SQLite database (a clinic book?); not replaced: choose another "
            "name, or give --force"
        )
    if ours.test(head):
        return
    raise OutputError(
        f"{target} exists and is not a {ours.what} ketaplan wrote; not replaced: choose "
        "another name, or give --force to replace it"
    )


def _is_protected(info: os.stat_result, protected: Iterable[Path]) -> bool:
    for path in protected:
        try:
            other = os.stat(path)
        except OSError:
            continue
        if (other.st_dev, other.st_ino) == (info.st_dev, info.st_ino):
            return True
    return False


def _kind_name(mode: int) -> str:
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISBLK(mode):
        return "a block device"
    return "not a regular file"


def _write_new(temp_name: str, data: bytes) -> None:
    with open(temp_name, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _write_device(target: Path, data: bytes) -> None:
    """A character device or FIFO, opened as it is (no truncation, no creation)."""
    fd = os.open(target, os.O_WRONLY | os.O_NOCTTY)
    try:
        mode = os.fstat(fd).st_mode
        if not (stat.S_ISCHR(mode) or stat.S_ISFIFO(mode)):
            raise OutputError(f"{target} changed while it was being opened; not written")
        _write_all(fd, data)
    finally:
        os.close(fd)


def _rewrite_through_link(
    target: Path, data: bytes, *, force: bool, protected: Iterable[Path], ours: Ours
) -> None:
    """A regular file reached through a link: opened by the kernel (its link protections
    apply), checked, its space reserved, then rewritten in place; the link stays."""
    fd = os.open(target, os.O_RDWR | os.O_NOCTTY)
    try:
        info = os.fstat(fd)
        if _is_protected(info, protected):
            raise OutputError(f"{target} leads to the clinic book in use; it is never replaced")
        if not stat.S_ISREG(info.st_mode):
            raise OutputError(f"{target} changed while it was being opened; not written")
        size = info.st_size if ours.whole else _SNIFF_BYTES
        _check_replaceable(target, os.pread(fd, size, 0), force=force, ours=ours)
        if data and hasattr(os, "posix_fallocate"):
            # A full disk fails here, before a byte of the old calendar is overwritten.
            os.posix_fallocate(fd, 0, len(data))
        os.lseek(fd, 0, os.SEEK_SET)
        _write_all(fd, data)
        os.ftruncate(fd, len(data))
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _mode_for(target: Path) -> int:
    """A file written again keeps its mode (a clinic that shares a calendar folder sets
    it once); a new one is its owner's only: what ketaplan writes names patients and
    their treatment, which is health data."""
    try:
        return os.stat(target).st_mode & 0o7777
    except OSError:
        return NEW_FILE_MODE


def _sync_directory(directory: Path) -> None:
    """Make the rename itself durable; not every platform can open a directory."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)
