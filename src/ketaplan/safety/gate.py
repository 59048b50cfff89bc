"""The safety check before a course is booked, the override that lets a clinician book
anyway, the flags a booked course carries, and the blood-pressure check before a dose.

`book` refuses, unless an override reason is given (stored with the course):
- a patient whose latest screening lists a contraindication;
- a patient with no screening, or only one older than the clinic's
  `screening_valid_days` at the course's start, when the clinic requires one
  (`require_screening`, on by default);
- a patient who could become pregnant and whose pregnancy status was last asked before
  the course being replaced was booked: it is asked again before each course;
- esketamine with home lozenges (esketamine is never for home use under its REMS, and
  combining them is a clinician's decision).

A booking that passes can still carry flags, printed with it and stored with the course:
the screening does not meet the criteria for treatment-resistant depression, the
screening names warnings for the clinician, questions were not asked, or the esketamine
REMS enrollment is not recorded yet (needed before the first treatment, not before
booking). ketaplan supports the clinician's decision and makes none: the check only
makes sure the decision was taken and written down.

Pure: the latest screening, the dates and the settings are arguments.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from ketaplan.errors import UsageError
from ketaplan.model.protocol import Route
from ketaplan.model.records import ScreeningOverride, ScreeningRecord, SessionRecord
from ketaplan.safety.rems import ENROLLMENT_MISSING
from ketaplan.safety.screening import ScreeningResult, assess

# A reason is a line in a table, not a clinical note.
MAX_OVERRIDE = 200
NO_SCREENING = "no screening recorded"
ESKETAMINE_WITH_LOZENGES = "esketamine with home lozenges"


def parse_override(text: str, *, what: str = "--override") -> str:
    """An override reason: one non-empty line of at most MAX_OVERRIDE characters."""
    reason = text.strip()
    if not reason:
        raise UsageError(
            f'{what} needs a reason, e.g. {what} "cleared by Dr. A after cardiology review"'
        )
    if len(reason) > MAX_OVERRIDE:
        raise UsageError(f"{what} reason is {len(reason)} characters; at most {MAX_OVERRIDE}")
    if any(not ch.isprintable() for ch in reason):
        raise UsageError(f"{what} reason must be one line of text, without control characters")
    return reason


@dataclass(frozen=True)
class CourseCheck:
    """What the safety check knows of the course being booked.

    Attributes:
        start: the course's start date (a screening must be valid on it).
        route: the protocol's route.
        home_doses: the course has home lozenge doses.
        replaces: when the course it replaces was booked; None for a first course.
        require_screening: the clinic requires a screening (`require_screening`).
        valid_days: a screening older than this at `start` counts as none.
    """

    start: date
    route: Route
    home_doses: bool = False
    replaces: datetime | None = None
    require_screening: bool = True
    valid_days: int = 90


def screening_state(latest: ScreeningRecord | None) -> str:
    """What the book holds: `no screening recorded`, or `screening of DATE: SUMMARY`."""
    if latest is None:
        return NO_SCREENING
    return f"screening of {latest.date.isoformat()}: {latest.summary}"


def screening_result(latest: ScreeningRecord) -> ScreeningResult:
    """A stored screening evaluated with today's questions (new ones `not asked`)."""
    return assess(latest.patient, latest.answers, latest.date)


def expired(latest: ScreeningRecord, on: date, valid_days: int) -> bool:
    """The screening is more than `valid_days` old on day `on`."""
    return (on - latest.date).days > valid_days


@dataclass(frozen=True)
class Refusal:
    """Why a course is not booked without an override.

    Attributes:
        reason: one line.
        rescreen: screening the patient (again) would answer it.
    """

    reason: str
    rescreen: bool = False


def screening_refusal(
    latest: ScreeningRecord | None,
    *,
    require_screening: bool,
    check: CourseCheck | None = None,
) -> Refusal | None:
    """Why the patient cannot be booked without an override, or None when nothing stops
    it: a contraindication always; no valid screening only when the clinic requires one;
    a pregnancy status not asked since the last course; esketamine with home lozenges."""
    if latest is not None and latest.contraindicated:
        return Refusal(f"the latest screening ({latest.date.isoformat()}) is {latest.summary}")
    if check is not None and latest is not None and expired(latest, check.start, check.valid_days):
        if require_screening:
            return Refusal(
                f"the latest screening ({latest.date.isoformat()}) is more than "
                f"{check.valid_days} days old on the course's start ({check.start}), so it "
                "counts as none",
                rescreen=True,
            )
        latest = None
    if latest is None and require_screening:
        return Refusal(NO_SCREENING, rescreen=True)
    if check is None:
        return None
    if (
        latest is not None
        and check.replaces is not None
        # Whole seconds in the book: a tie is asked again, the safer reading.
        and latest.recorded <= check.replaces
        and screening_result(latest).could_become_pregnant is not False
    ):
        return Refusal(
            f"pregnancy status was last asked on {latest.date.isoformat()}, before the "
            "course this one replaces; it is asked again before each course",
            rescreen=True,
        )
    if check.route == "esketamine" and check.home_doses:
        return Refusal(
            f"{ESKETAMINE_WITH_LOZENGES}: esketamine is never for home use (REMS), and "
            "adding home lozenges to its course is a clinician's decision"
        )
    return None


def checked_override(
    patient: str,
    latest: ScreeningRecord | None,
    reason: str | None,
    *,
    require_screening: bool,
    hint: str,
    check: CourseCheck | None = None,
) -> tuple[ScreeningOverride | None, str | None]:
    """The override to store with the course, and the refusal (None when the course may
    be booked). An override given is stored even when nothing needed it, with what the
    book held at the time, so the course always shows the reason the coordinator gave.

    `hint` says how to give an override: `--override "REASON"` or the roster's column.
    """
    refusal = screening_refusal(latest, require_screening=require_screening, check=check)
    if reason is not None:
        state = screening_state(latest)
        if check is not None and check.route == "esketamine" and check.home_doses:
            state += f"; {ESKETAMINE_WITH_LOZENGES}"
        return ScreeningOverride(reason, state), None
    if refusal is None:
        return None, None
    if refusal.rescreen:
        return None, (
            f"{refusal.reason}; screen the patient first (`ketaplan screen --patient "
            f"{patient}`), or {hint} if the clinician decides to book anyway"
        )
    return None, (f"{refusal.reason}; not booked: {hint} if the clinician decides to treat anyway")


def screening_flags(latest: ScreeningRecord | None) -> tuple[str, ...]:
    """What a booking of this patient is flagged with from the screening: criteria not
    met, warnings for the clinician (suicidal thoughts first: alert the clinician today),
    and questions not asked."""
    if latest is None:
        return ()
    result = screening_result(latest)
    flags: list[str] = []
    if result.urgent:
        flags.append("alert the clinician today: current suicidal thoughts (boxed warning)")
    if result.unmet_criteria:
        unmet = "; ".join(f.name for f in result.unmet_criteria)
        flags.append(f"screening does not meet the criteria: {unmet}")
    others = [f.name for f in result.clinician_flags if f.key != "suicidal_thoughts_current"]
    if others:
        flags.append("ask the clinician: " + "; ".join(others))
    if result.not_asked:
        flags.append(
            f"screening of {latest.date.isoformat()} predates {len(result.not_asked)} "
            "questions (not asked)"
        )
    return tuple(flags)


def new_contraindication_flag(
    latest: ScreeningRecord | None, course_created: datetime
) -> str | None:
    """A screening recorded after the course was booked lists a contraindication: every
    future session of the course is flagged until a clinician decides."""
    # Whole seconds in the book: a screening stored in the second the course was booked
    # is the one the booking saw (and overrode).
    if latest is None or not latest.contraindicated or latest.recorded <= course_created:
        return None
    return f"screening of {latest.date.isoformat()} after booking: {latest.summary}"


def session_flags(
    session: SessionRecord, latest: ScreeningRecord | None, enrolled_on: date | None = None
) -> tuple[str, ...]:
    """A session's flags: a contraindication listed by a screening stored after its
    course was booked (on a session still to come on or after that screening's day),
    then its course's booking flags; a missing REMS enrollment stops being one once an
    enrollment dated on or before the session's day is recorded (`enrolled_on`)."""
    flags = session.flags
    if enrolled_on is not None and enrolled_on <= session.start.date():
        flags = tuple(f for f in flags if f != ENROLLMENT_MISSING)
    if session.status != "booked" or session.course_created is None or latest is None:
        return flags
    news = new_contraindication_flag(latest, session.course_created)
    if news is not None and session.start.date() >= latest.date:
        return (news, *flags)
    return flags


def pregnancy_check(latest: ScreeningRecord | None) -> bool | None:
    """Whether staff confirm pregnancy status: the latest screening's answer to "could
    the patient become pregnant", or None when there is none or it was not asked."""
    if latest is None:
        return None
    return screening_result(latest).could_become_pregnant


def blood_pressure_above(reading: tuple[int, int], threshold: tuple[int, int]) -> bool:
    """A reading is above the threshold when its systolic or its diastolic is."""
    return reading[0] > threshold[0] or reading[1] > threshold[1]


def blood_pressure_refusal(reading: tuple[int, int], threshold: tuple[int, int]) -> str | None:
    """Why a dose needs a clinician's reason (above the clinic's threshold, the SPRAVATO
    label's point for weighing the risk), or None. For `attend --bp`: above it, a
    reason to dose anyway, or "not dosed"."""
    if not blood_pressure_above(reading, threshold):
        return None
    return (
        f"blood pressure {reading[0]}/{reading[1]} is above the clinic's threshold "
        f"{threshold[0]}/{threshold[1]}: dose only with the clinician's reason, or record "
        "the session as not dosed"
    )
