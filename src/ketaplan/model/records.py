"""What the clinic book stores and hands back: frozen records with aware datetimes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal, NamedTuple

from ketaplan.model.course import SessionFields
from ketaplan.model.protocol import Route

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
        flags: what the booking was flagged with (screening criteria not met, warnings
            for the clinician, REMS enrollment missing), one line each.
    """

    patient: str
    protocol: str
    title: str
    definition: str
    start: date
    zone: str
    created: datetime
    override: ScreeningOverride | None = None
    flags: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class CourseRecord(NewCourse):
    """A booked course: a `NewCourse` as the book keeps it.

    Attributes:
        id: the book's id of the course.
        active: the patient's current course; a replaced course is inactive.
    """

    id: int
    active: bool


@dataclass(frozen=True, kw_only=True)
class NewSession(SessionFields):
    """A session about to be booked: a planned session's fields (see `SessionFields`;
    start and end are stored in UTC with the course's zone) and its chair.

    Attributes:
        chair: 1-based chair number for a clinic session; None at home.
    """

    chair: int | None


@dataclass(frozen=True, kw_only=True)
class SessionRecord(SessionFields):
    """A booked session, one row of the book: a planned session's fields (see
    `SessionFields`; start and end in `zone`) and what the book adds.

    Attributes:
        id: the book's id of the session.
        course_id: the course it belongs to.
        patient: the patient's code.
        title: the protocol's title (e.g. IV ketamine).
        sequence: the calendar revision; raised when the session is cancelled or its uid
            is booked again, so calendars that already hold it update. A live session's
            uid is unique in the book.
        zone: IANA zone of the course.
        chair: 1-based chair number for a clinic session; None at home.
        status: booked; later attended, missed or cancelled.
        route: the course's route (iv, im, esketamine, lozenge); None when its stored
            protocol names none.
        override: the screening override its course was booked with; None for none.
        flags: its course's booking flags.
        course_created: when its course was booked (a later screening is news).
        checkin_minutes, dose_minutes: its phase's split of the chair time, from the
            course's stored protocol; None when the phase does not split it.
    """

    id: int
    course_id: int
    patient: str
    title: str
    sequence: int
    zone: str
    chair: int | None
    status: SessionStatus
    route: Route | None = None
    override: ScreeningOverride | None = None
    flags: tuple[str, ...] = ()
    course_created: datetime | None = None
    checkin_minutes: int | None = None
    dose_minutes: int | None = None


class ChairUse(NamedTuple):
    """A chair held from `start` to `end` (aware datetimes)."""

    start: datetime
    end: datetime
    chair: int
