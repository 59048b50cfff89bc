"""Screening use cases: store a patient's screening, read back the latest."""

from __future__ import annotations

from datetime import datetime

from ketaplan.errors import BookError
from ketaplan.model.records import ScreeningRecord
from ketaplan.safety.screening import ScreeningResult, assess
from ketaplan.store import Book


def screening_record(result: ScreeningResult, *, now: datetime) -> ScreeningRecord:
    """What the book stores of a result: the answers, the summary and the flag."""
    return ScreeningRecord(
        patient=result.patient,
        date=result.date,
        answers=result.screening.answers,
        summary=result.summary,
        contraindicated=result.contraindicated,
        recorded=now,
    )


def store_screening(book: Book, result: ScreeningResult, *, now: datetime) -> None:
    """Store a screening in one transaction; earlier ones are kept."""
    with book.writing() as tx:
        tx.add_screening(screening_record(result, now=now))


def latest_screening(book: Book, patient: str) -> ScreeningResult:
    """The patient's latest stored screening, evaluated again from its answers; BookError
    when there is none."""
    record = book.latest_screening(patient)
    if record is None:
        raise BookError(
            f"no screening of {patient} is stored in the book {book.location}; record one "
            f"with `ketaplan screen --patient {patient}`"
        )
    # The stored answers were checked when they were taken; question keys never change,
    # and a question added since shows as not asked.
    return assess(patient, record.answers, record.date)
