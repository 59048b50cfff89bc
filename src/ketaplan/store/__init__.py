"""The clinic book: every booked course and session, kept between runs.

Nothing above this package writes SQL. Commands talk to a `Book` (reading) and, inside
`Book.writing()`, to a `BookWriter` (one write transaction: everything read in it stays
true until it commits, and a failure leaves the book exactly as it was). The records
going in and out are frozen dataclasses with aware datetimes.

`open_book(path)` opens the embedded SQLite book (`sqlite.py`); a clinic network could
later add a PostgreSQL implementation of the same two protocols and choose it here.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Literal, Protocol

from ketaplan.booking import ChairUse
from ketaplan.protocols import Location, Route

SessionStatus = Literal["booked", "attended", "missed", "cancelled"]
STATUSES: tuple[SessionStatus, ...] = ("booked", "attended", "missed", "cancelled")
# A session in one of these statuses holds (or held) its chair; a cancelled one does not.
HOLDS_CHAIR: tuple[SessionStatus, ...] = ("booked", "attended", "missed")


@dataclass(frozen=True)
class ScreeningOverride:
    """A course booked although the screening check refused it: the clinician's decision,
    recorded with the course.

    Attributes:
        reason: why, in the coordinator's words (one line).
        screening: what the check found when the course was booked: `no screening
            recorded`, or the latest screening's date and summary.
    """

    reason: str
    screening: str


@dataclass(frozen=True)
class ScreeningRecord:
    """A stored intake screening (`ketaplan screen`): answers, never a name.

    Attributes:
        patient: the patient's code.
        date: the day the answers were given.
        answers: every question's answer as (key, answer), in catalogue order.
        summary: `no listed contraindication` or `contraindicated: ...` with each item.
        contraindicated: the screening lists at least one contraindication.
        recorded: when it was stored (aware).
    """

    patient: str
    date: date
    answers: tuple[tuple[str, bool | int], ...]
    summary: str
    contraindicated: bool
    recorded: datetime


@dataclass(frozen=True)
class EnrollmentRecord:
    """A patient's esketamine REMS enrollment as recorded in the book.

    Attributes:
        patient: the patient's code.
        enrolled_on: the day the patient was enrolled.
        recorded: when it was stored (aware).
    """

    patient: str
    enrolled_on: date
    recorded: datetime


@dataclass(frozen=True)
class NewCourse:
    """A course about to be booked.

    Attributes:
        patient: the patient's code (never a name).
        protocol: the protocol's name.
        title: the protocol's title, for agendas and calendars.
        definition: the whole protocol as JSON, so a course booked from a clinic's own
            protocol file can be rebuilt after the file is gone.
        start: the course's start date (its session ids derive from it).
        zone: IANA zone of the course's local times.
        created: when it was booked (aware; the CLI passes now).
        override: the screening override it was booked with; None for none.
    """

    patient: str
    protocol: str
    title: str
    definition: str
    start: date
    zone: str
    created: datetime
    override: ScreeningOverride | None = None


@dataclass(frozen=True)
class CourseRecord:
    """A booked course.

    Attributes:
        id: the book's id of the course.
        patient, protocol, title, definition, start, zone, created: as in `NewCourse`.
        active: the patient's current course; a replaced course is inactive.
        override: as in `NewCourse`.
    """

    id: int
    patient: str
    protocol: str
    title: str
    definition: str
    start: date
    zone: str
    created: datetime
    active: bool
    override: ScreeningOverride | None = None


@dataclass(frozen=True)
class NewSession:
    """A session about to be booked.

    Attributes:
        uid: the id its calendar events carry (the planned `Session.uid`).
        number: 1-based, in date order across the course.
        phase, phase_number, phase_total: as in the planned `Session`.
        location: clinic (holds a chair) or home (a reminder, no chair).
        start, end: aware datetimes; stored in UTC with `zone`.
        chair: 1-based chair number for a clinic session; None at home.
        note: why it is not on its ideal day or time, else None.
    """

    uid: str
    number: int
    phase: str
    phase_number: int
    phase_total: int
    location: Location
    start: datetime
    end: datetime
    chair: int | None
    note: str | None = None


@dataclass(frozen=True)
class SessionRecord:
    """A booked session, one row of the book.

    Attributes:
        id: the book's id of the session.
        course_id: the course it belongs to.
        patient: the patient's code.
        title: the protocol's title (e.g. IV ketamine).
        uid: the id its calendar events carry; a live session's uid is unique in the book.
        sequence: the calendar revision; raised when the session is cancelled or its uid
            is booked again, so calendars that already hold it update.
        number, phase, phase_number, phase_total, location, chair, note: as in `NewSession`.
        start, end: aware datetimes in `zone`.
        zone: IANA zone of the course.
        status: booked; later attended, missed or cancelled.
        route: the course's route (iv, im, esketamine, lozenge); None when its stored
            protocol names none.
        override: the screening override its course was booked with; None for none.
    """

    id: int
    course_id: int
    patient: str
    title: str
    uid: str
    sequence: int
    number: int
    phase: str
    phase_number: int
    phase_total: int
    location: Location
    start: datetime
    end: datetime
    zone: str
    chair: int | None
    status: SessionStatus
    note: str | None
    route: Route | None = None
    override: ScreeningOverride | None = None


class Book(Protocol):
    """Reading the book, and opening write transactions on it."""

    @property
    def location(self) -> str:
        """Where the book is, for messages."""
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

    def latest_screening(self, patient: str) -> ScreeningRecord | None:
        """The patient's latest screening: latest date, then latest recorded."""
        ...

    def enrollment(self, patient: str) -> EnrollmentRecord | None:
        """The patient's REMS enrollment: the one recorded last (a later record corrects
        an earlier one)."""
        ...

    def writing(self) -> AbstractContextManager[BookWriter]:
        """One write transaction: commits when the block ends, rolls back on any error.
        Two processes never write at once; the second waits for the first."""
        ...

    def close(self) -> None: ...


class BookWriter(Protocol):
    """What a write transaction can do. Reads in it see its own writes."""

    def active_course(self, patient: str) -> CourseRecord | None: ...

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

    def record_enrollment(self, enrollment: EnrollmentRecord) -> None:
        """Record a REMS enrollment; earlier records are kept, the last one counts."""
        ...


def open_book(path: Path, *, create: bool = True) -> Book:
    """Open the book at `path`, creating it (and upgrading an older one) as needed.

    Raises BookError, leaving the file untouched, when it is not a ketaplan book or was
    written by a newer ketaplan; with `create=False`, when there is no book yet.
    """
    from ketaplan.store.sqlite import SqliteBook

    return SqliteBook.open(path, create=create)


__all__ = [
    "HOLDS_CHAIR",
    "STATUSES",
    "Book",
    "BookWriter",
    "ChairUse",
    "CourseRecord",
    "EnrollmentRecord",
    "NewCourse",
    "NewSession",
    "ScreeningOverride",
    "ScreeningRecord",
    "SessionRecord",
    "SessionStatus",
    "open_book",
]
