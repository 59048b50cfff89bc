"""Esketamine REMS: enrollment before the first treatment, and a patient monitoring form
after every session, due within 7 calendar days ([spravato-rems]: REMS@FDA, last update
12/31/2024).

The REMS is a US outpatient programme: a clinic turns it on or off in ketaplan.toml
(`[rems] program = "us-spravato"` or `"none"`); without the key it is on for a US time
zone and off elsewhere. Inpatient settings are exempt and set "none". Enrollment is
needed before the first treatment, not before booking: a course booked without it is
flagged, and `first_treatment_refusal` stops the first esketamine treatment until it is
recorded.

Due dates are calendar dates in the clinic's zone: the session's local date plus 7 days.
They are never computed as 7 x 24 hours from an instant, which would land on the wrong
day across a clock change, or from a UTC date, which is the previous or next day for
early or late sessions far from Greenwich.

Pure: no clock, no store.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from ketaplan.errors import KetaplanError
from ketaplan.model.course import Course
from ketaplan.model.records import SessionRecord

REMS_VERSION = "SPRAVATO REMS (REMS@FDA, last update 12/31/2024)"
FORM_DUE_DAYS = 7
# An enrollment may be recorded ahead of its date; more than a year ahead is a typo.
ENROLLMENT_AHEAD_DAYS = 366
# The IANA zones of the United States and Puerto Rico (zone.tab, with their old aliases):
# a clinic there is under the REMS unless its config says otherwise.
US_ZONES = frozenset(
    {
        "America/New_York", "America/Detroit", "America/Kentucky/Louisville",
        "America/Kentucky/Monticello", "America/Indiana/Indianapolis",
        "America/Indiana/Vincennes", "America/Indiana/Winamac", "America/Indiana/Marengo",
        "America/Indiana/Petersburg", "America/Indiana/Vevay", "America/Chicago",
        "America/Indiana/Tell_City", "America/Indiana/Knox", "America/Menominee",
        "America/North_Dakota/Center", "America/North_Dakota/New_Salem",
        "America/North_Dakota/Beulah", "America/Denver", "America/Boise", "America/Phoenix",
        "America/Los_Angeles", "America/Anchorage", "America/Juneau", "America/Sitka",
        "America/Metlakatla", "America/Yakutat", "America/Nome", "America/Adak",
        "Pacific/Honolulu", "America/Puerto_Rico", "America/Indianapolis",
        "America/Fort_Wayne", "America/Louisville", "America/Knox_IN", "Navajo",
    }
)  # fmt: skip
WEEK_DAYS = 7
# A session that took or will take place owes a form; a cancelled or missed one gave no
# dose and owes none.
DOSED = ("booked", "attended")


class RemsError(KetaplanError):
    """An esketamine course cannot be booked: the REMS enrollment is missing or too late."""


@dataclass(frozen=True)
class Enrollment:
    """A patient's esketamine REMS enrollment, as the clinic records it.

    Attributes:
        patient: the patient's code, never a name.
        enrolled_on: the day the patient was enrolled; on or before the first treatment.
    """

    patient: str
    enrolled_on: date


@dataclass(frozen=True)
class MonitoringForm:
    """A REMS patient monitoring form owed for one esketamine session.

    Attributes:
        patient: the patient's code.
        session_uid: the session's stable uid; a marker's uid derives from it.
        session_day: the session's date in the clinic's zone.
        due: the last day the form is due: `session_day` plus 7 calendar days; the
            staff calendar's all-day marker falls on this date.
    """

    patient: str
    session_uid: str
    session_day: date
    due: date


def rems_applies(program: str | None, zone: str) -> bool:
    """Whether the esketamine REMS applies: the config's `[rems] program` when given,
    else on for a US time zone."""
    if program is not None:
        return program == "us-spravato"
    return zone in US_ZONES or zone.startswith("US/")


def rems_setting(program: str | None, zone: str) -> str:
    """One line saying whether the esketamine REMS (enrollment before the first
    treatment, monitoring forms) applies to the clinic, and why: what `init` states."""
    state = "on" if rems_applies(program, zone) else "off"
    if program is not None:
        return f'Esketamine REMS: {state} ([rems] program = "{program}")'
    if state == "on":
        return "Esketamine REMS: on (a US time zone; [rems] program can turn it off)"
    return "Esketamine REMS: off (not a US time zone; [rems] program can turn it on)"


ENROLLMENT_MISSING = "REMS enrollment not recorded: needed before the first treatment"


def enrollment_flag(course: Course, enrollment: Enrollment | None) -> str | None:
    """What a booked esketamine course is flagged with when the patient's enrollment is
    not recorded, or is dated after the first treatment; None when nothing is missing."""
    try:
        require_enrollment(course, enrollment)
    except RemsError:
        if enrollment is None:
            return ENROLLMENT_MISSING
        return (
            f"REMS enrollment recorded for {enrollment.enrolled_on}, after the first "
            "treatment: needed before it"
        )
    return None


def first_treatment_refusal(
    session: SessionRecord, earlier_dosed: int, enrollment: date | None, *, rems: bool
) -> str | None:
    """Why an esketamine session cannot be given now, or None: the first treatment of a
    course under the REMS needs an enrollment dated on or before its day.

    `earlier_dosed` is how many sessions of the course were attended before this one;
    `enrollment` the recorded enrollment date, or None. For `attend`.
    """
    if not rems or session.route != "esketamine" or session.location != "clinic":
        return None
    if earlier_dosed:
        return None
    day = _local_day(session.start, ZoneInfo(session.zone))
    if enrollment is None:
        return (
            f"{session.patient}'s first esketamine treatment needs the REMS enrollment, and "
            f"none is recorded; record it with `ketaplan rems enroll --patient {session.patient} "
            "--date DATE` first"
        )
    if enrollment > day:
        return (
            f"{session.patient} is enrolled in the esketamine REMS from {enrollment}, after "
            f"this first treatment on {day}; the enrollment must come first"
        )
    return None


def form_due_date(session_day: date) -> date:
    """The day a session's monitoring form is due: the session's local date plus 7 days."""
    return session_day + timedelta(days=FORM_DUE_DAYS)


def _local_day(start: datetime, zone: ZoneInfo) -> date:
    # A session's date is the clinic's, whatever zone its start was handed over in.
    return start.astimezone(zone).date()


def monitoring_forms(course: Course) -> tuple[MonitoringForm, ...]:
    """One form per clinic session of an esketamine course; none for other routes."""
    if course.protocol.route != "esketamine":
        return ()
    zone = ZoneInfo(course.zone)
    days = ((s.uid, _local_day(s.start, zone)) for s in course.clinic_sessions)
    return tuple(MonitoringForm(course.patient, uid, day, form_due_date(day)) for uid, day in days)


def booked_forms(sessions: Iterable[SessionRecord]) -> list[MonitoringForm]:
    """One form per esketamine clinic session of the book that took or will take place,
    in the order given; other routes, home doses, cancelled and missed sessions owe none."""
    return [
        session_form(s)
        for s in sessions
        if s.route == "esketamine" and s.location == "clinic" and s.status in DOSED
    ]


def session_form(session: SessionRecord) -> MonitoringForm:
    """The form a booked esketamine session owes (whatever its status)."""
    day = _local_day(session.start, ZoneInfo(session.zone))
    return MonitoringForm(session.patient, session.uid, day, form_due_date(day))


def forms_due(forms: Iterable[MonitoringForm], week_start: date) -> list[MonitoringForm]:
    """The forms due in the 7 days from `week_start` (inclusive), by due date, then
    patient and session day.

    `forms` are those of the sessions that took or will take place (`monitoring_forms`
    of each booked course); the caller leaves out cancelled sessions.
    """
    return forms_due_between(forms, week_start, week_start + timedelta(days=WEEK_DAYS - 1))


def forms_due_between(
    forms: Iterable[MonitoringForm], first: date, last: date
) -> list[MonitoringForm]:
    """The forms due from `first` to `last` (inclusive), by due date, then patient and
    session day."""
    return sorted(
        (f for f in forms if first <= f.due <= last),
        key=lambda f: (f.due, f.patient, f.session_day, f.session_uid),
    )


def require_enrollment(course: Course, enrollment: Enrollment | None) -> None:
    """Refuse an esketamine course whose patient is not enrolled on or before the day of
    its first clinic session. Other routes need no enrollment."""
    if course.protocol.route != "esketamine" or not course.clinic_sessions:
        return
    patient = course.patient
    first = _local_day(course.clinic_sessions[0].start, ZoneInfo(course.zone))
    if enrollment is None:
        raise RemsError(
            f"esketamine needs REMS enrollment before the first treatment ({first}), and "
            f"none is recorded for patient {patient}; record it with "
            f"`ketaplan rems enroll --patient {patient} --date DATE`"
        )
    if enrollment.patient != patient:
        raise RemsError(
            f"the REMS enrollment given is for patient {enrollment.patient}, "
            f"not for patient {patient}"
        )
    if enrollment.enrolled_on > first:
        raise RemsError(
            f"patient {patient} was enrolled in the esketamine REMS on "
            f"{enrollment.enrolled_on}, after the first treatment on {first}; the patient "
            "must be enrolled on or before the day of the first treatment"
        )
