"""`ketaplan agenda --month`: options to figures to the grid (or JSON/CSV)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from ketaplan.cli.bookfile import day_bounds, opened_book
from ketaplan.cli.common import check_format, clinic_calendar, clinic_zone, load_clinic, today_in
from ketaplan.cli.render import plural, write_csv
from ketaplan.errors import UsageError
from ketaplan.parsing import parse_date

MONTH_FIELDS = ("date", "open", "closed_reason", "sessions", "cancelled", "chair_utilization")


def month_agenda(when: str | None, fmt: str, book_option: str | None, config: Path | None) -> None:
    """The clinic's month holding `when` (YYYY-MM or a date; default this month)."""
    check_format(fmt)
    clinic = load_clinic(config)
    zone = clinic_zone(None, clinic)
    today = today_in(zone)
    from ketaplan.month import month_bounds, month_figures

    if when and re.fullmatch(r"\d{4}-\d{2}", when.strip()):
        if not 1 <= int(when.strip()[5:]) <= 12:
            raise UsageError(f"--month {when!r} is not a month; use YYYY-MM or a date")
        anchor = parse_date(f"{when.strip()}-01", what="--month", today=today)
    else:
        anchor = parse_date(when, what="--month", today=today) if when else today
    first, last = month_bounds(anchor)
    since, until = day_bounds(first, last, zone)
    with opened_book(book_option, clinic, create=False) as clinic_book:
        sessions = clinic_book.sessions_between(since, until, location="clinic")
    # The holiday names come from the holidays package, loaded only when the clinic names
    # a country (clinic_calendar's lookup).
    days = month_figures(
        first, last, sessions, clinic, clinic_calendar(clinic, None, None, None), zone
    )
    rows = [
        {
            "date": d.day.isoformat(),
            "open": d.open,
            "closed_reason": d.closed_reason,
            "sessions": d.sessions,
            "cancelled": d.cancelled,
            "chair_utilization": None if d.utilization is None else round(d.utilization, 4),
        }
        for d in days
    ]
    if fmt == "json":
        import json

        data = {
            "month": f"{first:%Y-%m}",
            "clinic": clinic.name,
            "chairs": clinic.chairs,
            "timezone": zone,
            "days": rows,
        }
        sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        return
    if fmt == "csv":
        write_csv(MONTH_FIELDS, [tuple(_csv(row[k]) for k in MONTH_FIELDS) for row in rows])
        return
    from ketaplan.cli.month_grid import print_month

    title = f"{first:%B %Y} · {clinic.name} · {plural(clinic.chairs, 'chair')} · {zone}"
    print_month(days, title, today)


def _csv(value: object) -> object:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else value
