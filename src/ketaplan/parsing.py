"""Parsing of what coordinators type: dates, times, zones, weekdays, intervals, closures.

Every function raises `UsageError` with one line that names the bad value and what is
accepted. Relative words (`today`, `tomorrow`) need the caller's `today`: nothing here
reads the clock.
"""

from __future__ import annotations

import re
from datetime import date, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ketaplan.errors import UsageError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Every date typed in is within these: far enough for any course or record, and far
# enough from date.max (9999-12-31) that no arithmetic on a course ever overflows.
FIRST_DATE = date(1900, 1, 1)
LAST_DATE = date(2199, 12, 31)
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIME = re.compile(r"(\d{1,2}):(\d{2})")
_INTERVAL = re.compile(r"(\d+)\s*([dw])")


_WINDOWS_PATH = re.compile(r"^(\\\\|[A-Za-z]:\\)")


def is_windows_path(text: str) -> bool:
    """A pasted Windows path (`\\\\server\\share\\...` or `C:\\...`), which POSIX would take
    as one odd file name in the working folder."""
    return bool(_WINDOWS_PATH.match(text))


def parse_date(text: str, *, what: str = "date", today: date | None = None) -> date:
    """An ISO date (YYYY-MM-DD) from FIRST_DATE to LAST_DATE, or `today`/`tomorrow` when
    `today` is given."""
    word = text.strip().lower()
    if today is not None and word in ("today", "tomorrow"):
        return today + timedelta(days=word == "tomorrow")
    if not _ISO_DATE.fullmatch(word):
        hint = " (03/04/2026 could be March or April: write 2026-04-03)" if "/" in word else ""
        words = ", today or tomorrow" if today is not None else ""
        raise UsageError(f"{what} {text!r} is not a date; use YYYY-MM-DD{words}{hint}")
    try:
        day = date.fromisoformat(word)
    except ValueError:
        raise UsageError(f"{what} {text!r} is not a real calendar date") from None
    if not FIRST_DATE <= day <= LAST_DATE:
        raise UsageError(
            f"{what} {day} is outside the dates ketaplan takes, {FIRST_DATE} to {LAST_DATE}"
        )
    return day


def parse_time(text: str, *, what: str = "time") -> time:
    """A 24-hour local time, HH:MM."""
    match = _TIME.fullmatch(text.strip())
    if match is None or int(match[1]) > 23 or int(match[2]) > 59:
        raise UsageError(f"{what} {text!r} is not a time; use 24-hour HH:MM, e.g. 09:30")
    return time(int(match[1]), int(match[2]))


def parse_zone(name: str) -> ZoneInfo:
    """An IANA time zone such as Europe/Berlin."""
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise UsageError(
            f"time zone {name!r} is not an IANA zone name such as Europe/Berlin"
        ) from None


def parse_weekdays(text: str) -> frozenset[int]:
    """Open weekdays as `mon,wed,fri` or a range such as `mon-fri` (0 is Monday)."""
    days: set[int] = set()
    for part in (p.strip().lower() for p in text.split(",")):
        first, dash, last = part.partition("-")
        start = _day_index(first)
        end = _day_index(last) if dash else start
        if start is None or end is None:
            raise UsageError(f"weekday {part!r} in {text!r} is not one of {','.join(WEEKDAYS)}")
        days.update((start + i) % 7 for i in range((end - start) % 7 + 1))
    return frozenset(days)


_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _day_index(word: str) -> int | None:
    """mon, monday, or any prefix of three letters or more."""
    for index, name in enumerate(_DAY_NAMES):
        if len(word) >= 3 and name.startswith(word):
            return index
    return None


def parse_interval(text: str, *, what: str = "interval") -> int:
    """A gap such as `4w` or `28d`, in days."""
    match = _INTERVAL.fullmatch(text.strip().lower())
    if match is None or int(match[1]) == 0:
        raise UsageError(f"{what} {text!r} is not an interval; use days or weeks, e.g. 28d or 4w")
    return int(match[1]) * (7 if match[2] == "w" else 1)


def parse_intervals(text: str, *, what: str = "--maintenance-every") -> tuple[int, ...]:
    """One interval, or a taper `2w,3w,4w,6w` whose last interval repeats."""
    parts = list(text.split(","))
    if not text.strip() or any(not p.strip() for p in parts):
        raise UsageError(f"{what} {text!r} is empty; use e.g. 4w or 2w,3w,4w")
    return tuple(parse_interval(p, what=what) for p in parts)


def parse_closure(text: str, *, what: str = "closure") -> tuple[date, date]:
    """A closed day `DATE` or an inclusive range `DATE..DATE`."""
    first, dots, last = text.strip().partition("..")
    start = parse_date(first, what=what)
    end = parse_date(last, what=what) if dots else start
    if end < start:
        raise UsageError(f"{what} {text!r} ends before it starts")
    return start, end


def parse_holidays(text: str) -> tuple[str, str | None]:
    """A country code with an optional subdivision: `DE`, `DE-BY`, `US-CA`."""
    country, _, subdiv = text.strip().partition("-")
    if not re.fullmatch(r"[A-Za-z]{2}", country) or (
        subdiv and not re.fullmatch(r"[A-Za-z0-9]{1,4}", subdiv)
    ):
        raise UsageError(
            f"holidays {text!r} is not a country code with an optional subdivision, e.g. DE-BY"
        )
    return country.upper(), subdiv.upper() or None


_BLOOD_PRESSURE = re.compile(r"(\d{2,3})\s*/\s*(\d{2,3})")


def parse_blood_pressure(text: str, *, what: str = "blood pressure") -> tuple[int, int]:
    """A blood pressure `SYS/DIA` in mmHg (`140/90`), systolic above diastolic."""
    match = _BLOOD_PRESSURE.fullmatch(text.strip())
    if match is None:
        raise UsageError(f"{what} {text!r} is not a blood pressure; write SYS/DIA, e.g. 140/90")
    systolic, diastolic = int(match[1]), int(match[2])
    if not (50 <= systolic <= 300 and 20 <= diastolic <= 200 and systolic > diastolic):
        raise UsageError(
            f"{what} {text!r} is not a plausible blood pressure; systolic 50 to 300 above "
            "diastolic 20 to 200 mmHg"
        )
    return systolic, diastolic


def parse_bounded(text: str, *, what: str, low: int, high: int) -> int:
    """A whole number from `low` to `high`."""
    value = text.strip()
    if not value.isdigit() or not low <= int(value) <= high:
        raise UsageError(f"{what} {text!r} is not a whole number from {low} to {high}")
    return int(value)
