"""What a patient is told to do before and after a session, by route.

Sources (docs/sources.md gives them in full): the source article's aftercare
([article2022]); the SPRAVATO label's fasting, nasal-spray, observation and driving rules
([spravato-label] section 2); clinic practice for IV and IM preparation (the clinic's
fasting rule, no alcohol or recreational drugs for 24 hours before and after, the
medication list). ketaplan plans appointments: this is
preparation and aftercare for the visit, never dosing advice. The text is plain and
short, because calendar clients show it as the event's description.
"""

from __future__ import annotations

from dataclasses import dataclass

from ketaplan.model.protocol import ROUTES, Route


@dataclass(frozen=True)
class Guidance:
    """One route's patient-facing text.

    Attributes:
        preparation: before the session, one instruction a line.
        aftercare: after the session, one instruction a line.
        reminder: lines shown first, without a heading (home doses have no visit).
    """

    preparation: tuple[str, ...] = ()
    aftercare: tuple[str, ...] = ()
    reminder: tuple[str, ...] = ()

    def text(self) -> str:
        """Plain text for an event description: a heading and a line per instruction."""
        parts: list[str] = list(self.reminder)
        if self.preparation:
            if parts:
                parts.append("")
            parts.append("Before your visit:")
            parts.extend(f"- {line}" for line in self.preparation)
        if self.aftercare:
            if parts:
                parts.append("")
            parts.append("After your visit:" if not self.reminder else "After your dose:")
            parts.extend(f"- {line}" for line in self.aftercare)
        return "\n".join(parts)


@dataclass(frozen=True)
class PatientSettings:
    """The clinic's own rules patients are told (ketaplan.toml `[patient]`).

    Attributes:
        fasting_solids_hours: IV and IM: no solid food this many hours before.
        fasting_liquids_hours: clear liquids until this many hours before.
        crisis_line: the clinic's crisis line; "" for none given.
    """

    fasting_solids_hours: int = 6
    fasting_liquids_hours: int = 2
    crisis_line: str = ""


_MEDICATION_LIST = "Bring a list of every medicine you take."
_DRIVER = "Arrange for someone to drive you home."


def _crisis(settings: PatientSettings) -> str:
    where = settings.crisis_line or "your local emergency number"
    return f"If you have thoughts of harming yourself, call {where} at once."


def guidance(route: Route, settings: PatientSettings | None = None) -> Guidance:
    """The patient-facing text of a session of this route, with the clinic's rules."""
    rules = settings or PatientSettings()
    if route in ("iv", "im"):
        fasting = f"No solid food for {rules.fasting_solids_hours} hours before your visit"
        if rules.fasting_liquids_hours:
            fasting += f"; clear liquids only, until {rules.fasting_liquids_hours} hours before."
        else:
            fasting += "."
        return Guidance(
            preparation=(
                fasting,
                "No alcohol or recreational drugs for 24 hours before and after your visit.",
                _MEDICATION_LIST,
                _DRIVER,
            ),
            aftercare=(
                "Do not drive and do not go back to work for the rest of the day.",
                "Rest: you may feel tired.",
                _crisis(rules),
            ),
        )
    if route == "esketamine":
        return Guidance(
            preparation=(
                "No food for 2 hours and no liquids for 30 minutes before the dose.",
                "If you use a nasal corticosteroid or decongestant spray, use it at least "
                "1 hour before the dose.",
                _MEDICATION_LIST,
                _DRIVER,
                "Plan to stay at least 2 hours after the last spray: you are observed.",
            ),
            aftercare=(
                "Do not drive until the next day, after a restful sleep.",
                _crisis(rules),
            ),
        )
    return Guidance(
        reminder=(
            "Reminder: your home lozenge dose, as your clinic prescribed.",
            "This is not a clinic appointment.",
        ),
        aftercare=(
            "Rest afterwards; do not drive for the rest of the day.",
            "No alcohol or sedatives.",
            "Keep the lozenges locked away, out of reach of children and others.",
            _crisis(rules),
        ),
    )


# Each route's text with the default clinic rules.
GUIDANCE: dict[Route, Guidance] = {route: guidance(route) for route in ROUTES}


def guidance_for(route: Route, settings: PatientSettings | None = None) -> str:
    """The description text for a session of this route."""
    return guidance(route, settings).text()


def home_dose_alarm_text() -> str:
    """What the alarm of a home dose says."""
    return "Home lozenge dose now."
