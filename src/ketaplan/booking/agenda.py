"""The agenda use case: the clinic's sessions over some days, grouped by day with each
day's chair utilization."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from ketaplan.booking.capacity import day_utilization
from ketaplan.errors import BookError
from ketaplan.model.calendar import ClinicCalendar, day_bounds
from ketaplan.model.clinic import ClinicConfig
from ketaplan.model.records import ScreeningRecord, SessionRecord
from ketaplan.store import Book


@dataclass(frozen=True)
class AgendaDay:
    """One day of an agenda.

    Attributes:
        day: the date in the clinic's zone.
        sessions: the day's clinic sessions, every status, by start and chair.
        utilization: the share of the day's chair time held (cancelled sessions hold
            none); None when the clinic is closed that day.
        closed: why the clinic is closed that day (a holiday's name, a closure), or
            "closed" on a weekday it does not open; None when it is open.
    """

    day: date
    sessions: tuple[SessionRecord, ...]
    utilization: float | None
    closed: str | None = None

    @property
    def held(self) -> int:
        """Sessions that hold a chair (not cancelled)."""
        return sum(1 for s in self.sessions if s.status != "cancelled")


@dataclass(frozen=True)
class Agenda:
    """The clinic's sessions from `first` to `last` (inclusive), in `zone`, and each of
    their patients' latest screening (for checklists and flags)."""

    first: date
    last: date
    zone: str
    sessions: tuple[SessionRecord, ...]
    days: tuple[AgendaDay, ...]
    screenings: Mapping[str, ScreeningRecord | None] = field(default_factory=dict)
    enrollments: Mapping[str, date | None] = field(default_factory=dict)


def latest_screenings(
    book: Book, sessions: Sequence[SessionRecord]
) -> dict[str, ScreeningRecord | None]:
    """Each patient's latest screening, for the sessions' checklists and flags: one
    query per patient."""
    return {patient: book.latest_screening(patient) for patient in {s.patient for s in sessions}}


def enrollments(book: Book, sessions: Sequence[SessionRecord]) -> dict[str, date | None]:
    """Each esketamine patient's recorded REMS enrollment date, so that a course booked
    before it was recorded is no longer flagged for it: one query per patient."""
    dates: dict[str, date | None] = {}
    for patient in {s.patient for s in sessions if s.route == "esketamine"}:
        record = book.enrollment(patient)
        dates[patient] = None if record is None else record.enrolled_on
    return dates


def agenda(
    book: Book,
    first: date,
    last: date,
    clinic: ClinicConfig,
    zone: str,
    calendar: ClinicCalendar | None = None,
    *,
    patient: str | None = None,
    statuses: Collection[str] | None = None,
) -> Agenda:
    """The clinic sessions from `first` to `last` (only `patient`'s, only in `statuses`
    when given), and every day of the span with its sessions, utilization and, by
    `calendar`, why the clinic is closed."""
    since, until = day_bounds(first, last, zone)
    sessions = book.sessions_between(since, until, location="clinic")
    if patient is not None:
        sessions = [s for s in sessions if s.patient == patient]
    if statuses is not None:
        sessions = [s for s in sessions if s.status in statuses]
    where = ZoneInfo(zone)
    by_day: dict[date, list[SessionRecord]] = {}
    for s in sessions:
        by_day.setdefault(s.start.astimezone(where).date(), []).append(s)
    days: list[AgendaDay] = []
    day = first
    while day <= last:
        todays = by_day.get(day, [])
        held = [(s.start, s.end) for s in todays if s.status != "cancelled"]
        closed = None
        if calendar is not None and not calendar.is_open(day):
            closed = calendar.closed_reason(day) or "not an opening day"
        use = None if closed else day_utilization(day, held, clinic, zone)
        days.append(AgendaDay(day, tuple(todays), use, closed))
        day += timedelta(days=1)
    screenings = latest_screenings(book, sessions)
    enrolled = enrollments(book, sessions)
    return Agenda(first, last, zone, tuple(sessions), tuple(days), screenings, enrolled)


def course_span(book: Book, patient: str, zone: str, today: date) -> tuple[date, date]:
    """The first and last day of the patient's current course's clinic sessions (today
    when it has none); BookError when the patient has no course."""
    course = book.active_course(patient)
    if course is None:
        raise BookError(f"{patient} has no course in the book {book.location}")
    where = ZoneInfo(zone)
    days = [
        s.start.astimezone(where).date()
        for s in book.course_sessions(course.id)
        if s.location == "clinic"
    ]
    return (min(days), max(days)) if days else (today, today)
