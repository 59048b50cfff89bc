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
from ketaplan.store import Book


def patient_calendar(
    book: Book, patient: str, clinic: ClinicConfig
) -> tuple[str, list[CalendarEvent]]:
    """The calendar's name and the events of the patient's active course, each with the
    revision the book holds."""
    course, rows = active_course(book, patient)
    sequence = {s.uid: s.sequence for s in rows}
    events = [replace(e, sequence=sequence.get(e.uid, 0)) for e in course_events(course, clinic)]
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
