"""Following a booked course through its life: attend, miss, not dosed, cancel, move,
booster and re-plan, each one write transaction through the store, each appended to the
course's history with when, who and why. No SQL here.

After anything that changes what the patient receives, the rest of the course is
re-planned by the protocol's rules (`ketaplan.planning.replan`), placed into the chairs
as `book` does (`Capacity`), and checked again by the independent checker
(`ketaplan.planning.rules.course_violations`) before anything is written. Unchanged
sessions keep their rows and uids; a re-placed one keeps its uid with a raised
SEQUENCE; a new one gets a new uid (`added_session_uid`); a dropped one is cancelled.
Session rows are never deleted.

`dry_run` does all of it inside the transaction and rolls it back.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from itertools import pairwise
from typing import Literal
from zoneinfo import ZoneInfo

from ketaplan.booking.asked import asked_calendar, asked_lozenges
from ketaplan.booking.capacity import FULL_DAY, Capacity, LoadedDays
from ketaplan.errors import BookError, PlanError, UsageError
from ketaplan.formats.protocol_file import protocol_from_definition
from ketaplan.model.calendar import ClinicCalendar, Closure
from ketaplan.model.clinic import ClinicConfig
from ketaplan.model.course import Session, added_session_uid, local_start
from ketaplan.model.protocol import Protocol
from ketaplan.model.records import (
    Attendance,
    ChairUse,
    CourseRecord,
    CourseStatus,
    FormFiled,
    HistoryEntry,
    InductionState,
    Measurements,
    NewSession,
    Outcome,
    SessionChange,
    SessionRecord,
)
from ketaplan.planning.planner import HOME_DOSE_MINUTES, HOME_PHASE, home_dose_days
from ketaplan.planning.protocols import LOZENGE_MAX_GAP, LOZENGE_MIN_GAP
from ketaplan.planning.replan import BOOSTER, Planned, Slot, booster_gap, replan
from ketaplan.planning.rules import course_violations
from ketaplan.safety.gate import blood_pressure_refusal
from ketaplan.safety.rems import first_treatment_refusal, rems_applies
from ketaplan.store import Book, BookWriter

MAX_ATTEMPTS = 30
# The esketamine label's weekly rhythm (weeks 5 to 8): the frequency before every 2 weeks.
PREVIOUS_FREQUENCY_DAYS = 7

ChangeKind = Literal["recorded", "moved", "added", "cancelled", "relabelled"]


@dataclass(frozen=True)
class Context:
    """What every use case takes from the command line's edge.

    Attributes:
        clinic: the clinic's settings (chairs, hours).
        calendar: when the clinic is open.
        now: the current instant (aware).
        today: today's date in the clinic's zone.
        by: who is making the change.
        dry_run: show the change without writing it.
    """

    clinic: ClinicConfig
    calendar: ClinicCalendar
    now: datetime
    today: date
    by: str
    dry_run: bool = False


@dataclass(frozen=True)
class SessionRef:
    """Which session: its number in the course, else the one on a date, else today's."""

    number: int | None = None
    day: date | None = None


@dataclass(frozen=True)
class Change:
    """One session as it was and as it is after a use case."""

    number: int
    kind: ChangeKind
    label_before: str | None
    label_after: str | None
    before: datetime | None
    after: datetime | None
    chair_before: int | None
    chair_after: int | None
    note: str | None = None


@dataclass(frozen=True)
class LifecycleResult:
    """What a use case did (or, with dry_run, would do).

    Attributes:
        patient: the patient's code.
        headline: one line saying what was recorded.
        changes: the sessions that changed, in date order.
        interrupted: why the induction is now interrupted; None when it is not.
        hints: what the coordinator may do next.
        dry_run: nothing was written.
        details: what was measured or noted, under the headline.
    """

    patient: str
    headline: str
    changes: tuple[Change, ...]
    interrupted: str | None = None
    hints: tuple[str, ...] = ()
    dry_run: bool = False
    details: tuple[str, ...] = ()


class _DryRun(Exception):
    def __init__(self, result: LifecycleResult) -> None:
        super().__init__("dry run")
        self.result = result


def _label(row: SessionRecord | Planned | _Pin) -> str:
    return f"{row.phase} {row.phase_number}/{row.phase_total}"


def _transaction(
    book: Book, ctx: Context, work: Callable[[BookWriter], LifecycleResult]
) -> LifecycleResult:
    """Run `work` in one write transaction; with dry_run, roll it back."""
    try:
        with book.writing() as tx:
            result = work(tx)
            if ctx.dry_run:
                raise _DryRun(replace(result, dry_run=True))
    except _DryRun as dry:
        return dry.result
    return result


def _load(tx: BookWriter, patient: str) -> tuple[CourseRecord, Protocol, list[SessionRecord]]:
    course = tx.active_course(patient)
    if course is None:
        raise BookError(
            f"{patient} has no course in the book; book one with "
            f"`ketaplan book --patient {patient} --start DATE`"
        )
    return course, protocol_from_definition(course.definition), tx.course_sessions(course.id)


def _find(rows: list[SessionRecord], patient: str, ref: SessionRef, today: date) -> SessionRecord:
    if ref.number is not None:
        for row in rows:
            if row.number == ref.number:
                return row
        raise BookError(
            f"{patient} has no session {ref.number}; `ketaplan course --patient {patient}` "
            "lists the sessions"
        )
    day = ref.day or today
    for row in rows:
        if row.status != "cancelled" and row.start.date() == day:
            return row
    upcoming = [r for r in rows if r.status == "booked" and r.start.date() > day]
    hint = (
        f" (next: {upcoming[0].start:%a %Y-%m-%d}, session {upcoming[0].number})"
        if upcoming
        else ""
    )
    return _refuse(f"{patient} has no session on {day:%a %Y-%m-%d}{hint}")


def _refuse(message: str) -> SessionRecord:
    raise BookError(message)


def _not_recorded(row: SessionRecord, patient: str, records: list[Attendance]) -> None:
    if row.status == "booked":
        return
    if row.status == "cancelled":
        raise BookError(
            f"session {row.number} of {patient} ({row.start:%a %Y-%m-%d}) was cancelled"
        )
    last = next((r for r in reversed(records) if r.session_id == row.id), None)
    by = f" by {last.by} on {last.recorded:%Y-%m-%d}" if last is not None else ""
    raise BookError(
        f"session {row.number} of {patient} ({row.start:%a %Y-%m-%d}) is already recorded as "
        f"{row.status}{by}; to correct it give --correct: a later record supersedes, both kept"
    )


def _snapshot(rows: Iterable[SessionRecord]) -> str:
    return json.dumps(
        [
            {
                "number": r.number,
                "label": _label(r),
                "start": r.start.isoformat(),
                "chair": r.chair,
                "status": r.status,
                "uid": r.uid,
                "sequence": r.sequence,
            }
            for r in rows
        ],
        ensure_ascii=False,
    )


def _history(
    tx: BookWriter,
    ctx: Context,
    course: CourseRecord,
    what: str,
    why: str | None,
    before: list[SessionRecord],
    after: list[SessionRecord],
) -> None:
    tx.add_history(
        HistoryEntry(
            course_id=course.id,
            patient=course.patient,
            when=ctx.now,
            who=ctx.by,
            what=what,
            why=why,
            before=_snapshot(before) if before else None,
            after=_snapshot(after) if after else None,
        )
    )


def _touched(
    before: list[SessionRecord], after: list[SessionRecord]
) -> tuple[list[SessionRecord], list[SessionRecord]]:
    """The rows that differ, as they were and as they are."""
    old = {r.id: r for r in before}
    changed_after = [r for r in after if old.get(r.id) != r]
    ids = {r.id for r in changed_after}
    return [r for r in before if r.id in ids], changed_after


# ---------------------------------------------------------------------------- re-planning


@dataclass(frozen=True)
class _Pin:
    """A session placed where the coordinator asked: a move's target or a booster."""

    row_id: int | None  # None: a new booster session
    day: date
    at: time
    phase: str
    phase_number: int
    phase_total: int
    minutes: int


def _settle(
    tx: BookWriter,
    ctx: Context,
    course: CourseRecord,
    protocol: Protocol,
    rows: list[SessionRecord],
    *,
    free: Callable[[SessionRecord], bool],
    pin: _Pin | None = None,
    waive: bool = False,
    since: date | None = None,
    interval: int | None = None,
    induction: InductionState | None = None,
    override: bool = False,
    avoid: date | None = None,
    why: str = "a change",
    waiting: set[int] | None = None,
    loaded: LoadedDays | None = None,
) -> tuple[list[Change], str | None]:
    """Re-plan the `free` booked sessions (and place `pin`), write the result, and return
    the changes and why the induction is interrupted (None when it is not). `waiting`:
    the ids of other sessions that are to move too and hold no chair now; `loaded`: the
    chairs as loaded by an earlier call with the same sessions free and waiting."""
    zone = ZoneInfo(course.zone)
    live = [r for r in rows if r.status != "cancelled" and r.location == "clinic"]
    free_rows = [r for r in live if r.status == "booked" and r.phase != BOOSTER and free(r)]
    if pin is not None and pin.row_id is not None:
        free_rows = [r for r in free_rows if r.id != pin.row_id]
    moving = {r.id for r in free_rows} | ({pin.row_id} if pin and pin.row_id else set())
    excluded = moving | (waiting or set())

    def load(first: datetime, last: datetime) -> list[ChairUse]:
        return [u for u in tx.chairs_held(first, last) if u.session not in excluded]

    free_ids = {r.id for r in free_rows}
    slots = [
        Slot(
            r.id,
            r.phase,
            r.start.date(),
            r.status,  # type: ignore[arg-type]
            r.id in free_ids,
            r.phase_number,
        )
        for r in live
        if pin is None or r.id != pin.row_id
    ]
    if pin is not None:
        slots.append(Slot(pin.row_id or 0, pin.phase, pin.day, "booked"))
    induction = induction if induction is not None else course.induction
    since = since if since is not None else course.induction_since
    earliest = ctx.today + timedelta(days=1)
    if since is not None:
        earliest = max(earliest, since)
    # A day given up by a cancellation is not offered again to this course.
    given_up: tuple[Closure, ...] = () if avoid is None else (Closure(avoid, avoid, "cancelled"),)
    # A booked booster stays where it is: re-planned sessions keep its gap around it.
    gap = booster_gap(protocol) - 1
    given_up += tuple(
        Closure(r.start.date() - timedelta(days=gap), r.start.date() + timedelta(days=gap), BOOSTER)
        for r in live
        if r.phase == BOOSTER and r.status == "booked" and r.start.date() > ctx.today
    )
    # Re-planned days are days the patient can come, as booked; the rules are the clinic's.
    patient = asked_calendar(ctx.calendar, course.asked)
    # Each try below reads the same chairs: they are loaded once.
    loaded = {} if loaded is None else loaded
    full: list[date] = []
    for _ in range(MAX_ATTEMPTS):
        calendar = replace(
            patient,
            closures=patient.closures + given_up + tuple(Closure(d, d, FULL_DAY) for d in full),
        )
        plan = replan(
            protocol,
            slots,
            calendar,
            earliest=earliest,
            waive_window=waive or induction == "continued",
            induction_since=since,
            interval=interval,
            anchor=pin.day if pin is not None else None,
        )
        if plan.interrupted is not None:
            return [], plan.interrupted
        capacity = Capacity(ctx.clinic, course.zone, load, now=ctx.now, loaded=loaded)
        placed: list[tuple[Planned | _Pin, datetime, datetime, int]] = []
        if pin is not None:
            start = local_start(pin.day, pin.at, zone)[0]
            end = start + timedelta(minutes=pin.minutes)
            spot = _exact_spot(capacity, start, end)
            if isinstance(spot, str):
                nearest = capacity.place(_as_session(pin.day, start, end), pin.at)
                near = (
                    f"; the nearest free time that day is {nearest[0].astimezone(zone):%H:%M}"
                    if nearest is not None
                    else "; that day has no free time"
                )
                raise BookError(
                    f"{course.patient}: cannot place the session at {start:%a %Y-%m-%d %H:%M}: "
                    f"{spot}{near}"
                )
            capacity.hold(start, end, spot)
            placed.append((pin, start, end, spot))
        by_id = {r.id: r for r in live}
        blocked: date | None = None
        for p in plan.sessions:
            row = by_id.get(p.key) if p.key is not None else None
            if row is not None and row.start.date() == p.day:
                capacity.hold(row.start, row.end, row.chair or 1)
                placed.append((p, row.start, row.end, row.chair or 1))
                continue
            at, minutes = _time_of(row, rows, protocol, p.phase, ctx.clinic)
            start = local_start(p.day, at, zone)[0]
            end = start + timedelta(minutes=minutes)
            spot2 = capacity.place(_as_session(p.day, start, end), at)
            if spot2 is None:
                blocked = p.day
                break
            begin, chair, _ = spot2
            begin = begin.astimezone(zone)
            finish = (begin + timedelta(minutes=minutes)).astimezone(zone)
            capacity.hold(begin, finish, chair)
            placed.append((p, begin, finish, chair))
        if blocked is None:
            break
        full.append(blocked)
    else:
        raise BookError(
            f"cannot re-plan {course.patient}'s course: the clinic has no room within "
            f"{MAX_ATTEMPTS} tries"
        )
    changes = _write(tx, course, rows, placed, plan.dropped, why)
    changes += follow_home_doses(tx, ctx, course, protocol, rows)
    changes.sort(key=_change_order)
    after = tx.course_sessions(course.id)
    problems = course_violations(
        protocol,
        [
            (r.phase, r.start.date(), r.status, r.phase_number)
            for r in after
            if r.status != "cancelled" and r.location == "clinic"
        ],
        ctx.calendar,
        ctx.today,
        induction=induction,
        induction_since=since,
    )
    if problems and not override:
        raise PlanError(f"{problems[0]}; nothing was changed")
    if induction != course.induction or since != course.induction_since:
        tx.set_course_state(course.id, course.status, induction, since)
    return changes, None


def _exact_spot(capacity: Capacity, start: datetime, end: datetime) -> int | str:
    """The chair free at exactly this time, or why none is."""
    day = capacity.day(start.astimezone(capacity.zone).date())
    offset = day.offset(start)
    length = int((end - start).total_seconds()) // 60
    why = day.why_not(offset, length)
    if why is not None:
        return why
    chair = day.free_chair(offset, length)
    return chair if chair is not None else "no chair free"


def _as_session(day: date, start: datetime, end: datetime) -> Session:
    # Only its day and times matter to the capacity engine.
    return Session(
        number=0,
        phase="",
        phase_number=0,
        phase_total=0,
        start=start,
        end=end,
        location="clinic",
        uid="",
        gap_days=None,
    )


def _time_of(
    row: SessionRecord | None,
    rows: list[SessionRecord],
    protocol: Protocol,
    phase: str,
    clinic: ClinicConfig,
) -> tuple[time, int]:
    """A re-placed session keeps its time of day and length; a new one takes the time of
    the course's latest clinic session and its phase's chair time."""
    if row is not None:
        return row.start.time().replace(tzinfo=None), _minutes(row)
    clinic_rows = [r for r in rows if r.location == "clinic"]
    at = (
        max(clinic_rows, key=lambda r: r.start).start.time().replace(tzinfo=None)
        if clinic_rows
        else clinic.session_time
    )
    minutes = next(
        (p.chair_minutes for p in protocol.phases if p.name == phase),
        protocol.phases[0].chair_minutes,
    )
    return at, minutes


def _minutes(row: SessionRecord) -> int:
    return int((row.end - row.start).total_seconds()) // 60


def _write(
    tx: BookWriter,
    course: CourseRecord,
    rows: list[SessionRecord],
    placed: list[tuple[Planned | _Pin, datetime, datetime, int]],
    dropped: tuple[int, ...],
    why: str,
) -> list[Change]:
    """Write the placed sessions and the dropped ones; each re-placed or added session's
    stored note says why (`why`) and, where the planner gave one, its own reason."""
    by_id = {r.id: r for r in rows}
    number = max((r.number for r in rows), default=0)
    changes: list[Change] = []
    new: list[NewSession] = []
    for item, start, end, chair in placed:
        key = item.row_id if isinstance(item, _Pin) else item.key
        note = None if isinstance(item, _Pin) else item.note
        row = by_id.get(key) if key else None
        stored = "; ".join(x for x in (f"re-planned after {why}", note) if x)
        if isinstance(item, _Pin) and row is not None:
            stored = f"moved from {row.start:%a %Y-%m-%d %H:%M}"
        if row is None:
            number += 1
            new.append(
                NewSession(
                    uid=added_session_uid(course.patient, course.id, number),
                    number=number,
                    phase=item.phase,
                    phase_number=item.phase_number,
                    phase_total=item.phase_total,
                    location="clinic",
                    start=start,
                    end=end,
                    chair=chair,
                    note=stored if not isinstance(item, _Pin) else None,
                )
            )
            changes.append(
                Change(number, "added", None, _label(item), None, start, None, chair, note)
            )
            continue
        label = f"{item.phase} {item.phase_number}/{item.phase_total}"
        if row.start == start and row.chair == chair and _label(row) == label:
            continue
        tx.change_session(
            SessionChange(
                row.id,
                item.phase,
                item.phase_number,
                item.phase_total,
                start,
                end,
                chair,
                stored if row.start != start else row.note,
            )
        )
        kind: ChangeKind = "relabelled" if row.start == start else "moved"
        changes.append(
            Change(row.number, kind, _label(row), label, row.start, start, row.chair, chair, note)
        )
    if new:
        tx.add_sessions(course.id, course.zone, new)
    if dropped:
        tx.cancel_sessions(list(dropped))
        for key in dropped:
            row = by_id[key]
            changes.append(
                Change(row.number, "cancelled", _label(row), None, row.start, None, row.chair, None)
            )
    changes.sort(key=_change_order)
    return changes


def _change_order(c: Change) -> tuple[datetime, int]:
    """Changes in date order: where a session is now, else where it was."""
    return c.after or c.before or datetime.min.replace(tzinfo=UTC), c.number


def _course_status(tx: BookWriter, course: CourseRecord, *, cancelled: bool = False) -> None:
    """Active while a session is booked; then completed (or cancelled when nothing was
    given)."""
    rows = tx.course_sessions(course.id)
    status: CourseStatus = "active"
    if not any(r.status == "booked" for r in rows):
        given = any(r.status == "attended" for r in rows)
        status = "cancelled" if cancelled or not given else "completed"
    fresh = tx.active_course(course.patient)
    if fresh is not None and fresh.status != status:
        tx.set_course_state(course.id, status, fresh.induction, fresh.induction_since)


def _after_miss_free(row: SessionRecord, today: date) -> Callable[[SessionRecord], bool]:
    last = max(today, row.start.date())

    def free(r: SessionRecord) -> bool:
        return r.start.date() > last and r.id != row.id

    return free


def _interrupt(tx: BookWriter, course: CourseRecord, why: str) -> tuple[str, ...]:
    tx.set_course_state(course.id, course.status, "interrupted", course.induction_since)
    return (
        f"Induction interrupted: {why}.",
        f"Nothing was moved; choose `ketaplan replan --patient {course.patient} --continue`",
        "(extend the induction) or `--restart [--from DATE]`.",
    )


# ---------------------------------------------------------------------------- use cases


def record(
    book: Book,
    ctx: Context,
    patient: str,
    ref: SessionRef,
    outcome: Outcome,
    *,
    measured: Measurements | None = None,
    reason: str | None = None,
    note: str | None = None,
    correct: bool = False,
    override: str | None = None,
) -> LifecycleResult:
    """Record what happened at a session (attended, missed or not dosed); after a missed
    or not-dosed session the rest of the course is re-planned.

    An attendance is refused, with one line, for the first esketamine treatment of a
    course under the REMS without an enrollment on or before its day (never overridden:
    a condition of the programme), and for a blood pressure at check-in above the
    clinic's threshold unless `override` gives the clinician's reason to dose (stored with
    the record and in the history); else the session is recorded as not dosed."""

    def work(tx: BookWriter) -> LifecycleResult:
        course, protocol, rows = _load(tx, patient)
        row = _find(rows, patient, ref, ctx.today)
        if row.location != "clinic":
            raise BookError(
                f"session {row.number} of {patient} is a home dose; only clinic sessions "
                "are recorded"
            )
        if row.start.date() > ctx.today:
            verb = "attendance" if outcome == "attended" else "a missed session"
            raise BookError(
                f"session {row.number} of {patient} is on {row.start:%a %Y-%m-%d}, after "
                f"today ({ctx.today}); {verb} is recorded on the day or after"
                + ("; to call it off, use `ketaplan cancel`" if outcome != "attended" else "")
            )
        records = tx.session_records(course.id)
        if not (correct and row.status != "cancelled"):
            _not_recorded(row, patient, records)
        taken = measured or Measurements()
        stored = note
        if outcome == "attended":
            stored = _dose_checks(tx, ctx, course, row, rows, taken, note, override)
        tx.record_session(Attendance(row.id, outcome, reason, taken, stored, ctx.by, ctx.now))
        if override is not None and outcome == "attended":
            _history(tx, ctx, course, "override", override, [], [])
        what = outcome if row.status == "booked" else f"correct ({row.status} -> {outcome})"
        changes = [
            Change(
                row.number,
                "recorded",
                _label(row),
                _label(row),
                row.start,
                row.start,
                row.chair,
                row.chair,
                outcome,
            )
        ]
        hints: tuple[str, ...] = ()
        interrupted: str | None = None
        before = tx.course_sessions(course.id)
        if outcome != "attended" and row.status != outcome:
            moved, interrupted = _settle(
                tx,
                ctx,
                course,
                protocol,
                before,
                free=_after_miss_free(row, ctx.today),
                why=f"session {row.number} was {outcome} on {row.start:%Y-%m-%d}",
            )
            changes += moved
            if interrupted is not None:
                hints = _interrupt(tx, course, interrupted)
            elif protocol.route == "esketamine" and row.phase == protocol.phases[-1].name:
                hints = (_previous_frequency_hint(patient, records, row),)
            elif not moved:
                hints = ("The schedule continues; nothing else changes.",)
        after = tx.course_sessions(course.id)
        old, new = _touched(rows, after)
        _history(tx, ctx, course, what, reason or note, old, new)
        _course_status(tx, course)
        day = f"{row.start:%a %Y-%m-%d}"
        said = "; ".join(x for x in (measured_text(taken), note) if x)
        return LifecycleResult(
            patient,
            f"Recorded {patient} session {row.number} ({_label(row)}, {day}) as {outcome}"
            + (f": {reason}" if reason else "")
            + ".",
            tuple(changes),
            interrupted,
            hints,
            details=(f"  {said}",) if said else (),
        )

    return _transaction(book, ctx, work)


def _dose_checks(
    tx: BookWriter,
    ctx: Context,
    course: CourseRecord,
    row: SessionRecord,
    rows: list[SessionRecord],
    taken: Measurements,
    note: str | None,
    override: str | None,
) -> str | None:
    """Refuse a dose the safety rules stop (see `record`); the note to store with it."""
    rems = rems_applies(ctx.clinic.rems_program, course.zone)
    earlier = sum(1 for r in rows if r.status == "attended" and r.start < row.start)
    enrolled = tx.enrollment(course.patient)
    refusal = first_treatment_refusal(
        row, earlier, None if enrolled is None else enrolled.enrolled_on, rems=rems
    )
    if refusal is not None:
        raise BookError(refusal)
    if taken.systolic is not None and taken.diastolic is not None:
        high = blood_pressure_refusal((taken.systolic, taken.diastolic), ctx.clinic.bp_threshold)
        if high is not None and override is None:
            raise BookError(
                f'{course.patient}: {high}: give --override "REASON" or --not-dosed REASON'
            )
        if high is not None:
            return "; ".join(x for x in (note, f"dosed above the threshold: {override}") if x)
    return note


def measured_text(m: Measurements) -> str:
    """`BP 128/82, HR 72, SpO2 98%, PHQ-9 14`; empty when nothing was measured."""
    parts = []
    if m.systolic is not None:
        parts.append(f"BP {m.systolic}/{m.diastolic}")
    if m.heart_rate is not None:
        parts.append(f"HR {m.heart_rate}")
    if m.spo2 is not None:
        parts.append(f"SpO2 {m.spo2}%")
    if m.phq9 is not None:
        parts.append(f"PHQ-9 {m.phq9}")
    return ", ".join(parts)


def _previous_frequency_hint(patient: str, records: list[Attendance], row: SessionRecord) -> str:
    scores = [r.measured.phq9 for r in records if r.measured.phq9 is not None]
    worse = len(scores) >= 2 and scores[-1] > scores[-2]
    why = "PHQ-9 rose from {} to {}; ".format(*scores[-2:]) if worse else ""
    return (
        f"{why}with worsening symptoms the label's missed-dose guidance is to consider the "
        f"previous frequency: `ketaplan replan --patient {patient} --previous-frequency`"
    )


def cancel(
    book: Book,
    ctx: Context,
    patient: str,
    *,
    number: int | None = None,
    since: date | None = None,
    whole: bool = False,
    reason: str,
) -> LifecycleResult:
    """Cancel one session (the rest re-planned), every booked session from a date, or
    the whole course (its booked sessions cancelled, the course cancelled)."""

    def work(tx: BookWriter) -> LifecycleResult:
        course, protocol, rows = _load(tx, patient)
        changes: list[Change] = []
        interrupted: str | None = None
        hints: tuple[str, ...] = ()
        if number is not None:
            row = _find(rows, patient, SessionRef(number=number), ctx.today)
            if row.status != "booked":
                _not_recorded(row, patient, [])
            if row.start.date() < ctx.today:
                raise BookError(
                    f"session {row.number} of {patient} was on {row.start:%a %Y-%m-%d}; "
                    "record what happened with `ketaplan attend` or `ketaplan miss`"
                )
            tx.cancel_sessions([row.id])
            changes.append(
                Change(row.number, "cancelled", _label(row), None, row.start, None, row.chair, None)
            )
            # For the re-plan the cancelled session is one not given: the sessions after
            # it count from the last treatment, as after a miss.
            current = [
                replace(r, status="missed") if r.id == row.id else r
                for r in tx.course_sessions(course.id)
            ]
            moved, interrupted = _settle(
                tx,
                ctx,
                course,
                protocol,
                current,
                free=_after_miss_free(row, ctx.today),
                avoid=row.start.date(),
                why=f"session {row.number} was cancelled ({reason})",
            )
            changes += moved
            if interrupted is not None:
                hints = _interrupt(tx, course, interrupted)
            headline = (
                f"Cancelled {patient} session {row.number} ({_label(row)}, "
                f"{row.start:%a %Y-%m-%d}): {reason}."
            )
        else:
            first = ctx.today if whole else since
            assert first is not None
            if first < ctx.today:
                raise UsageError(
                    f"--from {first} is in the past; sessions from today on can be cancelled"
                )
            doomed = [r for r in rows if r.status == "booked" and r.start.date() >= first]
            if not doomed:
                raise BookError(f"{patient} has no booked session from {first} on")
            tx.cancel_sessions([r.id for r in doomed])
            for r in doomed:
                changes.append(
                    Change(r.number, "cancelled", _label(r), None, r.start, None, r.chair, None)
                )
            what = "the whole course" if whole else f"from {first}"
            headline = (
                f"Cancelled {len(doomed)} booked session{'s' if len(doomed) != 1 else ''} of "
                f"{patient} ({what}): {reason}."
            )
        after = tx.course_sessions(course.id)
        old, new = _touched(rows, after)
        _history(tx, ctx, course, "cancel", reason, old, new)
        # Cutting the rest of a course short cancels it; one cancelled session does not.
        _course_status(tx, course, cancelled=number is None)
        return LifecycleResult(patient, headline, tuple(changes), interrupted, hints)

    return _transaction(book, ctx, work)


def move(
    book: Book,
    ctx: Context,
    patient: str,
    number: int,
    to: date,
    *,
    at: time | None = None,
    override: str | None = None,
) -> LifecycleResult:
    """Move a booked session to another day (and time), checked against the protocol's
    rules and the chairs; the sessions after it are re-planned from it. A move that
    breaks a rule is refused with the rule, unless `override` gives the reason."""

    def work(tx: BookWriter) -> LifecycleResult:
        course, protocol, rows = _load(tx, patient)
        row = _find(rows, patient, SessionRef(number=number), ctx.today)
        if row.status != "booked":
            _not_recorded(row, patient, [])
        if row.location != "clinic":
            raise BookError(f"session {row.number} of {patient} is a home dose, not an appointment")
        if to < ctx.today:
            raise UsageError(f"--to {to} is in the past (today is {ctx.today})")
        if not ctx.calendar.is_open(to):
            why = ctx.calendar.closed_reason(to) or "not an open weekday"
            raise BookError(f"the clinic is closed on {to:%a %Y-%m-%d} ({why})")
        when = at or row.start.time().replace(tzinfo=None)
        pin = _Pin(row.id, to, when, row.phase, row.phase_number, row.phase_total, _minutes(row))
        order = sorted((r for r in rows if r.status != "cancelled"), key=lambda r: r.start)
        after_it = {r.id for r in order[order.index(row) + 1 :]} if row in order else set()
        try:
            changes, interrupted = _settle(
                tx,
                ctx,
                course,
                protocol,
                rows,
                free=lambda r: r.id in after_it and r.start.date() > ctx.today,
                pin=pin,
                why=f"session {row.number} moved to {to}",
                waive=override is not None,
                override=override is not None,
            )
        except PlanError as exc:
            raise PlanError(
                f"cannot move session {row.number} of {patient} to {to:%a %Y-%m-%d}: "
                f"{str(exc).removesuffix('; nothing was changed')}; nothing was changed; "
                'give --override "REASON" to move it anyway'
            ) from None
        if interrupted is not None and override is None:
            raise PlanError(
                f"cannot move session {row.number} of {patient} to {to:%a %Y-%m-%d}: "
                f'{interrupted}; nothing was changed; give --override "REASON" to move '
                "it anyway"
            )
        after = tx.course_sessions(course.id)
        old, new = _touched(rows, after)
        _history(tx, ctx, course, "move", override, old, new)
        if override is not None:
            _history(tx, ctx, course, "override", override, [], [])
        note = f" (override: {override})" if override else ""
        return LifecycleResult(
            patient,
            f"Moved {patient} session {row.number} ({_label(row)}) from "
            f"{row.start:%a %Y-%m-%d %H:%M} to {to:%a %Y-%m-%d} {when:%H:%M}{note}.",
            tuple(changes),
        )

    return _transaction(book, ctx, work)


def booster(
    book: Book, ctx: Context, patient: str, day: date, *, at: time | None = None, reason: str | None
) -> LifecycleResult:
    """Book one extra maintenance session (a relapse) on an active course, at least the
    protocol's booster gap from the treatments around it; the rest of the maintenance is
    re-planned from it."""

    def work(tx: BookWriter) -> LifecycleResult:
        course, protocol, rows = _load(tx, patient)
        if course.status != "active":
            raise BookError(
                f"{patient}'s course is {course.status}; a booster needs an active course"
            )
        if day < ctx.today:
            raise UsageError(f"--date {day} is in the past (today is {ctx.today})")
        if not ctx.calendar.is_open(day):
            why = ctx.calendar.closed_reason(day) or "not an open weekday"
            raise BookError(f"the clinic is closed on {day:%a %Y-%m-%d} ({why})")
        fixed = {p.name for p in protocol.phases if p.sessions is not None}
        live = [r for r in rows if r.status != "cancelled"]
        induction = [r for r in live if r.phase in fixed and r.status in ("booked", "attended")]
        if induction and induction[-1].start.date() >= day:
            raise BookError(
                f"a booster is one extra maintenance session; {patient}'s "
                f"{protocol.phases[0].name} runs until {max(r.start.date() for r in induction)}"
            )
        gap = booster_gap(protocol)
        for r in live:
            if r.status in ("booked", "attended") and abs((r.start.date() - day).days) < gap:
                raise BookError(
                    f"a booster must be at least {gap} days from the sessions around it; "
                    f"session {r.number} is on {r.start:%a %Y-%m-%d}"
                )
        count = sum(1 for r in live if r.phase == BOOSTER) + 1
        last = protocol.phases[-1]
        when = at or _time_of(None, rows, protocol, last.name, ctx.clinic)[0]
        pin = _Pin(None, day, when, BOOSTER, count, count, last.chair_minutes)
        changes, _ = _settle(
            tx,
            ctx,
            course,
            protocol,
            rows,
            free=lambda r: r.start.date() > day,
            pin=pin,
            why=f"a booster on {day}",
        )
        after = tx.course_sessions(course.id)
        old, new = _touched(rows, after)
        _history(tx, ctx, course, "booster", reason, old, new)
        return LifecycleResult(
            patient,
            f"Booked a booster for {patient} on {day:%a %Y-%m-%d} {when:%H:%M}"
            + (f": {reason}" if reason else "")
            + ".",
            tuple(changes),
        )

    return _transaction(book, ctx, work)


ReplanMode = Literal["continue", "restart", "previous-frequency"]


def replan_course(
    book: Book,
    ctx: Context,
    patient: str,
    mode: ReplanMode,
    *,
    reason: str | None = None,
    restart_on: date | None = None,
) -> LifecycleResult:
    """Re-plan the rest of a course: continue an interrupted induction (its window and
    gaps waived), restart it (a new induction from `restart_on`, default tomorrow), or
    return esketamine maintenance to the previous frequency (weekly)."""

    def work(tx: BookWriter) -> LifecycleResult:
        course, protocol, rows = _load(tx, patient)
        tomorrow = ctx.today + timedelta(days=1)
        interval: int | None = None
        state: InductionState | None = None
        since: date | None = None
        if mode in ("continue", "restart"):
            if course.induction != "interrupted":
                raise BookError(
                    f"{patient}'s induction is not interrupted; --{mode} is for an induction "
                    "that lost its window"
                )
            state = "continued" if mode == "continue" else "restarted"
            if restart_on is not None and restart_on < tomorrow:
                raise UsageError(f"--from {restart_on} is not after today ({ctx.today})")
            since = (restart_on or tomorrow) if mode == "restart" else None
        else:
            if protocol.route != "esketamine":
                raise BookError(
                    "--previous-frequency is the esketamine label's guidance for a missed "
                    f"maintenance session; {patient}'s course is {protocol.title}"
                )
            interval = PREVIOUS_FREQUENCY_DAYS
        open_phase = protocol.phases[-1].name

        def free(r: SessionRecord) -> bool:
            if r.start.date() <= ctx.today:
                return False
            return mode != "previous-frequency" or r.phase == open_phase

        changes, interrupted = _settle(
            tx,
            ctx,
            course,
            protocol,
            rows,
            free=free,
            why=f"replan --{mode}",
            waive=mode == "continue",
            since=since,
            interval=interval,
            induction=state,
        )
        if interrupted is not None:
            raise PlanError(f"cannot re-plan {patient}'s course: {interrupted}")
        after = tx.course_sessions(course.id)
        old, new = _touched(rows, after)
        _history(tx, ctx, course, f"replan --{mode}", reason, old, new)
        _course_status(tx, course)
        words = {
            "continue": "the interrupted induction continues, its window waived",
            "restart": f"the induction restarts from {since}",
            "previous-frequency": f"maintenance every {PREVIOUS_FREQUENCY_DAYS} days",
        }
        return LifecycleResult(
            patient, f"Re-planned {patient}'s course: {words[mode]}.", tuple(changes)
        )

    return _transaction(book, ctx, work)


def file_form(book: Book, ctx: Context, patient: str, number: int) -> LifecycleResult:
    """Record a REMS patient monitoring form as submitted for an attended esketamine
    session."""

    def work(tx: BookWriter) -> LifecycleResult:
        course, protocol, rows = _load(tx, patient)
        row = _find(rows, patient, SessionRef(number=number), ctx.today)
        if protocol.route != "esketamine":
            raise BookError(f"{patient}'s course is {protocol.title}: no REMS forms")
        if row.status != "attended":
            raise BookError(
                f"session {row.number} of {patient} is {row.status}; a monitoring form is owed "
                "for attended sessions only"
            )
        filed = tx.forms_filed([row.id]).get(row.id)
        if filed is not None:
            raise BookError(
                f"the form for session {row.number} of {patient} was already recorded as filed "
                f"on {filed.filed_on} by {filed.by}"
            )
        tx.file_form(FormFiled(row.id, ctx.today, ctx.by, ctx.now))
        _history(tx, ctx, course, "rems-filed", None, [], [])
        due = row.start.date() + timedelta(days=7)
        late = " (late)" if ctx.today > due else ""
        return LifecycleResult(
            patient,
            f"Recorded the REMS monitoring form of {patient} session {row.number} "
            f"({row.start:%a %Y-%m-%d}) as filed on {ctx.today}{late}.",
            (),
        )

    return _transaction(book, ctx, work)


# ---------------------------------------------------------------------- home doses


def follow_home_doses(
    tx: BookWriter,
    ctx: Context,
    course: CourseRecord,
    protocol: Protocol,
    before: list[SessionRecord],
) -> list[Change]:
    """Home lozenge doses follow the maintenance visits (and boosters) they sit between,
    as the course was planned (`home_dose_days`): a future dose no longer on such a day
    moves to a day that misses one (its uid kept), what is left over is cancelled or
    added, and the doses are numbered again in date order. Doses on or before today stay
    as they are. Nothing for a course without home doses, or of home doses alone.
    `before`: the course's sessions before the change."""
    rows = tx.course_sessions(course.id)
    home = [r for r in rows if r.location == "home"]
    every = asked_lozenges(course.asked) or _home_interval(before)
    phase = protocol.open_phase
    # Home doses added to clinic visits only: a course of home doses alone keeps its own.
    if not home or every is None or phase is None or phase.location != "clinic":
        return []
    zone = ZoneInfo(course.zone)

    def day(r: SessionRecord) -> date:
        return r.start.astimezone(zone).date()

    visits = sorted(
        day(r)
        for r in rows
        if r.location == "clinic"
        and r.phase in (phase.name, BOOSTER)
        and r.status in ("booked", "attended")
    )
    wanted = {d for d in home_dose_days(visits, every) if d > ctx.today}
    live = [r for r in home if r.status == "booked"]
    going = sorted((r for r in live if day(r) > ctx.today and day(r) not in wanted), key=day)
    missing = sorted(wanted - {day(r) for r in live})
    if not going and not missing:
        return []
    # A dose that must go moves to a missing day (its uid kept, its SEQUENCE raised);
    # only what is left over is cancelled or added.
    at = live[0].start if live else local_start(ctx.today, ctx.clinic.session_time, zone)[0]
    at_time = at.astimezone(zone).time().replace(tzinfo=None)
    moves = dict(zip((r.id for r in going), missing, strict=False))
    cancelled = [r for r in going if r.id not in moves]
    last = max(r.number for r in rows)
    added_days = missing[len(moves) :]
    placed: list[tuple[datetime, int, SessionRecord | None]] = [
        (
            local_start(moves[r.id], at_time, zone)[0] if r.id in moves else r.start,
            r.number,
            r,
        )
        for r in live
        if r not in cancelled
    ]
    placed += [
        (local_start(d, at_time, zone)[0], last + n, None) for n, d in enumerate(added_days, 1)
    ]
    placed.sort(key=lambda item: (item[0], item[1]))
    total = len(placed)
    changes: list[Change] = []
    if cancelled:
        tx.cancel_sessions([r.id for r in cancelled])
        changes += [
            Change(r.number, "cancelled", _label(r), None, r.start, None, None, None)
            for r in cancelled
        ]
    added: list[NewSession] = []
    for index, (start, number, row) in enumerate(placed, 1):
        label = f"{HOME_PHASE} {index}/{total}"
        end = start + timedelta(minutes=HOME_DOSE_MINUTES)
        if row is None:
            added.append(
                NewSession(
                    uid=added_session_uid(course.patient, course.id, number),
                    number=number,
                    phase=HOME_PHASE,
                    phase_number=index,
                    phase_total=total,
                    location="home",
                    start=start,
                    end=end,
                    chair=None,
                    note=_HOME_NOTE,
                )
            )
            changes.append(Change(number, "added", None, label, None, start, None, None))
        elif (row.start, row.phase_number, row.phase_total) != (start, index, total):
            moved = row.start != start
            note = _HOME_NOTE if moved else row.note
            tx.change_session(
                SessionChange(row.id, HOME_PHASE, index, total, start, end, None, note)
            )
            kind: ChangeKind = "moved" if moved else "relabelled"
            changes.append(
                Change(row.number, kind, _label(row), label, row.start, start, None, None)
            )
    if added:
        tx.add_sessions(course.id, course.zone, added)
    return changes


_HOME_NOTE = "a home dose between the visits as they are now"


def _home_interval(rows: list[SessionRecord]) -> int | None:
    """A course booked before the book kept its request: the interval its home doses
    follow, the fewest days between two doses or from a visit to the first dose after
    it (as planned, and as every change keeps them), within the lozenge range."""
    live = sorted((r for r in rows if r.status != "cancelled"), key=lambda r: r.start)
    doses = [r.start.date() for r in live if r.location == "home"]
    gaps = [(b - a).days for a, b in pairwise(doses)]
    visit: date | None = None
    for r in live:
        if r.location == "clinic" and r.status in ("booked", "attended"):
            visit = r.start.date()
        elif r.location == "home" and visit is not None:
            gaps.append((r.start.date() - visit).days)
            visit = None
    fitting = [g for g in gaps if LOZENGE_MIN_GAP <= g <= LOZENGE_MAX_GAP]
    return min(fitting) if fitting else None


# ------------------------------------------------------------- a clinic's settings change

# How far from its day a session the clinic's new settings leave no room for may go,
# each way: two weeks, further than any protocol's gap allows (the rules decide).
REFIT_DAYS = 14


@dataclass(frozen=True)
class Unfit:
    """A booked session the clinic's settings no longer have room for, and why."""

    session: SessionRecord
    reason: str


def refit(
    tx: BookWriter, ctx: Context, unfit: Sequence[Unfit], why: str
) -> tuple[list[LifecycleResult], list[Unfit]]:
    """Re-place each session in `unfit` under the clinic's new settings (`ctx.clinic`,
    `ctx.calendar`), inside the caller's write transaction, earliest first:

    1. alone: on its own day at its time or the nearest free time, else on the nearest
       open day (the earlier of two equally near) between the course's sessions before
       and after it, where the course keeps every rule it kept and a chair is free;
    2. else with the course's next session, both within PAIR_DAYS of their days and
       between the sessions around them, the nearest pair first (esketamine's two
       sessions a week: a closed Wednesday moves Wednesday's to Thursday and Friday's
       to Monday, in the same week of the schedule);
    3. else as a `move` would: on the nearest open day within REFIT_DAYS with a free
       chair, the course's later sessions re-planned from it by the protocol's rules
       (`_settle`, checked by the independent rules checker).

    Only these sessions move, with, in 2, the next one and, in 3, the ones after them;
    home doses follow the visits. Each re-planned course gets one history entry.
    Returns what changed, one result per course, and the sessions with nowhere to go;
    when any is left the caller must roll back."""
    pending = {u.session.id: u for u in sorted(unfit, key=lambda u: u.session.start)}
    first_rows: dict[int, list[SessionRecord]] = {}
    courses: dict[int, CourseRecord] = {}
    changes: dict[int, list[Change]] = {}
    left: list[Unfit] = []
    while pending:
        u = pending.pop(next(iter(pending)))
        course = tx.active_course(u.session.patient)
        if course is None or course.id != u.session.course_id:  # pragma: no cover
            left.append(u)
            continue
        rows = tx.course_sessions(course.id)
        first_rows.setdefault(course.id, rows)
        courses[course.id] = course
        # The sessions still waiting hold no chair: each of them moves too.
        job = _Refit(tx, ctx, course, rows, u, frozenset(pending), why)
        done = _in_place(job, with_next=False)
        if done is None:
            done = _in_place(job, with_next=True)
        if done is None:
            done = _with_the_rest(job)
        if done is None:
            left.append(u)
            continue
        changes.setdefault(course.id, []).extend(done)
        now = {r.id: r for r in tx.course_sessions(course.id)}
        for key in [k for k, p in pending.items() if p.session.course_id == course.id]:
            row = now[key]
            if (row.start, row.chair, row.status) != (
                pending[key].session.start,
                pending[key].session.chair,
                "booked",
            ):
                del pending[key]  # re-planned with an earlier session of its course
    if left:
        return [], left
    results: list[LifecycleResult] = []
    for key, course in courses.items():
        old, new = _touched(first_rows[key], tx.course_sessions(key))
        _history(tx, ctx, course, "clinic apply", why, old, new)
        moved = sorted(_merged(changes[key]), key=_change_order)
        count = f"{len(moved)} session{'s' if len(moved) != 1 else ''}"
        headline = f"Re-planned {count} of {course.patient}."
        results.append(LifecycleResult(course.patient, headline, tuple(moved)))
    return results, []


def _merged(changes: list[Change]) -> list[Change]:
    """One change per session for several steps in a row (a home dose numbered again,
    then moved): as it was before the first, as it is after the last."""
    first: dict[int, Change] = {}
    last: dict[int, Change] = {}
    for c in changes:
        first.setdefault(c.number, c)
        last[c.number] = c
    merged: list[Change] = []
    for number, a in first.items():
        b = last[number]
        if a is b:
            merged.append(a)
            continue
        kind: ChangeKind = (
            "added"
            if a.kind == "added"
            else "cancelled"
            if b.kind == "cancelled"
            else "moved"
            if a.before != b.after or a.chair_before != b.chair_after
            else "relabelled"
        )
        merged.append(
            Change(
                number,
                kind,
                a.label_before,
                b.label_after,
                a.before,
                b.after,
                a.chair_before,
                b.chair_after,
                a.note or b.note,
            )
        )
    return merged


def _slots(rows: list[SessionRecord], zone: ZoneInfo) -> dict[int, tuple[str, date, str, int]]:
    """The course as the rules checker reads it: clinic sessions not cancelled."""
    return {
        r.id: (r.phase, r.start.astimezone(zone).date(), r.status, r.phase_number)
        for r in rows
        if r.status != "cancelled" and r.location == "clinic"
    }


@dataclass(frozen=True)
class _Refit:
    """One session for `refit` to re-place, and what both ways of placing it read."""

    tx: BookWriter
    ctx: Context
    course: CourseRecord
    rows: list[SessionRecord]
    unfit: Unfit
    waiting: frozenset[int]  # the ids of the sessions still to move: they hold no chair
    why: str

    @property
    def row(self) -> SessionRecord:
        return self.unfit.session

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.course.zone)

    @cached_property
    def protocol(self) -> Protocol:
        return protocol_from_definition(self.course.definition)

    @property
    def own(self) -> datetime:
        """Where the session is now, in its zone."""
        return self.row.start.astimezone(self.zone)

    def spot(
        self, capacity: Capacity, day: date, row: SessionRecord | None = None
    ) -> tuple[datetime, int] | None:
        """A session's time of day (this one's, or `row`'s) on `day`, else the nearest
        free time, and a chair; None when the day has no room."""
        row = row or self.row
        at = row.start.astimezone(self.zone).time().replace(tzinfo=None)
        start = local_start(day, at, self.zone)[0]
        length = row.end - row.start
        found = capacity.place(_as_session(day, start, start + length), at)
        return None if found is None else (found[0].astimezone(self.zone), found[1])

    def probe(self, moving: set[int], loaded: LoadedDays | None = None) -> Capacity:
        """The chairs as they are, without the sessions that are to move: those still
        waiting and `moving`."""
        gone = self.waiting | moving

        def load(first: datetime, last: datetime) -> list[ChairUse]:
            return [u for u in self.tx.chairs_held(first, last) if u.session not in gone]

        return Capacity(self.ctx.clinic, self.course.zone, load, now=self.ctx.now, loaded=loaded)


# A session and the one after it are tried together this far from their days, each way.
PAIR_DAYS = 7


def _in_place(job: _Refit, *, with_next: bool) -> list[Change] | None:
    """Steps 1 and 2 of `refit`: the session alone (or with the course's next session,
    when that is booked in the clinic too) on the nearest open days between the
    sessions around them, where the course keeps every rule it kept and chairs are free;
    each at its time of day or the nearest free time. None when there is no such
    place."""
    row, ctx = job.row, job.ctx
    order = sorted((r for r in job.rows if r.status != "cancelled"), key=lambda r: r.start)
    at = next(i for i, r in enumerate(order) if r.id == row.id)
    group = order[at : at + 2] if with_next else [order[at]]
    if with_next and (
        len(group) < 2
        or group[1].status != "booked"
        or group[1].location != "clinic"
        or group[1].phase == BOOSTER
    ):
        return None
    slots = _slots(job.rows, job.zone)
    ids = {r.id for r in group}
    own = [r.start.astimezone(job.zone).date() for r in group]
    others = sorted(d for k, (_, d, _, _) in slots.items() if k not in ids)
    low = max((d for d in others if d < own[0]), default=None)
    high = min((d for d in others if d > own[-1]), default=None)
    patient = asked_calendar(ctx.calendar, job.course.asked)
    reach = PAIR_DAYS if with_next else REFIT_DAYS

    def fits(day: date) -> bool:
        return (
            (low is None or day > low)
            and (high is None or day < high)
            and abs((day - own[0]).days) <= reach + abs((own[-1] - own[0]).days)
            and patient.is_open(day)
        )

    def broken(days: tuple[date, ...]) -> set[str]:
        trial = dict(slots)
        for r, day in zip(group, days, strict=True):
            trial[r.id] = (r.phase, day, "booked", r.phase_number)
        return set(
            course_violations(
                job.protocol,
                list(trial.values()),
                ctx.calendar,
                ctx.today,
                induction=job.course.induction,
                induction_since=job.course.induction_since,
            )
        )

    # Rules the course broke before (an override) may stay broken; none may be added.
    closed = {f"the session on {day} falls on a closed day" for day in own}
    before = broken(tuple(own)) - closed
    choices = [[d for d in _days_near(day, ctx.today) if fits(d)][: 2 * reach + 1] for day in own]
    combos: list[tuple[date, ...]] = (
        [(d,) for d in choices[0]]
        if not with_next
        else sorted(
            ((a, b) for a in choices[0] for b in choices[1] if a < b),
            key=lambda ab: (abs((ab[0] - own[0]).days) + abs((ab[1] - own[1]).days), ab),
        )
    )
    loaded: LoadedDays = {}
    for days in combos:
        if not broken(days) <= before:
            continue
        capacity = job.probe(ids, loaded)
        spots: list[tuple[datetime, int]] = []
        for r, day in zip(group, days, strict=True):
            spot = job.spot(capacity, day, r)
            if spot is None:
                break
            capacity.hold(spot[0], spot[0] + (r.end - r.start), spot[1])
            spots.append(spot)
        if len(spots) < len(group):
            continue
        changes: list[Change] = []
        for r, (begin, chair) in zip(group, spots, strict=True):
            why = job.unfit.reason if r.id == row.id else f"moved with session {row.number}"
            job.tx.change_session(
                SessionChange(
                    r.id,
                    r.phase,
                    r.phase_number,
                    r.phase_total,
                    begin,
                    begin + (r.end - r.start),
                    chair,
                    f"re-planned after {job.why}: {why}",
                )
            )
            label = _label(r)
            moved = Change(r.number, "moved", label, label, r.start, begin, r.chair, chair)
            changes.append(replace(moved, note=why))
        home = follow_home_doses(job.tx, ctx, job.course, job.protocol, job.rows)
        return [*changes, *home]
    return None


class _NotHere(Exception):
    """A day tried for a session that does not keep the course's rules."""


def _with_the_rest(job: _Refit) -> list[Change] | None:
    """Step 3 of `refit`: the session on the nearest day with a free chair, its
    course's later sessions re-planned from it; None when no day keeps the rules."""
    row, ctx = job.row, job.ctx
    order = sorted((r for r in job.rows if r.status != "cancelled"), key=lambda r: r.start)
    at = next(i for i, r in enumerate(order) if r.id == row.id)
    earlier = [r.start.astimezone(job.zone).date() for r in order[:at]]
    later = {r.id for r in order[at + 1 :]}
    capacity = job.probe({row.id})
    minutes = _minutes(row)
    patient = asked_calendar(ctx.calendar, job.course.asked)
    loaded: LoadedDays = {}  # every day tried frees the same sessions' chairs
    for day in _days_near(job.own.date(), ctx.today):
        if (earlier and day <= earlier[-1]) or not patient.is_open(day):
            continue
        spot = job.spot(capacity, day)
        if spot is None:
            continue
        when = spot[0].time().replace(tzinfo=None)
        pin = _Pin(row.id, day, when, row.phase, row.phase_number, row.phase_total, minutes)
        try:
            with job.tx.savepoint():
                done, interrupted = _settle(
                    job.tx,
                    ctx,
                    job.course,
                    job.protocol,
                    job.rows,
                    free=lambda r: r.id in later and r.start.date() > ctx.today,
                    pin=pin,
                    why=job.why,
                    waiting=set(job.waiting),
                    loaded=loaded,
                )
                if interrupted is not None:
                    raise _NotHere(interrupted)
        except (_NotHere, PlanError, BookError):
            continue
        return [replace(c, note=job.unfit.reason) if c.number == row.number else c for c in done]
    return None


def _days_near(day: date, today: date) -> Iterable[date]:
    """`day`, then the days either side of it (the earlier first), none before today."""
    for distance in range(REFIT_DAYS + 1):
        for near in dict.fromkeys((day - timedelta(days=distance), day + timedelta(days=distance))):
            if near >= today:
                yield near
