"""Rendering a planned course as a Rich table, JSON or CSV."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ketaplan.model.course import Course

if TYPE_CHECKING:
    from ketaplan.model.records import ScreeningOverride


def console(*, stderr: bool = False) -> Any:
    """A Rich console: colour only on a terminal and never with NO_COLOR (Rich reads both);
    on stdout as wide as `width()` says, so that tables written to a file or a pipe are
    80 columns wide even when the shell's other streams are a wider terminal."""
    from rich.console import Console

    # No markup or emoji: everything printed is plain text, patient codes included.
    return Console(
        stderr=stderr,
        width=None if stderr else width(),
        highlight=False,
        soft_wrap=False,
        markup=False,
        emoji=False,
    )


def summary_lines(course: Course) -> list[str]:
    protocol = course.protocol
    lines = [f"Patient {course.patient} · {protocol.title} ({protocol.name}) · {course.zone}"]
    first_phase = protocol.phases[0].name
    induction = course.phase_sessions(first_phase)
    if induction and len(protocol.phases) > 1:
        span = (induction[-1].day - induction[0].day).days + 1
        lines.append(
            f"{first_phase.capitalize()}: {len(induction)} sessions, "
            f"{induction[0].day} to {induction[-1].day} ({span} days)"
        )
    if course.sessions:
        last = course.sessions[-1]
        lines.append(f"{len(course.sessions)} sessions, last on {last.start:%a} {last.day}")
    return lines


def print_course(course: Course, fmt: str) -> None:
    if fmt in ("json", "csv"):
        # The documented shapes (a module of typed dicts, a few ms): not for the table.
        from ketaplan.formats.shapes import PLANNED_CSV, planned_course_json, planned_csv_rows

        if fmt == "csv":
            write_csv(PLANNED_CSV, planned_csv_rows(course))
            return
        import json

        data = planned_course_json(course)
        sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        return
    from rich import box
    from rich.table import Table

    out = console()
    for line in summary_lines(course):
        out.print(line, markup=False)
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    # Home doses are phase "home", so the phase says where; the note takes the rest.
    for column in ("#", "Phase", "Day", "Date", "Time", "Gap"):
        table.add_column(
            column, no_wrap=True, justify="right" if column in ("#", "Gap") else "left"
        )
    table.add_column("Note", ratio=1)
    for s in course.sessions:
        table.add_row(
            str(s.number),
            s.phase_label,
            f"{s.start:%a}",
            s.day.isoformat(),
            f"{s.start:%H:%M}",
            "" if s.gap_days is None else f"{s.gap_days}d",
            s.note or "",
        )
    out.print(table)


def override_line(override: ScreeningOverride) -> str:
    """How every output shows a course's screening override."""
    return f"Screening override: {override.reason} (at booking: {override.screening})"


def write_csv(header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    from ketaplan.formats.csvfile import csv_text  # csv, for --format csv only

    sys.stdout.write(csv_text(header, rows))


def plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def aligned(rows: Sequence[Sequence[str]]) -> list[str]:
    """Plain text columns, each as wide as its widest cell, indented by two spaces: the
    layout of the plain lists (REMS forms, a course, its history, a clinic change)."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]


def width() -> int:
    """The terminal's width when stdout is one ($COLUMNS first, as Rich does), else 80."""
    import shutil  # the tables' and lists' layout only

    return shutil.get_terminal_size((80, 24)).columns


def wrapped(text: str, indent: str, *, hang: str = "  ", at: int | None = None) -> list[str]:
    """`text` as lines of at most `at` characters (by default the terminal's width, at
    least 40), whole words only: the first indented by `indent`, the rest by
    `indent + hang`."""
    import textwrap  # long lines only: under a session (agenda, course), a clinic change

    return textwrap.wrap(
        text,
        width=max(40, width()) if at is None else at,
        initial_indent=indent,
        subsequent_indent=indent + hang,
        break_long_words=False,
        break_on_hyphens=False,
    ) or [indent.rstrip()]


def page(text: str, *, pager: bool) -> None:
    """Write `text` to stdout; on a terminal, through the pager when it is longer than
    the screen, as git does ($PAGER, else `less -FRX`; --no-pager turns it off)."""
    import os
    import shutil

    height = shutil.get_terminal_size((80, 24)).lines
    if not pager or not sys.stdout.isatty() or text.count("\n") < height:
        sys.stdout.write(text)
        return
    import shlex
    import subprocess  # only when paging

    command = shlex.split(os.environ.get("PAGER") or "less -FRX")
    try:
        subprocess.run(command, input=text, text=True, check=False)
    except OSError:
        sys.stdout.write(text)
