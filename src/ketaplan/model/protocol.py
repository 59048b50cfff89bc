"""Treatment protocols: the rules a course is planned from.

A protocol is an ordered tuple of phases. Each field's source is recorded beside it so
that `ketaplan protocols show NAME` can print it (the built-ins: `ketaplan.planning.protocols`).

A phase is one of three kinds, decided by its fields:

- rhythm (``per_week`` unset, ``every_days`` empty): a fixed number of sessions, each on
  the earliest open day at least ``min_gap_days`` after the previous one (IV induction);
- weekly blocks (``per_week`` set): ``per_week`` sessions in each 7-day block counted from
  the course's first session (esketamine weeks 1-8);
- interval (``every_days`` set): gaps from the course's interval list, the last one
  repeating, each gap within [``min_gap_days``, ``max_gap_days``] (maintenance).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from ketaplan.errors import UsageError

Location = Literal["clinic", "home"]
Route = Literal["iv", "im", "esketamine", "lozenge"]
ROUTES: tuple[Route, ...] = ("iv", "im", "esketamine", "lozenge")
LOCATIONS: tuple[Location, ...] = ("clinic", "home")

# The SPRAVATO label's minimum observation after the last device, in minutes.
ESKETAMINE_MIN_OBSERVE_MINUTES = 120
# The parts a phase's chair time may be split into, in order.
TIME_PARTS = ("checkin_minutes", "dose_minutes", "observe_minutes")

# Sanity bounds for a clinic's own protocol file; a value outside them is a typo.
MAX_SESSIONS = 100
MAX_GAP_DAYS = 365
MAX_CHAIR_MINUTES = 12 * 60
MAX_MAINTENANCE_SESSIONS = 200


class ProtocolError(UsageError):
    """A protocol definition breaks a field's allowed range."""


@dataclass(frozen=True)
class Phase:
    """One phase of a course.

    Attributes:
        name: shown in plans and JSON (`induction`, `maintenance`, ...).
        sessions: how many sessions; None for the open-ended last phase, whose count is
            set per course (`--maintenance-sessions`, `--until`).
        min_gap_days: fewest days from one session to the next (2 = never consecutive).
        max_gap_days: most days from one session to the next.
        chair_minutes: chair time per session, session plus recovery; 0 at home. When
            the three parts below are given it is at least their sum.
        location: `clinic` (takes a chair) or `home` (a reminder, no chair).
        window_days: all of the phase's sessions fall within this many days of its first
            (21: the first and the last are at most 20 days apart).
        per_week: sessions in each 7-day block counted from the course's first session.
        every_days: default gaps of an interval phase, the last repeating (a taper).
        checkin_minutes: from the session's start to the dose: check-in, pre-dose vitals
            (and for IV placing the line); None when the phase does not split its chair
            time (the dose is then at the start).
        dose_minutes: administration, from the first device or the start of the infusion
            to the last device or the infusion's end.
        observe_minutes: observation and recovery after the administration ends.
        provisional: the phase's frequency is provisional, decided at a clinician's
            review (esketamine from week 9).
        sources: where each field's value comes from, by field name.
    """

    name: str
    sessions: int | None
    min_gap_days: int
    max_gap_days: int
    chair_minutes: int
    location: Location = "clinic"
    window_days: int | None = None
    per_week: int | None = None
    every_days: tuple[int, ...] = ()
    checkin_minutes: int | None = None
    dose_minutes: int | None = None
    observe_minutes: int | None = None
    provisional: bool = False
    sources: tuple[tuple[str, str], ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        where = f"phase {self.name!r}"
        if not self.name or not self.name.replace("-", "").isalnum():
            raise ProtocolError(
                f"{where}: name must be letters, digits and dashes, got {self.name!r}"
            )
        _check_range(where, "sessions", self.sessions, 1, MAX_SESSIONS, optional=True)
        _check_range(where, "min_gap_days", self.min_gap_days, 1, MAX_GAP_DAYS)
        _check_range(where, "max_gap_days", self.max_gap_days, self.min_gap_days, MAX_GAP_DAYS)
        _check_range(where, "chair_minutes", self.chair_minutes, 0, MAX_CHAIR_MINUTES)
        if self.location not in LOCATIONS:
            raise ProtocolError(f"{where}: location must be clinic or home, got {self.location!r}")
        if self.location == "clinic" and self.chair_minutes == 0:
            raise ProtocolError(
                f"{where}: chair_minutes must be 1 to {MAX_CHAIR_MINUTES} in clinic"
            )
        if self.per_week is not None:
            _check_range(where, "per_week", self.per_week, 1, 7 // self.min_gap_days or 1)
            if self.sessions is None or self.sessions % self.per_week:
                raise ProtocolError(
                    f"{where}: sessions must be a multiple of per_week ({self.per_week})"
                )
            if self.every_days:
                raise ProtocolError(f"{where}: per_week and every_days cannot be combined")
        for gap in self.every_days:
            _check_range(where, "every_days", gap, self.min_gap_days, self.max_gap_days)
        if self.window_days is not None:
            shortest = ((self.sessions or 1) - 1) * self.min_gap_days + 1
            _check_range(where, "window_days", self.window_days, shortest, MAX_GAP_DAYS)
        parts = (self.checkin_minutes, self.dose_minutes, self.observe_minutes)
        if any(part is not None for part in parts):
            if self.location != "clinic":
                raise ProtocolError(f"{where}: a home dose has no chair time to split")
            for name in TIME_PARTS:
                _check_range(where, name, getattr(self, name), 0, MAX_CHAIR_MINUTES)
            total = sum(part or 0 for part in parts)
            if total > self.chair_minutes:
                raise ProtocolError(
                    f"{where}: checkin_minutes + dose_minutes + observe_minutes is {total}, "
                    f"more than chair_minutes ({self.chair_minutes})"
                )
        if not isinstance(self.provisional, bool):
            raise ProtocolError(f"{where}: provisional must be true or false")

    @property
    def kind(self) -> Literal["rhythm", "weekly", "interval"]:
        if self.per_week is not None:
            return "weekly"
        return "interval" if self.every_days else "rhythm"

    def source_of(self, name: str) -> str:
        return dict(self.sources).get(name, "")

    @property
    def dose_offset(self) -> int:
        """Minutes from the session's start to the dose (the first device)."""
        return self.checkin_minutes or 0

    @property
    def last_dose_offset(self) -> int:
        """Minutes from the session's start to the end of administration (the last device,
        the infusion's end): observation counts from here."""
        return self.dose_offset + (self.dose_minutes or 0)

    @property
    def observed_minutes(self) -> int:
        """Minutes of observation after the administration ends."""
        if self.observe_minutes is not None:
            return self.observe_minutes
        return self.chair_minutes - self.last_dose_offset


@dataclass(frozen=True)
class Protocol:
    """A named course pattern.

    Attributes:
        name: what `--protocol` takes.
        title: the route's name in summaries and calendar events.
        route: decides preparation, aftercare and checklists.
        phases: in order; only the last may be open-ended.
        maintenance_sessions: sessions of the open-ended phase when a course names no
            count and no end date.
        source: where the pattern comes from.
        notes: further facts `protocols show` prints (the REMS rules and their version,
            how a clinic changes a default); not part of a stored course.
    """

    name: str
    title: str
    route: Route
    phases: tuple[Phase, ...]
    maintenance_sessions: int = 6
    source: str = ""
    notes: tuple[str, ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        where = f"protocol {self.name!r}"
        if self.route not in ROUTES:
            raise ProtocolError(f"{where}: route must be one of {', '.join(ROUTES)}")
        if not self.phases:
            raise ProtocolError(f"{where}: needs at least one phase")
        names = [phase.name for phase in self.phases]
        if len(set(names)) != len(names):
            raise ProtocolError(f"{where}: phase names must differ")
        for phase in self.phases[:-1]:
            if phase.sessions is None:
                raise ProtocolError(f"{where}: only the last phase may be open-ended")
        last = self.phases[-1]
        if last.sessions is None and last.kind != "interval":
            raise ProtocolError(f"{where}: an open-ended phase needs every_days")
        _check_range(
            where, "maintenance_sessions", self.maintenance_sessions, 1, MAX_MAINTENANCE_SESSIONS
        )
        if self.route == "esketamine":
            for phase in self.phases:
                if phase.location == "clinic" and (
                    phase.observed_minutes < ESKETAMINE_MIN_OBSERVE_MINUTES
                ):
                    raise ProtocolError(
                        f"{where}: phase {phase.name!r} observes {phase.observed_minutes} "
                        "minutes after the last device; the SPRAVATO label requires at least "
                        f"{ESKETAMINE_MIN_OBSERVE_MINUTES}"
                    )

    @property
    def open_phase(self) -> Phase | None:
        """The open-ended phase, whose interval and count a course may set."""
        last = self.phases[-1]
        return last if last.sessions is None else None

    @property
    def fixed_sessions(self) -> int:
        return sum(phase.sessions or 0 for phase in self.phases)


def _check_range(
    where: str, name: str, value: int | None, low: int, high: int, *, optional: bool = False
) -> None:
    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ProtocolError(
            f"{where}: {name} must be a whole number from {low} to {high}, got {value!r}"
        )
