"""Options shared by several commands, and turning them into core requests.

Options are taken as text and parsed here, so that a bad value gets ketaplan's own
one-line error instead of a usage box.
"""

from __future__ import annotations

import os
import re
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated

import typer

from ketaplan.cli import clock
from ketaplan.errors import UsageError
from ketaplan.formats.config_file import CONFIG_ENV, ConfigChoice, find_config, load_config
from ketaplan.formats.protocol_file import get_protocol
from ketaplan.model.calendar import UNAVAILABLE, ClinicCalendar, Closure, HolidayLookup
from ketaplan.model.clinic import ClinicConfig
from ketaplan.model.course import CourseRequest
from ketaplan.model.patient import normalise_code
from ketaplan.parsing import (
    WEEKDAYS,
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
        help="Clinic config file (default: $KETAPLAN_CONFIG, else ketaplan.toml in this "
        "folder or the nearest parent, else in the user config folder).",
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
        help="Weekdays the patient can come, within the clinic's open days, e.g. mon,wed,fri "
        "or mon-thu (default: every open day).",
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
# `book --closed`: a book's clinic keeps its own closures (`ketaplan clinic apply FILE`),
# so on a book command the days are the patient's, noted as such where a session moves.
UnavailableOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--closed",
        metavar="DATE[..DATE]",
        help="A day (or DATE..DATE) this patient cannot come, on top of the clinic's "
        'closures; repeatable. Moved sessions say "patient unavailable". The clinic\'s '
        "own closures change with `ketaplan clinic apply FILE`.",
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


def found_config(option: Path | None) -> tuple[ConfigChoice, ClinicConfig]:
    """The config file in use (see `find_config`) and its settings."""
    found = find_config(option, Path(), env=os.environ.get(CONFIG_ENV), user_dir=_user_config_dir)
    return found, load_config(found.path)


def _user_config_dir() -> Path:
    if sys.platform == "linux":
        # platformdirs' own rule on Linux (XDG), without its import on every `plan`.
        base = os.environ.get("XDG_CONFIG_HOME", "").strip() or "~/.config"
        return Path(base).expanduser() / "ketaplan"
    from platformdirs import user_config_dir  # macOS and Windows have their own places

    return Path(user_config_dir("ketaplan"))


def load_clinic(config: Path | None) -> ClinicConfig:
    return found_config(config)[1]


def check_format(value: str, allowed: tuple[str, ...] = FORMATS) -> str:
    if value not in allowed:
        raise UsageError(f"--format {value!r} is not one of {', '.join(allowed)}")
    return value


def check_patient(code: str, clinic: ClinicConfig) -> str:
    """The patient code's one spelling (see `ketaplan.model.patient`)."""
    return normalise_code(code, clinic.patient_code)


def check_patient_form(code: str) -> str:
    """A patient code checked before the clinic is known (the book not yet open):
    everything but the clinic's pattern, which `check_patient` adds."""
    return normalise_code(code, ".+")


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
    clinic: ClinicConfig,
    days: str | None,
    closed: list[str] | None,
    holidays: str | None,
    *,
    unavailable: list[str] | None = None,
) -> ClinicCalendar:
    """The clinic's calendar (with extra --closed days and --holidays) for a patient who
    can come on --days and not on the `unavailable` days (`book --closed`)."""
    closures = (
        clinic.closures
        + tuple(Closure(*parse_closure(c)) for c in closed or ())
        + unavailable_days(unavailable)
    )
    calendar = ClinicCalendar(clinic.open_weekdays, closures, holiday_lookup(holidays, clinic))
    return patient_days(calendar, days)


def unavailable_days(unavailable: list[str] | None) -> tuple[Closure, ...]:
    """`book --closed`: the days the patient cannot come, each DATE or DATE..DATE."""
    return tuple(
        Closure(*parse_closure(c, what="--closed"), UNAVAILABLE) for c in unavailable or ()
    )


def patient_days(calendar: ClinicCalendar, days: str | None) -> ClinicCalendar:
    """--days: the weekdays the patient can come, within the clinic's open days. The
    days the clinic is closed are named on stderr; none open is refused."""
    if not days:
        return calendar
    wanted = parse_weekdays(days)
    limited = calendar.limited_to(wanted)
    if limited is None:
        raise UsageError(f"--days {days} are not among the clinic's open weekdays")
    closed = wanted - calendar.open_weekdays
    if closed:
        sys.stderr.write(
            f"Note: the clinic is closed on {_day_names(closed)}; --days keeps "
            f"{_day_names(limited.open_weekdays)}\n"
        )
    return limited


def _day_names(days: frozenset[int]) -> str:
    return ",".join(WEEKDAYS[d] for d in sorted(days))


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
    unavailable: list[str] | None = None,
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
        calendar=clinic_calendar(clinic, days, closed, holidays, unavailable=unavailable),
        every=parse_intervals(every) if every else None,
        open_sessions=count,
        until=parse_date(until, what="--until", today=today) if until else None,
        lozenge_every=parse_interval(lozenges, what="--lozenges") if lozenges else None,
    )


DayOpt = Annotated[
    str | None,
    typer.Option("--day", metavar="DATE", help="One day: YYYY-MM-DD or today.", show_default=False),
]
WeekOpt = Annotated[
    str | None,
    typer.Option(
        "--week",
        metavar="DATE",
        help="The Monday-to-Sunday week holding this date.",
        show_default=False,
    ),
]
MonthOpt = Annotated[
    str | None,
    typer.Option(
        "--month",
        metavar="YYYY-MM",
        help="A calendar month: YYYY-MM, or a date in it.",
        show_default=False,
    ),
]
FromOpt = Annotated[
    str | None,
    typer.Option("--from", metavar="DATE", help="First day, YYYY-MM-DD.", show_default=False),
]
ToOpt = Annotated[
    str | None,
    typer.Option("--to", metavar="DATE", help="Last day, YYYY-MM-DD.", show_default=False),
]


def date_range(
    day: str | None,
    week: str | None,
    month: str | None,
    first: str | None,
    last: str | None,
    today: date,
    *,
    open_end: bool = False,
) -> tuple[date, date] | None:
    """The days --day, --week, --month or --from/--to name, the same in every command;
    None when none is given (each command has its own default). With `open_end`, --from
    or --to may come alone: from today, or on without end."""
    given = [
        name
        for name, value in (("--day", day), ("--week", week), ("--month", month), ("--from", first))
        if value
    ]
    if last and not first and not open_end:
        raise UsageError("--to needs --from")
    if len(given) > 1:
        raise UsageError(
            f"give one of --day, --week, --month or --from/--to, not {' and '.join(given)}"
        )
    if day:
        one = parse_date(day, what="--day", today=today)
        return one, one
    if week:
        anchor = parse_date(week, what="--week", today=today)
        monday = anchor - timedelta(days=anchor.weekday())
        return monday, monday + timedelta(days=6)
    if month:
        start = _month_start(month, today)
        following = (start + timedelta(days=31)).replace(day=1)
        return start, following - timedelta(days=1)
    if first or last:
        if first and not last and not open_end:
            raise UsageError("--from needs --to")
        since = parse_date(first, what="--from", today=today) if first else today
        until = parse_date(last, what="--to", today=today) if last else date.max - timedelta(2)
        if until < since:
            raise UsageError(f"--to {until} is before --from {since}")
        return since, until
    return None


def this_week(today: date) -> tuple[date, date]:
    monday = today - timedelta(days=today.weekday())
    return monday, monday + timedelta(days=6)


def _month_start(text: str, today: date) -> date:
    if re.fullmatch(r"\d{4}-\d{2}", text.strip()):
        try:
            return date.fromisoformat(text.strip() + "-01")
        except ValueError:
            raise UsageError(f"--month {text!r} is not a month; use YYYY-MM") from None
    return parse_date(text, what="--month", today=today).replace(day=1)
