"""`ketaplan agenda --month`: options, the month from the book, then the grid (or the
figures by day as JSON or CSV)."""

from __future__ import annotations

import re
import sys
from datetime import date
from pathlib import Path

from ketaplan.booking.month import clinic_month
from ketaplan.cli import clock
from ketaplan.cli.bookfile import opened_book
from ketaplan.cli.common import check_format, clinic_calendar, clinic_zone
from ketaplan.cli.render import plural, write_csv
from ketaplan.errors import UsageError
from ketaplan.formats.shapes import MONTH_CSV, MonthJson, month_csv_rows, month_day_json
from ketaplan.parsing import parse_date


def month_agenda(
    when: str | None,
    fmt: str,
    book_option: str | None,
    config: Path | None,
    clinic_option: str | None = None,
) -> None:
    """The clinic's month holding `when` (YYYY-MM or a date; default this month)."""
    check_format(fmt)
    # The month is checked before the book is opened; "today" follows its clinic's zone.
    _anchor(when, clock.today_in("UTC"))
    with opened_book(book_option, config, create=False, clinic_option=clinic_option) as opened:
        clinic = opened.clinic
        zone = clinic_zone(None, clinic)
        today = clock.today_in(zone)
        anchor = _anchor(when, today)
        # Public holidays come from the holidays package, loaded only when the clinic
        # names a country (clinic_calendar's lookup).
        calendar = clinic_calendar(clinic, None, None, None)
        month = clinic_month(opened.book, anchor, clinic, calendar, zone)
    days = [
        month_day_json(d.day, d.open, d.closed_reason, d.sessions, d.cancelled, d.utilization)
        for d in month.days
    ]
    if fmt == "json":
        import json

        data: MonthJson = {
            "month": f"{month.first:%Y-%m}",
            "clinic": clinic.name,
            "chairs": clinic.chairs,
            "timezone": zone,
            "days": days,
        }
        sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        return
    if fmt == "csv":
        write_csv(MONTH_CSV, month_csv_rows(days))
        return
    from ketaplan.cli.month_grid import print_month

    title = f"{month.first:%B %Y} · {clinic.name} · {plural(clinic.chairs, 'chair')} · {zone}"
    print_month(month.days, title, today)


def _anchor(when: str | None, today: date) -> date:
    """A day of the month `when` names: YYYY-MM or a date; today without one."""
    text = (when or "").strip()
    if re.fullmatch(r"\d{4}-\d{2}", text):
        if not 1 <= int(text[5:]) <= 12:
            raise UsageError(f"--month {when!r} is not a month; use YYYY-MM or a date")
        return parse_date(f"{text}-01", what="--month", today=today)
    return parse_date(text, what="--month", today=today) if text else today
