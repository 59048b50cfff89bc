"""Calendar use cases: a patient's booked course and the clinic's staff calendar, as the
events of an .ics file with the book's UIDs."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from ketaplan.booking.agenda import enrollments, latest_screenings
from ketaplan.booking.courses import active_course
from ketaplan.formats.calendars import calendar_name, course_events, staff_events
from ketaplan.formats.ics import CalendarEvent
from ketaplan.model.clinic import ClinicConfig
from ketaplan.model.records import SessionRecord
from ketaplan.store import Book


def patient_calendar(
    book: Book, patient: str, clinic: ClinicConfig
) -> tuple[str, list[CalendarEvent]]:
    """The calendar's name and the events of the patient's active course, each with the
    revision the book holds. Cancelled sessions (of this course and of replaced ones)
    stay in the file as STATUS:CANCELLED with their raised SEQUENCE, so a calendar that
    imported them shows the cancellation instead of a stale visit."""
    course, rows = active_course(book, patient)
    sequence = {s.uid: s.sequence for s in rows}
    events = [replace(e, sequence=sequence.get(e.uid, 0)) for e in course_events(course, clinic)]
    cancelled: dict[str, SessionRecord] = {}
    for s in book.patient_sessions(patient):
        if s.status == "cancelled" and s.uid not in sequence:
            kept = cancelled.get(s.uid)
            if kept is None or s.sequence > kept.sequence:
                cancelled[s.uid] = s
    events += [
        CalendarEvent(
            uid=s.uid,
            summary=f"{s.title} {s.phase_number}/{s.phase_total} · {s.phase} · {s.patient}",
            start=s.start,
            end=s.end,
            description="Cancelled.",
            transparent=True,
            sequence=s.sequence,
            status="CANCELLED",
        )
        for s in sorted(cancelled.values(), key=lambda s: (s.start, s.uid))
    ]
    return calendar_name(course, clinic), events


def staff_calendar(
    book: Book, since: datetime, until: datetime, clinic: ClinicConfig
) -> tuple[str, list[CalendarEvent]]:
    """The staff calendar's name and the events of every clinic session from `since` to
    `until`."""
    sessions = book.sessions_between(since, until, location="clinic")
    screenings = latest_screenings(book, sessions)
    enrolled = enrollments(book, sessions)
    return f"{clinic.name} · staff", staff_events(sessions, clinic, screenings, enrolled)
