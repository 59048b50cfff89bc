"""`ketaplan move`: move a booked session to another day, checked against the protocol's
rules and the chairs; the sessions after it are re-planned from it."""

from __future__ import annotations

from typing import Annotated

import typer

from ketaplan.booking.lifecycle import move as move_session
from ketaplan.cli.app import app
from ketaplan.cli.bookfile import BookOpt, ClinicOpt, opened_book
from ketaplan.cli.changes import DryRunOpt, clean_text, context, print_result
from ketaplan.cli.common import ConfigOpt, PatientOpt, check_patient
from ketaplan.cli.user import ByOpt
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
    with opened_book(book_option, config, create=False, clinic_option=clinic_option) as opened:
        clinic = opened.clinic  # the book's clinic
        code = check_patient(patient, clinic)
        ctx = context(clinic, by, dry_run=dry_run)
        day = parse_date(to, what="--to", today=ctx.today)
        at = parse_time(time_, what="--time") if time_ else None
        reason = clean_text(override, "--override")
        book = opened.book
        result = move_session(book, ctx, code, session, day, at=at, override=reason)
        location = book.location
        print_result(result, location)
