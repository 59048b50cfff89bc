"""What the clinic book stores and hands back: frozen records with aware datetimes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal, NamedTuple

from ketaplan.model.course import SessionFields
from ketaplan.model.protocol import Route

SessionStatus = Literal["booked", "attended", "missed", "not-dosed", "cancelled"]
STATUSES: tuple[SessionStatus, ...] = ("booked", "attended", "missed", "not-dosed", "cancelled")
# A session in one of these statuses holds (or held) its chair; a cancelled one does not.
HOLDS_CHAIR: tuple[SessionStatus, ...] = ("booked", "attended", "missed", "not-dosed")
# What a session record says happened: a later record supersedes an earlier one.
Outcome = Literal["attended", "missed", "not-dosed"]
OUTCOMES: tuple[Outcome, ...] = ("attended", "missed", "not-dosed")
CourseStatus = Literal["active", "completed", "cancelled"]
# An IV/IM induction that lost its window: interrupted until the coordinator chooses
# `replan --continue` (the window is waived) or `--restart` (a new induction).
InductionState = Literal["interrupted", "continued", "restarted"]


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
        asked: what the booking asked for, as JSON (the requested start, which the first
            session may have moved from, the time, weekdays and the rest: see
            `booking.asked.asked_text`), so that the same booking asked again is known;
            None for a course booked before the book kept it (migration 9).
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
    asked: str | None = None


@dataclass(frozen=True, kw_only=True)
class CourseRecord(NewCourse):
    """A booked course: a `NewCourse` as the book keeps it.

    Attributes:
        id: the book's id of the course.
        active: the patient's current course; a replaced course is inactive.
        status: active until its last session is past and recorded (completed) or it is
            cancelled or replaced (cancelled).
        induction: None, or `interrupted`, `continued`, `restarted` (see InductionState).
        induction_since: the first day of a restarted induction; None otherwise.
    """

    id: int
    active: bool
    status: CourseStatus = "active"
    induction: InductionState | None = None
    induction_since: date | None = None


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
        status: booked; later attended, missed, not-dosed or cancelled.
        route: the course's route (iv, im, esketamine, lozenge); None when its stored
            protocol names none.
        override: the screening override its course was booked with; None for none.
        flags: its course's booking flags.
        course_created: when its course was booked (a later screening is news).
        checkin_minutes, dose_minutes: its phase's split of the chair time, from the
            course's stored protocol; None when the phase does not split it.
        modified: when the session last changed (booked, cancelled, moved): its
            calendar LAST-MODIFIED; None when the book does not know.
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
    modified: datetime | None = None


FeedKind = Literal["staff", "patient"]


@dataclass(frozen=True)
class BookState:
    """What a calendar feed needs to know about the clinic's book before building anything.

    Attributes:
        clinic_id: the calendar id every UID is scoped by, so two books never give the
            same UID: the book's random id, made when the book was created (with the
            clinic's own id after it for a clinic added to a network's book later).
        changes: how many write transactions the clinic has seen: the feeds' ETag.
        changed: when the last one committed (aware, UTC).
    """

    clinic_id: str
    changes: int
    changed: datetime


@dataclass(frozen=True)
class FeedRecord:
    """A calendar feed's token, as the book keeps it: never the token itself.

    Attributes:
        id: the book's id of the feed (`ketaplan feed revoke ID`).
        kind: staff (the clinic's sessions) or patient (one patient's course).
        patient: the patient's code for a patient feed; None for staff.
        created: when it was made (aware).
        expires: when it stops answering (aware); None for never.
        revoked: when it was revoked (aware); None while it is not.
    """

    id: int
    kind: FeedKind
    patient: str | None
    created: datetime
    expires: datetime | None
    revoked: datetime | None

    def state(self, now: datetime) -> str:
        """active, expired or revoked at `now`."""
        if self.revoked is not None:
            return "revoked"
        if self.expires is not None and now >= self.expires:
            return "expired"
        return "active"


class ChairUse(NamedTuple):
    """A chair held from `start` to `end` (aware datetimes) by the session `session`
    (the book's id)."""

    start: datetime
    end: datetime
    chair: int
    session: int


@dataclass(frozen=True)
class Measurements:
    """What was measured at check-in; None where not measured.

    Attributes:
        systolic, diastolic: blood pressure in mmHg.
        heart_rate: beats per minute.
        spo2: oxygen saturation in percent.
        phq9: the patient's PHQ-9 score, 0 to 27.
    """

    systolic: int | None = None
    diastolic: int | None = None
    heart_rate: int | None = None
    spo2: int | None = None
    phq9: int | None = None

    @property
    def empty(self) -> bool:
        return all(
            v is None
            for v in (self.systolic, self.diastolic, self.heart_rate, self.spo2, self.phq9)
        )


@dataclass(frozen=True)
class Attendance:
    """What happened at one session, as recorded: a later entry for the same session
    supersedes an earlier one, and both are kept.

    Attributes:
        session_id: the book's id of the session.
        outcome: attended, missed or not-dosed.
        reason: why missed or not dosed; None for none.
        measured: what was measured at check-in.
        note: the coordinator's note; None for none.
        by: who recorded it.
        recorded: when it was recorded (aware).
        id: the book's id of the entry (0 before it is stored).
    """

    session_id: int
    outcome: Outcome
    reason: str | None
    measured: Measurements
    note: str | None
    by: str
    recorded: datetime
    id: int = 0


@dataclass(frozen=True)
class HistoryEntry:
    """One change to a course, appended to its history and never edited.

    Attributes:
        course_id: the course changed.
        patient: the patient's code.
        when: when the change was made (aware).
        who: who made it.
        what: book, replace, attend, miss, not-dosed, cancel, move, booster, replan,
            override, rems-filed.
        why: the reason given; None for none.
        before, after: JSON text of what changed; None where nothing was before or after.
    """

    course_id: int
    patient: str
    when: datetime
    who: str
    what: str
    why: str | None
    before: str | None
    after: str | None


@dataclass(frozen=True)
class FormFiled:
    """A REMS patient monitoring form recorded as submitted for one session."""

    session_id: int
    filed_on: date
    by: str
    recorded: datetime


@dataclass(frozen=True)
class SessionChange:
    """A booked session re-placed: new day and time, chair, labels and note; its
    calendar SEQUENCE is raised and its uid kept."""

    session_id: int
    phase: str
    phase_number: int
    phase_total: int
    start: datetime
    end: datetime
    chair: int | None
    note: str | None


@dataclass(frozen=True)
class ClinicRecord:
    """The clinic a book is kept for: its settings as the book stores them, and the last
    change (every change is also kept in the book's history of the clinic).

    Attributes:
        id: the clinic's id in the book (random, never reused).
        name: the clinic's name (also in the settings: a column for readers of the file).
        settings: the clinic's settings as JSON of the config file's own keys.
        updated: when the settings were last stored (aware).
        updated_by: who stored them (the operating system's user name).
        source: where they came from (a config file, or the built-in defaults).
    """

    id: str
    name: str
    settings: str
    updated: datetime
    updated_by: str
    source: str = ""
