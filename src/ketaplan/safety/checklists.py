"""The staff checklist of one session, by route (sources below): vitals before
and after, when observation ends, the side effects to watch for and the conditions for
discharge. It goes into staff calendar events and `agenda --detail`; patient calendars
carry preparation and aftercare instead, never this.

The dose is taken at the session's start; the session's end (start plus chair time) is
when observation ends. Times are wall-clock times in the session's zone, computed
through UTC so that a clock change during a session shifts nothing.

The checklist reminds staff of the document's points; ketaplan supports the clinician's
decision and makes none. Pure: the session's times are arguments.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from ketaplan.model.protocol import ROUTES, Route
from ketaplan.safety.rems import form_due_date

# [article2022] side effects, common and rare.
COMMON_SIDE_EFFECTS = (
    "drowsiness",
    "dizziness",
    "dissociation",
    "nausea",
    "blurred or double vision",
    "vertigo",
    "psychosis (hallucinations, delusions)",
    "headaches",
    "altered taste",
)
RARE_SIDE_EFFECTS = (
    "mania",
    "poor muscle control",
    "restlessness",
    "panic attacks",
    "thoughts of self-harm",
    "out-of-body experiences",
)

# Esketamine: blood pressure about 40 minutes after the dose; observation for at least
# 2 hours ([spravato-label] sections 2 and 5).
ESKETAMINE_BP_AFTER_MINUTES = 40
ESKETAMINE_OBSERVE_MINUTES = 120

_DOSE = {"iv": "infusion", "im": "injection", "esketamine": "dose", "lozenge": "dose"}
_TITLE = {
    "iv": "IV ketamine",
    "im": "IM ketamine",
    "esketamine": "esketamine nasal spray",
    "lozenge": "ketamine lozenge",
}
_DRIVER = "a driver is present to take the patient home"


@dataclass(frozen=True)
class Checklist:
    """What staff check at one session.

    Attributes:
        route: iv, im, esketamine or lozenge.
        start: the session's start, when the dose is taken (aware, local).
        observe_until: when observation ends (aware, local): the session's end; for
            esketamine at least 2 hours after the dose.
        before: checks before the dose, vitals first.
        after: checks after the dose, vitals first, with their times.
        watch_common: the common side effects to watch for.
        watch_rare: the rare side effects to watch for.
        discharge: conditions for letting the patient go home.
        form_due: esketamine: the day the REMS monitoring form is due; else None.
    """

    route: Route
    start: datetime
    observe_until: datetime
    before: tuple[str, ...]
    after: tuple[str, ...]
    watch_common: tuple[str, ...] = COMMON_SIDE_EFFECTS
    watch_rare: tuple[str, ...] = RARE_SIDE_EFFECTS
    discharge: tuple[str, ...] = ()
    form_due: date | None = None

    def as_json(self) -> dict[str, Any]:
        """The documented JSON form: times as ISO 8601 with offset."""
        return {
            "route": self.route,
            "start": self.start.isoformat(),
            "observe_until": self.observe_until.isoformat(),
            "before": list(self.before),
            "after": list(self.after),
            "watch_common": list(self.watch_common),
            "watch_rare": list(self.watch_rare),
            "discharge": list(self.discharge),
            "form_due": self.form_due.isoformat() if self.form_due else None,
        }

    def text(self) -> str:
        """Short plain text, one line per heading, for a calendar DESCRIPTION."""
        lines = [
            f"Staff checklist: {_TITLE[self.route]}",
            "Before: " + "; ".join(self.before),
            "After: " + "; ".join(self.after),
            f"Observe until {self.observe_until:%H:%M}"
            + (" (at least 2 hours after the dose)" if self.route == "esketamine" else ""),
            "Watch (common): " + ", ".join(self.watch_common),
            "Watch (rare): " + ", ".join(self.watch_rare),
            "Discharge: " + "; ".join(self.discharge),
        ]
        if self.form_due is not None:
            lines.append(f"REMS: patient monitoring form due by {self.form_due.isoformat()}")
        return "\n".join(lines)


def checklist(route: Route, start: datetime, end: datetime) -> Checklist:
    """The staff checklist of a session of `route` from `start` to `end` (aware)."""
    if route not in ROUTES:
        raise ValueError(f"route must be one of {', '.join(ROUTES)}, got {route!r}")
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start and end must be aware datetimes")
    if end < start:
        raise ValueError("end must not be before start")
    dose = _DOSE[route]
    end = end.astimezone(start.tzinfo)  # times print in the session's zone
    if route == "esketamine":
        bp_at = _after(start, ESKETAMINE_BP_AFTER_MINUTES)
        return Checklist(
            route="esketamine",
            start=start,
            observe_until=max(end, _after(start, ESKETAMINE_OBSERVE_MINUTES)),
            before=(
                "blood pressure before the dose",
                "patient confirms no food for 2 hours and no liquids for 30 minutes before",
            ),
            after=(
                f"blood pressure about {ESKETAMINE_BP_AFTER_MINUTES} minutes after the dose, "
                f"at {bp_at:%H:%M}",
            ),
            discharge=(_DRIVER, "no driving until the next day, after restful sleep"),
            form_due=form_due_date(start.date()),
        )
    return Checklist(
        route=route,
        start=start,
        observe_until=end,
        before=(f"vitals before the {dose}",),
        after=(f"vitals after the {dose}, before discharge",),
        discharge=(_DRIVER, "no driving and no return to work for the rest of the day"),
    )


def checklist_text(route: Route, start: datetime, end: datetime) -> str:
    """The checklist as short plain text, for a calendar DESCRIPTION or `agenda --detail`."""
    return checklist(route, start, end).text()


def _after(start: datetime, minutes: int) -> datetime:
    # Through UTC: aware arithmetic in a zone is wall-clock arithmetic and skips or
    # repeats an hour at a clock change.
    return (start.astimezone(UTC) + timedelta(minutes=minutes)).astimezone(start.tzinfo)
