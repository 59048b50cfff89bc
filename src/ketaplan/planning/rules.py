"""An independent check of a planned course against its protocol and calendar.

The planner is written to keep every rule; this module, written separately, re-reads a
finished course and lists every rule it breaks. `plan_course` runs it before it returns,
so a plan that breaks a rule is never shown, and the tests use it as their oracle.
"""

from __future__ import annotations

from collections.abc import Sequence
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


def course_violations(
    protocol: Protocol,
    slots: Sequence[tuple[str, date, str, int]],
    calendar: ClinicCalendar,
    today: date,
    *,
    induction: str | None = None,
    induction_since: date | None = None,
) -> list[str]:
    """Every rule the booked future of a course breaks, as readable lines.

    `slots` are the course's clinic sessions that are not cancelled, as (phase, day,
    status, phase number); the past is history and is not judged, except as the start of
    the gaps to the future. A booked weekly-phase session stays in its own 7-day block,
    counted from the course's first session. An interrupted induction is reported as
    such (its future is left for the coordinator); a continued one has its window and
    gaps waived.
    """
    found: list[str] = []
    phases = {phase.name: phase for phase in protocol.phases}
    ordered = sorted(slots, key=lambda s: s[1])
    found += _weekly_blocks(protocol, ordered, today)
    treated = [(p, d, st) for p, d, st, _ in ordered if st in ("attended", "booked")]
    booster_gap = protocol.phases[0].min_gap_days
    days = [s[1] for s in treated]
    if len(set(days)) != len(days):
        found.append("two sessions of the course on one day")
    for _phase, day, status, _number in ordered:
        if status == "booked" and day >= today and not calendar.is_open(day):
            found.append(f"the session on {day} falls on a closed day")
    for (p1, d1, s1), (p2, d2, s2) in pairwise(treated):
        if s2 != "booked" or d2 < today:
            continue
        gap = (d2 - d1).days
        booster = "booster" in (p1, p2)
        phase = phases.get(p2)
        low = booster_gap if booster or phase is None else phase.min_gap_days
        if gap < low:
            found.append(f"the sessions on {d1} and {d2} are {gap} days apart; at least {low}")
        if booster or phase is None or phase.location != "clinic":
            continue
        if induction_since is not None and d1 < induction_since <= d2:
            continue  # a restarted induction does not count from the one before
        both_future = s1 == "booked" and d1 >= today
        same_rhythm = p1 == p2 and phase.kind == "rhythm" and induction != "continued"
        # A weekly phase continues its schedule after a missed or cancelled session (the
        # label's missed-dose guidance): the gap around it is allowed to be longer.
        if phase.kind == "weekly" or (phase.kind == "rhythm" and induction == "continued"):
            continue
        if (both_future or same_rhythm) and gap > phase.max_gap_days:
            found.append(
                f"the sessions on {d1} and {d2} are {gap} days apart; {phase.name} allows "
                f"at most {phase.max_gap_days}"
            )
    if induction == "interrupted":
        return [*found, "the induction is interrupted: replan --continue or --restart"]
    for phase in protocol.phases:
        if phase.kind != "rhythm" or phase.sessions is None or phase.location != "clinic":
            continue
        members = [
            s[1]
            for s in treated
            if s[0] == phase.name and (induction_since is None or s[1] >= induction_since)
        ]
        if not members or members[-1] < today:
            continue  # a finished induction is history
        if len(members) != phase.sessions:
            found.append(f"{phase.name} has {len(members)} infusions, needs {phase.sessions}")
        span = (members[-1] - members[0]).days
        if phase.window_days and induction != "continued" and span >= phase.window_days:
            found.append(f"{phase.name} spans {span + 1} days, more than {phase.window_days}")
    return found


def _weekly_blocks(
    protocol: Protocol, ordered: Sequence[tuple[str, date, str, int]], today: date
) -> list[str]:
    """Each booked future session of a weekly phase lies in its own 7-day block, counted
    from the first session of the first weekly phase (when that session is known)."""
    weekly = [p for p in protocol.phases if p.kind == "weekly"]
    if not weekly:
        return []
    firsts = [d for p, d, _, n in ordered if p == weekly[0].name and n == 1]
    if not firsts:
        return []
    anchor = min(firsts)
    found: list[str] = []
    blocks_before = 0
    for phase in protocol.phases:
        if phase.kind != "weekly":
            continue
        per_week = phase.per_week or 1
        for name, day, status, number in ordered:
            if name != phase.name or status != "booked" or day < today:
                continue
            block = blocks_before + (number - 1) // per_week
            first = anchor + timedelta(days=7 * block)
            if not first <= day < first + timedelta(days=7):
                found.append(
                    f"{phase.name} {number}/{phase.sessions} belongs in the week from {first} "
                    f"to {first + timedelta(days=6)}, not on {day}"
                )
        blocks_before += (phase.sessions or 0) // per_week
    return found
