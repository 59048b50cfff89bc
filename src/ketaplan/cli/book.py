"""`ketaplan book`: a course, or a roster's, into the clinic book (`booking.courses`
books every job in one write transaction)."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from ketaplan.booking.asked import asked_text
from ketaplan.booking.courses import (
    BookedCourse,
    BookingJob,
    book_courses,
    roster_jobs,
    sessions_to_cancel,
)
from ketaplan.cli import clock
from ketaplan.cli.app import app, mark_stored
from ketaplan.cli.bookfile import (
    BookOpt,
    ClinicOpt,
    check_book_holidays,
    check_book_zone,
    opened_book,
)
from ketaplan.cli.common import (
    ConfigOpt,
    EveryOpt,
    FormatOpt,
    LozengesOpt,
    ProtocolOpt,
    SessionsOpt,
    TimeOpt,
    UnavailableOpt,
    UntilOpt,
    check_format,
    check_patient,
    check_patient_form,
    clinic_calendar,
    clinic_zone,
    course_request,
    unavailable_days,
)
from ketaplan.cli.render import console, override_line, plural, write_csv
from ketaplan.cli.user import who
from ketaplan.errors import BookError, Interrupted, UsageError
from ketaplan.formats.files import read_bytes
from ketaplan.formats.protocol_file import get_protocol
from ketaplan.formats.roster import decode_roster, read_roster
from ketaplan.formats.shapes import BOOKED_CSV, BookedJson, booked_course_json, booked_csv_rows
from ketaplan.model.clinic import ClinicConfig
from ketaplan.model.course import CourseRequest
from ketaplan.model.records import SessionRecord
from ketaplan.parsing import parse_holidays, parse_time, parse_weekdays
from ketaplan.safety.gate import parse_override


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
    time_: TimeOpt = None,
    tz: Annotated[
        str | None,
        typer.Option(
            "--tz",
            metavar="ZONE",
            help="Refused unless it is the zone of the book's clinic: a book plans and "
            "books in its clinic's zone.",
            show_default=False,
        ),
    ] = None,
    days: Annotated[
        str | None,
        typer.Option(
            "--days",
            metavar="DAYS",
            help="Weekdays the patient can come, within the clinic's open days, e.g. mon,wed,fri.",
            show_default=False,
        ),
    ] = None,
    closed: UnavailableOpt = None,
    holidays: Annotated[
        str | None,
        typer.Option(
            "--holidays",
            metavar="CC[-SUB]",
            help="Refused unless they are the public holidays of the book's clinic: a book "
            "plans with its clinic's holidays (change them with `ketaplan clinic apply FILE`).",
            show_default=False,
        ),
    ] = None,
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
            "days, maintenance_every, maintenance_sessions, until, lozenges, override, "
            "rems_enrolled, replace).",
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
            help="Book despite the safety check (a listed contraindication, no valid "
            "screening, pregnancy not asked again, esketamine with home lozenges): the "
            "clinician's reason, stored and shown with the course.",
            show_default=False,
        ),
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Show exactly what would be booked, and write nothing."),
    ] = False,
    yes: Annotated[
        bool,
        typer.Option("--yes", help="With --replace: cancel without asking (for scripts)."),
    ] = False,
    encoding: Annotated[
        str | None,
        typer.Option(
            "--encoding",
            metavar="NAME",
            help="The roster's text encoding when it is not UTF-8, e.g. cp1252 (Excel's "
            "plain CSV on Windows).",
            show_default=False,
        ),
    ] = None,
    book_option: BookOpt = None,
    clinic_option: ClinicOpt = None,
    fmt: FormatOpt = "table",
    config: ConfigOpt = None,
) -> None:
    """Book a patient's course (or a roster's) into the clinic's chairs.

    Each clinic session at the preferred --time if a chair and a start slot are free,
    else the nearest free time that day, else the nearest day the protocol's rules allow.
    The same booking asked again (the same options, or the same roster) books nothing new.

    The patient's latest screening must list no contraindication, and one no older than
    screening_valid_days must be recorded unless ketaplan.toml says require_screening =
    false; --override "REASON" books anyway and stores the reason. Criteria not met,
    warnings for the clinician and a missing esketamine REMS enrollment (`ketaplan rems
    enroll`) are flagged and stored with the course. ketaplan supports the clinician's
    decision and makes none.

    Example: ketaplan book --patient P-001 --start 2026-12-07 --time 09:00
    """
    check_format(fmt)
    # What the options alone say is wrong is refused before the book is opened.
    if holidays is not None:
        parse_holidays(holidays)
    if roster is not None:
        _only_the_roster(
            patient, start, protocol, time_, days, closed or None, maintenance_every,
            maintenance_sessions, until, lozenges, override,
        )  # fmt: skip
    elif encoding is not None:
        raise UsageError("--encoding is the roster's; give it with --roster FILE.csv")
    elif patient is None or start is None:
        raise UsageError("give --patient and --start, or --roster FILE.csv")
    else:
        check_patient_form(patient)
        unavailable_days(closed)
        if override is not None:
            parse_override(override)
    with opened_book(book_option, config, create=True, clinic_option=clinic_option) as opened:
        clinic = opened.clinic
        check_book_zone(tz, clinic)
        check_book_holidays(holidays, clinic)
        zone = clinic_zone(None, clinic)
        jobs, known = _jobs(
            clinic, zone, roster, encoding, patient, start, protocol, time_, days, closed,
            maintenance_every, maintenance_sessions, until, lozenges, override,
        )  # fmt: skip
        now = clock.now()
        if replace_ and opened.exists:
            patients = [job.request.patient for job in jobs]
            cancels = sessions_to_cancel(opened.book, patients, now)
            _confirm_cancelling(cancels, yes=yes or dry_run)
        # A roster with problems in its file is still checked whole, and refused: it
        # writes nothing, not even a new book.
        trial = dry_run or bool(known)
        clinic_book = opened.scratch() if trial else opened.keep_clinic()
        result = None
        try:
            with _progress(len(jobs)) as tick:
                result = book_courses(
                    clinic_book, jobs, clinic, zone, now=now, replace=replace_, advance=tick,
                    dry_run=trial, known=known, source=str(roster), by=who(None),
                )  # fmt: skip
        except KeyboardInterrupt:
            if result is None:
                raise Interrupted("interrupted; nothing was booked") from None
            raise
        if not trial and result.courses:
            mark_stored(
                f"Booked and stored {plural(len(result.courses), 'course')} in {opened.location}"
            )
    if result.already and not result.courses:
        if fmt != "table":
            # Scripts read an empty result, not nothing.
            _print_booked([], 0, fmt, roster, dry_run=dry_run)
        sys.stderr.write(_nothing_new(result.already, roster))
        return
    _print_booked(list(result.courses), result.cancelled, fmt, roster, dry_run=dry_run)
    if result.already:
        names = ", ".join(job.where for job in result.already)
        sys.stderr.write(f"Already booked as asked, nothing new ({len(result.already)}): {names}\n")
    if dry_run:
        sys.stderr.write(f"Dry run: nothing was written to {opened.location}\n")


def _nothing_new(already: tuple[BookingJob, ...], roster: Path | None) -> str:
    """Booking again what is booked as asked books nothing, and says so (exit 0)."""
    if roster is not None:
        return f"Every row of {roster} is already booked as asked; nothing new was booked.\n"
    request = already[0].request
    return (
        f"{request.patient} is already booked as asked ({request.protocol.title}, start "
        f"{request.start}); nothing new was booked: `ketaplan course --patient "
        f"{request.patient}` shows it\n"
    )


def _confirm_cancelling(sessions: list[SessionRecord], *, yes: bool) -> None:
    """--replace: list what it cancels, and ask on a terminal unless `yes` (--yes, or a
    dry run, which cancels nothing)."""
    if not sessions:
        return
    count = plural(len(sessions), "booked session")
    lines = [f"--replace cancels {count} (kept in the book as cancelled):"] + [
        f"  {s.patient} #{s.number} {s.start:%a %Y-%m-%d %H:%M} {s.phase_label}" for s in sessions
    ]
    sys.stderr.write("\n".join(lines) + "\n")
    if yes:
        return
    if not sys.stdin.isatty():
        raise UsageError(
            f"--replace cancels {count} (listed above); give --yes to confirm, there is no "
            "terminal to ask"
        )
    if not typer.confirm("Cancel them and book the new course?", err=True):
        raise BookError("nothing was changed")


def _jobs(
    clinic: ClinicConfig,
    zone: str,
    roster: Path | None,
    encoding: str | None,
    patient: str | None,
    start: str | None,
    protocol: str | None,
    time_: str | None,
    days: str | None,
    closed: list[str] | None,
    maintenance_every: str | None,
    maintenance_sessions: str | None,
    until: str | None,
    lozenges: str | None,
    override: str | None,
) -> tuple[list[BookingJob], list[str]]:
    """The jobs the options or the roster describe, and the problems of the roster's
    rows that cannot become jobs. The calendar is the book's clinic's (its closures and
    holidays), less the days `closed` names: the patient's, who cannot come then."""
    today = clock.today_in(zone)
    if roster is not None:
        _only_the_roster(
            patient, start, protocol, time_, days, closed or None, maintenance_every,
            maintenance_sessions, until, lozenges, override,
        )  # fmt: skip
        text = decode_roster(read_bytes(roster, "roster"), source=str(roster), encoding=encoding)
        read = read_roster(
            text,
            source=str(roster),
            today=today,
            default_protocol=get_protocol(clinic.protocol),
            check_patient=lambda code: check_patient(code, clinic),
            date_order=clinic.date_order,
        )
        calendar = clinic_calendar(clinic, None, None, None)
        jobs, problems = roster_jobs(read.rows, clinic, zone, calendar)
        return jobs, [*read.problems, *problems]
    if patient is None or start is None:
        raise UsageError("give --patient and --start, or --roster FILE.csv")
    request = course_request(
        clinic,
        patient=patient,
        start=start,
        protocol=protocol,
        time=time_,
        tz=None,
        days=days,
        closed=None,
        holidays=None,
        every=maintenance_every,
        sessions=maintenance_sessions,
        until=until,
        lozenges=lozenges,
        unavailable=closed,
    )
    asked = asked_text(
        request,
        at=parse_time(time_, what="--time") if time_ else None,
        days=parse_weekdays(days) if days else None,
        unavailable=unavailable_days(closed),
    )
    return [_command_line_job(request, today, override=override, asked=asked)], []


def _only_the_roster(*options: object) -> None:
    """--roster takes each patient's course from the file: no course option beside it."""
    names = (
        "--patient", "--start", "--protocol", "--time", "--days", "--closed",
        "--maintenance-every", "--maintenance-sessions", "--until", "--lozenges", "--override",
    )  # fmt: skip
    extra = [name for name, value in zip(names, options, strict=True) if value is not None]
    if extra:
        raise UsageError(f"--roster takes each patient's options from the file; drop {extra[0]}")


def _command_line_job(
    request: CourseRequest, today: date, *, override: str | None, asked: str
) -> BookingJob:
    """The one course the options describe: from today on, at --time or else the
    clinic's time (as `plan` plans it)."""
    if request.start < today:
        raise UsageError(
            f"--start {request.start} is in the past; the book takes courses from today "
            f"({today}) on"
        )
    reason = parse_override(override) if override is not None else None
    return BookingJob(request, request.at, override=reason, asked=asked)


PROGRESS_SECONDS = 5.0


@contextmanager
def _progress(total: int) -> Iterator[Callable[[], None]]:
    """Progress on stderr when there is more than one course: a bar on a terminal, else
    a line every few seconds (a roster run from a script or a log is seen to move)."""
    if total < 2:
        yield lambda: None
        return
    if not sys.stderr.isatty():
        yield _progress_lines(total)
        return
    from rich.progress import Progress

    with Progress(console=console(stderr=True), transient=True) as progress:
        task = progress.add_task("Booking", total=total)
        yield lambda: progress.advance(task)


def _progress_lines(total: int) -> Callable[[], None]:
    done = 0
    last = time.monotonic()

    def tick() -> None:
        nonlocal done, last
        done += 1
        moment = time.monotonic()
        if moment - last >= PROGRESS_SECONDS:
            last = moment
            sys.stderr.write(f"Booking: {done} of {total} courses placed\n")
            sys.stderr.flush()

    return tick


def _print_booked(
    booked: list[BookedCourse], cancelled: int, fmt: str, roster: Path | None, *, dry_run: bool
) -> None:
    """What was booked; for a dry run, the same, worded as what would be."""
    if fmt == "json":
        import json

        data: BookedJson = {
            "courses": [
                booked_course_json(b.booking.course, b.chairs, b.override, b.flags) for b in booked
            ],
            "cancelled": cancelled,
        }
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
        return
    if fmt == "csv":
        write_csv(
            BOOKED_CSV, [r for b in booked for r in booked_csv_rows(b.booking.course, b.chairs)]
        )
        return
    if roster is None:
        _print_course_table(console(), booked[0], "Would book" if dry_run else "Booked")
    else:
        _print_roster_summary(booked, roster, "Would book" if dry_run else "Booked")
    if cancelled:
        plural = "session" if cancelled == 1 else "sessions"
        verb = "Would replace" if dry_run else "Replaced"
        sys.stderr.write(f"{verb} the active course: {cancelled} future {plural} cancelled.\n")


def _print_course_table(out: Any, booked: BookedCourse, verb: str) -> None:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    booking = booked.booking
    course = booking.course
    clinic_count = len(course.clinic_sessions)
    out.print(
        Text(
            f"{verb} {course.patient}: {course.protocol.title} ({course.protocol.name}), "
            f"{len(course.sessions)} sessions, {clinic_count} in clinic chairs · {course.zone}"
        )
    )
    if booked.override is not None:
        out.print(Text(override_line(booked.override)), soft_wrap=True)
    for flag in booked.flags:
        out.print(Text(f"Flag: {flag}"), soft_wrap=True)
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for column in ("#", "Phase", "Day", "Date", "Time", "Chair"):
        table.add_column(column, no_wrap=True, justify="right" if column == "#" else "left")
    table.add_column("Note", ratio=1)
    for p in booking.placements:
        s = p.session
        table.add_row(
            str(s.number),
            s.phase_label,
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


def _print_roster_summary(booked: list[BookedCourse], roster: Path, verb: str) -> None:
    """Plain lines, not Rich: a large roster moves thousands of sessions."""
    placements = [p for b in booked for p in b.booking.placements]
    clinic = [p for p in placements if p.chair is not None]
    timed = [p for p in clinic if p.preferred is not None]
    at_time = sum(1 for p in timed if p.at_preferred_time)
    ideal = sum(1 for p in placements if p.on_ideal_day)
    lines = [
        f"{verb} {len(booked)} patients from {roster}: {len(placements)} sessions, "
        f"{len(clinic)} in clinic chairs.",
        f"At the preferred time: {_share(at_time, len(timed))} clinic sessions.",
        f"On the ideal date: {_share(ideal, len(placements))} sessions.",
    ]
    overridden = [b for b in booked if b.override is not None]
    if overridden:
        lines.append(f"Screening overrides ({len(overridden)}):")
    for b in overridden:
        assert b.override is not None
        lines.append(f"  {b.booking.course.patient}: {override_line(b.override)}")
    flagged = [b for b in booked if b.flags]
    if flagged:
        lines.append(f"Flagged ({len(flagged)}):")
    lines += [f"  {b.booking.course.patient}: {flag}" for b in flagged for flag in b.flags]
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
