"""The built-in protocols carry the numbers of their cited sources (docs/sources.md), and a
protocol that breaks a field's range cannot be made."""

from __future__ import annotations

import pytest

from ketaplan.model.protocol import Phase, ProtocolError
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
    assert 75 <= induction.chair_minutes <= 100  # 40-minute infusion plus 30-60 recovery


def test_im_has_the_iv_pattern_with_its_own_chair_time() -> None:
    assert [p.sessions for p in IM.phases] == [p.sessions for p in IV.phases]
    assert [p.window_days for p in IM.phases] == [p.window_days for p in IV.phases]
    assert IM.phases[0].chair_minutes < IV.phases[0].chair_minutes


def test_esketamine_is_twice_weekly_for_four_weeks_weekly_for_four_then_every_one_or_two() -> None:
    induction, weekly, maintenance = ESKETAMINE.phases
    assert (induction.sessions, induction.per_week) == (8, 2)
    assert (weekly.sessions, weekly.per_week) == (4, 1)
    assert (maintenance.min_gap_days, maintenance.max_gap_days) == (7, 14)
    assert all(p.chair_minutes >= 120 for p in ESKETAMINE.phases)


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
