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

Only what SQLite spells its own way is here (see `base.py` for the shared queries): the
migrations' column types, instants as sortable UTC text, `json_extract`, and the lock.
"""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
import stat
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from ketaplan.errors import BookError, NoBookYet
from ketaplan.model.patient import spelling
from ketaplan.parsing import is_windows_path
from ketaplan.store import BookCheck, base
from ketaplan.store.base import BUSY_SECONDS, Dialect, Rows, SqlBook

# "KTPL": marks the file as a ketaplan book.
APPLICATION_ID = base.APPLICATION_ID
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
    # 8: clinic networks: every course, session, screening and enrollment belongs to one
    # clinic of the book (the `clinic` table: one row in a file, several in a PostgreSQL
    # network). Rows stored before are the book's clinic's; a book that has no clinic yet
    # keeps NULL until its first clinic is stored, which takes them. Lookups become per
    # clinic.
    (
        *(
            f"ALTER TABLE {table} ADD COLUMN clinic_id TEXT REFERENCES clinic (id)"
            for table in ("courses", "sessions", "screenings", "rems_enrollments", "feeds")
        ),
        *(
            f"UPDATE {table} SET clinic_id = (SELECT id FROM clinic ORDER BY rowid LIMIT 1)"
            for table in ("courses", "sessions", "screenings", "rems_enrollments", "feeds")
        ),
        "DROP INDEX courses_active_patient",
        "CREATE UNIQUE INDEX courses_active_patient ON courses (ifnull(clinic_id, ''), patient) "
        "WHERE active = 1",
        "DROP INDEX courses_patient",
        "CREATE INDEX courses_patient ON courses (clinic_id, patient)",
        "DROP INDEX sessions_start",
        "CREATE INDEX sessions_start ON sessions (clinic_id, start_utc)",
        "DROP INDEX sessions_uid",
        "CREATE INDEX sessions_uid ON sessions (clinic_id, uid)",
        "DROP INDEX sessions_live_uid",
        "CREATE UNIQUE INDEX sessions_live_uid ON sessions (ifnull(clinic_id, ''), uid) "
        "WHERE status <> 'cancelled'",
        "DROP INDEX screenings_patient",
        "CREATE INDEX screenings_patient ON screenings (clinic_id, patient, screened_on, id)",
        "DROP INDEX rems_enrollments_patient",
        "CREATE INDEX rems_enrollments_patient ON rems_enrollments (clinic_id, patient, id)",
    ),
    # 9: what a booking asked for (JSON: the requested start, which the first session may
    # have moved from for want of room, the time, weekdays and the rest), so that the same
    # booking asked again is known. Courses booked before keep NULL: they are compared by
    # protocol and start, as before.
    ("ALTER TABLE courses ADD COLUMN asked TEXT CHECK (asked IS NULL OR json_valid(asked))",),
    # 10: each clinic's own change counter (book_info's counts the whole book): a clinic's
    # feeds change their ETag when that clinic changes, not when another one does.
    (
        "ALTER TABLE clinic ADD COLUMN changes INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE clinic ADD COLUMN changed_utc TEXT",
        # Each clinic starts from the book's count, so no ETag goes back.
        "UPDATE clinic SET changes = (SELECT changes FROM book_info), "
        "changed_utc = (SELECT changed_utc FROM book_info)",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)


def schema_version() -> int:
    # Read at call time: a test writes an older book by shortening the list.
    return len(MIGRATIONS)


def utc_text(moment: datetime) -> str:
    """Stored form of an instant: UTC, whole seconds, sortable as text."""
    if moment.tzinfo is None:
        raise ValueError("the book stores aware datetimes only")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# Rows read at a time by `stream`: a year's calendar is read a batch at a time.
_STREAM_BATCH = 1000


class _Fetched:
    """A read's rows, fetched while a damaged file can still be reported as such."""

    def __init__(self, rows: list[Any], rowcount: int) -> None:
        self._rows = rows
        self._rowcount = rowcount

    @property
    def rowcount(self) -> int:
        return self._rowcount

    def __iter__(self) -> Iterator[Any]:
        return iter(self._rows)

    def fetchone(self) -> Any:
        return self._rows[0] if self._rows else None

    def fetchall(self) -> list[Any]:
        return self._rows


class SqliteDialect(Dialect):
    """An open SQLite book file."""

    integrity_error = sqlite3.IntegrityError
    one_clinic = True

    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        super().__init__(str(path))
        self._db = connection
        self._path = path
        self._key = ""

    @property
    def connection(self) -> sqlite3.Connection:
        return self._db

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Rows:
        if self._db.in_transaction:
            return self._db.execute(sql, params)
        # A read outside a write: a damaged file says so in one line.
        with _damage(self._path):
            cursor = self._db.execute(sql, params)
            return _Fetched(cursor.fetchall(), cursor.rowcount)

    def stream(self, sql: str, params: Sequence[Any] = ()) -> Iterator[Any]:
        if self._db.in_transaction:
            yield from self._db.execute(sql, params)
            return
        # Read a batch at a time, each where a damaged file is still reported as such.
        with _damage(self._path):
            cursor = self._db.execute(sql, params)
        while True:
            with _damage(self._path):
                batch = cursor.fetchmany(_STREAM_BATCH)
            if not batch:
                return
            yield from batch

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        self._db.executemany(sql, rows)

    @contextmanager
    def transaction(self, clinic_id: str | None) -> Iterator[None]:
        # One file is one lock: BEGIN IMMEDIATE serializes every writer of the book.
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise BookError(_busy_message(self._path, exc)) from None
        except sqlite3.DatabaseError as exc:
            raise BookError(_open_error(self._path, exc)) from None
        try:
            yield
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

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        self._db.execute("SAVEPOINT ketaplan")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK TO ketaplan")
            raise
        finally:
            self._db.execute("RELEASE ketaplan")

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        # A deferred transaction that only reads: WAL keeps its view while others write.
        self._db.execute("BEGIN")
        try:
            yield
        finally:
            self._db.execute("ROLLBACK")

    def json_field(self, column: str, key: str) -> str:
        return f"json_extract({column}, '$.{key}')"

    def now_sql(self) -> str:
        return _NOW_SQL

    def version(self) -> int:
        return schema_version()

    def tables(self) -> set[str]:
        rows = self.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
        return {name for (name,) in rows}

    def instant(self, moment: datetime) -> str:
        return utc_text(moment)

    def read_instant(self, value: Any) -> datetime:
        return datetime.fromisoformat(value)

    def day(self, value: date) -> str:
        return value.isoformat()

    def read_day(self, value: Any) -> date:
        return date.fromisoformat(value)

    def after_copy(self) -> None:
        pass  # SQLite's next id is always past the largest one

    def close(self) -> None:
        with _OPENING:
            self._db.close()
            if self._key and _OPEN[self._key]:
                _OPEN[self._key] -= 1
            self._key = ""


# Connections this process has open, by the book's real path (see open_dialect).
_OPEN: Counter[str] = Counter()
_OPENING = threading.Lock()


@dataclass(frozen=True)
class Opened:
    """An SQLite book just opened.

    Attributes:
        dialect: the open connection.
        created: this open made a new book.
        notices: what opening changed that the user should hear of (a mode tightened).
    """

    dialect: SqliteDialect
    created: bool
    notices: tuple[str, ...]


def open_dialect(
    path: Path, *, create: bool, migrate: bool = True, group: str | None = None
) -> Opened:
    """Open, check and (with `migrate`) upgrade the book at `path`. Without `migrate` an
    older book is refused: nothing is written."""
    key = os.path.realpath(path)
    with _OPENING:
        opened = _open_dialect(
            path, create=create, migrate=migrate, group=group, check=not _OPEN[key]
        )
        _OPEN[key] += 1
    opened.dialect._key = key
    return opened


def _open_dialect(
    path: Path, *, create: bool, migrate: bool, group: str | None, check: bool
) -> Opened:
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
        _prepare(db, path, verify=create, migrate=migrate)
        _match_side_files(path)
    except sqlite3.DatabaseError as exc:
        db.close()
        _undo_create(path, created)
        raise BookError(_open_error(path, exc)) from None
    except BaseException:
        db.close()
        _undo_create(path, created)
        raise
    return Opened(SqliteDialect(db, path), created, notices)


def open_book(
    path: Path, *, create: bool = True, group: str | None = None, clinic: str | None = None
) -> SqlBook:
    opened = open_dialect(path, create=create, group=group)
    dialect = opened.dialect
    try:
        scope = base.choose_clinic(dialect, clinic, create=create)
        named = len(base.clinics(dialect)) > 1
    except BaseException:
        dialect.close()
        raise
    return SqlBook(dialect, scope, named=named, created=opened.created, notices=opened.notices)


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
            raise NoBookYet(
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
    application_id = db.execute("PRAGMA application_id").fetchone()[0]
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if application_id == 0:
        if db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
            restored = _dumped_version(db)
            if restored is None:
                raise BookError(
                    f"{path} is another program's SQLite database, not a ketaplan book; "
                    "left untouched"
                )
            if restored > schema_version():
                raise BookError(base.newer_message(str(path), restored, schema_version()))
            # A book restored from `sqlite3 .dump`: the dump keeps the tables, not the marks.
            db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            db.execute(f"PRAGMA user_version = {restored}")
        return
    if application_id != APPLICATION_ID:
        raise BookError(
            f"{path} is another program's SQLite database, not a ketaplan book; left untouched"
        )
    if version > schema_version():
        raise BookError(base.newer_message(str(path), version, schema_version()))


def backup_book(path: Path, target: str) -> BookCheck:
    """Copy the book at `path` into the (empty) file `target` with SQLite's online backup:
    one read transaction, so others keep booking meanwhile, and the copy is the book as
    of one moment. The copy is a self-contained file (no -wal), checked after writing."""
    book = open_dialect(path, create=False).dialect
    try:
        copy = sqlite3.connect(target, isolation_level=None)
        try:
            with _damage(path):
                book.connection.backup(copy)
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
    application_id = db.execute("PRAGMA application_id").fetchone()[0]
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
        return int(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])

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
    row = db.execute("SELECT max(version) FROM schema_migrations").fetchone()
    return int(row[0]) if row and row[0] is not None else None


def _prepare(db: sqlite3.Connection, path: Path, *, verify: bool, migrate: bool) -> None:
    """Check, configure and (with `migrate`) migrate a freshly opened book. Switching a
    new file to WAL can report "locked" at once, without waiting, while another process
    does the same: every step is safe to repeat, so it is retried for up to the busy
    timeout.

    With `verify` (a command that writes), SQLite's quick check reads every page first
    (about 10 ms a megabyte): nothing is written into a damaged book."""
    deadline = time.monotonic() + BUSY_SECONDS
    while True:
        try:
            _check_identity(db, path)
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if not migrate and version != schema_version():
                raise BookError(base.older_message(str(path), version))
            db.execute("PRAGMA journal_mode = WAL")
            if verify:
                found = db.execute("PRAGMA quick_check(1)").fetchone()[0]
                if found != "ok":
                    # The details, several lines of them, are for `admin check`.
                    raise sqlite3.DatabaseError("database disk image is malformed")
            # Up to 64 MiB of page cache (used only as needed): a large roster inserts
            # into uid indexes at random places, and the 2 MiB default thrashes.
            db.execute("PRAGMA cache_size = -65536")
            # Before the foreign keys are on: SQLite adds a column that references
            # another table with a default (migration 5) only with them off.
            _migrate(db)
            db.execute("PRAGMA foreign_keys = ON")
            return
        except sqlite3.OperationalError as exc:
            if not _is_busy(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    return "locked" in str(exc) or "busy" in str(exc)


def _migrate(db: sqlite3.Connection) -> None:
    # Read at call time: a test writes an older book by shortening the list.
    migrations = MIGRATIONS
    latest = len(migrations)
    if db.execute("PRAGMA user_version").fetchone()[0] == latest:
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        # Another process may have migrated while this one waited for the lock.
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version > latest:
            raise sqlite3.DatabaseError(f"book version {version} is newer than this ketaplan")
        db.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations "
            "(version INTEGER PRIMARY KEY, applied_utc TEXT NOT NULL)"
        )
        db.create_function("ketaplan_spelling", 1, spelling, deterministic=True)
        for number in range(version + 1, latest + 1):
            for statement in migrations[number - 1]:
                db.execute(statement)
            db.execute(
                "INSERT INTO schema_migrations (version, applied_utc) "
                "VALUES (?, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))",
                (number,),
            )
        db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        db.execute(f"PRAGMA user_version = {latest}")
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
