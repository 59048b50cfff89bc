"""The calendar UIDs a book's sessions carry, computed from the book file itself (its
clinic id and each session's key), to check exports against."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from ketaplan.formats.calendars import UidKind, event_uid


def clinic_id(book: Path) -> str:
    db = sqlite3.connect(book)
    try:
        (value,) = db.execute("SELECT clinic_id FROM book_info").fetchone()
    finally:
        db.close()
    return str(value)


def book_uid(book: Path, kind: UidKind, key: object) -> str:
    """The `kind` event UID of the session whose book key is `key`."""
    return event_uid(clinic_id(book), kind, str(key))
