"""The capacity engine: chairs, start slots and opening hours, with every protocol rule
kept when a full day moves a session."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from types import MappingProxyType
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ketaplan.booking.capacity import Booking, Capacity, book_course, day_utilization
from ketaplan.errors import BookError, PlanError
from ketaplan.formats.protocol_file import (
    protocol_definition,
    protocol_from_definition,
    protocol_from_dict,
)
from ketaplan.model.calendar import ClinicCalendar
from ketaplan.model.clinic import ClinicConfig
from ketaplan.model.course import CourseRequest
from ketaplan.model.protocol import Protocol
from ketaplan.model.records import ChairUse
from ketaplan.planning.protocols import BUILTIN, IV
from ketaplan.planning.rules import violations

ZONE = "Europe/Berlin"
BERLIN = ZoneInfo(ZONE)
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
MONDAY = date(2026, 12, 7)


def clinic(
    chairs: int = 2, per_slot: int = 2, slot: int = 15, hours: str = "08:00-18:00"
) -> ClinicConfig:
    first, last = (time.fromisoformat(t) for t in hours.split("-"))
    return ClinicConfig(
        zone=ZONE,
        chairs=chairs,
        starts_per_slot=per_slot,
        slot_minutes=slot,
        hours=MappingProxyType(dict.fromkeys(range(7), (first, last))),
    )


def nothing_booked(first: datetime, last: datetime) -> Iterable[ChairUse]:
    return []


def request(
    patient: str,
    protocol: Protocol = IV,
    start: date = MONDAY,
    at: time = time(9),
    sessions: int | None = 2,
) -> CourseRequest:
    return CourseRequest(
        patient, protocol, start, at, ZONE, ClinicCalendar(), open_sessions=sessions
    )


def capacity(config: ClinicConfig) -> Capacity:
    return Capacity(config, ZONE, nothing_booked, now=NOW)


def local(b: Booking, number: int) -> datetime:
    return b.placements[number - 1].session.start.astimezone(BERLIN)


def test_a_free_preferred_time_is_kept_on_every_ideal_day() -> None:
    booking = book_course(request("P-001"), time(9), capacity(clinic()))
    assert all(p.at_preferred_time and p.on_ideal_day for p in booking.placements)
    assert {p.chair for p in booking.placements} == {1}
    assert booking.moved == ()


def test_a_taken_chair_moves_the_session_to_the_nearest_free_time_that_day() -> None:
    cap = capacity(clinic(chairs=1))
    book_course(request("P-001"), time(9), cap)
    second = book_course(request("P-002"), time(9), cap)
    first = second.placements[0]
    assert local(second, 1).time() == time(11, 0)  # IV holds the chair 2 hours
    assert first.session.note == "at 11:00, not 09:00: no chair free"
    assert first.on_ideal_day
    assert first.at_preferred_time is False


def test_the_nurse_limit_on_starts_moves_a_start_to_the_nearest_slot_earlier_first() -> None:
    cap = capacity(clinic(chairs=4, per_slot=1))
    book_course(request("P-001"), time(9), cap)
    second = book_course(request("P-002"), time(9), cap)
    assert local(second, 1).time() == time(8, 45)
    assert second.placements[0].session.note == (
        "at 08:45, not 09:00: start slot full (1 start per 15 min)"
    )


def test_a_session_never_ends_after_closing_time() -> None:
    booking = book_course(request("P-001"), time(17), capacity(clinic()))
    assert local(booking, 1).time() == time(16, 0)
    assert booking.placements[0].session.note == (
        "at 16:00, not 17:00: outside opening hours 08:00-18:00"
    )


def test_a_full_day_moves_the_course_to_the_next_day_the_rules_allow() -> None:
    cap = capacity(clinic(chairs=1, hours="09:00-11:00"))
    book_course(request("P-001"), time(9), cap)
    second = book_course(request("P-002"), time(9), cap)
    days = [p.session.day for p in second.placements]
    assert second.full_days[0] == MONDAY
    assert days[0] == MONDAY + timedelta(days=1)
    assert second.placements[0].session.note == "moved from Mon 2026-12-07 (fully booked)"
    assert violations(second.course.sessions, IV, second.calendar, MONDAY) == []


def test_without_a_preferred_time_starts_spread_through_the_day() -> None:
    cap = capacity(clinic(chairs=4, per_slot=2))
    starts = [local(book_course(request(f"P-{i}"), None, cap), 1).time() for i in range(4)]
    # Each new session goes where fewest chairs are busy: a fresh 2-hour block.
    assert starts == [time(8), time(10), time(12), time(14)]


def test_without_a_preferred_time_a_course_keeps_its_first_sessions_time_of_day() -> None:
    held = datetime(2026, 12, 7, 8, 0, tzinfo=BERLIN)

    def monday_morning(first: datetime, last: datetime) -> Iterable[ChairUse]:
        # Another patient holds the one chair 08:00-09:30 on Monday only.
        return [ChairUse(held, held + timedelta(minutes=90), 1, 1)] if first <= held < last else []

    cap = Capacity(clinic(chairs=1), ZONE, monday_morning, now=NOW)
    booking = book_course(request("P-1", sessions=3), None, cap)
    times = [local(booking, n).time() for n in range(1, len(booking.placements) + 1)]
    # Monday's least loaded start is 09:30 (after P-0); every later session keeps it,
    # where the least loaded start of an empty day would be 08:00.
    assert set(times) == {time(9, 30)}


def test_home_doses_take_no_chair() -> None:
    from ketaplan.planning.protocols import LOZENGE

    booking = book_course(request("P-001", LOZENGE, sessions=3), None, capacity(clinic(chairs=1)))
    assert [p.chair for p in booking.placements] == [None, None, None]


def test_what_is_already_booked_is_loaded_once_for_the_course() -> None:
    calls: list[tuple[datetime, datetime]] = []
    taken = ChairUse(
        datetime(2026, 12, 7, 8, 0, tzinfo=UTC), datetime(2026, 12, 7, 9, 30, tzinfo=UTC), 1, 1
    )

    def load(first: datetime, last: datetime) -> list[ChairUse]:
        calls.append((first, last))
        return [taken]

    cap = Capacity(clinic(chairs=1), ZONE, load, now=NOW)
    booking = book_course(request("P-001", sessions=6), time(9), cap)
    assert len(calls) == 1
    assert calls[0][0] == datetime(2026, 12, 7, tzinfo=BERLIN)
    assert local(booking, 1).time() == time(10, 30)  # 09:00-10:30 Berlin is taken


def test_a_session_is_never_booked_in_the_past() -> None:
    now = datetime(2026, 12, 7, 10, 0, tzinfo=BERLIN)
    cap = Capacity(clinic(), ZONE, nothing_booked, now=now)
    booking = book_course(request("P-001"), time(9), cap)
    assert local(booking, 1) == datetime(2026, 12, 7, 10, 0, tzinfo=BERLIN)
    assert booking.placements[0].session.note == "at 10:00, not 09:00: already past"


def test_a_clinic_without_room_refuses_the_course() -> None:
    long_visit = protocol_from_dict(
        {
            "name": "long",
            "phases": [
                {
                    "name": "visit",
                    "sessions": 2,
                    "min_gap_days": 2,
                    "max_gap_days": 7,
                    "chair_minutes": 300,
                }
            ],
        },
        source="test",
    )
    with pytest.raises(
        BookError,
        match="120 days fully booked from 2026-12-07 to 2027-05-21; the clinic has no room",
    ):
        book_course(request("P-001", long_visit), time(9), capacity(clinic(hours="08:00-12:00")))


def test_day_utilization_is_chair_time_held_over_chairs_times_hours() -> None:
    config = clinic(chairs=2, hours="08:00-18:00")
    start = datetime(2026, 12, 7, 9, 0, tzinfo=BERLIN)
    held = [(start, start + timedelta(minutes=300)), (start, start + timedelta(minutes=150))]
    assert day_utilization(MONDAY, held, config, ZONE) == pytest.approx(450 / 1200)
    assert day_utilization(date(2026, 12, 12), [], config, ZONE) is None  # Saturday: closed


@pytest.mark.parametrize("protocol", BUILTIN.values(), ids=lambda p: p.name)
def test_a_booked_protocol_is_rebuilt_from_its_stored_definition(protocol: Protocol) -> None:
    assert protocol_from_definition(protocol_definition(protocol)) == protocol


# --- properties -----------------------------------------------------------------------

patients = st.lists(
    st.tuples(
        st.sampled_from(["iv", "im", "esketamine"]),
        st.integers(0, 10),
        st.one_of(st.none(), st.sampled_from([time(8), time(9), time(9, 10), time(13), time(17)])),
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    patients=patients,
    chairs=st.integers(1, 3),
    per_slot=st.integers(1, 2),
    slot=st.sampled_from([15, 30]),
    hours=st.sampled_from(["08:00-18:00", "09:00-13:00", "07:30-12:15"]),
)
def test_booked_courses_keep_chairs_slots_hours_and_protocol_rules(
    patients: list[tuple[str, int, time | None]],
    chairs: int,
    per_slot: int,
    slot: int,
    hours: str,
) -> None:
    config = clinic(chairs, per_slot, slot, hours)
    cap = capacity(config)
    bookings: list[Booking] = []
    for i, (name, offset, at) in enumerate(patients):
        req = request(f"P-{i}", BUILTIN[name], MONDAY + timedelta(days=offset), at or time(9))
        try:
            bookings.append(book_course(req, at, cap))
        except BookError:
            continue  # a clinic without room says so; it never overbooks
    held = [
        (p.session.start, p.session.end, p.chair)
        for b in bookings
        for p in b.placements
        if p.chair is not None
    ]
    opens, closes = config.hours[0]
    # Every chair holds one session at a time, and chairs are the clinic's.
    for chair in {c for _, _, c in held}:
        assert 1 <= chair <= chairs
        times = sorted((s, e) for s, e, c in held if c == chair)
        assert all(a_end <= b_start for (_, a_end), (b_start, _) in pairwise(times))
    # At no instant more sessions in chairs than chairs.
    events = sorted([(s, 1) for s, _, _ in held] + [(e, -1) for _, e, _ in held])
    in_chairs = 0
    for _, step in events:
        in_chairs += step
        assert in_chairs <= chairs
    # No slot has more starts than allowed; nothing outside opening hours.
    starts: dict[tuple[date, int], int] = {}
    for s, e, _ in held:
        start, end = s.astimezone(BERLIN), e.astimezone(BERLIN)
        assert start.time() >= opens
        assert (end.date(), end.time() <= closes) == (start.date(), True)
        minutes = (start.hour * 60 + start.minute) - (opens.hour * 60 + opens.minute)
        key = (start.date(), minutes // slot)
        starts[key] = starts.get(key, 0) + 1
        assert starts[key] <= per_slot
    # Every course keeps every protocol rule, with its full days counted as closed.
    for b in bookings:
        course = b.course
        assert violations(course.sessions, course.protocol, b.calendar, course.start) == []


def test_when_full_days_leave_no_room_for_the_rules_the_course_starts_later() -> None:
    pair = protocol_from_dict(
        {
            "name": "pair",
            "phases": [
                {"name": "visit", "sessions": 2, "min_gap_days": 2, "max_gap_days": 2,
                 "chair_minutes": 90, "window_days": 3}
            ],
        },
        source="test",
    )  # fmt: skip
    mon_wed_fri = ClinicCalendar(frozenset({0, 2, 4}))
    cap = capacity(clinic(chairs=1, hours="09:00-10:30"))
    first = replace(request("P-001", pair), calendar=mon_wed_fri)
    book_course(first, time(9), cap)
    second = book_course(replace(first, patient="P-002"), time(9), cap)
    assert [p.session.day for p in second.placements] == [date(2026, 12, 14), date(2026, 12, 16)]
    assert second.course.start == date(2026, 12, 12)
    assert second.placements[0].session.note == (
        "start date moved from 2026-12-07 to 2026-12-12: no room earlier"
    )
    assert violations(second.course.sessions, pair, second.calendar, second.course.start) == []


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    patients=st.lists(
        st.tuples(st.sampled_from(["iv", "im", "esketamine"]), st.integers(0, 6)),
        min_size=2,
        max_size=10,
    ),
    chairs=st.integers(1, 2),
    hours=st.sampled_from(["09:00-11:00", "08:00-12:00", "09:00-11:15"]),
)
def test_the_roster_estimate_never_refuses_a_roster_that_fits(
    patients: list[tuple[str, int]], chairs: int, hours: str
) -> None:
    """The estimate is a bound: whenever every course of a roster can be placed, it says
    the roster fits (it refuses only what cannot fit however the courses are placed)."""
    from ketaplan.booking.estimate import estimate

    config = clinic(chairs, 1, 15, hours)
    requests = [
        request(f"P-{i}", BUILTIN[name], MONDAY + timedelta(days=offset), sessions=1)
        for i, (name, offset) in enumerate(patients)
    ]
    cap = capacity(config)
    try:
        for req in requests:
            book_course(req, None, cap)
    except (BookError, PlanError):
        return  # it did not fit: the estimate may say either
    assert estimate(requests, config, ZONE, nothing_booked).fits
