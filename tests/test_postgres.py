"""The book on a real PostgreSQL server: the same commands give the same output as with
SQLite, clinics keep apart, passwords never show, several machines never double-book a
chair, a killed booking leaves nothing, and a whole book copies both ways."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ketaplan.errors import BookError
from ketaplan.store import open_book
from ketaplan.store import postgres as pg_store
from ketaplan.store import sqlite as sqlite_store
from tests.clirun import run
from tests.pgtest import fresh_database
from tests.pinned import pin
from tests.test_store import NOW, course, session

CLINIC = """[clinic]
name = "Lakeside"
timezone = "Europe/Berlin"
chairs = 4
hours = "08:00-18:00"
require_screening = false
"""
START = "2030-01-07"  # a Monday
ROSTER = "patient,protocol,start,time,days,maintenance_every,rems_enrolled\n"


@pytest.fixture
def url() -> Iterator[str]:
    with fresh_database() as new:
        yield new


@pytest.fixture(autouse=True)
def _clinic(tmp_path: Path) -> None:
    (tmp_path / "ketaplan.toml").write_text(CLINIC, encoding="utf-8")


def older_book(url: str, version: int) -> None:
    """The database as the ketaplan that knew only the first `version` migrations wrote
    it, through the real code path."""
    with pytest.MonkeyPatch.context() as old:
        old.setattr(pg_store, "MIGRATIONS", pg_store.MIGRATIONS[:version])
        pg_store.open_dialect(url, create=True)[0].close()


def sql(url: str, statement: str) -> list[tuple[Any, ...]]:
    import psycopg

    with psycopg.connect(url, autocommit=True) as db:
        cursor = db.execute(statement)
        return cursor.fetchall() if cursor.description else []


def test_both_stores_have_the_same_numbered_migrations() -> None:
    assert len(pg_store.MIGRATIONS) == len(sqlite_store.MIGRATIONS)


def test_a_new_book_is_marked_and_records_its_migrations(url: str) -> None:
    open_book(url).close()
    assert sql(url, "SELECT application_id, version FROM ketaplan_book") == [
        (0x4B54504C, pg_store.schema_version())
    ]
    versions = [v for (v,) in sql(url, "SELECT version FROM schema_migrations ORDER BY 1")]
    assert versions == list(range(1, pg_store.schema_version() + 1))
    # The clinic is stored by the first command that writes (or `init`), from the config.
    assert sql(url, "SELECT count(*) FROM clinic") == [(0,)]


def test_a_missing_book_is_not_created_for_reading(url: str) -> None:
    with pytest.raises(BookError) as error:
        open_book(url, create=False)
    assert str(error.value) == (
        f"there is no clinic book at {url} yet; `ketaplan init` or the first `ketaplan book` "
        "creates it"
    )
    assert sql(url, "SELECT count(*) FROM information_schema.tables "
               "WHERE table_schema = 'public'") == [(0,)]  # fmt: skip


def test_another_programs_database_is_refused_and_left_untouched(url: str) -> None:
    sql(url, "CREATE TABLE things (x integer)")
    with pytest.raises(BookError) as error:
        open_book(url)
    assert str(error.value) == (
        f"{url} holds another program's tables, not a ketaplan book; left untouched"
    )
    assert sql(url, "SELECT table_name FROM information_schema.tables "
               "WHERE table_schema = 'public'") == [("things",)]  # fmt: skip


def test_a_book_from_a_newer_ketaplan_is_refused_and_left_untouched(url: str) -> None:
    open_book(url).close()
    newer = pg_store.schema_version() + 1
    sql(url, f"UPDATE ketaplan_book SET version = {newer}")
    with pytest.raises(BookError) as error:
        open_book(url)
    assert str(error.value) == (
        f"the book {url} was written by a newer ketaplan (book version {newer}; "
        f"this ketaplan reads up to {pg_store.schema_version()}); left untouched: upgrade ketaplan"
    )
    assert len(sql(url, "SELECT * FROM schema_migrations")) == pg_store.schema_version()


def test_a_version_1_book_upgrades_without_losing_anything(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    older_book(url, 1)
    sql(
        url,
        "INSERT INTO courses (patient, protocol, title, definition, start_date, zone, active, "
        "created_utc) VALUES ('P-001', 'esketamine', 'Esketamine nasal spray', "
        "'{\"route\":\"esketamine\"}', '2026-12-07', 'Europe/Berlin', true, "
        "'2026-12-01T08:00:00Z')",
    )
    book = open_book(url)
    assert book.active_course("P-001") is not None
    assert book.latest_screening("P-001") is None
    book.close()
    # No clinic stored yet: the course has none, until the first clinic takes it.
    assert sql(url, "SELECT clinic_id, status FROM courses") == [(None, "active")]
    assert run(capsys, "init", "--book", url).code == 0
    assert sql(url, "SELECT c.name FROM courses o JOIN clinic c ON c.id = o.clinic_id") == [
        ("Lakeside",)
    ]
    assert sql(url, "SELECT version FROM ketaplan_book") == [(pg_store.schema_version(),)]


def test_a_version_8_book_keeps_its_courses_with_no_request(url: str) -> None:
    older_book(url, 8)
    sql(
        url,
        "INSERT INTO courses (patient, protocol, title, definition, start_date, zone, active, "
        "created_utc) VALUES ('P-001', 'iv', 'IV ketamine', '{}', '2026-12-07', "
        "'Europe/Berlin', true, '2026-12-01T08:00:00Z')",
    )
    book = open_book(url)
    record = book.active_course("P-001") or pytest.fail("no course")
    assert record.asked is None
    book.close()
    assert sql(url, "SELECT max(version) FROM schema_migrations") == [(len(pg_store.MIGRATIONS),)]


def test_a_url_with_a_password_is_refused_without_showing_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    result = run(capsys, "agenda", "--book", "postgresql://nurse:s3cret@127.0.0.1/clinics")
    assert (result.code, result.out) == (2, "")
    assert result.err == (
        "Error: the book's URL carries a password; give it in PGPASSWORD, ~/.pgpass or a "
        "service file, never in the URL\n"
    )


def test_a_wrong_password_is_refused_without_showing_it(
    url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with monkeypatch.context() as wrong:  # undone before the database is dropped
        wrong.setenv("PGPASSWORD", "wrong-but-secret")
        wrong.setenv("PGPASSFILE", os.devnull)
        result = run(capsys, "agenda", "--book", url)
    assert result.code == 1
    assert result.err.startswith(f"Error: cannot open the book {url}: ")
    assert "password authentication failed" in result.err
    assert "wrong-but-secret" not in result.err


def test_clinics_of_one_database_keep_apart(
    url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    for clinic in ("Lakeside", "Hillside"):
        (tmp_path / f"{clinic}.toml").write_text(
            CLINIC.replace("Lakeside", clinic), encoding="utf-8"
        )
        result = run(
            capsys, "init", "--book", url, "--clinic", clinic, "--config", f"{clinic}.toml"
        )
        assert result.code == 0, result.err
    assert run(capsys, "admin", "clinics", "--book", url).out == (
        f"Clinics in {url}:\n  Hillside: 0 courses\n  Lakeside: 0 courses\n"
    )
    assert run(capsys, "admin", "clinics", "--book", url, "--format", "csv").out == (
        "name,courses\nHillside,0\nLakeside,0\n"
    )
    args = ("--start", START, "--time", "09:00", "--book", url)

    def changes(clinic: str) -> int:
        book = open_book(url, create=False, clinic=clinic)
        try:
            return book.state().changes
        finally:
            book.close()

    for clinic in ("Lakeside", "Hillside"):
        before = {name: changes(name) for name in ("Lakeside", "Hillside")}
        result = run(
            capsys, "book", "--patient", "P-001", *args, "--clinic", clinic,
            "--config", f"{clinic}.toml",
        )  # fmt: skip
        assert result.code == 0, result.err
        assert f"Book: {url} · clinic {clinic}\n" in result.err
        # Each clinic counts its own changes: the other's feeds keep their ETag.
        after = {name: changes(name) for name in ("Lakeside", "Hillside")}
        elsewhere = "Hillside" if clinic == "Lakeside" else "Lakeside"
        assert after[clinic] > before[clinic]
        assert after[elsewhere] == before[elsewhere]
    # The same patient code booked alike in both: never one UID for two events.
    uids = {
        clinic: set(
            re.findall(
                r"^UID:(.*)$",
                run(capsys, "export", "--staff", "--ics", "-", "--from", START, "--book", url,
                    "--clinic", clinic, "--config", f"{clinic}.toml").out,
                re.MULTILINE,
            )
        )
        for clinic in ("Lakeside", "Hillside")
    }  # fmt: skip
    assert uids["Lakeside"]
    assert uids["Hillside"]
    assert not uids["Lakeside"] & uids["Hillside"]
    week = run(
        capsys, "agenda", "--week", START, "--book", url, "--clinic", "Hillside",
        "--config", "Hillside.toml",
    )  # fmt: skip
    assert week.out.count("P-001") == 3  # the induction's first week, once
    # A config of another clinic is refused, as with a book file.
    other = run(capsys, "agenda", "--week", START, "--book", url, "--clinic", "Hillside")
    assert other.code == 1
    assert "disagrees with the clinic stored in the book" in other.err
    wrong = run(capsys, "init", "--book", url, "--clinic", "Seaside", "--config", "Hillside.toml")
    assert (wrong.code, wrong.err.splitlines()[-1]) == (
        1,
        "Error: the config names its clinic 'Hillside', not 'Seaside'; nothing was stored: "
        "use a config whose [clinic] name is the clinic's",
    )
    result = run(capsys, "agenda", "--book", url)
    assert (result.code, result.err) == (
        2,
        f"Error: the book {url} holds 2 clinics (Hillside, Lakeside); name one with --clinic "
        "or `clinic` in the config's [book] table\n",
    )
    result = run(capsys, "agenda", "--book", url, "--clinic", "Seaside")
    assert (result.code, result.err) == (
        1,
        f"Error: the book {url} has no clinic 'Seaside' (it has Hillside, Lakeside); "
        "`ketaplan init --clinic Seaside --config FILE` adds it, with a config whose "
        "[clinic] name is the clinic's\n",
    )


def test_a_writer_waiting_too_long_gets_the_busy_error(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import psycopg

    from ketaplan.store import base

    book = open_book(url)
    monkeypatch.setattr(base, "BUSY_SECONDS", 0.3)
    with psycopg.connect(url) as other:  # another machine, mid-booking
        # A book without a clinic yet: its writers queue on the whole book's lock.
        other.execute("SELECT pg_advisory_xact_lock(%s, hashtext('book'))", (base.APPLICATION_ID,))
        with pytest.raises(BookError) as error, book.writing() as tx:
            tx.add_course(course(), [session(1, 7)])
    assert str(error.value) == (
        f"the book {url} is busy: another ketaplan has been writing to it for 0 seconds; "
        "nothing was booked, try again"
    )
    assert book.active_course("P-001") is None
    book.close()


def test_every_command_prints_the_same_with_either_book(
    url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Booking, the lifecycle (attend, miss, move, cancel, course, history), agendas,
    calendars and REMS on both backends, with the clock pinned: the same output."""
    at = pin(monkeypatch)
    day = "2026-12-07"  # a Monday
    (tmp_path / "r.csv").write_text(
        ROSTER
        + f"P-002,iv,{day},09:00,,,\nP-003,esketamine,{day},10:00,,,2026-11-02\n"
        + f'P-004,im,{day},09:00,"tue,thu",4w,\n',
        "utf-8",
    )
    first = "2026-12-01T09:00:00+01:00"
    steps: list[tuple[str, tuple[str, ...]]] = [
        (first, ("rems", "enroll", "--patient", "P-005", "--date", "2026-11-20")),
        (first, ("book", "--patient", "P-001", "--start", day, "--time", "09:00",
                 "--maintenance-sessions", "2")),
        (first, ("book", "--patient", "P-001", "--start", day, "--time", "09:00")),
        (first, ("book", "--roster", "r.csv")),
        (first, ("book", "--patient", "P-004", "--start", "2026-12-14", "--replace", "--yes",
                 "--format", "csv")),
        ("2026-12-02T10:00:00+01:00", ("move", "--patient", "P-001", "--session", "7", "--to",
                                       "2026-12-28", "--override", "family emergency",
                                       "--by", "dr-lee")),
        ("2026-12-07T10:00:00+01:00", ("attend", "--patient", "P-001", "--phq9", "19",
                                       "--by", "anna")),
        ("2026-12-09T18:00:00+01:00", ("miss", "--patient", "P-001", "--reason", "no-show")),
        ("2026-12-09T18:00:00+01:00", ("cancel", "--patient", "P-002", "--course", "--reason",
                                       "moved away")),
        ("2026-12-09T18:00:00+01:00", ("course", "--patient", "P-001", "--format", "json")),
        ("2026-12-09T18:00:00+01:00", ("history", "--patient", "P-001", "--format", "json")),
        ("2026-12-09T18:00:00+01:00", ("agenda", "--week", day)),
        ("2026-12-09T18:00:00+01:00", ("agenda", "--from", day, "--to", "2027-02-28",
                                       "--format", "json")),
        ("2026-12-09T18:00:00+01:00", ("export", "--staff", "--ics", "-", "--from", day,
                                       "--to", "2026-12-20")),
        ("2026-12-09T18:00:00+01:00", ("export", "--patient", "P-001", "--ics", "-")),
        ("2026-12-09T18:00:00+01:00", ("rems", "due", "--week", "2026-12-14")),
        ("2026-12-09T18:00:00+01:00", ("book", "--patient", "Jane Doe", "--start", day)),
    ]  # fmt: skip
    outputs: dict[str, list[tuple[int, str, str]]] = {}
    for where in (str(tmp_path / "b.sqlite"), url):
        outputs[where] = []
        for moment, step in steps:
            at(moment)
            result = run(capsys, *step, "--book", where)
            text = (result.out + result.err).replace(where, "BOOK")
            # Calendar stamps are the moment of export, not part of the book.
            text = re.sub(r"DTSTAMP:\d{8}T\d{6}Z", "DTSTAMP:...", text)
            # Each book has its own random id in its UIDs, and its rows' own times of change.
            text = re.sub(r"-[0-9a-f]{32}-", "-BOOKID-", text)
            text = re.sub(r"LAST-MODIFIED:\d{8}T\d{6}Z", "LAST-MODIFIED:...", text)
            outputs[where].append((result.code, text, " ".join(step)))
    sqlite_run, pg_run = outputs.values()
    codes = [code for code, _, _ in sqlite_run]
    assert codes == [0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2], sqlite_run
    for (code_a, text_a, command), (code_b, text_b, _) in zip(sqlite_run, pg_run, strict=True):
        assert (code_b, text_b) == (code_a, text_a), command


def test_a_clinic_change_replans_the_same_with_either_book(
    url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`clinic apply --replan` (savepoints, the chairs held by session) on both backends:
    the same sessions move to the same places, with the same history."""
    at = pin(monkeypatch)
    day = "2026-12-07"  # a Monday
    outputs: dict[str, list[tuple[int, str]]] = {}
    for where in (str(tmp_path / "b.sqlite"), url):
        (tmp_path / "ketaplan.toml").write_text(CLINIC, encoding="utf-8")
        at("2026-12-01T09:00:00+01:00")
        for patient in ("P-001", "P-002", "P-003"):
            booked = run(capsys, "book", "--patient", patient, "--start", day, "--time", "09:00",
                         "--maintenance-sessions", "1", "--book", where)  # fmt: skip
            assert booked.code == 0, booked.err
        # Two chairs fewer and Wednesday 9 December closed.
        (tmp_path / "ketaplan.toml").write_text(
            CLINIC.replace("chairs = 4", 'chairs = 2\nclosed = ["2026-12-09"]'), encoding="utf-8"
        )
        outputs[where] = []
        for step in (
            ("clinic", "apply", "ketaplan.toml", "--replan", "--by", "amsel"),
            ("agenda", "--from", day, "--to", "2027-01-31", "--format", "json"),
            ("history", "--patient", "P-003", "--format", "json"),
        ):
            result = run(capsys, *step, "--book", where)
            text = re.sub(r"-[0-9a-f]{32}-", "-BOOKID-", result.out).replace(where, "BOOK")
            outputs[where].append((result.code, text))
    sqlite_run, pg_run = outputs.values()
    assert [code for code, _ in sqlite_run] == [0, 0, 0]
    assert "Re-planned" in sqlite_run[0][1]
    assert pg_run == sqlite_run


def test_a_book_copies_to_postgresql_and_back_unchanged(
    url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "r.csv").write_text(
        ROSTER + "".join(f"P-{i:03},iv,{START},09:00,,3w,\n" for i in range(12)), "utf-8"
    )
    assert run(capsys, "book", "--roster", "r.csv", "--book", "a.sqlite").code == 0
    enroll = ("rems", "enroll", "--patient", "P-100", "--date", "2026-11-20")
    assert run(capsys, *enroll, "--book", "a.sqlite").code == 0
    before = (tmp_path / "a.sqlite").read_bytes()
    result = run(capsys, "admin", "copy", "a.sqlite", url)
    assert (result.code, result.err) == (0, "")
    assert result.out == (
        f"Copied a.sqlite to {url}: 1 clinic, 1 clinic change, 12 courses, 144 sessions, "
        "0 session records, 12 history entries, 0 REMS forms, 0 screenings, "
        "1 REMS enrollment, 0 calendar feeds; the counts match\n"
    )
    assert (tmp_path / "a.sqlite").read_bytes() == before
    assert run(capsys, "admin", "copy", url, "b.sqlite").code == 0
    agendas = [
        run(capsys, "agenda", "--from", START, "--to", "2030-06-30", "--format", "json",
            "--book", where).out
        for where in ("a.sqlite", url, "b.sqlite")
    ]  # fmt: skip
    assert agendas[0] == agendas[1] == agendas[2]
    # The copy's ids go on where the source's stopped.
    result = run(capsys, "book", "--patient", "P-200", "--start", START, "--book", url)
    assert result.code == 0, result.err
    assert sql(url, "SELECT max(id) FROM courses") == [(13,)]


def test_a_copy_into_a_book_holding_anything_is_refused(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "book", "--patient", "P-001", "--start", START, "--book", url).code == 0
    assert run(capsys, "book", "--patient", "P-002", "--start", START, "--book", "a.sqlite")
    result = run(capsys, "admin", "copy", "a.sqlite", url)
    assert (result.code, result.out) == (1, "")
    assert result.err == (
        f"Error: the book {url} is not empty; nothing was copied: copy into a new book\n"
    )
    assert sql(url, "SELECT patient FROM courses") == [("P-001",)]


def test_a_copy_refuses_a_table_it_does_not_know(
    url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert run(capsys, "book", "--patient", "P-001", "--start", START, "--book", "a.sqlite")
    with sqlite3.connect(tmp_path / "a.sqlite") as db:
        db.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY)")
    result = run(capsys, "admin", "copy", "a.sqlite", url)
    assert result.err == (
        "Error: the book a.sqlite holds a table this ketaplan cannot copy (invoices); "
        "nothing was copied: upgrade ketaplan\n"
    )
    assert sql(url, "SELECT count(*) FROM courses") == [(0,)]


COORDINATOR = """
import pathlib, sys, time
from ketaplan.cli import book, main
import ketaplan.store.postgres
pathlib.Path(sys.argv[2]).touch()
while not pathlib.Path("go").exists():
    time.sleep(0.001)
sys.exit(main(["book", "--roster", sys.argv[1]]))
"""


def test_coordinators_on_several_machines_never_share_a_chair(url: str, tmp_path: Path) -> None:
    names = ("a", "b", "c", "d")
    for name in names:
        rows = "".join(f"{name.upper()}-{i:03},iv,{START},09:00,,,\n" for i in range(10))
        (tmp_path / f"{name}.csv").write_text(ROSTER + rows, "utf-8")
    open_book(url).close()  # one clinic, already there
    env = {**os.environ, "KETAPLAN_BOOK": url}
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", COORDINATOR, f"{name}.csv", f"{name}.ready"],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for name in names
    ]
    deadline = time.monotonic() + 60
    while not all((tmp_path / f"{n}.ready").exists() for n in names):
        assert time.monotonic() < deadline, "the booking processes did not start"
        time.sleep(0.01)
    (tmp_path / "go").touch()
    booked = 0
    for process in processes:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err.decode()
        found = re.search(r": (\d+) sessions", out.decode())
        assert found is not None
        booked += int(found[1])
    assert sql(url, "SELECT count(DISTINCT patient) FROM courses") == [(40,)]
    assert sql(url, "SELECT count(*) FROM sessions") == [(booked,)]
    clashes = sql(
        url,
        "SELECT a.id, b.id FROM sessions a JOIN sessions b ON a.id < b.id "
        "AND a.chair = b.chair AND a.start_utc < b.end_utc AND b.start_utc < a.end_utc "
        "WHERE a.status <> 'cancelled' AND b.status <> 'cancelled'",
    )
    assert clashes == []
    # Contended: every patient wanted the first day, which holds patients of several
    # processes (one process's ten take 15 of its 40 chair hours).
    first = sql(url, "SELECT DISTINCT left(c.patient, 1) FROM sessions s JOIN courses c "
                "ON c.id = s.course_id WHERE s.start_utc < '2030-01-08T00:00:00Z'")  # fmt: skip
    assert len(first) > 1


def test_a_booking_killed_half_way_leaves_the_book_as_it_was(url: str, tmp_path: Path) -> None:
    book = open_book(url)
    with book.writing() as tx:
        tx.add_course(course("P-000"), [session(1, 7)])
    book.close()
    before = sql(url, "SELECT count(*) FROM courses UNION ALL SELECT count(*) FROM sessions")
    (tmp_path / "ketaplan.toml").write_text(CLINIC.replace("chairs = 4", "chairs = 40"), "utf-8")
    rows = "".join(f"K-{i:04},iv,2030-0{1 + i % 6}-0{1 + i % 9},,,,\n" for i in range(1500))
    (tmp_path / "big.csv").write_text(ROSTER + rows, "utf-8")
    process = subprocess.Popen(
        [sys.executable, "-m", "ketaplan", "book", "--roster", "big.csv", "--book", url],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    # Wait until it holds the clinic's write lock and has written for a while.
    deadline = time.monotonic() + 60
    while not sql(url, "SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted"):
        assert process.poll() is None, "the roster ended before it took the lock"
        assert time.monotonic() < deadline, "the roster never took the lock"
        time.sleep(0.02)
    time.sleep(1.0)
    assert process.poll() is None, "the roster finished before it could be killed"
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    after = sql(url, "SELECT count(*) FROM courses UNION ALL SELECT count(*) FROM sessions")
    assert after == before
    # Its lock went with it: the next booking goes through at once.
    book = open_book(url)
    started = datetime.now(UTC)
    with book.writing() as tx:
        tx.add_course(course("P-001"), [session(1, 8, uid="x@ketaplan")])
    assert datetime.now(UTC) - started < timedelta(seconds=5)
    assert book.sessions_between(NOW, NOW + timedelta(days=30))[1].patient == "P-001"
    book.close()


def test_info_on_an_empty_database_says_the_clinic_comes_at_init(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    result = run(capsys, "info", "--book", url)
    assert result.code == 0, result.err
    assert result.out.splitlines()[2:] == [
        f"Book: {url} (given with --book)",
        "Clinic: Lakeside · Europe/Berlin (from ketaplan.toml, stored at init)",
    ]
    assert sql(url, "SELECT count(*) FROM information_schema.tables "
               "WHERE table_schema = 'public'") == [(0,)]  # fmt: skip
