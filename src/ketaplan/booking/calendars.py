"""The book's calendars, for `ketaplan export` and the feed server: a patient's booked
course with its cancellations, and the clinic's sessions for staff in a window.

Each returns a `BookCalendar`: the header and the events as a generator that reads the
book row by row while the writer asks for them, so a year of a large clinic is never
held in memory at once. Consume it while the book is open.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TypeVar

from ketaplan.booking.courses import active_course
from ketaplan.errors import BookError
from ketaplan.formats.calendars import calendar_name, patient_events, staff_events
from ketaplan.formats.ics import CalendarEvent, CalendarHeader
from ketaplan.model.calendar import day_bounds
from ketaplan.model.clinic import ClinicConfig
from ketaplan.safety.rems import FORM_DUE_DAYS
from ketaplan.store import Book

V = TypeVar("V")


@dataclass(frozen=True)
class BookCalendar:
    """A calendar of the book: its header and its events, made as they are read."""

    header: CalendarHeader
    events: Iterable[CalendarEvent]


def patient_calendar(
    book: Book, patient: str, clinic: ClinicConfig, zone: str, *, refresh: timedelta | None = None
) -> BookCalendar:
    """The patient's active course as booked, and every cancelled session of the patient
    (of this course or a replaced one) as cancelled; BookError when the book has no
    course of the patient at all."""
    everything = book.patient_sessions(patient)
    if not everything:
        raise BookError(f"{patient} has no course in the book {book.location}")
    scope = book.state().clinic_id
    if book.active_course(patient) is None:
        name = f"{patient} · {everything[-1].title} · {clinic.name}"
        events = patient_events(None, (), everything, clinic, scope)
    else:
        course, rows = active_course(book, patient)
        name = calendar_name(course, clinic)
        events = patient_events(course, rows, everything, clinic, scope)
    return BookCalendar(CalendarHeader(name, zone=zone, refresh=refresh), events)


def staff_calendar(
    book: Book,
    clinic: ClinicConfig,
    zone: str,
    first: date,
    last: date,
    *,
    refresh: timedelta | None = None,
) -> BookCalendar:
    """Every clinic session from the start of `first` to the end of `last` (the
    clinic's days), then the REMS markers due on those days."""
    since, until = day_bounds(first, last, zone)
    # A session's local date (in its course's zone) can be a day off the clinic's:
    # markers are looked up a day wider on each side, then chosen by exact due date.
    mark_since, mark_until = day_bounds(
        _days_before(first, FORM_DUE_DAYS + 1),
        _days_after(_days_before(last, FORM_DUE_DAYS), 1),
        zone,
    )
    scope = book.state().clinic_id
    sessions = book.calendar_sessions(since, until, location="clinic")
    markers = book.calendar_sessions(mark_since, mark_until, location="clinic", route="esketamine")
    screenings = PerPatient(book.latest_screening)
    enrollments = PerPatient(lambda patient: _enrolled_on(book, patient))
    events = staff_events(
        sessions, clinic, scope, screenings, enrollments, markers=markers, due=(first, last)
    )
    header = CalendarHeader(f"{clinic.name} · staff", zone=zone, refresh=refresh)
    return BookCalendar(header, events)


class PerPatient(Mapping[str, V]):
    """A patient's record, read from the book the first time it is asked for: the staff
    calendar streams its sessions, so which patients it holds is not known before."""

    def __init__(self, fetch: Callable[[str], V]) -> None:
        self._fetch = fetch
        self._found: dict[str, V] = {}

    def __getitem__(self, patient: str) -> V:
        if patient not in self._found:
            self._found[patient] = self._fetch(patient)
        return self._found[patient]

    def __iter__(self) -> Iterator[str]:
        return iter(self._found)

    def __len__(self) -> int:
        return len(self._found)


def _enrolled_on(book: Book, patient: str) -> date | None:
    record = book.enrollment(patient)
    return None if record is None else record.enrolled_on


def _days_before(day: date, days: int) -> date:
    return day - timedelta(days) if day > date.min + timedelta(days) else date.min


def _days_after(day: date, days: int) -> date:
    return day + timedelta(days) if day < date.max - timedelta(days) else date.max
