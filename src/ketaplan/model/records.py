"""What the clinic book stores and hands back: frozen records with aware datetimes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal, NamedTuple

from ketaplan.model.protocol import Location, Route

SessionStatus = Literal["booked", "attended", "missed", "cancelled"]
STATUSES: tuple[SessionStatus, ...] = ("booked", "attended", "missed", "cancelled")
# A session in one of these statuses holds (or held) its chair; a cancelled one does not.
HOLDS_CHAIR: tuple[SessionStatus, ...] = ("booked", "attended", "missed")


@dataclass(frozen=True)
class ScreeningOverride:
    """A course booked although the screening check refused it: the clinician's decision,
    recorded with the course.

    Attributes:
        reason: why, in the coordinator's words (one line).
        screening: what the check found when the course was booked: `no screening
            recorded`, or the latest screening's date and summary.
    """

    reason: str
    screening: str


@dataclass(frozen=True)
class ScreeningRecord:
    """A stored intake screening (`ketaplan screen`): answers, never a name.

    Attributes:
        patient: the patient's code.
        date: the day the answers were given.
        answers: every question's answer as (key, answer), in catalogue order.
        summary: `no listed contraindication` or `contraindicated: ...` with each item.
        contraindicated: the screening lists at least one contraindication.
        recorded: when it was stored (aware).
    """

    patient: str
    date: date
    answers: tuple[tuple[str, bool | int], ...]
    summary: str
    contraindicated: bool
    recorded: datetime


@dataclass(frozen=True)
class EnrollmentRecord:
    """A patient's esketamine REMS enrollment as recorded in the book.

    Attributes:
        patient: the patient's code.
        enrolled_on: the day the patient was enrolled.
        recorded: when it was stored (aware).
    """

    patient: str
    enrolled_on: date
    recorded: datetime


@dataclass(frozen=True)
class NewCourse:
    """A course about to be booked.

    Attributes:
        patient: the patient's code (never a name).
        protocol: the protocol's name.
        title: the protocol's title, for agendas and calendars.
        definition: the whole protocol as JSON, so a course booked from a clinic's own
            protocol file can be rebuilt after the file is gone.
        start: the course's start date (its session ids derive from it).
        zone: IANA zone of the course's local times.
        created: when it was booked (aware; the CLI passes now).
        override: the screening override it was booked with; None for none.
    """

    patient: str
    protocol: str
    title: str
    definition: str
    start: date
    zone: str
    created: datetime
    override: ScreeningOverride | None = None


@dataclass(frozen=True)
class CourseRecord:
    """A booked course.

    Attributes:
        id: the book's id of the course.
        patient, protocol, title, definition, start, zone, created: as in `NewCourse`.
        active: the patient's current course; a replaced course is inactive.
        override: as in `NewCourse`.
    """

    id: int
    patient: str
    protocol: str
    title: str
    definition: str
    start: date
    zone: str
    created: datetime
    active: bool
    override: ScreeningOverride | None = None


@dataclass(frozen=True)
class NewSession:
    """A session about to be booked.

    Attributes:
        uid: the id its calendar events carry (the planned `Session.uid`).
        number: 1-based, in date order across the course.
        phase, phase_number, phase_total: as in the planned `Session`.
        location: clinic (holds a chair) or home (a reminder, no chair).
        start, end: aware datetimes; stored in UTC with `zone`.
        chair: 1-based chair number for a clinic session; None at home.
        note: why it is not on its ideal day or time, else None.
    """

    uid: str
    number: int
    phase: str
    phase_number: int
    phase_total: int
    location: Location
    start: datetime
    end: datetime
    chair: int | None
    note: str | None = None


@dataclass(frozen=True)
class SessionRecord:
    """A booked session, one row of the book.

    Attributes:
        id: the book's id of the session.
        course_id: the course it belongs to.
        patient: the patient's code.
        title: the protocol's title (e.g. IV ketamine).
        uid: the id its calendar events carry; a live session's uid is unique in the book.
        sequence: the calendar revision; raised when the session is cancelled or its uid
            is booked again, so calendars that already hold it update.
        number, phase, phase_number, phase_total, location, chair, note: as in `NewSession`.
        start, end: aware datetimes in `zone`.
        zone: IANA zone of the course.
        status: booked; later attended, missed or cancelled.
        route: the course's route (iv, im, esketamine, lozenge); None when its stored
            protocol names none.
        override: the screening override its course was booked with; None for none.
    """

    id: int
    course_id: int
    patient: str
    title: str
    uid: str
    sequence: int
    number: int
    phase: str
    phase_number: int
    phase_total: int
    location: Location
    start: datetime
    end: datetime
    zone: str
    chair: int | None
    status: SessionStatus
    note: str | None
    route: Route | None = None
    override: ScreeningOverride | None = None


class ChairUse(NamedTuple):
    """A chair held from `start` to `end` (aware datetimes)."""

    start: datetime
    end: datetime
    chair: int
