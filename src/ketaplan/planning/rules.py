"""An independent check of a planned course against its protocol and calendar.

The planner is written to keep every rule; this module, written separately, re-reads a
finished course and lists every rule it breaks. `plan_course` runs it before it returns,
so a plan that breaks a rule is never shown, and the tests use it as their oracle.
"""

from __future__ import annotations

from datetime import date, timedelta
from itertools import pairwise
from typing import TYPE_CHECKING

from ketaplan.model.calendar import ALWAYS_OPEN, ClinicCalendar
from ketaplan.model.protocol import Phase, Protocol

if TYPE_CHECKING:
    from ketaplan.model.course import Course, CourseRequest, Session


def check_course(course: Course, request: CourseRequest) -> list[str]:
    """Every rule a course planned from `request` breaks; empty when it keeps them all."""
    return violations(
        course.sessions,
        request.protocol,
        request.calendar,
        request.start,
        every=request.every,
        lozenge_every=request.lozenge_every,
    )


def violations(
    sessions: tuple[Session, ...],
    protocol: Protocol,
    calendar: ClinicCalendar,
    start: date,
    *,
    every: tuple[int, ...] | None = None,
    lozenge_every: int | None = None,
) -> list[str]:
    """Every rule the course breaks, as readable lines; empty when it keeps them all."""
    found: list[str] = []
    phases = {phase.name: phase for phase in protocol.phases}
    days = [s.day for s in sessions]
    if days != sorted(days) or [s.number for s in sessions] != list(range(1, len(days) + 1)):
        found.append("sessions are not numbered in date order")
    for s in sessions:
        if s.day < start:
            found.append(f"session {s.number} on {s.day} is before the start {start}")
        if s.location == "clinic" and not calendar.is_open(s.day):
            found.append(f"session {s.number} on {s.day} falls on a closed day")
        if s.end <= s.start and s.location == "clinic":
            found.append(f"session {s.number} ends before it starts")
    course = [s for s in sessions if s.phase in phases]
    home = [s for s in sessions if s.phase not in phases]
    found += _phase_rules(course, protocol, calendar, every)
    if home:
        found += _home_rules(home, course, protocol, lozenge_every)
    return found


def _phase_rules(
    course: list[Session],
    protocol: Protocol,
    calendar: ClinicCalendar,
    every: tuple[int, ...] | None,
) -> list[str]:
    found: list[str] = []
    phases = {phase.name: phase for phase in protocol.phases}
    order = [phase.name for phase in protocol.phases]
    if [order.index(s.phase) for s in course] != sorted(order.index(s.phase) for s in course):
        found.append("phases are out of order")
    for phase in protocol.phases:
        members = [s for s in course if s.phase == phase.name]
        if phase.sessions is not None and len(members) != phase.sessions:
            found.append(f"{phase.name} has {len(members)} sessions, needs {phase.sessions}")
        if phase.window_days is not None and members:
            span = (members[-1].day - members[0].day).days
            if span >= phase.window_days:
                found.append(f"{phase.name} spans {span + 1} days, more than {phase.window_days}")
    for before, after in pairwise(course):
        phase = phases[after.phase]
        gap = (after.day - before.day).days
        if not phase.min_gap_days <= gap <= phase.max_gap_days:
            found.append(
                f"sessions {before.number} and {after.number} are {gap} days apart; "
                f"{phase.name} allows {phase.min_gap_days} to {phase.max_gap_days}"
            )
        if phase.kind == "interval":
            found += _interval_rule(before, after, phase, calendar, course, every, protocol)
    found += _weekly_rules(course, protocol)
    return found


def _interval_rule(
    before: Session,
    after: Session,
    phase: Phase,
    calendar: ClinicCalendar,
    course: list[Session],
    every: tuple[int, ...] | None,
    protocol: Protocol,
) -> list[str]:
    """An interval gap is the requested one, unless that day was closed and the session
    sits on the nearest open day (the note says so)."""
    gaps = every if every is not None and phase is protocol.open_phase else phase.every_days
    index = after.phase_number - 1
    wanted = gaps[min(index, len(gaps) - 1)]
    if (after.day - before.day).days == wanted:
        return []
    if phase.location == "home":
        calendar = ALWAYS_OPEN
    ideal = before.day + timedelta(days=wanted)
    if calendar.is_open(ideal):
        return [
            f"session {after.number} is not {wanted} days after session {before.number} "
            f"although {ideal} is open"
        ]
    distance = abs((after.day - ideal).days)
    low = before.day + timedelta(days=phase.min_gap_days)
    high = before.day + timedelta(days=phase.max_gap_days)
    nearer = [
        ideal + timedelta(days=d)
        for d in range(-distance + 1, distance)
        if low <= ideal + timedelta(days=d) <= high and calendar.is_open(ideal + timedelta(days=d))
    ]
    if nearer:
        return [
            f"session {after.number} moved to {after.day}, but {nearer[0]} is nearer "
            f"to {ideal} and open"
        ]
    if not after.note:
        return [f"session {after.number} moved from {ideal} without a note"]
    return []


def _weekly_rules(course: list[Session], protocol: Protocol) -> list[str]:
    found: list[str] = []
    anchor: date | None = None
    block = 0
    previous_weekly = False
    for phase in protocol.phases:
        if phase.kind != "weekly":
            previous_weekly = False
            anchor = None
            continue
        members = [s for s in course if s.phase == phase.name]
        if not members:
            continue
        if not previous_weekly or anchor is None:
            anchor, block = members[0].day, 0
        previous_weekly = True
        per_week = phase.per_week or 1
        for i in range(0, len(members), per_week):
            first = anchor + timedelta(days=7 * block)
            chunk = members[i : i + per_week]
            if not all(first <= s.day < first + timedelta(days=7) for s in chunk):
                found.append(
                    f"{phase.name}: the week from {first} does not hold {per_week} session(s)"
                )
            block += 1
    return found


def _home_rules(
    home: list[Session], course: list[Session], protocol: Protocol, every: int | None
) -> list[str]:
    found: list[str] = []
    open_phase = protocol.open_phase
    visits = [s.day for s in course if open_phase is not None and s.phase == open_phase.name]
    if every is None:
        return ["home doses in a course without --lozenges"]
    for dose in home:
        inside = any(
            a + timedelta(days=every) <= dose.day <= b - timedelta(days=every)
            for a, b in pairwise(visits)
        )
        if not inside:
            found.append(
                f"home dose {dose.number} on {dose.day} is not between two "
                f"maintenance visits, {every} days from each"
            )
    return found
