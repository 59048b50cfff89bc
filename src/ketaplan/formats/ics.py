"""iCalendar (.ics) export: calendars that Outlook, Google and Thunderbird import cleanly.

In short (RFC 5545, RFC 7986): a PUBLISH calendar with its name and the clinic's zone
before any event; every event has a stable UID, a UTC DTSTAMP and a SEQUENCE; timed
events are written in UTC (`...Z`), never floating and never with a TZID, so no client
can shift them across a daylight-saving change.

All folding, escaping and serializing is icalendar's (7.x), which folds at 75 octets and
escapes TEXT values; this module only decides what goes in. It never reads the clock:
DTSTAMP is the `stamp` argument (the CLI takes it from SOURCE_DATE_EPOCH, else now).

A calendar is written as a stream (`write_calendar`): the header, then each event as it
is made, then the footer, with the cyclic garbage collector paused meanwhile. A year of
a large clinic's staff calendar never exists in memory as one icalendar tree; the bytes
are the same as `Calendar.to_ical()` of the whole tree would give.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any

from ketaplan import __version__
from ketaplan.errors import UsageError

PRODID = f"-//ketaplan//ketaplan {__version__}//EN"
STATUSES = ("TENTATIVE", "CONFIRMED", "CANCELLED")
_FOOTER = b"END:VCALENDAR\r\n"

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
        private: CLASS:PRIVATE, so a shared calendar shows the time as busy only.
        modified: LAST-MODIFIED (aware): when the event last changed; None to leave it out.
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
    private: bool = False
    modified: datetime | None = None

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
        if self.modified is not None and self.modified.utcoffset() is None:
            raise ValueError(f"event {self.uid}: modified must be timezone-aware")

    @property
    def all_day(self) -> bool:
        return type(self.start) is date


@dataclass(frozen=True)
class CalendarHeader:
    """What a VCALENDAR says before its events.

    Attributes:
        name: X-WR-CALNAME and NAME (RFC 7986).
        zone: X-WR-TIMEZONE, the clinic's IANA zone (events stay in UTC); None for none.
        refresh: a subscribed feed's REFRESH-INTERVAL (RFC 7986) and X-PUBLISHED-TTL;
            None for a file, which nobody re-reads.
    """

    name: str
    zone: str | None = None
    refresh: timedelta | None = None


def calendar_bytes(
    header: str | CalendarHeader, events: Iterable[CalendarEvent], *, stamp: datetime
) -> bytes:
    """A whole VCALENDAR as bytes (UTF-8, CRLF, folded at 75 octets), events in the order
    given. A `header` given as a string is the calendar's name; `stamp` (aware) is every
    DTSTAMP."""
    if isinstance(header, str):
        header = CalendarHeader(header)
    chunks: list[bytes] = []
    write_calendar(chunks.append, header, events, stamp=stamp)
    return b"".join(chunks)


def write_calendar(
    write: Callable[[bytes], object],
    header: CalendarHeader,
    events: Iterable[CalendarEvent],
    *,
    stamp: datetime,
) -> int:
    """Write a VCALENDAR to `write` piece by piece: the header, each event as `events`
    yields it, the footer. Returns how many events were written."""
    if stamp.tzinfo is None or stamp.utcoffset() is None:
        raise ValueError("the calendar stamp must be timezone-aware")
    utc_stamp = stamp.astimezone(UTC).replace(microsecond=0)
    count = 0
    values = _Values()
    with no_cycle_collection():
        write(_header(header))
        for event in events:
            write(_vevent(event, utc_stamp, values).to_ical())
            count += 1
        write(_FOOTER)
    return count


@contextmanager
def no_cycle_collection() -> Iterator[None]:
    """A calendar's events are hundreds of thousands of small objects with no reference
    cycles: pausing the cyclic collector while they are made keeps the time per event
    flat instead of growing with the heap it would re-scan (as booking a roster does)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _header(header: CalendarHeader) -> bytes:
    from icalendar import Calendar, vDuration

    calendar = Calendar()
    calendar.add("version", "2.0")
    calendar.add("prodid", PRODID)
    calendar.add("method", "PUBLISH")
    # Text explicitly: icalendar 7 types these as "unknown" and would not escape them.
    calendar.add("x-wr-calname", _text(header.name))
    calendar.add("name", _text(header.name))
    if header.zone is not None:
        calendar.add("x-wr-timezone", _text(header.zone))
    if header.refresh is not None:
        refresh = vDuration(header.refresh)
        calendar.add("refresh-interval", refresh, parameters={"VALUE": "DURATION"})
        # The de facto property has no VALUE parameter: written as plain text.
        calendar.add("x-published-ttl", _text(_duration_text(header.refresh)))
    data: bytes = calendar.to_ical()
    # The same bytes as the whole tree's: an empty calendar ends with the footer alone.
    if not data.endswith(_FOOTER):
        raise RuntimeError("icalendar wrote an unexpected calendar footer")
    return data[: -len(_FOOTER)]


def _duration_text(value: timedelta) -> str:
    """RFC 5545 3.3.6 for a positive whole number of seconds: PT1H, PT90M, P1D."""
    seconds = int(value.total_seconds())
    if seconds <= 0 or value != timedelta(seconds=seconds):
        raise ValueError("a refresh interval is a positive whole number of seconds")
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    time_part = "".join(f"{n}{u}" for n, u in ((hours, "H"), (minutes, "M"), (secs, "S")) if n)
    day_part = f"{days}D" if days else ""
    return f"P{day_part}" + (f"T{time_part}" if time_part else "")


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


class _Values:
    """Property values encoded once per calendar: the stamp, the location, the status and
    the categories repeat in every event, and encoding them again for each of 100,000
    events costs more than writing them."""

    def __init__(self) -> None:
        from icalendar import Event

        self._encode: Any = Event._encode
        self._found: dict[tuple[str, object], Any] = {}

    def __call__(self, name: str, value: object, make: Any = None) -> Any:
        key = (name, value)
        found = self._found.get(key)
        if found is None:
            found = self._encode(name, value if make is None else make(value))
            self._found[key] = found
        return found


def _vevent(event: CalendarEvent, stamp: datetime, values: _Values | None = None) -> Any:
    from icalendar import Alarm, Event

    same = _Values() if values is None else values
    vevent = Event()
    vevent.add("uid", event.uid)
    vevent.add("dtstamp", same("dtstamp", stamp), encode=False)
    vevent.add("sequence", same("sequence", event.sequence), encode=False)
    start, end = event.start, event.end
    if isinstance(start, datetime) and isinstance(end, datetime):
        # UTC, never a TZID: a TZID without a VTIMEZONE shifts events in Outlook.
        start, end = start.astimezone(UTC), end.astimezone(UTC)
    vevent.add("dtstart", start)
    vevent.add("dtend", end)
    vevent.add("summary", _text(event.summary))
    if event.location:
        vevent.add("location", same("location", event.location, _text), encode=False)
    if event.description:
        vevent.add("description", _text(event.description))
    transp = "TRANSPARENT" if event.transparent else "OPAQUE"
    vevent.add("transp", same("transp", transp), encode=False)
    if event.private:
        vevent.add("class", same("class", "PRIVATE"), encode=False)
    if event.modified is not None:
        vevent.add("last-modified", event.modified.astimezone(UTC).replace(microsecond=0))
    if event.status is not None:
        vevent.add("status", same("status", event.status), encode=False)
    if event.categories:
        categories = same("categories", event.categories, lambda c: [_text(x) for x in c])
        vevent.add("categories", categories, encode=False)
    if event.alarm_minutes is not None:
        alarm = Alarm()
        alarm.add("action", same("action", "DISPLAY"), encode=False)
        trigger = same("trigger", event.alarm_minutes, lambda m: timedelta(minutes=-m))
        alarm.add("trigger", trigger, encode=False)
        alarm_text = event.alarm_text or event.summary
        alarm.add("description", same("description", alarm_text, _text), encode=False)
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
