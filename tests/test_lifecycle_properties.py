"""Properties of a course's life in a busy book: after any sequence of attend, miss,
not-dosed, cancel, move and booster, every future session keeps its protocol's rules or
the course is marked interrupted; no chair holds two sessions at once; no session row
is ever deleted; every live uid stays unique. Refusals change nothing."""

from __future__ import annotations

import sqlite3
from datetime import date, datetime, time, timedelta
from itertools import pairwise
from pathlib import Path
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ketaplan.booking import lifecycle
from ketaplan.booking.courses import BookingJob, book_courses
from ketaplan.errors import KetaplanError
from ketaplan.formats.protocol_file import protocol_from_definition
from ketaplan.model.calendar import ClinicCalendar
from ketaplan.model.clinic import ClinicConfig
from ketaplan.model.course import CourseRequest
from ketaplan.model.records import SessionRecord
from ketaplan.planning.protocols import BUILTIN
from ketaplan.planning.replan import TREATED
from ketaplan.planning.rules import course_violations
from ketaplan.store import Book, open_book

ZONE = "Europe/Berlin"
BERLIN = ZoneInfo(ZONE)
FIRST_DAY = date(2026, 12, 7)
CLINIC = ClinicConfig(
    name="Lakeside",
    zone=ZONE,
    chairs=2,
    starts_per_slot=2,
    require_screening=False,
)
CALENDAR = ClinicCalendar(CLINIC.open_weekdays, CLINIC.closures)

course_strategy = st.tuples(
    st.sampled_from(["iv", "im", "esketamine"]),
    st.integers(0, 4),  # start offset in days
    st.sampled_from([time(8, 0), time(9, 0), time(11, 30), time(14, 0)]),
    st.integers(1, 4),  # maintenance sessions
)
action_strategy = st.tuples(
    st.sampled_from(["attend", "miss", "not-dosed", "cancel", "move", "booster", "replan", "wait"]),
    st.integers(0, 50),  # which patient
    st.integers(0, 50),  # which session / how many days ahead
    st.integers(0, 3),  # days that pass before the action
)


def noon(day: date) -> datetime:
    return datetime.combine(day, time(12, 0), BERLIN)


def book_busy(
    book: Book, courses: list[tuple[str, int, time, int]], lozenges: int | None = None
) -> list[str]:
    """Book the courses; IV and IM ones with home lozenge doses every `lozenges` days."""
    jobs = []
    for i, (name, offset, at, maintenance) in enumerate(courses):
        request = CourseRequest(
            patient=f"P-{i:03d}",
            protocol=BUILTIN[name],
            start=FIRST_DAY + timedelta(days=offset),
            at=at,
            zone=ZONE,
            calendar=CALENDAR,
            open_sessions=maintenance,
            lozenge_every=lozenges if name != "esketamine" else None,
        )
        jobs.append(BookingJob(request, at, enrolled_on=date(2026, 11, 1)))
    result = book_courses(
        book, jobs, CLINIC, ZONE, now=noon(FIRST_DAY - timedelta(days=7)), replace=False
    )
    return [b.booking.course.patient for b in result.courses]


def rows(db_path: Path) -> list[tuple[int, str, str, str, str, int | None, str]]:
    with sqlite3.connect(db_path) as db:
        return list(
            db.execute(
                "SELECT id, uid, start_utc, end_utc, status, chair, location FROM sessions "
                "ORDER BY id"
            )
        )


def check_book(
    book: Book,
    db_path: Path,
    patients: list[str],
    today: date,
    calendar: ClinicCalendar = CALENDAR,
    lozenges: int | None = None,
) -> None:
    all_rows = rows(db_path)
    live = [r for r in all_rows if r[4] != "cancelled"]
    uids = [r[1] for r in live]
    assert len(uids) == len(set(uids)), "a live uid is booked twice"
    by_chair: dict[int, list[tuple[str, str]]] = {}
    for r in live:
        if r[6] == "clinic":
            assert r[5] is not None
            by_chair.setdefault(r[5], []).append((r[2], r[3]))
    for chair, spans in by_chair.items():
        spans.sort()
        for (_, end), (start, _) in pairwise(spans):
            assert end <= start, f"chair {chair} holds two sessions at {start}"
    for patient in patients:
        course = book.active_course(patient)
        assert course is not None
        protocol = protocol_from_definition(course.definition)
        sessions = book.course_sessions(course.id)
        slots = [
            (s.phase, s.start.date(), s.status, s.phase_number)
            for s in sessions
            if s.status != "cancelled" and s.location == "clinic"
        ]
        problems = course_violations(
            protocol,
            slots,
            calendar,
            today,
            induction=course.induction,
            induction_since=course.induction_since,
        )
        if course.induction == "interrupted":
            assert problems[-1].startswith("the induction is interrupted")
        else:
            assert problems == [], f"{patient}: {problems}"
        check_home_doses(patient, sessions, today, lozenges)


def check_home_doses(
    patient: str, sessions: list[SessionRecord], today: date, every: int | None
) -> None:
    """Home doses follow the visits: never two sessions of a course on one day, and no
    dose still to come closer than the lozenge interval to a visit (or booster)."""
    live = [s for s in sessions if s.status != "cancelled"]
    days = [s.start.date() for s in live]
    assert len(days) == len(set(days)), f"{patient}: two sessions on one day"
    if every is None:
        return
    visits = [s.start.date() for s in live if s.location == "clinic" and s.status in TREATED]
    for dose in (s.start.date() for s in live if s.location == "home"):
        if dose > today:
            nearest = min(abs((dose - visit).days) for visit in visits)
            assert nearest >= every, f"{patient}: the dose on {dose} is {nearest} days from a visit"


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    courses=st.lists(course_strategy, min_size=3, max_size=10),
    actions=st.lists(action_strategy, min_size=1, max_size=25),
    lozenges=st.sampled_from([None, 3, 5]),
)
def test_a_course_keeps_its_rules_through_any_life(
    courses: list[tuple[str, int, time, int]],
    actions: list[tuple[str, int, int, int]],
    lozenges: int | None,
) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        db_path = Path(folder) / "book.sqlite"
        book = open_book(db_path)
        try:
            run_life(book, db_path, courses, actions, lozenges)
        finally:
            book.close()


def run_life(
    book: Book,
    db_path: Path,
    courses: list[tuple[str, int, time, int]],
    actions: list[tuple[str, int, int, int]],
    lozenges: int | None = None,
) -> None:
    patients = book_busy(book, courses, lozenges)
    today = FIRST_DAY
    count = len(rows(db_path))
    for kind, who, which, wait in actions:
        today += timedelta(days=wait)
        ctx = lifecycle.Context(CLINIC, CALENDAR, noon(today), today, "prop")
        patient = patients[who % len(patients)]
        course = book.active_course(patient)
        assert course is not None
        sessions = sorted(book.course_sessions(course.id), key=lambda s: s.start)
        due = [s for s in sessions if s.status == "booked" and s.start.date() <= today]
        future = [s for s in sessions if s.status == "booked" and s.start.date() > today]
        before = rows(db_path)
        try:
            if kind in ("attend", "miss", "not-dosed") and due:
                outcome = {"attend": "attended", "miss": "missed"}.get(kind, "not-dosed")
                lifecycle.record(
                    book,
                    ctx,
                    patient,
                    lifecycle.SessionRef(number=due[0].number),
                    outcome,  # type: ignore[arg-type]
                    reason=None if kind == "attend" else "test",
                )
            elif kind == "cancel" and future:
                target = future[which % len(future)]
                lifecycle.cancel(book, ctx, patient, number=target.number, reason="test")
            elif kind == "move" and future:
                target = future[which % len(future)]
                shift = timedelta(days=which % 7 - 3)
                to = max(today + timedelta(days=1), target.start.date() + shift)
                lifecycle.move(book, ctx, patient, target.number, to)
            elif kind == "replan" and course.induction == "interrupted":
                mode = "continue" if which % 2 else "restart"
                lifecycle.replan_course(book, ctx, patient, mode)  # type: ignore[arg-type]
            elif kind == "booster":
                lifecycle.booster(
                    book, ctx, patient, today + timedelta(days=1 + which % 30), reason="relapse"
                )
        except KetaplanError:
            assert rows(db_path) == before, "a refusal changed the book"
        after = rows(db_path)
        assert len(after) >= count, "a session row was deleted"
        assert [r[1] for r in after[: len(before)]] == [r[1] for r in before]
        count = len(after)
        check_book(book, db_path, patients, today, lozenges=lozenges)
