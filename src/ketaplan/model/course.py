"""A course and its sessions: what a plan is, whoever made it.

Local times: a session is at the requested wall-clock time in the course's zone on every
date, across daylight-saving changes. A time that does not exist that day (clocks
spring forward) moves forward by the length of the jump (02:30 becomes 03:30); a time
that happens twice (clocks fall back) is the first of the two (`local_start`).
"""

from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from ketaplan.model.calendar import ClinicCalendar
from ketaplan.model.protocol import Location, Protocol


def _load_sha256() -> Any:
    """SHA-256 from CPython's builtin module, as random.py does for SHA-512: importing
    hashlib loads OpenSSL, a few milliseconds on every `ketaplan plan`."""
    builtin = "_sha2" if sys.version_info >= (3, 12) else "_sha256"
    for module in (builtin, "hashlib"):
        try:
            return importlib.import_module(module).sha256
        except (ImportError, AttributeError):
            continue
    raise ImportError("no SHA-256 implementation")


_sha256 = _load_sha256()


@dataclass(frozen=True)
class CourseRequest:
    """Everything a course is planned from.

    Attributes:
        patient: the patient's code (never a name).
        protocol: the rules.
        start: no session before this date.
        at: local wall-clock time of every session.
        zone: IANA zone name of the clinic.
        calendar: when the clinic is open.
        every: gaps of the open-ended phase in days, the last repeating; None for the
            protocol's default.
        open_sessions: sessions of the open-ended phase; None for the protocol's default.
        until: instead of a count, open-ended sessions up to this date.
        lozenge_every: home doses every this many days between maintenance visits.
    """

    patient: str
    protocol: Protocol
    start: date
    at: time = time(9, 0)
    zone: str = "UTC"
    calendar: ClinicCalendar = field(default_factory=ClinicCalendar)
    every: tuple[int, ...] | None = None
    open_sessions: int | None = None
    until: date | None = None
    lozenge_every: int | None = None


@dataclass(frozen=True, kw_only=True)
class SessionFields:
    """What every session has, planned or booked.

    Attributes:
        number: 1-based, in date order across the whole course.
        phase: the phase's name.
        phase_number: 1-based within the phase.
        phase_total: sessions in the phase for this course.
        start, end: aware local datetimes in the course's zone.
        location: clinic or home.
        uid: stable id: the same request gives the same ids; different for every
            patient, course and session.
        note: why the session is not on its ideal day or time, else None.
    """

    number: int
    phase: str
    phase_number: int
    phase_total: int
    start: datetime
    end: datetime
    location: Location
    uid: str
    note: str | None = None

    @property
    def day(self) -> date:
        return self.start.date()

    @property
    def phase_label(self) -> str:
        """`induction 3/6`: how every output names a session's place in its phase."""
        return f"{self.phase} {self.phase_number}/{self.phase_total}"


SESSION_FIELDS = tuple(f.name for f in fields(SessionFields))


def session_fields(session: SessionFields) -> dict[str, Any]:
    """The shared fields of any session, to build another kind of session from."""
    return {name: getattr(session, name) for name in SESSION_FIELDS}


@dataclass(frozen=True, kw_only=True)
class Session(SessionFields):
    """One appointment or home dose of a planned course (see `SessionFields`).

    Attributes:
        gap_days: days since the previous clinic session (home doses: since the previous
            dose of either kind); None for the first.
    """

    gap_days: int | None


@dataclass(frozen=True)
class Course:
    patient: str
    protocol: Protocol
    zone: str
    start: date
    sessions: tuple[Session, ...]

    def phase_sessions(self, phase: str) -> tuple[Session, ...]:
        return tuple(s for s in self.sessions if s.phase == phase)

    @property
    def clinic_sessions(self) -> tuple[Session, ...]:
        return tuple(s for s in self.sessions if s.location == "clinic")


def local_start(day: date, at: time, zone: ZoneInfo) -> tuple[datetime, str | None]:
    """The aware local datetime of `at` on `day`, by the rule in this module's docstring,
    with a note when the clock change moved or chose it."""
    wall = datetime.combine(day, at)
    first = wall.replace(tzinfo=zone, fold=0)
    actual = first.astimezone(UTC).astimezone(zone)
    if actual.replace(tzinfo=None) != wall:
        return actual, (
            f"{at:%H:%M} does not exist on {day} (clocks go forward); starts {actual:%H:%M}"
        )
    second = wall.replace(tzinfo=zone, fold=1)
    if second.utcoffset() != first.utcoffset():
        return actual, (
            f"{at:%H:%M} happens twice on {day} (clocks go back); the first, UTC{actual:%z}"
        )
    return actual, None


def session_uid(patient: str, protocol: str, start: date, phase: str, number: int) -> str:
    key = "\x1f".join((patient, protocol, start.isoformat(), phase, str(number)))
    return f"{_sha256(key.encode()).hexdigest()[:32]}@ketaplan"


def added_session_uid(patient: str, course_id: int, number: int) -> str:
    """The uid of a session added to a booked course (a make-up, a booster, a re-planned
    induction): derived from the course's id in the book and the session's number there,
    which is never reused, so it is the same on every replay and unique in the book."""
    key = "\x1f".join(("added", patient, str(course_id), str(number)))
    return f"{_sha256(key.encode()).hexdigest()[:32]}@ketaplan"
