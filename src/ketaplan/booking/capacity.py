"""The capacity engine: a planned course placed into the clinic's chairs and start slots.

Pure: no SQL and no clock. What is already booked comes in through a loader (the store's
`chairs_held`), called once for each run of days not yet seen; `now` is an argument.

Capacity (from the clinic config): opening hours per weekday, `chairs`, start slots of
`slot_minutes`, and at most `starts_per_slot` sessions starting in one slot (nurse load).
A clinic session holds one chair for its phase's chair time (start to end), starts at or
after opening and ends by closing. Home doses take no chair.

Placing a course:

1. plan it with the protocol's rules (`plan_course`);
2. each clinic session at the preferred time if a chair and its start slot are free,
   else at the nearest free start time that day (slot boundaries; the earlier of two
   equally near); with no preferred time, the first clinic session takes the least
   loaded start (fewest chairs in use during the session, then fewest starts in the
   slot, then the earliest), and its time of day becomes the preferred time of the rest:
   patients keep one routine where the chairs allow;
3. a day with no free time is closed for this patient and the whole course is planned
   again with that closure: `plan_course` then keeps every protocol rule with the day
   closed (gaps, windows, weekly blocks), exactly as for a holiday.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import reduce
from operator import or_
from zoneinfo import ZoneInfo

from ketaplan.errors import BookError, PlanError
from ketaplan.model.calendar import ClinicCalendar, Closure
from ketaplan.model.clinic import ClinicConfig
from ketaplan.model.course import Course, CourseRequest, Session, local_start
from ketaplan.model.records import ChairUse
from ketaplan.planning.planner import plan_course

FULL_DAY = "fully booked"
# A course that still has no room after this many full days or later starts is refused.
MAX_ATTEMPTS = 120


LoadChairs = Callable[[datetime, datetime], Iterable[ChairUse]]


@dataclass(frozen=True)
class Placement:
    """One session of a booked course.

    Attributes:
        session: as booked: day and time, and a note saying what moved and why.
        chair: 1-based chair for a clinic session; None for a home dose.
        ideal_day: the day the protocol and the clinic calendar alone give it (no
            capacity); None when that plan has no such session.
        preferred: the requested time of day; None when the coordinator gave none.
    """

    session: Session
    chair: int | None
    ideal_day: date | None
    preferred: time | None

    @property
    def on_ideal_day(self) -> bool:
        return self.session.day == self.ideal_day

    @property
    def at_preferred_time(self) -> bool | None:
        """None when no time was asked for."""
        if self.preferred is None:
            return None
        return self.session.start.time().replace(tzinfo=None) == self.preferred


@dataclass(frozen=True)
class Booking:
    """A course placed into the clinic's capacity.

    Attributes:
        course: the course as booked (every session's final day and time).
        placements: one per session, in course order, with chairs.
        full_days: days closed for this patient because they had no free time.
        calendar: the calendar the course keeps: the clinic's plus `full_days`.
    """

    course: Course
    placements: tuple[Placement, ...]
    full_days: tuple[date, ...]
    calendar: ClinicCalendar

    @property
    def moved(self) -> tuple[Placement, ...]:
        return tuple(p for p in self.placements if p.session.note)


class _Day:
    """One day's chairs and start slots, from opening to closing.

    `taken[m]` is a bit set of the chairs held in minute m (bit 0 is chair 1): the chairs
    free for a whole session are one OR over its minutes, however many chairs there are.
    """

    def __init__(self, clinic: ClinicConfig, day: date, zone: ZoneInfo, now: datetime) -> None:
        opens, closes = clinic.hours.get(day.weekday(), (time(0), time(0)))
        self.opens = local_start(day, opens, zone)[0].astimezone(UTC)
        closing = local_start(day, closes, zone)[0].astimezone(UTC)
        self.minutes = max(0, int((closing - self.opens).total_seconds()) // 60)
        self.hours = f"{opens:%H:%M}-{closes:%H:%M}"
        self.chairs = clinic.chairs
        self.slot = clinic.slot_minutes
        self.per_slot = clinic.starts_per_slot
        self.every_chair = (1 << self.chairs) - 1
        self.taken = [0] * self.minutes
        self.in_use = array("H", bytes(2 * self.minutes))
        self.starts = [0] * (self.minutes // self.slot + 1)
        passed = (now - self.opens).total_seconds() / 60
        self.earliest = max(0, math.ceil(passed))

    def copy(self) -> _Day:
        """The same day, to hold more in without changing this one."""
        twin = object.__new__(_Day)
        twin.__dict__.update(self.__dict__)
        twin.taken = self.taken.copy()
        twin.in_use = array("H", self.in_use)
        twin.starts = self.starts.copy()
        return twin

    def offset(self, moment: datetime) -> int:
        return int((moment - self.opens).total_seconds()) // 60

    def moment(self, offset: int) -> datetime:
        return self.opens + timedelta(minutes=offset)

    def hold(self, start: datetime, end: datetime, chair: int) -> None:
        first = self.offset(start)
        a, b = max(0, first), min(self.minutes, self.offset(end))
        if 0 <= first < self.minutes:
            self.starts[first // self.slot] += 1
        if a >= b:
            return
        bit = 1 << (chair - 1) if 1 <= chair <= self.chairs else 0
        self.taken[a:b] = [held | bit for held in self.taken[a:b]]
        self.in_use[a:b] = array("H", [count + 1 for count in self.in_use[a:b]])

    def why_not(self, offset: int, length: int) -> str | None:
        """Why a session cannot start here, or None when it can."""
        if offset < 0 or offset + length > self.minutes:
            return f"outside opening hours {self.hours}"
        if offset < self.earliest:
            return "already past"
        if self.free_chair(offset, length) is None:
            return "no chair free"
        if self.starts[offset // self.slot] >= self.per_slot:
            starts = "1 start" if self.per_slot == 1 else f"{self.per_slot} starts"
            return f"start slot full ({starts} per {self.slot} min)"
        return None

    def free_chair(self, offset: int, length: int) -> int | None:
        held = reduce(or_, self.taken[offset : offset + length], 0)
        free = self.every_chair & ~held
        # The lowest free chair: the lowest set bit.
        return (free & -free).bit_length() if free else None

    def fits(self, offset: int, length: int) -> bool:
        return (
            self.earliest <= offset
            and offset + length <= self.minutes
            and self.starts[offset // self.slot] < self.per_slot
            and self.free_chair(offset, length) is not None
        )

    def nearest(self, wanted: int, length: int) -> int | None:
        """The free start nearest `wanted` (slot boundaries; earlier on a tie)."""
        if self.fits(wanted, length):
            return wanted
        grid = range(0, self.minutes - length + 1, self.slot)
        for offset in sorted(grid, key=lambda m: (abs(m - wanted), m)):
            if self.fits(offset, length):
                return offset
        return None

    def least_loaded(self, length: int) -> int | None:
        """The free start with the fewest chairs in use during the session, then the
        fewest starts in its slot, then the earliest."""
        options: list[tuple[int, int, int]] = []
        for offset in range(0, self.minutes - length + 1, self.slot):
            starts = self.starts[offset // self.slot]
            if offset < self.earliest or starts >= self.per_slot:
                continue
            load = max(self.in_use[offset : offset + length])
            if load < self.chairs:
                options.append((load, starts, offset))
        options.sort()
        for _, _, offset in options:
            if self.free_chair(offset, length) is not None:
                return offset
        return None


# The days a Capacity loaded, as the loader gave them (see Capacity's `loaded`).
LoadedDays = dict[date, _Day]


class Capacity:
    """The clinic's chairs and start slots, loaded day by day as bookings need them and
    updated in memory as courses are placed: one per write transaction (a roster books
    every patient into the same one)."""

    def __init__(
        self,
        clinic: ClinicConfig,
        zone: str,
        load: LoadChairs,
        *,
        now: datetime,
        loaded: LoadedDays | None = None,
    ) -> None:
        """`loaded`: days as the loader gave them, shared by the Capacity objects of one
        trial and error over the same book and loader (a re-plan tried again with a
        full day closed, a session tried on several days); each takes its own copy."""
        self.clinic = clinic
        self.zone = ZoneInfo(zone)
        self._load = load
        self._now = now
        self._days: dict[date, _Day] = {}
        self._loaded: LoadedDays = {} if loaded is None else loaded

    def day(self, day: date) -> _Day:
        if day not in self._days:
            self.ensure(day, day)
        return self._days[day]

    def ensure(self, first: date, last: date) -> None:
        """Load what is booked on the days from `first` to `last` not loaded yet, in one
        call of the loader."""
        count = (last - first).days + 1
        missing = [d for d in (first + timedelta(n) for n in range(count)) if d not in self._days]
        if not missing:
            return
        fresh = [d for d in missing if d not in self._loaded]
        if fresh:
            new = {day: _Day(self.clinic, day, self.zone, self._now) for day in fresh}
            since = local_start(fresh[0], time(0), self.zone)[0]
            until = local_start(fresh[-1] + timedelta(days=1), time(0), self.zone)[0]
            for use in self._load(since, until):
                held = new.get(use.start.astimezone(self.zone).date())
                if held is not None:
                    held.hold(use.start, use.end, use.chair)
            self._loaded.update(new)
        for day in missing:
            self._days[day] = self._loaded[day].copy()

    def hold(self, start: datetime, end: datetime, chair: int) -> None:
        self.day(start.astimezone(self.zone).date()).hold(start, end, chair)

    def place(self, session: Session, preferred: time | None) -> tuple[datetime, int, str] | None:
        """Start, chair and a note (empty when at the preferred time) for a clinic
        session on its day, or None when the day has no free time for it."""
        day = self.day(session.day)
        length = int((session.end - session.start).total_seconds()) // 60
        if preferred is None:
            offset = day.least_loaded(length)
            note = ""
        else:
            wanted = day.offset(local_start(session.day, preferred, self.zone)[0])
            offset = day.nearest(wanted, length)
            note = ""
            if offset is not None and offset != wanted:
                reason = day.why_not(wanted, length)
                local = day.moment(offset).astimezone(self.zone)
                note = f"at {local:%H:%M}, not {preferred:%H:%M}: {reason}"
        if offset is None:
            return None
        chair = day.free_chair(offset, length)
        if chair is None:  # pragma: no cover - fits() found one a moment ago
            return None
        return day.moment(offset), chair, note


def book_course(request: CourseRequest, preferred: time | None, capacity: Capacity) -> Booking:
    """Place a course into `capacity` and hold its chairs there, or raise PlanError /
    BookError (nothing held) when the protocol's rules cannot be kept with the free days.

    `preferred` is the patient's time of day, None for the least loaded start; home
    doses keep `request.at`.
    """
    ideal = plan_course(request)
    ideal_days = {(s.phase, s.phase_number): s.day for s in ideal.sessions}
    full: list[date] = []
    calendar = request.calendar
    start_day = request.start
    course: Course | None = ideal
    spots: dict[int, tuple[datetime, int, str]] = {}
    refusal: PlanError | None = None
    for _ in range(MAX_ATTEMPTS):
        if course is not None:
            blocked = _place_all(course, preferred, capacity, spots)
            if blocked is None:
                break
            full.append(blocked)
        closures = tuple(Closure(d, d, FULL_DAY) for d in full if d >= start_day)
        calendar = replace(request.calendar, closures=request.calendar.closures + closures)
        try:
            # No suggested start: this loop tries the later starts itself.
            course = plan_course(
                replace(request, start=start_day, calendar=calendar), suggest_start=False
            )
        except PlanError as exc:
            # The full days leave no room for the rules from this start: a day later.
            refusal, course = exc, None
            start_day += timedelta(days=1)
    else:
        reason = f": {refusal}" if refusal is not None else ""
        raise BookError(
            f"cannot book {request.patient}: {_full_days(full)}; the clinic has no room for "
            f"this course within {MAX_ATTEMPTS} tries{reason}"
        )
    assert course is not None  # the loop breaks only with a placed course

    placements: list[Placement] = []
    sessions: list[Session] = []
    for session in course.sessions:
        ideal_day = ideal_days.get((session.phase, session.phase_number))
        notes = [session.note] if session.note else []
        if session.number == 1 and course.start != request.start:
            notes.insert(
                0, f"start date moved from {request.start} to {course.start}: no room earlier"
            )
        if ideal_day is not None and ideal_day != session.day and not notes:
            notes.append(f"ideal date {ideal_day:%a %Y-%m-%d} (follows an earlier move)")
        chair: int | None = None
        booked = session
        if session.number in spots:
            start, chair, time_note = spots[session.number]
            if time_note:
                notes.append(time_note)
            length = session.end - session.start
            booked = replace(
                session,
                start=start.astimezone(capacity.zone),
                end=(start + length).astimezone(capacity.zone),
            )
            capacity.hold(booked.start, booked.end, chair)
        booked = replace(booked, note="; ".join(notes) or None)
        sessions.append(booked)
        placements.append(Placement(booked, chair, ideal_day, preferred))
    final = replace(course, sessions=tuple(sessions))
    return Booking(final, tuple(placements), tuple(full), calendar)


def _place_all(
    course: Course,
    preferred: time | None,
    capacity: Capacity,
    spots: dict[int, tuple[datetime, int, str]],
) -> date | None:
    """Find a start and a chair for every clinic session (into `spots`), or return the
    first day that has no room. Nothing is held yet: a course has one session a day."""
    spots.clear()
    clinic_days = [s.day for s in course.sessions if s.location == "clinic"]
    if clinic_days:
        capacity.ensure(clinic_days[0], clinic_days[-1])
    keep = preferred
    for session in course.sessions:
        if session.location != "clinic":
            continue
        spot = capacity.place(session, keep)
        if spot is None:
            return session.day
        spots[session.number] = spot
        if keep is None:
            # The first session's time of day is the course's from here on.
            keep = spot[0].astimezone(capacity.zone).time()
    return None


def _full_days(days: list[date]) -> str:
    if not days:
        return "no full days"
    if len(days) <= 3:
        return "fully booked on " + ", ".join(d.isoformat() for d in days)
    return f"{len(days)} days fully booked from {days[0]} to {days[-1]}"


def day_utilization(
    day: date, chair_times: Iterable[tuple[datetime, datetime]], clinic: ClinicConfig, zone: str
) -> float | None:
    """Share of the day's chair time (chairs x opening hours) held by these sessions;
    None on a day without opening hours."""
    if day.weekday() not in clinic.open_weekdays or day.weekday() not in clinic.hours:
        return None
    where = ZoneInfo(zone)
    opens_at, closes_at = clinic.hours[day.weekday()]
    opens = local_start(day, opens_at, where)[0]
    closes = local_start(day, closes_at, where)[0]
    total = (closes - opens).total_seconds() * clinic.chairs
    if total <= 0:
        return None
    used = sum(
        max(0.0, (min(end, closes) - max(start, opens)).total_seconds())
        for start, end in chair_times
    )
    return used / total
