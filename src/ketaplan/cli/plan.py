"""`ketaplan plan` and `ketaplan protocols`."""

from __future__ import annotations

import os
from dataclasses import fields
from datetime import UTC, datetime
from typing import Annotated

import typer

from ketaplan.cli.app import app
from ketaplan.cli.common import (
    ClosedOpt,
    ConfigOpt,
    DaysOpt,
    EveryOpt,
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
from ketaplan.cli.render import console, print_course
from ketaplan.protocols import BUILTIN, Phase, get_protocol
from ketaplan.schedule import plan_course

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
    stamp = _ics_stamp() if ics is not None else None
    course = plan_course(request)
    if ics is not None and stamp is not None:
        from ketaplan.files import write_atomic
        from ketaplan.ics import course_calendar

        write_atomic(ics, course_calendar(course, clinic, stamp=stamp))
    if ics != "-":
        print_course(course, fmt)


def _ics_stamp() -> datetime:
    """DTSTAMP: SOURCE_DATE_EPOCH makes exports byte-identical; else the time of export."""
    from ketaplan.ics import stamp_from_epoch

    return stamp_from_epoch(os.environ.get("SOURCE_DATE_EPOCH"), datetime.now(UTC))


protocols_app = typer.Typer(
    help="List the built-in protocols, or show one with every parameter and its source.\n\n"
    "Example: ketaplan protocols show esketamine",
    invoke_without_command=True,
    no_args_is_help=False,
)
app.add_typer(protocols_app, name="protocols")


@protocols_app.callback()
def protocols(ctx: typer.Context) -> None:
    """List the built-in protocols.

    Example: ketaplan protocols
    """
    if ctx.invoked_subcommand is not None:
        return
    from rich import box
    from rich.table import Table

    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for column in ("Name", "Treatment", "Phases", "Source"):
        table.add_column(column)
    for p in BUILTIN.values():
        phases = ", ".join(
            f"{ph.name} ({ph.sessions if ph.sessions else 'open'})" for ph in p.phases
        )
        table.add_row(p.name, p.title, phases, p.source)
    console().print(table)


@protocols_app.command("show")
def protocols_show(name: str = typer.Argument(help="A built-in name or a FILE.toml.")) -> None:
    """Print every parameter of a protocol and where it comes from.

    Example: ketaplan protocols show iv
    """
    from rich import box
    from rich.table import Table

    protocol = get_protocol(name)
    out = console()
    out.print(f"{protocol.name}: {protocol.title} (route {protocol.route})", markup=False)
    out.print(f"Source: {protocol.source}", markup=False)
    out.print(f"Default maintenance sessions: {protocol.maintenance_sessions}", markup=False)
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for column in ("Phase", "Parameter", "Value", "Source"):
        table.add_column(column, overflow="fold")
    for phase in protocol.phases:
        for field in fields(Phase):
            if field.name in ("name", "sources"):
                continue
            value = getattr(phase, field.name)
            if value in (None, ()) and field.name != "sessions":
                continue
            shown = _show_value(field.name, value)
            table.add_row(
                phase.name, field.name, shown, phase.source_of(field.name) or "ketaplan default"
            )
    out.print(table)


def _show_value(name: str, value: object) -> str:
    if name == "sessions" and value is None:
        return "open-ended"
    if isinstance(value, tuple):
        return ", ".join(str(v) for v in value) + " (last repeats)"
    return str(value)
