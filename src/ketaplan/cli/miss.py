"""`ketaplan miss`: record a no-show; the rest of the course is re-planned."""

from __future__ import annotations

from ketaplan.booking.lifecycle import record
from ketaplan.cli.app import app
from ketaplan.cli.bookfile import BookOpt, ClinicOpt
from ketaplan.cli.changes import (
    CorrectOpt,
    DateOpt,
    ReasonOpt,
    SessionOpt,
    changing,
    clean_text,
    session_ref,
)
from ketaplan.cli.common import ConfigOpt, PatientOpt
from ketaplan.cli.user import ByOpt, DryRunOpt


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
    with changing(
        patient,
        by,
        dry_run=dry_run,
        book_option=book_option,
        config=config,
        clinic_option=clinic_option,
    ) as change:
        ref = session_ref(session, day, change.ctx.today)
        result = record(
            change.book,
            change.ctx,
            change.patient,
            ref,
            "missed",
            reason=clean_text(reason, "--reason"),
            correct=correct,
        )
        change.done(result)
