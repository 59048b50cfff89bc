"""`ketaplan rems enroll`, `rems due` and `rems filed`: the esketamine REMS in the clinic
book.

The first esketamine treatment needs the patient's enrollment (booking without it is
flagged); a patient monitoring form is due within 7 calendar days after every attended
session ([spravato-rems]). Both only where the REMS applies (ketaplan.toml [rems]).
"""

from __future__ import annotations

import json
import sys
from datetime import date, timedelta
from typing import Annotated

import typer

from ketaplan.booking.rems import enroll as enroll_patient
from ketaplan.booking.rems import forms_due_in_week
from ketaplan.cli import clock
from ketaplan.cli.app import app, mark_stored
from ketaplan.cli.bookfile import BookOpt, opened_book
from ketaplan.cli.common import (
    ConfigOpt,
    PatientOpt,
    check_format,
    check_patient,
    clinic_zone,
    load_clinic,
)
from ketaplan.cli.render import aligned
from ketaplan.cli.user import ByOpt
from ketaplan.errors import UsageError
from ketaplan.formats.shapes import form_json
from ketaplan.parsing import parse_date
from ketaplan.safety.rems import ENROLLMENT_AHEAD_DAYS, WEEK_DAYS, MonitoringForm, rems_applies

REMS_FORMATS = ("table", "json")

rems_app = typer.Typer(
    help="Esketamine REMS: record a patient's enrollment, list the monitoring forms due.\n\n"
    "Example: ketaplan rems due --week 2026-12-07",
    invoke_without_command=True,
)
app.add_typer(rems_app, name="rems")


@rems_app.callback()
def rems(ctx: typer.Context) -> None:
    """Esketamine REMS: record a patient's enrollment, list the monitoring forms due.

    Example: ketaplan rems due --week 2026-12-07
    """
    if ctx.invoked_subcommand is None:
        sys.stdout.write(ctx.get_help() + "\n")


@rems_app.command("enroll")
def enroll(
    patient: Annotated[
        str, typer.Argument(metavar="CODE", help="The patient's code, e.g. P-001: never a name.")
    ],
    on: Annotated[
        str,
        typer.Option(
            "--date", metavar="DATE", help="The day the patient was enrolled: YYYY-MM-DD or today."
        ),
    ],
    book_option: BookOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Record a patient's esketamine REMS enrollment; the first treatment needs it.

    The date may lie ahead (a planned enrollment): booking is allowed without it and
    flagged. A later record with another date corrects an earlier one; both are kept.

    Example: ketaplan rems enroll P-001 --date 2026-11-20
    """
    clinic = load_clinic(config)
    code = check_patient(patient, clinic)
    today = clock.today_in(clinic_zone(None, clinic))
    day = parse_date(on, what="--date", today=today)
    if (day - today).days > ENROLLMENT_AHEAD_DAYS:
        raise UsageError(
            f"--date {day} is more than {ENROLLMENT_AHEAD_DAYS} days after today ({today})"
        )
    with opened_book(book_option, clinic, create=True) as book:
        done = enroll_patient(book, code, day, now=clock.now())
        location = book.location
    mark_stored(f"The REMS enrollment of {code} on {day} is stored in {location}")
    if not done.recorded:
        sys.stdout.write(f"The REMS enrollment of {code} on {day} is already in {location}\n")
    elif done.previous is not None:
        sys.stdout.write(
            f"Recorded the REMS enrollment of {code} on {day} in {location} "
            f"(it was {done.previous})\n"
        )
    else:
        sys.stdout.write(f"Recorded the REMS enrollment of {code} on {day} in {location}\n")


@rems_app.command("due")
def due(
    week: Annotated[
        str | None,
        typer.Option(
            "--week",
            metavar="DATE",
            help="The Monday-to-Sunday week holding this date (default: this week).",
            show_default=False,
        ),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", metavar="FORMAT", help="table or json.")] = (
        "table"
    ),
    book_option: BookOpt = None,
    config: ConfigOpt = None,
) -> None:
    """List the REMS patient monitoring forms due in a week, and those overdue.

    One form per attended esketamine session, due 7 calendar days after it; booked,
    cancelled, missed and not-dosed sessions owe none, and a form recorded with `rems
    filed` is done. None at all where the REMS does not apply (ketaplan.toml [rems]
    program = "none", or a clinic outside the US without the key).

    Example: ketaplan rems due --week 2026-12-07 --format json
    """
    check_format(fmt, REMS_FORMATS)
    clinic = load_clinic(config)
    zone = clinic_zone(None, clinic)
    today = clock.today_in(zone)
    anchor = parse_date(week, what="--week", today=today) if week else today
    monday = anchor - timedelta(days=anchor.weekday())
    with opened_book(book_option, clinic, create=False) as book:
        forms, late = forms_due_in_week(book, monday, zone)
    applies = rems_applies(clinic.rems_program, zone)
    if not applies:
        forms, late = [], set()
    sunday = monday + timedelta(days=WEEK_DAYS - 1)
    if fmt == "json":
        data = {
            "from": monday.isoformat(),
            "to": sunday.isoformat(),
            "rems": applies,
            "forms": [form_json(f, overdue=f.session_uid in late) for f in forms],
        }
        sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        return
    if not applies:
        sys.stdout.write(
            f"The esketamine REMS does not apply to {clinic.name} ({zone}); set [rems] "
            'program = "us-spravato" in ketaplan.toml for a US outpatient clinic.\n'
        )
        return
    _print_due(forms, late, monday, sunday, clinic.name, zone)


FORM_COLUMNS = ("Due", "Patient", "Session date", "Session uid")


@rems_app.command("filed")
def filed(
    patient: PatientOpt,
    session: Annotated[
        int,
        typer.Option("--session", metavar="N", help="The session's number, as `course` lists it."),
    ],
    by: ByOpt = None,
    book_option: BookOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Record that the REMS patient monitoring form of an attended esketamine session was
    submitted (today); `rems due` then no longer lists it.

    Example: ketaplan rems filed --patient P-001 --session 3
    """
    from ketaplan.booking.lifecycle import file_form  # the lifecycle's use cases: filed only
    from ketaplan.cli.changes import context

    clinic = load_clinic(config)
    code = check_patient(patient, clinic)
    with opened_book(book_option, clinic, create=False) as book:
        result = file_form(book, context(clinic, by), code, session)
    sys.stdout.write(result.headline + "\n")


def _print_due(
    forms: list[MonitoringForm], late: set[str], monday: date, sunday: date, name: str, zone: str
) -> None:
    """Plain aligned columns, like the agenda."""
    lines = [f"REMS monitoring forms due {monday} to {sunday} · {name} · {zone}", ""]
    if not forms:
        lines.append(f"No monitoring forms due from {monday} to {sunday}.")
    else:
        rows = [FORM_COLUMNS] + [
            (
                f"{f.due:%a %Y-%m-%d}" + (" overdue" if f.session_uid in late else ""),
                f.patient,
                f"{f.session_day:%a %Y-%m-%d}",
                f.session_uid,
            )
            for f in forms
        ]
        lines += aligned(rows)
        plural = "form" if len(forms) == 1 else "forms"
        overdue = f", {len(late)} overdue" if late else ""
        lines += [
            "",
            f"{len(forms)} {plural}{overdue}: each within 7 calendar days of its session; "
            "`ketaplan rems filed` records one.",
        ]
    sys.stdout.write("\n".join(lines) + "\n")
