"""`ketaplan plan`."""

from __future__ import annotations

from typing import Annotated

import typer

from ketaplan.cli import clock
from ketaplan.cli.app import app
from ketaplan.cli.common import (
    ClosedOpt,
    ConfigOpt,
    DaysOpt,
    EveryOpt,
    ForceOpt,
    FormatOpt,
    HolidaysOpt,
    LozengesOpt,
    PatientOpt,
    ProtocolOpt,
    SessionsOpt,
    StartOpt,
    TimeOpt,
    UntilOpt,
    ZoneOpt,
    check_format,
    course_request,
    load_clinic,
)
from ketaplan.cli.render import print_course
from ketaplan.planning.planner import plan_course

IcsOpt = Annotated[
    str | None,
    typer.Option(
        "--ics",
        metavar="PATH",
        help="Also write the course as an .ics calendar file; - writes it to stdout "
        "instead of the table.",
        show_default=False,
    ),
]


@app.command()
def plan(
    start: StartOpt,
    patient: PatientOpt,
    protocol: ProtocolOpt = None,
    time: TimeOpt = None,
    tz: ZoneOpt = None,
    days: DaysOpt = None,
    closed: ClosedOpt = None,
    holidays: HolidaysOpt = None,
    maintenance_every: EveryOpt = None,
    maintenance_sessions: SessionsOpt = None,
    until: UntilOpt = None,
    lozenges: LozengesOpt = None,
    fmt: FormatOpt = "table",
    config: ConfigOpt = None,
    ics: IcsOpt = None,
    force: ForceOpt = False,
) -> None:
    """Plan a patient's whole course and print it.

    Example: ketaplan plan --start 2026-12-07 --patient P-001 --tz Europe/Berlin
    """
    check_format(fmt)
    clinic = load_clinic(config)
    request = course_request(
        clinic,
        patient=patient,
        start=start,
        protocol=protocol,
        time=time,
        tz=tz,
        days=days,
        closed=closed,
        holidays=holidays,
        every=maintenance_every,
        sessions=maintenance_sessions,
        until=until,
        lozenges=lozenges,
    )
    # Before planning, so that a bad SOURCE_DATE_EPOCH is reported as the usage error it is.
    stamp = clock.calendar_stamp() if ics is not None else None
    course = plan_course(request)
    if ics is not None and stamp is not None:
        # Only with --ics: the book's path (platformdirs) and the calendar writer.
        from ketaplan.cli.bookfile import book_files
        from ketaplan.formats.calendars import course_calendar
        from ketaplan.formats.files import write_output

        data = course_calendar(course, clinic, stamp=stamp)
        write_output(ics, data, force=force, protected=book_files(None, clinic))
    if ics != "-":
        print_course(course, fmt)
