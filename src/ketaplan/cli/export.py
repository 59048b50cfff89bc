"""`ketaplan export`: a patient's booked course, or the clinic's sessions for staff, as an
.ics file with the book's UIDs."""

from __future__ import annotations

import sys
from datetime import date, timedelta
from typing import Annotated

import typer

from ketaplan.booking.calendars import patient_calendar, staff_calendar
from ketaplan.cli import clock
from ketaplan.cli.app import app
from ketaplan.cli.bookfile import BookOpt, FromOpt, ToOpt, book_files, opened_book
from ketaplan.cli.common import (
    ConfigOpt,
    ForceOpt,
    check_patient,
    clinic_zone,
    load_clinic,
)
from ketaplan.cli.render import plural
from ketaplan.errors import UsageError
from ketaplan.formats.files import write_output
from ketaplan.model.calendar import day_bounds
from ketaplan.parsing import parse_date


@app.command()
def export(
    ics: Annotated[
        str,
        typer.Option("--ics", metavar="PATH", help="The .ics file to write; - for stdout."),
    ],
    patient: Annotated[
        str | None,
        typer.Option(
            "--patient", metavar="CODE", help="The patient's active course.", show_default=False
        ),
    ] = None,
    staff: Annotated[
        bool, typer.Option("--staff", help="Every clinic session, with patient and chair.")
    ] = False,
    first: FromOpt = None,
    last: ToOpt = None,
    book_option: BookOpt = None,
    config: ConfigOpt = None,
    force: ForceOpt = False,
) -> None:
    """Write a patient's booked course, or the clinic's sessions for staff, as an .ics file
    with the same UIDs as in the book.

    --staff covers --from (default: today) to --to (default: everything after); each
    event carries the route's staff checklist, and each esketamine session an all-day
    REMS "monitoring form due" marker 7 days later. Patient calendars carry preparation
    and aftercare only.

    Example: ketaplan export --staff --ics staff.ics --from 2026-12-07 --to 2026-12-31
    """
    if (patient is None) == (not staff):
        raise UsageError("give --patient CODE or --staff")
    if patient is not None and (first or last):
        raise UsageError("--from and --to are for --staff; --patient exports the whole course")
    clinic = load_clinic(config)
    zone = clinic_zone(None, clinic)
    today = clock.today_in(zone)
    from ketaplan.formats.ics import calendar_bytes  # icalendar: for exports only

    stamp = clock.calendar_stamp()
    if patient is not None:
        code = check_patient(patient, clinic)
        with opened_book(book_option, clinic, create=False) as clinic_book:
            name, events = patient_calendar(clinic_book, code, clinic)
    else:
        since_day = parse_date(first, what="--from", today=today) if first else today
        until_day = parse_date(last, what="--to", today=today) if last else date.max - timedelta(2)
        if until_day < since_day:
            raise UsageError(f"--to {until_day} is before --from {since_day}")
        since, until = day_bounds(since_day, until_day, zone)
        with opened_book(book_option, clinic, create=False) as clinic_book:
            name, events = staff_calendar(clinic_book, since, until, clinic)
    data = calendar_bytes(name, events, stamp=stamp)
    write_output(ics, data, force=force, protected=book_files(book_option, clinic))
    if ics != "-":
        sys.stderr.write(f"Wrote {plural(len(events), 'event')} to {ics}\n")
