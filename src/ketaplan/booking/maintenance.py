"""Looking after the clinic book: a backup copy made while others book, and a check."""

from __future__ import annotations

from pathlib import Path

from ketaplan.errors import BookError
from ketaplan.formats.files import replacing
from ketaplan.store import BookCheck, backup_book, check_book

# A copy holds the same health data as the book: its owner's alone, whatever the umask.
BACKUP_MODE = 0o600


def back_up(book: Path, target: Path, *, force: bool = False) -> BookCheck:
    """Copy `book` to `target` (mode 0600), replacing it atomically: an old backup is
    replaced only with `force`, the book itself never. A copy that fails its integrity
    check is not kept."""
    protected = (book, *(Path(f"{book}{suffix}") for suffix in ("-wal", "-shm")))
    with replacing(target, force=force, protected=protected, mode=BACKUP_MODE) as temp:
        found = backup_book(book, temp)
        if found.problems:
            raise BookError(
                f"the copy of {book} fails SQLite's integrity check ({found.problems[0]}); "
                f"{target} was not written: run `ketaplan admin check`"
            )
    return found


def check(book: Path) -> BookCheck:
    """SQLite's integrity check of `book`; reads only."""
    return check_book(book)
