"""`ketaplan agenda`: the clinic's booked sessions by day, time and chair."""

from __future__ import annotations

import sys
from datetime import date, timedelta, tzinfo
from typing import Annotated

import typer

from ketaplan.booking.agenda import Agenda, course_span
from ketaplan.booking.agenda import agenda as agenda_of
from ketaplan.cli import clock
from ketaplan.cli.app import app
from ketaplan.cli.bookfile import BookOpt, FromOpt, ToOpt, opened_book
from ketaplan.cli.common import (
    ConfigOpt,
    FormatOpt,
    check_format,
    check_patient,
    clinic_zone,
    load_clinic,
)
from ketaplan.cli.render import aligned, override_line, plural, write_csv
from ketaplan.errors import UsageError
from ketaplan.formats.shapes import (
    AGENDA_CSV,
    agenda_csv_rows,
    agenda_session_json,
    session_checklist,
)
from ketaplan.model.clinic import ClinicConfig
from ketaplan.model.records import STATUSES, SessionRecord
from ketaplan.parsing import parse_date
from ketaplan.planning.reviews import is_review_point


def agenda_range(
    day: str | None, week: str | None, first: str | None, last: str | None, today: date
) -> tuple[date, date]:
    """The days an agenda covers: --day, the Monday-to-Sunday --week holding a date,
    --from/--to, else the week holding today."""
    given = [name for name, v in (("--day", day), ("--week", week), ("--from", first)) if v]
    if last and not first:
        raise UsageError("--to needs --from")
    if len(given) > 1:
        raise UsageError(f"give one of --day, --week or --from/--to, not {' and '.join(given)}")
    if day:
        one = parse_date(day, what="--day", today=today)
        return one, one
    if first:
        if not last:
            raise UsageError("--from needs --to")
        since = parse_date(first, what="--from", today=today)
        until = parse_date(last, what="--to", today=today)
        if until < since:
            raise UsageError(f"--to {until} is before --from {since}")
        return since, until
    anchor = parse_date(week, what="--week", today=today) if week else today
    monday = anchor - timedelta(days=anchor.weekday())
    return monday, monday + timedelta(days=6)


@app.command()
def agenda(
    when: Annotated[
        str | None,
        typer.Argument(
            metavar="[DATE]",
            help="With --month: a date or YYYY-MM in the month (default: this month).",
            show_default=False,
        ),
    ] = None,
    month: Annotated[
        bool,
        typer.Option(
            "--month",
            help="The month as a calendar grid: each day's sessions and chair use, closed "
            "days with their reason (--format json or csv: the figures by day).",
        ),
    ] = False,
    day: Annotated[
        str | None,
        typer.Option(
            "--day", metavar="DATE", help="One day, YYYY-MM-DD or today.", show_default=False
        ),
    ] = None,
    week: Annotated[
        str | None,
        typer.Option(
            "--week",
            metavar="DATE",
            help="The Monday-to-Sunday week holding this date.",
            show_default=False,
        ),
    ] = None,
    first: FromOpt = None,
    last: ToOpt = None,
    detail: Annotated[
        bool,
        typer.Option(
            "--detail",
            help="Under each session, the route's staff checklist and any screening "
            "override (table and json).",
        ),
    ] = False,
    patient: Annotated[
        str | None,
        typer.Option(
            "--patient",
            metavar="CODE",
            help="Only this patient's sessions; without dates, the whole current course.",
            show_default=False,
        ),
    ] = None,
    status: Annotated[
        str | None,
        typer.Option(
            "--status",
            metavar="STATUSES",
            help="Only sessions in these statuses, e.g. booked or missed,not-dosed.",
            show_default=False,
        ),
    ] = None,
    fmt: FormatOpt = "table",
    book_option: BookOpt = None,
    config: ConfigOpt = None,
) -> None:
    """The clinic's sessions by day, time and chair, with each day's chair utilization.

    Without dates: the current week (Monday to Sunday) in the clinic's time zone; with
    --patient, that patient's whole current course. Review points say "review".

    --detail adds, under each session, its flags, any screening override stored with the
    course and the route's staff checklist. A contraindication screened after booking is
    flagged under every session still to come, with or without --detail.

    --month [DATE] shows the month holding DATE as a calendar grid instead.

    Example: ketaplan agenda --week 2026-12-07

    Example: ketaplan agenda --month 2026-12
    """
    if month or when:
        if not month or day or week or first or last or detail:
            raise UsageError("a DATE argument goes with --month alone: agenda --month [DATE]")
        from ketaplan.cli.agenda_month import month_agenda

        month_agenda(when, fmt, book_option, config)
        return
    check_format(fmt)
    if detail and fmt == "csv":
        raise UsageError("--detail is for --format table or json; csv keeps its columns")
    clinic = load_clinic(config)
    zone = clinic_zone(None, clinic)
    wanted = _statuses(status)
    code = check_patient(patient, clinic) if patient is not None else None
    today = clock.today_in(zone)
    whole = code is not None and not (day or week or first or last)
    first_day, last_day = agenda_range(day, week, first, last, today)
    with opened_book(book_option, clinic, create=False) as clinic_book:
        if whole and code is not None:
            first_day, last_day = course_span(clinic_book, code, zone, today)
        result = agenda_of(
            clinic_book, first_day, last_day, clinic, zone, patient=code, statuses=wanted
        )
    if fmt == "json":
        import json

        data = {
            "sessions": [
                agenda_session_json(
                    s,
                    detail=detail,
                    clinic=clinic,
                    latest=result.screenings.get(s.patient),
                    enrolled_on=result.enrollments.get(s.patient),
                )
                for s in result.sessions
            ]
        }
        sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        return
    if fmt == "csv":
        write_csv(AGENDA_CSV, agenda_csv_rows(result.sessions))
        return
    _print_agenda(result, clinic, detail=detail, patient=code)


def _statuses(text: str | None) -> set[str] | None:
    if text is None:
        return None
    wanted = {part.strip() for part in text.split(",")}
    unknown = sorted(wanted - set(STATUSES))
    if unknown:
        raise UsageError(f"--status {unknown[0]!r} is not one of {', '.join(STATUSES)}")
    return wanted


def _print_agenda(
    result: Agenda, clinic: ClinicConfig, *, detail: bool = False, patient: str | None = None
) -> None:
    """Plain aligned columns, not a Rich table: a busy clinic's week is thousands of rows,
    and staff print it. One patient's agenda shows only that patient's days, without the
    clinic's utilization."""
    from zoneinfo import ZoneInfo

    where = ZoneInfo(result.zone)
    first, last = result.first, result.last
    span = f"{first}" if first == last else f"{first} to {last}"
    lines = [f"Agenda {span} · {clinic.name} · {plural(clinic.chairs, 'chair')} · {result.zone}"]
    if patient is not None:
        lines = [f"Agenda {span} · {clinic.name} · {patient} · {result.zone}"]
    for day in result.days:
        if patient is not None:
            if day.sessions:
                lines += ["", f"{day.day:%a %Y-%m-%d}"]
                lines += _agenda_rows(list(day.sessions), where, result, clinic, detail=detail)
            continue
        if day.utilization is None and not day.sessions:
            continue
        use = "closed" if day.utilization is None else f"chairs {100 * day.utilization:.0f}% used"
        lines += ["", f"{day.day:%a %Y-%m-%d} · {plural(day.held, 'session')} · {use}"]
        lines += _agenda_rows(list(day.sessions), where, result, clinic, detail=detail)
    if not result.sessions:
        lines += ["", f"No sessions booked from {first} to {last}."]
    sys.stdout.write("\n".join(lines) + "\n")


def _review(s: SessionRecord) -> bool:
    return s.status in ("booked", "attended") and is_review_point(
        s.route, s.phase, s.phase_number, s.phase_total
    )


AGENDA_COLUMNS = ("Time", "Chair", "Patient", "Session", "Status")


def _agenda_rows(
    sessions: list[SessionRecord],
    where: tzinfo,
    result: Agenda,
    clinic: ClinicConfig,
    *,
    detail: bool = False,
) -> list[str]:
    if not sessions:
        return []
    rows = [AGENDA_COLUMNS] + [
        (
            f"{s.start.astimezone(where):%H:%M}-{s.end.astimezone(where):%H:%M}",
            str(s.chair),
            s.patient,
            f"{s.title} {s.phase_label} (#{s.number})" + (" · review" if _review(s) else ""),
            s.status,
        )
        for s in sessions
    ]
    from ketaplan.safety.gate import session_flags  # flags need the safety code

    lines = aligned(rows)
    out = lines[:1]
    for s, line in zip(sessions, lines[1:], strict=True):
        out.append(line)
        latest = result.screenings.get(s.patient)
        flags = session_flags(s, latest, result.enrollments.get(s.patient))
        if not detail:
            # A contraindication found after booking shows on the plain agenda too.
            out += [f"      ! {flag}" for flag in flags if flag not in s.flags]
            continue
        out += [f"      ! {flag}" for flag in flags]
        if s.override is not None:
            out.append(f"      {override_line(s.override)}")
        checklist = session_checklist(s, clinic, latest)
        if checklist is not None:
            out += [f"      {text}" for text in checklist.text().splitlines()]
    return out
