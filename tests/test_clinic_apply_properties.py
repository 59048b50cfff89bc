"""Properties of `clinic apply --replan` on a busy book: whatever the new settings
(closed days and weeks, fewer chairs, shorter hours, fewer starts per slot), either every
booked session fits them afterwards, every course keeps its protocol's rules under the
new calendar, no chair holds two sessions at once and no row is deleted, or the change
is refused with the sessions that have nowhere to go and the book is exactly as it was."""

from __future__ import annotations

import tempfile
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ketaplan.booking.clinic import Who, _misfits, apply_clinic
from ketaplan.formats.config_file import ConfigChoice
from ketaplan.model.calendar import ClinicCalendar, Closure
from ketaplan.store import open_book
from tests.test_lifecycle_properties import (
    BERLIN,
    CLINIC,
    FIRST_DAY,
    book_busy,
    check_book,
    course_strategy,
    noon,
    rows,
)

HORIZON = datetime(2100, 1, 1, tzinfo=UTC)

closure_strategy = st.tuples(st.integers(0, 40), st.integers(0, 9))  # first day, length


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    courses=st.lists(course_strategy, min_size=3, max_size=10),
    closures=st.lists(closure_strategy, max_size=3),
    chairs=st.integers(1, 2),
    starts=st.integers(1, 2),
    hours=st.sampled_from([(time(8), time(18)), (time(9), time(15)), (time(8), time(13))]),
    days_passed=st.integers(0, 10),
)
def test_a_clinic_change_replans_by_the_rules_or_changes_nothing(
    courses: list[tuple[str, int, time, int]],
    closures: list[tuple[int, int]],
    chairs: int,
    starts: int,
    hours: tuple[time, time],
    days_passed: int,
) -> None:
    new = replace(
        CLINIC,
        chairs=chairs,
        starts_per_slot=starts,
        hours=dict.fromkeys(CLINIC.open_weekdays, hours),
        closures=tuple(
            Closure(
                FIRST_DAY + timedelta(days=first),
                FIRST_DAY + timedelta(days=first + length),
                "closed",
            )
            for first, length in closures
        ),
    )
    calendar = ClinicCalendar(new.open_weekdays, new.closures)
    today = FIRST_DAY + timedelta(days=days_passed)
    # From midnight: every session of the day is still to come.
    who = Who(author="prop", now=datetime.combine(today, time(0), BERLIN), new_id="clinic-1")
    with tempfile.TemporaryDirectory() as folder:
        db_path = Path(folder) / "book.sqlite"
        book = open_book(db_path)
        try:
            patients = book_busy(book, courses)
            before = rows(db_path)
            change = apply_clinic(
                book,
                ConfigChoice(Path("new.toml"), "--config"),
                new,
                calendar,
                who,
                horizon=HORIZON,
                replan=True,
            )
            after = rows(db_path)
            if change.unplaced:
                assert change.record is None
                assert after == before, "a refused change wrote to the book"
                assert book.clinic() is None
                return
            assert len(after) == len(before), "a session row was added or deleted"
            assert [r[1] for r in after] == [r[1] for r in before], "a uid changed"
            assert _misfits(book.sessions_between(who.now, HORIZON), new, calendar) == []
            moved = {r[0] for r, s in zip(before, after, strict=True) if r != s}
            assert moved >= {m.session.id for m in change.misfits}
            check_book(book, db_path, patients, today, calendar)
        finally:
            book.close()


def test_the_property_sees_both_outcomes() -> None:
    """A guard against a property that could not fail: the strategies above reach both a
    re-planned change and a refused one (checked on two fixed books)."""
    for closures, refused in (((5, 1),), False), (((1, 30),), True):
        with tempfile.TemporaryDirectory() as folder:
            db_path = Path(folder) / "book.sqlite"
            book = open_book(db_path)
            try:
                book_busy(
                    book, [("iv", 0, time(9), 1), ("iv", 0, time(9), 1), ("im", 1, time(8), 2)]
                )
                new = replace(
                    CLINIC,
                    chairs=1,
                    closures=tuple(
                        Closure(
                            FIRST_DAY + timedelta(days=a), FIRST_DAY + timedelta(days=a + n), "x"
                        )
                        for a, n in closures
                    ),
                )
                change = apply_clinic(
                    book,
                    ConfigChoice(Path("new.toml"), "--config"),
                    new,
                    ClinicCalendar(new.open_weekdays, new.closures),
                    Who(author="prop", now=noon(FIRST_DAY), new_id="clinic-1"),
                    horizon=HORIZON,
                    replan=True,
                )
                assert change.misfits
                assert bool(change.unplaced) is refused
                assert bool(change.replanned) is not refused
            finally:
                book.close()
