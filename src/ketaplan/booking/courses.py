"""Booking courses into the clinic book and reading them back: the glue between the store
(what is booked) and the capacity engine (where a course fits).

Every call of `book_courses` is one write transaction: what it reads of the chairs
cannot change before it writes, two coordinators booking at once are served one after
the other, and any failure (one course of a roster that does not fit) leaves the book
exactly as it was. No SQL here: the store does that.

Safety is checked in the same transaction (see `ketaplan.safety.gate`): the patient's
latest screening (a contraindication, no valid screening when the clinic requires one, a
pregnancy status not asked again, or esketamine with home lozenges refuses the course
unless an override reason is given). What does not refuse is flagged, printed and stored
with the course: criteria not met, warnings for the clinician, and under the esketamine
REMS an enrollment not yet recorded (it is needed before the first treatment, which
`first_treatment_refusal` checks, not before booking).
"""

from __future__ import annotations

import gc
import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time

from ketaplan.booking.asked import asked_text
from ketaplan.booking.capacity import Booking, Capacity, book_course
from ketaplan.booking.estimate import check_fits
from ketaplan.errors import BookError, KetaplanError, UsageError
from ketaplan.formats.protocol_file import protocol_definition
from ketaplan.formats.protocol_file import protocol_from_definition as _protocol
from ketaplan.formats.roster import RosterRow, problems_text
from ketaplan.model.calendar import ClinicCalendar
from ketaplan.model.clinic import ClinicConfig
from ketaplan.model.course import Course, CourseRequest, Session, session_fields
from ketaplan.model.records import (
    CourseRecord,
    EnrollmentRecord,
    HistoryEntry,
    NewCourse,
    NewSession,
    ScreeningOverride,
    SessionRecord,
)
from ketaplan.safety.gate import CourseCheck, checked_override, screening_flags
from ketaplan.safety.rems import Enrollment, enrollment_flag, rems_applies
from ketaplan.store import Book, BookWriter


@dataclass(frozen=True)
class BookingJob:
    """One course to book.

    Attributes:
        request: the course, as `plan` would plan it.
        preferred: the patient's time of day; None for the least loaded start.
        line: the roster line it came from; None on the command line.
        override: the reason to book despite the screening check; None for none.
        enrolled_on: a REMS enrollment date to record with the booking (a roster's
            `rems_enrolled` column); None to use the one recorded in the book.
        replace: replace the patient's active course (a roster's `replace` column).
        asked: what the booking asks for (`asked_text`), stored with the course; None
            to compare by protocol and start only.
    """

    request: CourseRequest
    preferred: time | None
    line: int | None = None
    override: str | None = None
    enrolled_on: date | None = None
    replace: bool = False
    asked: str | None = None

    @property
    def override_hint(self) -> str:
        """How a coordinator gives an override for this job."""
        if self.line is None:
            return 'give --override "REASON"'
        return "fill in the roster's override column"

    @property
    def where(self) -> str:
        """How error messages name it: the patient, and the roster line if any."""
        patient = self.request.patient
        return patient if self.line is None else f"line {self.line} ({patient})"


def roster_jobs(
    rows: Sequence[RosterRow], clinic: ClinicConfig, zone: str, calendar: ClinicCalendar
) -> tuple[list[BookingJob], list[str]]:
    """One job per roster row, with the clinic's defaults where the row has none
    (protocol, time of day, weekdays), and a problem for each row whose weekdays are not
    among the clinic's open ones."""
    jobs: list[BookingJob] = []
    problems: list[str] = []
    for row in rows:
        days = calendar if row.days is None else calendar.limited_to(row.days)
        if days is None:
            problems.append(f"line {row.line}: days are not among the clinic's open weekdays")
            continue
        request = CourseRequest(
            patient=row.patient,
            protocol=row.protocol,
            start=row.start,
            at=row.time or clinic.session_time,
            zone=zone,
            calendar=days,
            every=row.every,
            open_sessions=row.sessions,
            until=row.until,
            lozenge_every=row.lozenges,
        )
        jobs.append(
            BookingJob(
                request,
                row.time,
                row.line,
                override=row.override,
                enrolled_on=row.rems_enrolled,
                replace=row.replace,
                asked=asked_text(request, at=row.time, days=row.days),
            )
        )
    return jobs, problems


@dataclass(frozen=True)
class BookedCourse:
    """A job, the course as booked (days, times, chairs and notes) and the screening
    override stored with it (None for none)."""

    job: BookingJob
    booking: Booking
    override: ScreeningOverride | None = None
    flags: tuple[str, ...] = ()

    @property
    def chairs(self) -> tuple[int | None, ...]:
        """Each session's chair, in course order; None for a home dose."""
        return tuple(p.chair for p in self.booking.placements)


@dataclass(frozen=True)
class BookResult:
    """What `book_courses` did.

    Attributes:
        courses: the booked courses, in the jobs' order.
        cancelled: future sessions of replaced courses now cancelled.
        already: jobs whose course is already booked as asked (nothing new).
    """

    courses: tuple[BookedCourse, ...]
    cancelled: int
    already: tuple[BookingJob, ...] = ()


def book_courses(
    book: Book,
    jobs: Sequence[BookingJob],
    clinic: ClinicConfig,
    zone: str,
    *,
    now: datetime,
    replace: bool,
    advance: Callable[[], None] = lambda: None,
    by: str = "unknown",
    dry_run: bool = False,
    known: Sequence[str] = (),
    source: str = "",
) -> BookResult:
    """Book every job in one transaction, or none, reporting every problem at once.

    A patient with an active course is refused unless `replace`: then that course's
    sessions from `now` on are cancelled (kept, never deleted) before anything is placed,
    so their chairs are free for the new course. `advance` is called after each course.
    With `dry_run`, everything is done as for real and then rolled back: the result is
    exactly what would be booked, and the book is left as it was.

    A roster (`source`) is checked whole: `known` are the problems already found in its
    file, and every row's rules, screening, REMS and capacity problems join them in one
    refusal. A job whose course is already booked as asked (see `_as_asked`) books
    nothing new and is listed in `already`, so booking a roster, or one course, twice is
    harmless; so is a roster row's `replace` asked again (the course it booked is the
    one asked for), while `replace` (the command's --replace) books anew.

    Each job must pass the safety check (see `ketaplan.safety.gate`); what it flags is
    stored with the course. Under the esketamine REMS a course without an enrollment on
    or before its first clinic session is booked and flagged; a job's `enrolled_on` is
    recorded first, in the same transaction. Each booking, and each
    replaced course, is appended to the history as made `by` this person.
    """
    try:
        return _book_courses(
            book, jobs, clinic, zone, now, replace, advance, dry_run, tuple(known), source, by
        )
    except _RolledBack as done:
        return done.result


class _RolledBack(Exception):
    """A dry run's way out of its transaction, which rolls it back."""

    def __init__(self, result: BookResult) -> None:
        super().__init__("dry run")
        self.result = result


def _book_courses(
    book: Book,
    jobs: Sequence[BookingJob],
    clinic: ClinicConfig,
    zone: str,
    now: datetime,
    replace: bool,
    advance: Callable[[], None],
    dry_run: bool,
    known: tuple[str, ...],
    source: str,
    by: str,
) -> BookResult:
    rems = rems_applies(clinic.rems_program, zone)
    problems: list[str] = []
    usage_only = True
    booked: list[BookedCourse] = []
    cancelled = 0
    single = len(jobs) == 1 and not known
    with book.writing() as tx, _no_cycle_collection():
        active = {job.request.patient: tx.active_course(job.request.patient) for job in jobs}
        todo: list[BookingJob] = []
        already: list[BookingJob] = []
        for job in jobs:
            course = active[job.request.patient]
            # A completed or cancelled course is history: a new one needs no --replace.
            if course is None or course.status != "active" or replace:
                todo.append(job)
            elif _as_asked(course, job):
                already.append(job)
            elif job.replace:
                todo.append(job)
            else:
                usage_only = False
                problems.append(
                    f"{job.where}: already has an active course ({course.title}, start "
                    f"{course.start}); {_replace_hint(job)} to cancel its future sessions "
                    "and book this one"
                )
        if problems and single:
            raise BookError(problems[0])
        for job in todo:
            course = active[job.request.patient]
            if course is not None:
                dropped = tx.cancel_course(course.id, now)
                cancelled += dropped
                if dropped:
                    tx.add_history(
                        HistoryEntry(
                            course.id, course.patient, now, by, "replace", None, None, None
                        )
                    )
        if len(todo) > 1:
            check_fits([job.request for job in todo], clinic, zone, tx.chairs_held)
        capacity = Capacity(clinic, zone, tx.chairs_held, now=now)
        for job in todo:
            patient = job.request.patient
            latest = tx.latest_screening(patient)
            replaced = active[patient]
            override, refusal = checked_override(
                patient,
                latest,
                job.override,
                require_screening=clinic.require_screening,
                hint=job.override_hint,
                check=CourseCheck(
                    start=job.request.start,
                    route=job.request.protocol.route,
                    home_doses=job.request.lozenge_every is not None
                    or any(p.location == "home" for p in job.request.protocol.phases),
                    replaces=None if replaced is None else replaced.created,
                    require_screening=clinic.require_screening,
                    valid_days=clinic.screening_valid_days,
                ),
            )
            if refusal is not None:
                if single:
                    raise BookError(f"{patient}: {refusal}")
                usage_only = False
                problems.append(f"{job.where}: {refusal}")
                continue
            try:
                enrollment = _enrollment(tx, job, now)
                booking = book_course(job.request, job.preferred, capacity)
                flags = screening_flags(latest)
                missing = enrollment_flag(booking.course, enrollment) if rems else None
                if missing is not None:
                    flags += (missing,)
                record = tx.add_course(
                    _new_course(booking, now, override, flags, job.asked),
                    _new_sessions(booking),
                )
                tx.add_history(_booked_entry(record, booking, now, by, override))
            except KetaplanError as exc:
                if single:
                    raise
                usage_only = usage_only and isinstance(exc, UsageError)
                problems.append(f"{job.where}: {exc}")
                continue
            booked.append(BookedCourse(job, booking, override, flags))
            advance()
        if problems or known:
            if known:
                message = problems_text(source, [*known, *problems])
            else:
                message = _problems(problems, len(jobs))
            raise UsageError(message) if usage_only else BookError(message)
        result = BookResult(tuple(booked), cancelled, tuple(already))
        if dry_run:
            raise _RolledBack(result)
    return result


def _as_asked(course: CourseRecord, job: BookingJob) -> bool:
    """The patient's active course is the one this job asks for: the same protocol, as
    defined now, and the same request (`asked_text`: the start asked for, not the day
    the first session landed on, the time, weekdays and the rest). A course booked
    before the book kept requests is compared by its start date alone."""
    protocol = job.request.protocol
    if course.protocol != protocol.name or course.definition != protocol_definition(protocol):
        return False
    if course.asked is not None and job.asked is not None:
        return course.asked == job.asked
    return course.start == job.request.start


def _replace_hint(job: BookingJob) -> str:
    return "give --replace" if job.line is None else "set the roster's replace column to yes"


def sessions_to_cancel(book: Book, patients: Sequence[str], now: datetime) -> list[SessionRecord]:
    """The booked sessions from `now` on of these patients' active courses: what
    replacing their courses cancels."""
    found: list[SessionRecord] = []
    for patient in dict.fromkeys(patients):
        course = book.active_course(patient)
        if course is not None:
            found += [
                s
                for s in book.course_sessions(course.id)
                if s.status == "booked" and s.start >= now
            ]
    return found


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Booking a roster allocates hundreds of thousands of small objects that all live
    until it commits, and almost no reference cycles: with the cyclic collector paused
    meanwhile, time per patient stays flat instead of growing with the heap it would
    re-scan (5,000 patients: about 15% faster)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


# Beyond this many refused courses, the rest are counted, not listed.
MAX_LISTED = 20


def _problems(problems: list[str], total: int) -> str:
    if total == 1:
        return problems[0]
    head = f"{len(problems)} of {total} courses cannot be booked, nothing was booked:"
    lines = [head, *(f"  {p}" for p in problems[:MAX_LISTED])]
    if len(problems) > MAX_LISTED:
        lines.append(f"  ... and {len(problems) - MAX_LISTED} more")
    return "\n".join(lines)


def _enrollment(tx: BookWriter, job: BookingJob, now: datetime) -> Enrollment | None:
    """The patient's REMS enrollment, recording the job's own first when it brings one
    that the book does not already have."""
    patient = job.request.patient
    recorded = tx.enrollment(patient)
    if job.enrolled_on is not None and (
        recorded is None or recorded.enrolled_on != job.enrolled_on
    ):
        recorded = EnrollmentRecord(patient, job.enrolled_on, now)
        tx.record_enrollment(recorded)
    return None if recorded is None else Enrollment(patient, recorded.enrolled_on)


def _booked_entry(
    record: CourseRecord,
    booking: Booking,
    now: datetime,
    by: str,
    override: ScreeningOverride | None,
) -> HistoryEntry:
    sessions = [
        {
            "number": p.session.number,
            "label": f"{p.session.phase} {p.session.phase_number}/{p.session.phase_total}",
            "start": p.session.start.isoformat(),
            "chair": p.chair,
            "status": "booked",
            "uid": p.session.uid,
        }
        for p in booking.placements
    ]
    return HistoryEntry(
        record.id,
        record.patient,
        now,
        by,
        "book",
        None if override is None else f"screening override: {override.reason}",
        None,
        json.dumps(sessions, ensure_ascii=False),
    )


def _new_course(
    booking: Booking,
    now: datetime,
    override: ScreeningOverride | None = None,
    flags: tuple[str, ...] = (),
    asked: str | None = None,
) -> NewCourse:
    course = booking.course
    return NewCourse(
        patient=course.patient,
        protocol=course.protocol.name,
        title=course.protocol.title,
        definition=protocol_definition(course.protocol),
        start=course.start,
        zone=course.zone,
        created=now,
        override=override,
        flags=flags,
        asked=asked,
    )


def _new_sessions(booking: Booking) -> list[NewSession]:
    return [NewSession(**session_fields(p.session), chair=p.chair) for p in booking.placements]


def active_course(book: Book, patient: str) -> tuple[Course, tuple[SessionRecord, ...]]:
    """The patient's active course as booked (cancelled sessions left out), rebuilt from
    the book for its calendar, with the book's rows; BookError when there is none."""
    record = book.active_course(patient)
    if record is None:
        raise BookError(f"{patient} has no active course in the book {book.location}")
    # Date order: sessions added by a re-plan have later numbers but may come earlier.
    rows = sorted(
        (s for s in book.course_sessions(record.id) if s.status != "cancelled"),
        key=lambda s: (s.start, s.number),
    )
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
        **session_fields(row), gap_days=(row.start.date() - since[-1]).days if since else None
    )
