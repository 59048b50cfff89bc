"""`ketaplan rems enroll`, `rems due` and `rems filed`: the esketamine REMS in the clinic
book.

The first esketamine treatment needs the patient's enrollment (booking without it is
flagged); a patient monitoring form is due within 7 calendar days after every attended
session ([spravato-rems]). Both only where the REMS applies (ketaplan.toml [rems]).
"""

from __future__ import annotations

import json
import sys
from datetime import date
from typing import Annotated

import typer

from ketaplan.booking.rems import enroll as enroll_patient
from ketaplan.booking.rems import forms_due_between
from ketaplan.cli import clock
from ketaplan.cli.app import AliasCommand, app, mark_stored
from ketaplan.cli.bookfile import BookOpt, ClinicOpt, opened_book
from ketaplan.cli.common import (
    ConfigOpt,
    DayOpt,
    FormatOpt,
    FromOpt,
    MonthOpt,
    PatientOpt,
    ToOpt,
    WeekOpt,
    check_format,
    check_patient,
    check_patient_form,
    clinic_zone,
    date_range,
    this_week,
)
from ketaplan.cli.render import aligned, write_csv
from ketaplan.cli.user import ByOpt
from ketaplan.errors import UsageError
from ketaplan.formats.shapes import FORMS_CSV, form_csv_rows, form_json
from ketaplan.parsing import parse_date
from ketaplan.safety.rems import ENROLLMENT_AHEAD_DAYS, MonitoringForm, rems_applies

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


@rems_app.command("enroll", cls=AliasCommand)
def enroll(
    on: Annotated[
        str,
        typer.Option(
            "--date", metavar="DATE", help="The day the patient was enrolled: YYYY-MM-DD or today."
        ),
    ],
    patient: Annotated[
        str | None,
        typer.Option(
            "--patient",
            metavar="CODE",
            help="The patient's code, e.g. P-001: never a name.",
            show_default=False,
        ),
    ] = None,
    code_argument: Annotated[
        str | None,
        # The code as an argument, as before --patient: kept for scripts, not shown.
        typer.Argument(metavar="[CODE]", hidden=True, show_default=False),
    ] = None,
    book_option: BookOpt = None,
    clinic_option: ClinicOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Record a patient's esketamine REMS enrollment; the first treatment needs it.

    The date may lie ahead (a planned enrollment): booking is allowed without it and
    flagged. A later record with another date corrects an earlier one; both are kept.

    Example: ketaplan rems enroll --patient P-001 --date 2026-11-20
    """
    if (patient is None) == (code_argument is None):
        raise UsageError("give the patient's code once: --patient CODE")
    check_patient_form(patient or code_argument or "")
    with opened_book(book_option, config, create=True, clinic_option=clinic_option) as opened:
        code = check_patient(patient or code_argument or "", opened.clinic)
        today = clock.today_in(clinic_zone(None, opened.clinic))
        day = parse_date(on, what="--date", today=today)
        if (day - today).days > ENROLLMENT_AHEAD_DAYS:
            raise UsageError(
                f"--date {day} is more than {ENROLLMENT_AHEAD_DAYS} days after today ({today})"
            )
        done = enroll_patient(opened.keep_clinic(), code, day, now=clock.now())
        location = opened.location
    mark_stored(f"The REMS enrollment of {code} on {day} is stored in {location}")
    # Status lines, on stderr like every command's.
    if not done.recorded:
        sys.stderr.write(f"The REMS enrollment of {code} on {day} is already in {location}\n")
    elif done.previous is not None:
        sys.stderr.write(
            f"Recorded the REMS enrollment of {code} on {day} in {location} "
            f"(it was {done.previous})\n"
        )
    else:
        sys.stderr.write(f"Recorded the REMS enrollment of {code} on {day} in {location}\n")


@rems_app.command("due")
def due(
    day: DayOpt = None,
    week: WeekOpt = None,
    month: MonthOpt = None,
    first: FromOpt = None,
    last: ToOpt = None,
    fmt: FormatOpt = "table",
    book_option: BookOpt = None,
    clinic_option: ClinicOpt = None,
    config: ConfigOpt = None,
) -> None:
    """List the REMS patient monitoring forms due in a week (or other days), and those
    overdue.

    Without dates: this week (Monday to Sunday) in the clinic's time zone.

    One form per attended esketamine session, due 7 calendar days after it; booked,
    cancelled, missed and not-dosed sessions owe none, and a form recorded with `rems
    filed` is done. None at all where the REMS does not apply (ketaplan.toml [rems]
    program = "none", or a clinic outside the US without the key).

    Example: ketaplan rems due --week 2026-12-07 --format json
    """
    check_format(fmt)
    # The options are checked before the book is opened; the days follow its clinic's zone.
    date_range(day, week, month, first, last, clock.today_in("UTC"))
    with opened_book(book_option, config, create=False, clinic_option=clinic_option) as opened:
        clinic = opened.clinic
        zone = clinic_zone(None, clinic)
        today = clock.today_in(zone)
        monday, sunday = date_range(day, week, month, first, last, today) or this_week(today)
        forms, late = forms_due_between(opened.book, monday, sunday, zone)
    applies = rems_applies(clinic.rems_program, zone)
    if not applies:
        forms, late = [], set()
    if fmt == "csv":
        write_csv(FORMS_CSV, form_csv_rows(forms, late))
        return
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
    clinic_option: ClinicOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Record that the REMS patient monitoring form of an attended esketamine session was
    submitted (today); `rems due` then no longer lists it.

    Example: ketaplan rems filed --patient P-001 --session 3
    """
    from ketaplan.booking.lifecycle import file_form  # the lifecycle's use cases: filed only
    from ketaplan.cli.changes import context

    with opened_book(book_option, config, create=False, clinic_option=clinic_option) as opened:
        clinic = opened.clinic  # the book's clinic
        code = check_patient(patient, clinic)
        book = opened.book
        result = file_form(book, context(clinic, by), code, session)
        sys.stdout.write(result.headline + "\n")


def _print_due(
    forms: list[MonitoringForm], late: set[str], monday: date, sunday: date, name: str, zone: str
) -> None:
    """Plain aligned columns, as `course` and `history` print."""
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
