"""What the two stores share: every query of `Book` and `BookWriter`, written once.

The SQL here is portable: `?` placeholders (the PostgreSQL store turns them into its
own), `INSERT ... RETURNING id`, and `INSERT ... ON CONFLICT (...) DO UPDATE SET x =
excluded.x` for an upsert, which SQLite and PostgreSQL spell the same way. Values pass
through the dialect: instants and days (`instant`, `day`; `read_instant`, `read_day`),
booleans as Python bools. What differs lives in the two store modules, behind `Dialect`:
placeholders, the column types (migrations), JSON extraction, and the write lock.

Adding a query: write it here against `self._d`, scoped to `self._clinic`. Adding a
table: one more migration step in both `sqlite.py` and `postgres.py` (a test checks
they have the same number of steps), and one more entry in `TABLES` so that
`ketaplan admin copy` copies it (a copy refuses a book holding a table it does not know).
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any, Literal, Protocol, cast
from zoneinfo import ZoneInfo

from ketaplan.errors import BookError, UsageError
from ketaplan.model.protocol import ROUTES, Location, Route
from ketaplan.model.records import (
    Attendance,
    BookState,
    ChairUse,
    ClinicRecord,
    CourseRecord,
    CourseStatus,
    EnrollmentRecord,
    FeedKind,
    FeedRecord,
    FormFiled,
    HistoryEntry,
    InductionState,
    Measurements,
    NewCourse,
    NewSession,
    Outcome,
    ScreeningOverride,
    ScreeningRecord,
    SessionChange,
    SessionRecord,
    SessionStatus,
)

# "KTPL": marks a database as a ketaplan book (SQLite's application_id; PostgreSQL's
# advisory lock namespace).
APPLICATION_ID = 0x4B54504C
# How long a writer waits for another one before giving up.
BUSY_SECONDS = 30.0

Kind = Literal["int", "text", "bool", "instant", "day"]


@dataclass(frozen=True)
class Table:
    """A table of the book as `ketaplan admin copy` copies it: its columns and their
    kinds, in an order that respects foreign keys."""

    name: str
    columns: tuple[tuple[str, Kind], ...]


TABLES: tuple[Table, ...] = (
    Table(
        "clinic",
        (
            ("id", "text"),
            ("name", "text"),
            ("settings", "text"),
            ("updated_utc", "instant"),
            ("updated_by", "text"),
            ("changes", "int"),
            ("changed_utc", "instant"),
        ),
    ),
    Table(
        "clinic_changes",
        (
            ("id", "int"),
            ("clinic_id", "text"),
            ("settings", "text"),
            ("source", "text"),
            ("changed_utc", "instant"),
            ("changed_by", "text"),
        ),
    ),
    Table(
        "courses",
        (
            ("id", "int"),
            ("clinic_id", "text"),
            ("patient", "text"),
            ("protocol", "text"),
            ("title", "text"),
            ("definition", "text"),
            ("start_date", "day"),
            ("zone", "text"),
            ("active", "bool"),
            ("created_utc", "instant"),
            ("override_reason", "text"),
            ("override_screening", "text"),
            ("flags", "text"),
            ("status", "text"),
            ("induction", "text"),
            ("induction_since", "day"),
            ("asked", "text"),
        ),
    ),
    Table(
        "sessions",
        (
            ("id", "int"),
            ("clinic_id", "text"),
            ("course_id", "int"),
            ("uid", "text"),
            ("sequence", "int"),
            ("number", "int"),
            ("phase", "text"),
            ("phase_number", "int"),
            ("phase_total", "int"),
            ("location", "text"),
            ("start_utc", "instant"),
            ("end_utc", "instant"),
            ("zone", "text"),
            ("chair", "int"),
            ("status", "text"),
            ("note", "text"),
            ("modified_utc", "instant"),
        ),
    ),
    Table(
        "session_records",
        (
            ("id", "int"),
            ("session_id", "int"),
            ("outcome", "text"),
            ("reason", "text"),
            ("systolic", "int"),
            ("diastolic", "int"),
            ("heart_rate", "int"),
            ("spo2", "int"),
            ("phq9", "int"),
            ("note", "text"),
            ("recorded_by", "text"),
            ("recorded_utc", "instant"),
        ),
    ),
    Table(
        "history",
        (
            ("id", "int"),
            ("course_id", "int"),
            ("patient", "text"),
            ("when_utc", "instant"),
            ("who", "text"),
            ("what", "text"),
            ("why", "text"),
            ("before_json", "text"),
            ("after_json", "text"),
        ),
    ),
    Table(
        "rems_forms",
        (
            ("id", "int"),
            ("session_id", "int"),
            ("filed_on", "day"),
            ("recorded_by", "text"),
            ("recorded_utc", "instant"),
        ),
    ),
    Table(
        "screenings",
        (
            ("id", "int"),
            ("clinic_id", "text"),
            ("patient", "text"),
            ("screened_on", "day"),
            ("answers", "text"),
            ("summary", "text"),
            ("contraindicated", "bool"),
            ("recorded_utc", "instant"),
        ),
    ),
    Table(
        "rems_enrollments",
        (
            ("id", "int"),
            ("clinic_id", "text"),
            ("patient", "text"),
            ("enrolled_on", "day"),
            ("recorded_utc", "instant"),
        ),
    ),
)
TABLES += (
    Table(
        "book_info",
        (("id", "int"), ("clinic_id", "text"), ("changes", "int"), ("changed_utc", "instant")),
    ),
    Table(
        "feeds",
        (
            ("id", "int"),
            ("clinic_id", "text"),
            ("token_sha256", "text"),
            ("kind", "text"),
            ("patient", "text"),
            ("created_utc", "instant"),
            ("expires_utc", "instant"),
            ("revoked_utc", "instant"),
        ),
    ),
)
# The tables whose rows belong to one clinic (migration 8).
CLINIC_ROWS = ("courses", "sessions", "screenings", "rems_enrollments", "feeds")
# The migration that made book_info, with the change counter.
COUNTER_VERSION = 7
# The migration that gave each clinic its own change counter.
CLINIC_COUNTER_VERSION = 10
# Kept by each book itself, never copied: its migration history and its marker.
BOOKKEEPING = frozenset({"schema_migrations", "ketaplan_book"})


class Rows(Protocol):
    """What both drivers' cursors give back."""

    @property
    def rowcount(self) -> int: ...

    def __iter__(self) -> Iterator[Any]: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...


class Dialect(ABC):
    """One open connection to a book, and everything in which the two backends differ."""

    # The driver's exception for a broken constraint.
    integrity_error: type[Exception]
    # A book file keeps one clinic; a network's clinics share a PostgreSQL book.
    one_clinic: bool

    def __init__(self, location: str) -> None:
        self.location = location

    @abstractmethod
    def execute(self, sql: str, params: Sequence[Any] = ()) -> Rows:
        """Run one statement written with `?` placeholders."""

    def stream(self, sql: str, params: Sequence[Any] = ()) -> Iterator[Any]:
        """The rows of one read, as they are read: for the long listings (a year's
        calendar), which write each row out before the next is read."""
        yield from self.execute(sql, params)

    @abstractmethod
    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None: ...

    @abstractmethod
    def transaction(self, clinic_id: str | None) -> AbstractContextManager[None]:
        """One write transaction that no other writer of the clinic (of the whole book
        when None) runs beside: commits at the end, rolls back on any error, and turns
        the driver's errors into BookError."""

    @abstractmethod
    def savepoint(self) -> AbstractContextManager[None]:
        """Inside a transaction: a failed statement undoes only what the block wrote."""

    @abstractmethod
    def snapshot(self) -> AbstractContextManager[None]:
        """A read-only transaction: every read in it sees the book at one moment."""

    @abstractmethod
    def json_field(self, column: str, key: str) -> str:
        """An SQL expression: the text of top-level `key` of the JSON text in `column`."""

    @abstractmethod
    def now_sql(self) -> str:
        """An SQL expression: the present instant as the book stores one."""

    @abstractmethod
    def version(self) -> int:
        """The number of migrations this ketaplan knows (read at call time)."""

    @abstractmethod
    def tables(self) -> set[str]:
        """The names of the tables in the book."""

    @abstractmethod
    def instant(self, moment: datetime) -> Any:
        """An aware datetime as the driver stores it: UTC, whole seconds."""

    @abstractmethod
    def read_instant(self, value: Any) -> datetime: ...

    @abstractmethod
    def day(self, value: date) -> Any: ...

    @abstractmethod
    def read_day(self, value: Any) -> date: ...

    @abstractmethod
    def after_copy(self) -> None:
        """Bring id generators past the ids a copy wrote."""

    @abstractmethod
    def close(self) -> None: ...


def newer_message(location: str, version: int, latest: int) -> str:
    return (
        f"the book {location} was written by a newer ketaplan (book version {version}; this "
        f"ketaplan reads up to {latest}); left untouched: upgrade ketaplan"
    )


def older_message(location: str, version: int) -> str:
    return (
        f"the book {location} was written by an older ketaplan (book version {version}); "
        f"open it once with this one (`ketaplan agenda --book {location}`) to upgrade it first"
    )


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


@dataclass(frozen=True)
class Clinic:
    """A clinic of the book, as `ketaplan admin clinics` lists it.

    Attributes:
        id: the book's id of the clinic (random, never reused).
        name: its name, as `--clinic` and `[book] clinic` give it.
        courses: how many courses it holds.
    """

    id: str
    name: str
    courses: int


def clinics(d: Dialect) -> list[Clinic]:
    if "clinic" not in d.tables():
        return []  # an older book opened without upgrading it (a test writes one)
    rows = d.execute(
        "SELECT c.id, c.name, (SELECT count(*) FROM courses o WHERE o.clinic_id = c.id) "
        "FROM clinic c ORDER BY c.name, c.id"
    )
    return [Clinic(*row) for row in rows]


@dataclass
class Scope:
    """The clinic a book works on: its id once stored (None while the book has no clinic
    yet: its rows then have none either), and the name asked for, if any."""

    id: str | None
    wanted: str | None


def choose_clinic(d: Dialect, name: str | None, *, create: bool) -> Scope:
    """The clinic a command works on: the one named, else the book's only one (or none
    yet, for a book that has no clinic). A clinic named but not in the book is stored by
    the first write (`create`: a command that may add it), with the config's settings."""
    known = clinics(d)
    if name is None:
        if len(known) <= 1:
            return Scope(known[0].id if known else None, None)
        raise UsageError(
            f"the book {d.location} holds {len(known)} clinics ({_names(known)}); "
            "name one with --clinic or `clinic` in the config's [book] table"
        )
    for clinic in known:
        if clinic.name == name:
            return Scope(clinic.id, name)
    if known and not create:
        raise BookError(
            f"the book {d.location} has no clinic {name!r} (it has {_names(known)}); "
            f"`ketaplan init --clinic {name} --config FILE` adds it, with a config whose "
            "[clinic] name is the clinic's"
        )
    return Scope(None, name)


def _names(known: Sequence[Clinic]) -> str:
    return ", ".join(c.name for c in known)


class _Reads:
    """The reads that the book and its write transactions share, all within one clinic."""

    def __init__(self, dialect: Dialect, scope: Scope) -> None:
        self._d = dialect
        self._scope = scope
        self._calendar_id: str | None = None  # the clinic's, once read (`state`)
        route = dialect.json_field("c.definition", "route")
        phases = dialect.json_field("c.definition", "phases")
        self._route_field = route
        # The route is read from the course's stored protocol, the one place it is kept.
        self._select_sessions = f"""SELECT s.id, s.course_id, c.patient, c.title, s.uid,
            s.sequence, s.number, s.phase, s.phase_number, s.phase_total, s.location,
            s.start_utc, s.end_utc, s.zone, s.chair, s.status, s.note, {route},
            c.override_reason, c.override_screening, c.flags, c.created_utc, {phases},
            s.modified_utc FROM sessions s JOIN courses c ON c.id = s.course_id WHERE """

    def _in(self, column: str) -> tuple[str, list[Any]]:
        """The condition that keeps rows of this clinic, and its parameters."""
        if self._scope.id is None:
            return f"{column} IS NULL", []
        return f"{column} = ?", [self._scope.id]

    def active_course(self, patient: str) -> CourseRecord | None:
        where, params = self._in("clinic_id")
        row = self._d.execute(
            f"SELECT {_COURSE_COLUMNS} FROM courses WHERE {where} AND patient = ? AND active = ?",
            (*params, patient, True),
        ).fetchone()
        return None if row is None else self._course(row)

    def course_sessions(self, course_id: int) -> list[SessionRecord]:
        where, params = self._in("s.clinic_id")
        rows = self._d.execute(
            self._select_sessions + f"{where} AND s.course_id = ? ORDER BY s.number, s.id",
            (*params, course_id),
        )
        return [self._session(row) for row in rows]

    def patient_sessions(self, patient: str) -> list[SessionRecord]:
        where, params = self._in("s.clinic_id")
        rows = self._d.execute(
            self._select_sessions + f"{where} AND c.patient = ? ORDER BY s.start_utc, s.id",
            (*params, patient),
        )
        return [self._session(row) for row in rows]

    def sessions_between(
        self, first: datetime, last: datetime, *, location: Location | None = None
    ) -> list[SessionRecord]:
        where, params = self._in("s.clinic_id")
        where += " AND s.start_utc >= ? AND s.start_utc < ?"
        params += [self._d.instant(first), self._d.instant(last)]
        if location is not None:
            where += " AND s.location = ?"
            params.append(location)
        rows = self._d.execute(
            self._select_sessions
            + f"{where} ORDER BY s.start_utc, s.chair, c.patient, s.number, s.id",
            params,
        )
        return [self._session(row) for row in rows]

    def attended_sessions(
        self, first: datetime, last: datetime, *, route: Route
    ) -> list[SessionRecord]:
        """Attended clinic sessions of a route starting in [first, last), by start."""
        where, params = self._in("s.clinic_id")
        rows = self._d.execute(
            self._select_sessions + f"{where} AND s.start_utc >= ? AND s.start_utc < ? "
            "AND s.status = 'attended' AND s.location = 'clinic' "
            f"AND {self._route_field} = ? "
            "ORDER BY s.start_utc, s.chair, c.patient, s.number, s.id",
            (*params, self._d.instant(first), self._d.instant(last), route),
        )
        return [self._session(row) for row in rows]

    def session_records(self, course_id: int) -> list[Attendance]:
        where, params = self._in("s.clinic_id")
        rows = self._d.execute(
            f"SELECT {_RECORD_COLUMNS} FROM session_records r JOIN sessions s "
            f"ON s.id = r.session_id WHERE {where} AND s.course_id = ? ORDER BY r.id",
            (*params, course_id),
        )
        return [
            Attendance(
                session_id=row[1],
                outcome=cast(Outcome, row[2]),
                reason=row[3],
                measured=Measurements(*row[4:9]),
                note=row[9],
                by=row[10],
                recorded=self._d.read_instant(row[11]),
                id=row[0],
            )
            for row in rows
        ]

    def history(self, patient: str) -> list[HistoryEntry]:
        where, params = self._in("c.clinic_id")
        rows = self._d.execute(
            "SELECT h.course_id, h.patient, h.when_utc, h.who, h.what, h.why, h.before_json, "
            "h.after_json FROM history h JOIN courses c ON c.id = h.course_id "
            f"WHERE {where} AND h.patient = ? ORDER BY h.id",
            (*params, patient),
        )
        read = self._d.read_instant
        return [
            HistoryEntry(c, p, read(w), who, what, why, b, a)
            for c, p, w, who, what, why, b, a in rows
        ]

    def forms_filed(self, session_ids: Sequence[int]) -> dict[int, FormFiled]:
        where, params = self._in("s.clinic_id")
        found: dict[int, FormFiled] = {}
        ids = list(session_ids)
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            marks = ", ".join("?" * len(chunk))
            rows = self._d.execute(
                "SELECT f.session_id, f.filed_on, f.recorded_by, f.recorded_utc FROM rems_forms f "
                f"JOIN sessions s ON s.id = f.session_id WHERE {where} "
                f"AND f.session_id IN ({marks}) ORDER BY f.id",
                (*params, *chunk),
            )
            for sid, filed_on, by, recorded in rows:
                found[sid] = FormFiled(
                    sid, self._d.read_day(filed_on), by, self._d.read_instant(recorded)
                )
        return found

    def latest_screening(self, patient: str) -> ScreeningRecord | None:
        where, params = self._in("clinic_id")
        row = self._d.execute(
            "SELECT patient, screened_on, answers, summary, contraindicated, recorded_utc "
            f"FROM screenings WHERE {where} AND patient = ? "
            "ORDER BY screened_on DESC, id DESC LIMIT 1",
            (*params, patient),
        ).fetchone()
        if row is None:
            return None
        code, screened_on, answers, summary, contraindicated, recorded = row
        return ScreeningRecord(
            patient=code,
            date=self._d.read_day(screened_on),
            answers=tuple(json.loads(answers).items()),
            summary=summary,
            contraindicated=bool(contraindicated),
            recorded=self._d.read_instant(recorded),
        )

    def enrollment(self, patient: str) -> EnrollmentRecord | None:
        where, params = self._in("clinic_id")
        row = self._d.execute(
            "SELECT patient, enrolled_on, recorded_utc FROM rems_enrollments "
            f"WHERE {where} AND patient = ? ORDER BY id DESC LIMIT 1",
            (*params, patient),
        ).fetchone()
        if row is None:
            return None
        code, enrolled_on, recorded = row
        return EnrollmentRecord(code, self._d.read_day(enrolled_on), self._d.read_instant(recorded))

    def clinic(self) -> ClinicRecord | None:
        if self._scope.id is None and not self._adopt():
            return None
        row = self._d.execute(
            "SELECT c.id, c.name, c.settings, c.updated_utc, c.updated_by, "
            "(SELECT h.source FROM clinic_changes h WHERE h.clinic_id = c.id ORDER BY h.id DESC "
            "LIMIT 1) FROM clinic c WHERE c.id = ?",
            (self._scope.id,),
        ).fetchone()
        return None if row is None else self._clinic_record(row)

    def _adopt(self) -> bool:
        """A book opened before its clinic was stored (by another coordinator, at the same
        time): take that clinic, the one asked for or the only one."""
        known = clinics(self._d)
        found = [c for c in known if c.name == self._scope.wanted] if self._scope.wanted else known
        if len(found) != 1:
            return False
        self._scope.id = found[0].id
        return True

    def clinic_history(self) -> list[ClinicRecord]:
        rows = self._d.execute(
            "SELECT h.clinic_id, c.name, h.settings, h.changed_utc, h.changed_by, h.source "
            "FROM clinic_changes h JOIN clinic c ON c.id = h.clinic_id WHERE c.id = ? "
            "ORDER BY h.id",
            (self._scope.id,),
        )
        return [self._clinic_record(row) for row in rows]

    def _clinic_record(self, row: tuple[Any, ...]) -> ClinicRecord:
        clinic_id, name, settings, updated, updated_by, source = row
        return ClinicRecord(
            id=clinic_id,
            name=name,
            settings=settings,
            updated=self._d.read_instant(updated),
            updated_by=updated_by,
            source=source or "",
        )

    def _course(self, row: tuple[Any, ...]) -> CourseRecord:
        course_id, code, protocol, title, definition, start, zone, created, active = row[:9]
        status, induction, since, asked = row[12:16]
        return CourseRecord(
            id=course_id,
            patient=code,
            protocol=protocol,
            title=title,
            definition=definition,
            start=self._d.read_day(start),
            zone=zone,
            created=self._d.read_instant(created),
            active=bool(active),
            override=_override(*row[9:11]),
            flags=_flags(row[11]),
            status=cast(CourseStatus, status),
            induction=cast(InductionState | None, induction),
            induction_since=None if since is None else self._d.read_day(since),
            asked=asked,
        )

    def _session(self, row: tuple[Any, ...]) -> SessionRecord:
        (sid, course_id, patient, title, uid, sequence, number, phase) = row[:8]
        phase_number, phase_total, location, start, end, zone, chair, status = row[8:16]
        note, route, reason, screening, flags, created, phases, modified = row[16:]
        where = _zone(zone)
        checkin, dose = _phase_split(phases).get(phase, (None, None))
        return SessionRecord(
            id=sid,
            course_id=course_id,
            patient=patient,
            title=title,
            uid=uid,
            sequence=sequence,
            number=number,
            phase=phase,
            phase_number=phase_number,
            phase_total=phase_total,
            location=cast(Location, location),
            start=self._d.read_instant(start).astimezone(where),
            end=self._d.read_instant(end).astimezone(where),
            zone=zone,
            chair=chair,
            status=cast(SessionStatus, status),
            note=note,
            route=_route(route),
            override=_override(reason, screening),
            flags=_flags(flags),
            course_created=self._d.read_instant(created),
            checkin_minutes=checkin,
            dose_minutes=dose,
            modified=None if modified is None else self._d.read_instant(modified),
        )

    def calendar_sessions(
        self,
        first: datetime,
        last: datetime,
        *,
        location: Location | None = None,
        route: Route | None = None,
    ) -> Iterator[SessionRecord]:
        where, params = self._in("s.clinic_id")
        inner, inner_params = self._in("t.clinic_id")
        where += " AND s.start_utc >= ? AND s.start_utc < ?"
        params += [self._d.instant(first), self._d.instant(last)]
        if location is not None:
            where += " AND s.location = ?"
            params.append(location)
        if route is not None:
            where += f" AND {self._route_field} = ?"
            params.append(route)
        # A uid booked again after a cancellation has several rows, and a calendar holds
        # it once: the live row if there is one (at most one: the book's unique index),
        # else the latest cancelled revision. Only cancelled rows need the look-up.
        where += (
            " AND (s.status <> 'cancelled' OR NOT EXISTS (SELECT 1 FROM sessions t"
            f" WHERE {inner} AND t.uid = s.uid"
            " AND (t.status <> 'cancelled' OR t.sequence > s.sequence)))"
        )
        rows = self._d.stream(
            self._select_sessions
            + f"{where} ORDER BY s.start_utc, s.chair, c.patient, s.number, s.id",
            (*params, *inner_params),
        )
        for row in rows:
            yield self._session(row)

    def state(self) -> BookState:
        clinic = self._scope.id
        if clinic is not None and self._d.version() >= CLINIC_COUNTER_VERSION:
            # One one-row read for a feed's 304: the clinic's own counter (none yet only
            # inside the write that stores the clinic).
            own = self._d.execute(
                "SELECT changes, changed_utc FROM clinic WHERE id = ?", (clinic,)
            ).fetchone()
            if own is not None and own[1] is not None:
                calendar_id = self._clinic_calendar_id(clinic)
                return BookState(calendar_id, own[0], self._d.read_instant(own[1]))
        calendar_id, changes, changed = self._d.execute(
            "SELECT clinic_id, changes, changed_utc FROM book_info"
        ).fetchone()
        return BookState(calendar_id, changes, self._d.read_instant(changed))

    def _clinic_calendar_id(self, clinic: str) -> str:
        """The id that scopes the clinic's calendar UIDs: the book's for its first clinic
        (its calendars stay as they are), the book's with the clinic's own after it for
        a clinic added to a network's book later, so that the same patient code booked
        alike in two clinics never shares an event's UID. Neither ever changes."""
        if self._calendar_id is None:
            book, first = self._d.execute(
                "SELECT clinic_id, (SELECT h.clinic_id FROM clinic_changes h ORDER BY h.id "
                "LIMIT 1) FROM book_info"
            ).fetchone()
            self._calendar_id = book if first in (None, clinic) else f"{book}/{clinic}"
        return self._calendar_id

    def feeds(self) -> list[FeedRecord]:
        where, params = self._in("clinic_id")
        rows = self._d.execute(
            f"SELECT {_FEED_COLUMNS} FROM feeds WHERE {where} ORDER BY id", params
        )
        return [self._feed(row) for row in rows]

    def feed_for_token(self, token: str) -> FeedRecord | None:
        where, params = self._in("clinic_id")
        row = self._d.execute(
            f"SELECT {_FEED_COLUMNS} FROM feeds WHERE {where} AND token_sha256 = ?",
            (*params, token_hash(token)),
        ).fetchone()
        return None if row is None else self._feed(row)

    def _feed(self, row: tuple[Any, ...]) -> FeedRecord:
        feed_id, kind, patient, created, expires, revoked = row
        read = self._d.read_instant
        return FeedRecord(
            id=feed_id,
            kind=cast(FeedKind, kind),
            patient=patient,
            created=read(created),
            expires=None if expires is None else read(expires),
            revoked=None if revoked is None else read(revoked),
        )


_FEED_COLUMNS = "id, kind, patient, created_utc, expires_utc, revoked_utc"


def token_hash(token: str) -> str:
    """How a feed token is kept: its SHA-256, so a copy of the book gives no working URL."""
    import hashlib  # only the feed commands and the server need it

    return hashlib.sha256(token.encode()).hexdigest()


_COURSE_COLUMNS = """id, patient, protocol, title, definition, start_date, zone,
    created_utc, active, override_reason, override_screening, flags, status, induction,
    induction_since, asked"""
_RECORD_COLUMNS = """r.id, r.session_id, r.outcome, r.reason, r.systolic, r.diastolic,
    r.heart_rate, r.spo2, r.phq9, r.note, r.recorded_by, r.recorded_utc"""


class SqlBook(_Reads):
    """A clinic's book on either backend (implements `Book`)."""

    def __init__(
        self,
        dialect: Dialect,
        scope: Scope,
        *,
        named: bool,
        created: bool = False,
        notices: tuple[str, ...] = (),
    ) -> None:
        super().__init__(dialect, scope)
        self._created = created
        self._notices = notices
        # Name the clinic in messages when the book holds others.
        self._location = (
            f"{dialect.location} (clinic {scope.wanted})"
            if named and scope.wanted
            else dialect.location
        )

    @property
    def location(self) -> str:
        return self._location

    @property
    def created(self) -> bool:
        """Whether opening it made a new book (the command says so)."""
        return self._created

    @property
    def notices(self) -> tuple[str, ...]:
        """What opening changed that the user should hear of (a mode tightened)."""
        return self._notices

    @property
    def dialect(self) -> Dialect:
        return self._d

    def close(self) -> None:
        self._d.close()

    def snapshot(self) -> AbstractContextManager[None]:
        """Reads in the block see one state of the book, whatever others write meanwhile."""
        return self._d.snapshot()

    @contextmanager
    def writing(self) -> Iterator[SqlWriter]:
        with self._d.transaction(self._scope.id):
            yield SqlWriter(self._d, self._scope)
            # Every write transaction counts, whatever it wrote: feeds serve the counter as
            # their ETag, so a calendar re-reads them exactly when something changed. (Only
            # tests write a book of an older schema, as an older ketaplan did.)
            version = self._d.version()
            if version >= COUNTER_VERSION:
                self._d.execute(
                    f"UPDATE book_info SET changes = changes + 1, changed_utc = {self._d.now_sql()}"
                )
            # The clinic's own: its feeds change when it does, not when another one does.
            clinic = self._scope.id  # set by the write that stored the book's first clinic
            if clinic is not None and version >= CLINIC_COUNTER_VERSION:
                self._d.execute(
                    "UPDATE clinic SET changes = changes + 1, "
                    f"changed_utc = {self._d.now_sql()} WHERE id = ?",
                    (clinic,),
                )


class SqlWriter(_Reads):
    """The writes of one transaction (implements `BookWriter`)."""

    def savepoint(self) -> AbstractContextManager[None]:
        return self._d.savepoint()

    def chairs_held(self, first: datetime, last: datetime) -> list[ChairUse]:
        where, params = self._in("clinic_id")
        rows = self._d.execute(
            f"SELECT start_utc, end_utc, chair, id FROM sessions WHERE {where} "
            "AND start_utc >= ? AND start_utc < ? AND location = 'clinic' "
            "AND status <> 'cancelled'",
            (*params, self._d.instant(first), self._d.instant(last)),
        )
        read = self._d.read_instant
        return [ChairUse(read(start), read(end), chair, key) for start, end, chair, key in rows]

    def add_course(self, course: NewCourse, sessions: Sequence[NewSession]) -> CourseRecord:
        d = self._d
        (course_id,) = d.execute(
            "INSERT INTO courses (clinic_id, patient, protocol, title, definition, start_date, "
            "zone, active, created_utc, override_reason, override_screening, flags, asked) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (
                self._scope.id,
                course.patient,
                course.protocol,
                course.title,
                course.definition,
                d.day(course.start),
                course.zone,
                True,
                d.instant(course.created),
                course.override.reason if course.override else None,
                course.override.screening if course.override else None,
                json.dumps(list(course.flags)) if course.flags else None,
                course.asked,
            ),
        ).fetchall()[0]
        try:
            self.add_sessions(course_id, course.zone, sessions)
        except BookError:
            raise BookError(
                f"{course.patient}: a session of this course (same protocol and start date) "
                "is already booked and not cancelled; choose another start date"
            ) from None
        return CourseRecord(
            id=course_id,
            patient=course.patient,
            protocol=course.protocol,
            title=course.title,
            definition=course.definition,
            start=course.start,
            zone=course.zone,
            created=course.created,
            active=True,
            override=course.override,
            flags=course.flags,
            asked=course.asked,
        )

    def add_sessions(self, course_id: int, zone: str, sessions: Sequence[NewSession]) -> None:
        """Book sessions into a course; BookError when a uid is live already."""
        d = self._d
        revisions = self._revisions([s.uid for s in sessions])
        try:
            # A savepoint: PostgreSQL aborts the whole transaction on a broken constraint.
            with d.savepoint():
                d.executemany(
                    "INSERT INTO sessions (clinic_id, course_id, uid, sequence, number, phase, "
                    "phase_number, phase_total, location, start_utc, end_utc, zone, chair, "
                    "status, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'booked', ?)",
                    [
                        (
                            self._scope.id,
                            course_id,
                            s.uid,
                            revisions.get(s.uid, -1) + 1,
                            s.number,
                            s.phase,
                            s.phase_number,
                            s.phase_total,
                            s.location,
                            d.instant(s.start),
                            d.instant(s.end),
                            zone,
                            s.chair,
                            s.note,
                        )
                        for s in sessions
                    ],
                )
        except d.integrity_error:
            raise BookError("a session uid is already booked and not cancelled") from None

    def cancel_course(self, course_id: int, since: datetime) -> int:
        where, params = self._in("clinic_id")
        cancelled = self._d.execute(
            "UPDATE sessions SET status = 'cancelled', sequence = sequence + 1 "
            f"WHERE {where} AND course_id = ? AND status = 'booked' AND start_utc >= ?",
            (*params, course_id, self._d.instant(since)),
        ).rowcount
        self._d.execute(
            "UPDATE courses SET active = ?, "
            "status = CASE status WHEN 'active' THEN 'cancelled' ELSE status END "
            f"WHERE {where} AND id = ?",
            (False, *params, course_id),
        )
        return cancelled

    def add_screening(self, screening: ScreeningRecord) -> None:
        self._d.execute(
            "INSERT INTO screenings (clinic_id, patient, screened_on, answers, summary, "
            "contraindicated, recorded_utc) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                self._scope.id,
                screening.patient,
                self._d.day(screening.date),
                # A JSON object in catalogue order: readable with any SQL tool.
                json.dumps(dict(screening.answers)),
                screening.summary,
                screening.contraindicated,
                self._d.instant(screening.recorded),
            ),
        )

    def record_enrollment(self, enrollment: EnrollmentRecord) -> None:
        self._d.execute(
            "INSERT INTO rems_enrollments (clinic_id, patient, enrolled_on, recorded_utc) "
            "VALUES (?, ?, ?, ?)",
            (
                self._scope.id,
                enrollment.patient,
                self._d.day(enrollment.enrolled_on),
                self._d.instant(enrollment.recorded),
            ),
        )

    def record_session(self, entry: Attendance) -> None:
        """Store what happened at a session and set its status to it."""
        m = entry.measured
        self._d.execute(
            "INSERT INTO session_records (session_id, outcome, reason, systolic, diastolic, "
            "heart_rate, spo2, phq9, note, recorded_by, recorded_utc) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                entry.session_id,
                entry.outcome,
                entry.reason,
                m.systolic,
                m.diastolic,
                m.heart_rate,
                m.spo2,
                m.phq9,
                entry.note,
                entry.by,
                self._d.instant(entry.recorded),
            ),
        )
        where, params = self._in("clinic_id")
        self._d.execute(
            f"UPDATE sessions SET status = ? WHERE {where} AND id = ?",
            (entry.outcome, *params, entry.session_id),
        )

    def change_session(self, change: SessionChange) -> None:
        """Re-place a booked session: same uid, raised sequence."""
        where, params = self._in("clinic_id")
        self._d.execute(
            "UPDATE sessions SET phase = ?, phase_number = ?, phase_total = ?, start_utc = ?, "
            f"end_utc = ?, chair = ?, note = ?, sequence = sequence + 1 WHERE {where} AND id = ?",
            (
                change.phase,
                change.phase_number,
                change.phase_total,
                self._d.instant(change.start),
                self._d.instant(change.end),
                change.chair,
                change.note,
                *params,
                change.session_id,
            ),
        )

    def cancel_sessions(self, session_ids: Sequence[int]) -> None:
        """Cancel booked sessions (kept, never deleted), raising their sequence."""
        where, params = self._in("clinic_id")
        self._d.executemany(
            "UPDATE sessions SET status = 'cancelled', sequence = sequence + 1 "
            f"WHERE {where} AND id = ? AND status = 'booked'",
            [(*params, i) for i in session_ids],
        )

    def set_course_state(
        self,
        course_id: int,
        status: CourseStatus,
        induction: InductionState | None,
        induction_since: date | None,
    ) -> None:
        where, params = self._in("clinic_id")
        self._d.execute(
            "UPDATE courses SET status = ?, induction = ?, induction_since = ? "
            f"WHERE {where} AND id = ?",
            (
                status,
                induction,
                None if induction_since is None else self._d.day(induction_since),
                *params,
                course_id,
            ),
        )

    def add_history(self, entry: HistoryEntry) -> None:
        self._d.execute(
            "INSERT INTO history (course_id, patient, when_utc, who, what, why, before_json, "
            "after_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                entry.course_id,
                entry.patient,
                self._d.instant(entry.when),
                entry.who,
                entry.what,
                entry.why,
                entry.before,
                entry.after,
            ),
        )

    def file_form(self, form: FormFiled) -> None:
        self._d.execute(
            "INSERT INTO rems_forms (session_id, filed_on, recorded_by, recorded_utc) "
            "VALUES (?, ?, ?, ?)",
            (
                form.session_id,
                self._d.day(form.filed_on),
                form.by,
                self._d.instant(form.recorded),
            ),
        )

    def save_clinic(self, clinic: ClinicRecord) -> None:
        """Store the clinic's settings. The book's first clinic takes the rows stored
        before it (a book made before books carried their clinic); a new clinic of a
        network must carry the name it was asked for."""
        d = self._d
        scope = self._scope
        if scope.id is not None and clinic.id != scope.id:
            raise BookError(f"the book {d.location} keeps another clinic here; nothing stored")
        if scope.id is None:
            if scope.wanted is not None and clinic.name != scope.wanted:
                raise BookError(
                    f"the config names its clinic {clinic.name!r}, not {scope.wanted!r}; "
                    "nothing was stored: use a config whose [clinic] name is the clinic's"
                )
            known = clinics(d)
            if known and d.one_clinic:
                raise BookError(
                    f"the book {d.location} keeps the clinic {known[0].name}; a book file keeps "
                    "one clinic, and a network of clinics shares a PostgreSQL book "
                    "(`ketaplan admin copy` moves a file into one); nothing was stored"
                )
            if any(c.name == clinic.name for c in known):
                raise BookError(
                    f"the book {d.location} already has a clinic {clinic.name!r}; name it "
                    "with --clinic"
                )
        d.execute(
            "INSERT INTO clinic (id, name, settings, updated_utc, updated_by) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET name = excluded.name, "
            "settings = excluded.settings, updated_utc = excluded.updated_utc, "
            "updated_by = excluded.updated_by",
            (clinic.id, clinic.name, clinic.settings, d.instant(clinic.updated), clinic.updated_by),
        )
        d.execute(
            "INSERT INTO clinic_changes (clinic_id, settings, source, changed_utc, changed_by) "
            "VALUES (?, ?, ?, ?, ?)",
            (
                clinic.id,
                clinic.settings,
                clinic.source,
                d.instant(clinic.updated),
                clinic.updated_by,
            ),
        )
        if scope.id is None:
            for table in CLINIC_ROWS:
                d.execute(f"UPDATE {table} SET clinic_id = ? WHERE clinic_id IS NULL", (clinic.id,))
            scope.id = clinic.id

    def add_feed(
        self,
        token: str,
        kind: FeedKind,
        patient: str | None,
        created: datetime,
        expires: datetime | None,
    ) -> FeedRecord:
        d = self._d
        (feed_id,) = d.execute(
            "INSERT INTO feeds (clinic_id, token_sha256, kind, patient, created_utc, "
            "expires_utc) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
            (
                self._scope.id,
                token_hash(token),
                kind,
                patient,
                d.instant(created),
                None if expires is None else d.instant(expires),
            ),
        ).fetchall()[0]
        row = d.execute(f"SELECT {_FEED_COLUMNS} FROM feeds WHERE id = ?", (feed_id,)).fetchone()
        return self._feed(row)

    def revoke_feed(self, feed_id: int, when: datetime) -> FeedRecord | None:
        where, params = self._in("clinic_id")
        self._d.execute(
            f"UPDATE feeds SET revoked_utc = ? WHERE {where} AND id = ? AND revoked_utc IS NULL",
            (self._d.instant(when), *params, feed_id),
        )
        row = self._d.execute(
            f"SELECT {_FEED_COLUMNS} FROM feeds WHERE {where} AND id = ?", (*params, feed_id)
        ).fetchone()
        return None if row is None else self._feed(row)

    def _revisions(self, uids: list[str]) -> dict[str, int]:
        """The highest calendar revision of each uid already in the clinic's rows."""
        where, params = self._in("clinic_id")
        found: dict[str, int] = {}
        for i in range(0, len(uids), 500):
            chunk = uids[i : i + 500]
            marks = ", ".join("?" * len(chunk))
            rows = self._d.execute(
                f"SELECT uid, MAX(sequence) FROM sessions WHERE {where} AND uid IN ({marks}) "
                "GROUP BY uid",
                (*params, *chunk),
            )
            found.update({uid: int(seq) for uid, seq in rows})
        return found


def _override(reason: str | None, screening: str | None) -> ScreeningOverride | None:
    return None if reason is None else ScreeningOverride(reason, screening or "")


def _flags(text: str | None) -> tuple[str, ...]:
    return tuple(json.loads(text)) if text else ()


@lru_cache(maxsize=256)
def _phase_split(phases: str | None) -> dict[str, tuple[int | None, int | None]]:
    """Each phase's check-in and administration minutes, from a stored protocol's
    phases (a course's sessions share one text: parsed once)."""
    if not phases:
        return {}
    return {
        p["name"]: (p.get("checkin_minutes"), p.get("dose_minutes")) for p in json.loads(phases)
    }


def _route(value: object) -> Route | None:
    return value if value in ROUTES else None


# Copying a whole book (`ketaplan admin copy`).


def counts(d: Dialect) -> dict[str, int]:
    """Rows per table, in copy order."""
    return {t.name: d.execute(f"SELECT count(*) FROM {t.name}").fetchone()[0] for t in TABLES}


def check_copyable(source: Dialect) -> None:
    unknown = sorted(source.tables() - BOOKKEEPING - {t.name for t in TABLES})
    if unknown:
        raise BookError(
            f"the book {source.location} holds a table this ketaplan cannot copy "
            f"({', '.join(unknown)}); nothing was copied: upgrade ketaplan"
        )


def is_empty(d: Dialect) -> bool:
    """Nothing stored at all, as a new book has it (but its own book_info row)."""
    return not any(n for name, n in counts(d).items() if name != "book_info")


def copy_book(source: Dialect, target: Dialect) -> dict[str, int]:
    """Copy every row of `source`, as it is at one moment, into the empty `target` in one
    transaction of the target; the counts are compared before it commits. Returns them."""
    check_copyable(source)
    with source.snapshot(), target.transaction(None):
        expected = counts(source)
        if not is_empty(target):
            raise BookError(
                f"the book {target.location} is not empty; nothing was copied: copy into a new book"
            )
        # The source's book id comes along: its calendars' UIDs stay the same.
        target.execute("DELETE FROM book_info")
        for table in TABLES:
            names = [name for name, _ in table.columns]
            rows = source.execute(f"SELECT {', '.join(names)} FROM {table.name} ORDER BY id")
            marks = ", ".join("?" * len(names))
            target.executemany(
                f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({marks})",
                (_convert(row, table, source, target) for row in rows.fetchall()),
            )
        target.after_copy()
        copied = counts(target)
        if copied != expected:
            raise BookError(
                f"the copy's counts differ ({copied} against {expected}); nothing was copied"
            )
    return copied


def _convert(row: Sequence[Any], table: Table, source: Dialect, target: Dialect) -> list[Any]:
    values: list[Any] = []
    for value, (_, kind) in zip(row, table.columns, strict=True):
        if value is None or kind in ("int", "text"):
            values.append(value)
        elif kind == "bool":
            values.append(bool(value))
        elif kind == "day":
            values.append(target.day(source.read_day(value)))
        else:
            values.append(target.instant(source.read_instant(value)))
    return values
