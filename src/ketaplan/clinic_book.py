"""Booking courses into the clinic book and reading them back: the glue between the store
(what is booked) and the capacity engine (where a course fits).

Every call of `book_courses` is one write transaction: what it reads of the chairs
cannot change before it writes, two coordinators booking at once are served one after
the other, and any failure (one course of a roster that does not fit) leaves the book
exactly as it was. No SQL here: the store does that.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, time

from ketaplan.booking import Booking, Capacity, book_course, protocol_definition
from ketaplan.booking import protocol_from_definition as _protocol
from ketaplan.config import ClinicConfig
from ketaplan.errors import BookError, KetaplanError, UsageError
from ketaplan.schedule import Course, CourseRequest, Session
from ketaplan.store import Book, NewCourse, NewSession, SessionRecord


@dataclass(frozen=True)
class BookingJob:
    """One course to book.

    Attributes:
        request: the course, as `plan` would plan it.
        preferred: the patient's time of day; None for the least loaded start.
        line: the roster line it came from; None on the command line.
    """

    request: CourseRequest
    preferred: time | None
    line: int | None = None

    @property
    def where(self) -> str:
        """How error messages name it: the patient, and the roster line if any."""
        patient = self.request.patient
        return patient if self.line is None else f"line {self.line} ({patient})"


@dataclass(frozen=True)
class BookedCourse:
    """A job and the course as booked (days, times, chairs and notes)."""

    job: BookingJob
    booking: Booking


@dataclass(frozen=True)
class BookResult:
    """What `book_courses` did.

    Attributes:
        courses: the booked courses, in the jobs' order.
        cancelled: future sessions of replaced courses now cancelled.
    """

    courses: tuple[BookedCourse, ...]
    cancelled: int


def book_courses(
    book: Book,
    jobs: Sequence[BookingJob],
    clinic: ClinicConfig,
    zone: str,
    *,
    now: datetime,
    replace: bool,
    advance: Callable[[], None] = lambda: None,
) -> BookResult:
    """Book every job in one transaction, or none, reporting every problem at once.

    A patient with an active course is refused unless `replace`: then that course's
    sessions from `now` on are cancelled (kept, never deleted) before anything is placed,
    so their chairs are free for the new course. `advance` is called after each course.
    """
    problems: list[str] = []
    usage_only = True
    booked: list[BookedCourse] = []
    cancelled = 0
    with book.writing() as tx:
        active = {job.request.patient: tx.active_course(job.request.patient) for job in jobs}
        for job in jobs:
            course = active[job.request.patient]
            if course is not None and not replace:
                problems.append(
                    f"{job.where}: already has an active course ({course.title}, start "
                    f"{course.start}); give --replace to cancel its future sessions and book "
                    "this one"
                )
        if problems:
            raise BookError(_problems(problems, len(jobs)))
        for course in active.values():
            if course is not None:
                cancelled += tx.cancel_course(course.id, now)
        capacity = Capacity(clinic, zone, tx.chairs_held, now=now)
        for job in jobs:
            try:
                booking = book_course(job.request, job.preferred, capacity)
                tx.add_course(_new_course(booking, now), _new_sessions(booking))
            except KetaplanError as exc:
                if len(jobs) == 1:
                    raise
                usage_only = usage_only and isinstance(exc, UsageError)
                problems.append(f"{job.where}: {exc}")
                continue
            booked.append(BookedCourse(job, booking))
            advance()
        if problems:
            message = _problems(problems, len(jobs))
            raise UsageError(message) if usage_only else BookError(message)
    return BookResult(tuple(booked), cancelled)


def _problems(problems: list[str], total: int) -> str:
    if total == 1:
        return problems[0]
    head = f"{len(problems)} of {total} courses cannot be booked, nothing was booked:"
    return "\n".join([head, *(f"  {p}" for p in problems)])


def _new_course(booking: Booking, now: datetime) -> NewCourse:
    course = booking.course
    return NewCourse(
        patient=course.patient,
        protocol=course.protocol.name,
        title=course.protocol.title,
        definition=protocol_definition(course.protocol),
        start=course.start,
        zone=course.zone,
        created=now,
    )


def _new_sessions(booking: Booking) -> list[NewSession]:
    return [
        NewSession(
            uid=p.session.uid,
            number=p.session.number,
            phase=p.session.phase,
            phase_number=p.session.phase_number,
            phase_total=p.session.phase_total,
            location=p.session.location,
            start=p.session.start,
            end=p.session.end,
            chair=p.chair,
            note=p.session.note,
        )
        for p in booking.placements
    ]


def active_course(book: Book, patient: str) -> tuple[Course, tuple[SessionRecord, ...]]:
    """The patient's active course as booked (cancelled sessions left out), rebuilt from
    the book for its calendar, with the book's rows; BookError when there is none."""
    record = book.active_course(patient)
    if record is None:
        raise BookError(f"{patient} has no active course in the book {book.location}")
    rows = [s for s in book.course_sessions(record.id) if s.status != "cancelled"]
    sessions = tuple(_as_session(rows, i) for i in range(len(rows)))
    course = Course(
        record.patient, _protocol(record.definition), record.zone, record.start, sessions
    )
    return course, tuple(rows)


def _as_session(rows: list[SessionRecord], index: int) -> Session:
    row = rows[index]
    # As in a plan: a clinic session's gap is from the previous clinic session, a home
    # dose's from the previous session of either kind.
    since = [
        r.start.date() for r in rows[:index] if row.location == "home" or r.location == "clinic"
    ]
    return Session(
        number=row.number,
        phase=row.phase,
        phase_number=row.phase_number,
        phase_total=row.phase_total,
        start=row.start,
        end=row.end,
        location=row.location,
        uid=row.uid,
        gap_days=(row.start.date() - since[-1]).days if since else None,
        note=row.note,
    )
