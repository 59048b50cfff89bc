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
    Monitoring,
    checklist,
    checklist_text,
)

BERLIN = ZoneInfo("Europe/Berlin")
START = datetime(2026, 12, 7, 9, 0, tzinfo=BERLIN)


def test_iv_checklist_text_is_short_plain_and_complete() -> None:
    assert checklist_text(
        "iv", START, START + timedelta(minutes=120), dose_offset=20, last_dose_offset=60
    ) == (
        "Staff checklist: IV ketamine\n"
        "Before: pregnancy status confirmed, if the patient could become pregnant; vitals "
        "before the infusion (blood pressure, heart rate, oxygen saturation); blood pressure "
        "before dosing, against the clinic's threshold 140/90: above it the clinician "
        "decides whether to dose, and the reason is recorded\n"
        "During: vitals every 15 minutes during the infusion (blood pressure, heart rate, "
        "oxygen saturation)\n"
        "After: vitals after the infusion, before discharge\n"
        "Observe until 11:00 (the infusion ends at 10:00)\n"
        "Watch (risks): respiratory depression (breathing, oxygen saturation), "
        "cardiovascular instability (blood pressure, heart rate), sedation\n"
        "Watch (common): drowsiness, dizziness, dissociation, nausea, blurred or double "
        "vision, vertigo, psychosis (hallucinations, delusions), headaches, altered taste\n"
        "Watch (rare): mania, poor muscle control, restlessness, panic attacks, thoughts of "
        "self-harm, out-of-body experiences\n"
        "Discharge: clinically stable: alert, breathing normally, sedation and dissociation "
        "resolved; blood pressure back to a safe level (below 140/90, or the patient's "
        "baseline); a driver is present to take the patient home; no driving and no return "
        "to work for the rest of the day"
    )


def test_esketamine_checklist_text_has_bp_timing_boxed_warning_oximetry_and_rems() -> None:
    assert checklist_text(
        "esketamine",
        START,
        START + timedelta(minutes=145),
        dose_offset=15,
        last_dose_offset=25,
        pregnancy_check=True,
    ) == (
        "Staff checklist: esketamine nasal spray\n"
        "Before: pregnancy status confirmed; blood pressure before dosing, against the "
        "clinic's threshold 140/90: above it the clinician decides whether to dose, and the "
        "reason is recorded; patient confirms no food for 2 hours and no liquids for 30 "
        "minutes before; nasal corticosteroid or decongestant, if used, at least 1 hour "
        "before; pulse oximeter ready\n"
        "During: administration from 09:15, devices 5 minutes apart, the last at 09:25; "
        "pulse oximetry from the first device until discharge\n"
        "After: blood pressure about 40 minutes after the dose, at 10:05; monitor until "
        "sedation, dissociation and respiratory depression resolve\n"
        "Observe until 11:25 (at least 2 hours after the last device, at 09:25)\n"
        "Watch (risks): respiratory depression (breathing, oxygen saturation), "
        "cardiovascular instability (blood pressure, heart rate), sedation\n"
        "Watch (boxed warning): sedation, dissociation, respiratory depression, abuse and "
        "misuse, suicidal thoughts and behaviours, increased blood pressure (peaks about 40 "
        "minutes after the dose, lasts about 4 hours)\n"
        "Watch (common): drowsiness, dizziness, dissociation, nausea, blurred or double "
        "vision, vertigo, psychosis (hallucinations, delusions), headaches, altered taste\n"
        "Watch (rare): mania, poor muscle control, restlessness, panic attacks, thoughts of "
        "self-harm, out-of-body experiences\n"
        "Discharge: clinically stable: alert, breathing normally, sedation and dissociation "
        "resolved; blood pressure back to a safe level (below 140/90, or the patient's "
        "baseline); a driver is present to take the patient home; no driving until the "
        "next day, after restful sleep\n"
        "REMS: patient monitoring form due by 2026-12-14"
    )


def test_the_clinics_threshold_and_vitals_interval_are_printed() -> None:
    settings = Monitoring(bp_threshold=(150, 95), vitals_every_minutes=10, rems=False)
    items = checklist("iv", START, START + timedelta(hours=2), monitoring=settings)
    assert "threshold 150/95" in items.before[-1]
    assert items.during == (
        "vitals every 10 minutes during the infusion (blood pressure, heart rate, oxygen "
        "saturation)",
    )
    assert "below 150/95" in items.discharge[1]


def test_without_the_rems_no_form_is_due_but_oximetry_stays() -> None:
    items = checklist(
        "esketamine", START, START + timedelta(hours=3), monitoring=Monitoring(rems=False)
    )
    assert items.form_due is None
    assert "pulse oximetry from the first device until discharge" in items.during


@pytest.mark.parametrize(
    ("could", "lines"),
    [
        (True, ["pregnancy status confirmed"]),
        (False, []),
        (None, ["pregnancy status confirmed, if the patient could become pregnant"]),
    ],
)
def test_pregnancy_status_is_confirmed_for_patients_who_could_become_pregnant(
    could: bool | None, lines: list[str]
) -> None:
    for route in ROUTES:
        items = checklist(route, START, START + timedelta(hours=3), pregnancy_check=could)
        assert [b for b in items.before if "pregnancy" in b] == lines


@pytest.mark.parametrize("route", ROUTES)
def test_every_route_watches_breathing_circulation_and_sedation(route: Route) -> None:
    items = checklist(route, START, START + timedelta(hours=3))
    assert items.watch_risks == (
        "respiratory depression (breathing, oxygen saturation)",
        "cardiovascular instability (blood pressure, heart rate)",
        "sedation",
    )
    assert items.discharge[:2] == (
        "clinically stable: alert, breathing normally, sedation and dissociation resolved",
        "blood pressure back to a safe level (below 140/90, or the patient's baseline)",
    )


def test_esketamine_observation_counts_from_the_last_device() -> None:
    # 84 mg: three devices 5 minutes apart after 15 minutes of checks: the last at 09:25.
    items = checklist(
        "esketamine", START, START + timedelta(minutes=145), dose_offset=15, last_dose_offset=25
    )
    assert items.last_dose_at == datetime(2026, 12, 7, 9, 25, tzinfo=BERLIN)
    assert items.observe_until == datetime(2026, 12, 7, 11, 25, tzinfo=BERLIN)


@pytest.mark.parametrize(
    ("route", "word"), [("iv", "infusion"), ("im", "injection"), ("lozenge", "dose")]
)
def test_vitals_before_and_after_for_each_route(route: Route, word: str) -> None:
    items = checklist(route, START, START + timedelta(minutes=70), pregnancy_check=False)
    assert items.before[0] == (
        f"vitals before the {word} (blood pressure, heart rate, oxygen saturation)"
    )
    assert items.after == (f"vitals after the {word}, before discharge",)
    assert items.form_due is None


@pytest.mark.parametrize("route", ROUTES)
def test_every_route_watches_both_side_effect_lists_and_needs_a_driver(route: Route) -> None:
    items = checklist(route, START, START + timedelta(minutes=90))
    assert items.watch_common == COMMON_SIDE_EFFECTS
    assert items.watch_rare == RARE_SIDE_EFFECTS
    assert items.discharge[2] == "a driver is present to take the patient home"


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
    assert data["before"][1].startswith("blood pressure before dosing")
    assert list(data) == [
        "route",
        "start",
        "dose_at",
        "last_dose_at",
        "observe_until",
        "before",
        "during",
        "after",
        "watch_risks",
        "watch_boxed",
        "watch_common",
        "watch_rare",
        "discharge",
        "form_due",
    ]


def test_naive_times_are_a_programming_error() -> None:
    with pytest.raises(ValueError, match="aware"):
        checklist("iv", START.replace(tzinfo=None), START)
