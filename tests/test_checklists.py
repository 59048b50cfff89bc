"""Staff session checklists: the right items per route, the esketamine blood-pressure
timing and observation end, and short plain text for calendar descriptions."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from ketaplan.model.protocol import ROUTES, Route
from ketaplan.safety.checklists import (
    COMMON_SIDE_EFFECTS,
    RARE_SIDE_EFFECTS,
    checklist,
    checklist_text,
)

BERLIN = ZoneInfo("Europe/Berlin")
START = datetime(2026, 12, 7, 9, 0, tzinfo=BERLIN)


def test_iv_checklist_text_is_short_plain_and_complete() -> None:
    assert checklist_text("iv", START, START + timedelta(minutes=90)) == (
        "Staff checklist: IV ketamine\n"
        "Before: vitals before the infusion\n"
        "After: vitals after the infusion, before discharge\n"
        "Observe until 10:30\n"
        "Watch (common): drowsiness, dizziness, dissociation, nausea, blurred or double "
        "vision, vertigo, psychosis (hallucinations, delusions), headaches, altered taste\n"
        "Watch (rare): mania, poor muscle control, restlessness, panic attacks, thoughts of "
        "self-harm, out-of-body experiences\n"
        "Discharge: a driver is present to take the patient home; no driving and no return "
        "to work for the rest of the day"
    )


def test_esketamine_checklist_text_has_bp_timing_driving_and_rems() -> None:
    assert checklist_text("esketamine", START, START + timedelta(minutes=120)) == (
        "Staff checklist: esketamine nasal spray\n"
        "Before: blood pressure before the dose; patient confirms no food for 2 hours and "
        "no liquids for 30 minutes before\n"
        "After: blood pressure about 40 minutes after the dose, at 09:40\n"
        "Observe until 11:00 (at least 2 hours after the dose)\n"
        "Watch (common): drowsiness, dizziness, dissociation, nausea, blurred or double "
        "vision, vertigo, psychosis (hallucinations, delusions), headaches, altered taste\n"
        "Watch (rare): mania, poor muscle control, restlessness, panic attacks, thoughts of "
        "self-harm, out-of-body experiences\n"
        "Discharge: a driver is present to take the patient home; no driving until the "
        "next day, after restful sleep\n"
        "REMS: patient monitoring form due by 2026-12-14"
    )


@pytest.mark.parametrize(
    ("route", "word"), [("iv", "infusion"), ("im", "injection"), ("lozenge", "dose")]
)
def test_vitals_before_and_after_for_each_route(route: Route, word: str) -> None:
    items = checklist(route, START, START + timedelta(minutes=70))
    assert items.before == (f"vitals before the {word}",)
    assert items.after == (f"vitals after the {word}, before discharge",)
    assert items.form_due is None


@pytest.mark.parametrize("route", ROUTES)
def test_every_route_watches_both_side_effect_lists_and_needs_a_driver(route: Route) -> None:
    items = checklist(route, START, START + timedelta(minutes=90))
    assert items.watch_common == COMMON_SIDE_EFFECTS
    assert items.watch_rare == RARE_SIDE_EFFECTS
    assert items.discharge[0] == "a driver is present to take the patient home"


def test_observation_ends_at_the_session_end_for_clinic_routes() -> None:
    end = START + timedelta(minutes=70)
    assert checklist("im", START, end).observe_until == end


def test_esketamine_observation_is_at_least_two_hours_even_if_booked_shorter() -> None:
    items = checklist("esketamine", START, START + timedelta(minutes=90))
    assert items.observe_until == datetime(2026, 12, 7, 11, 0, tzinfo=BERLIN)


def test_esketamine_blood_pressure_is_40_real_minutes_after_a_dose_across_a_clock_change() -> None:
    # 01:40 on 29 March 2026 in Berlin: clocks go from 02:00 to 03:00 twenty minutes in.
    start = datetime(2026, 3, 29, 1, 40, tzinfo=BERLIN)
    items = checklist("esketamine", start, start + timedelta(hours=2))
    assert items.after[0] == "blood pressure about 40 minutes after the dose, at 03:20"
    assert items.observe_until.astimezone(UTC) == start.astimezone(UTC) + timedelta(hours=2)
    assert f"{items.observe_until:%H:%M}" == "04:40"


def test_times_print_in_the_sessions_zone_when_the_end_is_in_utc() -> None:
    end = (START + timedelta(minutes=90)).astimezone(UTC)
    assert "Observe until 10:30" in checklist_text("iv", START, end)


def test_esketamine_form_is_due_seven_days_after_the_session_day() -> None:
    assert checklist("esketamine", START, START + timedelta(hours=2)).form_due == date(2026, 12, 14)


def test_checklist_json_is_plain_data() -> None:
    data = checklist("esketamine", START, START + timedelta(hours=2)).as_json()
    assert data["observe_until"] == "2026-12-07T11:00:00+01:00"
    assert data["form_due"] == "2026-12-14"
    assert data["before"][0] == "blood pressure before the dose"


def test_naive_times_are_a_programming_error() -> None:
    with pytest.raises(ValueError, match="aware"):
        checklist("iv", START.replace(tzinfo=None), START)
