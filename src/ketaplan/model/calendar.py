"""The clinic's calendar: open weekdays, closures and public holidays.

Pure: public holidays come in through `HolidayLookup`, so this module never imports
the holidays package (see `holiday_source.py`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

ALL_WEEKDAYS = frozenset(range(7))
MON_TO_FRI = frozenset(range(5))


# The name of the public holiday on a day, or None (a plain callable: a typing.Protocol
# class would cost start-up time on every run).
HolidayLookup = Callable[[date], str | None]


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

    def weekdays_only(self) -> ClinicCalendar:
        """The same week without closures or holidays: the clinic's usual rhythm."""
        return ClinicCalendar(self.open_weekdays)


ALWAYS_OPEN = ClinicCalendar(ALL_WEEKDAYS)
