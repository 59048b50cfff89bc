"""The schedule engine: each protocol rule on its own, then hypothesis properties over
random start dates, zones, open days and closures."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ketaplan.errors import PlanError, UsageError
from ketaplan.model.calendar import ALL_WEEKDAYS, MON_TO_FRI, ClinicCalendar, Closure
from ketaplan.model.course import Course, CourseRequest
from ketaplan.model.protocol import Phase, Protocol
from ketaplan.planning.holidays import CountryHolidays
from ketaplan.planning.planner import plan_course
from ketaplan.planning.protocols import BUILTIN, ESKETAMINE, IV, LOZENGE
from ketaplan.planning.rules import violations

MWF = frozenset({0, 2, 4})
MONDAY = date(2026, 12, 7)


def days(course: Course, phase: str | None = None) -> list[date]:
    return [s.day for s in course.sessions if phase is None or s.phase == phase]


def gaps(dates: list[date]) -> list[int]:
    return [(b - a).days for a, b in pairwise(dates)]


def iv(**kwargs: object) -> Course:
    fields: dict[str, object] = {"patient": "P-001", "protocol": IV, "start": MONDAY}
    fields.update(kwargs)
    return plan_course(CourseRequest(**fields))  # type: ignore[arg-type]


def test_iv_induction_on_a_weekday_clinic_is_mon_wed_fri() -> None:
    course = iv()
    assert days(course, "induction") == [
        date(2026, 12, 7),
        date(2026, 12, 9),
        date(2026, 12, 11),
        date(2026, 12, 14),
        date(2026, 12, 16),
        date(2026, 12, 18),
    ]


def test_induction_never_on_consecutive_days_even_when_every_day_is_open() -> None:
    course = iv(calendar=ClinicCalendar(ALL_WEEKDAYS))
    assert gaps(days(course, "induction")) == [2, 2, 2, 2, 2]


def test_default_maintenance_tapers_two_three_then_four_weeks() -> None:
    course = iv()
    maintenance = days(course, "maintenance")
    assert len(maintenance) == IV.maintenance_sessions == 6
    assert gaps([days(course, "induction")[-1], *maintenance]) == [14, 21, 28, 28, 28, 28]


def test_maintenance_every_four_weeks_holds_every_gap_at_28_days() -> None:
    course = iv(every=(28,), open_sessions=8)
    induction_end = days(course, "induction")[-1]
    assert gaps([induction_end, *days(course, "maintenance")]) == [28] * 8


def test_a_taper_repeats_its_last_interval() -> None:
    course = iv(every=(14, 21, 28, 42), open_sessions=6)
    induction_end = days(course, "induction")[-1]
    assert gaps([induction_end, *days(course, "maintenance")]) == [14, 21, 28, 42, 42, 42]


def test_until_ends_maintenance_on_or_before_the_date() -> None:
    course = iv(every=(28,), until=date(2027, 6, 1))
    assert days(course)[-1] <= date(2027, 6, 1)
    assert days(course)[-1] + timedelta(days=28) > date(2027, 6, 1)


def test_no_session_before_the_start_or_on_a_closed_weekday() -> None:
    course = iv(start=date(2026, 12, 5))  # a Saturday
    assert days(course)[0] == date(2026, 12, 7)
    assert all(d.weekday() < 5 for d in days(course))


def test_a_closure_moves_a_maintenance_session_to_the_nearest_open_day_with_a_note() -> None:
    plain = iv(every=(28,), open_sessions=3)
    ideal = days(plain, "maintenance")[1]
    closed = ClinicCalendar(MON_TO_FRI, (Closure(ideal, ideal, "staff training"),))
    course = iv(every=(28,), open_sessions=3, calendar=closed)
    moved = course.phase_sessions("maintenance")[1]
    assert moved.day == ideal - timedelta(days=1)  # Thursday: as near as Monday, and earlier
    assert moved.note == f"moved from {ideal:%a %Y-%m-%d} (staff training)"
    assert all(s.note is None for s in course.sessions if s is not moved)


def test_holidays_close_the_clinic_and_are_named_in_the_note() -> None:
    calendar = ClinicCalendar(MON_TO_FRI, (), CountryHolidays("DE", "BE"))
    course = iv(start=date(2026, 12, 21), calendar=calendar)
    assert date(2026, 12, 25) not in days(course)
    assert date(2027, 1, 1) not in days(course)
    notes = [s.note for s in course.sessions if s.note]
    assert any("Christmas Day" in note for note in notes)


def test_one_open_day_a_week_cannot_hold_an_induction() -> None:
    # Weekly infusions are outside the evidence (two or three a week): at most 5 days apart.
    with pytest.raises(PlanError) as error:
        iv(calendar=ClinicCalendar(frozenset({0})))
    assert str(error.value) == (
        "induction: no open day from 2026-12-09 to 2026-12-12 (at most 5 days after the "
        "session on 2026-12-07); no start date in the 366 days after 2026-12-07 works"
    )


def test_a_clinic_open_twice_a_week_holds_an_iv_induction() -> None:
    course = iv(calendar=ClinicCalendar(frozenset({0, 3})))
    gaps = [s.gap_days for s in course.phase_sessions("induction")[1:]]
    assert gaps == [3, 4, 3, 4, 3]


def test_a_window_too_short_for_the_open_days_names_what_fits() -> None:
    slow = Protocol(
        "slow", "IV", "iv", (Phase("induction", 6, 2, 7, 60, window_days=21),), source="test"
    )
    with pytest.raises(PlanError) as error:
        plan_course(
            CourseRequest("P-001", slow, MONDAY, calendar=ClinicCalendar(frozenset({0}))),
            suggest_start=False,
        )
    assert str(error.value) == (
        "induction needs 6 sessions at least 2 days apart within 21 days; from 2026-12-07 "
        "the clinic's open days fit only 3"
    )


def test_a_closure_that_swallows_the_induction_names_the_first_start_that_works() -> None:
    closure = Closure(date(2026, 12, 10), date(2026, 12, 31), "winter closure")
    with pytest.raises(PlanError) as error:
        iv(calendar=ClinicCalendar(MON_TO_FRI, (closure,)))
    assert str(error.value) == (
        "induction: no open day from 2026-12-11 to 2026-12-14 (at most 5 days after the "
        "session on 2026-12-09); the first start date that works is 2027-01-01"
    )


def test_the_same_request_gives_the_same_ids_and_other_patients_other_ids() -> None:
    first, again, other = iv(), iv(), iv(patient="P-002")
    assert [s.uid for s in first.sessions] == [s.uid for s in again.sessions]
    uids = {s.uid for s in first.sessions} | {s.uid for s in other.sessions}
    assert len(uids) == 2 * len(first.sessions)


def test_nine_oclock_stays_nine_oclock_across_daylight_saving() -> None:
    course = iv(start=date(2027, 3, 1), zone="Europe/Berlin", open_sessions=4, every=(28,))
    assert {s.start.strftime("%H:%M") for s in course.sessions} == {"09:00"}
    offsets = {s.start.utcoffset() for s in course.sessions}
    assert offsets == {timedelta(hours=1), timedelta(hours=2)}


def test_a_time_that_does_not_exist_moves_forward_by_the_jump() -> None:
    # Berlin's clocks go from 02:00 to 03:00 on Sunday 2027-03-28.
    course = plan_course(
        CourseRequest(
            "P-001",
            LOZENGE,
            date(2027, 3, 25),
            at=time(2, 30),
            zone="Europe/Berlin",
            every=(3,),
            open_sessions=3,
        )
    )
    dose = course.sessions[1]
    assert dose.day == date(2027, 3, 28)
    assert dose.start.strftime("%H:%M %z") == "03:30 +0200"
    assert dose.note == "02:30 does not exist on 2027-03-28 (clocks go forward); starts 03:30"


def test_a_time_that_happens_twice_is_the_first_of_the_two() -> None:
    # Berlin's clocks go from 03:00 back to 02:00 on Sunday 2027-10-31.
    course = plan_course(
        CourseRequest(
            "P-001",
            LOZENGE,
            date(2027, 10, 31),
            at=time(2, 30),
            zone="Europe/Berlin",
            every=(3,),
            open_sessions=1,
        )
    )
    dose = course.sessions[0]
    assert dose.start.strftime("%H:%M %z") == "02:30 +0200"
    assert dose.note == "02:30 happens twice on 2027-10-31 (clocks go back); the first, UTC+0200"


def test_esketamine_is_twice_in_each_of_four_weeks_then_weekly_for_four() -> None:
    course = plan_course(CourseRequest("P-001", ESKETAMINE, MONDAY))
    first = course.sessions[0].day
    induction = days(course, "induction")
    assert [(d - first).days // 7 for d in induction] == [0, 0, 1, 1, 2, 2, 3, 3]
    weekly = days(course, "maintenance-weekly")
    assert [(d - first).days // 7 for d in weekly] == [4, 5, 6, 7]
    assert all(g >= 2 for g in gaps(induction))
    assert all(7 <= g <= 14 for g in gaps([weekly[-1], *days(course, "maintenance")]))


def test_esketamine_chair_time_is_at_least_the_two_hour_observation() -> None:
    course = plan_course(CourseRequest("P-001", ESKETAMINE, MONDAY))
    assert all(s.end - s.start >= timedelta(hours=2) for s in course.sessions)


def test_lozenge_course_is_home_doses_that_ignore_the_clinic_calendar() -> None:
    course = plan_course(
        CourseRequest(
            "P-001",
            LOZENGE,
            MONDAY,
            calendar=ClinicCalendar(frozenset({0})),
            open_sessions=5,
        )
    )
    assert gaps(days(course)) == [3, 3, 3, 3]
    assert {s.location for s in course.sessions} == {"home"}


def test_lozenges_between_maintenance_visits_keep_their_distance_from_each_visit() -> None:
    course = iv(every=(28,), open_sessions=3, lozenge_every=7)
    visits = days(course, "maintenance")
    home = days(course, "home")
    assert home == [visits[0] + timedelta(days=7 * k) for k in (1, 2, 3)] + [
        visits[1] + timedelta(days=7 * k) for k in (1, 2, 3)
    ]
    assert all(s.location == "home" for s in course.sessions if s.phase == "home")
    induction_end = days(course, "induction")[-1]
    assert all(d > induction_end for d in home)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"every": (7,)}, "interval of 7 days is outside the maintenance range of 14 to 42 days"),
        ({"every": (43,)}, "interval of 43 days is outside the maintenance range of 14 to 42 days"),
        (
            {"open_sessions": 2, "until": date(2027, 1, 1)},
            "give maintenance sessions or end date, not both",
        ),
        ({"until": date(2026, 1, 1)}, "end date 2026-01-01 is before the start 2026-12-07"),
        ({"lozenge_every": 1}, "lozenge interval of 1 days is outside the range of 2 to 7 days"),
    ],
)
def test_bad_course_options_are_refused_with_a_reason(
    kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(UsageError) as error:
        iv(**kwargs)
    assert str(error.value) == message


ZONES = [
    "Europe/Berlin",
    "America/New_York",
    "Australia/Sydney",
    "Asia/Kolkata",
    "Australia/Adelaide",
    "UTC",
    "America/Sao_Paulo",
    "Pacific/Auckland",
]


@st.composite
def requests(draw: st.DrawFn) -> CourseRequest:
    protocol = draw(st.sampled_from(sorted(BUILTIN)))
    start = draw(st.dates(date(2025, 1, 1), date(2030, 12, 31)))
    open_days = draw(st.frozensets(st.integers(0, 6), min_size=1))
    closures = []
    for _ in range(draw(st.integers(0, 3))):
        first = start + timedelta(days=draw(st.integers(-10, 120)))
        closures.append(Closure(first, first + timedelta(days=draw(st.integers(0, 12)))))
    every = None
    if draw(st.booleans()):
        phase = BUILTIN[protocol].open_phase
        assert phase is not None
        every = tuple(
            draw(
                st.lists(
                    st.integers(phase.min_gap_days, phase.max_gap_days), min_size=1, max_size=4
                )
            )
        )
    until = None
    if draw(st.booleans()):
        until = start + timedelta(days=draw(st.integers(0, 400)))
    lozenges = None
    if protocol != "lozenge" and draw(st.booleans()):
        lozenges = draw(st.integers(2, 7))
    return CourseRequest(
        patient=draw(st.text(min_size=1, max_size=8)),
        protocol=BUILTIN[protocol],
        start=start,
        at=draw(st.times()).replace(second=0, microsecond=0),
        zone=draw(st.sampled_from(ZONES)),
        calendar=ClinicCalendar(open_days, tuple(closures)),
        every=every,
        # A lozenge course of no doses is refused as a usage error (its own test).
        open_sessions=None if until else draw(st.integers(int(protocol == "lozenge"), 8)),
        until=until,
        lozenge_every=lozenges,
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(requests())
def test_every_plan_keeps_every_rule_or_is_refused_with_a_reason(request: CourseRequest) -> None:
    try:
        course = plan_course(request)
    except PlanError as error:
        message = str(error)
        assert "the first start date that works is" in message or "no start date" in message
        return
    except UsageError as error:
        # A far --until with short gaps: more sessions than a course may have.
        message = str(error)
        assert request.until is not None
        assert message == (
            f"end date {request.until} gives more than 200 "
            f"{request.protocol.phases[-1].name} sessions"
        )
        return
    assert (
        violations(
            course.sessions,
            request.protocol,
            request.calendar,
            request.start,
            every=request.every,
            lozenge_every=request.lozenge_every,
        )
        == []
    )
    zone = ZoneInfo(request.zone)
    for s in course.sessions:
        assert s.day >= request.start
        if s.location == "clinic":
            assert request.calendar.is_open(s.day)
        assert s.start.tzinfo is not None
        wall = s.start.astimezone(zone).replace(tzinfo=None)
        if s.note is None or "clock" not in s.note:
            assert wall == datetime.combine(s.day, request.at)
    open_phase = request.protocol.open_phase
    if request.until is not None and open_phase is not None:
        assert all(s.day <= request.until for s in course.phase_sessions(open_phase.name))
    induction = [s for s in course.sessions if s.phase == "induction"]
    if request.protocol.name in ("iv", "im"):
        assert len(induction) == 6
        assert (induction[-1].day - induction[0].day).days <= 20
        assert all(g >= 2 for g in gaps([s.day for s in induction]))


@settings(max_examples=100, deadline=None)
@given(requests())
def test_a_refused_plan_names_a_start_date_that_really_works(request: CourseRequest) -> None:
    try:
        plan_course(request)
    except UsageError:
        return  # refused as bad input (an --until past 200 doses): no start date is named
    except PlanError as error:
        message = str(error)
        if "the first start date that works is" not in message:
            return
        start = date.fromisoformat(message.rsplit(" ", 1)[1])
        course = plan_course(CourseRequest(**{**request.__dict__, "start": start}))
        assert course.sessions[0].day == start


def test_without_a_suggestion_a_refusal_names_only_the_broken_rule() -> None:
    request = CourseRequest("P-001", IV, MONDAY, calendar=ClinicCalendar(frozenset({0})))
    with pytest.raises(PlanError) as error:
        plan_course(request, suggest_start=False)
    assert str(error.value) == (
        "induction: no open day from 2026-12-09 to 2026-12-12 (at most 5 days after the "
        "session on 2026-12-07)"
    )


def test_a_suggested_start_never_lies_after_until() -> None:
    closure = Closure(date(2026, 12, 10), date(2026, 12, 31), "winter closure")
    with pytest.raises(PlanError) as error:
        iv(calendar=ClinicCalendar(MON_TO_FRI, (closure,)), until=date(2026, 12, 20))
    assert str(error.value).endswith("; no start date on or before --until 2026-12-20 works")


def test_a_course_without_any_session_is_refused() -> None:
    with pytest.raises(UsageError) as error:
        plan_course(CourseRequest("P-001", LOZENGE, MONDAY, open_sessions=0))
    assert str(error.value) == (
        "this lozenge course would have no sessions; give maintenance sessions 1 or more, "
        "or a later end date"
    )


def test_an_until_that_gives_more_than_200_sessions_is_refused() -> None:
    weekly = CourseRequest("P-001", LOZENGE, MONDAY, every=(7,), until=MONDAY + timedelta(199 * 7))
    assert len(plan_course(weekly).sessions) == 200
    with pytest.raises(UsageError) as error:
        plan_course(
            CourseRequest("P-001", LOZENGE, MONDAY, every=(7,), until=MONDAY + timedelta(200 * 7))
        )
    assert str(error.value) == "end date 2030-10-07 gives more than 200 home sessions"


@given(requests())
def test_iv_and_im_inductions_are_never_more_than_5_days_apart(request: CourseRequest) -> None:
    # Two or three infusions a week (Singh 2016; Murrough 2013): never a week's gap.
    if request.protocol.route not in ("iv", "im"):
        return
    try:
        course = plan_course(request, suggest_start=False)
    except (PlanError, UsageError):
        return
    days = [s.day for s in course.phase_sessions("induction")]
    assert all(2 <= (b - a).days <= 5 for a, b in pairwise(days))
