"""`ketaplan cancel`: cancel one session (the rest re-planned), every session from a
date, or the whole course. Cancelled sessions are kept, never deleted."""

from __future__ import annotations

from typing import Annotated

import typer

from ketaplan.booking.lifecycle import cancel as cancel_sessions
from ketaplan.cli.app import app
from ketaplan.cli.bookfile import BookOpt, ClinicOpt
from ketaplan.cli.changes import SessionOpt, changing, clean_text
from ketaplan.cli.common import ConfigOpt, FromOpt, PatientOpt
from ketaplan.cli.user import ByOpt, DryRunOpt
from ketaplan.errors import UsageError
from ketaplan.parsing import parse_date


@app.command()
def cancel(
    patient: PatientOpt,
    reason: Annotated[
        str, typer.Option("--reason", metavar="TEXT", help="Why, kept in the history.")
    ],
    session: SessionOpt = None,
    first: FromOpt = None,
    course: Annotated[
        bool, typer.Option("--course", help="Cancel the whole course from today.")
    ] = False,
    by: ByOpt = None,
    dry_run: DryRunOpt = False,
    book_option: BookOpt = None,
    clinic_option: ClinicOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Cancel a session (--session N; the rest of the course is re-planned), every booked
    session --from DATE on, or the whole --course.

    Example: ketaplan cancel --patient P-001 --session 4 --reason "patient ill"
    """
    given = [n for n, v in (("--session", session), ("--from", first), ("--course", course)) if v]
    if len(given) != 1:
        raise UsageError("give one of --session N, --from DATE or --course")
    with changing(
        patient,
        by,
        dry_run=dry_run,
        book_option=book_option,
        config=config,
        clinic_option=clinic_option,
    ) as change:
        why = clean_text(reason, "--reason") or ""
        since = parse_date(first, what="--from", today=change.ctx.today) if first else None
        result = cancel_sessions(
            change.book,
            change.ctx,
            change.patient,
            number=session,
            since=since,
            whole=course,
            reason=why,
        )
        change.done(result)
