"""The patient-facing preparation and aftercare text, per route (docs/sources.md)."""

from __future__ import annotations

from ketaplan.model.protocol import ROUTES
from ketaplan.safety.guidance import GUIDANCE, guidance_for


def test_every_route_has_guidance() -> None:
    assert set(GUIDANCE) == set(ROUTES)
    for route in ROUTES:
        assert guidance_for(route).strip()


def test_iv_guidance_is_a_driver_no_driving_or_work_for_the_day_and_rest() -> None:
    assert guidance_for("iv") == (
        "Before your visit:\n"
        "- Arrange for someone to drive you home.\n"
        "\n"
        "After your visit:\n"
        "- Do not drive and do not go back to work for the rest of the day.\n"
        "- Rest: you may feel tired."
    )


def test_im_has_the_same_aftercare_as_iv() -> None:
    assert guidance_for("im") == guidance_for("iv")


def test_esketamine_guidance_has_fasting_observation_and_no_driving_until_next_day() -> None:
    assert guidance_for("esketamine") == (
        "Before your visit:\n"
        "- No food for 2 hours and no liquids for 30 minutes before the dose.\n"
        "- Arrange for someone to drive you home.\n"
        "- Plan to stay at least 2 hours: you are observed after the dose.\n"
        "\n"
        "After your visit:\n"
        "- Do not drive until the next day, after a restful sleep."
    )


def test_a_home_dose_is_a_reminder_not_a_visit() -> None:
    text = guidance_for("lozenge")
    assert text == (
        "Reminder: your home lozenge dose, as your clinic prescribed.\n"
        "This is not a clinic appointment."
    )
    assert "visit" not in text
