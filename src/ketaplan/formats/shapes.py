"""The documented JSON and CSV shapes that commands print (docs/formats.md): one typed
home for each, so every command that prints a thing prints it the same way.

Times are ISO 8601 with their UTC offset; dates are YYYY-MM-DD.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import date, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any, TypedDict, cast

from ketaplan.model.clinic import ClinicConfig
from ketaplan.model.course import Course, SessionFields
from ketaplan.model.protocol import Protocol
from ketaplan.model.records import (
    Attendance,
    FeedRecord,
    HistoryEntry,
    ScreeningOverride,
    ScreeningRecord,
    SessionRecord,
)

if TYPE_CHECKING:
    # Only for types: `ketaplan plan` prints its shapes without loading the safety code.
    from ketaplan.safety.checklists import Checklist
    from ketaplan.safety.rems import MonitoringForm
    from ketaplan.safety.screening import ScreeningResult


class SessionJson(TypedDict):
    """One session, the same keys in `plan`, `book` and `agenda` (`SESSION_KEYS`)."""

    patient: str
    number: int
    phase: str
    phase_number: int
    start: str
    end: str
    location: str
    chair: int | None
    uid: str
    status: str
    note: str | None


# A session's keys wherever a session is printed: JSON objects have them in this order,
# and every CSV has them as columns (after the columns it had before, so none moved).
SESSION_KEYS: tuple[str, ...] = tuple(SessionJson.__annotations__)


def session_json(
    patient: str,
    s: SessionFields,
    *,
    chair: int | None,
    status: str,
    note: str | None,
) -> SessionJson:
    """The one shape of a session: planned (`status` "planned", no chair), booked, or as
    the book holds it."""
    return {
        "patient": patient,
        "number": s.number,
        "phase": s.phase,
        "phase_number": s.phase_number,
        "start": s.start.isoformat(),
        "end": s.end.isoformat(),
        "location": s.location,
        "chair": chair,
        "uid": s.uid,
        "status": status,
        "note": note,
    }


def _csv_value(value: object) -> object:
    return "" if value is None else value


def _csv(first: Sequence[str]) -> tuple[str, ...]:
    """A CSV header: its own columns first, then every session key it lacks."""
    return (*first, *(k for k in SESSION_KEYS if k not in first))


class PlannedCourseJson(TypedDict):
    """`ketaplan plan --format json`."""

    patient: str
    protocol: str
    timezone: str
    sessions: list[SessionJson]


def _planned(course: Course) -> list[SessionJson]:
    return [
        session_json(course.patient, s, chair=None, status="planned", note=s.note)
        for s in course.sessions
    ]


def planned_course_json(course: Course) -> PlannedCourseJson:
    return {
        "patient": course.patient,
        "protocol": course.protocol.name,
        "timezone": course.zone,
        "sessions": _planned(course),
    }


# `ketaplan plan --format csv`.
PLANNED_CSV = _csv(
    (
        "number",
        "phase",
        "phase_number",
        "date",
        "weekday",
        "start",
        "end",
        "location",
        "gap_days",
        "note",
        "uid",
    )
)


def planned_csv_rows(course: Course) -> list[tuple[object, ...]]:
    rows: list[tuple[object, ...]] = []
    for s, data in zip(course.sessions, _planned(course), strict=True):
        extra = {"date": s.day.isoformat(), "weekday": f"{s.start:%a}", "gap_days": s.gap_days}
        row: dict[str, object] = {**data, **extra}
        rows.append(tuple(_csv_value(row[key]) for key in PLANNED_CSV))
    return rows


class OverrideJson(TypedDict):
    reason: str
    screening: str


def override_json(override: ScreeningOverride | None) -> OverrideJson | None:
    if override is None:
        return None
    return {"reason": override.reason, "screening": override.screening}


class BookedCourseJson(TypedDict):
    patient: str
    protocol: str
    timezone: str
    override: OverrideJson | None
    flags: list[str]
    sessions: list[SessionJson]


class BookedJson(TypedDict):
    """`ketaplan book --format json`."""

    courses: list[BookedCourseJson]
    cancelled: int


def booked_course_json(
    course: Course,
    chairs: Sequence[int | None],
    override: ScreeningOverride | None,
    flags: Sequence[str] = (),
) -> BookedCourseJson:
    """A booked course: its sessions as booked, each with its chair (None at home), and
    the flags stored with it."""
    return {
        "patient": course.patient,
        "protocol": course.protocol.name,
        "timezone": course.zone,
        "override": override_json(override),
        "flags": list(flags),
        "sessions": _booked(course, chairs),
    }


def _booked(course: Course, chairs: Sequence[int | None]) -> list[SessionJson]:
    return [
        session_json(course.patient, s, chair=chair, status="booked", note=s.note)
        for s, chair in zip(course.sessions, chairs, strict=True)
    ]


# `ketaplan book --format csv`.
BOOKED_CSV = _csv(
    ("patient", "number", "phase", "start", "end", "location", "chair", "uid", "note")
)


def booked_csv_rows(course: Course, chairs: Sequence[int | None]) -> list[tuple[object, ...]]:
    return [
        tuple(_csv_value(data[key]) for key in BOOKED_CSV)  # type: ignore[literal-required]
        for data in _booked(course, chairs)
    ]


class AgendaSessionJson(SessionJson, total=False):
    """One session of `ketaplan agenda --format json`: the session keys, then `flags`
    always (its course's booking flags, and a contraindication screened after booking
    first); `checklist` and `override` only with --detail."""

    flags: list[str]
    checklist: dict[str, Any] | None
    override: OverrideJson | None


# `ketaplan agenda --format csv`: the session keys, without --detail's.
AGENDA_CSV = _csv(("patient", "number", "phase", "start", "end", "chair", "uid", "status"))


def agenda_session_json(
    s: SessionRecord,
    *,
    detail: bool = False,
    clinic: ClinicConfig | None = None,
    latest: ScreeningRecord | None = None,
    enrolled_on: date | None = None,
) -> AgendaSessionJson:
    """`clinic` and `latest` (the patient's latest screening) give the flags and the
    checklist's settings; without a clinic, the CSV's plain columns only."""
    # The session's keys; the agenda's own are added below.
    data = cast(
        "AgendaSessionJson",
        session_json(s.patient, s, chair=s.chair, status=s.status, note=s.note),
    )
    if clinic is None:
        return data
    from ketaplan.safety.gate import session_flags  # the agenda loads the safety code

    data["flags"] = list(session_flags(s, latest, enrolled_on))
    if detail:
        listed = session_checklist(s, clinic, latest)
        data["checklist"] = None if listed is None else listed.as_json()
        data["override"] = override_json(s.override)
    return data


def agenda_csv_rows(sessions: Iterable[SessionRecord]) -> list[tuple[object, ...]]:
    rows: list[tuple[object, ...]] = []
    for s in sessions:
        data = agenda_session_json(s)
        rows.append(tuple(_csv_value(data.get(key)) for key in AGENDA_CSV))
    return rows


def session_checklist(
    s: SessionRecord, clinic: ClinicConfig, latest: ScreeningRecord | None
) -> Checklist | None:
    """The staff checklist of a clinic session that is to take or took place, with the
    clinic's settings and the patient's pregnancy answer; None for a home dose, a
    cancelled session or an unknown route."""
    if s.status == "cancelled":
        return None
    # Only the agenda's --detail needs these.
    from ketaplan.formats.calendars import clinic_monitoring
    from ketaplan.safety.checklists import session_checklist as checklist
    from ketaplan.safety.gate import pregnancy_check

    return checklist(s, clinic_monitoring(clinic, s.zone), pregnancy_check(latest))


class FormJson(TypedDict):
    patient: str
    session_date: str
    due: str
    session_uid: str
    overdue: bool


def form_json(form: MonitoringForm, *, overdue: bool = False) -> FormJson:
    """One form of `ketaplan rems due --format json`; `overdue` when it was due before
    the week listed and is not filed."""
    return {
        "patient": form.patient,
        "session_date": form.session_day.isoformat(),
        "due": form.due.isoformat(),
        "session_uid": form.session_uid,
        "overdue": overdue,
    }


FORMS_CSV = ("patient", "session_date", "due", "session_uid", "overdue")


def form_csv_rows(
    forms: Sequence[MonitoringForm], overdue: Collection[str] = ()
) -> list[tuple[object, ...]]:
    """`ketaplan rems due --format csv`: the JSON form's keys as columns."""
    rows: list[tuple[object, ...]] = []
    for f in forms:
        data = form_json(f, overdue=f.session_uid in overdue)
        rows.append((*list(data.values())[:4], "true" if data["overdue"] else "false"))
    return rows


class ProtocolJson(TypedDict):
    name: str
    title: str
    route: str
    phases: list[dict[str, object]]
    source: str


def protocol_json(protocol: Protocol) -> ProtocolJson:
    """One protocol of `ketaplan protocols --format json`: its phases by name and count
    (null for an open-ended phase); `protocols show --format json` has every parameter."""
    return {
        "name": protocol.name,
        "title": protocol.title,
        "route": protocol.route,
        "phases": [{"name": ph.name, "sessions": ph.sessions} for ph in protocol.phases],
        "source": protocol.source,
    }


# `ketaplan protocols --format csv`: phases as `name (count)`, separated by `; `.
PROTOCOLS_CSV = ("name", "title", "route", "phases", "source")


def protocol_csv_row(protocol: Protocol) -> tuple[object, ...]:
    phases = "; ".join(
        f"{ph.name} ({ph.sessions if ph.sessions else 'open'})" for ph in protocol.phases
    )
    return (protocol.name, protocol.title, protocol.route, phases, protocol.source)


# `ketaplan screen --patient CODE --show --format csv`: one row per question.
SCREENING_CSV = ("patient", "date", "key", "question", "answer")


class FindingJson(TypedDict):
    key: str
    name: str


class ScreeningJson(TypedDict):
    """`ketaplan screen --format json`."""

    patient: str
    date: str
    summary: str
    contraindicated: bool
    contraindications: list[FindingJson]
    unmet_criteria: list[FindingJson]
    clinician_flags: list[FindingJson]
    alert_clinician_today: bool
    not_asked: list[str]
    answers: dict[str, bool | int]
    note: str


def screening_csv_rows(result: ScreeningResult) -> list[tuple[object, ...]]:
    """`ketaplan screen --format csv`: each answered question; yes/no as true/false."""
    from ketaplan.safety.screening import QUESTIONS  # loaded already by whoever screened

    text = {q.key: q.text for q in QUESTIONS}
    return [
        (result.patient, result.date.isoformat(), key, text.get(key, ""), _answer(value))
        for key, value in result.screening.answers
    ]


def _answer(value: object) -> object:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def screening_json(result: ScreeningResult) -> ScreeningJson:
    from ketaplan.safety.screening import NOTE  # loaded already by whoever screened

    return {
        "patient": result.patient,
        "date": result.date.isoformat(),
        "summary": result.summary,
        "contraindicated": result.contraindicated,
        "contraindications": [{"key": f.key, "name": f.name} for f in result.contraindications],
        "unmet_criteria": [{"key": f.key, "name": f.name} for f in result.unmet_criteria],
        "clinician_flags": [{"key": f.key, "name": f.name} for f in result.clinician_flags],
        "alert_clinician_today": result.urgent,
        "not_asked": [f.key for f in result.not_asked],
        "answers": dict(result.screening.answers),
        "note": NOTE,
    }


class MonthDayJson(TypedDict):
    date: str
    open: bool
    closed_reason: str | None
    sessions: int
    cancelled: int
    chair_utilization: float | None


class MonthJson(TypedDict):
    """`ketaplan agenda --month --format json`."""

    month: str
    clinic: str
    chairs: int
    timezone: str
    days: list[MonthDayJson]


# `ketaplan agenda --month --format csv`: a row per day.
MONTH_CSV = ("date", "open", "closed_reason", "sessions", "cancelled", "chair_utilization")


def month_day_json(
    day: date,
    open_: bool,
    closed_reason: str | None,
    sessions: int,
    cancelled: int,
    utilization: float | None,
) -> MonthDayJson:
    return {
        "date": day.isoformat(),
        "open": open_,
        "closed_reason": closed_reason,
        "sessions": sessions,
        "cancelled": cancelled,
        "chair_utilization": None if utilization is None else round(utilization, 4),
    }


def month_csv_rows(days: Iterable[MonthDayJson]) -> list[tuple[object, ...]]:
    """`true`/`false` for open, empty cells for nothing."""
    return [
        tuple(
            ("true" if v else "false") if isinstance(v, bool) else "" if v is None else v
            for v in (
                d["date"],
                d["open"],
                d["closed_reason"],
                d["sessions"],
                d["cancelled"],
                d["chair_utilization"],
            )
        )
        for d in days
    ]


class RecordJson(TypedDict):
    """What was recorded at a session (the latest record; a later one supersedes)."""

    outcome: str
    reason: str | None
    bp: str | None
    hr: int | None
    spo2: int | None
    phq9: int | None
    note: str | None
    by: str
    recorded: str


def record_json(record: Attendance | None) -> RecordJson | None:
    if record is None:
        return None
    m = record.measured
    return {
        "outcome": record.outcome,
        "reason": record.reason,
        "bp": None if m.systolic is None else f"{m.systolic}/{m.diastolic}",
        "hr": m.heart_rate,
        "spo2": m.spo2,
        "phq9": m.phq9,
        "note": record.note,
        "by": record.by,
        "recorded": record.recorded.isoformat(),
    }


class FormStateJson(TypedDict):
    state: str
    due: str


class CourseSessionJson(TypedDict):
    """One session of `ketaplan course --format json`."""

    number: int
    phase: str
    phase_number: int
    phase_total: int
    start: str
    end: str
    chair: int | None
    uid: str
    sequence: int
    status: str
    review: bool
    record: RecordJson | None
    rems_form: FormStateJson | None
    flags: list[str]


def course_session_json(
    s: SessionRecord,
    record: Attendance | None,
    *,
    review: bool,
    form: str | None,
    form_due: date | None,
    flags: Sequence[str] = (),
) -> CourseSessionJson:
    return {
        "number": s.number,
        "phase": s.phase,
        "phase_number": s.phase_number,
        "phase_total": s.phase_total,
        "start": s.start.isoformat(),
        "end": s.end.isoformat(),
        "chair": s.chair,
        "uid": s.uid,
        "sequence": s.sequence,
        "status": s.status,
        "review": review,
        "record": record_json(record),
        "rems_form": None
        if form is None or form_due is None
        else {"state": form, "due": form_due.isoformat()},
        "flags": list(flags),
    }


class HistoryEntryJson(TypedDict):
    """One change of `ketaplan history --format json` (and `course`'s history)."""

    when: str
    who: str
    what: str
    why: str | None
    before: list[dict[str, Any]] | None
    after: list[dict[str, Any]] | None


HISTORY_CSV = ("patient", "when", "who", "what", "why", "sessions")


def history_csv_row(e: HistoryEntry) -> tuple[str, str, str, str | None, int]:
    """A change as `history --format csv` gives it (after the patient): when, who,
    what, why, and how many sessions it changed."""
    import json  # the stored snapshots are JSON text

    return e.when.isoformat(), e.who, e.what, e.why, len(json.loads(e.after)) if e.after else 0


def history_entry_json(e: HistoryEntry) -> HistoryEntryJson:
    import json  # the stored snapshots are JSON text

    return {
        "when": e.when.isoformat(),
        "who": e.who,
        "what": e.what,
        "why": e.why,
        "before": None if e.before is None else json.loads(e.before),
        "after": None if e.after is None else json.loads(e.after),
    }


class NextSessionJson(TypedDict):
    number: int
    start: str


class PhqJson(TypedDict):
    date: str
    score: int


class CourseJson(TypedDict):
    """`ketaplan course --format json`."""

    patient: str
    protocol: str
    title: str
    timezone: str
    status: str
    induction: str | None
    next_session: NextSessionJson | None
    sessions: list[CourseSessionJson]
    phq9: list[PhqJson]
    history: list[HistoryEntryJson]


class HistoryJson(TypedDict):
    """`ketaplan history --format json`."""

    patient: str
    history: list[HistoryEntryJson]


class FeedJson(TypedDict):
    id: int
    kind: str
    patient: str | None
    created: str
    answers_through: str | None
    state: str


FEEDS_CSV = ("id", "kind", "patient", "created", "answers_through", "state")


def last_feed_day(expires: datetime, zone: tzinfo) -> date:
    """The last day a feed answers: the local day before the instant it expires."""
    return (expires.astimezone(zone) - timedelta(seconds=1)).date()


def feed_json(feed: FeedRecord, zone: tzinfo, now: datetime) -> FeedJson:
    """A feed as `feed list` prints it: never its token (the book has only its hash)."""
    return {
        "id": feed.id,
        "kind": feed.kind,
        "patient": feed.patient,
        "created": feed.created.astimezone(zone).isoformat(timespec="seconds"),
        "answers_through": (
            None if feed.expires is None else last_feed_day(feed.expires, zone).isoformat()
        ),
        "state": feed.state(now),
    }


CLINICS_CSV = ("name", "courses")
