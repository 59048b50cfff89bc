"""Reading input files with one friendly error each, and writing output files so that a
failure never leaves half a file or clobbers the old one.

`read_text` and `read_toml` name the file and what it is for (`roster`, `config file`)
in every refusal: missing, unreadable, not UTF-8, not valid TOML.

`write_atomic` writes to a temporary file in the target's own directory (so the final
rename never crosses a file system), fsyncs it and renames it over the target with
`os.replace`, which is atomic on POSIX and Windows: a reader sees the old file or the new
one, never a mix. `-` means standard output.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from ketaplan.errors import OutputError, UsageError

STDOUT = "-"

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
}


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
        raise UsageError(f"cannot read {what} {path}: {_reason(exc)}") from None


def read_toml(path: Path, what: str) -> dict[str, Any]:
    """The tables of a TOML input file, or UsageError as `read_text` says, or `{what}
    {path} is not valid TOML: where`."""
    import tomllib  # only commands that read a TOML file pay for the parser

    text = read_text(path, what)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{what} {path} is not valid TOML: {exc}") from None


def write_atomic(path: str | Path, data: bytes) -> None:
    """Write `data` to `path` atomically, or to standard output when `path` is `-`.

    Raises OutputError (one line, naming the path and why) when the file cannot be
    written; the old file, if any, is then untouched and no temporary file is left.
    """
    if str(path) == STDOUT:
        _write_stdout(data)
        return
    if not str(path):
        raise OutputError("cannot write a file with an empty name")
    target = Path(path)
    try:
        _replace(target, data)
    except OSError as exc:
        raise OutputError(f"cannot write {target}: {_reason(exc)}") from None


def _write_stdout(data: bytes) -> None:
    sys.stdout.flush()
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:
        # A text-only stream (some embedders): the bytes are UTF-8 by contract.
        sys.stdout.write(data.decode("utf-8"))
    else:
        buffer.write(data)
        buffer.flush()


def _replace(target: Path, data: bytes) -> None:
    if target.is_symlink():
        # Replace the file the link points to, not the link (a calendar kept in a
        # synced folder and linked from elsewhere stays linked).
        target = target.resolve()
    directory = target.parent
    if target.is_dir():
        # os.replace would report this only after the temporary file was written.
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(target))
    mode = _mode_for(target)
    fd, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        # mkstemp makes 0600 files; keep the old file's mode, or what open() would give.
        # A file system without modes (FAT, some network shares) is no reason to fail.
        with contextlib.suppress(OSError):
            os.chmod(temp_name, mode)
        os.replace(temp_name, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp_name)
        raise
    _sync_directory(directory)


def _mode_for(target: Path) -> int:
    try:
        return target.stat().st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


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


def _reason(exc: OSError) -> str:
    if exc.errno in _REASONS:
        return _REASONS[exc.errno]
    text = exc.strerror or str(exc) or type(exc).__name__
    return " ".join(text.split()).lower()
