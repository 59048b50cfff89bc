"""The built-in protocols carry the numbers of their cited sources (docs/sources.md), and a
protocol that breaks a field's range cannot be made."""

from __future__ import annotations

import pytest

from ketaplan.formats.protocol_file import protocol_from_dict
from ketaplan.model.protocol import Phase, Protocol, ProtocolError
from ketaplan.planning.protocols import BUILTIN, ESKETAMINE, IM, IV, LOZENGE


def test_iv_is_six_infusions_in_21_days_never_consecutive_then_14_to_42_day_gaps() -> None:
    induction, maintenance = IV.phases
    assert (induction.sessions, induction.min_gap_days, induction.window_days) == (6, 2, 21)
    assert (maintenance.sessions, maintenance.min_gap_days, maintenance.max_gap_days) == (
        None,
        14,
        42,
    )
    assert maintenance.every_days == (14, 21, 28)  # 2 weeks, then 3, then about monthly


def test_iv_holds_the_chair_for_check_in_the_40_minute_infusion_and_60_minutes_recovery() -> None:
    for phase in IV.phases:
        assert (phase.checkin_minutes, phase.dose_minutes, phase.observe_minutes) == (20, 40, 60)
        assert phase.chair_minutes == 120
        assert phase.last_dose_offset == 60


def test_iv_and_im_induction_infusions_are_at_most_five_days_apart() -> None:
    # Two or three a week (Singh 2016; Murrough 2013, Mon/Wed/Fri): never a week's gap.
    for protocol in (IV, IM):
        induction = protocol.phases[0]
        assert induction.max_gap_days == 5
        assert "[singh2016]" in induction.source_of("max_gap_days")
        assert "protocol file" in induction.source_of("max_gap_days")


def test_im_chair_time_is_labelled_a_ketaplan_default_with_why() -> None:
    chair = IM.phases[0].source_of("chair_minutes")
    assert chair.startswith("ketaplan default: no source gives an IM chair time")
    assert IM.phases[0].chair_minutes == 70


def test_esketamine_chair_covers_checks_84_mg_and_two_hours_after_the_last_device() -> None:
    for phase in ESKETAMINE.phases:
        assert (phase.checkin_minutes, phase.dose_minutes, phase.observe_minutes) == (15, 10, 120)
        assert phase.chair_minutes == 145  # clinics book 2 to 2.5 hours
        assert "84 mg = 3 devices, 5 minutes apart" in phase.source_of("dose_minutes")


def test_esketamine_week_9_on_is_provisional_until_the_week_8_review() -> None:
    *fixed, maintenance = ESKETAMINE.phases
    assert maintenance.provisional
    assert not any(p.provisional for p in fixed)
    assert "week-8 review" in maintenance.source_of("provisional")
    assert any("12/31/2024" in note for note in ESKETAMINE.notes)


def test_an_esketamine_protocol_observing_less_than_two_hours_is_refused() -> None:
    short = Phase(
        "x", 8, 2, 5, 120, per_week=2, checkin_minutes=15, dose_minutes=10, observe_minutes=90
    )
    with pytest.raises(ProtocolError) as error:
        Protocol("mine", "E", "esketamine", (short,))
    assert str(error.value) == (
        "protocol 'mine': phase 'x' observes 90 minutes after the last device; the "
        "SPRAVATO label requires at least 120"
    )


def test_no_source_names_a_path_outside_the_repository() -> None:
    for protocol in BUILTIN.values():
        assert "shared/" not in protocol.source
        for phase in protocol.phases:
            assert not any("shared/" in text for _, text in phase.sources)


def test_im_has_the_iv_pattern_with_its_own_chair_time() -> None:
    assert [p.sessions for p in IM.phases] == [p.sessions for p in IV.phases]
    assert [p.window_days for p in IM.phases] == [p.window_days for p in IV.phases]
    assert IM.phases[0].chair_minutes < IV.phases[0].chair_minutes


def test_esketamine_is_twice_weekly_for_four_weeks_weekly_for_four_then_every_one_or_two() -> None:
    induction, weekly, maintenance = ESKETAMINE.phases
    assert (induction.sessions, induction.per_week) == (8, 2)
    assert (weekly.sessions, weekly.per_week) == (4, 1)
    assert (maintenance.min_gap_days, maintenance.max_gap_days) == (7, 14)
    assert all(p.observed_minutes >= 120 for p in ESKETAMINE.phases)


def test_lozenges_are_home_doses_without_a_chair() -> None:
    (home,) = LOZENGE.phases
    assert (home.location, home.chair_minutes) == ("home", 0)
    assert (home.min_gap_days, home.max_gap_days, home.every_days) == (2, 7, (3,))


@pytest.mark.parametrize("protocol", BUILTIN.values(), ids=lambda p: p.name)
def test_every_built_in_number_names_its_source(protocol: object) -> None:
    assert protocol in BUILTIN.values()
    for phase in protocol.phases:  # type: ignore[attr-defined]
        for name in ("min_gap_days", "max_gap_days", "chair_minutes"):
            assert phase.source_of(name), f"{phase.name}.{name} has no source"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"sessions": 0}, "phase 'x': sessions must be a whole number from 1 to 100, got 0"),
        (
            {"min_gap_days": 5, "max_gap_days": 3},
            "phase 'x': max_gap_days must be a whole number from 5 to 365, got 3",
        ),
        ({"chair_minutes": 0}, "phase 'x': chair_minutes must be 1 to 720 in clinic"),
        ({"location": "car"}, "phase 'x': location must be clinic or home, got 'car'"),
        ({"per_week": 3, "sessions": 8}, "phase 'x': sessions must be a multiple of per_week (3)"),
        ({"every_days": (1,)}, "phase 'x': every_days must be a whole number from 2 to 7, got 1"),
        (
            {"checkin_minutes": 20, "dose_minutes": 40, "observe_minutes": 60},
            "phase 'x': checkin_minutes + dose_minutes + observe_minutes is 120, more than "
            "chair_minutes (60)",
        ),
        (
            {"checkin_minutes": 20},
            "phase 'x': dose_minutes must be a whole number from 0 to 720, got None",
        ),
    ],
)
def test_a_phase_outside_its_ranges_is_refused(fields: dict[str, object], message: str) -> None:
    base: dict[str, object] = {
        "name": "x",
        "sessions": 6,
        "min_gap_days": 2,
        "max_gap_days": 7,
        "chair_minutes": 60,
    }
    with pytest.raises(ProtocolError) as error:
        Phase(**{**base, **fields})  # type: ignore[arg-type]
    assert str(error.value) == message


def test_a_clinic_protocol_file_may_give_the_chair_time_as_its_parts() -> None:
    protocol = protocol_from_dict(
        {
            "name": "mine",
            "route": "iv",
            "phases": [
                {
                    "name": "induction",
                    "sessions": 6,
                    "min_gap_days": 2,
                    "max_gap_days": 4,
                    "checkin_minutes": 30,
                    "dose_minutes": 40,
                    "observe_minutes": 45,
                }
            ],
        },
        source="test",
    )
    (phase,) = protocol.phases
    assert (phase.chair_minutes, phase.max_gap_days, phase.last_dose_offset) == (115, 4, 70)
