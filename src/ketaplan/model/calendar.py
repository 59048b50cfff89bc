"""The clinic's calendar: open weekdays, closures and public holidays.

Pure: public holidays come in through `HolidayLookup`, so this module never imports
the holidays package (see `holiday_source.py`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

ALL_WEEKDAYS = frozenset(range(7))
MON_TO_FRI = frozenset(range(5))


# The name of the public holiday on a day, or None (a plain callable: a typing.Protocol
# class would cost start-up time on every run).
HolidayLookup = Callable[[date], str | None]


# The reason of a closure that is one patient's, not the clinic's (`book --closed`).
UNAVAILABLE = "patient unavailable"


@dataclass(frozen=True)
class Closure:
    """Days the clinic is shut, inclusive of both ends."""

    first: date
    last: date
    reason: str = "clinic closed"

    def covers(self, day: date) -> bool:
        return self.first <= day <= self.last


@dataclass(frozen=True)
class ClinicCalendar:
    """When the clinic is open.

    Attributes:
        open_weekdays: 0 is Monday.
        closures: closed dates and ranges.
        holidays: public holidays, or None for none.
    """

    open_weekdays: frozenset[int] = MON_TO_FRI
    closures: tuple[Closure, ...] = ()
    holidays: HolidayLookup | None = field(default=None, compare=False)

    def closed_reason(self, day: date) -> str | None:
        """Why an otherwise open weekday is closed: a closure or a holiday."""
        for closure in self.closures:
            if closure.covers(day):
                return closure.reason
        if self.holidays is not None:
            return self.holidays(day)
        return None

    def is_open(self, day: date) -> bool:
        return day.weekday() in self.open_weekdays and self.closed_reason(day) is None

    def limited_to(self, weekdays: frozenset[int]) -> ClinicCalendar | None:
        """The calendar for a patient who can come on `weekdays` only; None when none of
        them is an open weekday."""
        both = weekdays & self.open_weekdays
        return replace(self, open_weekdays=both) if both else None

    def weekdays_only(self) -> ClinicCalendar:
        """The same week without closures or holidays: the clinic's usual rhythm."""
        return ClinicCalendar(self.open_weekdays)


ALWAYS_OPEN = ClinicCalendar(ALL_WEEKDAYS)


def day_bounds(first: date, last: date, zone: str) -> tuple[datetime, datetime]:
    """The instants from the start of `first` to the start of the day after `last`, in
    the clinic's zone."""
    where = ZoneInfo(zone)
    since = datetime.combine(first, time(0), where)
    until = datetime.combine(last + timedelta(days=1), time(0), where)
    return since, until
