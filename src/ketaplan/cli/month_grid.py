"""The clinic's month as a calendar grid in the terminal: each day with its sessions and
chair utilization (shaded by how full it is), closed days with their reason, today
marked. Seven columns of ten characters: 78 columns, so it fits an 80-column terminal."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from datetime import date
from typing import Any

from ketaplan.booking.month import CLOSED_WEEKDAY, DayFigures
from ketaplan.cli.render import console, plural

CELL = 9  # characters inside a cell; with its left pad and border, 10 a column
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
# Background by chair utilization; the percentage is printed too, so no colour is needed.
SHADES = ((0.25, "on grey23"), (0.5, "on dark_green"), (0.75, "on dark_orange3"))
FULL = "on red3"


def month_grid(days: Sequence[DayFigures], title: str, today: date) -> list[Any]:
    """Rich renderables: the title, the grid, and a line per closure and in total."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    table = Table(box=box.SQUARE, show_lines=True, padding=(0, 0, 0, 1), show_edge=True)
    for name in WEEKDAYS:
        table.add_column(name, width=CELL, no_wrap=True)
    week: list[Text] = [Text("") for _ in range(days[0].day.weekday())]
    for figures in days:
        week.append(_cell(figures, today))
        if len(week) == 7:
            table.add_row(*week)
            week = []
    if week:
        table.add_row(*week, *(Text("") for _ in range(7 - len(week))))
    legend = "Each open day: sessions booked and the share of chair time they hold."
    return [Text(title), Text(legend), table, *_summary(days)]


def _cell(f: DayFigures, today: date) -> Any:
    from rich.text import Text

    text = Text()
    head = f"{f.day.day:>2}" + (" today" if f.day == today else "")
    text.append(head, style="bold reverse" if f.day == today else "bold")
    lines: list[str] = []
    style = ""
    if f.open:
        lines.append(f"{f.sessions} sess.")
        lines.append(f"{100 * (f.utilization or 0):.0f}% used")
        style = _shade(f.utilization or 0.0)
    else:
        reason = "closed" if f.closed_reason == CLOSED_WEEKDAY else f.closed_reason or "closed"
        wrapped = textwrap.wrap(reason, CELL, break_long_words=True) or ["closed"]
        if len(wrapped) > 2:
            wrapped = [wrapped[0], wrapped[1][: CELL - 1] + "…"]
        lines += wrapped
        if f.sessions:
            lines.append(f"{f.sessions} sess.")
    for line in lines:
        # Padded to the cell's width, so that the shade fills the cell, not just the words.
        text.append("\n")
        text.append(line[:CELL].ljust(CELL), style=style or ("dim" if not f.open else ""))
    return text


def _shade(used: float) -> str:
    if used <= 0:
        return ""
    for limit, style in SHADES:
        if used < limit:
            return style
    return FULL


def _summary(days: Sequence[DayFigures]) -> list[Any]:
    from rich.text import Text

    open_days = [d for d in days if d.open]
    sessions = sum(d.sessions for d in days)
    mean = sum(d.utilization or 0 for d in open_days) / len(open_days) if open_days else 0.0
    lines = [
        f"{plural(sessions, 'session')} on {plural(len(open_days), 'open day')}; "
        f"chairs {100 * mean:.0f}% used on average."
    ]
    closures = [d for d in days if d.closed_reason not in (None, CLOSED_WEEKDAY)]
    lines += [f"Closed {d.day:%a %Y-%m-%d}: {d.closed_reason}" for d in closures]
    return [Text(line) for line in lines]


def print_month(days: Sequence[DayFigures], title: str, today: date) -> None:
    out = console()
    for part in month_grid(days, title, today):
        out.print(part)
