"""Can the clinic hold a roster at all? A check of a few milliseconds before a booking
that could otherwise run for minutes and then refuse (100,000 patients into a four-chair
clinic).

Both sides are bounds, so a roster that fits is never refused: what the courses need at
least (their clinic sessions' chair minutes and start slots, maintenance counted only
when its count is known) against what the clinic has at most over every day a course
could reach (every open weekday's hours in every chair, closures and holidays ignored,
less the chair time already booked). A course starts on its start date or within
MAX_ATTEMPTS days after it, and each session follows the one before by at most its
phase's longest gap.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from ketaplan.booking.capacity import MAX_ATTEMPTS, LoadChairs
from ketaplan.errors import BookError
from ketaplan.model.clinic import ClinicConfig
from ketaplan.model.course import CourseRequest, local_start


@dataclass(frozen=True)
class Estimate:
    """Needed (at least) and available (at most) from `first` to `last`."""

    first: date
    last: date
    courses: int
    sessions: int
    minutes_needed: int
    minutes_free: int
    starts_free: int

    @property
    def fits(self) -> bool:
        return self.minutes_needed <= self.minutes_free and self.sessions <= self.starts_free


def estimate(
    requests: Sequence[CourseRequest], clinic: ClinicConfig, zone: str, load: LoadChairs
) -> Estimate:
    first = min(r.start for r in requests)
    last = max(_latest_end(r) for r in requests)
    sessions = minutes = 0
    for request in requests:
        for phase in request.protocol.phases:
            if phase.location != "clinic":
                continue
            count = _least_sessions(request, phase.sessions)
            sessions += count
            minutes += count * phase.chair_minutes
    where = ZoneInfo(zone)
    open_minutes = starts = 0
    day = first
    while day <= last:
        if day.weekday() in clinic.open_weekdays and day.weekday() in clinic.hours:
            opens, closes = clinic.hours[day.weekday()]
            length = _minutes(opens, closes)
            open_minutes += length * clinic.chairs
            starts += (length // clinic.slot_minutes + 1) * clinic.starts_per_slot
        day += timedelta(days=1)
    since = local_start(first, time(0), where)[0]
    until = local_start(last + timedelta(days=1), time(0), where)[0]
    held = sum(_span(use.start, use.end) for use in load(since, until))
    return Estimate(
        first, last, len(requests), sessions, minutes, max(0, open_minutes - held), starts
    )


def check_fits(
    requests: Sequence[CourseRequest], clinic: ClinicConfig, zone: str, load: LoadChairs
) -> None:
    """BookError, with the numbers, when the roster cannot fit whatever the placement."""
    found = estimate(requests, clinic, zone, load)
    if found.fits:
        return
    chairs = "1 chair" if clinic.chairs == 1 else f"{clinic.chairs} chairs"
    raise BookError(
        f"the roster cannot fit: its {found.courses:,} courses need at least "
        f"{_hours(found.minutes_needed)} chair-hours ({found.sessions:,} clinic sessions) from "
        f"{found.first} to {found.last}, and the clinic has at most "
        f"{_hours(found.minutes_free)} chair-hours and {found.starts_free:,} start slots free "
        f"then ({chairs}, its opening hours); nothing was booked: book it in parts, or add "
        "chairs or hours in ketaplan.toml"
    )


def _least_sessions(request: CourseRequest, fixed: int | None) -> int:
    if fixed is not None:
        return fixed
    if request.open_sessions is not None:
        return request.open_sessions
    # With --until the count depends on the dates: at least none.
    return 0 if request.until is not None else request.protocol.maintenance_sessions


def _latest_end(request: CourseRequest) -> date:
    days = MAX_ATTEMPTS
    for phase in request.protocol.phases:
        count = phase.sessions
        if count is None:
            count = request.open_sessions or request.protocol.maintenance_sessions
            if request.until is not None:
                return max(request.until, request.start) + timedelta(days=days + 366)
        longest = max(phase.max_gap_days, phase.window_days or 0, 7)
        days += count * longest
    return request.start + timedelta(days=days)


def _minutes(opens: time, closes: time) -> int:
    return (closes.hour * 60 + closes.minute) - (opens.hour * 60 + opens.minute)


def _span(start: datetime, end: datetime) -> int:
    return max(0, int((end - start).total_seconds()) // 60)


def _hours(minutes: int) -> str:
    return f"{minutes / 60:,.0f}"
