"""The clinic book on disk: marked, migrated, refusing what it cannot read, and never
losing a session."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
from contextlib import closing
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from ketaplan.errors import BookError
from ketaplan.model.records import NewCourse, NewSession
from ketaplan.store import open_book
from ketaplan.store.base import APPLICATION_ID
from ketaplan.store.sqlite import MIGRATIONS, SCHEMA_VERSION

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def course(patient: str = "P-001") -> NewCourse:
    return NewCourse(patient, "iv", "IV ketamine", "{}", date(2026, 12, 7), "Europe/Berlin", NOW)


def session(number: int, day: int, chair: int | None = 1, uid: str | None = None) -> NewSession:
    start = datetime(2026, 12, day, 9, 0, tzinfo=BERLIN)
    return NewSession(
        uid=uid or f"u{number}@ketaplan",
        number=number,
        phase="induction",
        phase_number=number,
        phase_total=6,
        location="clinic" if chair else "home",
        start=start,
        end=start + timedelta(minutes=90),
        chair=chair,
    )


def older_book(path: Path, version: int) -> None:
    """A book as the ketaplan that knew only the first `version` migrations wrote it,
    through the real code path: only those migrations run (it knew no later clinic)."""
    import ketaplan.store.sqlite as sqlite_store

    with pytest.MonkeyPatch.context() as old:
        old.setattr(sqlite_store, "MIGRATIONS", MIGRATIONS[:version])
        old.setattr(sqlite_store, "SCHEMA_VERSION", version)
        sqlite_store.open_dialect(path, create=True).dialect.close()


def stored(book_at: str, sql: str) -> list[tuple[Any, ...]]:
    """What the book's own database holds, read past ketaplan."""
    if book_at.startswith("postgresql://"):
        import psycopg

        with psycopg.connect(book_at) as db:
            return db.execute(sql).fetchall()
    with closing(sqlite3.connect(book_at)) as db:
        return db.execute(sql).fetchall()


def test_a_new_book_is_marked_and_records_its_migrations(tmp_path: Path) -> None:
    open_book(tmp_path / "b.sqlite").close()
    db = sqlite3.connect(tmp_path / "b.sqlite")
    assert db.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    versions = [v for (v,) in db.execute("SELECT version FROM schema_migrations")]
    assert versions == list(range(1, SCHEMA_VERSION + 1))


def test_sessions_come_back_as_aware_times_in_their_zone(book_at: str) -> None:
    book = open_book(book_at)
    with book.writing() as tx:
        record = tx.add_course(course(), [session(1, 7), session(2, 9, chair=2)])
    rows = book.course_sessions(record.id)
    assert [(r.start, r.chair, r.status) for r in rows] == [
        (datetime(2026, 12, 7, 9, 0, tzinfo=BERLIN), 1, "booked"),
        (datetime(2026, 12, 9, 9, 0, tzinfo=BERLIN), 2, "booked"),
    ]
    assert rows[0].start.tzinfo == BERLIN
    assert book.active_course("P-001") == record
    # UTC, whole seconds: sortable text in SQLite, a timestamptz in PostgreSQL.
    expected = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
    if book_at.startswith("postgresql://"):
        assert stored(book_at, "SELECT start_utc FROM sessions WHERE number = 1") == [(expected,)]
    else:
        assert stored(book_at, "SELECT start_utc FROM sessions WHERE number = 1") == [
            ("2026-12-07T08:00:00Z",)
        ]


def test_a_failed_transaction_leaves_the_book_as_it_was(book_at: str) -> None:
    book = open_book(book_at)

    def fail_half_way() -> None:
        with book.writing() as tx:
            tx.add_course(course(), [session(1, 7)])
            raise RuntimeError("half-way")

    with pytest.raises(RuntimeError):
        fail_half_way()
    assert book.active_course("P-001") is None
    assert book.sessions_between(NOW, NOW + timedelta(days=30)) == []


def test_the_book_itself_refuses_two_active_courses_for_a_patient(book_at: str) -> None:
    book = open_book(book_at)
    with book.writing() as tx:
        tx.add_course(course(), [session(1, 7)])
    with pytest.raises(BookError, match="the book refused the change"), book.writing() as tx:
        tx.add_course(course(), [session(1, 14, uid="other@ketaplan")])


def test_a_cancelled_session_is_kept_with_a_raised_sequence_and_its_uid_can_be_rebooked(
    book_at: str,
) -> None:
    book = open_book(book_at)
    with book.writing() as tx:
        old = tx.add_course(course(), [session(1, 7), session(2, 9)])
    since = datetime(2026, 12, 8, tzinfo=BERLIN)
    with book.writing() as tx:
        assert tx.cancel_course(old.id, since) == 1
        new = tx.add_course(course(), [session(2, 10, uid="u2@ketaplan")])
    statuses = [(r.number, r.status, r.sequence) for r in book.course_sessions(old.id)]
    assert statuses == [(1, "booked", 0), (2, "cancelled", 1)]
    assert [(r.uid, r.sequence) for r in book.course_sessions(new.id)] == [("u2@ketaplan", 2)]
    assert book.active_course("P-001") == new


def test_only_chairs_held_count_as_capacity(book_at: str) -> None:
    book = open_book(book_at)
    with book.writing() as tx:
        first = tx.add_course(course(), [session(1, 7), session(2, 9), session(3, 11, chair=None)])
        tx.cancel_course(first.id, datetime(2026, 12, 8, tzinfo=UTC))
        held = tx.chairs_held(NOW, NOW + timedelta(days=30))
    assert [(u.start.astimezone(BERLIN).day, u.chair) for u in held] == [(7, 1)]


def test_a_missing_book_is_not_created_for_reading(tmp_path: Path) -> None:
    with pytest.raises(BookError, match=r"there is no clinic book at .* yet"):
        open_book(tmp_path / "none.sqlite", create=False)
    assert not (tmp_path / "none.sqlite").exists()


def snapshot(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


def test_a_text_file_is_refused_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("patient list\n", encoding="utf-8")
    before = snapshot(tmp_path)
    with pytest.raises(BookError) as error:
        open_book(path)
    assert str(error.value) == (
        f"{path} is not a ketaplan book (not an SQLite database); left untouched"
    )
    assert snapshot(tmp_path) == before


def test_another_programs_database_is_refused_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "other.sqlite"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE things (x)")
    db.commit()
    db.close()
    before = snapshot(tmp_path)
    with pytest.raises(BookError, match="another program's SQLite database"):
        open_book(path)
    assert snapshot(tmp_path) == before


def test_a_book_from_a_newer_ketaplan_is_refused_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "b.sqlite"
    open_book(path).close()
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.execute("PRAGMA journal_mode = DELETE")
    db.close()
    before = snapshot(tmp_path)
    with pytest.raises(BookError) as error:
        open_book(path)
    assert str(error.value) == (
        f"the book {path} was written by a newer ketaplan (book version {SCHEMA_VERSION + 1}; "
        f"this ketaplan reads up to {SCHEMA_VERSION}); left untouched: upgrade ketaplan"
    )
    assert snapshot(tmp_path) == before


def test_an_empty_file_becomes_a_new_book(tmp_path: Path) -> None:
    path = tmp_path / "b.sqlite"
    path.touch()
    open_book(path).close()
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_a_version_1_book_upgrades_without_losing_anything(tmp_path: Path) -> None:

    path = tmp_path / "v1.sqlite"
    older_book(path, 1)
    db = sqlite3.connect(path)
    db.execute(
        "INSERT INTO courses (patient, protocol, title, definition, start_date, zone, active, "
        "created_utc) VALUES ('P-001', 'esketamine', 'Esketamine nasal spray', "
        "'{\"route\":\"esketamine\"}', '2026-12-07', 'Europe/Berlin', 1, '2026-12-01T08:00:00Z')"
    )
    db.execute(
        "INSERT INTO sessions (course_id, uid, number, phase, phase_number, phase_total, "
        "location, start_utc, end_utc, zone, chair, status) VALUES (1, 'u1@ketaplan', 1, "
        "'induction', 1, 8, 'clinic', '2026-12-07T08:00:00Z', '2026-12-07T10:00:00Z', "
        "'Europe/Berlin', 1, 'booked')"
    )
    db.commit()
    assert db.execute("PRAGMA user_version").fetchone()[0] == 1
    db.close()

    book = open_book(path)
    (row,) = book.sessions_between(NOW, NOW + timedelta(days=30))
    assert (row.patient, row.uid, row.start, row.route, row.override) == (
        "P-001", "u1@ketaplan", datetime(2026, 12, 7, 9, 0, tzinfo=BERLIN), "esketamine", None,
    )  # fmt: skip
    # Migration 3: the old book gets a clinic id of its own, and its sessions the time
    # their course was booked as their last change.
    assert re.fullmatch("[0-9a-f]{32}", book.state().clinic_id)
    assert row.modified == NOW
    record = book.active_course("P-001")
    assert record is not None
    assert record.override is None
    assert book.latest_screening("P-001") is None
    assert book.enrollment("P-001") is None
    book.close()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    versions = [v for (v,) in db.execute("SELECT version FROM schema_migrations")]
    assert versions == list(range(1, SCHEMA_VERSION + 1))
    db.close()


def test_screenings_come_back_latest_first_with_answers_in_order(book_at: str) -> None:
    from ketaplan.model.records import ScreeningRecord

    book = open_book(book_at)
    answers = (("prior_antidepressants", 3), ("mania", True), ("under_18", False))
    older = ScreeningRecord(
        "P-001", date(2026, 11, 1), answers, "contraindicated: mania", True, NOW
    )
    newer = ScreeningRecord(
        "P-001", date(2026, 11, 20), answers[:1], "no listed contraindication", False, NOW
    )
    with book.writing() as tx:
        tx.add_screening(newer)
        tx.add_screening(older)  # recorded later, answered earlier
        assert tx.latest_screening("P-001") == newer
    assert book.latest_screening("P-001") == newer
    assert book.latest_screening("P-002") is None
    answers_on_first = stored(
        book_at, "SELECT answers FROM screenings WHERE screened_on = '2026-11-01'"
    )
    assert answers_on_first == [('{"prior_antidepressants": 3, "mania": true, "under_18": false}',)]


def test_the_last_recorded_enrollment_counts(book_at: str) -> None:
    from ketaplan.model.records import EnrollmentRecord

    book = open_book(book_at)
    with book.writing() as tx:
        tx.record_enrollment(EnrollmentRecord("P-001", date(2026, 11, 20), NOW))
        tx.record_enrollment(EnrollmentRecord("P-001", date(2026, 11, 2), NOW))
    assert book.enrollment("P-001") == EnrollmentRecord("P-001", date(2026, 11, 2), NOW)
    assert book.enrollment("P-002") is None


def test_a_courses_override_is_stored_and_read_back(book_at: str) -> None:
    from ketaplan.model.records import ScreeningOverride

    book = open_book(book_at)
    override = ScreeningOverride("cleared by Dr. A", "no screening recorded")
    new = NewCourse(
        "P-001", "iv", "IV ketamine", "{}", date(2026, 12, 7), "Europe/Berlin", NOW, override
    )
    with book.writing() as tx:
        record = tx.add_course(new, [session(1, 7)])
    assert record.override == override
    assert book.active_course("P-001") == record
    (row,) = book.course_sessions(record.id)
    assert (row.override, row.route) == (override, None)


def test_a_version_2_book_keeps_its_screenings_and_courses_gain_flags(tmp_path: Path) -> None:

    path = tmp_path / "v2.sqlite"
    old_answers = (("prior_antidepressants", 3), ("mania", False), ("schizophrenia", False))
    older_book(path, 2)  # that ketaplan knew no flags and no clinics
    db = sqlite3.connect(path)
    db.execute(
        "INSERT INTO screenings (patient, screened_on, answers, summary, contraindicated, "
        "recorded_utc) VALUES ('P-001', '2026-11-20', "
        '\'{"prior_antidepressants": 3, "mania": false, "schizophrenia": false}\', '
        "'no listed contraindication', 0, '2026-12-01T08:00:00Z')"
    )
    db.commit()
    db.close()
    db = sqlite3.connect(path)
    db.execute(
        "INSERT INTO courses (patient, protocol, title, definition, start_date, zone, active, "
        "created_utc) VALUES ('P-001', 'iv', 'IV ketamine', '{\"route\":\"iv\"}', "
        "'2026-12-07', 'Europe/Berlin', 1, '2026-12-01T08:00:00Z')"
    )
    db.commit()
    db.close()

    book = open_book(path)
    screening = book.latest_screening("P-001")
    assert screening is not None
    assert screening.answers == old_answers  # kept as answered, nothing guessed
    record = book.active_course("P-001")
    assert record is not None
    assert record.flags == ()
    with book.writing() as tx:
        tx.add_course(
            NewCourse(
                "P-002", "iv", "IV ketamine", "{}", date(2026, 12, 7), "Europe/Berlin", NOW,
                flags=("screening does not meet the criteria: x",),
            ),
            [session(1, 7)],
        )  # fmt: skip
    (row,) = book.course_sessions(2)
    assert row.flags == ("screening does not meet the criteria: x",)
    assert row.course_created == NOW
    book.close()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    db.close()


def test_a_sessions_phase_split_comes_from_its_courses_stored_protocol(book_at: str) -> None:
    from ketaplan.formats.protocol_file import protocol_definition
    from ketaplan.planning.protocols import ESKETAMINE

    book = open_book(book_at)
    new = NewCourse(
        "P-001", "esketamine", "Esketamine", protocol_definition(ESKETAMINE), date(2026, 12, 7),
        "Europe/Berlin", NOW,
    )  # fmt: skip
    with book.writing() as tx:
        tx.add_course(new, [session(1, 7)])
    (row,) = book.course_sessions(1)
    assert (row.route, row.checkin_minutes, row.dose_minutes) == ("esketamine", 15, 10)


def test_a_version_2_book_gains_the_lifecycle_without_losing_a_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ketaplan.store.sqlite as sqlite_store
    from ketaplan.model.records import Attendance, Measurements

    path = tmp_path / "v2.sqlite"
    with monkeypatch.context() as old:
        old.setattr(sqlite_store, "MIGRATIONS", MIGRATIONS[:2])
        old.setattr(sqlite_store, "SCHEMA_VERSION", 2)
        open_book(path).close()
    db = sqlite3.connect(path)
    for active in (0, 1):
        db.execute(
            "INSERT INTO courses (patient, protocol, title, definition, start_date, zone, "
            "active, created_utc) VALUES ('P-001', 'iv', 'IV ketamine', '{\"route\":\"iv\"}', "
            "'2026-12-07', 'Europe/Berlin', ?, '2026-12-01T08:00:00Z')",
            (active,),
        )
    for course_id, uid, status, day in ((1, "u1", "cancelled", "07"), (2, "v1", "booked", "14")):
        db.execute(
            "INSERT INTO sessions (course_id, uid, sequence, number, phase, phase_number, "
            "phase_total, location, start_utc, end_utc, zone, chair, status) VALUES (?, ?, ?, "
            "1, 'induction', 1, 6, 'clinic', ?, ?, 'Europe/Berlin', 1, ?)",
            (course_id, uid, int(status == "cancelled"), f"2026-12-{day}T08:00:00Z",
             f"2026-12-{day}T09:30:00Z", status),
        )  # fmt: skip
    db.commit()
    db.close()

    book = open_book(path)
    rows = book.patient_sessions("P-001")
    assert [(r.uid, r.status, r.sequence) for r in rows] == [
        ("u1", "cancelled", 1),
        ("v1", "booked", 0),
    ]
    current = book.active_course("P-001")
    assert current is not None
    assert (current.id, current.status, current.induction) == (2, "active", None)
    with book.writing() as tx:
        entry = Attendance(rows[1].id, "not-dosed", "BP", Measurements(170, 100), None, "a", NOW)
        tx.record_session(entry)
    assert [r.status for r in book.patient_sessions("P-001")] == ["cancelled", "not-dosed"]
    book.close()
    db = sqlite3.connect(path)
    assert db.execute("SELECT status FROM courses ORDER BY id").fetchall() == [
        ("cancelled",),
        ("active",),
    ]
    db.close()


def test_every_book_has_its_own_clinic_id_and_keeps_it(tmp_path: Path) -> None:
    first, second = open_book(tmp_path / "a.sqlite"), open_book(tmp_path / "b.sqlite")
    ids = first.state().clinic_id, second.state().clinic_id
    first.close()
    second.close()
    assert ids[0] != ids[1]
    again = open_book(tmp_path / "a.sqlite")
    assert again.state().clinic_id == ids[0]
    again.close()


def test_every_write_transaction_counts_a_change(tmp_path: Path) -> None:
    book = open_book(tmp_path / "b.sqlite")
    before = book.state().changes
    with book.writing() as tx:
        record = tx.add_course(course(), [session(1, 7)])
    with book.writing() as tx:
        tx.cancel_course(record.id, NOW)
    with pytest.raises(RuntimeError), book.writing():
        raise RuntimeError("rolled back: not a change")
    assert book.state().changes == before + 2
    book.close()


def test_a_new_time_or_chair_or_a_cancellation_raises_a_sessions_revision(
    tmp_path: Path,
) -> None:
    """Whatever code changes a session (a move written by another module included), a
    new time or chair, or a cancellation, raises its SEQUENCE (RFC 5545 3.8.7.4); what
    happened at it (attended) does not. Each sets its modified time."""
    book = open_book(tmp_path / "b.sqlite")
    with book.writing() as tx:
        record = tx.add_course(course(), [session(1, 7), session(2, 9), session(3, 11)])
    before = {row.number: row.modified for row in book.course_sessions(record.id)}
    assert all(before.values())
    db = sqlite3.connect(tmp_path / "b.sqlite")
    db.execute("UPDATE sessions SET modified_utc = '2026-12-01T08:00:00Z'")
    db.execute("UPDATE sessions SET start_utc = '2026-12-07T09:00:00Z' WHERE number = 1")
    db.execute("UPDATE sessions SET chair = 2 WHERE number = 1")
    db.execute("UPDATE sessions SET status = 'attended' WHERE number = 2")
    db.execute("UPDATE sessions SET status = 'cancelled' WHERE number = 3")
    db.execute("UPDATE sessions SET note = 'a note only' WHERE number = 3")
    db.commit()
    db.close()
    first, second, third = book.course_sessions(record.id)
    assert (first.sequence, second.sequence, third.sequence) == (2, 0, 1)
    assert {first.modified, second.modified, third.modified} != {NOW}
    assert NOW not in (first.modified, second.modified, third.modified)
    book.close()


def test_a_feed_token_is_kept_as_its_hash_and_found_by_it(tmp_path: Path) -> None:
    book = open_book(tmp_path / "b.sqlite")
    token = "k" * 43
    with book.writing() as tx:
        made = tx.add_feed(token, "patient", "P-001", NOW, NOW + timedelta(days=30))
    assert book.feed_for_token(token) == made
    assert book.feed_for_token("j" * 43) is None
    assert made.state(NOW) == "active"
    assert made.state(NOW + timedelta(days=30)) == "expired"
    with book.writing() as tx:
        revoked = tx.revoke_feed(made.id, NOW + timedelta(days=1))
        again = tx.revoke_feed(made.id, NOW + timedelta(days=2))
    assert revoked == again
    assert revoked is not None
    assert revoked.state(NOW + timedelta(days=1)) == "revoked"
    book.close()
    assert token.encode() not in (tmp_path / "b.sqlite").read_bytes()


def test_a_long_lived_reader_sees_every_later_write_while_the_process_opens_more(
    tmp_path: Path,
) -> None:
    """The feed server keeps one connection per thread for hours, opening more as it
    starts threads, while coordinators write from their own processes. Opening another
    connection must not take away the reader's locks (closing any descriptor of the
    file would), or the writer's process, thinking itself the last, removes the WAL
    under it and the reader goes on seeing an old state of the book."""
    path = tmp_path / "b.sqlite"
    reader = open_book(path)
    with reader.snapshot():
        assert reader.sessions_between(NOW, NOW + timedelta(days=30)) == []
    for count, day in enumerate((7, 9, 11, 14), start=1):
        open_book(path).close()  # another thread of this process starts reading
        script = (
            "import sys\n"
            "from pathlib import Path\n"
            "from tests.test_store import course, session\n"
            "from ketaplan.store import open_book\n"
            "book = open_book(Path(sys.argv[1]))\n"
            "with book.writing() as tx:\n"
            f"    tx.add_course(course('P-{day:03d}'), [session(1, {day}, uid='u{day}@k')])\n"
            "book.close()\n"
        )
        subprocess.run(
            [sys.executable, "-c", script, str(path)], check=True, cwd=Path(__file__).parent.parent
        )
        with reader.snapshot():
            assert len(reader.sessions_between(NOW, NOW + timedelta(days=30))) == count
    reader.close()


def test_a_course_s_life_is_stored_alike_on_both_backends(book_at: str) -> None:
    """Every lifecycle write and read of the store, on SQLite and on PostgreSQL."""
    from ketaplan.model.records import (
        Attendance,
        ClinicRecord,
        FormFiled,
        HistoryEntry,
        Measurements,
        SessionChange,
    )

    book = open_book(book_at)
    assert book.clinic() is None
    iv = NewCourse(
        "P-001", "iv", "IV ketamine", '{"route": "iv"}', date(2026, 12, 7), "Europe/Berlin", NOW
    )
    with book.writing() as tx:
        made = tx.add_course(iv, [session(1, 7), session(2, 9), session(3, 11)])
    clinic = ClinicRecord("c-1", "Lakeside", '{"clinic": {"name": "Lakeside"}}', NOW, "anna", "f")
    with book.writing() as tx:
        tx.save_clinic(clinic)
    # The book's first clinic takes what was stored before it.
    assert stored(book_at, "SELECT DISTINCT clinic_id FROM sessions") == [("c-1",)]
    assert book.clinic() == clinic
    first, second, third = book.course_sessions(made.id)
    later = NOW + timedelta(days=6)
    with book.writing() as tx:
        tx.record_session(
            Attendance(
                first.id, "attended", None, Measurements(128, 82, 72, 98, 18), None, "a", later
            )
        )
        tx.change_session(
            SessionChange(
                second.id, "induction", 2, 6, second.start + timedelta(days=1),
                second.end + timedelta(days=1), 2, "moved",
            )
        )  # fmt: skip
        tx.cancel_sessions([third.id])
        tx.set_course_state(made.id, "active", "interrupted", date(2026, 12, 9))
        tx.add_history(HistoryEntry(made.id, "P-001", later, "anna", "move", "ill", "[]", "[]"))
        tx.file_form(FormFiled(first.id, date(2026, 12, 8), "anna", later))
    rows = book.patient_sessions("P-001")
    assert [(r.number, r.status, r.sequence, r.chair, r.note) for r in rows] == [
        (1, "attended", 0, 1, None),
        (2, "booked", 1, 2, "moved"),
        (3, "cancelled", 1, 1, None),
    ]
    assert rows[1].start == datetime(2026, 12, 10, 9, 0, tzinfo=BERLIN)
    (record,) = book.session_records(made.id)
    assert (record.outcome, record.measured.phq9, record.recorded) == ("attended", 18, later)
    current = book.active_course("P-001")
    assert current is not None
    assert (current.induction, current.induction_since) == ("interrupted", date(2026, 12, 9))
    (entry,) = book.history("P-001")
    assert (entry.what, entry.who, entry.when) == ("move", "anna", later)
    assert book.forms_filed([first.id, second.id]) == {
        first.id: FormFiled(first.id, date(2026, 12, 8), "anna", later)
    }
    week = (NOW, NOW + timedelta(days=14))
    assert [s.id for s in book.attended_sessions(*week, route="iv")] == [first.id]
    assert book.attended_sessions(*week, route="esketamine") == []
    assert [h.updated_by for h in book.clinic_history()] == ["anna"]
    book.close()


def test_clinics_of_a_postgresql_book_never_see_each_other(book_at: str) -> None:
    from ketaplan.model.records import ClinicRecord

    if not book_at.startswith("postgresql://"):
        book = open_book(book_at)
        with book.writing() as tx:
            tx.save_clinic(ClinicRecord("c-1", "Lakeside", "{}", NOW, "anna"))
        book.close()
        other = open_book(book_at, clinic="Hillside")
        with pytest.raises(BookError, match="a book file keeps one clinic"), other.writing() as tx:
            tx.save_clinic(ClinicRecord("c-2", "Hillside", "{}", NOW, "ben"))
        other.close()
        return
    for clinic_id, name in (("c-1", "Lakeside"), ("c-2", "Hillside")):
        book = open_book(book_at, clinic=name)
        with book.writing() as tx:
            tx.save_clinic(ClinicRecord(clinic_id, name, "{}", NOW, "anna"))
            # The same patient code and calendar uid in both: each clinic's own.
            tx.add_course(course(), [session(1, 7)])
        book.close()
    lakeside = open_book(book_at, clinic="Lakeside")
    hillside = open_book(book_at, clinic="Hillside")
    a, b = lakeside.active_course("P-001"), hillside.active_course("P-001")
    assert a is not None
    assert b is not None
    assert a.id != b.id
    assert [s.course_id for s in lakeside.patient_sessions("P-001")] == [a.id]
    with hillside.writing() as tx:
        assert tx.cancel_course(a.id, NOW) == 0  # another clinic's course: untouched
    with lakeside.writing() as tx:
        feed = tx.add_feed("t" * 43, "staff", None, NOW, None)
    # A feed opens its own clinic's calendar only: another clinic's server never finds it.
    assert lakeside.feed_for_token("t" * 43) == feed
    assert hillside.feed_for_token("t" * 43) is None
    assert hillside.feeds() == []
    assert lakeside.active_course("P-001") == a
    stored_clinic = lakeside.clinic()
    assert stored_clinic is not None
    assert stored_clinic.name == "Lakeside"
    lakeside.close()
    hillside.close()


def test_a_version_6_book_gives_its_rows_to_its_clinic(tmp_path: Path) -> None:

    path = tmp_path / "v6.sqlite"
    older_book(path, 6)
    with closing(sqlite3.connect(path)) as db, db:
        db.execute(
            "INSERT INTO clinic VALUES ('c-1', 'Lakeside', '{}', '2026-12-01T08:00:00Z', 'anna')"
        )
        db.execute(
            "INSERT INTO courses (patient, protocol, title, definition, start_date, zone, "
            "active, created_utc) VALUES ('P-001', 'iv', 'IV ketamine', '{}', '2026-12-07', "
            "'Europe/Berlin', 1, '2026-12-01T08:00:00Z')"
        )
        db.execute("INSERT INTO screenings (patient, screened_on, answers, summary, "
                   "contraindicated, recorded_utc) VALUES ('P-001', '2026-11-30', '{}', '', 0, "
                   "'2026-11-30T08:00:00Z')")  # fmt: skip
    book = open_book(path)
    assert book.active_course("P-001") is not None
    assert book.latest_screening("P-001") is not None
    assert (book.clinic() or pytest.fail("no clinic")).name == "Lakeside"
    book.close()
    assert stored(str(path), "SELECT clinic_id FROM courses UNION ALL "
                  "SELECT clinic_id FROM screenings") == [("c-1",), ("c-1",)]  # fmt: skip


def test_a_course_keeps_what_its_booking_asked_for(book_at: str) -> None:
    from dataclasses import replace

    asked = '{"start":"2026-12-05","time":"09:00"}'
    book = open_book(book_at)
    with book.writing() as tx:
        made = tx.add_course(replace(course(), asked=asked), [session(1, 7)])
        tx.add_course(course("P-002"), [session(1, 9, uid="u9@ketaplan")])
    assert made.asked == asked
    kept = book.active_course("P-001") or pytest.fail("no course")
    assert (kept.start, kept.asked) == (date(2026, 12, 7), asked)
    assert (book.active_course("P-002") or pytest.fail("no course")).asked is None
    book.close()
    # JSON only: what is not JSON never gets in, past ketaplan either.
    with pytest.raises(Exception, match=r"(?i)check|json"):
        stored(book_at, "UPDATE courses SET asked = 'not json'")


def test_a_version_8_book_keeps_its_courses_with_no_request(tmp_path: Path) -> None:

    path = tmp_path / "v8.sqlite"
    older_book(path, 8)
    with closing(sqlite3.connect(path)) as db, db:
        db.execute(
            "INSERT INTO courses (patient, protocol, title, definition, start_date, zone, "
            "active, created_utc) VALUES ('P-001', 'iv', 'IV ketamine', '{}', '2026-12-07', "
            "'Europe/Berlin', 1, '2026-12-01T08:00:00Z')"
        )
    book = open_book(path)
    record = book.active_course("P-001") or pytest.fail("no course")
    assert (record.start, record.asked) == (date(2026, 12, 7), None)
    book.close()
    assert stored(str(path), "SELECT max(version) FROM schema_migrations") == [(len(MIGRATIONS),)]


def test_feeds_counter_and_revisions_alike_on_both_backends(book_at: str) -> None:
    """The feed store, the change counter and the revision rule (a trigger on either
    backend), on SQLite and on PostgreSQL."""
    book = open_book(book_at)
    before = book.state()
    token = "k" * 43
    with book.writing() as tx:
        made = tx.add_feed(token, "staff", None, NOW, None)
        record = tx.add_course(course(), [session(1, 7), session(2, 9)])
    assert book.feed_for_token(token) == made
    assert book.feeds() == [made]
    assert book.state().changes == before.changes + 1
    assert book.state().clinic_id == before.clinic_id
    with book.writing() as tx:
        revoked = tx.revoke_feed(made.id, NOW)
    assert revoked is not None
    assert revoked.revoked == NOW
    first, second = book.course_sessions(record.id)
    assert first.modified is not None
    # A change written past the store's own code still raises the calendar revision.
    if book_at.startswith("postgresql://"):
        import psycopg

        with psycopg.connect(book_at) as pg:
            pg.execute("UPDATE sessions SET chair = 2 WHERE id = %s", (first.id,))
            pg.execute("UPDATE sessions SET status = 'attended' WHERE id = %s", (second.id,))
    else:
        with closing(sqlite3.connect(book_at)) as db, db:
            db.execute("UPDATE sessions SET chair = 2 WHERE id = ?", (first.id,))
            db.execute("UPDATE sessions SET status = 'attended' WHERE id = ?", (second.id,))
    moved, attended = book.course_sessions(record.id)
    assert (moved.sequence, moved.chair, attended.sequence) == (1, 2, 0)
    assert book.state().changes == before.changes + 2
    book.close()
    assert stored(book_at, "SELECT count(*) FROM feeds WHERE token_sha256 = 'k'") == [(0,)]


def test_a_version_9_book_counts_on_from_its_changes_for_its_clinic(tmp_path: Path) -> None:
    """Migration 10 gives each clinic its own change counter, starting from the book's:
    a feed's ETag never goes back to one it had before."""
    path = tmp_path / "v9.sqlite"
    older_book(path, 9)
    with closing(sqlite3.connect(path)) as db, db:
        db.execute(
            "INSERT INTO clinic VALUES ('c-1', 'Lakeside', '{}', '2026-12-01T08:00:00Z', 'anna')"
        )
        db.execute(
            "INSERT INTO clinic_changes (clinic_id, settings, source, changed_utc, changed_by) "
            "VALUES ('c-1', '{}', 'ketaplan.toml', '2026-12-01T08:00:00Z', 'anna')"
        )
        db.execute("UPDATE book_info SET changes = 41, changed_utc = '2026-12-01T08:00:00Z'")
    book = open_book(path)
    before = book.state()
    assert before.changes == 41
    with book.writing():
        pass
    after = book.state()
    assert (after.clinic_id, after.changes) == (before.clinic_id, 42)
    book.close()
