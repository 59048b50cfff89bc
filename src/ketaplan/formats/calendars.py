"""The events of ketaplan's calendars: a patient's course, and the staff calendar.

A patient's calendar holds every session of one course, with the route's preparation and
aftercare (`course_events`, `patient_events`). The staff calendar holds every clinic
session in a window, with the patient's code and the chair in each (`staff_events`).

UIDs (`event_uid`): one UID is one event everywhere. Google merges events that share a
UID within an account, Nextcloud refuses one UID in two calendars of a user, and a
CalDAV text-match on UID is a substring match (RFC 4791 9.7.5). So a UID is scoped by the
book's random clinic id (a plan, which has no book, by a preview scope of its own) and
by kind: a preview, a booked patient event, a staff event and a REMS marker of the same
session all differ, and all have one length, so none is a substring of another. The
same thing exported again gives the same UID.

A cancelled session stays in the file as STATUS:CANCELLED with a raised SEQUENCE and
"Cancelled: " before its summary: Outlook maps STATUS only to free/busy (MS-OXCICAL), so
without the word the visit would stay in its calendar under its old title.

Each staff event's description carries the route's staff checklist (`checklists.py`),
with the clinic's blood-pressure threshold and vitals interval. Where the esketamine
REMS applies, every esketamine session also gets an all-day "monitoring form due" marker
on the 7th calendar day after it, which blocks no time; it follows its session's
SEQUENCE, so a cancelled session's marker is written as cancelled too. A staff calendar
of a window holds the markers *due* in it. Patient calendars never carry any of this.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Literal

from ketaplan.formats.ics import CalendarEvent, CalendarHeader, calendar_bytes
from ketaplan.model.clinic import ClinicConfig
from ketaplan.model.course import Course, Session, SessionFields
from ketaplan.model.records import ScreeningRecord, SessionRecord
from ketaplan.planning.protocols import LOZENGE
from ketaplan.safety.checklists import Monitoring, session_checklist
from ketaplan.safety.gate import pregnancy_check, session_flags
from ketaplan.safety.guidance import PatientSettings, guidance_for, home_dose_alarm_text
from ketaplan.safety.rems import DOSED, rems_applies, session_form

CLINIC_CATEGORY = "Appointment"
HOME_CATEGORY = "Home dose"
STAFF_CATEGORY = "Chair"
REMS_CATEGORY = "REMS"
CANCELLED = "Cancelled: "
CANCELLED_NOTE = "This visit was cancelled."
# A course booked with a screening override says so; the reason itself stays in the
# book (`agenda --detail`), out of calendars that third-party services store.
OVERRIDE_NOTE = "Booked with a screening override: see `ketaplan agenda --detail`."
# Flags name health facts: they stay in the book too.
FLAG_NOTE = "Flagged for the clinician: see `ketaplan agenda --detail`."

# A plan has no book and so no clinic id: previews have a scope of their own.
PREVIEW_SCOPE = "preview"
# Four letters each, around the hash: every UID has the same length.
UidKind = Literal["plan", "appt", "team", "rems"]
UID_KINDS: tuple[UidKind, ...] = ("plan", "appt", "team", "rems")


def event_uid(scope: str, kind: UidKind, key: str) -> str:
    """The UID of the `kind` event of the session whose book key is `key`, in `scope`
    (a clinic id, or PREVIEW_SCOPE): `team-<32 hex digits>-team@ketaplan`."""
    text = "\x1f".join(("ketaplan event", scope, kind, key))
    return f"{kind}-{hashlib.sha256(text.encode()).hexdigest()[:32]}-{kind}@ketaplan"


def clinic_monitoring(clinic: ClinicConfig, zone: str) -> Monitoring:
    """The clinic's checklist settings: its blood-pressure threshold, vitals interval,
    and whether the esketamine REMS applies in `zone`."""
    return Monitoring(
        bp_threshold=clinic.bp_threshold,
        vitals_every_minutes=clinic.vitals_every_minutes,
        rems=rems_applies(clinic.rems_program, zone),
    )


def patient_settings(clinic: ClinicConfig) -> PatientSettings:
    """The clinic's fasting rule and crisis line, for patient calendars."""
    return PatientSettings(
        clinic.fasting_solids_hours, clinic.fasting_liquids_hours, clinic.crisis_line
    )


def event_summary(title: str, session: SessionFields, patient: str) -> str:
    """`IV ketamine 3/6 · induction · P-001`: an event's title in every calendar."""
    return f"{title} {session.phase_number}/{session.phase_total} · {session.phase} · {patient}"


def staff_summary(session: SessionRecord) -> str:
    """`IV ketamine 3/6 · induction · P-001 · chair 2`; a cancelled session's starts with
    `Cancelled: `."""
    summary = f"{event_summary(session.title, session, session.patient)} · chair {session.chair}"
    return CANCELLED + summary if session.status == "cancelled" else summary


def staff_events(
    sessions: Iterable[SessionRecord],
    clinic: ClinicConfig,
    scope: str,
    screenings: Mapping[str, ScreeningRecord | None] | None = None,
    enrollments: Mapping[str, date | None] | None = None,
    *,
    markers: Iterable[SessionRecord] = (),
    due: tuple[date, date] | None = None,
) -> Iterator[CalendarEvent]:
    """One event per clinic session, in the order given (start and chair); home doses
    are the patient's reminders and are left out. Then, where the REMS applies, the
    markers of the esketamine sessions in `markers` whose form is due in `due` (first
    and last day; None for all), by due date. Both give each uid once, its latest
    revision (`Book.calendar_sessions`).

    `screenings` holds each patient's latest screening, for the checklist's pregnancy
    line and the flag of a contraindication recorded after booking; `enrollments` each
    esketamine patient's REMS enrollment date. A generator: each event is made as the
    writer asks for it."""
    # `is None`, not `or`: a mapping that reads the book as asked starts out empty.
    latest_screening = {} if screenings is None else screenings
    enrolled = {} if enrollments is None else enrollments
    location = clinic.location or clinic.name
    private = clinic.private_staff_events
    for session in sessions:
        if session.location != "clinic":
            continue
        cancelled = session.status == "cancelled"
        yield CalendarEvent(
            uid=event_uid(scope, "team", session.uid),
            summary=staff_summary(session),
            start=session.start,
            end=session.end,
            description=staff_description(
                session,
                clinic,
                latest_screening.get(session.patient),
                enrolled.get(session.patient),
            ),
            location=location,
            transparent=cancelled,
            sequence=session.sequence,
            status="CANCELLED" if cancelled else "CONFIRMED",
            categories=(CLINIC_CATEGORY, STAFF_CATEGORY),
            private=private,
            modified=session.modified,
        )
    found: list[CalendarEvent] = []
    for session in markers:
        if session.route != "esketamine" or session.location != "clinic":
            continue
        if not rems_applies(clinic.rems_program, session.zone):
            continue
        form = session_form(session)
        if due is None or due[0] <= form.due <= due[1]:
            found.append(form_marker(session, scope, private=private))
    # Markers after the sessions, by due date: all-day events sort apart in every client.
    found.sort(key=lambda m: (m.start, m.summary, m.uid))
    yield from found


def staff_description(
    session: SessionRecord,
    clinic: ClinicConfig,
    latest: ScreeningRecord | None = None,
    enrolled_on: date | None = None,
) -> str:
    """Patient, chair and time, then the route's checklist (when the route is known)."""
    parts = [
        f"Patient {session.patient}, chair {session.chair}, "
        f"{session.start:%H:%M}-{session.end:%H:%M} in the chair; "
        f"session {session.number} of the course; {session.status}."
    ]
    if session.override is not None:
        parts.append(OVERRIDE_NOTE)
    if session_flags(session, latest, enrolled_on):
        parts.append(FLAG_NOTE)
    # A cancelled session keeps its checklist in the file: the event says what it was.
    checklist = session_checklist(
        session, clinic_monitoring(clinic, session.zone), pregnancy_check(latest)
    )
    if checklist is not None:
        parts += ["", checklist.text()]
    return "\n".join(parts)


def form_marker(session: SessionRecord, scope: str, *, private: bool = False) -> CalendarEvent:
    """The all-day REMS marker of an esketamine session: on the session's local date plus
    7 calendar days, blocking no time; cancelled with its session (and when missed: no
    dose, no form)."""
    form = session_form(session)
    day, due = form.session_day, form.due
    owed = session.status in DOSED
    summary = f"REMS monitoring form due · {session.patient}"
    return CalendarEvent(
        uid=event_uid(scope, "rems", session.uid),
        summary=summary if owed else CANCELLED + summary,
        start=due,
        end=due + timedelta(days=1),
        description=(
            f"Patient monitoring form for {session.patient}'s esketamine session of "
            f"{day.isoformat()} (session {session.number}) is due by today: within 7 "
            "calendar days of the session."
        ),
        transparent=True,
        sequence=session.sequence,
        status="CONFIRMED" if owed else "CANCELLED",
        categories=(REMS_CATEGORY,),
        private=private,
        modified=session.modified,
    )


def calendar_name(course: Course, clinic: ClinicConfig) -> str:
    """X-WR-CALNAME and NAME: the patient's code, the route and the clinic."""
    return f"{course.patient} · {course.protocol.title} · {clinic.name}"


def session_summary(course: Course, session: Session) -> str:
    """`IV ketamine 3/6 · induction · P-001`; home doses name the lozenge."""
    title = course.protocol.title if session.location == "clinic" else LOZENGE.title
    return event_summary(title, session, course.patient)


def course_events(
    course: Course,
    clinic: ClinicConfig,
    *,
    scope: str = PREVIEW_SCOPE,
    kind: UidKind = "plan",
    booked: Sequence[SessionRecord] = (),
) -> list[CalendarEvent]:
    """The patient's calendar for one course: every session in order.

    Clinic sessions block their chair time at the clinic's location, with the route's
    preparation and aftercare and the clinic's alarm before them. Home doses are
    reminders: short events that block no time (TRANSP:TRANSPARENT), with an alarm at the
    dose time itself when the clinic has alarms on. `booked` are the book's rows of the
    course, for each session's SEQUENCE and LAST-MODIFIED (a plan has none).
    """
    location = clinic.location or clinic.name
    rules = patient_settings(clinic)
    clinic_text = guidance_for(course.protocol.route, rules)
    home_text = guidance_for(LOZENGE.route, rules)
    rows = {row.uid: row for row in booked}
    events: list[CalendarEvent] = []
    for session in course.sessions:
        at_home = session.location == "home"
        alarm: int | None = None
        if clinic.alarm_minutes is not None:
            alarm = 0 if at_home else clinic.alarm_minutes
        row = rows.get(session.uid)
        events.append(
            CalendarEvent(
                uid=event_uid(scope, kind, session.uid),
                summary=session_summary(course, session),
                start=session.start,
                end=session.end,
                description=home_text if at_home else clinic_text,
                location="" if at_home else location,
                transparent=at_home,
                sequence=0 if row is None else row.sequence,
                alarm_minutes=alarm,
                alarm_text=home_dose_alarm_text() if at_home else clinic.alarm_text,
                categories=(HOME_CATEGORY if at_home else CLINIC_CATEGORY,),
                modified=None if row is None else row.modified,
            )
        )
    return events


def patient_events(
    course: Course | None,
    booked: Sequence[SessionRecord],
    everything: Iterable[SessionRecord],
    clinic: ClinicConfig,
    scope: str,
) -> list[CalendarEvent]:
    """A patient's booked calendar: the active `course` (None when there is none) with
    its `booked` rows, and every cancelled session of the patient in `everything` (of
    this course or of a replaced one) whose uid is not live again, written as cancelled,
    so a calendar that imported it before drops the stale visit. In start order."""
    events = (
        []
        if course is None
        else course_events(course, clinic, scope=scope, kind="appt", booked=booked)
    )
    live = {row.uid for row in booked}
    cancelled: dict[str, SessionRecord] = {}
    for row in everything:
        if row.status != "cancelled" or row.uid in live:
            continue
        kept = cancelled.get(row.uid)
        if kept is None or row.sequence > kept.sequence:
            cancelled[row.uid] = row
    events += (cancelled_event(row, clinic, scope) for row in cancelled.values())
    events.sort(key=lambda e: (e.start, e.uid))
    return events


def cancelled_event(row: SessionRecord, clinic: ClinicConfig, scope: str) -> CalendarEvent:
    """A patient's cancelled session: its time and UID, `Cancelled: ` and its summary,
    blocking no time, no alarm."""
    at_home = row.location == "home"
    title = LOZENGE.title if at_home else row.title
    return CalendarEvent(
        uid=event_uid(scope, "appt", row.uid),
        summary=CANCELLED + event_summary(title, row, row.patient),
        start=row.start,
        end=row.end,
        description=CANCELLED_NOTE,
        location="" if at_home else clinic.location or clinic.name,
        transparent=True,
        sequence=row.sequence,
        status="CANCELLED",
        categories=(HOME_CATEGORY if at_home else CLINIC_CATEGORY,),
        modified=row.modified,
    )


def course_calendar(course: Course, clinic: ClinicConfig, *, stamp: datetime) -> bytes:
    """The .ics file of one planned course, a preview (see `course_events`)."""
    header = CalendarHeader(calendar_name(course, clinic), zone=course.zone)
    return calendar_bytes(header, course_events(course, clinic), stamp=stamp)
