"""The staff checklist of one session, by route: vitals before, during and after, when
observation ends, what to watch for, and the conditions for discharge. It goes into
staff calendar events and `agenda --detail`; patient calendars carry preparation and
aftercare instead, never this.

Sources (docs/sources.md gives them in full): the source article's side effects and
"Risks" ([article2022]); the SPRAVATO label ([spravato-label] sections 2 and 5: blood
pressure before dosing and about 40 minutes after, observation for at least 2 hours after
administration, the boxed warning, discharge when clinically stable); the SPRAVATO REMS
([spravato-rems]: pulse oximeter on site, monitoring form within 7 days); Riva-Posse 2018
([rivaposse2018]: blood pressure every 10 minutes during an IV infusion, every 15 after).

The dose is given after the phase's check-in minutes; observation counts from the end
of administration (the last esketamine device, the infusion's end). Times are wall-clock
times in the session's zone, computed through UTC so that a clock change during a
session shifts nothing.

The checklist reminds staff of these points; ketaplan supports the clinician's decision
and makes none. Pure: the session's times and the clinic's settings are arguments.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from ketaplan.model.protocol import ESKETAMINE_MIN_OBSERVE_MINUTES, ROUTES, Route
from ketaplan.model.records import SessionRecord
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
# [article2022] Risks, for every route.
RISKS = (
    "respiratory depression (breathing, oxygen saturation)",
    "cardiovascular instability (blood pressure, heart rate)",
    "sedation",
)
# [spravato-label] the boxed warning, and increased blood pressure (section 5).
BOXED_WARNING = (
    "sedation",
    "dissociation",
    "respiratory depression",
    "abuse and misuse",
    "suicidal thoughts and behaviours",
    "increased blood pressure (peaks about 40 minutes after the dose, lasts about 4 hours)",
)

# Esketamine: blood pressure about 40 minutes after the dose ([spravato-label]).
ESKETAMINE_BP_AFTER_MINUTES = 40
ESKETAMINE_OBSERVE_MINUTES = ESKETAMINE_MIN_OBSERVE_MINUTES
DEFAULT_BP_THRESHOLD = (140, 90)
# [rivaposse2018] measured every 10 minutes during the infusion and every 15 after;
# clinics use 10 to 15. ketaplan's default is the upper end; a clinic sets its own.
DEFAULT_VITALS_EVERY_MINUTES = 15

_DOSE = {"iv": "infusion", "im": "injection", "esketamine": "dose", "lozenge": "dose"}
_TITLE = {
    "iv": "IV ketamine",
    "im": "IM ketamine",
    "esketamine": "esketamine nasal spray",
    "lozenge": "ketamine lozenge",
}
_DRIVER = "a driver is present to take the patient home"
_PREGNANCY = "pregnancy status confirmed"


@dataclass(frozen=True)
class Monitoring:
    """The clinic's monitoring settings a checklist prints (ketaplan.toml `[safety]`).

    Attributes:
        bp_threshold: (systolic, diastolic) above which the clinician decides whether
            to dose (the label's point for weighing the risk: 140/90).
        vitals_every_minutes: IV and IM: vitals during the infusion this often.
        rems: the esketamine REMS applies (a monitoring form is due after each session).
    """

    bp_threshold: tuple[int, int] = DEFAULT_BP_THRESHOLD
    vitals_every_minutes: int = DEFAULT_VITALS_EVERY_MINUTES
    rems: bool = True

    @property
    def threshold_text(self) -> str:
        return f"{self.bp_threshold[0]}/{self.bp_threshold[1]}"


@dataclass(frozen=True)
class Checklist:
    """What staff check at one session.

    Attributes:
        route: iv, im, esketamine or lozenge.
        start: the session's start, when the patient checks in (aware, local).
        dose_at: when administration begins (the first device, the infusion's start).
        last_dose_at: when administration ends (the last device, the infusion's end);
            observation counts from here.
        observe_until: when observation ends (aware, local); for esketamine at least
            2 hours after the last device.
        before: checks before the dose.
        during: checks during administration and observation.
        after: checks after the dose, with their times.
        watch_risks: the risks watched for at every session.
        watch_boxed: esketamine: the label's boxed warning and increased blood pressure.
        watch_common: the common side effects to watch for.
        watch_rare: the rare side effects to watch for.
        discharge: conditions for letting the patient go home.
        form_due: esketamine under the REMS: the day the monitoring form is due.
    """

    route: Route
    start: datetime
    dose_at: datetime
    last_dose_at: datetime
    observe_until: datetime
    before: tuple[str, ...]
    during: tuple[str, ...]
    after: tuple[str, ...]
    watch_risks: tuple[str, ...] = RISKS
    watch_boxed: tuple[str, ...] = ()
    watch_common: tuple[str, ...] = COMMON_SIDE_EFFECTS
    watch_rare: tuple[str, ...] = RARE_SIDE_EFFECTS
    discharge: tuple[str, ...] = ()
    form_due: date | None = None

    def as_json(self) -> dict[str, Any]:
        """The documented JSON form: times as ISO 8601 with offset."""
        return {
            "route": self.route,
            "start": self.start.isoformat(),
            "dose_at": self.dose_at.isoformat(),
            "last_dose_at": self.last_dose_at.isoformat(),
            "observe_until": self.observe_until.isoformat(),
            "before": list(self.before),
            "during": list(self.during),
            "after": list(self.after),
            "watch_risks": list(self.watch_risks),
            "watch_boxed": list(self.watch_boxed),
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
            "During: " + "; ".join(self.during),
            "After: " + "; ".join(self.after),
            f"Observe until {self.observe_until:%H:%M}" + self._observe_note(),
            "Watch (risks): " + ", ".join(self.watch_risks),
        ]
        if self.watch_boxed:
            lines.append("Watch (boxed warning): " + ", ".join(self.watch_boxed))
        lines += [
            "Watch (common): " + ", ".join(self.watch_common),
            "Watch (rare): " + ", ".join(self.watch_rare),
            "Discharge: " + "; ".join(self.discharge),
        ]
        if self.form_due is not None:
            lines.append(f"REMS: patient monitoring form due by {self.form_due.isoformat()}")
        return "\n".join(lines)

    def _observe_note(self) -> str:
        if self.route == "esketamine":
            return f" (at least 2 hours after the last device, at {self.last_dose_at:%H:%M})"
        if self.last_dose_at > self.start:
            return f" (the {_DOSE[self.route]} ends at {self.last_dose_at:%H:%M})"
        return ""


def checklist(
    route: Route,
    start: datetime,
    end: datetime,
    *,
    dose_offset: int = 0,
    last_dose_offset: int = 0,
    monitoring: Monitoring | None = None,
    pregnancy_check: bool | None = None,
) -> Checklist:
    """The staff checklist of a session of `route` from `start` to `end` (aware).

    `dose_offset` and `last_dose_offset` are the minutes from the start to the first and
    last dose (the phase's check-in, and check-in plus administration). `pregnancy_check`
    is True when the patient could become pregnant, False when not, None when the
    screening did not say (the line then says when it applies).
    """
    if route not in ROUTES:
        raise ValueError(f"route must be one of {', '.join(ROUTES)}, got {route!r}")
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start and end must be aware datetimes")
    if end < start:
        raise ValueError("end must not be before start")
    if not 0 <= dose_offset <= last_dose_offset:
        raise ValueError("the doses must be in order, from the start")
    settings = monitoring or Monitoring()
    dose = _DOSE[route]
    end = end.astimezone(start.tzinfo)  # times print in the session's zone
    dose_at = _after(start, dose_offset)
    last_at = _after(start, last_dose_offset)
    pregnancy = _pregnancy(pregnancy_check)
    threshold = (
        f"blood pressure before dosing, against the clinic's threshold "
        f"{settings.threshold_text}: above it the clinician decides whether to dose, "
        "and the reason is recorded"
    )
    discharge_stable = (
        "clinically stable: alert, breathing normally, sedation and dissociation resolved",
        f"blood pressure back to a safe level (below {settings.threshold_text}, or the "
        "patient's baseline)",
    )
    if route == "esketamine":
        bp_at = _after(last_at, ESKETAMINE_BP_AFTER_MINUTES)
        return Checklist(
            route="esketamine",
            start=start,
            dose_at=dose_at,
            last_dose_at=last_at,
            observe_until=max(end, _after(last_at, ESKETAMINE_OBSERVE_MINUTES)),
            before=(
                *pregnancy,
                threshold,
                "patient confirms no food for 2 hours and no liquids for 30 minutes before",
                "nasal corticosteroid or decongestant, if used, at least 1 hour before",
                "pulse oximeter ready",
            ),
            during=(
                f"administration from {dose_at:%H:%M}, devices 5 minutes apart, the last "
                f"at {last_at:%H:%M}",
                "pulse oximetry from the first device until discharge",
            ),
            after=(
                f"blood pressure about {ESKETAMINE_BP_AFTER_MINUTES} minutes after the "
                f"dose, at {bp_at:%H:%M}",
                "monitor until sedation, dissociation and respiratory depression resolve",
            ),
            watch_boxed=BOXED_WARNING,
            discharge=(
                *discharge_stable,
                _DRIVER,
                "no driving until the next day, after restful sleep",
            ),
            form_due=form_due_date(start.date()) if settings.rems else None,
        )
    vitals = "blood pressure, heart rate, oxygen saturation"
    during = (f"vitals every {settings.vitals_every_minutes} minutes during the {dose} ({vitals})",)
    if route == "im":
        during = (
            f"vitals every {settings.vitals_every_minutes} minutes from the injection "
            f"until observation ends ({vitals})",
        )
    return Checklist(
        route=route,
        start=start,
        dose_at=dose_at,
        last_dose_at=last_at,
        observe_until=max(end, last_at),
        before=(*pregnancy, f"vitals before the {dose} ({vitals})", threshold),
        during=during,
        after=(f"vitals after the {dose}, before discharge",),
        discharge=(
            *discharge_stable,
            _DRIVER,
            "no driving and no return to work for the rest of the day",
        ),
    )


def checklist_text(route: Route, start: datetime, end: datetime, **options: Any) -> str:
    """The checklist as short plain text, for a calendar DESCRIPTION or `agenda --detail`."""
    return checklist(route, start, end, **options).text()


def _pregnancy(check: bool | None) -> tuple[str, ...]:
    if check is None:
        return (f"{_PREGNANCY}, if the patient could become pregnant",)
    return (_PREGNANCY,) if check else ()


def _after(start: datetime, minutes: int) -> datetime:
    # Through UTC: aware arithmetic in a zone is wall-clock arithmetic and skips or
    # repeats an hour at a clock change.
    return (start.astimezone(UTC) + timedelta(minutes=minutes)).astimezone(start.tzinfo)


def session_checklist(
    session: SessionRecord, monitoring: Monitoring, pregnancy_check: bool | None = None
) -> Checklist | None:
    """The staff checklist of a booked clinic session, with its phase's check-in and
    administration minutes; None for a home dose or a course whose stored protocol names
    no route."""
    if session.route is None or session.location != "clinic":
        return None
    first = session.checkin_minutes or 0
    return checklist(
        session.route,
        session.start,
        session.end,
        dose_offset=first,
        last_dose_offset=first + (session.dose_minutes or 0),
        monitoring=monitoring,
        pregnancy_check=pregnancy_check,
    )
