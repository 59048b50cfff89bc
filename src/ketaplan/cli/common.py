"""Options shared by several commands, and turning them into core requests.

Options are taken as text and parsed here, so that a bad value gets ketaplan's own
one-line error instead of a usage box.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from ketaplan.cli import clock
from ketaplan.errors import UsageError
from ketaplan.formats.config_file import find_config, load_config
from ketaplan.formats.protocol_file import get_protocol
from ketaplan.model.calendar import ClinicCalendar, Closure, HolidayLookup
from ketaplan.model.clinic import ClinicConfig
from ketaplan.model.course import CourseRequest
from ketaplan.model.patient import normalise_code
from ketaplan.parsing import (
    parse_closure,
    parse_date,
    parse_holidays,
    parse_interval,
    parse_intervals,
    parse_time,
    parse_weekdays,
    parse_zone,
)

FORMATS = ("table", "json", "csv")

ConfigOpt = Annotated[
    Path | None,
    typer.Option(
        "--config",
        metavar="FILE",
        help="Clinic config file (default: ./ketaplan.toml).",
        show_default=False,
        dir_okay=False,
    ),
]
FormatOpt = Annotated[str, typer.Option("--format", metavar="FORMAT", help="table, json or csv.")]
ForceOpt = Annotated[
    bool,
    typer.Option(
        "--force",
        help="Replace an existing output file that is not a calendar ketaplan wrote "
        "(never the clinic book in use).",
    ),
]
PatientOpt = Annotated[
    str,
    typer.Option("--patient", metavar="CODE", help="The patient's code, e.g. P-001: never a name."),
]
StartOpt = Annotated[
    str,
    typer.Option(
        "--start", metavar="DATE", help="First possible day: YYYY-MM-DD, today or tomorrow."
    ),
]
ProtocolOpt = Annotated[
    str | None,
    typer.Option(
        "--protocol",
        metavar="NAME|FILE",
        help="iv, im, esketamine, lozenge, or a FILE.toml (default: the clinic's, else iv).",
        show_default=False,
    ),
]
TimeOpt = Annotated[
    str | None,
    typer.Option(
        "--time",
        metavar="HH:MM",
        help="Local time HH:MM (default: the clinic's, else 09:00).",
        show_default=False,
    ),
]
ZoneOpt = Annotated[
    str | None,
    typer.Option(
        "--tz",
        metavar="ZONE",
        help="IANA time zone (default: the clinic's, else the system's).",
        show_default=False,
    ),
]
DaysOpt = Annotated[
    str | None,
    typer.Option(
        "--days",
        metavar="DAYS",
        help="Open weekdays, e.g. mon,wed,fri or mon-fri (default: the clinic's, else mon-fri).",
        show_default=False,
    ),
]
ClosedOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--closed",
        metavar="DATE[..DATE]",
        help="A closed DATE or DATE..DATE; repeatable.",
        show_default=False,
    ),
]
HolidaysOpt = Annotated[
    str | None,
    typer.Option(
        "--holidays",
        metavar="CC[-SUB]",
        help="Public holidays of a country: CC or CC-SUBDIV, e.g. DE-BY.",
        show_default=False,
    ),
]
EveryOpt = Annotated[
    str | None,
    typer.Option(
        "--maintenance-every",
        metavar="INTERVALS",
        help="Maintenance gap, e.g. 4w, or a taper 2w,3w,4w,6w (the last repeats).",
        show_default=False,
    ),
]
SessionsOpt = Annotated[
    str | None,
    typer.Option(
        "--maintenance-sessions",
        metavar="N",
        help="How many maintenance sessions.",
        show_default=False,
    ),
]
UntilOpt = Annotated[
    str | None,
    typer.Option(
        "--until",
        metavar="DATE",
        help="Maintenance sessions up to this date instead of a count.",
        show_default=False,
    ),
]
LozengesOpt = Annotated[
    str | None,
    typer.Option(
        "--lozenges",
        metavar="INTERVAL",
        help="Add home lozenge doses between maintenance visits, e.g. 3d.",
        show_default=False,
    ),
]


def load_clinic(config: Path | None) -> ClinicConfig:
    return load_config(find_config(config, Path()))


def check_format(value: str, allowed: tuple[str, ...] = FORMATS) -> str:
    if value not in allowed:
        raise UsageError(f"--format {value!r} is not one of {', '.join(allowed)}")
    return value


def check_patient(code: str, clinic: ClinicConfig) -> str:
    """The patient code's one spelling (see `ketaplan.model.patient`)."""
    return normalise_code(code, clinic.patient_code)


def system_zone() -> str:
    """The system's IANA zone: $TZ, else /etc/localtime's target, else UTC."""
    tz = os.environ.get("TZ", "").lstrip(":")
    if tz:
        parse_zone(tz)
        return tz
    try:
        target = os.path.realpath("/etc/localtime")
    except OSError:
        return "UTC"
    marker = "zoneinfo/"
    if marker in target:
        name = target.split(marker, 1)[1]
        try:
            parse_zone(name)
        except UsageError:
            return "UTC"
        return name
    return "UTC"


def clinic_zone(option: str | None, clinic: ClinicConfig) -> str:
    zone = option or clinic.zone or system_zone()
    parse_zone(zone)
    return zone


def holiday_lookup(code: str | None, clinic: ClinicConfig) -> HolidayLookup | None:
    place = parse_holidays(code) if code else clinic.holidays
    if place is None:
        return None
    from ketaplan.planning.holidays import CountryHolidays

    return CountryHolidays(*place)


def clinic_calendar(
    clinic: ClinicConfig, days: str | None, closed: list[str] | None, holidays: str | None
) -> ClinicCalendar:
    open_weekdays = parse_weekdays(days) if days else clinic.open_weekdays
    closures = clinic.closures + tuple(Closure(*parse_closure(c)) for c in closed or ())
    return ClinicCalendar(open_weekdays, closures, holiday_lookup(holidays, clinic))


def course_request(
    clinic: ClinicConfig,
    *,
    patient: str,
    start: str,
    protocol: str | None,
    time: str | None,
    tz: str | None,
    days: str | None,
    closed: list[str] | None,
    holidays: str | None,
    every: str | None,
    sessions: str | None,
    until: str | None,
    lozenges: str | None,
) -> CourseRequest:
    """The course a command's plan options describe, defaults from the clinic."""
    zone = clinic_zone(tz, clinic)
    today = clock.today_in(zone)
    count: int | None = None
    if sessions is not None:
        if not sessions.strip().isdigit():
            raise UsageError(f"--maintenance-sessions {sessions!r} is not a whole number")
        count = int(sessions)
    return CourseRequest(
        patient=check_patient(patient, clinic),
        protocol=get_protocol(protocol or clinic.protocol),
        start=parse_date(start, what="--start", today=today),
        at=parse_time(time, what="--time") if time else clinic.session_time,
        zone=zone,
        calendar=clinic_calendar(clinic, days, closed, holidays),
        every=parse_intervals(every) if every else None,
        open_sessions=count,
        until=parse_date(until, what="--until", today=today) if until else None,
        lozenge_every=parse_interval(lozenges, what="--lozenges") if lozenges else None,
    )
