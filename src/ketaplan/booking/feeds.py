"""Calendar feeds: URLs that Google, Outlook, Apple Calendar and Thunderbird subscribe to
and re-read every few hours, so moves and cancellations reach them. A one-off import can
only add events (Google skips UIDs it has seen) or duplicate them (Outlook).

A feed is reached by an unguessable token in its URL (the fetchers of Google and
Microsoft cannot log in). The book keeps only each token's SHA-256, so a copy of the
book gives no working URL; a token is shown once, when made. A staff feed holds the
clinic's sessions in a rolling window; a patient feed, only when the clinic opts in
(`[feeds] patient = true`: it puts health data in the patient's calendar provider), holds
one patient's course and stops answering when the course ends.

Every answer is a full snapshot with an ETag from the book's change counter, so a client
asking again with If-None-Match gets 304 Not Modified without the feed being built.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from ketaplan import __version__
from ketaplan.booking.calendars import BookCalendar, patient_calendar, staff_calendar
from ketaplan.errors import BookError, KetaplanError, UsageError
from ketaplan.model.clinic import ClinicConfig
from ketaplan.model.records import BookState, FeedRecord
from ketaplan.store import Book

# RFC 7986 REFRESH-INTERVAL and X-PUBLISHED-TTL: a hint; Google re-reads every 8 to 24
# hours whatever it says, Outlook on the web every few hours.
REFRESH = timedelta(hours=1)
DEFAULT_BACK_DAYS = 14
DEFAULT_AHEAD_DAYS = 12 * 7
# secrets.token_urlsafe(32): 256 random bits in 43 URL-safe characters.
TOKEN_BYTES = 32
# Feeds remembered by token between requests; a real clinic has a few dozen.
_SEEN_LIMIT = 4096
# Calendars kept built: the staff one (tens of MB for a large clinic) and a few patients'.
_BUILT_LIMIT = 16


class FeedsOff(KetaplanError):
    """The clinic has not opted in to patient feeds."""


@dataclass(frozen=True)
class Window:
    """A staff feed's rolling window: this many days before today to this many after."""

    back: int = DEFAULT_BACK_DAYS
    ahead: int = DEFAULT_AHEAD_DAYS

    def days(self, today: date) -> tuple[date, date]:
        return today - timedelta(days=self.back), today + timedelta(days=self.ahead)


def feed_url(base: str, token: str) -> str:
    """The address to subscribe to: the server's public address, /feeds/, the token."""
    return f"{base.rstrip('/')}/feeds/{token}.ics"


def create_feed(
    book: Book,
    clinic: ClinicConfig,
    zone: str,
    *,
    token: str,
    patient: str | None,
    expires_on: date | None,
    now: datetime,
) -> FeedRecord:
    """Keep a new feed for `token` (made by the caller from a secure random source).

    A patient feed needs the clinic's opt-in and an active course; unless `expires_on`
    is given it stops at the end of the day of the course's last session. `expires_on`
    (the last day the feed answers) must not be before today.
    """
    where = ZoneInfo(zone)
    today = now.astimezone(where).date()
    if expires_on is not None and expires_on < today:
        raise UsageError(f"--expires {expires_on} is before today ({today})")
    if patient is not None and not clinic.patient_feeds:
        raise FeedsOff(
            "patient feeds are off for this clinic: a patient's feed puts health data in "
            "the patient's calendar provider; to offer them, set `patient = true` under "
            "[feeds] in the clinic's config file and `ketaplan clinic apply` it"
        )
    last_day = expires_on
    if patient is not None and last_day is None:
        record = book.active_course(patient)
        live = [] if record is None else book.course_sessions(record.id)
        live = [s for s in live if s.status != "cancelled"]
        if not live:
            raise BookError(f"{patient} has no active course in the book {book.location}")
        last_day = max(s.end for s in live).astimezone(where).date()
        if last_day < today:
            raise BookError(f"{patient}'s course ended on {last_day}: a feed would show nothing")
    expires = None if last_day is None else _end_of_day(last_day, where)
    with book.writing() as tx:
        return tx.add_feed(token, "patient" if patient else "staff", patient, now, expires)


def revoke_feed(book: Book, feed_id: int, now: datetime) -> FeedRecord:
    """Revoke a feed: its URL answers 404 from now on. Kept in the book, never deleted."""
    with book.writing() as tx:
        feed = tx.revoke_feed(feed_id, now)
    if feed is None:
        raise BookError(f"there is no feed {feed_id} in the book {book.location}")
    return feed


def _end_of_day(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(0), zone)


@dataclass(frozen=True)
class FeedAnswer:
    """A feed built: its ETag and the whole calendar."""

    etag: str
    body: bytes


class FeedService:
    """What the feed server asks of the book. Reads only; never reads the clock: `now`
    is a function the server passes in (the CLI's one clock).

    Attributes:
        clinic: the clinic's config, read once when the server starts.
        zone: the clinic's zone (X-WR-TIMEZONE, today's date, the window's days).
        window: the staff feed's rolling window.
        now: the current instant.
    """

    def __init__(
        self, clinic: ClinicConfig, zone: str, window: Window, now: Callable[[], datetime]
    ) -> None:
        self.clinic = clinic
        self.zone = zone
        self.window = window
        self.now = now
        self._where = ZoneInfo(zone)
        self._seen: dict[str, tuple[int, FeedRecord]] = {}
        # The last calendar built, by patient (None: the staff calendar).
        self._built: dict[str | None, FeedAnswer] = {}
        # Anything of the config that a feed shows changes the ETag as the book does.
        self._config = hashlib.sha256(repr((__version__, clinic, zone, window)).encode()).digest()

    def today(self) -> date:
        return self.now().astimezone(self._where).date()

    def find(self, book: Book, token: str, state: BookState) -> FeedRecord | None:
        """The feed a token opens, or None: unknown, revoked, expired, or a patient feed
        of a clinic that no longer offers them all look the same to the caller.

        A feed found is remembered with the book's change counter: making or revoking a
        feed is a write, which moves the counter, so until it moves the book need not
        be asked again (a calendar client revalidates with one one-row read)."""
        seen = self._seen.get(token)
        if seen is not None and seen[0] == state.changes:
            feed = seen[1]
        else:
            found = book.feed_for_token(token)
            if found is None:
                return None
            if len(self._seen) >= _SEEN_LIMIT:
                self._seen.clear()
            self._seen[token] = (state.changes, found)
            feed = found
        if feed.state(self.now()) != "active":
            return None
        if feed.kind == "patient" and not self.clinic.patient_feeds:
            return None
        return feed

    def etag(self, state: BookState, feed: FeedRecord, today: date) -> str:
        """A weak ETag (RFC 9110 8.8.1): the same for the same book, calendar (staff, or
        one patient's), day and config. Weak because the gzipped and plain answers share
        it."""
        parts = f"{state.clinic_id}|{state.changes}|{feed.patient}|{today.isoformat()}"
        digest = hashlib.sha256(self._config + parts.encode()).hexdigest()[:32]
        return f'W/"{digest}"'

    def build(self, book: Book, feed: FeedRecord) -> FeedAnswer:
        """The feed's whole calendar, from one consistent snapshot of the book. The last
        one built of each calendar is kept until the book changes: after a change, every
        subscriber of the staff feed asks for it, and the first one's answer serves all."""
        from ketaplan.formats.ics import write_calendar  # icalendar: only when building

        with book.snapshot():
            state = book.state()
            today = self.today()
            etag = self.etag(state, feed, today)
            kept = self._built.get(feed.patient)
            if kept is not None and kept.etag == etag:
                return kept
            calendar = self._calendar(book, feed, today)
            chunks: list[bytes] = []
            # DTSTAMP is when the book last changed: the same state gives the same bytes.
            write_calendar(chunks.append, calendar.header, calendar.events, stamp=state.changed)
        answer = FeedAnswer(etag, b"".join(chunks))
        if len(self._built) >= _BUILT_LIMIT:
            self._built.clear()
        self._built[feed.patient] = answer
        return answer

    def _calendar(self, book: Book, feed: FeedRecord, today: date) -> BookCalendar:
        if feed.patient is not None:
            return patient_calendar(book, feed.patient, self.clinic, self.zone, refresh=REFRESH)
        first, last = self.window.days(today)
        return staff_calendar(book, self.clinic, self.zone, first, last, refresh=REFRESH)
