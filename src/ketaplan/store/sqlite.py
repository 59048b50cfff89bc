"""The clinic book in one local SQLite file: no server to start.

Safe with several coordinators at once: WAL mode (readers never wait for the writer), a
busy timeout (a second writer waits instead of failing), and every booking in one
`BEGIN IMMEDIATE` transaction, so the capacity it reads cannot change before it writes.

A ketaplan book is marked with `PRAGMA application_id`; `PRAGMA user_version` is the
number of migrations applied, each also recorded in `schema_migrations`. A file that is
not a ketaplan book, or was written by a newer ketaplan, is refused before anything is
written to it. A book restored from `sqlite3 .dump` (which keeps neither mark) is
recognised by its tables and `schema_migrations`, and marked again.

The file itself is checked before SQLite opens it: a FIFO, a device, a pasted Windows
network path, a book on a network file system (where WAL's shared memory does not work)
and a book or folder the user cannot write are each refused with one line. A new book is
made 0600 (only its owner reads the health data in it), or 0660 and owned by the clinic's
group when the config names one (`[book] group`); its -wal and -shm files are kept in the
book's group and mode whoever creates them, so every member of the group can book. A
damaged book is reported as damaged, and nothing is written to it.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sqlite3
import stat
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo

from ketaplan.errors import BookError
from ketaplan.model.patient import spelling
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
from ketaplan.parsing import is_windows_path
from ketaplan.store import BookCheck

# "KTPL": marks the file as a ketaplan book.
APPLICATION_ID = 0x4B54504C
BUSY_SECONDS = 30.0
_SQLITE_MAGIC = b"SQLite format 3\x00"
PRIVATE_MODE = 0o600
GROUP_MODE = 0o660
PRIVATE_FOLDER = 0o700
# setgid: files made in the folder (the -wal and -shm) belong to the folder's group.
GROUP_FOLDER = 0o2770
SIDE_FILES = ("-wal", "-shm")
MOUNTINFO = Path("/proc/self/mountinfo")
# File systems on which SQLite's WAL mode (shared memory between processes) is unsafe.
NETWORK_FILE_SYSTEMS = frozenset({"nfs", "nfs4", "cifs", "smb3", "smbfs", "afs", "ncpfs"})
BACKUP_HINT = "`ketaplan admin backup FILE` makes a copy while others book"

_NOW_SQL = "strftime('%Y-%m-%dT%H:%M:%SZ', 'now')"

# Numbered migrations, applied in order and never edited once released: a schema change
# is one more entry at the end.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    # 1: courses and their sessions, one row per session.
    (
        """CREATE TABLE courses (
            id INTEGER PRIMARY KEY,
            patient TEXT NOT NULL,
            protocol TEXT NOT NULL,
            title TEXT NOT NULL,
            definition TEXT NOT NULL,
            start_date TEXT NOT NULL,
            zone TEXT NOT NULL,
            active INTEGER NOT NULL CHECK (active IN (0, 1)),
            created_utc TEXT NOT NULL
        )""",
        # At most one active course per patient, whatever the code above does.
        "CREATE UNIQUE INDEX courses_active_patient ON courses (patient) WHERE active = 1",
        "CREATE INDEX courses_patient ON courses (patient)",
        """CREATE TABLE sessions (
            id INTEGER PRIMARY KEY,
            course_id INTEGER NOT NULL REFERENCES courses (id),
            uid TEXT NOT NULL,
            sequence INTEGER NOT NULL DEFAULT 0,
            number INTEGER NOT NULL,
            phase TEXT NOT NULL,
            phase_number INTEGER NOT NULL,
            phase_total INTEGER NOT NULL,
            location TEXT NOT NULL CHECK (location IN ('clinic', 'home')),
            start_utc TEXT NOT NULL,
            end_utc TEXT NOT NULL,
            zone TEXT NOT NULL,
            chair INTEGER CHECK ((location = 'clinic') = (chair IS NOT NULL)),
            status TEXT NOT NULL
                CHECK (status IN ('booked', 'attended', 'missed', 'cancelled')),
            note TEXT,
            CHECK (end_utc > start_utc)
        )""",
        "CREATE INDEX sessions_start ON sessions (start_utc)",
        "CREATE INDEX sessions_course ON sessions (course_id, number)",
        "CREATE INDEX sessions_uid ON sessions (uid)",
        # A calendar uid names one live session; cancelled rows keep theirs for history.
        "CREATE UNIQUE INDEX sessions_live_uid ON sessions (uid) WHERE status <> 'cancelled'",
    ),
    # 2: intake screenings, esketamine REMS enrollments, and a course's screening override.
    (
        """CREATE TABLE screenings (
            id INTEGER PRIMARY KEY,
            patient TEXT NOT NULL,
            screened_on TEXT NOT NULL,
            answers TEXT NOT NULL,
            summary TEXT NOT NULL,
            contraindicated INTEGER NOT NULL CHECK (contraindicated IN (0, 1)),
            recorded_utc TEXT NOT NULL
        )""",
        "CREATE INDEX screenings_patient ON screenings (patient, screened_on, id)",
        """CREATE TABLE rems_enrollments (
            id INTEGER PRIMARY KEY,
            patient TEXT NOT NULL,
            enrolled_on TEXT NOT NULL,
            recorded_utc TEXT NOT NULL
        )""",
        "CREATE INDEX rems_enrollments_patient ON rems_enrollments (patient, id)",
        # Both NULL, or both set: a reason and what the screening check found.
        "ALTER TABLE courses ADD COLUMN override_reason TEXT",
        "ALTER TABLE courses ADD COLUMN override_screening TEXT",
    ),
    # 3: a course's booking flags (criteria not met, warnings for the clinician, REMS
    # enrollment missing), a JSON array of lines; NULL for none. Screenings need no
    # change: a stored one keeps its answers, and newer questions read as not asked.
    ("ALTER TABLE courses ADD COLUMN flags TEXT",),
    # 4: patient codes in their one spelling (NFC, upper case: ketaplan.model.patient),
    # so that a screening or course stored as p-001 counts for P-001. Two active courses
    # whose codes become one are left as they were: the unique index would refuse it,
    # and which course stays active is the coordinator's decision.
    (
        "UPDATE screenings SET patient = ketaplan_spelling(patient) "
        "WHERE patient <> ketaplan_spelling(patient)",
        "UPDATE rems_enrollments SET patient = ketaplan_spelling(patient) "
        "WHERE patient <> ketaplan_spelling(patient)",
        """UPDATE courses SET patient = ketaplan_spelling(patient)
        WHERE patient <> ketaplan_spelling(patient) AND NOT (active = 1 AND EXISTS (
            SELECT 1 FROM courses other WHERE other.active = 1 AND other.id <> courses.id
            AND ketaplan_spelling(other.patient) = ketaplan_spelling(courses.patient)))""",
    ),
    # 5: a course's life. Sessions gain the status not-dosed (SQLite cannot change a
    # CHECK in place: the table is rebuilt, every row copied); what happened at each
    # session (a later record supersedes, both kept), the history of every change, the
    # course's status and induction state, and the REMS forms filed.
    (
        """CREATE TABLE sessions_rebuilt (
            id INTEGER PRIMARY KEY,
            course_id INTEGER NOT NULL REFERENCES courses (id),
            uid TEXT NOT NULL,
            sequence INTEGER NOT NULL DEFAULT 0,
            number INTEGER NOT NULL,
            phase TEXT NOT NULL,
            phase_number INTEGER NOT NULL,
            phase_total INTEGER NOT NULL,
            location TEXT NOT NULL CHECK (location IN ('clinic', 'home')),
            start_utc TEXT NOT NULL,
            end_utc TEXT NOT NULL,
            zone TEXT NOT NULL,
            chair INTEGER CHECK ((location = 'clinic') = (chair IS NOT NULL)),
            status TEXT NOT NULL CHECK (
                status IN ('booked', 'attended', 'missed', 'not-dosed', 'cancelled')
            ),
            note TEXT,
            CHECK (end_utc > start_utc)
        )""",
        "INSERT INTO sessions_rebuilt SELECT id, course_id, uid, sequence, number, phase, "
        "phase_number, phase_total, location, start_utc, end_utc, zone, chair, status, note "
        "FROM sessions",
        "DROP TABLE sessions",
        "ALTER TABLE sessions_rebuilt RENAME TO sessions",
        "CREATE INDEX sessions_start ON sessions (start_utc)",
        "CREATE INDEX sessions_course ON sessions (course_id, number)",
        "CREATE INDEX sessions_uid ON sessions (uid)",
        "CREATE UNIQUE INDEX sessions_live_uid ON sessions (uid) WHERE status <> 'cancelled'",
        "ALTER TABLE courses ADD COLUMN status TEXT NOT NULL DEFAULT 'active' "
        "CHECK (status IN ('active', 'completed', 'cancelled'))",
        "UPDATE courses SET status = 'cancelled' WHERE active = 0",
        "ALTER TABLE courses ADD COLUMN induction TEXT "
        "CHECK (induction IN ('interrupted', 'continued', 'restarted'))",
        "ALTER TABLE courses ADD COLUMN induction_since TEXT",
        """CREATE TABLE session_records (
            id INTEGER PRIMARY KEY,
            session_id INTEGER NOT NULL REFERENCES sessions (id),
            outcome TEXT NOT NULL CHECK (outcome IN ('attended', 'missed', 'not-dosed')),
            reason TEXT,
            systolic INTEGER,
            diastolic INTEGER,
            heart_rate INTEGER,
            spo2 INTEGER,
            phq9 INTEGER CHECK (phq9 BETWEEN 0 AND 27),
            note TEXT,
            recorded_by TEXT NOT NULL,
            recorded_utc TEXT NOT NULL
        )""",
        "CREATE INDEX session_records_session ON session_records (session_id, id)",
        """CREATE TABLE history (
            id INTEGER PRIMARY KEY,
            course_id INTEGER NOT NULL REFERENCES courses (id),
            patient TEXT NOT NULL,
            when_utc TEXT NOT NULL,
            who TEXT NOT NULL,
            what TEXT NOT NULL,
            why TEXT,
            before_json TEXT,
            after_json TEXT
        )""",
        "CREATE INDEX history_patient ON history (patient, id)",
        """CREATE TABLE rems_forms (
            id INTEGER PRIMARY KEY,
            session_id INTEGER NOT NULL REFERENCES sessions (id),
            filed_on TEXT NOT NULL,
            recorded_by TEXT NOT NULL,
            recorded_utc TEXT NOT NULL
        )""",
        "CREATE INDEX rems_forms_session ON rems_forms (session_id, id)",
    ),
    # 6: the clinic the book is kept for (its settings as JSON of the config file's keys),
    # and every change of them with its time and author. One row today; the id lets
    # several clinics share one database later.
    (
        """CREATE TABLE clinic (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            settings TEXT NOT NULL CHECK (json_valid(settings)),
            updated_utc TEXT NOT NULL,
            updated_by TEXT NOT NULL
        )""",
        """CREATE TABLE clinic_changes (
            id INTEGER PRIMARY KEY,
            clinic_id TEXT NOT NULL REFERENCES clinic (id),
            settings TEXT NOT NULL CHECK (json_valid(settings)),
            source TEXT NOT NULL,
            changed_utc TEXT NOT NULL,
            changed_by TEXT NOT NULL
        )""",
        "CREATE INDEX clinic_changes_clinic ON clinic_changes (clinic_id, id)",
    ),
    # 7: calendars that stay true. The clinic id scopes every calendar UID (random, made
    # once per book: two clinics never share a UID); the change counter, bumped by every
    # write transaction, is the feeds' ETag; each session's last change is LAST-MODIFIED;
    # feed tokens are kept as SHA-256 hashes only.
    (
        """CREATE TABLE book_info (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            clinic_id TEXT NOT NULL,
            changes INTEGER NOT NULL,
            changed_utc TEXT NOT NULL
        )""",
        "INSERT INTO book_info (id, clinic_id, changes, changed_utc) "
        f"VALUES (1, lower(hex(randomblob(16))), 0, {_NOW_SQL})",
        "ALTER TABLE sessions ADD COLUMN modified_utc TEXT",
        # A calendar reads each uid's latest revision: one index seek per session.
        "CREATE INDEX sessions_uid_sequence ON sessions (uid, sequence)",
        "UPDATE sessions SET modified_utc = "
        "(SELECT created_utc FROM courses WHERE courses.id = sessions.course_id)",
        # A session booked is modified when booked; whatever code changes its time or
        # chair, or cancels it, its calendar revision rises (RFC 5545 3.8.7.4); any change
        # of those or of its status sets its modified time when the code gave none.
        f"""CREATE TRIGGER sessions_booked AFTER INSERT ON sessions
            WHEN NEW.modified_utc IS NULL
            BEGIN
                UPDATE sessions SET modified_utc = {_NOW_SQL} WHERE id = NEW.id;
            END""",
        f"""CREATE TRIGGER sessions_revision AFTER UPDATE OF start_utc, end_utc, chair, status
            ON sessions
            WHEN NEW.start_utc IS NOT OLD.start_utc OR NEW.end_utc IS NOT OLD.end_utc
                OR NEW.chair IS NOT OLD.chair OR NEW.status IS NOT OLD.status
            BEGIN
                UPDATE sessions SET
                    sequence = CASE WHEN NEW.sequence = OLD.sequence AND (
                        NEW.start_utc IS NOT OLD.start_utc OR NEW.end_utc IS NOT OLD.end_utc
                        OR NEW.chair IS NOT OLD.chair
                        OR (NEW.status IS NOT OLD.status
                            AND 'cancelled' IN (NEW.status, OLD.status)))
                        THEN OLD.sequence + 1 ELSE NEW.sequence END,
                    modified_utc = CASE WHEN NEW.modified_utc IS OLD.modified_utc
                        THEN {_NOW_SQL} ELSE NEW.modified_utc END
                WHERE id = NEW.id;
            END""",
        """CREATE TABLE feeds (
            id INTEGER PRIMARY KEY,
            token_sha256 TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL CHECK (kind IN ('staff', 'patient')),
            patient TEXT CHECK ((kind = 'patient') = (patient IS NOT NULL)),
            created_utc TEXT NOT NULL,
            expires_utc TEXT,
            revoked_utc TEXT
        )""",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)
# The migration that made book_info, with the change counter.
_COUNTER_VERSION = 7

# The route is read from the course's stored protocol, the one place it is kept.
_SESSION_COLUMNS = """s.id, s.course_id, c.patient, c.title, s.uid, s.sequence, s.number,
    s.phase, s.phase_number, s.phase_total, s.location, s.start_utc, s.end_utc, s.zone,
    s.chair, s.status, s.note, json_extract(c.definition, '$.route'), c.override_reason,
    c.override_screening, c.flags, c.created_utc, json_extract(c.definition, '$.phases'),
    s.modified_utc"""
_SELECT_SESSIONS = (
    f"SELECT {_SESSION_COLUMNS} FROM sessions s JOIN courses c ON c.id = s.course_id "
)
_COURSE_COLUMNS = """id, patient, protocol, title, definition, start_date, zone,
    created_utc, active, override_reason, override_screening, flags, status, induction,
    induction_since"""
_RECORD_COLUMNS = """r.id, r.session_id, r.outcome, r.reason, r.systolic, r.diastolic,
    r.heart_rate, r.spo2, r.phq9, r.note, r.recorded_by, r.recorded_utc"""
_FEED_COLUMNS = "id, kind, patient, created_utc, expires_utc, revoked_utc"
_SCREENING_COLUMNS = "patient, screened_on, answers, summary, contraindicated, recorded_utc"


def utc_text(moment: datetime) -> str:
    """Stored form of an instant: UTC, whole seconds, sortable as text."""
    if moment.tzinfo is None:
        raise ValueError("the book stores aware datetimes only")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _local(text: str, zone: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(_zone(zone))


# Connections this process has open, by the book's real path (see SqliteBook.open).
_OPEN: Counter[str] = Counter()
_OPENING = threading.Lock()


class SqliteBook:
    """A clinic book in an SQLite file (see the module docstring)."""

    def __init__(
        self,
        connection: sqlite3.Connection,
        path: Path,
        *,
        created: bool,
        notices: tuple[str, ...] = (),
    ) -> None:
        self._db = connection
        self._path = path
        self._created = created
        self._notices = notices
        self._key = ""

    @classmethod
    def open(cls, path: Path, *, create: bool = True, group: str | None = None) -> SqliteBook:
        key = os.path.realpath(path)
        with _OPENING:
            book = cls._open(path, create=create, group=group, check=not _OPEN[key])
            _OPEN[key] += 1
        book._key = key
        return book

    @classmethod
    def _open(cls, path: Path, *, create: bool, group: str | None, check: bool) -> SqliteBook:
        gid = _group_id(group)
        # The first bytes are read only while this process has no connection to the file:
        # closing any descriptor of a file drops every POSIX lock the process holds on it,
        # SQLite's included (a long-lived reader, such as the feed server's, would lose its
        # snapshot and see a malformed file).
        if check:
            _check_file(path, create=create)
        created = _create_file(path, gid) if create else False
        notices = () if created else tuple(filter(None, [_settle_mode(path, group, gid)]))
        try:
            db = sqlite3.connect(path, timeout=BUSY_SECONDS, isolation_level=None)
        except sqlite3.Error as exc:
            _undo_create(path, created)
            raise BookError(f"cannot open the book {path}: {exc}") from None
        try:
            _prepare(db, path, verify=create)
            _match_side_files(path)
        except sqlite3.DatabaseError as exc:
            db.close()
            _undo_create(path, created)
            raise BookError(_open_error(path, exc)) from None
        except BaseException:
            db.close()
            _undo_create(path, created)
            raise
        return cls(db, path, created=created, notices=notices)

    @property
    def location(self) -> str:
        return str(self._path)

    @property
    def created(self) -> bool:
        """Whether this open made a new book."""
        return self._created

    @property
    def notices(self) -> tuple[str, ...]:
        """What opening changed that the user should hear of (a mode tightened)."""
        return self._notices

    def close(self) -> None:
        with _OPENING:
            self._db.close()
            if self._key and _OPEN[self._key]:
                _OPEN[self._key] -= 1
            self._key = ""

    def active_course(self, patient: str) -> CourseRecord | None:
        with _damage(self._path):
            return _active_course(self._db, patient)

    def course_sessions(self, course_id: int) -> list[SessionRecord]:
        with _damage(self._path):
            rows = self._db.execute(
                _SELECT_SESSIONS + "WHERE s.course_id = ? ORDER BY s.number, s.id",
                (course_id,),
            ).fetchall()
        return [_session(row) for row in rows]

    def session_records(self, course_id: int) -> list[Attendance]:
        with _damage(self._path):
            return _session_records(self._db, course_id)

    def patient_sessions(self, patient: str) -> list[SessionRecord]:
        with _damage(self._path):
            rows = self._db.execute(
                _SELECT_SESSIONS + "WHERE c.patient = ? ORDER BY s.start_utc, s.id", (patient,)
            ).fetchall()
        return [_session(row) for row in rows]

    def history(self, patient: str) -> list[HistoryEntry]:
        with _damage(self._path):
            rows = self._db.execute(
                "SELECT course_id, patient, when_utc, who, what, why, before_json, after_json "
                "FROM history WHERE patient = ? ORDER BY id",
                (patient,),
            ).fetchall()
        return [
            HistoryEntry(c, p, datetime.fromisoformat(w), who, what, why, b, a)
            for c, p, w, who, what, why, b, a in rows
        ]

    def forms_filed(self, session_ids: Sequence[int]) -> dict[int, FormFiled]:
        with _damage(self._path):
            return _forms_filed(self._db, session_ids)

    def attended_sessions(
        self, first: datetime, last: datetime, *, route: Route
    ) -> list[SessionRecord]:
        """Attended clinic sessions of a route starting in [first, last), by start."""
        with _damage(self._path):
            rows = self._db.execute(
                _SELECT_SESSIONS + "WHERE s.start_utc >= ? AND s.start_utc < ? "
                "AND s.status = 'attended' AND s.location = 'clinic' "
                "AND json_extract(c.definition, '$.route') = ? "
                "ORDER BY s.start_utc, s.chair, c.patient, s.number, s.id",
                (utc_text(first), utc_text(last), route),
            ).fetchall()
        return [_session(row) for row in rows]

    def sessions_between(
        self, first: datetime, last: datetime, *, location: Location | None = None
    ) -> list[SessionRecord]:
        where = "s.start_utc >= ? AND s.start_utc < ?"
        params: list[Any] = [utc_text(first), utc_text(last)]
        if location is not None:
            where += " AND s.location = ?"
            params.append(location)
        with _damage(self._path):
            rows = self._db.execute(
                _SELECT_SESSIONS
                + f"WHERE {where} ORDER BY s.start_utc, s.chair, c.patient, s.number, s.id",
                params,
            ).fetchall()
        return [_session(row) for row in rows]

    def latest_screening(self, patient: str) -> ScreeningRecord | None:
        with _damage(self._path):
            return _latest_screening(self._db, patient)

    def enrollment(self, patient: str) -> EnrollmentRecord | None:
        with _damage(self._path):
            return _enrollment(self._db, patient)

    def clinic(self) -> ClinicRecord | None:
        return _clinic(self._db)

    def clinic_history(self) -> list[ClinicRecord]:
        rows = self._db.execute(
            "SELECT h.clinic_id, c.name, h.settings, h.changed_utc, h.changed_by, h.source "
            "FROM clinic_changes h JOIN clinic c ON c.id = h.clinic_id ORDER BY h.id"
        )
        return [_clinic_record(row) for row in rows]

    def calendar_sessions(
        self,
        first: datetime,
        last: datetime,
        *,
        location: Location | None = None,
        route: Route | None = None,
    ) -> Iterator[SessionRecord]:
        where = "s.start_utc >= ? AND s.start_utc < ?"
        params: list[Any] = [utc_text(first), utc_text(last)]
        if location is not None:
            where += " AND s.location = ?"
            params.append(location)
        if route is not None:
            where += " AND json_extract(c.definition, '$.route') = ?"
            params.append(route)
        # A uid booked again after a cancellation has several rows, and a calendar holds
        # it once: the live row if there is one (at most one: the book's unique index),
        # else the latest cancelled revision. Only cancelled rows need the look-up.
        where += (
            " AND (s.status <> 'cancelled' OR NOT EXISTS (SELECT 1 FROM sessions t"
            " WHERE t.uid = s.uid AND (t.status <> 'cancelled' OR t.sequence > s.sequence)))"
        )
        cursor = self._db.execute(
            _SELECT_SESSIONS
            + f"WHERE {where} ORDER BY s.start_utc, s.chair, c.patient, s.number, s.id",
            params,
        )
        # Row by row from the cursor: a year of a large clinic never sits in memory at once.
        for row in cursor:
            yield _session(row)

    def state(self) -> BookState:
        clinic_id, changes, changed = _one(
            self._db.execute("SELECT clinic_id, changes, changed_utc FROM book_info")
        )
        return BookState(clinic_id, changes, datetime.fromisoformat(changed))

    def feeds(self) -> list[FeedRecord]:
        rows = self._db.execute(f"SELECT {_FEED_COLUMNS} FROM feeds ORDER BY id")
        return [_feed(row) for row in rows]

    def feed_for_token(self, token: str) -> FeedRecord | None:
        row = _one(
            self._db.execute(
                f"SELECT {_FEED_COLUMNS} FROM feeds WHERE token_sha256 = ?", (token_hash(token),)
            )
        )
        return None if row is None else _feed(row)

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        # A deferred transaction that only reads: in WAL mode it sees one state of the
        # book throughout and never blocks a writer.
        self._db.execute("BEGIN")
        try:
            yield
        finally:
            if self._db.in_transaction:
                self._db.execute("COMMIT")

    @contextmanager
    def writing(self) -> Iterator[SqliteWriter]:
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise BookError(_busy_message(self._path, exc)) from None
        except sqlite3.DatabaseError as exc:
            raise BookError(_open_error(self._path, exc)) from None
        try:
            yield SqliteWriter(self._db)
            # Every write transaction counts, whatever it wrote: feeds serve the counter as
            # their ETag, so a calendar re-reads them exactly when something changed. (Only
            # tests write a book of an older schema, as an older ketaplan did.)
            if SCHEMA_VERSION >= _COUNTER_VERSION:
                self._db.execute(
                    f"UPDATE book_info SET changes = changes + 1, changed_utc = {_NOW_SQL}"
                )
            self._db.execute("COMMIT")
        except sqlite3.IntegrityError as exc:
            self._db.execute("ROLLBACK")
            raise BookError(f"the book refused the change, nothing was booked: {exc}") from None
        except sqlite3.OperationalError as exc:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise BookError(_busy_message(self._path, exc)) from None
        except sqlite3.DatabaseError as exc:
            with contextlib.suppress(sqlite3.Error):
                self._db.execute("ROLLBACK")
            raise BookError(_open_error(self._path, exc)) from None
        except BaseException:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise


class SqliteWriter:
    """The writes of one `BEGIN IMMEDIATE` transaction."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._db = connection

    def active_course(self, patient: str) -> CourseRecord | None:
        return _active_course(self._db, patient)

    def chairs_held(self, first: datetime, last: datetime) -> list[ChairUse]:
        rows = self._db.execute(
            "SELECT start_utc, end_utc, chair FROM sessions "
            "WHERE start_utc >= ? AND start_utc < ? AND location = 'clinic' "
            "AND status <> 'cancelled'",
            (utc_text(first), utc_text(last)),
        )
        parse = datetime.fromisoformat
        return [ChairUse(parse(start), parse(end), chair) for start, end, chair in rows]

    def add_course(self, course: NewCourse, sessions: Sequence[NewSession]) -> CourseRecord:
        cursor = self._db.execute(
            "INSERT INTO courses (patient, protocol, title, definition, start_date, zone, "
            "active, created_utc, override_reason, override_screening, flags) "
            "VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?)",
            (
                course.patient,
                course.protocol,
                course.title,
                course.definition,
                course.start.isoformat(),
                course.zone,
                utc_text(course.created),
                course.override.reason if course.override else None,
                course.override.screening if course.override else None,
                json.dumps(list(course.flags)) if course.flags else None,
            ),
        )
        course_id = cast(int, cursor.lastrowid)
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
        )

    def cancel_course(self, course_id: int, since: datetime) -> int:
        cursor = self._db.execute(
            "UPDATE sessions SET status = 'cancelled', sequence = sequence + 1 "
            "WHERE course_id = ? AND status = 'booked' AND start_utc >= ?",
            (course_id, utc_text(since)),
        )
        self._db.execute(
            "UPDATE courses SET active = 0, "
            "status = CASE status WHEN 'active' THEN 'cancelled' ELSE status END WHERE id = ?",
            (course_id,),
        )
        return cursor.rowcount

    def latest_screening(self, patient: str) -> ScreeningRecord | None:
        return _latest_screening(self._db, patient)

    def add_screening(self, screening: ScreeningRecord) -> None:
        self._db.execute(
            f"INSERT INTO screenings ({_SCREENING_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
            (
                screening.patient,
                screening.date.isoformat(),
                # A JSON object in catalogue order: readable with any SQLite tool.
                json.dumps(dict(screening.answers)),
                screening.summary,
                int(screening.contraindicated),
                utc_text(screening.recorded),
            ),
        )

    def enrollment(self, patient: str) -> EnrollmentRecord | None:
        return _enrollment(self._db, patient)

    def record_enrollment(self, enrollment: EnrollmentRecord) -> None:
        self._db.execute(
            "INSERT INTO rems_enrollments (patient, enrolled_on, recorded_utc) VALUES (?, ?, ?)",
            (enrollment.patient, enrollment.enrolled_on.isoformat(), utc_text(enrollment.recorded)),
        )

    def add_sessions(self, course_id: int, zone: str, sessions: Sequence[NewSession]) -> None:
        """Book sessions into a course; BookError when a uid is live already."""
        revisions = self._revisions([s.uid for s in sessions])
        try:
            self._db.executemany(
                "INSERT INTO sessions (course_id, uid, sequence, number, phase, phase_number, "
                "phase_total, location, start_utc, end_utc, zone, chair, status, note) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'booked', ?)",
                [
                    (
                        course_id,
                        s.uid,
                        revisions.get(s.uid, -1) + 1,
                        s.number,
                        s.phase,
                        s.phase_number,
                        s.phase_total,
                        s.location,
                        utc_text(s.start),
                        utc_text(s.end),
                        zone,
                        s.chair,
                        s.note,
                    )
                    for s in sessions
                ],
            )
        except sqlite3.IntegrityError:
            raise BookError("a session uid is already booked and not cancelled") from None

    def course_sessions(self, course_id: int) -> list[SessionRecord]:
        return _course_sessions(self._db, course_id)

    def session_records(self, course_id: int) -> list[Attendance]:
        return _session_records(self._db, course_id)

    def record_session(self, entry: Attendance) -> None:
        """Store what happened at a session and set its status to it."""
        m = entry.measured
        self._db.execute(
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
                utc_text(entry.recorded),
            ),
        )
        self._db.execute(
            "UPDATE sessions SET status = ? WHERE id = ?", (entry.outcome, entry.session_id)
        )

    def change_session(self, change: SessionChange) -> None:
        """Re-place a booked session: same uid, raised sequence."""
        self._db.execute(
            "UPDATE sessions SET phase = ?, phase_number = ?, phase_total = ?, start_utc = ?, "
            "end_utc = ?, chair = ?, note = ?, sequence = sequence + 1 WHERE id = ?",
            (
                change.phase,
                change.phase_number,
                change.phase_total,
                utc_text(change.start),
                utc_text(change.end),
                change.chair,
                change.note,
                change.session_id,
            ),
        )

    def cancel_sessions(self, session_ids: Sequence[int]) -> None:
        """Cancel booked sessions (kept, never deleted), raising their sequence."""
        self._db.executemany(
            "UPDATE sessions SET status = 'cancelled', sequence = sequence + 1 "
            "WHERE id = ? AND status = 'booked'",
            [(i,) for i in session_ids],
        )

    def set_course_state(
        self,
        course_id: int,
        status: CourseStatus,
        induction: InductionState | None,
        induction_since: date | None,
    ) -> None:
        self._db.execute(
            "UPDATE courses SET status = ?, induction = ?, induction_since = ? WHERE id = ?",
            (
                status,
                induction,
                None if induction_since is None else induction_since.isoformat(),
                course_id,
            ),
        )

    def add_history(self, entry: HistoryEntry) -> None:
        self._db.execute(
            "INSERT INTO history (course_id, patient, when_utc, who, what, why, before_json, "
            "after_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                entry.course_id,
                entry.patient,
                utc_text(entry.when),
                entry.who,
                entry.what,
                entry.why,
                entry.before,
                entry.after,
            ),
        )

    def forms_filed(self, session_ids: Sequence[int]) -> dict[int, FormFiled]:
        return _forms_filed(self._db, session_ids)

    def file_form(self, form: FormFiled) -> None:
        self._db.execute(
            "INSERT INTO rems_forms (session_id, filed_on, recorded_by, recorded_utc) "
            "VALUES (?, ?, ?, ?)",
            (form.session_id, form.filed_on.isoformat(), form.by, utc_text(form.recorded)),
        )

    def clinic(self) -> ClinicRecord | None:
        return _clinic(self._db)

    def save_clinic(self, clinic: ClinicRecord) -> None:
        self._db.execute(
            "INSERT INTO clinic (id, name, settings, updated_utc, updated_by) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET name = excluded.name, "
            "settings = excluded.settings, updated_utc = excluded.updated_utc, "
            "updated_by = excluded.updated_by",
            (clinic.id, clinic.name, clinic.settings, utc_text(clinic.updated), clinic.updated_by),
        )
        self._db.execute(
            "INSERT INTO clinic_changes (clinic_id, settings, source, changed_utc, changed_by) "
            "VALUES (?, ?, ?, ?, ?)",
            (
                clinic.id,
                clinic.settings,
                clinic.source,
                utc_text(clinic.updated),
                clinic.updated_by,
            ),
        )

    def add_feed(
        self,
        token: str,
        kind: FeedKind,
        patient: str | None,
        created: datetime,
        expires: datetime | None,
    ) -> FeedRecord:
        cursor = self._db.execute(
            "INSERT INTO feeds (token_sha256, kind, patient, created_utc, expires_utc) "
            "VALUES (?, ?, ?, ?, ?)",
            (
                token_hash(token),
                kind,
                patient,
                utc_text(created),
                None if expires is None else utc_text(expires),
            ),
        )
        row = _one(
            self._db.execute(f"SELECT {_FEED_COLUMNS} FROM feeds WHERE id = ?", (cursor.lastrowid,))
        )
        return _feed(row)

    def revoke_feed(self, feed_id: int, when: datetime) -> FeedRecord | None:
        self._db.execute(
            "UPDATE feeds SET revoked_utc = ? WHERE id = ? AND revoked_utc IS NULL",
            (utc_text(when), feed_id),
        )
        row = _one(self._db.execute(f"SELECT {_FEED_COLUMNS} FROM feeds WHERE id = ?", (feed_id,)))
        return None if row is None else _feed(row)

    def _revisions(self, uids: list[str]) -> dict[str, int]:
        """The highest calendar revision of each uid already in the book."""
        found: dict[str, int] = {}
        for i in range(0, len(uids), 500):
            chunk = uids[i : i + 500]
            marks = ", ".join("?" * len(chunk))
            rows = self._db.execute(
                f"SELECT uid, MAX(sequence) FROM sessions WHERE uid IN ({marks}) GROUP BY uid",
                chunk,
            )
            found.update({uid: int(seq) for uid, seq in rows})
        return found


def _active_course(db: sqlite3.Connection, patient: str) -> CourseRecord | None:
    row = _one(
        db.execute(
            f"SELECT {_COURSE_COLUMNS} FROM courses WHERE patient = ? AND active = 1", (patient,)
        )
    )
    if row is None:
        return None
    return _course(row)


def _course(row: tuple[Any, ...]) -> CourseRecord:
    course_id, code, protocol, title, definition, start, zone, created, active = row[:9]
    status, induction, since = row[12:15]
    return CourseRecord(
        id=course_id,
        patient=code,
        protocol=protocol,
        title=title,
        definition=definition,
        start=date.fromisoformat(start),
        zone=zone,
        created=datetime.fromisoformat(created),
        active=bool(active),
        override=_override(*row[9:11]),
        flags=_flags(row[11]),
        status=cast(CourseStatus, status),
        induction=cast(InductionState | None, induction),
        induction_since=None if since is None else date.fromisoformat(since),
    )


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


def _course_sessions(db: sqlite3.Connection, course_id: int) -> list[SessionRecord]:
    rows = db.execute(
        _SELECT_SESSIONS + "WHERE s.course_id = ? ORDER BY s.number, s.id", (course_id,)
    )
    return [_session(row) for row in rows]


def _session_records(db: sqlite3.Connection, course_id: int) -> list[Attendance]:
    rows = db.execute(
        f"SELECT {_RECORD_COLUMNS} FROM session_records r JOIN sessions s "
        "ON s.id = r.session_id WHERE s.course_id = ? ORDER BY r.id",
        (course_id,),
    )
    return [
        Attendance(
            session_id=row[1],
            outcome=cast(Outcome, row[2]),
            reason=row[3],
            measured=Measurements(*row[4:9]),
            note=row[9],
            by=row[10],
            recorded=datetime.fromisoformat(row[11]),
            id=row[0],
        )
        for row in rows
    ]


def _forms_filed(db: sqlite3.Connection, session_ids: Sequence[int]) -> dict[int, FormFiled]:
    found: dict[int, FormFiled] = {}
    ids = list(session_ids)
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        marks = ", ".join("?" * len(chunk))
        rows = db.execute(
            "SELECT session_id, filed_on, recorded_by, recorded_utc FROM rems_forms "
            f"WHERE session_id IN ({marks}) ORDER BY id",
            chunk,
        )
        for sid, filed_on, by, recorded in rows:
            found[sid] = FormFiled(
                sid, date.fromisoformat(filed_on), by, datetime.fromisoformat(recorded)
            )
    return found


def _clinic(db: sqlite3.Connection) -> ClinicRecord | None:
    row = db.execute(
        "SELECT c.id, c.name, c.settings, c.updated_utc, c.updated_by, "
        "(SELECT h.source FROM clinic_changes h WHERE h.clinic_id = c.id ORDER BY h.id DESC "
        "LIMIT 1) FROM clinic c ORDER BY c.rowid LIMIT 1"
    ).fetchone()
    return None if row is None else _clinic_record(row)


def _clinic_record(row: tuple[Any, ...]) -> ClinicRecord:
    clinic_id, name, settings, updated, updated_by, source = row
    return ClinicRecord(
        id=clinic_id,
        name=name,
        settings=settings,
        updated=datetime.fromisoformat(updated),
        updated_by=updated_by,
        source=source or "",
    )


def _override(reason: str | None, screening: str | None) -> ScreeningOverride | None:
    return None if reason is None else ScreeningOverride(reason, screening or "")


def _latest_screening(db: sqlite3.Connection, patient: str) -> ScreeningRecord | None:
    row = _one(
        db.execute(
            f"SELECT {_SCREENING_COLUMNS} FROM screenings WHERE patient = ? "
            "ORDER BY screened_on DESC, id DESC LIMIT 1",
            (patient,),
        )
    )
    if row is None:
        return None
    code, screened_on, answers, summary, contraindicated, recorded = row
    return ScreeningRecord(
        patient=code,
        date=date.fromisoformat(screened_on),
        answers=tuple(json.loads(answers).items()),
        summary=summary,
        contraindicated=bool(contraindicated),
        recorded=datetime.fromisoformat(recorded),
    )


def _enrollment(db: sqlite3.Connection, patient: str) -> EnrollmentRecord | None:
    row = _one(
        db.execute(
            "SELECT patient, enrolled_on, recorded_utc FROM rems_enrollments WHERE patient = ? "
            "ORDER BY id DESC LIMIT 1",
            (patient,),
        )
    )
    if row is None:
        return None
    code, enrolled_on, recorded = row
    return EnrollmentRecord(code, date.fromisoformat(enrolled_on), datetime.fromisoformat(recorded))


def _one(cursor: sqlite3.Cursor) -> Any:
    """The first row, with the statement finished: a statement left after its first row
    keeps its read snapshot, and a long-lived connection (the feed server's) would go on
    reading the book as it was."""
    try:
        return cursor.fetchone()
    finally:
        cursor.close()


def _route(value: object) -> Route | None:
    return value if value in ROUTES else None


def _session(row: tuple[Any, ...]) -> SessionRecord:
    (sid, course_id, patient, title, uid, sequence, number, phase, phase_number, phase_total) = row[
        :10
    ]
    location, start, end, zone, chair, status, note, route, reason, screening = row[10:20]
    flags, created, phases, modified = row[20:]
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
        start=_local(start, zone),
        end=_local(end, zone),
        zone=zone,
        chair=chair,
        status=cast(SessionStatus, status),
        note=note,
        route=_route(route),
        override=_override(reason, screening),
        flags=_flags(flags),
        course_created=datetime.fromisoformat(created),
        checkin_minutes=checkin,
        dose_minutes=dose,
        modified=None if modified is None else datetime.fromisoformat(modified),
    )


def _feed(row: tuple[Any, ...]) -> FeedRecord:
    feed_id, kind, patient, created, expires, revoked = row
    parse = datetime.fromisoformat
    return FeedRecord(
        id=feed_id,
        kind=cast(FeedKind, kind),
        patient=patient,
        created=parse(created),
        expires=None if expires is None else parse(expires),
        revoked=None if revoked is None else parse(revoked),
    )


def token_hash(token: str) -> str:
    """How a feed token is kept: its SHA-256, so a copy of the book gives no working URL."""
    import hashlib  # only the feed commands and the server need it

    return hashlib.sha256(token.encode()).hexdigest()


def _check_file(path: Path, *, create: bool) -> None:
    """Refuse what is plainly not a book, or not usable as one, before SQLite touches it."""
    text = str(path)
    if os.name != "nt" and is_windows_path(text):
        raise BookError(
            f"the book path {text} is a Windows path, which this system would take as a "
            "file name; give the path where the share or drive is mounted here"
        )
    folder = path.parent
    try:
        info = path.stat()
    except FileNotFoundError:
        info = None
    except PermissionError:
        raise BookError(
            f"cannot use the book {path}: you need permission to open its folder {folder} "
            "(read and execute; ask its owner to add you to the book's group)"
        ) from None
    except OSError as exc:
        raise BookError(f"cannot use the book {path}: {exc.strerror or exc}") from None
    if info is None:
        if not create:
            raise BookError(
                f"there is no clinic book at {path} yet; `ketaplan init` or the first "
                "`ketaplan book` creates it"
            )
        if not folder.is_dir():
            raise BookError(f"cannot create the book {path}: the folder {folder} does not exist")
    elif stat.S_ISDIR(info.st_mode):
        raise BookError(f"the book {path} is a directory, not a ketaplan book")
    elif not stat.S_ISREG(info.st_mode):
        raise BookError(f"the book {path} is {_kind(info.st_mode)}, not a file; left untouched")
    _check_network(folder)
    _check_access(path, info is not None)
    if info is None:
        return
    try:
        with path.open("rb") as file:
            header = file.read(100)
    except OSError as exc:
        raise BookError(f"cannot read the book {path}: {exc.strerror or exc}") from None
    if not header:
        if not create:
            raise BookError(
                f"{path} is an empty file, not a clinic book; `ketaplan book` creates a book"
            )
        return
    if not header.startswith(_SQLITE_MAGIC):
        raise BookError(f"{path} is not a ketaplan book (not an SQLite database); left untouched")
    application_id = int.from_bytes(header[68:72], "big")
    if application_id not in (0, APPLICATION_ID):
        raise BookError(
            f"{path} is another program's SQLite database, not a ketaplan book; left untouched"
        )


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _check_access(path: Path, exists: bool) -> None:
    """Name the file and the permission missing; SQLite's own words ("attempt to write a
    readonly database") name neither."""
    if exists and not os.access(path, os.R_OK | os.W_OK):
        raise BookError(
            f"cannot use the book {path}: you need read and write permission on it (its "
            "owner can share it with a group: [book] group in ketaplan.toml)"
        )
    folder = path.parent
    if not os.access(folder, os.W_OK | os.X_OK):
        raise BookError(
            f"cannot use the book {path}: you need write permission on its folder {folder} "
            "(SQLite keeps the book's -wal and -shm files beside it)"
        )
    for suffix in SIDE_FILES:
        side = Path(f"{path}{suffix}")
        if side.exists() and not os.access(side, os.R_OK | os.W_OK):
            raise BookError(
                f"cannot use the book {path}: you need read and write permission on {side}, "
                "left by another user; its owner can remove it when nobody is booking"
            )


def network_file_system(folder: Path, mountinfo: str) -> str | None:
    """The network file system type `folder` is on, from /proc/self/mountinfo's text;
    None for a local one."""
    target = os.path.realpath(folder)
    best, kind = "", ""
    for line in mountinfo.splitlines():
        fields = line.split(" ")
        if " - " not in line or len(fields) < 5:
            continue
        mount_point = _unescape(fields[4])
        fstype = line.split(" - ", 1)[1].split(" ")[0]
        inside = target == mount_point or target.startswith(mount_point.rstrip("/") + "/")
        if inside and len(mount_point) >= len(best):
            best, kind = mount_point, fstype
    return kind if kind in NETWORK_FILE_SYSTEMS else None


def _unescape(field: str) -> str:
    """mountinfo writes a space as \\040, a tab as \\011 and so on."""
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m[1], 8)), field)


def _check_network(folder: Path) -> None:
    try:
        mountinfo = MOUNTINFO.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return  # not Linux: nothing to tell from
    kind = network_file_system(folder, mountinfo)
    if kind is not None:
        raise BookError(
            f"the book's folder {folder} is on a network file system ({kind}), where "
            "SQLite's locking and shared memory are not safe; keep the book on a local disk, "
            "and use PostgreSQL for a book shared between computers"
        )


def _group_id(group: str | None) -> int | None:
    if group is None:
        return None
    import grp

    try:
        return grp.getgrnam(group).gr_gid
    except KeyError:
        raise BookError(
            f"[book] group = {group!r} is not a group on this system; create it "
            "(groupadd) or change ketaplan.toml"
        ) from None


def _create_file(path: Path, gid: int | None) -> bool:
    """Make a new book's file with the book's mode and group (whatever the umask): 0600,
    or 0660 in the clinic's group. False when the file was there already (another
    process may have made it a moment ago)."""
    mode = PRIVATE_MODE if gid is None else GROUP_MODE
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except FileExistsError:
        return _is_empty(path)
    except OSError as exc:
        raise BookError(f"cannot create the book {path}: {exc.strerror or exc}") from None
    try:
        if gid is not None:
            os.fchown(fd, -1, gid)
        os.fchmod(fd, mode)
    except OSError as exc:
        os.close(fd)
        path.unlink(missing_ok=True)
        raise BookError(f"cannot create the book {path}: {exc.strerror or exc}") from None
    os.close(fd)
    return True


def _is_empty(path: Path) -> bool:
    try:
        return path.stat().st_size == 0
    except OSError:
        return False


def _undo_create(path: Path, created: bool) -> None:
    if created:
        for suffix in ("", *SIDE_FILES):
            with contextlib.suppress(OSError):
                os.unlink(f"{path}{suffix}")


def _match_side_files(path: Path) -> None:
    """Give the -wal and -shm files this process made the book's group and mode, so that
    the next member of the group to book can write them."""
    try:
        book = path.stat()
    except OSError:
        return
    me = os.geteuid()
    for suffix in SIDE_FILES:
        side = f"{path}{suffix}"
        try:
            info = os.stat(side)
        except OSError:
            continue
        if info.st_uid != me:
            continue
        with contextlib.suppress(OSError):
            if info.st_gid != book.st_gid:
                os.chown(side, -1, book.st_gid)
            if info.st_mode & 0o777 != book.st_mode & 0o777:
                os.chmod(side, book.st_mode & 0o777)


def _settle_mode(path: Path, group: str | None, gid: int | None) -> str | None:
    """An existing book of ours gets the mode the config asks for: shared with the group
    (0660) when `[book] group` names one, else without other users' permissions."""
    if gid is None:
        return _close_to_others(path)
    try:
        info = path.stat()
        if info.st_uid != os.geteuid():
            return None
        if info.st_gid == gid and stat.S_IMODE(info.st_mode) == GROUP_MODE:
            return None
        os.chown(path, -1, gid)
        os.chmod(path, GROUP_MODE)
    except OSError:
        return None
    return f"Shared {path} with the group {group} (mode 0660)"


def _close_to_others(path: Path) -> str | None:
    """Take other users' permissions off a file or folder of ours (a book made 0644 by an
    earlier ketaplan); the group's are left alone. Returns what was done, or None."""
    try:
        info = path.stat()
        if info.st_uid != os.geteuid() or not info.st_mode & 0o007:
            return None
        old = stat.S_IMODE(info.st_mode)
        os.chmod(path, old & ~0o007)
    except OSError:
        return None
    return f"Made {path} unreadable by other users (mode {old:04o} -> {old & ~0o007:04o})"


def make_folder(folder: Path, group: str | None) -> str | None:
    """Make the book's folder (and its parents): 0700, or 2770 in the clinic's group. An
    existing one of ours loses other users' permissions; returns a notice if it did."""
    if folder.is_dir():
        return _close_to_others(folder)
    gid = _group_id(group)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if gid is not None:
            os.chown(folder, -1, gid)
        os.chmod(folder, PRIVATE_FOLDER if gid is None else GROUP_FOLDER)
    except OSError as exc:
        raise BookError(f"cannot create the folder {folder}: {exc.strerror or exc}") from None
    return None


@contextmanager
def _damage(path: Path) -> Iterator[None]:
    """A read that finds the file damaged says so, in one line."""
    try:
        yield
    except sqlite3.DatabaseError as exc:
        raise BookError(_open_error(path, exc)) from None


def _open_error(path: Path, exc: sqlite3.DatabaseError) -> str:
    if isinstance(exc, sqlite3.OperationalError) and not _is_damage(exc):
        return f"cannot open the book {path}: {exc}"
    if type(exc) is sqlite3.DatabaseError or _is_damage(exc):
        return (
            f"the book {path} is damaged ({exc}); nothing was changed: restore your latest "
            f"backup (made with `ketaplan admin backup`), and check it with "
            f"`ketaplan admin check --book FILE`"
        )
    return f"cannot open the book {path}: {exc}"


def _is_damage(exc: sqlite3.DatabaseError) -> bool:
    text = str(exc)
    return "malformed" in text or "not a database" in text or "corrupt" in text


def _check_identity(db: sqlite3.Connection, path: Path) -> None:
    """Only reads: a foreign or newer file is refused before anything is written."""
    application_id = _one(db.execute("PRAGMA application_id"))[0]
    version = _one(db.execute("PRAGMA user_version"))[0]
    if application_id == 0:
        if _one(db.execute("SELECT count(*) FROM sqlite_master"))[0]:
            restored = _dumped_version(db)
            if restored is None:
                raise BookError(
                    f"{path} is another program's SQLite database, not a ketaplan book; "
                    "left untouched"
                )
            if restored > SCHEMA_VERSION:
                raise BookError(
                    f"the book {path} was written by a newer ketaplan (book version "
                    f"{restored}; this ketaplan reads up to {SCHEMA_VERSION}); left "
                    "untouched: upgrade ketaplan"
                )
            # A book restored from `sqlite3 .dump`: the dump keeps the tables, not the marks.
            db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            db.execute(f"PRAGMA user_version = {restored}")
        return
    if application_id != APPLICATION_ID:
        raise BookError(
            f"{path} is another program's SQLite database, not a ketaplan book; left untouched"
        )
    if version > SCHEMA_VERSION:
        raise BookError(
            f"the book {path} was written by a newer ketaplan (book version {version}; this "
            f"ketaplan reads up to {SCHEMA_VERSION}); left untouched: upgrade ketaplan"
        )


def backup_book(path: Path, target: str) -> BookCheck:
    """Copy the book at `path` into the (empty) file `target` with SQLite's online backup:
    one read transaction, so others keep booking meanwhile, and the copy is the book as
    of one moment. The copy is a self-contained file (no -wal), checked after writing."""
    book = SqliteBook.open(path, create=False)
    try:
        copy = sqlite3.connect(target, isolation_level=None)
        try:
            with _damage(path):
                book._db.backup(copy)
            copy.execute("PRAGMA journal_mode = DELETE")
            found = _check(copy)
        finally:
            copy.close()
    finally:
        book.close()
    return found


def check_book(path: Path) -> BookCheck:
    """SQLite's integrity and foreign-key checks of the book, read only."""
    _check_file(path, create=False)
    try:
        db = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True, timeout=BUSY_SECONDS)
    except sqlite3.Error as exc:
        raise BookError(f"cannot open the book {path}: {exc}") from None
    try:
        _check_identity_only(db, path)
        return _check(db)
    except sqlite3.DatabaseError as exc:
        if isinstance(exc, sqlite3.OperationalError) and not _is_damage(exc):
            raise BookError(f"cannot check the book {path}: {exc}") from None
        return BookCheck((str(exc),), 0, 0, 0)
    finally:
        db.close()


def _check_identity_only(db: sqlite3.Connection, path: Path) -> None:
    application_id = _one(db.execute("PRAGMA application_id"))[0]
    if application_id != APPLICATION_ID and _dumped_version(db) is None:
        raise BookError(
            f"{path} is another program's SQLite database, not a ketaplan book; left untouched"
        )


def _check(db: sqlite3.Connection) -> BookCheck:
    problems = [row[0] for row in db.execute("PRAGMA integrity_check")]
    if problems == ["ok"]:
        problems = []
    problems += [
        f"{table} row {rowid} refers to a missing {parent}"
        for table, rowid, parent, _ in db.execute("PRAGMA foreign_key_check")
    ]
    if problems:
        return BookCheck(tuple(problems), 0, 0, 0)

    def count(table: str) -> int:
        return int(_one(db.execute(f"SELECT count(*) FROM {table}"))[0])

    by_code: dict[str, list[str]] = {}
    for (patient,) in db.execute("SELECT patient FROM courses WHERE active = 1"):
        by_code.setdefault(spelling(patient), []).append(patient)
    twice = tuple(tuple(sorted(names)) for names in by_code.values() if len(names) > 1)
    return BookCheck(
        (), count("courses"), count("sessions"), count("screenings"), tuple(sorted(twice))
    )


def _dumped_version(db: sqlite3.Connection) -> int | None:
    """The schema version of a ketaplan book that lost its marks in a dump and restore
    (its tables and schema_migrations are there); None for any other database."""
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if not {"courses", "sessions", "schema_migrations"} <= tables:
        return None
    row = _one(db.execute("SELECT max(version) FROM schema_migrations"))
    return int(row[0]) if row and row[0] is not None else None


def _prepare(db: sqlite3.Connection, path: Path, *, verify: bool) -> None:
    """Check, configure and migrate a freshly opened book. Switching a new file to WAL
    can report "locked" at once, without waiting, while another process does the same:
    every step is safe to repeat, so it is retried for up to the busy timeout.

    With `verify` (a command that writes), SQLite's quick check reads every page first
    (about 10 ms a megabyte): nothing is written into a damaged book."""
    deadline = time.monotonic() + BUSY_SECONDS
    while True:
        try:
            _check_identity(db, path)
            db.execute("PRAGMA journal_mode = WAL")
            if verify:
                found = _one(db.execute("PRAGMA quick_check(1)"))[0]
                if found != "ok":
                    # The details, several lines of them, are for `admin check`.
                    raise sqlite3.DatabaseError("database disk image is malformed")
            db.execute("PRAGMA foreign_keys = ON")
            # Up to 64 MiB of page cache (used only as needed): a large roster inserts
            # into uid indexes at random places, and the 2 MiB default thrashes.
            db.execute("PRAGMA cache_size = -65536")
            _migrate(db)
            return
        except sqlite3.OperationalError as exc:
            if not _is_busy(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    return "locked" in str(exc) or "busy" in str(exc)


def _migrate(db: sqlite3.Connection) -> None:
    if _one(db.execute("PRAGMA user_version"))[0] == SCHEMA_VERSION:
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        # Another process may have migrated while this one waited for the lock.
        version = _one(db.execute("PRAGMA user_version"))[0]
        if version > SCHEMA_VERSION:
            raise sqlite3.DatabaseError(f"book version {version} is newer than this ketaplan")
        db.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations "
            "(version INTEGER PRIMARY KEY, applied_utc TEXT NOT NULL)"
        )
        db.create_function("ketaplan_spelling", 1, spelling, deterministic=True)
        for number in range(version + 1, SCHEMA_VERSION + 1):
            for statement in MIGRATIONS[number - 1]:
                db.execute(statement)
            db.execute(
                "INSERT INTO schema_migrations (version, applied_utc) "
                "VALUES (?, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))",
                (number,),
            )
        db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


def _busy_message(path: Path, exc: sqlite3.OperationalError) -> str:
    if _is_busy(exc):
        return (
            f"the book {path} is busy: another ketaplan has been writing to it for "
            f"{BUSY_SECONDS:.0f} seconds; nothing was booked, try again"
        )
    return f"cannot write the book {path}, nothing was booked: {exc}"
