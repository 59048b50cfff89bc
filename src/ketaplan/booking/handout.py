"""The handout use case: a patient's booked course as the printed handout shows it."""

from __future__ import annotations

from datetime import date

from ketaplan.errors import BookError
from ketaplan.formats.handout import Handout, handout_from_book
from ketaplan.model.clinic import ClinicConfig
from ketaplan.store import Book


def patient_handout(
    book: Book, patient: str, clinic: ClinicConfig, *, updated: date, paper: str
) -> Handout:
    """The patient's active course with every session as the book holds it (cancelled
    ones included, to be shown as cancelled); BookError when there is none."""
    course = book.active_course(patient)
    if course is None:
        raise BookError(
            f"{patient} has no booked course in the book {book.location}; "
            f"book one with `ketaplan book --patient {patient} ...`"
        )
    sessions = book.course_sessions(course.id)
    return handout_from_book(course, sessions, clinic, updated=updated, paper=paper)
