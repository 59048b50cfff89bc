"""The clinic book: every booked course and session, kept between runs.

Nothing above this package writes SQL. Commands talk to a `Book` (reading) and, inside
`Book.writing()`, to a `BookWriter` (one write transaction: everything read in it stays
true until it commits, and a failure leaves the book exactly as it was). The records
going in and out are frozen dataclasses with aware datetimes.

`open_book(path)` opens the embedded SQLite book (`sqlite.py`); `open_book(url)` with a
`postgresql://` URL opens a clinic network's book on a PostgreSQL server (`postgres.py`),
loaded only then. Both share every query (`base.py`). A book holds its clinics (the
`clinic` table: one in a file, any number in a PostgreSQL book), and every course,
session, screening and enrollment belongs to one of them; a `Book` is one clinic's.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from ketaplan.model.protocol import Location, Route
from ketaplan.model.records import (
    Attendance,
    BookState,
    ChairUse,
    ClinicRecord,
    CourseRecord,
    CourseStatus,
    EnrollmentRecord,
    FeedKind,
    FeedRecord,
    FormFiled,
    HistoryEntry,
    InductionState,
    NewCourse,
    NewSession,
    ScreeningRecord,
    SessionChange,
    SessionRecord,
)

if TYPE_CHECKING:
    from ketaplan.store.base import Clinic, Dialect


@dataclass(frozen=True)
class BookCheck:
    """What an integrity check of the book found.

    Attributes:
        problems: SQLite's integrity and foreign-key findings; empty when intact.
        courses: courses in the book.
        sessions: session rows in the book, every status.
        screenings: screenings stored.
        one_patient: the stored spellings of each code that has more than one active
            course (books from before codes had one spelling), to be resolved by hand.
    """

    problems: tuple[str, ...]
    courses: int
    sessions: int
    screenings: int
    one_patient: tuple[tuple[str, ...], ...] = ()


class Book(Protocol):
    """Reading the book, and opening write transactions on it."""

    @property
    def location(self) -> str:
        """Where the book is, for messages."""
        ...

    @property
    def created(self) -> bool:
        """Whether opening it made a new book (the command says so)."""
        ...

    @property
    def notices(self) -> tuple[str, ...]:
        """What opening changed that the user should hear of (a mode tightened)."""
        ...

    def active_course(self, patient: str) -> CourseRecord | None: ...

    def course_sessions(self, course_id: int) -> list[SessionRecord]:
        """All sessions of a course, in number order, every status."""
        ...

    def sessions_between(
        self, first: datetime, last: datetime, *, location: Location | None = None
    ) -> list[SessionRecord]:
        """Sessions starting at or after `first` and before `last`, every status, ordered
        by start, chair and patient."""
        ...

    def calendar_sessions(
        self,
        first: datetime,
        last: datetime,
        *,
        location: Location | None = None,
        route: Route | None = None,
    ) -> Iterator[SessionRecord]:
        """Like `sessions_between`, streamed row by row, and each uid once (a uid booked
        again after a cancellation is one calendar event): its live row, else its latest
        cancelled revision; `route` keeps only the sessions of courses of that route."""
        ...

    def latest_screening(self, patient: str) -> ScreeningRecord | None:
        """The patient's latest screening: latest date, then latest recorded."""
        ...

    def session_records(self, course_id: int) -> list[Attendance]:
        """Everything recorded at the course's sessions, oldest first (superseded too)."""
        ...

    def patient_sessions(self, patient: str) -> list[SessionRecord]:
        """Every session of every course of the patient, by start, every status."""
        ...

    def history(self, patient: str) -> list[HistoryEntry]:
        """Every change to the patient's courses, oldest first."""
        ...

    def forms_filed(self, session_ids: Sequence[int]) -> dict[int, FormFiled]:
        """The latest REMS form filed for each of these sessions that has one."""
        ...

    def attended_sessions(
        self, first: datetime, last: datetime, *, route: Route
    ) -> list[SessionRecord]:
        """Attended clinic sessions of a route starting in [first, last), by start."""

    def state(self) -> BookState:
        """The clinic id and the change counter: one row, read before anything else."""
        ...

    def feeds(self) -> list[FeedRecord]:
        """Every calendar feed ever made, in the order made."""
        ...

    def feed_for_token(self, token: str) -> FeedRecord | None:
        """The feed whose token this is (compared by hash), whatever its state."""
        ...

    def enrollment(self, patient: str) -> EnrollmentRecord | None:
        """The patient's REMS enrollment: the one recorded last (a later record corrects
        an earlier one)."""
        ...

    def clinic(self) -> ClinicRecord | None:
        """The clinic the book is kept for; None for a book made before books carried
        their clinic."""
        ...

    def clinic_history(self) -> list[ClinicRecord]:
        """Every version of the clinic's settings stored, oldest first."""
        ...

    def snapshot(self) -> AbstractContextManager[None]:
        """Reads in the block see one state of the book, whatever others write meanwhile."""
        ...

    def writing(self) -> AbstractContextManager[BookWriter]:
        """One write transaction: commits when the block ends, rolls back on any error.
        Two processes never write at once; the second waits for the first."""
        ...

    def close(self) -> None: ...


class BookWriter(Protocol):
    """What a write transaction can do. Reads in it see its own writes."""

    def active_course(self, patient: str) -> CourseRecord | None: ...

    def savepoint(self) -> AbstractContextManager[None]:
        """Undo what the block wrote when it raises; the transaction goes on."""
        ...

    def chairs_held(self, first: datetime, last: datetime) -> list[ChairUse]:
        """Chair times of clinic sessions holding a chair (not cancelled) that start in
        [first, last): one indexed query, for the capacity engine."""
        ...

    def add_course(self, course: NewCourse, sessions: Sequence[NewSession]) -> CourseRecord:
        """Book a course and its sessions, as the patient's active course."""
        ...

    def cancel_course(self, course_id: int, since: datetime) -> int:
        """Make a course inactive and cancel its booked sessions starting at or after
        `since` (never deleted); returns how many were cancelled."""
        ...

    def latest_screening(self, patient: str) -> ScreeningRecord | None: ...

    def add_screening(self, screening: ScreeningRecord) -> None:
        """Store a screening; earlier ones are kept."""
        ...

    def enrollment(self, patient: str) -> EnrollmentRecord | None: ...

    def add_sessions(self, course_id: int, zone: str, sessions: Sequence[NewSession]) -> None:
        """Book more sessions into a course; BookError when a uid is live already."""
        ...

    def course_sessions(self, course_id: int) -> list[SessionRecord]: ...

    def session_records(self, course_id: int) -> list[Attendance]: ...

    def record_session(self, entry: Attendance) -> None:
        """Store what happened at a session and set the session's status to it."""
        ...

    def change_session(self, change: SessionChange) -> None:
        """Re-place a booked session: same uid, raised sequence."""
        ...

    def cancel_sessions(self, session_ids: Sequence[int]) -> None:
        """Cancel booked sessions (kept, never deleted), raising their sequence."""
        ...

    def set_course_state(
        self,
        course_id: int,
        status: CourseStatus,
        induction: InductionState | None,
        induction_since: date | None,
    ) -> None: ...

    def add_history(self, entry: HistoryEntry) -> None:
        """Append one change to the history; nothing in it is ever edited."""
        ...

    def forms_filed(self, session_ids: Sequence[int]) -> dict[int, FormFiled]: ...

    def file_form(self, form: FormFiled) -> None:
        """Record a REMS monitoring form as submitted; earlier records are kept."""
        ...

    def record_enrollment(self, enrollment: EnrollmentRecord) -> None:
        """Record a REMS enrollment; earlier records are kept, the last one counts."""
        ...

    def clinic(self) -> ClinicRecord | None: ...

    def save_clinic(self, clinic: ClinicRecord) -> None:
        """Store the clinic's settings (new, or replacing its current ones) and add them,
        with their time, author and source, to the clinic's history."""
        ...

    def add_feed(
        self,
        token: str,
        kind: FeedKind,
        patient: str | None,
        created: datetime,
        expires: datetime | None,
    ) -> FeedRecord:
        """Keep a new feed; only the token's SHA-256 is stored."""
        ...

    def revoke_feed(self, feed_id: int, when: datetime) -> FeedRecord | None:
        """Revoke a feed (kept, never deleted; revoking twice keeps the first time);
        None when there is no such feed."""
        ...


def is_url(target: str | Path) -> bool:
    """Whether `target` names a PostgreSQL book rather than a file."""
    return isinstance(target, str) and target.startswith(("postgresql://", "postgres://"))


def open_book(
    target: str | Path,
    *,
    create: bool = True,
    group: str | None = None,
    clinic: str | None = None,
) -> Book:
    """Open the book at `target` (a file, or a `postgresql://` URL), creating it (and
    upgrading an older one) as needed, for the clinic named `clinic` (None: the book's
    only clinic; a clinic the book lacks is stored by the first write, with `create`). A
    new book file is its
    owner's alone, or shared with `group` (the config's `[book] group`).

    Raises BookError, leaving the book untouched, when it is not a ketaplan book or was
    written by a newer ketaplan; with `create=False`, when there is no book yet.
    """
    if is_url(target):
        # psycopg loads only for a PostgreSQL book: SQLite commands never pay for it.
        from ketaplan.store.postgres import open_book as open_postgres

        return open_postgres(str(target), create=create, clinic=clinic)
    from ketaplan.store.sqlite import open_book as open_sqlite

    return open_sqlite(Path(target), create=create, group=group, clinic=clinic)


def make_book_folder(folder: Path, group: str | None = None) -> str | None:
    """Make the folder for a new book: its owner's alone, or the group's; an existing one
    loses other users' permissions. Returns a notice of what was changed, if anything."""
    from ketaplan.store.sqlite import make_folder

    return make_folder(folder, group)


def backup_book(path: Path, target: str) -> BookCheck:
    """Copy the book into the empty file `target` while others may book (SQLite's online
    backup), and check the copy."""
    from ketaplan.store.sqlite import backup_book as backup

    return backup(path, target)


def check_book(path: Path) -> BookCheck:
    """The book's integrity check, changing nothing."""
    from ketaplan.store.sqlite import check_book as check

    return check(path)


def _open_dialect(target: str | Path, *, create: bool, migrate: bool) -> Dialect:
    if is_url(target):
        # As in open_book: psycopg only for a PostgreSQL book.
        from ketaplan.store.postgres import open_dialect as open_postgres

        return open_postgres(str(target), create=create, migrate=migrate)[0]
    from ketaplan.store.sqlite import open_dialect as open_sqlite

    return open_sqlite(Path(target), create=create, migrate=migrate).dialect


def copy_book(source: str | Path, target: str | Path) -> tuple[str, str, dict[str, int]]:
    """Copy the whole book at `source` (every clinic) into a new, empty book at `target`,
    in one transaction of the target, comparing the counts before it commits. Nothing is
    written to the source. Returns both locations and the rows copied per table."""
    from ketaplan.store.base import copy_book as copy

    src = _open_dialect(source, create=False, migrate=False)
    try:
        dst = _open_dialect(target, create=True, migrate=True)
        try:
            return src.location, dst.location, copy(src, dst)
        finally:
            dst.close()
    finally:
        src.close()


def clinics(target: str | Path) -> tuple[str, list[Clinic]]:
    """The book's location and its clinics, in id order."""
    from ketaplan.store.base import clinics as listed

    book = _open_dialect(target, create=False, migrate=True)
    try:
        return book.location, listed(book)
    finally:
        book.close()


__all__ = [
    "Book",
    "BookCheck",
    "BookWriter",
    "backup_book",
    "check_book",
    "clinics",
    "copy_book",
    "is_url",
    "make_book_folder",
    "open_book",
]
