"""What a booking asked for, as the book keeps it with the course (`courses.asked`): the
same booking asked again is known by it (`booking.courses`), and a re-planned course
keeps the patient's days by it (`booking.lifecycle`).

Small on purpose: the lifecycle commands read it without loading the booking code.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, time

from ketaplan.model.calendar import UNAVAILABLE, ClinicCalendar, Closure
from ketaplan.model.course import CourseRequest


def asked_text(
    request: CourseRequest,
    *,
    at: time | None,
    days: frozenset[int] | None,
    unavailable: Sequence[Closure] = (),
) -> str:
    """What a booking asks for, as the book keeps it: the protocol's name, the start
    asked for (the first session may land later when that day has no room), the time
    asked for (`at`; None for the clinic's or the least loaded), the weekdays asked for
    (None for every open day), the days the patient cannot come, and the maintenance
    interval, count, end and lozenges. The clinic's own calendar is left out: a course
    stays the one asked for when the clinic's closures change. One spelling (sorted
    keys, no spaces), so that the same request gives the same text from a roster row or
    the command line."""
    asked = {
        "protocol": request.protocol.name,
        "start": request.start.isoformat(),
        "time": None if at is None else f"{at:%H:%M}",
        "days": None if days is None else sorted(days),
        "unavailable": sorted({(c.first.isoformat(), c.last.isoformat()) for c in unavailable}),
        "maintenance_every": None if request.every is None else list(request.every),
        "maintenance_sessions": request.open_sessions,
        "until": None if request.until is None else request.until.isoformat(),
        "lozenges": request.lozenge_every,
    }
    return json.dumps(asked, sort_keys=True, separators=(",", ":"))


def asked_calendar(calendar: ClinicCalendar, asked: str | None) -> ClinicCalendar:
    """The clinic's `calendar` as the patient of a course can come: on the weekdays the
    booking asked for, and not on the days they said they could not (`asked_text`). A
    course booked before the book kept its request has the clinic's calendar."""
    if asked is None:
        return calendar
    wanted = json.loads(asked)
    days = wanted.get("days")
    limited = (calendar.limited_to(frozenset(days)) if days else None) or calendar
    away = tuple(
        Closure(date.fromisoformat(first), date.fromisoformat(last), UNAVAILABLE)
        for first, last in wanted.get("unavailable") or ()
    )
    if not away:
        return limited
    return ClinicCalendar(limited.open_weekdays, limited.closures + away, limited.holidays)


def asked_lozenges(asked: str | None) -> int | None:
    """Every how many days the booking asked for home lozenge doses; None for none, or
    for a course booked before the book kept its request."""
    return None if asked is None else json.loads(asked).get("lozenges")
