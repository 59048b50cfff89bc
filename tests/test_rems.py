"""Esketamine REMS: a monitoring form due exactly 7 calendar days after each session, in
the clinic's zone and across clock changes; enrollment on or before the first treatment."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ketaplan.errors import ExitCode
from ketaplan.model.course import Course, CourseRequest
from ketaplan.planning.planner import plan_course
from ketaplan.planning.protocols import ESKETAMINE, IV
from ketaplan.safety.rems import (
    Enrollment,
    MonitoringForm,
    RemsError,
    form_due_date,
    forms_due,
    monitoring_forms,
    rems_setting,
    require_enrollment,
)

ZONES = ("Europe/Berlin", "America/New_York", "Australia/Sydney")


def esketamine(
    zone: str = "Europe/Berlin",
    start: date = date(2026, 3, 16),
    at: time = time(9, 0),
    patient: str = "P-001",
) -> Course:
    return plan_course(CourseRequest(patient, ESKETAMINE, start, at, zone, open_sessions=2))


def test_forms_fall_7_days_after_sessions_across_the_berlin_spring_change() -> None:
    forms = monitoring_forms(esketamine())
    assert [(f.session_day, f.due) for f in forms[:6]] == [
        (date(2026, 3, 16), date(2026, 3, 23)),
        (date(2026, 3, 19), date(2026, 3, 26)),
        (date(2026, 3, 23), date(2026, 3, 30)),  # clocks go forward on 29 March
        (date(2026, 3, 26), date(2026, 4, 2)),
        (date(2026, 3, 30), date(2026, 4, 6)),
        (date(2026, 4, 2), date(2026, 4, 9)),
    ]


def test_evening_sessions_in_new_york_keep_their_local_date_across_the_fall_change() -> None:
    # 19:30 in New York is the next day in UTC: a UTC date would be a day late.
    course = esketamine("America/New_York", date(2026, 10, 19), time(19, 30))
    forms = monitoring_forms(course)
    assert [(f.session_day, f.due) for f in forms[:5]] == [
        (date(2026, 10, 19), date(2026, 10, 26)),
        (date(2026, 10, 22), date(2026, 10, 29)),
        (date(2026, 10, 26), date(2026, 11, 2)),  # clocks go back on 1 November
        (date(2026, 10, 29), date(2026, 11, 5)),
        (date(2026, 11, 2), date(2026, 11, 9)),
    ]


def test_morning_sessions_in_sydney_keep_their_local_date_across_both_changes() -> None:
    # 09:00 in Sydney is the previous day in UTC: a UTC date would be a day early.
    autumn = monitoring_forms(esketamine("Australia/Sydney", date(2026, 3, 30)))
    assert (autumn[0].session_day, autumn[0].due) == (date(2026, 3, 30), date(2026, 4, 6))
    spring = monitoring_forms(esketamine("Australia/Sydney", date(2026, 9, 28)))
    assert (spring[0].session_day, spring[0].due) == (date(2026, 9, 28), date(2026, 10, 5))


@settings(max_examples=60, deadline=None)
@given(
    zone=st.sampled_from(ZONES),
    start=st.dates(min_value=date(2025, 1, 1), max_value=date(2030, 12, 31)),
    at=st.sampled_from((time(0, 30), time(9, 0), time(13, 15), time(23, 30))),
)
def test_every_form_is_due_exactly_7_calendar_days_after_its_session(
    zone: str, start: date, at: time
) -> None:
    course = esketamine(zone, start, at)
    forms = monitoring_forms(course)
    assert len(forms) == len(course.clinic_sessions)
    for session, form in zip(course.clinic_sessions, forms, strict=True):
        local_day = session.start.astimezone(ZoneInfo(zone)).date()
        assert form.session_day == local_day
        assert (form.due - local_day).days == 7
        assert form.due.weekday() == local_day.weekday()
        assert form.session_uid == session.uid


def test_a_start_handed_over_in_utc_still_counts_from_the_clinic_date() -> None:
    course = esketamine("Australia/Sydney", date(2026, 3, 30))
    in_utc = tuple(replace(s, start=s.start.astimezone(UTC)) for s in course.sessions)
    assert in_utc[0].start.date() == date(2026, 3, 29)
    forms = monitoring_forms(replace(course, sessions=in_utc))
    assert forms[0].due == date(2026, 4, 6)


def test_form_due_date_is_the_day_plus_seven() -> None:
    assert form_due_date(date(2026, 12, 28)) == date(2027, 1, 4)


def test_other_routes_owe_no_monitoring_form() -> None:
    course = plan_course(CourseRequest("P-001", IV, date(2026, 12, 7)))
    assert monitoring_forms(course) == ()


def form(patient: str, day: date) -> MonitoringForm:
    return MonitoringForm(patient, f"{patient}-{day}", day, form_due_date(day))


def test_forms_due_lists_the_week_from_its_first_day_sorted() -> None:
    week = date(2026, 12, 7)
    forms = [
        form("P-002", date(2026, 12, 1)),  # due 8 Dec
        form("P-001", date(2026, 11, 30)),  # due 7 Dec: first day of the week
        form("P-001", date(2026, 12, 6)),  # due 13 Dec: last day of the week
        form("P-003", date(2026, 12, 7)),  # due 14 Dec: next week
        form("P-004", date(2026, 11, 29)),  # due 6 Dec: last week
        form("P-000", date(2026, 12, 1)),  # due 8 Dec
    ]
    due = forms_due(forms, week)
    assert [(f.patient, f.due) for f in due] == [
        ("P-001", date(2026, 12, 7)),
        ("P-000", date(2026, 12, 8)),
        ("P-002", date(2026, 12, 8)),
        ("P-001", date(2026, 12, 13)),
    ]


def test_an_esketamine_course_without_enrollment_is_refused() -> None:
    course = esketamine(start=date(2026, 12, 7))
    with pytest.raises(RemsError) as info:
        require_enrollment(course, None)
    assert str(info.value) == (
        "esketamine needs REMS enrollment before the first treatment (2026-12-07), and none "
        "is recorded for patient P-001; record it with `ketaplan rems enroll --patient P-001 "
        "--date DATE`"
    )
    assert info.value.exit_code == ExitCode.FAILED


def test_enrollment_after_the_first_treatment_is_refused() -> None:
    course = esketamine(start=date(2026, 12, 7))
    with pytest.raises(RemsError) as info:
        require_enrollment(course, Enrollment("P-001", date(2026, 12, 8)))
    assert str(info.value) == (
        "patient P-001 was enrolled in the esketamine REMS on 2026-12-08, after the first "
        "treatment on 2026-12-07; the patient must be enrolled on or before the day of the "
        "first treatment"
    )


@pytest.mark.parametrize("days_before", [0, 1, 30])
def test_enrollment_on_or_before_the_first_treatment_is_accepted(days_before: int) -> None:
    course = esketamine(start=date(2026, 12, 7))
    enrolled = date(2026, 12, 7) - timedelta(days=days_before)
    require_enrollment(course, Enrollment("P-001", enrolled))


def test_another_patients_enrollment_does_not_count() -> None:
    course = esketamine(start=date(2026, 12, 7))
    with pytest.raises(RemsError, match=r"^the REMS enrollment given is for patient P-002, not"):
        require_enrollment(course, Enrollment("P-002", date(2026, 12, 1)))


def test_other_routes_need_no_enrollment() -> None:
    require_enrollment(plan_course(CourseRequest("P-001", IV, date(2026, 12, 7))), None)


@pytest.mark.parametrize(
    ("program", "zone", "line"),
    [
        (
            None,
            "America/New_York",
            "Esketamine REMS: on (a US time zone; [rems] program can turn it off)",
        ),
        (
            None,
            "Europe/Berlin",
            "Esketamine REMS: off (not a US time zone; [rems] program can turn it on)",
        ),
        ("none", "America/Chicago", 'Esketamine REMS: off ([rems] program = "none")'),
        ("us-spravato", "Europe/Berlin", 'Esketamine REMS: on ([rems] program = "us-spravato")'),
    ],
)
def test_init_states_whether_the_rems_applies_and_why(
    program: str | None, zone: str, line: str
) -> None:
    assert rems_setting(program, zone) == line
