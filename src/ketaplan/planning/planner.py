"""The schedule engine: a protocol, a start date and a clinic calendar become a course.

Pure: no typer, no rich, no clock, no randomness. The same request always gives the same
course, ids included.

Rules kept for every course (a plan that cannot keep one is refused, never printed):

- no clinic session on a closed weekday, a closure or a public holiday, or before the
  start date; home doses are taken at home and ignore the clinic's calendar;
- within a phase, consecutive sessions are `min_gap_days`..`max_gap_days` apart, and a
  phase's first session keeps its own phase's gaps from the one before;
- a rhythm phase takes the earliest open day each time and fits in `window_days`;
- a weekly phase has `per_week` sessions in every 7-day block counted from the course's
  first session;
- an interval phase keeps the requested gap; when that day is closed, the nearest open
  day that keeps the gap within the phase's range (the earlier of two equally near).

Local times: a session is at the requested wall-clock time in the course's zone on every
date, across daylight-saving changes. A time that does not exist that day (clocks
spring forward) moves forward by the length of the jump (02:30 becomes 03:30); a time
that happens twice (clocks fall back) is the first of the two.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, timedelta
from itertools import combinations, pairwise
from typing import NamedTuple
from zoneinfo import ZoneInfo

from ketaplan.errors import PlanError, RequestError
from ketaplan.model.calendar import ALWAYS_OPEN, ClinicCalendar
from ketaplan.model.course import Course, CourseRequest, Session, local_start, session_uid
from ketaplan.model.protocol import Phase, Protocol
from ketaplan.planning.protocols import LOZENGE_MAX_GAP, LOZENGE_MIN_GAP
from ketaplan.planning.rules import check_course

HOME_DOSE_MINUTES = 15
HOME_PHASE = "home"
# How far ahead to look for a start date that works, and the longest open-ended course.
SEARCH_DAYS = 366
MAX_OPEN_SESSIONS = 200


class _Slot(NamedTuple):
    """A planned day before times and numbers are given (a NamedTuple: it is internal,
    and cheaper to define than a dataclass on every start-up)."""

    day: date
    phase: Phase
    phase_number: int
    note: str | None = None


class _RuleBroken(Exception):
    def __init__(self, rule: str) -> None:
        super().__init__(rule)
        self.rule = rule


def plan_course(request: CourseRequest, *, suggest_start: bool = True) -> Course:
    """Plan a course that keeps every rule, or raise PlanError saying which rule fails
    and (with `suggest_start`, which plans up to a year of later starts) the first start
    date that would work."""
    _check_request(request)
    try:
        slots = _plan_days(request, request.start)
    except _RuleBroken as broken:
        if not suggest_start:
            raise PlanError(broken.rule) from None
        raise PlanError(f"{broken.rule}; {_first_working_start(request)}") from None
    if not slots:
        raise RequestError(
            f"this {request.protocol.name} course would have no sessions; "
            "give {maintenance sessions} 1 or more, or a later {end date}"
        )
    course = _build_course(request, slots)
    broken_rules = check_course(course, request)
    if broken_rules:
        raise PlanError(f"ketaplan refused its own plan, please report this: {broken_rules[0]}")
    return course


def check_every(protocol: Protocol, every: tuple[int, ...]) -> None:
    """The maintenance interval rule: gaps only for an open-ended phase, each within its
    range. RequestError otherwise (a roster reports it against its column)."""
    open_phase = protocol.open_phase
    if open_phase is None:
        raise RequestError(f"protocol {protocol.name!r} has no open-ended phase to repeat")
    for gap in every:
        if not open_phase.min_gap_days <= gap <= open_phase.max_gap_days:
            raise RequestError(
                f"interval of {gap} days is outside the {open_phase.name} range of "
                f"{open_phase.min_gap_days} to {open_phase.max_gap_days} days"
            )


def _check_request(request: CourseRequest) -> None:
    protocol = request.protocol
    if request.every is not None:
        check_every(protocol, request.every)
    if request.open_sessions is not None and request.until is not None:
        raise RequestError("give {maintenance sessions} or {end date}, not both")
    if request.open_sessions is not None and not 0 <= request.open_sessions <= MAX_OPEN_SESSIONS:
        raise RequestError(f"maintenance sessions must be 0 to {MAX_OPEN_SESSIONS}")
    if request.until is not None and request.until < request.start:
        raise RequestError(f"{{end date}} {request.until} is before the start {request.start}")
    if request.lozenge_every is not None:
        if protocol.route == "lozenge":
            raise RequestError(
                "{lozenges} adds home doses to a clinic course; this protocol is home doses already"
            )
        if not LOZENGE_MIN_GAP <= request.lozenge_every <= LOZENGE_MAX_GAP:
            raise RequestError(
                f"lozenge interval of {request.lozenge_every} days is outside the range of "
                f"{LOZENGE_MIN_GAP} to {LOZENGE_MAX_GAP} days"
            )


def _first_working_start(request: CourseRequest) -> str:
    last = SEARCH_DAYS
    if request.until is not None:
        # A course may not start after its --until date.
        last = min(last, (request.until - request.start).days)
    for offset in range(1, last + 1):
        start = request.start + timedelta(days=offset)
        try:
            slots = _plan_days(request, start)
        except _RuleBroken:
            continue
        if request.until is not None and slots[0].day > request.until:
            break
        # The course from `start` begins on its first open day: name that day, which
        # gives the same course and is the date a coordinator would book.
        return f"the first start date that works is {slots[0].day.isoformat()}"
    if last < SEARCH_DAYS:
        return f"no start date on or before --until {request.until} works"
    return f"no start date in the {SEARCH_DAYS} days after {request.start} works"


def _plan_days(request: CourseRequest, start: date) -> list[_Slot]:
    protocol = request.protocol
    slots: list[_Slot] = []
    block_anchor: date | None = None
    block = 0
    for phase in protocol.phases:
        calendar = ALWAYS_OPEN if phase.location == "home" else request.calendar
        prev = slots[-1].day if slots else None
        earliest = start if prev is None else prev + timedelta(days=phase.min_gap_days)
        if phase.kind == "weekly":
            if block_anchor is None:
                block_anchor = _first_open(calendar, earliest, phase, prev)
            new, block = _plan_weekly(phase, calendar, block_anchor, block, prev)
        else:
            block_anchor = None
            if phase.kind == "rhythm":
                new = _plan_rhythm(phase, calendar, start, prev)
            else:
                new = _plan_interval(request, phase, calendar, start, prev)
        slots.extend(new)
        if phase.location == "clinic" and phase is protocol.open_phase and request.lozenge_every:
            slots.extend(_home_doses(new, request.lozenge_every))
    slots.sort(key=lambda s: s.day)
    return slots


def _first_open(calendar: ClinicCalendar, earliest: date, phase: Phase, prev: date | None) -> date:
    latest = earliest + timedelta(days=SEARCH_DAYS)
    if prev is not None:
        latest = prev + timedelta(days=phase.max_gap_days)
    day = earliest
    while day <= latest:
        if calendar.is_open(day):
            return day
        day += timedelta(days=1)
    raise _RuleBroken(
        f"{phase.name}: no open day from {earliest} to {latest}"
        + (f" (at most {phase.max_gap_days} days after the session on {prev})" if prev else "")
    )


def _moved_note(calendar: ClinicCalendar, chosen: date, usual: date) -> str | None:
    """Say why a session is not where the clinic's usual week would put it."""
    if chosen == usual:
        return None
    reason = calendar.closed_reason(usual) or "clinic closed"
    return f"moved from {usual:%a %Y-%m-%d} ({reason})"


def _plan_rhythm(
    phase: Phase, calendar: ClinicCalendar, start: date, prev: date | None
) -> list[_Slot]:
    count = phase.sessions or 0
    slots: list[_Slot] = []
    usual_calendar = calendar.weekdays_only()
    for number in range(1, count + 1):
        earliest = start if prev is None else prev + timedelta(days=phase.min_gap_days)
        day = _first_open(calendar, earliest, phase, prev)
        usual = _first_open(usual_calendar, earliest, phase, prev)
        if phase.window_days is not None and slots:
            last_allowed = slots[0].day + timedelta(days=phase.window_days - 1)
            if day > last_allowed:
                raise _RuleBroken(
                    f"{phase.name} needs {count} sessions at least {phase.min_gap_days} days "
                    f"apart within {phase.window_days} days; from {slots[0].day} the clinic's "
                    f"open days fit only {len(slots)}"
                )
        slots.append(_Slot(day, phase, number, _moved_note(calendar, day, usual)))
        prev = day
    return slots


def _plan_weekly(
    phase: Phase, calendar: ClinicCalendar, anchor: date, block: int, prev: date | None
) -> tuple[list[_Slot], int]:
    per_week = phase.per_week or 1
    slots: list[_Slot] = []
    usual_calendar = calendar.weekdays_only()
    for _ in range((phase.sessions or 0) // per_week):
        block_start = anchor + timedelta(days=7 * block)
        targets = [block_start + timedelta(days=(i * 7) // per_week) for i in range(per_week)]
        # The blocks count from the phase's first session, so block 0 starts with it.
        fixed = anchor if block_start == anchor else None
        days = _best_in_block(phase, calendar, block_start, targets, prev, fixed)
        if days is None:
            raise _RuleBroken(
                f"{phase.name} needs {per_week} session(s) in the week from {block_start}, "
                f"{phase.min_gap_days} to {phase.max_gap_days} days apart; the clinic's "
                "open days that week do not allow it"
            )
        usual = _best_in_block(phase, usual_calendar, block_start, targets, prev, fixed) or days
        for day, usual_day in zip(days, usual, strict=True):
            number = len(slots) + 1
            slots.append(_Slot(day, phase, number, _moved_note(calendar, day, usual_day)))
        prev = days[-1]
        block += 1
    return slots, block


def _best_in_block(
    phase: Phase,
    calendar: ClinicCalendar,
    block_start: date,
    targets: list[date],
    prev: date | None,
    first: date | None,
) -> tuple[date, ...] | None:
    """The open days of one 7-day block nearest their targets that keep the gaps
    (starting on `first` when given)."""
    week = [block_start + timedelta(days=i) for i in range(7)]
    open_days = [d for d in week if calendar.is_open(d)]
    best: tuple[date, ...] | None = None
    best_cost = 0
    for days in combinations(open_days, len(targets)):
        if first is not None and days[0] != first:
            continue
        chain = ((prev,) if prev else ()) + days
        if not all(
            phase.min_gap_days <= (b - a).days <= phase.max_gap_days for a, b in pairwise(chain)
        ):
            continue
        cost = sum(abs((d - t).days) for d, t in zip(days, targets, strict=True))
        if best is None or cost < best_cost:
            best, best_cost = days, cost
    return best


def _plan_interval(
    request: CourseRequest, phase: Phase, calendar: ClinicCalendar, start: date, prev: date | None
) -> list[_Slot]:
    gaps = request.every if request.every is not None and phase.sessions is None else None
    gaps = gaps or phase.every_days
    count, until = phase.sessions, None
    if count is None:
        count = request.open_sessions
        until = request.until
        if count is None:
            default = request.protocol.maintenance_sessions
            # One more than allowed, so that too late an --until is noticed.
            count = MAX_OPEN_SESSIONS + 1 if until is not None else default
    slots: list[_Slot] = []
    usual_calendar = calendar.weekdays_only()
    while len(slots) < count:
        gap = gaps[min(len(slots), len(gaps) - 1)]
        ideal = start if prev is None else prev + timedelta(days=gap)
        if until is not None and ideal > until:
            break
        day = _nearest_open(phase, calendar, ideal, prev)
        if day is None:
            raise _RuleBroken(
                f"{phase.name}: no open day {phase.min_gap_days} to {phase.max_gap_days} days "
                f"after the session on {prev}"
            )
        if until is not None and day > until:
            break
        usual = _nearest_open(phase, usual_calendar, ideal, prev) or day
        note = _moved_note(calendar, day, usual)
        if note is None and usual != ideal:
            note = f"moved from {ideal:%a %Y-%m-%d} (not an open weekday)"
        slots.append(_Slot(day, phase, len(slots) + 1, note))
        prev = day
    if until is not None and len(slots) > MAX_OPEN_SESSIONS:
        raise RequestError(
            f"{{end date}} {until} gives more than {MAX_OPEN_SESSIONS} {phase.name} sessions"
        )
    return slots


def _nearest_open(
    phase: Phase, calendar: ClinicCalendar, ideal: date, prev: date | None
) -> date | None:
    if prev is None:
        # The course's first session: the first open day from the start date.
        for offset in range(SEARCH_DAYS):
            day = ideal + timedelta(days=offset)
            if calendar.is_open(day):
                return day
        return None
    low = prev + timedelta(days=phase.min_gap_days)
    high = prev + timedelta(days=phase.max_gap_days)
    for distance in range((high - low).days + 1):
        for day in (ideal - timedelta(days=distance), ideal + timedelta(days=distance)):
            if low <= day <= high and calendar.is_open(day):
                return day
    return None


def home_dose_days(visits: Sequence[date], every: int) -> list[date]:
    """Home doses every `every` days between consecutive maintenance visits (in date
    order), at least `every` days from each visit: as a course is planned, and again
    whenever its visits move."""
    days: list[date] = []
    for visit, following in pairwise(visits):
        day = visit + timedelta(days=every)
        while day + timedelta(days=every) <= following:
            days.append(day)
            day += timedelta(days=every)
    return days


def _home_doses(visits: list[_Slot], every: int) -> list[_Slot]:
    phase = Phase(
        HOME_PHASE, None, LOZENGE_MIN_GAP, LOZENGE_MAX_GAP, 0, location="home", every_days=(every,)
    )
    days = home_dose_days([v.day for v in visits], every)
    return [_Slot(day, phase, number) for number, day in enumerate(days, 1)]


def _build_course(request: CourseRequest, slots: list[_Slot]) -> Course:
    zone = ZoneInfo(request.zone)
    totals: dict[str, int] = {}
    for slot in slots:
        totals[slot.phase.name] = totals.get(slot.phase.name, 0) + 1
    sessions: list[Session] = []
    last_clinic: date | None = None
    last_any: date | None = None
    for number, slot in enumerate(slots, 1):
        start, time_note = local_start(slot.day, request.at, zone)
        minutes = slot.phase.chair_minutes if slot.phase.location == "clinic" else HOME_DOSE_MINUTES
        end = (start.astimezone(UTC) + timedelta(minutes=minutes)).astimezone(zone)
        since = last_clinic if slot.phase.location == "clinic" else last_any
        notes = [n for n in (slot.note, time_note) if n]
        sessions.append(
            Session(
                number=number,
                phase=slot.phase.name,
                phase_number=slot.phase_number,
                phase_total=totals[slot.phase.name],
                start=start,
                end=end,
                location=slot.phase.location,
                uid=session_uid(
                    request.patient,
                    request.protocol.name,
                    request.start,
                    slot.phase.name,
                    slot.phase_number,
                ),
                gap_days=(slot.day - since).days if since else None,
                note="; ".join(notes) or None,
            )
        )
        last_any = slot.day
        if slot.phase.location == "clinic":
            last_clinic = slot.day
    return Course(request.patient, request.protocol, request.zone, request.start, tuple(sessions))
