"""`ketaplan booster`: one extra maintenance session on an active course (a relapse)."""

from __future__ import annotations

from typing import Annotated

import typer

from ketaplan.booking.lifecycle import booster as book_booster
from ketaplan.cli.app import app
from ketaplan.cli.bookfile import BookOpt, ClinicOpt
from ketaplan.cli.changes import ReasonOpt, changing, clean_text
from ketaplan.cli.common import ConfigOpt, PatientOpt
from ketaplan.cli.user import ByOpt, DryRunOpt
from ketaplan.parsing import parse_date, parse_time


@app.command()
def booster(
    patient: PatientOpt,
    day: Annotated[str, typer.Option("--date", metavar="DATE", help="The booster's day.")],
    time_: Annotated[
        str | None,
        typer.Option(
            "--time",
            metavar="HH:MM",
            help="Its time (default: the course's usual time).",
            show_default=False,
        ),
    ] = None,
    reason: ReasonOpt = None,
    by: ByOpt = None,
    dry_run: DryRunOpt = False,
    book_option: BookOpt = None,
    clinic_option: ClinicOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Book one extra maintenance session (a relapse) on an active course, at least the
    protocol's minimum gap (2 days) from the sessions around it; the rest of the
    maintenance is re-planned from it.

    Example: ketaplan booster --patient P-001 --date 2027-01-12 --reason "relapse"
    """
    with changing(
        patient,
        by,
        dry_run=dry_run,
        book_option=book_option,
        config=config,
        clinic_option=clinic_option,
    ) as change:
        when = parse_date(day, what="--date", today=change.ctx.today)
        at = parse_time(time_, what="--time") if time_ else None
        why = clean_text(reason, "--reason")
        change.done(book_booster(change.book, change.ctx, change.patient, when, at=at, reason=why))
