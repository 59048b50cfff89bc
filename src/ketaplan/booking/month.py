"""The clinic's month use case (`agenda --month`), day by day: how many sessions each
day holds, how much of its chair time they use, and why a day is closed. `month_figures`
is pure; `clinic_month` reads the month's sessions from the book."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from ketaplan.booking.capacity import day_utilization
from ketaplan.model.calendar import ClinicCalendar, day_bounds
from ketaplan.model.clinic import ClinicConfig
from ketaplan.model.records import SessionRecord
from ketaplan.store import Book

CLOSED_WEEKDAY = "closed weekday"


@dataclass(frozen=True)
class DayFigures:
    """One day of the clinic's month.

    Attributes:
        day: the date (in the clinic's zone).
        open: the clinic is open: an open weekday, no closure, no public holiday.
        closed_reason: why it is shut: the holiday's or closure's name, or
            `closed weekday`; None on an open day.
        sessions: clinic sessions that hold a chair that day (cancelled ones do not).
        cancelled: clinic sessions cancelled that day.
        utilization: share of the day's chair time (chairs x opening hours) they hold,
            0 to 1; None on a closed day.
    """

    day: date
    open: bool
    closed_reason: str | None
    sessions: int
    cancelled: int
    utilization: float | None


def month_bounds(anchor: date) -> tuple[date, date]:
    """The first and last day of the month holding `anchor`."""
    first = anchor.replace(day=1)
    after = (first + timedelta(days=32)).replace(day=1)
    return first, after - timedelta(days=1)


def month_figures(
    first: date,
    last: date,
    sessions: Iterable[SessionRecord],
    clinic: ClinicConfig,
    calendar: ClinicCalendar,
    zone: str,
) -> list[DayFigures]:
    """Each day from `first` to `last` with its clinic sessions (home doses hold no
    chair and are left out)."""
    where = ZoneInfo(zone)
    by_day: dict[date, list[SessionRecord]] = {}
    for s in sessions:
        if s.location == "clinic":
            by_day.setdefault(s.start.astimezone(where).date(), []).append(s)
    days = []
    day = first
    while day <= last:
        todays = by_day.get(day, [])
        held = [(s.start, s.end) for s in todays if s.status != "cancelled"]
        # A holiday's or closure's name says more than "closed", even on a weekend.
        reason = calendar.closed_reason(day)
        if reason is None and day.weekday() not in calendar.open_weekdays:
            reason = CLOSED_WEEKDAY
        use = None if reason is not None else day_utilization(day, held, clinic, zone)
        days.append(
            DayFigures(
                day=day,
                open=reason is None,
                closed_reason=reason,
                sessions=len(held),
                cancelled=len(todays) - len(held),
                utilization=use,
            )
        )
        day += timedelta(days=1)
    return days


@dataclass(frozen=True)
class ClinicMonth:
    """The month holding a day, in the clinic's zone.

    Attributes:
        first, last: its first and last day.
        zone: the clinic's zone.
        days: every day of it with its figures.
    """

    first: date
    last: date
    zone: str
    days: tuple[DayFigures, ...]


def clinic_month(
    book: Book, anchor: date, clinic: ClinicConfig, calendar: ClinicCalendar, zone: str
) -> ClinicMonth:
    """The figures of every day of the month holding `anchor`, from the book."""
    first, last = month_bounds(anchor)
    since, until = day_bounds(first, last, zone)
    sessions = book.sessions_between(since, until, location="clinic")
    days = month_figures(first, last, sessions, clinic, calendar, zone)
    return ClinicMonth(first, last, zone, tuple(days))
