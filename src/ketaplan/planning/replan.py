"""Re-planning the rest of a course after a miss, a not-dosed session, a cancellation, a
move or a booster, by the protocol's own rules (`docs/lifecycle.md` gives each rule's
source).

Pure: the course comes in as its clinic sessions with their statuses; `earliest` (the
first day a re-planned session may take, from the caller's clock) is an argument.

- A rhythm phase (IV/IM induction) needs its count of attended infusions: each one still
  owed is on the earliest open day at least `min_gap_days` after the last treatment, at
  most `max_gap_days` after it, all within `window_days` of the phase's first attended
  infusion. When that cannot be kept, nothing is moved: the result says why the
  induction is interrupted, and the coordinator chooses `--continue` (the window and
  the gaps are waived) or `--restart` (a new induction from `earliest`).
- A weekly phase (esketamine weeks 1 to 8) continues its current schedule: its booked
  sessions keep their days.
- An interval phase (maintenance) keeps its count of booked sessions and their planned
  gaps, counted from the last attended session: the first one after a miss takes the
  missed session's gap from the last attended one (or the first open day from
  `earliest` when that day has passed, a make-up), each later one its own planned gap;
  a closed day moves to the nearest open day within the phase's range, as in a plan.
- A booster is one extra session; it counts towards no phase, and keeps at least the
  first phase's minimum gap from the treatments around it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from itertools import pairwise
from typing import Literal

from ketaplan.model.calendar import ClinicCalendar
from ketaplan.model.protocol import Phase, Protocol

BOOSTER = "booster"
SEARCH_DAYS = 366
# Statuses whose session counts as a treatment: given, or still to be given.
TREATED = ("attended", "booked")

SlotStatus = Literal["booked", "attended", "missed", "not-dosed"]


@dataclass(frozen=True)
class Slot:
    """A clinic session as the re-planner sees it (cancelled sessions are left out).

    Attributes:
        key: the caller's id of the session.
        phase: the phase's name, or `booster`.
        day: its local date.
        status: booked, attended, missed or not-dosed.
        free: a booked session the re-planner may move, relabel or drop.
        number: its number within its phase.
    """

    key: int
    phase: str
    day: date
    status: SlotStatus
    free: bool = False
    number: int = 0


@dataclass(frozen=True)
class Planned:
    """One future session of the re-planned course.

    Attributes:
        key: the free slot it re-places, or None for a new session.
        phase, phase_number, phase_total: its labels.
        day: its date.
        note: why it is where it is (a make-up, a closed day), else None.
    """

    key: int | None
    phase: str
    phase_number: int
    phase_total: int
    day: date
    note: str | None = None


@dataclass(frozen=True)
class Replan:
    """The re-planned free sessions, in date order, and the free slots dropped; or why the
    induction is interrupted (then nothing is to change)."""

    sessions: tuple[Planned, ...]
    dropped: tuple[int, ...]
    interrupted: str | None = None


def booster_gap(protocol: Protocol) -> int:
    """The fewest days between a booster and the treatments around it: the protocol's
    first phase's minimum gap (IV, IM and esketamine: never on consecutive days)."""
    return protocol.phases[0].min_gap_days


def replan(
    protocol: Protocol,
    slots: list[Slot],
    calendar: ClinicCalendar,
    *,
    earliest: date,
    waive_window: bool = False,
    induction_since: date | None = None,
    interval: int | None = None,
    anchor: date | None = None,
) -> Replan:
    """Re-plan the free slots of a course (see the module docstring).

    `slots` are every clinic session of the course that is not cancelled, any order;
    `waive_window` waives a rhythm phase's window and its maximum gap (`replan
    --continue`, or a move given `--override`); `induction_since` counts a rhythm phase
    from that day (`replan --restart`); `interval` replaces every planned maintenance gap
    (`--previous-frequency`); the free slots are re-planned from `anchor` when given
    (a moved session or a booster), else from the last treatment before them.
    """
    ordered = sorted(slots, key=lambda s: (s.day, s.key))
    kept = [s for s in ordered if not s.free]
    free = [s for s in ordered if s.free]
    gaps = _planned_gaps(protocol, ordered)
    first_free = free[0].day if free else None
    treated = [
        s.day for s in kept if s.status in TREATED and (first_free is None or s.day <= first_free)
    ]
    prev = treated[-1] if treated else None
    if anchor is not None:
        prev = anchor if prev is None else max(prev, anchor)
    planned: list[Planned] = []
    for phase in protocol.phases:
        if phase.location != "clinic":
            continue
        members = [s for s in free if s.phase == phase.name]
        if phase.kind == "weekly":
            # Continue the current schedule (the label's missed-dose guidance): same
            # days, same labels, so the week-4 and week-8 review points stay.
            for s in members:
                total = phase.sessions or s.number
                planned.append(Planned(s.key, phase.name, s.number, total, s.day))
                prev = max(prev, s.day) if prev else s.day
            continue
        if phase.kind == "rhythm":
            result = _rhythm(phase, kept, calendar, prev, earliest, waive_window, induction_since)
            if isinstance(result, str):
                return Replan((), (), interrupted=result)
            planned += result
        else:
            result_i = _interval(phase, kept, members, gaps, calendar, prev, earliest, interval)
            planned += result_i
        if planned:
            prev = planned[-1].day
    return _assign(planned, free)


def _done(kept: list[Slot], phase: Phase, since: date | None) -> int:
    return sum(
        1
        for s in kept
        if s.phase == phase.name and s.status in TREATED and (since is None or s.day >= since)
    )


def _planned_gaps(protocol: Protocol, ordered: list[Slot]) -> dict[int, int]:
    """Each slot's planned gap from the previous session, whatever its status (boosters
    left out: they are extra). A session after one of its own phase that was not given
    takes that session's gap instead: its interval counts from the last treatment.

    A closure moves a planned session a few days off its interval; the interval is
    recovered as the protocol's own for that session when the gap is within 3 days of
    it, else as the nearest whole number of weeks (a course booked with its own
    `--maintenance-every`), else the gap as it is."""
    phases = {p.name: p for p in protocol.phases}
    plain = [s for s in ordered if s.phase != BOOSTER]
    gaps: dict[int, int] = {}
    pending: int | None = None
    for before, after in pairwise(plain):
        gap = _interval_of(phases.get(after.phase), after.number, (after.day - before.day).days)
        untreated = before.status in ("missed", "not-dosed")
        if untreated and before.phase == after.phase and pending is not None:
            gap = pending
        gaps[after.key] = gap
        pending = gap if after.status in ("missed", "not-dosed") else None
    return gaps


def _interval_of(phase: Phase | None, number: int, gap: int) -> int:
    if phase is None or phase.kind != "interval":
        return gap
    if phase.every_days and number >= 1:
        planned = phase.every_days[min(number - 1, len(phase.every_days) - 1)]
        if abs(gap - planned) <= 3:
            return planned
    weeks = round(gap / 7) * 7
    if abs(gap - weeks) <= 3 and phase.min_gap_days <= weeks <= phase.max_gap_days:
        return weeks
    return gap


def _first_open(calendar: ClinicCalendar, day: date) -> date | None:
    for _ in range(SEARCH_DAYS):
        if calendar.is_open(day):
            return day
        day += timedelta(days=1)
    return None


def _rhythm(
    phase: Phase,
    kept: list[Slot],
    calendar: ClinicCalendar,
    prev: date | None,
    earliest: date,
    waive: bool,
    since: date | None,
) -> list[Planned] | str:
    total = phase.sessions or 0
    done = _done(kept, phase, since)
    need = max(0, total - done)
    members = [
        s.day
        for s in kept
        if s.phase == phase.name and s.status in TREATED and (since is None or s.day >= since)
    ]
    window_start = members[0] if members else None
    if since is not None and prev is not None and prev < since:
        prev = None  # a restarted induction counts from its own first infusion
    out: list[Planned] = []
    for number in range(done + 1, done + need + 1):
        low = earliest if prev is None else max(earliest, prev + timedelta(days=phase.min_gap_days))
        day = _first_open(calendar, low)
        if day is None:
            return f"{phase.name}: no open day from {low}"
        # --continue waives the gaps as well as the window: a closure may lie ahead.
        if prev is not None and (day - prev).days > phase.max_gap_days and not waive:
            return (
                f"{phase.name} {number}/{total} cannot be within {phase.max_gap_days} days of "
                f"the infusion on {prev} (the earliest open day is {day})"
            )
        if window_start is None:
            window_start = day
        if (
            phase.window_days is not None
            and not waive
            and (day - window_start).days >= phase.window_days
        ):
            last = window_start + timedelta(days=phase.window_days - 1)
            return (
                f"{phase.name} {number}/{total} does not fit in the {phase.window_days}-day "
                f"window from {window_start} (ends {last}); the earliest open day is {day}"
            )
        out.append(Planned(None, phase.name, number, total, day))
        prev = day
    return out


def _interval(
    phase: Phase,
    kept: list[Slot],
    members: list[Slot],
    gaps: dict[int, int],
    calendar: ClinicCalendar,
    prev: date | None,
    earliest: date,
    interval: int | None,
) -> list[Planned]:
    done = _done(kept, phase, None)
    total = done + len(members)
    out: list[Planned] = []
    for number, slot in enumerate(members, done + 1):
        gap = interval if interval is not None else gaps.get(slot.key, phase.min_gap_days)
        if prev is None:
            ideal = max(earliest, slot.day)
            day = _first_open(calendar, ideal) or ideal
            out.append(Planned(None, phase.name, number, total, day))
            prev = day
            continue
        ideal = prev + timedelta(days=gap)
        note = None
        if ideal < earliest:
            ideal = earliest
            note = f"make-up: the first day from {earliest}"
        low = max(earliest, prev + timedelta(days=phase.min_gap_days))
        high = prev + timedelta(days=phase.max_gap_days)
        nearest = _nearest_open(calendar, ideal, low, high)
        if nearest is None:
            # The range from the last treatment has passed: the first open day.
            day = _first_open(calendar, max(ideal, low)) or max(ideal, low)
            note = f"make-up: more than {phase.max_gap_days} days after the session on {prev}"
        else:
            day = nearest
        if nearest is not None and day != ideal and note is None:
            if low <= ideal <= high:
                reason = calendar.closed_reason(ideal) or "not an open weekday"
            else:
                reason = f"{phase.min_gap_days} to {phase.max_gap_days} days after {prev}"
            note = f"moved from {ideal:%a %Y-%m-%d} ({reason})"
        out.append(Planned(None, phase.name, number, total, day, note))
        prev = day
    return out


def _nearest_open(calendar: ClinicCalendar, ideal: date, low: date, high: date) -> date | None:
    for distance in range(max(0, (high - low).days) + 1):
        for day in (ideal - timedelta(days=distance), ideal + timedelta(days=distance)):
            if low <= day <= high and calendar.is_open(day):
                return day
    return None


def _assign(planned: list[Planned], free: list[Slot]) -> Replan:
    """Give each planned session a free slot of the same phase, in date order: a slot
    keeps its session (and calendar uid); more planned than free are new sessions; free
    slots left over are dropped (cancelled)."""
    by_phase: dict[str, list[Slot]] = {}
    for s in free:
        by_phase.setdefault(s.phase, []).append(s)
    out: list[Planned] = []
    for p in planned:
        pool = by_phase.get(p.phase, [])
        key = pool.pop(0).key if pool else None
        out.append(Planned(key, p.phase, p.phase_number, p.phase_total, p.day, p.note))
    dropped = tuple(s.key for pool in by_phase.values() for s in pool)
    out.sort(key=lambda p: (p.day, p.phase_number))
    return Replan(tuple(out), dropped)
