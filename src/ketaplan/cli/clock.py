"""The one clock: every command that needs the time or today's date asks here, and
nothing below the CLI reads the clock (`now`, `today` and ids are arguments). Tests and
the docs' examples pin it by replacing `now`."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime

from ketaplan.parsing import parse_zone


def now() -> datetime:
    """The current instant, aware, in UTC."""
    return datetime.now(UTC)


def today_in(zone: str) -> date:
    """Today's date in the clinic's zone."""
    return now().astimezone(parse_zone(zone)).date()


def calendar_stamp() -> datetime:
    """DTSTAMP of an exported calendar: SOURCE_DATE_EPOCH makes exports byte-identical
    (the reproducible-builds convention); else now."""
    from ketaplan.formats.ics import stamp_from_epoch  # icalendar's module, for exports only

    return stamp_from_epoch(os.environ.get("SOURCE_DATE_EPOCH"), now())
