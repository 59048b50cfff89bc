"""`ketaplan book`, `ketaplan agenda` and `ketaplan export`: the clinic book.

The glue between the store (what is booked) and the capacity engine (where a course
fits): every booking is one write transaction, so two coordinators booking at once never
get the same chair, and a roster that fails half-way leaves the book as it was.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ketaplan.booking import day_utilization
from ketaplan.cli.app import app
from ketaplan.cli.bookfile import BookOpt, opened_book
from ketaplan.cli.common import (
    ClosedOpt,
    ConfigOpt,
    EveryOpt,
    FormatOpt,
    HolidaysOpt,
    LozengesOpt,
    ProtocolOpt,
    SessionsOpt,
    UntilOpt,
    ZoneOpt,
    check_format,
    check_patient,
    clinic_calendar,
    clinic_zone,
    course_request,
    load_clinic,
    today_in,
)
from ketaplan.cli.render import console
from ketaplan.clinic import ClinicCalendar
from ketaplan.clinic_book import BookedCourse, BookingJob, book_courses
from ketaplan.config import ClinicConfig
from ketaplan.errors import UsageError
from ketaplan.parsing import parse_date, parse_weekdays
from ketaplan.safety import parse_override
from ketaplan.schedule import CourseRequest
from ketaplan.store import Book, ScreeningOverride, SessionRecord

if TYPE_CHECKING:
    from ketaplan.checklists import Checklist
    from ketaplan.ics import CalendarEvent

FromOpt = Annotated[
    str | None,
    typer.Option("--from", metavar="DATE", help="First day, YYYY-MM-DD.", show_default=False),
]
ToOpt = Annotated[
    str | None,
    typer.Option("--to", metavar="DATE", help="Last day, YYYY-MM-DD.", show_default=False),
]


@app.command()
def book(
    patient: Annotated[
        str | None,
        typer.Option(
            "--patient", metavar="CODE", help="The patient's code, e.g. P-001: never a name."
        ),
    ] = None,
    start: Annotated[
        str | None,
        typer.Option(
            "--start", metavar="DATE", help="First possible day: YYYY-MM-DD, today or tomorrow."
        ),
    ] = None,
    protocol: ProtocolOpt = None,
    time_: Annotated[
        str | None,
        typer.Option(
            "--time",
            metavar="HH:MM",
            help="Preferred local time HH:MM (default: the least loaded time each day).",
            show_default=False,
        ),
    ] = None,
    tz: ZoneOpt = None,
    days: Annotated[
        str | None,
        typer.Option(
            "--days",
            metavar="DAYS",
            help="Weekdays the patient can come, within the clinic's open days, e.g. mon,wed,fri.",
            show_default=False,
        ),
    ] = None,
    closed: ClosedOpt = None,
    holidays: HolidaysOpt = None,
    maintenance_every: EveryOpt = None,
    maintenance_sessions: SessionsOpt = None,
    until: UntilOpt = None,
    lozenges: LozengesOpt = None,
    roster: Annotated[
        Path | None,
        typer.Option(
            "--roster",
            metavar="FILE",
            help="Book every patient of a CSV file (columns: patient, protocol, start, time, "
            "days, maintenance_every, override, rems_enrolled).",
            show_default=False,
            dir_okay=False,
        ),
    ] = None,
    replace_: Annotated[
        bool,
        typer.Option(
            "--replace",
            help="Replace the patient's active course: its future sessions are "
            "cancelled, never deleted.",
        ),
    ] = False,
    override: Annotated[
        str | None,
        typer.Option(
            "--override",
            metavar="REASON",
            help="Book despite the screening check (a listed contraindication, or no "
            "screening): the clinician's reason, stored and shown with the course.",
            show_default=False,
        ),
    ] = None,
    book_option: BookOpt = None,
    fmt: FormatOpt = "table",
    config: ConfigOpt = None,
) -> None:
    """Book a patient's course (or a roster's) into the clinic's chairs.

    Each clinic session at the preferred --time if a chair and a start slot are free,
    else the nearest free time that day, else the nearest day the protocol's rules allow.

    The patient's latest screening must list no contraindication, and one must be
    recorded unless ketaplan.toml says require_screening = false; --override "REASON"
    books anyway and stores the reason. Esketamine needs a REMS enrollment
    (`ketaplan rems enroll`). ketaplan supports the clinician's decision and makes none.

    Example: ketaplan book --patient P-001 --start 2026-12-07 --time 09:00
    """
    check_format(fmt)
    clinic = load_clinic(config)
    zone = clinic_zone(tz, clinic)
    today = today_in(zone)
    now = datetime.now(UTC)
    if roster is not None:
        given = {
            "--patient": patient,
            "--start": start,
            "--protocol": protocol,
            "--time": time_,
            "--days": days,
            "--maintenance-every": maintenance_every,
            "--maintenance-sessions": maintenance_sessions,
            "--until": until,
            "--lozenges": lozenges,
            "--override": override,
        }
        extra = [name for name, value in given.items() if value is not None]
        if extra:
            raise UsageError(
                f"--roster takes each patient's options from the file; drop {extra[0]}"
            )
        jobs = _roster_jobs(roster, clinic, zone, today, closed, holidays)
    else:
        if patient is None or start is None:
            raise UsageError("give --patient and --start, or --roster FILE.csv")
        request = course_request(
            clinic,
            patient=patient,
            start=start,
            protocol=protocol,
            time=time_,
            tz=tz,
            days=None,
            closed=closed,
            holidays=holidays,
            every=maintenance_every,
            sessions=maintenance_sessions,
            until=until,
            lozenges=lozenges,
        )
        if days:
            request = replace(request, calendar=_patient_days(request, days))
        if request.start < today:
            raise UsageError(
                f"--start {request.start} is in the past; the book takes courses from today "
                f"({today}) on"
            )
        preferred = request.at if time_ else None
        reason = parse_override(override) if override is not None else None
        jobs = [BookingJob(request, preferred, override=reason)]
    with opened_book(book_option, clinic, create=True) as clinic_book, _progress(len(jobs)) as tick:
        result = book_courses(
            clinic_book, jobs, clinic, zone, now=now, replace=replace_, advance=tick
        )
        location = clinic_book.location
    _print_booked(list(result.courses), result.cancelled, fmt, location, roster)


def _patient_days(request: CourseRequest, days: str) -> ClinicCalendar:
    """The patient's weekdays within the clinic's open ones."""
    wanted = parse_weekdays(days)
    both = wanted & request.calendar.open_weekdays
    if not both:
        raise UsageError(f"--days {days} are not among the clinic's open weekdays")
    return replace(request.calendar, open_weekdays=both)


def _roster_jobs(
    path: Path,
    clinic: ClinicConfig,
    zone: str,
    today: date,
    closed: list[str] | None,
    holidays: str | None,
) -> list[BookingJob]:
    from ketaplan.protocols import get_protocol
    from ketaplan.roster import RosterError, parse_roster

    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise UsageError(f"roster {path} does not exist") from None
    except UnicodeDecodeError:
        raise UsageError(f"roster {path} is not UTF-8 text") from None
    except OSError as exc:
        raise UsageError(f"cannot read roster {path}: {exc.strerror or exc}") from None
    rows = parse_roster(
        text,
        source=str(path),
        today=today,
        default_protocol=get_protocol(clinic.protocol),
        check_patient=check_patient,
    )
    calendar = clinic_calendar(clinic, None, closed, holidays)
    jobs: list[BookingJob] = []
    problems: list[str] = []
    for row in rows:
        days = calendar
        if row.days is not None:
            both = row.days & calendar.open_weekdays
            if not both:
                problems.append(f"line {row.line}: days are not among the clinic's open weekdays")
                continue
            days = replace(calendar, open_weekdays=both)
        request = CourseRequest(
            patient=row.patient,
            protocol=row.protocol,
            start=row.start,
            at=row.time or clinic.session_time,
            zone=zone,
            calendar=days,
            every=row.every,
        )
        jobs.append(
            BookingJob(
                request, row.time, row.line, override=row.override, enrolled_on=row.rems_enrolled
            )
        )
    if problems:
        raise RosterError(str(path), problems)
    return jobs


@contextmanager
def _progress(total: int) -> Iterator[Callable[[], None]]:
    """A progress bar on stderr when it is a terminal and there is more than one course."""
    if total < 2 or not sys.stderr.isatty():
        yield lambda: None
        return
    from rich.progress import Progress

    with Progress(console=console(stderr=True), transient=True) as progress:
        task = progress.add_task("Booking", total=total)
        yield lambda: progress.advance(task)


def _booked_json(booked: list[BookedCourse], cancelled: int) -> dict[str, Any]:
    return {
        "courses": [
            {
                "patient": b.booking.course.patient,
                "protocol": b.booking.course.protocol.name,
                "timezone": b.booking.course.zone,
                "override": _override_json(b),
                "sessions": [
                    {
                        "number": p.session.number,
                        "phase": p.session.phase,
                        "start": p.session.start.isoformat(),
                        "end": p.session.end.isoformat(),
                        "location": p.session.location,
                        "chair": p.chair,
                        "uid": p.session.uid,
                        "status": "booked",
                        "note": p.session.note,
                    }
                    for p in b.booking.placements
                ],
            }
            for b in booked
        ],
        "cancelled": cancelled,
    }


def _override_json(booked: BookedCourse) -> dict[str, str] | None:
    if booked.override is None:
        return None
    return {"reason": booked.override.reason, "screening": booked.override.screening}


def override_line(override: ScreeningOverride) -> str:
    """How every output shows a course's screening override."""
    return f"Screening override: {override.reason} (at booking: {override.screening})"


BOOKED_CSV = ("patient", "number", "phase", "start", "end", "location", "chair", "uid", "note")


def _print_booked(
    booked: list[BookedCourse], cancelled: int, fmt: str, location: str, roster: Path | None
) -> None:
    if fmt == "json":
        import json

        sys.stdout.write(json.dumps(_booked_json(booked, cancelled), indent=2) + "\n")
        return
    if fmt == "csv":
        _write_csv(
            BOOKED_CSV,
            [
                (
                    b.booking.course.patient,
                    p.session.number,
                    p.session.phase,
                    p.session.start.isoformat(),
                    p.session.end.isoformat(),
                    p.session.location,
                    "" if p.chair is None else p.chair,
                    p.session.uid,
                    p.session.note or "",
                )
                for b in booked
                for p in b.booking.placements
            ],
        )
        return
    if roster is None:
        _print_course_table(console(), booked[0], location)
    else:
        _print_roster_summary(booked, roster, location)
    if cancelled:
        plural = "session" if cancelled == 1 else "sessions"
        sys.stdout.write(f"Replaced the active course: {cancelled} future {plural} cancelled.\n")


def _print_course_table(out: Any, booked: BookedCourse, location: str) -> None:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    booking = booked.booking
    course = booking.course
    clinic_count = len(course.clinic_sessions)
    out.print(
        Text(
            f"Booked {course.patient}: {course.protocol.title} ({course.protocol.name}), "
            f"{len(course.sessions)} sessions, {clinic_count} in clinic chairs · {course.zone}"
        )
    )
    out.print(Text(f"Book: {location}"))
    if booked.override is not None:
        out.print(Text(override_line(booked.override)), soft_wrap=True)
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for column in ("#", "Phase", "Day", "Date", "Time", "Chair"):
        table.add_column(column, no_wrap=True, justify="right" if column == "#" else "left")
    table.add_column("Note", ratio=1)
    for p in booking.placements:
        s = p.session
        table.add_row(
            str(s.number),
            f"{s.phase} {s.phase_number}/{s.phase_total}",
            f"{s.start:%a}",
            s.day.isoformat(),
            f"{s.start:%H:%M}-{s.end:%H:%M}",
            "home" if p.chair is None else str(p.chair),
            s.note or "",
        )
    out.print(table)
    moved = len(booking.moved)
    if moved:
        out.print(f"{moved} of {len(course.sessions)} sessions moved; the notes say why.")
    else:
        out.print("Every session on its ideal date, at the preferred time where one was given.")


def _print_roster_summary(booked: list[BookedCourse], roster: Path, location: str) -> None:
    """Plain lines, not Rich: a large roster moves thousands of sessions."""
    placements = [p for b in booked for p in b.booking.placements]
    clinic = [p for p in placements if p.chair is not None]
    timed = [p for p in clinic if p.preferred is not None]
    at_time = sum(1 for p in timed if p.at_preferred_time)
    ideal = sum(1 for p in placements if p.on_ideal_day)
    lines = [
        f"Booked {len(booked)} patients from {roster}: {len(placements)} sessions, "
        f"{len(clinic)} in clinic chairs.",
        f"Book: {location}",
        f"At the preferred time: {_share(at_time, len(timed))} clinic sessions.",
        f"On the ideal date: {_share(ideal, len(placements))} sessions.",
    ]
    overridden = [b for b in booked if b.override is not None]
    if overridden:
        lines.append(f"Screening overrides ({len(overridden)}):")
    for b in overridden:
        assert b.override is not None
        lines.append(f"  {b.booking.course.patient}: {override_line(b.override)}")
    moved = [(b, p) for b in booked for p in b.booking.placements if p.session.note]
    if moved:
        lines.append(f"Moved or noted ({len(moved)}):")
    for b, p in moved:
        s = p.session
        chair = "home" if p.chair is None else f"chair {p.chair}"
        lines.append(
            f"  {b.booking.course.patient} #{s.number} {s.start:%a %Y-%m-%d %H:%M} {chair}: "
            f"{s.note}"
        )
    sys.stdout.write("\n".join(lines) + "\n")


def _share(part: int, whole: int) -> str:
    if whole == 0:
        return "0 of 0"
    return f"{part} of {whole} ({100 * part / whole:.0f}%)"


def _write_csv(header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    import csv

    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)


# --- agenda -------------------------------------------------------------------------

AGENDA_FIELDS = ("patient", "number", "phase", "start", "end", "chair", "uid", "status")


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


def _day_bounds(first: date, last: date, zone: str) -> tuple[datetime, datetime]:
    from zoneinfo import ZoneInfo

    where = ZoneInfo(zone)
    since = datetime.combine(first, time(0), where)
    until = datetime.combine(last + timedelta(days=1), time(0), where)
    return since, until


def _session_json(s: SessionRecord, *, detail: bool = False) -> dict[str, Any]:
    data = _session_fields(s)
    if detail:
        checklist = session_checklist(s)
        data["checklist"] = None if checklist is None else checklist.as_json()
        data["override"] = (
            None
            if s.override is None
            else {"reason": s.override.reason, "screening": s.override.screening}
        )
    return data


def session_checklist(s: SessionRecord) -> Checklist | None:
    """The staff checklist of a clinic session that is to take or took place."""
    if s.route is None or s.location != "clinic" or s.status == "cancelled":
        return None
    from ketaplan.checklists import checklist

    return checklist(s.route, s.start, s.end)


def _session_fields(s: SessionRecord) -> dict[str, Any]:
    return {
        "patient": s.patient,
        "number": s.number,
        "phase": s.phase,
        "start": s.start.isoformat(),
        "end": s.end.isoformat(),
        "chair": s.chair,
        "uid": s.uid,
        "status": s.status,
    }


@app.command()
def agenda(
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
    fmt: FormatOpt = "table",
    book_option: BookOpt = None,
    config: ConfigOpt = None,
) -> None:
    """The clinic's sessions by day, time and chair, with each day's chair utilization.

    Without dates: the current week (Monday to Sunday) in the clinic's time zone.

    --detail adds, under each session, the route's staff checklist and any screening
    override stored with the course.

    Example: ketaplan agenda --week 2026-12-07
    """
    check_format(fmt)
    if detail and fmt == "csv":
        raise UsageError("--detail is for --format table or json; csv keeps its columns")
    clinic = load_clinic(config)
    zone = clinic_zone(None, clinic)
    since_day, until_day = agenda_range(day, week, first, last, today_in(zone))
    since, until = _day_bounds(since_day, until_day, zone)
    with opened_book(book_option, clinic, create=False) as clinic_book:
        sessions = clinic_book.sessions_between(since, until, location="clinic")
    if fmt == "json":
        import json

        data = {"sessions": [_session_json(s, detail=detail) for s in sessions]}
        sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        return
    if fmt == "csv":
        _write_csv(
            AGENDA_FIELDS,
            [tuple(_session_fields(s)[k] for k in AGENDA_FIELDS) for s in sessions],
        )
        return
    _print_agenda(sessions, since_day, until_day, clinic, zone, detail=detail)


def _print_agenda(
    sessions: list[SessionRecord],
    first: date,
    last: date,
    clinic: ClinicConfig,
    zone: str,
    *,
    detail: bool = False,
) -> None:
    """Plain aligned columns, not a Rich table: a busy clinic's week is thousands of rows,
    and staff print it."""
    from zoneinfo import ZoneInfo

    where = ZoneInfo(zone)
    by_day: dict[date, list[SessionRecord]] = {}
    for s in sessions:
        by_day.setdefault(s.start.astimezone(where).date(), []).append(s)
    span = f"{first}" if first == last else f"{first} to {last}"
    lines = [f"Agenda {span} · {clinic.name} · {_plural(clinic.chairs, 'chair')} · {zone}"]
    day = first
    while day <= last:
        todays = by_day.get(day, [])
        held = [(s.start, s.end) for s in todays if s.status != "cancelled"]
        used = day_utilization(day, held, clinic, zone)
        if used is not None or todays:
            use = "closed" if used is None else f"chairs {100 * used:.0f}% used"
            lines += ["", f"{day:%a %Y-%m-%d} · {_plural(len(held), 'session')} · {use}"]
            lines += _agenda_rows(todays, where, detail=detail)
        day += timedelta(days=1)
    if not sessions:
        lines += ["", f"No sessions booked from {first} to {last}."]
    sys.stdout.write("\n".join(lines) + "\n")


AGENDA_COLUMNS = ("Time", "Chair", "Patient", "Session", "Status")


def _agenda_rows(
    sessions: list[SessionRecord], where: tzinfo, *, detail: bool = False
) -> list[str]:
    if not sessions:
        return []
    rows = [AGENDA_COLUMNS] + [
        (
            f"{s.start.astimezone(where):%H:%M}-{s.end.astimezone(where):%H:%M}",
            str(s.chair),
            s.patient,
            f"{s.title} {s.phase} {s.phase_number}/{s.phase_total} (#{s.number})",
            s.status,
        )
        for s in sessions
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(AGENDA_COLUMNS))]
    lines = [
        "  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    if not detail:
        return lines
    out = lines[:1]
    for s, line in zip(sessions, lines[1:], strict=True):
        out.append(line)
        if s.override is not None:
            out.append(f"      {override_line(s.override)}")
        checklist = session_checklist(s)
        if checklist is not None:
            out += [f"      {text}" for text in checklist.text().splitlines()]
    return out


# --- export -------------------------------------------------------------------------


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
    today = today_in(zone)
    from ketaplan.ics import calendar_bytes, stamp_from_epoch

    stamp = stamp_from_epoch(os.environ.get("SOURCE_DATE_EPOCH"), datetime.now(UTC))
    if patient is not None:
        code = check_patient(patient)
        with opened_book(book_option, clinic, create=False) as clinic_book:
            name, events = _patient_events(clinic_book, code, clinic)
    else:
        since_day = parse_date(first, what="--from", today=today) if first else today
        until_day = parse_date(last, what="--to", today=today) if last else date.max - timedelta(2)
        if until_day < since_day:
            raise UsageError(f"--to {until_day} is before --from {since_day}")
        since, until = _day_bounds(since_day, until_day, zone)
        from ketaplan.staff_calendar import staff_events

        with opened_book(book_option, clinic, create=False) as clinic_book:
            sessions = clinic_book.sessions_between(since, until, location="clinic")
        name = f"{clinic.name} · staff"
        events = staff_events(sessions, clinic)
    from ketaplan.files import write_atomic

    write_atomic(ics, calendar_bytes(name, events, stamp=stamp))
    if ics != "-":
        plural = "event" if len(events) == 1 else "events"
        sys.stderr.write(f"Wrote {len(events)} {plural} to {ics}\n")


def _patient_events(
    clinic_book: Book, patient: str, clinic: ClinicConfig
) -> tuple[str, list[CalendarEvent]]:
    from ketaplan.clinic_book import active_course
    from ketaplan.ics import calendar_name, course_events

    course, rows = active_course(clinic_book, patient)
    sequence = {s.uid: s.sequence for s in rows}
    events = [replace(e, sequence=sequence.get(e.uid, 0)) for e in course_events(course, clinic)]
    return calendar_name(course, clinic), events


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"
