"""What a patient is told to do before and after a session, by route.

The facts are the source article's aftercare ([article2022]) and the SPRAVATO label's
fasting, observation and driving rules ([spravato-label] sections 2 and 5). ketaplan plans
appointments: this is preparation and aftercare for the visit, never dosing advice. The
text is plain and short, because calendar clients show it as the event's description.
"""

from __future__ import annotations

from dataclasses import dataclass

from ketaplan.model.protocol import Route


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
            parts.append("After your visit:")
            parts.extend(f"- {line}" for line in self.aftercare)
        return "\n".join(parts)


_IV_IM = Guidance(
    preparation=("Arrange for someone to drive you home.",),
    aftercare=(
        "Do not drive and do not go back to work for the rest of the day.",
        "Rest: you may feel tired.",
    ),
)

GUIDANCE: dict[Route, Guidance] = {
    "iv": _IV_IM,
    "im": _IV_IM,
    "esketamine": Guidance(
        preparation=(
            "No food for 2 hours and no liquids for 30 minutes before the dose.",
            "Arrange for someone to drive you home.",
            "Plan to stay at least 2 hours: you are observed after the dose.",
        ),
        aftercare=("Do not drive until the next day, after a restful sleep.",),
    ),
    "lozenge": Guidance(
        reminder=(
            "Reminder: your home lozenge dose, as your clinic prescribed.",
            "This is not a clinic appointment.",
        ),
    ),
}


def guidance_for(route: Route) -> str:
    """The description text for a session of this route."""
    return GUIDANCE[route].text()


def home_dose_alarm_text() -> str:
    """What the alarm of a home dose says."""
    return "Home lozenge dose now."
