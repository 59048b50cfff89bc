"""`ketaplan agenda`: the clinic's booked sessions by day, time and chair."""

from __future__ import annotations

import functools
import sys
from collections.abc import Iterator
from datetime import tzinfo
from typing import Annotated, Any

import typer

from ketaplan.booking.agenda import Agenda, course_span
from ketaplan.booking.agenda import agenda as agenda_of
from ketaplan.cli import clock
from ketaplan.cli.app import app
from ketaplan.cli.bookfile import BookOpt, ClinicOpt, opened_book
from ketaplan.cli.common import (
    ConfigOpt,
    DayOpt,
    FormatOpt,
    FromOpt,
    ToOpt,
    WeekOpt,
    check_format,
    check_patient,
    clinic_calendar,
    clinic_zone,
    date_range,
    this_week,
)
from ketaplan.cli.render import console, override_line, page, plural, wrapped, write_csv
from ketaplan.errors import UsageError
from ketaplan.formats.shapes import (
    AGENDA_CSV,
    agenda_csv_rows,
    agenda_session_json,
    session_checklist,
)
from ketaplan.model.clinic import ClinicConfig
from ketaplan.model.records import STATUSES, SessionRecord
from ketaplan.planning.reviews import is_review_point


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
    day: DayOpt = None,
    week: WeekOpt = None,
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
    show_all: Annotated[
        bool, typer.Option("--all", help="List cancelled sessions too (table).")
    ] = False,
    pager: Annotated[
        bool,
        typer.Option(
            "--pager/--no-pager",
            help="On a terminal, page output longer than the screen (as git does).",
        ),
    ] = True,
    fmt: FormatOpt = "table",
    book_option: BookOpt = None,
    clinic_option: ClinicOpt = None,
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
        from ketaplan.cli.agenda_month import month_agenda  # the month grid only

        month_agenda(when, fmt, book_option, config, clinic_option)
        return
    check_format(fmt)
    if detail and fmt == "csv":
        raise UsageError("--detail is for --format table or json; csv keeps its columns")
    # The options are checked before the book is opened; the days follow its clinic's zone.
    date_range(day, week, None, first, last, clock.today_in("UTC"))
    wanted = _statuses(status)
    with opened_book(book_option, config, create=False, clinic_option=clinic_option) as opened:
        clinic = opened.clinic
        zone = clinic_zone(None, clinic)
        code = check_patient(patient, clinic) if patient is not None else None
        today = clock.today_in(zone)
        whole = code is not None and not (day or week or first or last)
        first_day, last_day = date_range(day, week, None, first, last, today) or this_week(today)
        if whole and code is not None:
            first_day, last_day = course_span(opened.book, code, zone, today)
        calendar = clinic_calendar(clinic, None, None, None)
        result = agenda_of(
            opened.book, first_day, last_day, clinic, zone, calendar, patient=code, statuses=wanted
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
    # Asked-for statuses are listed, cancelled ones too.
    shown_all = show_all or wanted is not None
    text = _agenda_text(result, clinic, detail=detail, show_all=shown_all, patient=code)
    page(text, pager=pager)


def _statuses(text: str | None) -> set[str] | None:
    if text is None:
        return None
    wanted = {part.strip() for part in text.split(",")}
    unknown = sorted(wanted - set(STATUSES))
    if unknown:
        raise UsageError(f"--status {unknown[0]!r} is not one of {', '.join(STATUSES)}")
    return wanted


def _agenda_text(
    result: Agenda,
    clinic: ClinicConfig,
    *,
    detail: bool = False,
    show_all: bool = False,
    patient: str | None = None,
) -> str:
    """The agenda as text for `page`: a Rich table of each day's sessions under the day's
    heading line, and the count at the end. It fits the console's width (the terminal's,
    else 80): only the Session column wraps, at whole words, and flags and --detail's
    lines go under their session at the full width. Styles only on a terminal. One
    patient's agenda shows only that patient's days, without the clinic's utilization."""
    from zoneinfo import ZoneInfo

    from rich.text import Text  # Rich loads only when the agenda is printed as tables

    out = console()
    where = ZoneInfo(result.zone)
    first, last = result.first, result.last
    span = f"{first}" if first == last else f"{first} to {last}"
    who = plural(clinic.chairs, "chair") if patient is None else patient
    parts: list[Any] = [_heading([f"Agenda {span}", clinic.name, who, result.zone], out.width)]
    listed = hidden = 0
    for day in result.days:
        shown = [s for s in day.sessions if show_all or s.status != "cancelled"]
        listed += len(shown)
        hidden += len(day.sessions) - len(shown)
        fields = [f"{day.day:%a %Y-%m-%d}"]
        if patient is not None:
            # One patient's agenda: that patient's days only, without utilization.
            if not shown:
                continue
        elif day.closed is not None:
            fields.append(f"closed: {day.closed}")
        else:
            use = f"chairs {100 * (day.utilization or 0):.0f}% used"
            fields += [plural(len(shown), "session"), use]
        parts += [Text(""), _heading(fields, out.width, style="bold")]
        table = _day_table(shown, where, result, clinic, out.width, detail=detail)
        if table is not None:
            parts.append(table)
    if not result.sessions:
        parts += [Text(""), Text(f"No sessions booked from {first} to {last}.")]
    else:
        note = f" ({hidden} cancelled not shown: --all lists them)" if hidden else ""
        parts += [Text(""), Text(f"{plural(listed, 'session')} listed{note}.")]
    with out.capture() as captured:
        for part in parts:
            out.print(part, crop=False)  # a table too wide for the terminal is not cut
    # Rich pads every cell to its column: no trailing spaces in what is printed or piped.
    return "".join(line.rstrip() + "\n" for line in captured.get().splitlines())


def _heading(fields: list[str], width: int, style: str = "") -> Any:
    """`fields` joined by " · ", a line broken before a field that would pass `width`
    (a field longer than a line wraps at its words)."""
    from rich.cells import cell_len  # Rich only when the agenda is printed as tables
    from rich.text import Text

    lines = [fields[0]]
    for field in fields[1:]:
        if cell_len(lines[-1]) + 3 + cell_len(field) <= width:
            lines[-1] += f" · {field}"
        else:
            lines.append(f"· {field}")
    return Text("\n".join(lines), style=style)


def _review(s: SessionRecord) -> bool:
    return s.status in ("booked", "attended") and is_review_point(
        s.route, s.phase, s.phase_number, s.phase_total
    )


AGENDA_COLUMNS = ("Time", "Chair", "Patient", "Session", "Status")
# Between columns two spaces, one of them the box's; nothing at the edges, so that the
# Session column keeps every character an 80-column terminal can spare.
GAPS = 2 * (len(AGENDA_COLUMNS) - 1)
UNDER = "    "  # the indent of the lines under a session


def _day_table(
    sessions: list[SessionRecord],
    where: tzinfo,
    result: Agenda,
    clinic: ClinicConfig,
    width: int,
    *,
    detail: bool = False,
) -> Any:
    """A day's sessions as a Rich table, with the lines under each session (its flags;
    with `detail`, its override and checklist) at the full width; None without sessions.
    Only the Session column wraps, at whole words."""
    if not sessions:
        return None
    from rich import box  # Rich only when the agenda is printed as tables
    from rich.cells import cell_len
    from rich.table import Table

    rows = [
        (
            f"{s.start.astimezone(where):%H:%M}-{s.end.astimezone(where):%H:%M}",
            str(s.chair),
            s.patient,
            f"{s.title} {s.phase_label} (#{s.number})" + (" · review" if _review(s) else ""),
            s.status,
        )
        for s in sessions
    ]
    widths = [max(cell_len(row[i]) for row in [AGENDA_COLUMNS, *rows]) for i in range(5)]
    # Session takes what the other columns leave; a longer title wraps at its words. On
    # a terminal too narrow for the longest word, the table is wider than the terminal
    # (which wraps it) rather than cut.
    longest = max(cell_len(word) for row in rows for word in row[3].split())
    widths[3] = max(longest, min(widths[3], width - GAPS - sum(widths) + widths[3]))
    # No cell padding (Rich pads every cell, at nearly twice a long agenda's time): a
    # column's width holds the space before the box's one.
    table = Table(box=box.SIMPLE_HEAD, padding=0, show_edge=False)
    for name, w in zip(AGENDA_COLUMNS, widths, strict=True):
        table.add_column(name, width=w if name == AGENDA_COLUMNS[-1] else w + 1, no_wrap=True)
    under: list[tuple[int, _Lines | None]] = []
    for s, (time, chair, code, title, status) in zip(sessions, rows, strict=True):
        # Wrapped here rather than by Rich, so that the row's height is known.
        lines = _wrapped(title, "", widths[3], hang="")
        cells = [_Cell(time), _Cell(chair), _Cell(code), _Cell(*lines), _Cell(status)]
        table.add_row(*cells, style="dim" if s.status == "cancelled" else None)
        under.append((len(lines), _under(s, result, clinic, max(40, width), detail=detail)))
    return _Day(table, under, sum(widths) + GAPS)


@functools.lru_cache(maxsize=4096)
def _wrapped(text: str, indent: str, at: int, *, hang: str = "  ") -> tuple[str, ...]:
    """`wrapped`, once per text: the checklists of a day's sessions share most lines."""
    return tuple(wrapped(text, indent, hang=hang, at=at))


class _Day:
    """A day's table and the lines under its rows: Rich lays the table out once, and
    each row's lines follow it across the full width (a table cell cannot span)."""

    __slots__ = ("rows", "table", "width")

    def __init__(self, table: Any, rows: list[tuple[int, _Lines | None]], width: int) -> None:
        self.table = table
        self.rows = rows  # each row's height and the lines under it
        self.width = width  # the table's, wider than a terminal too narrow for it

    def __rich_console__(self, console: Any, options: Any) -> Iterator[Any]:
        from rich.segment import Segment  # loaded with the table

        wide = options.update_width(max(options.max_width, self.width))
        lines = console.render_lines(self.table, wide, pad=False)
        at = len(lines) - sum(height for height, _ in self.rows)  # the header and its rule
        for line in lines[:at]:
            yield from line
            yield Segment.line()
        for height, under in self.rows:
            for line in lines[at : at + height]:
                yield from line
                yield Segment.line()
            at += height
            if under is not None:
                yield from under.__rich_console__(console, options)


class _Cell:
    """A table cell of lines that Rich prints as they are (times, codes, statuses, a
    title wrapped already): Rich's Text would wrap and justify each, a third of a long
    agenda's time."""

    __slots__ = ("lines",)

    def __init__(self, *lines: str) -> None:
        self.lines = lines

    def __rich_console__(self, console: Any, options: Any) -> Iterator[Any]:
        from rich.segment import Segment  # loaded with the table that holds the cell

        for n, line in enumerate(self.lines):
            if n:
                yield Segment.line()
            yield Segment(line)

    def __rich_measure__(self, console: Any, options: Any) -> Any:
        from rich.cells import cell_len  # loaded with the table that holds the cell
        from rich.measure import Measurement

        width = max((cell_len(line) for line in self.lines), default=0)
        return Measurement(width, width)


def _under(
    s: SessionRecord, result: Agenda, clinic: ClinicConfig, at: int, *, detail: bool
) -> _Lines | None:
    """The lines under a session, wrapped at `at` columns, whole words only; None when
    there are none: its flags (without --detail, only a contraindication screened after
    booking), and with --detail its screening override and the route's staff checklist."""
    from ketaplan.safety.gate import session_flags  # flags need the safety code

    latest = result.screenings.get(s.patient)
    flags = session_flags(s, latest, result.enrollments.get(s.patient))
    # A contraindication found after booking shows on the plain agenda too.
    shown = flags if detail else [f for f in flags if f not in s.flags]
    lines = [(line, "red") for f in shown for line in _wrapped(f"! {f}", UNDER, at)]
    if detail:
        texts = [] if s.override is None else [override_line(s.override)]
        checklist = session_checklist(s, clinic, latest)
        if checklist is not None:
            texts += checklist.text().splitlines()
        lines += [(line, "") for text in texts for line in _wrapped(text, UNDER, at)]
    return _Lines(lines) if lines else None


class _Lines:
    """Lines already wrapped at whole words, each with its style, printed as they are
    (as Rich's Text, --detail's checklists would be wrapped a second time)."""

    __slots__ = ("lines",)

    def __init__(self, lines: list[tuple[str, str]]) -> None:
        self.lines = lines

    def __rich_console__(self, console: Any, options: Any) -> Iterator[Any]:
        from rich.segment import Segment  # loaded with the table these lines go under

        for line, style in self.lines:
            yield Segment(line, console.get_style(style) if style else None)
            yield Segment.line()
