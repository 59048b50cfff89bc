"""Reading a course's life back: the course with its sessions, records, review points,
REMS forms and history (`ketaplan course`), the history alone, and the REMS forms owed.
Reads only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from ketaplan.errors import BookError
from ketaplan.model.records import Attendance, CourseRecord, HistoryEntry, SessionRecord
from ketaplan.planning.reviews import is_review_point
from ketaplan.safety.gate import session_flags
from ketaplan.safety.rems import FORM_DUE_DAYS
from ketaplan.store import Book

FormState = Literal["owed", "overdue", "filed"]
# How far back `rems due` looks for forms never filed.
OVERDUE_LOOKBACK_DAYS = 366


@dataclass(frozen=True)
class SessionView:
    """One session of a course as `ketaplan course` shows it.

    Attributes:
        row: the session as booked, with its status.
        record: the latest record of what happened; None before anything is recorded.
        review: a review point (see `ketaplan.planning.reviews`).
        form: the REMS form of an attended esketamine session; None when none is owed.
        form_due: the day that form is due.
        flags: what the clinician should see first: a contraindication in a screening
            stored after booking, the course's booking flags (`safety.gate.session_flags`).
    """

    row: SessionRecord
    record: Attendance | None
    review: bool
    form: FormState | None
    form_due: date | None
    flags: tuple[str, ...] = ()


@dataclass(frozen=True)
class CourseView:
    course: CourseRecord
    sessions: tuple[SessionView, ...]
    next_session: SessionRecord | None
    records: tuple[Attendance, ...]
    history: tuple[HistoryEntry, ...]


def course_view(book: Book, patient: str, today: date) -> CourseView:
    """The patient's current course; BookError when the patient has none."""
    course = book.active_course(patient)
    if course is None:
        raise BookError(f"{patient} has no course in the book {book.location}")
    rows = sorted(book.course_sessions(course.id), key=lambda r: (r.start, r.number))
    records = book.session_records(course.id)
    latest = {r.session_id: r for r in records}
    esketamine = any(r.route == "esketamine" for r in rows)
    attended = [r.id for r in rows if r.status == "attended"] if esketamine else []
    filed = book.forms_filed(attended)
    screening = book.latest_screening(patient)
    enrollment = book.enrollment(patient)
    enrolled_on = None if enrollment is None else enrollment.enrolled_on
    views: list[SessionView] = []
    for row in rows:
        form: FormState | None = None
        due: date | None = None
        if row.id in attended and row.location == "clinic":
            due = row.start.date() + timedelta(days=FORM_DUE_DAYS)
            form = "filed" if row.id in filed else ("overdue" if due < today else "owed")
        review = row.status in ("booked", "attended") and is_review_point(
            row.route, row.phase, row.phase_number, row.phase_total
        )
        flags = session_flags(row, screening, enrolled_on)
        views.append(SessionView(row, latest.get(row.id), review, form, due, flags))
    upcoming = [r for r in rows if r.status == "booked" and r.start.date() >= today]
    return CourseView(
        course,
        tuple(views),
        upcoming[0] if upcoming else None,
        tuple(records),
        tuple(e for e in book.history(patient) if e.course_id == course.id),
    )


def patient_history(book: Book, patient: str) -> list[HistoryEntry]:
    """Every change to the patient's courses; BookError when there is none."""
    entries = book.history(patient)
    if not entries and book.active_course(patient) is None:
        raise BookError(f"{patient} has no course in the book {book.location}")
    return entries


@dataclass(frozen=True)
class OwedForm:
    """A REMS monitoring form owed for an attended esketamine session, not yet filed."""

    session: SessionRecord
    due: date
    overdue: bool


def forms_owed(
    book: Book, first: date, last: date, since: datetime, until: datetime
) -> list[OwedForm]:
    """Forms not filed of attended esketamine sessions starting in [since, until): those
    due from `first` to `last`, and those due before `first` (overdue)."""
    sessions = book.attended_sessions(since, until, route="esketamine")
    filed = book.forms_filed([s.id for s in sessions])
    owed: list[OwedForm] = []
    for s in sessions:
        if s.id in filed:
            continue
        due = s.start.date() + timedelta(days=FORM_DUE_DAYS)
        if due <= last:
            owed.append(OwedForm(s, due, due < first))
    owed.sort(key=lambda f: (f.due, f.session.patient, f.session.start))
    return owed
