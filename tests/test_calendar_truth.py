"""Calendar files that stay true over time: UIDs that never collide across clinics, kinds
or calendars, cancellations written out, every change a higher SEQUENCE, and the same
bytes whether a calendar is streamed or built whole."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from icalendar import Calendar

from ketaplan.formats.calendars import UID_KINDS, UidKind, event_uid
from ketaplan.formats.ics import (
    CalendarEvent,
    CalendarHeader,
    _header,
    _vevent,
    calendar_bytes,
    write_calendar,
)
from tests.clirun import run
from tests.ics_readers import read_agreed
from tests.uids import book_uid, clinic_id

CLINIC = """[clinic]
name = "Lakeside"
timezone = "Europe/Berlin"
chairs = 2
hours = "08:00-20:00"
require_screening = false
"""
START = "2030-01-07"
EPOCH = "1767225600"  # 2026-01-01 00:00:00 UTC


@pytest.fixture(autouse=True)
def _clinic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "ketaplan.toml").write_text(CLINIC, encoding="utf-8")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)


def book(capsys: pytest.CaptureFixture[str], patient: str, *args: str) -> None:
    result = run(
        capsys, "book", "--patient", patient, "--start", START, "--time", "09:00",
        "--maintenance-sessions", "1", *args,
    )  # fmt: skip
    assert result.code == 0, result.err


def export(capsys: pytest.CaptureFixture[str], *args: str) -> bytes:
    result = run(capsys, "export", "--ics", "-", *args)
    assert result.code == 0, result.err
    return result.out.encode()


# --- UIDs -------------------------------------------------------------------------

keys = st.text(min_size=1, max_size=60)
scopes = st.one_of(
    st.just("preview"), st.text(alphabet="0123456789abcdef", min_size=32, max_size=32)
)


@given(
    st.lists(
        st.tuples(scopes, st.sampled_from(UID_KINDS), keys), min_size=2, max_size=8, unique=True
    )
)
def test_uids_differ_by_clinic_kind_and_session_and_none_contains_another(
    things: list[tuple[str, UidKind, str]],
) -> None:
    uids = [event_uid(scope, kind, key) for scope, kind, key in things]
    assert len(set(uids)) == len(uids)
    assert not [(a, b) for a in uids for b in uids if a != b and a in b]
    assert uids == [event_uid(scope, kind, key) for scope, kind, key in things]  # stable
    assert {len(uid) for uid in uids} == {51}
    for uid, (_, kind, _) in zip(uids, things, strict=True):
        assert uid.startswith(f"{kind}-")
        assert uid.endswith(f"-{kind}@ketaplan")


def test_the_same_course_in_two_books_has_different_uids_and_each_book_keeps_its_own(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    book(capsys, "P-001")
    first = export(capsys, "--patient", "P-001")
    assert export(capsys, "--patient", "P-001") == first  # stable across exports
    other = tmp_path / "other.sqlite"
    book(capsys, "P-001", "--book", str(other))
    second = export(capsys, "--patient", "P-001", "--book", str(other))
    uids = [{str(e["UID"]) for e in Calendar.from_ical(f).walk("VEVENT")} for f in (first, second)]
    assert len(uids[0]) == len(uids[1]) == 7
    assert not uids[0] & uids[1]
    assert clinic_id(tmp_path / "book.sqlite") != clinic_id(other)


def test_preview_patient_and_staff_uids_of_one_session_differ(
    capsys: pytest.CaptureFixture[str],
) -> None:
    plan = run(
        capsys, "plan", "--patient", "P-001", "--start", START, "--time", "09:00",
        "--maintenance-sessions", "1", "--ics", "-",
    )  # fmt: skip
    book(capsys, "P-001")
    files = (
        plan.out.encode(),
        export(capsys, "--patient", "P-001"),
        export(capsys, "--staff", "--from", START),
    )
    readings = read_agreed(*files)
    kinds = [{e["uid"][:5] for e in r["events"]} for r in readings]
    assert kinds == [{"plan-"}, {"appt-"}, {"team-"}]
    starts = [[e["start"] for e in r["events"]] for r in readings]
    assert starts[0] == starts[1] == starts[2]  # the same seven sessions


# --- cancellations, SEQUENCE, LAST-MODIFIED ----------------------------------------


def test_a_replaced_course_stays_in_the_patients_file_as_cancelled(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    book(capsys, "P-001")
    before = read_agreed(export(capsys, "--patient", "P-001"))[0]["events"]
    later = (date.fromisoformat(START) + timedelta(days=14)).isoformat()
    result = run(
        capsys, "book", "--patient", "P-001", "--start", later, "--time", "10:00",
        "--maintenance-sessions", "1", "--replace", "--yes",
    )  # fmt: skip
    assert result.code == 0, result.err
    (reading,) = read_agreed(export(capsys, "--patient", "P-001"))
    events = reading["events"]
    cancelled = [e for e in events if e["status"] == "CANCELLED"]
    live = [e for e in events if e["status"] is None]
    assert len(cancelled) == len(live) == 7
    # Every old event again, by its UID, now cancelled, one revision up, blocking nothing.
    assert {e["uid"] for e in cancelled} == {e["uid"] for e in before}
    for old in before:
        new = next(e for e in cancelled if e["uid"] == old["uid"])
        assert new["summary"] == "Cancelled: " + old["summary"]
        assert (new["start"], new["end"]) == (old["start"], old["end"])
        assert new["sequence"] == old["sequence"] + 1
        assert new["transparency"] == "TRANSPARENT"
        assert new["alarms"] == []
        assert new["last_modified"] is not None
    assert [e["start"] for e in events] == sorted(e["start"] for e in events)
    assert all(e["uid"].startswith("appt-") for e in events)


def test_a_session_booked_again_at_another_time_keeps_its_uid_with_a_higher_sequence(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    book(capsys, "P-001")
    before = read_agreed(export(capsys, "--staff", "--from", START))[0]["events"]
    book(capsys, "P-001", "--time", "14:00", "--replace", "--yes")
    after = read_agreed(export(capsys, "--staff", "--from", START))[0]["events"]
    assert [e["uid"] for e in after] == [e["uid"] for e in before]
    for old, new in zip(before, after, strict=True):
        assert new["sequence"] > old["sequence"]
        assert new["start"] != old["start"]
        assert new["status"] == "CONFIRMED"
        assert new["last_modified"] is not None


def test_staff_events_are_private_where_the_clinic_asks(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    book(capsys, "P-001")
    assert {e["class"] for e in read_agreed(export(capsys, "--staff"))[0]["events"]} == {None}
    (tmp_path / "ketaplan.toml").write_text(CLINIC + "\n[calendar]\nprivate = true\n", "utf-8")
    applied = run(capsys, "clinic", "apply", "ketaplan.toml")  # the book carries its clinic
    assert applied.code == 0, applied.err
    staff, patient = read_agreed(
        export(capsys, "--staff", "--from", START), export(capsys, "--patient", "P-001")
    )
    assert {e["class"] for e in staff["events"]} == {"PRIVATE"}
    assert {e["class"] for e in patient["events"]} == {None}


def test_exports_name_the_clinics_zone(capsys: pytest.CaptureFixture[str]) -> None:
    book(capsys, "P-001")
    for reading in read_agreed(export(capsys, "--staff"), export(capsys, "--patient", "P-001")):
        assert reading["x_wr_timezone"] == "Europe/Berlin"
        assert reading["refresh_interval"] is None  # a file: nobody re-reads it


def test_the_book_uid_helper_matches_the_export(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    book(capsys, "P-001")
    (reading,) = read_agreed(export(capsys, "--staff", "--from", START, "--to", START))
    import sqlite3

    db = sqlite3.connect(tmp_path / "book.sqlite")
    (key,) = db.execute("SELECT uid FROM sessions WHERE number = 1").fetchone()
    db.close()
    assert reading["events"][0]["uid"] == book_uid(tmp_path / "book.sqlite", "team", key)


# --- streaming ----------------------------------------------------------------------

STAMP = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
times = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(UTC)
)


@st.composite
def events(draw: st.DrawFn) -> CalendarEvent:
    start = draw(times)
    all_day = draw(st.booleans())
    first: datetime | date = start.date() if all_day else start
    last: datetime | date = first + timedelta(days=1) if all_day else start + timedelta(hours=1)
    return CalendarEvent(
        uid=draw(st.text("abcdef0123456789-@", min_size=1, max_size=40)),
        summary=draw(st.text(max_size=90)),
        start=first,
        end=last,
        description=draw(st.text(max_size=200)),
        location=draw(st.text(max_size=40)),
        transparent=draw(st.booleans()),
        sequence=draw(st.integers(0, 1000)),
        alarm_minutes=draw(st.none() | st.integers(0, 10_000)),
        alarm_text=draw(st.text(max_size=40)),
        status=draw(st.none() | st.sampled_from(["CONFIRMED", "CANCELLED"])),
        categories=tuple(draw(st.lists(st.text(min_size=1, max_size=12), max_size=3))),
        private=draw(st.booleans()),
        modified=draw(st.none() | times),
    )


@given(st.lists(events(), max_size=6), st.text(max_size=40), st.booleans())
def test_a_streamed_calendar_is_byte_for_byte_the_whole_tree(
    found: list[CalendarEvent], name: str, feed: bool
) -> None:
    header = CalendarHeader(
        name, zone="Europe/Berlin", refresh=timedelta(hours=1) if feed else None
    )
    whole = Calendar.from_ical(_header(header) + b"END:VCALENDAR\r\n")
    for event in found:
        whole.add_component(_vevent(event, STAMP))
    pieces: list[bytes] = []
    assert write_calendar(pieces.append, header, iter(found), stamp=STAMP) == len(found)
    assert b"".join(pieces) == whole.to_ical()
    assert calendar_bytes(header, found, stamp=STAMP) == whole.to_ical()
