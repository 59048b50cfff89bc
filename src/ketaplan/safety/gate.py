"""The screening check before a course is booked, and the override that lets a clinician
book anyway.

`book` refuses a patient whose latest screening lists a contraindication, or who has no
screening when the clinic requires one (`require_screening`, on by default), unless an
override reason is given; the override and its reason are stored with the course.
ketaplan supports the clinician's decision and makes none: the check only makes sure
the decision was taken and written down.

Pure: the latest screening is an argument.
"""

from __future__ import annotations

from ketaplan.errors import UsageError
from ketaplan.model.records import ScreeningOverride, ScreeningRecord

# A reason is a line in a table, not a clinical note.
MAX_OVERRIDE = 200
NO_SCREENING = "no screening recorded"


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


def screening_state(latest: ScreeningRecord | None) -> str:
    """What the book holds: `no screening recorded`, or `screening of DATE: SUMMARY`."""
    if latest is None:
        return NO_SCREENING
    return f"screening of {latest.date.isoformat()}: {latest.summary}"


def screening_refusal(latest: ScreeningRecord | None, *, require_screening: bool) -> str | None:
    """Why the patient cannot be booked without an override, or None when nothing stops
    it: a contraindication always; no screening only when the clinic requires one."""
    if latest is not None and latest.contraindicated:
        return f"the latest screening ({latest.date.isoformat()}) is {latest.summary}"
    if latest is None and require_screening:
        return NO_SCREENING
    return None


def checked_override(
    patient: str,
    latest: ScreeningRecord | None,
    reason: str | None,
    *,
    require_screening: bool,
    hint: str,
) -> tuple[ScreeningOverride | None, str | None]:
    """The override to store with the course, and the refusal (None when the course may
    be booked). An override given is stored even when nothing needed it, with what the
    book held at the time, so the course always shows the reason the coordinator gave.

    `hint` says how to give an override: `--override "REASON"` or the roster's column.
    """
    if reason is not None:
        return ScreeningOverride(reason, screening_state(latest)), None
    refusal = screening_refusal(latest, require_screening=require_screening)
    if refusal is None:
        return None, None
    if latest is None:
        return None, (
            f"{refusal}; screen the patient first (`ketaplan screen --patient "
            f"{patient}`), or {hint} if the clinician decides to book anyway"
        )
    return None, (f"{refusal}; not booked: {hint} if the clinician decides to treat anyway")
