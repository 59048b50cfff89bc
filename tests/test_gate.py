"""The safety gate before booking, its flags, and the checks `attend` calls: pure
functions with exact dates and messages."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketaplan.errors import UsageError
from ketaplan.model.records import ScreeningRecord, SessionRecord, SessionStatus
from ketaplan.parsing import parse_blood_pressure
from ketaplan.safety.gate import (
    CourseCheck,
    blood_pressure_above,
    blood_pressure_refusal,
    checked_override,
    new_contraindication_flag,
    pregnancy_check,
    screening_flags,
    session_flags,
)
from ketaplan.safety.rems import ENROLLMENT_MISSING, first_treatment_refusal, rems_applies
from ketaplan.safety.screening import QUESTIONS

BERLIN = ZoneInfo("Europe/Berlin")
RECORDED = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
START = date(2026, 12, 7)
HINT = 'give --override "REASON"'


def record(
    day: date = date(2026, 11, 20), recorded: datetime = RECORDED, **changes: bool | int
) -> ScreeningRecord:
    answers: dict[str, bool | int] = {q.key: (3 if q.kind == "count" else False) for q in QUESTIONS}
    answers.update(changes)
    contraindicated = any(
        answers.get(k) is True for k in ("schizophrenia", "pregnant_or_breastfeeding")
    )
    summary = "contraindicated: schizophrenia" if contraindicated else "no listed contraindication"
    return ScreeningRecord("P-001", day, tuple(answers.items()), summary, contraindicated, recorded)


def check(**changes: object) -> CourseCheck:
    base: dict[str, object] = {"start": START, "route": "iv"}
    base.update(changes)
    return CourseCheck(**base)  # type: ignore[arg-type]


def refusal(latest: ScreeningRecord | None, **changes: object) -> str | None:
    return checked_override(
        "P-001", latest, None, require_screening=True, hint=HINT, check=check(**changes)
    )[1]


def test_a_screening_within_its_validity_books() -> None:
    assert refusal(record(day=START - timedelta(days=90))) is None


def test_a_screening_older_than_its_validity_is_refused_like_none() -> None:
    assert refusal(record(day=START - timedelta(days=91))) == (
        "the latest screening (2026-09-07) is more than 90 days old on the course's start "
        "(2026-12-07), so it counts as none; screen the patient first (`ketaplan screen "
        '--patient P-001`), or give --override "REASON" if the clinician decides to book '
        "anyway"
    )
    assert refusal(record(day=START - timedelta(days=31)), valid_days=30) is not None


def test_an_old_screening_where_none_is_required_books_but_a_contraindication_never() -> None:
    old = record(day=START - timedelta(days=400))
    assert checked_override(
        "P-001", old, None, require_screening=False, hint=HINT, check=check()
    ) == (None, None)
    old_no = record(day=START - timedelta(days=400), schizophrenia=True)
    assert (
        checked_override("P-001", old_no, None, require_screening=False, hint=HINT, check=check())[
            1
        ]
        is not None
    )


def test_pregnancy_is_asked_again_before_each_course() -> None:
    replaced = RECORDED + timedelta(days=1)  # the replaced course was booked after it
    assert refusal(record(could_become_pregnant=True), replaces=replaced) == (
        "pregnancy status was last asked on 2026-11-20, before the course this one replaces; "
        "it is asked again before each course; screen the patient first (`ketaplan screen "
        '--patient P-001`), or give --override "REASON" if the clinician decides to book '
        "anyway"
    )
    # Not asked counts as could: nothing is taken as no.
    old = record()
    unasked = ScreeningRecord(
        old.patient, old.date,
        tuple((k, v) for k, v in old.answers if k != "could_become_pregnant"),
        old.summary, old.contraindicated, old.recorded,
    )  # fmt: skip
    assert refusal(unasked, replaces=replaced) is not None
    assert refusal(record(could_become_pregnant=False), replaces=replaced) is None
    assert refusal(record(could_become_pregnant=True), replaces=RECORDED - timedelta(1)) is None
    assert refusal(record(could_become_pregnant=True), replaces=RECORDED) is not None  # a tie


def test_esketamine_with_home_lozenges_needs_a_clinicians_override() -> None:
    assert refusal(record(), route="esketamine", home_doses=True) == (
        "esketamine with home lozenges: esketamine is never for home use (REMS), and adding "
        "home lozenges to its course is a clinician's decision; not booked: give --override "
        '"REASON" if the clinician decides to treat anyway'
    )
    assert refusal(record(), route="iv", home_doses=True) is None
    override, refused = checked_override(
        "P-001", record(), "Dr. A: lozenges on non-spray days", require_screening=True,
        hint=HINT, check=check(route="esketamine", home_doses=True),
    )  # fmt: skip
    assert refused is None
    assert override is not None
    assert override.screening == (
        "screening of 2026-11-20: no listed contraindication; esketamine with home lozenges"
    )


def test_a_booking_is_flagged_with_criteria_warnings_and_unasked_questions() -> None:
    assert screening_flags(record()) == ()
    flagged = record(antidepressants_this_episode=1, maois=True, suicidal_thoughts_current=True)
    assert screening_flags(flagged) == (
        "alert the clinician today: current suicidal thoughts (boxed warning)",
        "screening does not meet the criteria: 2 adequate antidepressant trials this episode",
        "ask the clinician: takes an MAOI",
    )
    old = ScreeningRecord(
        "P-001", date(2026, 11, 20), (("prior_antidepressants", 3), ("mania", False)),
        "no listed contraindication", False, RECORDED,
    )  # fmt: skip
    assert screening_flags(old)[-1] == (
        f"screening of 2026-11-20 predates {len(QUESTIONS)} questions (not asked)"
    )


def session(start: datetime, status: SessionStatus = "booked") -> SessionRecord:
    return SessionRecord(
        id=1, course_id=1, patient="P-001", title="IV ketamine", uid="u@ketaplan", sequence=0,
        number=1, phase="induction", phase_number=1, phase_total=6, location="clinic",
        start=start, end=start + timedelta(hours=2), zone="Europe/Berlin", chair=1,
        status=status, note=None, route="esketamine", flags=("stored",),
        course_created=RECORDED,
    )  # fmt: skip


def test_a_contraindication_screened_after_booking_flags_the_future_sessions() -> None:
    later = record(
        day=date(2026, 12, 10), recorded=RECORDED + timedelta(days=20), schizophrenia=True
    )
    news = "screening of 2026-12-10 after booking: contraindicated: schizophrenia"
    assert new_contraindication_flag(later, RECORDED) == news
    before = session(datetime(2026, 12, 7, 9, tzinfo=BERLIN))
    after = session(datetime(2026, 12, 14, 9, tzinfo=BERLIN))
    assert session_flags(before, later) == ("stored",)
    assert session_flags(after, later) == (news, "stored")
    cancelled = session(datetime(2026, 12, 14, 9, tzinfo=BERLIN), "cancelled")
    assert session_flags(cancelled, later) == ("stored",)
    # The screening the course was booked on (and overrode) is no news, even in the same
    # second: the book keeps whole seconds.
    assert new_contraindication_flag(record(schizophrenia=True), RECORDED) is None
    booked_before = RECORDED - timedelta(seconds=1)
    assert new_contraindication_flag(record(schizophrenia=True), booked_before) is not None


def test_a_missing_enrollment_stops_flagging_sessions_once_recorded() -> None:
    first = replace(
        session(datetime(2026, 12, 7, 9, tzinfo=BERLIN)), flags=(ENROLLMENT_MISSING, "other")
    )
    assert session_flags(first, None) == (ENROLLMENT_MISSING, "other")
    assert session_flags(first, None, date(2026, 12, 7)) == ("other",)
    assert session_flags(first, None, date(2026, 12, 8)) == (ENROLLMENT_MISSING, "other")


def test_pregnancy_check_follows_the_screening() -> None:
    assert pregnancy_check(None) is None
    assert pregnancy_check(record(could_become_pregnant=True)) is True
    assert pregnancy_check(record()) is False


@given(st.integers(80, 220), st.integers(40, 130), st.integers(100, 200), st.integers(60, 120))
def test_a_reading_is_above_the_threshold_when_either_number_is(
    sys_: int, dia: int, max_sys: int, max_dia: int
) -> None:
    above = blood_pressure_above((sys_, dia), (max_sys, max_dia))
    assert above == (sys_ > max_sys or dia > max_dia)
    assert (blood_pressure_refusal((sys_, dia), (max_sys, max_dia)) is None) == (not above)


def test_a_reading_above_asks_for_a_reason_or_not_dosed() -> None:
    assert blood_pressure_refusal((150, 85), (140, 90)) == (
        "blood pressure 150/85 is above the clinic's threshold 140/90: dose only with the "
        "clinician's reason, or record the session as not dosed"
    )
    assert blood_pressure_refusal((140, 90), (140, 90)) is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("140-90", "safety.bp_threshold '140-90' is not a blood pressure; write SYS/DIA, e.g. "
         "140/90"),
        ("90/140", "safety.bp_threshold '90/140' is not a plausible blood pressure; systolic 50 "
         "to 300 above diastolic 20 to 200 mmHg"),
    ],
)  # fmt: skip
def test_a_bad_blood_pressure_is_refused(text: str, message: str) -> None:
    with pytest.raises(UsageError) as error:
        parse_blood_pressure(text, what="safety.bp_threshold")
    assert str(error.value) == message
    assert parse_blood_pressure(" 150 / 95 ") == (150, 95)


@pytest.mark.parametrize(
    ("program", "zone", "applies"),
    [
        (None, "America/New_York", True),
        (None, "Pacific/Honolulu", True),
        (None, "US/Eastern", True),
        (None, "Europe/Berlin", False),
        (None, "America/Toronto", False),
        ("none", "America/Chicago", False),  # an inpatient setting
        ("us-spravato", "Europe/Berlin", True),
    ],
)
def test_the_rems_applies_by_setting_else_by_us_zone(
    program: str | None, zone: str, applies: bool
) -> None:
    assert rems_applies(program, zone) is applies


def test_the_first_esketamine_treatment_needs_an_enrollment_on_or_before_its_day() -> None:
    first = session(datetime(2026, 12, 7, 9, tzinfo=BERLIN))
    assert first_treatment_refusal(first, 0, None, rems=True) == (
        "P-001's first esketamine treatment needs the REMS enrollment, and none is recorded; "
        "record it with `ketaplan rems enroll --patient P-001 --date DATE` first"
    )
    assert first_treatment_refusal(first, 0, date(2026, 12, 8), rems=True) == (
        "P-001 is enrolled in the esketamine REMS from 2026-12-08, after this first treatment "
        "on 2026-12-07; the enrollment must come first"
    )
    assert first_treatment_refusal(first, 0, date(2026, 12, 7), rems=True) is None
    assert first_treatment_refusal(first, 1, None, rems=True) is None  # not the first
    assert first_treatment_refusal(first, 0, None, rems=False) is None
