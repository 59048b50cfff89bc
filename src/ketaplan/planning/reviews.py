"""Review points: where a course is evaluated before it goes on.

- IV and IM ketamine: after induction infusions 3 and 6 (ketaplan default: half-way
  through the six-infusion induction and at its end).
- Esketamine: at the end of week 4 ([spravato-label]: evaluate the benefit after the
  induction before continuing) and of week 8 (the last weekly session before
  maintenance, whose frequency the clinician then chooses by response).

Pure: a session's route, phase and numbers in, a yes or no out.
"""

from __future__ import annotations


def is_review_point(route: str | None, phase: str, phase_number: int, phase_total: int) -> bool:
    if route in ("iv", "im"):
        return phase == "induction" and phase_number in (3, 6)
    if route == "esketamine":
        return phase in ("induction", "maintenance-weekly") and phase_number == phase_total
    return False
