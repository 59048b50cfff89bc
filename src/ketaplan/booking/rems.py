"""Esketamine REMS use cases: record an enrollment, list the monitoring forms due."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from ketaplan.booking.views import OVERDUE_LOOKBACK_DAYS, forms_owed
from ketaplan.model.calendar import day_bounds
from ketaplan.model.records import EnrollmentRecord
from ketaplan.safety.rems import FORM_DUE_DAYS, WEEK_DAYS, MonitoringForm, session_form
from ketaplan.store import Book


@dataclass(frozen=True)
class Enrolled:
    """What `enroll` did.

    Attributes:
        patient: the patient's code.
        enrolled_on: the enrollment date now in the book.
        previous: the date recorded before, if any.
        recorded: False when the book already held this date (nothing was written).
    """

    patient: str
    enrolled_on: date
    previous: date | None
    recorded: bool


def enroll(book: Book, patient: str, day: date, *, now: datetime) -> Enrolled:
    """Record a REMS enrollment in one transaction, unless the book already holds that
    date; a later record with another date corrects an earlier one, both kept."""
    with book.writing() as tx:
        previous = tx.enrollment(patient)
        same = previous is not None and previous.enrolled_on == day
        if not same:
            tx.record_enrollment(EnrollmentRecord(patient, day, now))
    return Enrolled(patient, day, None if previous is None else previous.enrolled_on, not same)


def forms_due_in_week(book: Book, monday: date, zone: str) -> tuple[list[MonitoringForm], set[str]]:
    """The monitoring forms not yet filed that are due in the 7 days from `monday` and
    those overdue before it (see `forms_due_between`)."""
    return forms_due_between(book, monday, monday + timedelta(days=WEEK_DAYS - 1), zone)


def forms_due_between(
    book: Book, first: date, last: date, zone: str
) -> tuple[list[MonitoringForm], set[str]]:
    """The monitoring forms not yet filed that are due from `first` to `last` (those of
    the esketamine sessions attended FORM_DUE_DAYS before) and those overdue (due before
    `first`, up to a year back), by due date; and the session uids of the overdue ones.
    Only attended sessions owe a form."""
    since, until = day_bounds(
        first - timedelta(days=FORM_DUE_DAYS + OVERDUE_LOOKBACK_DAYS),
        last - timedelta(days=FORM_DUE_DAYS),
        zone,
    )
    owed = forms_owed(book, first, last, since, until)
    forms = [session_form(f.session) for f in owed]
    return forms, {f.session.uid for f in owed if f.overdue}
