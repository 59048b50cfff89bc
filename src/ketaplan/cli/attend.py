"""`ketaplan attend`: record that a patient came, with what was measured at check-in, or
that the patient came but was not treated (--not-dosed)."""

from __future__ import annotations

from typing import Annotated

import typer

from ketaplan.booking.lifecycle import record
from ketaplan.cli.app import app
from ketaplan.cli.bookfile import BookOpt, ClinicOpt
from ketaplan.cli.changes import (
    CorrectOpt,
    DateOpt,
    SessionOpt,
    changing,
    clean_text,
    session_ref,
)
from ketaplan.cli.common import ConfigOpt, PatientOpt
from ketaplan.cli.user import ByOpt, DryRunOpt
from ketaplan.model.records import Measurements
from ketaplan.parsing import parse_blood_pressure, parse_bounded


@app.command()
def attend(
    patient: PatientOpt,
    day: DateOpt = None,
    session: SessionOpt = None,
    bp: Annotated[
        str | None,
        typer.Option("--bp", metavar="SYS/DIA", help="Blood pressure at check-in, e.g. 128/82."),
    ] = None,
    hr: Annotated[
        str | None, typer.Option("--hr", metavar="BPM", help="Heart rate at check-in.")
    ] = None,
    spo2: Annotated[
        str | None, typer.Option("--spo2", metavar="PCT", help="Oxygen saturation, percent.")
    ] = None,
    phq9: Annotated[
        str | None,
        typer.Option("--phq9", metavar="0..27", help="The patient's PHQ-9 score."),
    ] = None,
    note: Annotated[
        str | None, typer.Option("--note", metavar="TEXT", help="A note for the record.")
    ] = None,
    not_dosed: Annotated[
        str | None,
        typer.Option(
            "--not-dosed",
            metavar="REASON",
            help="The patient came but was not treated (e.g. blood pressure too high); it "
            "counts as a missed treatment and the rest of the course is re-planned.",
            show_default=False,
        ),
    ] = None,
    override: Annotated[
        str | None,
        typer.Option(
            "--override",
            metavar="REASON",
            help="Dose although the blood pressure at check-in is above the clinic's "
            "threshold: the clinician's reason, stored with the record.",
            show_default=False,
        ),
    ] = None,
    correct: CorrectOpt = False,
    by: ByOpt = None,
    dry_run: DryRunOpt = False,
    book_option: BookOpt = None,
    clinic_option: ClinicOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Record that a patient attended a session (today's, or --date / --session).

    A blood pressure above the clinic's threshold (ketaplan.toml [safety] bp_threshold)
    needs --override "REASON" to record a dose, else --not-dosed; the first esketamine
    treatment under the REMS needs the patient's enrollment.

    Example: ketaplan attend --patient P-001 --bp 128/82 --hr 72 --spo2 98 --phq9 14
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
        systolic, diastolic = (
            parse_blood_pressure(bp, what="--bp") if bp is not None else (None, None)
        )
        measured = Measurements(
            systolic,
            diastolic,
            parse_bounded(hr, what="--hr", low=20, high=250) if hr is not None else None,
            parse_bounded(spo2, what="--spo2", low=50, high=100) if spo2 is not None else None,
            parse_bounded(phq9, what="--phq9", low=0, high=27) if phq9 is not None else None,
        )
        reason = clean_text(not_dosed, "--not-dosed")
        result = record(
            change.book,
            change.ctx,
            change.patient,
            ref,
            "not-dosed" if reason else "attended",
            measured=measured,
            reason=reason,
            note=clean_text(note, "--note"),
            correct=correct,
            override=clean_text(override, "--override"),
        )
        change.done(result)
