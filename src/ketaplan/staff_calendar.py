"""The staff calendar: every clinic session in the book as a calendar event, with the
patient's code and the chair in each, and the same UID the patient's calendar carries.

A cancelled session stays in the file as STATUS:CANCELLED with a raised SEQUENCE, so a
calendar that imported it before shows the cancellation instead of a stale visit.
"""

from __future__ import annotations

from collections.abc import Iterable

from ketaplan.config import ClinicConfig
from ketaplan.ics import CLINIC_CATEGORY, CalendarEvent
from ketaplan.store import SessionRecord

STAFF_CATEGORY = "Chair"


def staff_summary(session: SessionRecord) -> str:
    """`IV ketamine 3/6 · induction · P-001 · chair 2`."""
    return (
        f"{session.title} {session.phase_number}/{session.phase_total} · {session.phase} · "
        f"{session.patient} · chair {session.chair}"
    )


def staff_events(sessions: Iterable[SessionRecord], clinic: ClinicConfig) -> list[CalendarEvent]:
    """One event per clinic session, in start and chair order; home doses are the
    patient's reminders and are left out. When a uid was booked again after a
    cancellation, only its latest revision is written (a file holds each UID once)."""
    latest: dict[str, SessionRecord] = {}
    for session in sessions:
        if session.location != "clinic":
            continue
        kept = latest.get(session.uid)
        if kept is None or session.sequence > kept.sequence:
            latest[session.uid] = session
    location = clinic.location or clinic.name
    events: list[CalendarEvent] = []
    for session in sorted(latest.values(), key=lambda s: (s.start, s.chair or 0, s.patient)):
        cancelled = session.status == "cancelled"
        events.append(
            CalendarEvent(
                uid=session.uid,
                summary=staff_summary(session),
                start=session.start,
                end=session.end,
                description=(
                    f"Patient {session.patient}, chair {session.chair}, "
                    f"{session.start:%H:%M}-{session.end:%H:%M} in the chair; "
                    f"session {session.number} of the course; {session.status}."
                ),
                location=location,
                transparent=cancelled,
                sequence=session.sequence,
                status="CANCELLED" if cancelled else "CONFIRMED",
                categories=(CLINIC_CATEGORY, STAFF_CATEGORY),
            )
        )
    return events
