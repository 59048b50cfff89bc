"""`ketaplan move`: move a booked session to another day, checked against the protocol's
rules and the chairs; the sessions after it are re-planned from it."""

from __future__ import annotations

from typing import Annotated

import typer

from ketaplan.booking.lifecycle import move as move_session
from ketaplan.cli.app import app
from ketaplan.cli.bookfile import BookOpt, ClinicOpt
from ketaplan.cli.changes import changing, clean_text
from ketaplan.cli.common import ConfigOpt, PatientOpt
from ketaplan.cli.user import ByOpt, DryRunOpt
from ketaplan.parsing import parse_date, parse_time


@app.command()
def move(
    patient: PatientOpt,
    session: Annotated[
        int,
        typer.Option("--session", metavar="N", help="The session's number, as `course` lists it."),
    ],
    to: Annotated[str, typer.Option("--to", metavar="DATE", help="The new day, YYYY-MM-DD.")],
    time_: Annotated[
        str | None,
        typer.Option(
            "--time",
            metavar="HH:MM",
            help="The new time (default: its time now).",
            show_default=False,
        ),
    ] = None,
    override: Annotated[
        str | None,
        typer.Option(
            "--override",
            metavar="REASON",
            help="Move it although it breaks a protocol rule: the clinician's reason, stored "
            "in the history.",
            show_default=False,
        ),
    ] = None,
    by: ByOpt = None,
    dry_run: DryRunOpt = False,
    book_option: BookOpt = None,
    clinic_option: ClinicOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Move a booked session to another day (and time); the sessions after it are
    re-planned from it. A move that breaks a protocol rule is refused with the rule.

    Example: ketaplan move --patient P-001 --session 4 --to 2026-12-15 --time 10:00
    """
    with changing(
        patient,
        by,
        dry_run=dry_run,
        book_option=book_option,
        config=config,
        clinic_option=clinic_option,
    ) as change:
        day = parse_date(to, what="--to", today=change.ctx.today)
        at = parse_time(time_, what="--time") if time_ else None
        reason = clean_text(override, "--override")
        change.done(
            move_session(
                change.book, change.ctx, change.patient, session, day, at=at, override=reason
            )
        )
