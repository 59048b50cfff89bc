"""The events of ketaplan's calendars: a patient's course, and the staff calendar.

A patient's calendar holds every session of one course, with the route's preparation and
aftercare (`course_events`). The staff calendar holds every clinic session in the book,
with the patient's code and the chair in each, and the same UID the patient's calendar
carries (`staff_events`).

A cancelled session stays in the file as STATUS:CANCELLED with a raised SEQUENCE, so a
calendar that imported it before shows the cancellation instead of a stale visit.

Each event's description carries the route's staff checklist (`checklists.py`), with the
clinic's blood-pressure threshold and vitals interval. Where the esketamine REMS applies,
every esketamine session also gets an all-day "monitoring form due" marker on the 7th
calendar day after it, which blocks no time; its UID is `rems-` and the session's UID, and
it follows its session's SEQUENCE, so a cancelled session's marker is written as
cancelled too. Patient calendars never carry any of this.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta

from ketaplan.formats.ics import CalendarEvent, calendar_bytes
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
MARKER_PREFIX = "rems-"
# A course booked with a screening override says so; the reason itself stays in the
# book (`agenda --detail`), out of calendars that third-party services store.
OVERRIDE_NOTE = "Booked with a screening override: see `ketaplan agenda --detail`."
# Flags name health facts: they stay in the book too.
FLAG_NOTE = "Flagged for the clinician: see `ketaplan agenda --detail`."


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
    """`IV ketamine 3/6 · induction · P-001 · chair 2`."""
    return f"{event_summary(session.title, session, session.patient)} · chair {session.chair}"


def staff_events(
    sessions: Iterable[SessionRecord],
    clinic: ClinicConfig,
    screenings: Mapping[str, ScreeningRecord | None] | None = None,
    enrollments: Mapping[str, date | None] | None = None,
) -> list[CalendarEvent]:
    """One event per clinic session, in start and chair order; home doses are the
    patient's reminders and are left out. When a uid was booked again after a
    cancellation, only its latest revision is written (a file holds each UID once).

    `screenings` holds each patient's latest screening, for the checklist's pregnancy
    line and the flag of a contraindication recorded after booking. Esketamine sessions
    get their REMS marker only where the REMS applies."""
    latest_screening = screenings or {}
    enrolled = enrollments or {}
    latest: dict[str, SessionRecord] = {}
    for session in sessions:
        if session.location != "clinic":
            continue
        kept = latest.get(session.uid)
        if kept is None or session.sequence > kept.sequence:
            latest[session.uid] = session
    location = clinic.location or clinic.name
    events: list[CalendarEvent] = []
    markers: list[CalendarEvent] = []
    for session in sorted(latest.values(), key=lambda s: (s.start, s.chair or 0, s.patient)):
        cancelled = session.status == "cancelled"
        events.append(
            CalendarEvent(
                uid=session.uid,
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
            )
        )
        if session.route == "esketamine" and rems_applies(clinic.rems_program, session.zone):
            markers.append(form_marker(session))
    # Markers after the sessions, by due date: all-day events sort apart in every client.
    markers.sort(key=lambda m: (m.start, m.summary, m.uid))
    return events + markers


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


def form_marker(session: SessionRecord) -> CalendarEvent:
    """The all-day REMS marker of an esketamine session: on the session's local date plus
    7 calendar days, blocking no time; cancelled with its session (and when missed: no
    dose, no form)."""
    form = session_form(session)
    day, due = form.session_day, form.due
    owed = session.status in DOSED
    return CalendarEvent(
        uid=f"{MARKER_PREFIX}{session.uid}",
        summary=f"REMS monitoring form due · {session.patient}",
        start=due,
        end=due + timedelta(days=1),
        description=(
            f"Patient monitoring form for {session.patient}'s esketamine session of "
            f"{day.isoformat()} (session {session.number}) is due by today: within 7 "
            f"calendar days of the session. Session UID {session.uid}."
        ),
        transparent=True,
        sequence=session.sequence,
        status="CONFIRMED" if owed else "CANCELLED",
        categories=(REMS_CATEGORY,),
    )


def calendar_name(course: Course, clinic: ClinicConfig) -> str:
    """X-WR-CALNAME and NAME: the patient's code, the route and the clinic."""
    return f"{course.patient} · {course.protocol.title} · {clinic.name}"


def session_summary(course: Course, session: Session) -> str:
    """`IV ketamine 3/6 · induction · P-001`; home doses name the lozenge."""
    title = course.protocol.title if session.location == "clinic" else LOZENGE.title
    return event_summary(title, session, course.patient)


def course_events(course: Course, clinic: ClinicConfig) -> list[CalendarEvent]:
    """The patient's calendar for one planned course: every session in order.

    Clinic sessions block their chair time at the clinic's location, with the route's
    preparation and aftercare and the clinic's alarm before them. Home doses are
    reminders: short events that block no time (TRANSP:TRANSPARENT), with an alarm at the
    dose time itself when the clinic has alarms on.
    """
    location = clinic.location or clinic.name
    rules = patient_settings(clinic)
    clinic_text = guidance_for(course.protocol.route, rules)
    home_text = guidance_for(LOZENGE.route, rules)
    events: list[CalendarEvent] = []
    for session in course.sessions:
        at_home = session.location == "home"
        alarm: int | None = None
        if clinic.alarm_minutes is not None:
            alarm = 0 if at_home else clinic.alarm_minutes
        events.append(
            CalendarEvent(
                uid=session.uid,
                summary=session_summary(course, session),
                start=session.start,
                end=session.end,
                description=home_text if at_home else clinic_text,
                location="" if at_home else location,
                transparent=at_home,
                alarm_minutes=alarm,
                alarm_text=home_dose_alarm_text() if at_home else clinic.alarm_text,
                categories=(HOME_CATEGORY if at_home else CLINIC_CATEGORY,),
            )
        )
    return events


def course_calendar(course: Course, clinic: ClinicConfig, *, stamp: datetime) -> bytes:
    """The .ics file of one planned course (see `course_events`)."""
    return calendar_bytes(calendar_name(course, clinic), course_events(course, clinic), stamp=stamp)
