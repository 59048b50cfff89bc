"""iCalendar (.ics) export: calendars that Outlook, Google and Thunderbird import cleanly.

The rules behind every choice are in docs/calendars.md. In short: a PUBLISH calendar with its
name before any event; every event has a stable UID, a UTC DTSTAMP and a SEQUENCE; timed
events are written in UTC (`...Z`), never floating and never with a TZID, so no client
can shift them across a daylight-saving change.

All folding, escaping and serializing is icalendar's (7.x), which folds at 75 octets and
escapes TEXT values; this module only decides what goes in. It never reads the clock:
DTSTAMP is the `stamp` argument (the CLI takes it from SOURCE_DATE_EPOCH, else now).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any

from ketaplan import __version__
from ketaplan.errors import UsageError

PRODID = f"-//ketaplan//ketaplan {__version__}//EN"
STATUSES = ("TENTATIVE", "CONFIRMED", "CANCELLED")

# Control characters cannot be written in an iCalendar TEXT value at all (RFC 5545 3.3.11
# allows only HTAB); CR and LF are newlines, which icalendar escapes as `\n`.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class CalendarEvent:
    """One VEVENT, as a client will show it.

    Attributes:
        uid: stable id: the same every time the same thing is exported, so a re-import
            updates instead of duplicating.
        summary: the title line.
        start: an aware datetime (written in UTC, `...Z`), or a date for an all-day event.
        end: the same kind as `start` and after it; for an all-day event the exclusive
            end date (a one-day event on 1 May ends on 2 May).
        description: plain text; newlines allowed.
        location: where; empty for none.
        transparent: TRANSP:TRANSPARENT, the event blocks no time (a reminder).
        sequence: the revision; raise it when a published event changes.
        alarm_minutes: a DISPLAY VALARM this many minutes before the start; None for none.
        alarm_text: the alarm's DESCRIPTION (a DISPLAY alarm must have one); empty for
            the summary.
        status: TENTATIVE, CONFIRMED or CANCELLED; None to leave it out.
        categories: CATEGORIES values, in order; empty for none.
    """

    uid: str
    summary: str
    start: datetime | date
    end: datetime | date
    description: str = ""
    location: str = ""
    transparent: bool = False
    sequence: int = 0
    alarm_minutes: int | None = None
    alarm_text: str = ""
    status: str | None = None
    categories: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # Events are built by code, not typed by users: a bad one is a programming error.
        if not self.uid or _CONTROL.search(self.uid) or any(c in self.uid for c in "\r\n"):
            raise ValueError(f"event uid must be one non-empty line, got {self.uid!r}")
        if self.all_day != (type(self.end) is date):
            raise ValueError(f"event {self.uid}: start and end must both be dates or datetimes")
        if not self.all_day:
            for name in ("start", "end"):
                value = getattr(self, name)
                if value.tzinfo is None or value.utcoffset() is None:
                    raise ValueError(f"event {self.uid}: {name} must be timezone-aware")
        if not self.end > self.start:
            raise ValueError(f"event {self.uid}: end must be after start")
        if self.sequence < 0:
            raise ValueError(f"event {self.uid}: sequence must not be negative")
        if self.alarm_minutes is not None and self.alarm_minutes < 0:
            raise ValueError(f"event {self.uid}: alarm_minutes must not be negative")
        if self.status is not None and self.status not in STATUSES:
            raise ValueError(f"event {self.uid}: status must be one of {', '.join(STATUSES)}")

    @property
    def all_day(self) -> bool:
        return type(self.start) is date


def calendar_bytes(name: str, events: Iterable[CalendarEvent], *, stamp: datetime) -> bytes:
    """A whole VCALENDAR as bytes (UTF-8, CRLF, folded at 75 octets), events in the order
    given. `name` becomes X-WR-CALNAME and NAME; `stamp` (aware) every DTSTAMP."""
    from icalendar import Calendar

    if stamp.tzinfo is None or stamp.utcoffset() is None:
        raise ValueError("the calendar stamp must be timezone-aware")
    utc_stamp = stamp.astimezone(UTC).replace(microsecond=0)
    calendar = Calendar()
    calendar.add("version", "2.0")
    calendar.add("prodid", PRODID)
    calendar.add("method", "PUBLISH")
    # Text explicitly: icalendar 7 types these two as "unknown" and would not escape them.
    calendar.add("x-wr-calname", _text(name))
    calendar.add("name", _text(name))
    for event in events:
        calendar.add_component(_vevent(event, utc_stamp))
    data: bytes = calendar.to_ical()
    return data


def _text(value: str) -> Any:
    """A TEXT value, control characters replaced (see `_text_type`)."""
    return _text_type()(_CONTROL.sub("\ufffd", value))


@cache
def _text_type() -> Any:
    """vText escaped by RFC 5545 3.3.11 alone: backslash, semicolon, comma and newline.
    icalendar's own escaping first turns a typed backslash-N into a newline, so a clinic
    name holding one would not read back as written. Made once, on the first export:
    icalendar loads only for exports."""
    from icalendar import vText

    class Text(vText):
        def to_ical(self) -> bytes:
            text = str(self).replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\\n")
            return text.encode("utf-8")

    return Text


def _vevent(event: CalendarEvent, stamp: datetime) -> Any:
    from icalendar import Alarm, Event

    vevent = Event()
    vevent.add("uid", event.uid)
    vevent.add("dtstamp", stamp)
    vevent.add("sequence", event.sequence)
    start, end = event.start, event.end
    if isinstance(start, datetime) and isinstance(end, datetime):
        # UTC, never a TZID: a TZID without a VTIMEZONE shifts events in Outlook.
        start, end = start.astimezone(UTC), end.astimezone(UTC)
    vevent.add("dtstart", start)
    vevent.add("dtend", end)
    vevent.add("summary", _text(event.summary))
    if event.location:
        vevent.add("location", _text(event.location))
    if event.description:
        vevent.add("description", _text(event.description))
    vevent.add("transp", "TRANSPARENT" if event.transparent else "OPAQUE")
    if event.status is not None:
        vevent.add("status", event.status)
    if event.categories:
        vevent.add("categories", [_text(c) for c in event.categories])
    if event.alarm_minutes is not None:
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("trigger", timedelta(minutes=-event.alarm_minutes))
        alarm.add("description", _text(event.alarm_text or event.summary))
        vevent.add_component(alarm)
    return vevent


def stamp_from_epoch(value: str | None, now: datetime) -> datetime:
    """DTSTAMP for an export: SOURCE_DATE_EPOCH's value if set (the reproducible-builds
    convention: whole seconds since 1970-01-01 UTC), else `now`. Empty counts as unset."""
    if value is None or value == "":
        return now
    text = value.strip()
    if not re.fullmatch("[0-9]+", text):
        raise UsageError(
            f"SOURCE_DATE_EPOCH {value!r} is not a whole number of seconds since 1970-01-01 UTC"
        )
    try:
        return datetime.fromtimestamp(int(text), UTC)
    except (ValueError, OverflowError, OSError):
        raise UsageError(f"SOURCE_DATE_EPOCH {value!r} is after the year 9999") from None
