"""`ketaplan replan`: the coordinator's choice after an interrupted induction, or the
esketamine label's previous frequency after a missed maintenance session."""

from __future__ import annotations

from typing import Annotated

import typer

from ketaplan.booking.lifecycle import ReplanMode, replan_course
from ketaplan.cli.app import app
from ketaplan.cli.bookfile import BookOpt, ClinicOpt
from ketaplan.cli.changes import ReasonOpt, changing, clean_text
from ketaplan.cli.common import ConfigOpt, PatientOpt
from ketaplan.cli.user import ByOpt, DryRunOpt
from ketaplan.errors import UsageError
from ketaplan.parsing import parse_date


@app.command()
def replan(
    patient: PatientOpt,
    continue_: Annotated[
        bool,
        typer.Option("--continue", help="Extend an interrupted induction: its window waived."),
    ] = False,
    restart: Annotated[
        bool, typer.Option("--restart", help="Restart an interrupted induction from tomorrow.")
    ] = False,
    previous: Annotated[
        bool,
        typer.Option(
            "--previous-frequency",
            help="Esketamine maintenance back to weekly (the label's missed-dose guidance "
            "with worsening symptoms).",
        ),
    ] = False,
    first: Annotated[
        str | None,
        typer.Option(
            "--from",
            metavar="DATE",
            help="With --restart: the first day of the new induction (default: tomorrow).",
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
    """Re-plan the rest of a course: --continue or --restart an interrupted induction, or
    --previous-frequency for esketamine maintenance.

    Example: ketaplan replan --patient P-001 --continue --dry-run
    """
    chosen: list[tuple[ReplanMode, bool]] = [
        ("continue", continue_),
        ("restart", restart),
        ("previous-frequency", previous),
    ]
    modes = [mode for mode, on in chosen if on]
    if len(modes) != 1:
        raise UsageError("give one of --continue, --restart or --previous-frequency")
    with changing(
        patient,
        by,
        dry_run=dry_run,
        book_option=book_option,
        config=config,
        clinic_option=clinic_option,
    ) as change:
        why = clean_text(reason, "--reason")
        if first is not None and modes[0] != "restart":
            raise UsageError("--from is for --restart")
        today = change.ctx.today
        restart_on = parse_date(first, what="--from", today=today) if first else None
        change.done(
            replan_course(
                change.book, change.ctx, change.patient, modes[0], reason=why, restart_on=restart_on
            )
        )
