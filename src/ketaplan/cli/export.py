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
from ketaplan.cli.bookfile import BookOpt, ClinicOpt, opened_book, sqlite_files
from ketaplan.cli.common import (
    ConfigOpt,
    DayOpt,
    ForceOpt,
    FromOpt,
    MonthOpt,
    ToOpt,
    WeekOpt,
    check_patient,
    check_patient_form,
    clinic_zone,
    date_range,
)
from ketaplan.cli.render import plural
from ketaplan.errors import UsageError
from ketaplan.formats.files import write_output_stream


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
    day: DayOpt = None,
    week: WeekOpt = None,
    month: MonthOpt = None,
    first: FromOpt = None,
    last: ToOpt = None,
    book_option: BookOpt = None,
    clinic_option: ClinicOpt = None,
    config: ConfigOpt = None,
    force: ForceOpt = False,
) -> None:
    """Write a patient's booked course, or the clinic's sessions for staff, as an .ics file
    with the same UIDs as in the book.

    --staff covers --day, --week, --month, or --from (default: today) to --to (default:
    everything after); each
    event carries the route's staff checklist, and each esketamine session an all-day
    REMS "monitoring form due" marker on its due date, 7 days later (the markers due in
    the window). Patient calendars carry preparation and aftercare only, and every
    cancelled session of the patient as "Cancelled: ...". A file cannot update what a
    calendar imported before: subscribe to a feed for that (`ketaplan feed create`).

    Example: ketaplan export --staff --ics staff.ics --from 2026-12-07 --to 2026-12-31
    """
    if (patient is None) == (not staff):
        raise UsageError("give --patient CODE or --staff")
    if patient is not None and (day or week or month or first or last):
        raise UsageError(
            "--day, --week, --month, --from and --to are for --staff; --patient exports the "
            "whole course"
        )
    # The options are checked before the book is opened; the days follow its clinic's zone.
    date_range(day, week, month, first, last, clock.today_in("UTC"), open_end=True)
    if patient is not None:
        check_patient_form(patient)
    from ketaplan.formats.ics import write_calendar  # icalendar: for exports only

    stamp = clock.calendar_stamp()
    with opened_book(book_option, config, create=False, clinic_option=clinic_option) as opened:
        clinic = opened.clinic
        zone = clinic_zone(None, clinic)
        today = clock.today_in(zone)
        if patient is not None:
            code = check_patient(patient, clinic)
            calendar = patient_calendar(opened.book, code, clinic, zone)
        else:
            since_day, until_day = date_range(
                day, week, month, first, last, today, open_end=True
            ) or (today, date.max - timedelta(2))
            calendar = staff_calendar(opened.book, clinic, zone, since_day, until_day)
        # Streamed while the book is open: a year of a large clinic is never in memory.
        count = write_output_stream(
            ics,
            lambda write: write_calendar(write, calendar.header, calendar.events, stamp=stamp),
            force=force,
            protected=sqlite_files(opened.path),
        )
    if ics != "-":
        sys.stderr.write(f"Wrote {plural(count, 'event')} to {ics}\n")
