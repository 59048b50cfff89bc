"""`ketaplan miss`: record a no-show; the rest of the course is re-planned."""

from __future__ import annotations

from ketaplan.booking.lifecycle import record
from ketaplan.cli.app import app
from ketaplan.cli.bookfile import BookOpt, ClinicOpt, opened_book
from ketaplan.cli.changes import (
    CorrectOpt,
    DateOpt,
    DryRunOpt,
    ReasonOpt,
    SessionOpt,
    clean_text,
    context,
    print_result,
    session_ref,
)
from ketaplan.cli.common import ConfigOpt, PatientOpt, check_patient
from ketaplan.cli.user import ByOpt


@app.command()
def miss(
    patient: PatientOpt,
    day: DateOpt = None,
    session: SessionOpt = None,
    reason: ReasonOpt = None,
    correct: CorrectOpt = False,
    by: ByOpt = None,
    dry_run: DryRunOpt = False,
    book_option: BookOpt = None,
    clinic_option: ClinicOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Record that a patient did not come to a session; the rest of the course is
    re-planned by the protocol's rules and shown before and after.

    Example: ketaplan miss --patient P-001 --date 2026-12-11 --reason "no-show"
    """
    with opened_book(book_option, config, create=False, clinic_option=clinic_option) as opened:
        clinic = opened.clinic  # the book's clinic
        code = check_patient(patient, clinic)
        ctx = context(clinic, by, dry_run=dry_run)
        ref = session_ref(session, day, ctx.today)
        book = opened.book
        result = record(
            book,
            ctx,
            code,
            ref,
            "missed",
            reason=clean_text(reason, "--reason"),
            correct=correct,
        )
        location = book.location
        print_result(result, location)
