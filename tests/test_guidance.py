"""The patient-facing preparation and aftercare text, per route: the source article's
aftercare, the SPRAVATO label's preparation, and the clinic's own fasting rule and crisis
line (docs/sources.md)."""

from __future__ import annotations

from ketaplan.model.protocol import ROUTES
from ketaplan.safety.guidance import GUIDANCE, PatientSettings, guidance_for


def test_every_route_has_guidance() -> None:
    assert set(GUIDANCE) == set(ROUTES)
    for route in ROUTES:
        assert guidance_for(route).strip()


def test_iv_guidance_has_fasting_no_alcohol_medication_list_driver_rest_and_crisis() -> None:
    assert guidance_for("iv") == (
        "Before your visit:\n"
        "- No solid food for 6 hours before your visit; clear liquids only, until 2 hours "
        "before.\n"
        "- No alcohol or recreational drugs for 24 hours before and after your visit.\n"
        "- Bring a list of every medicine you take.\n"
        "- Arrange for someone to drive you home.\n"
        "\n"
        "After your visit:\n"
        "- Do not drive and do not go back to work for the rest of the day.\n"
        "- Rest: you may feel tired.\n"
        "- If you have thoughts of harming yourself, call your local emergency number at once."
    )


def test_the_clinics_fasting_rule_and_crisis_line_are_used() -> None:
    text = guidance_for("iv", PatientSettings(8, 0, "+49 30 1234567"))
    assert "- No solid food for 8 hours before your visit.\n" in text
    assert text.endswith("call +49 30 1234567 at once.")


def test_im_has_the_same_preparation_and_aftercare_as_iv() -> None:
    assert guidance_for("im") == guidance_for("iv")


def test_esketamine_guidance_has_fasting_nasal_sprays_observation_and_no_driving() -> None:
    assert guidance_for("esketamine") == (
        "Before your visit:\n"
        "- No food for 2 hours and no liquids for 30 minutes before the dose.\n"
        "- If you use a nasal corticosteroid or decongestant spray, use it at least 1 hour "
        "before the dose.\n"
        "- Bring a list of every medicine you take.\n"
        "- Arrange for someone to drive you home.\n"
        "- Plan to stay at least 2 hours after the last spray: you are observed.\n"
        "\n"
        "After your visit:\n"
        "- Do not drive until the next day, after a restful sleep.\n"
        "- If you have thoughts of harming yourself, call your local emergency number at once."
    )


def test_a_home_dose_is_a_reminder_with_aftercare_and_safe_storage_not_a_visit() -> None:
    text = guidance_for("lozenge")
    assert text == (
        "Reminder: your home lozenge dose, as your clinic prescribed.\n"
        "This is not a clinic appointment.\n"
        "\n"
        "After your dose:\n"
        "- Rest afterwards; do not drive for the rest of the day.\n"
        "- No alcohol or sedatives.\n"
        "- Keep the lozenges locked away, out of reach of children and others.\n"
        "- If you have thoughts of harming yourself, call your local emergency number at once."
    )
    assert "visit" not in text
