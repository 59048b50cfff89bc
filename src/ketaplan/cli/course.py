"""`ketaplan course`: a patient's course with every session's status, the next session,
what was measured (the PHQ-9 trend as a small chart), review points, REMS forms and the
history."""

from __future__ import annotations

import json
import sys

from ketaplan.booking.lifecycle import measured_text
from ketaplan.booking.views import CourseView, SessionView, course_view
from ketaplan.cli import clock
from ketaplan.cli.app import app
from ketaplan.cli.bookfile import BookOpt, ClinicOpt, opened_book
from ketaplan.cli.common import (
    ConfigOpt,
    FormatOpt,
    PatientOpt,
    check_format,
    check_patient,
    clinic_zone,
)
from ketaplan.cli.history import history_lines
from ketaplan.cli.render import aligned, wrapped, write_csv
from ketaplan.formats.shapes import (
    AGENDA_CSV,
    CourseJson,
    agenda_csv_rows,
    course_session_json,
    history_entry_json,
)

BAR = "█"


@app.command()
def course(
    patient: PatientOpt,
    fmt: FormatOpt = "table",
    book_option: BookOpt = None,
    clinic_option: ClinicOpt = None,
    config: ConfigOpt = None,
) -> None:
    """A patient's course: every session's status, the next session, what was measured
    (with the PHQ-9 trend), review points, REMS forms and the history.

    Example: ketaplan course --patient P-001 --format json
    """
    check_format(fmt)
    with opened_book(book_option, config, create=False, clinic_option=clinic_option) as opened:
        clinic = opened.clinic  # the book's clinic
        code = check_patient(patient, clinic)
        today = clock.today_in(clinic_zone(None, clinic))
        book = opened.book
        view = course_view(book, code, today)
        if fmt == "json":
            sys.stdout.write(json.dumps(view_json(view), indent=2, ensure_ascii=False) + "\n")
            return
        if fmt == "csv":
            # The agenda's columns: a session row is the same row wherever it is printed.
            write_csv(AGENDA_CSV, agenda_csv_rows(s.row for s in view.sessions))
            return
        sys.stdout.write("\n".join(view_lines(view)) + "\n")


def view_json(view: CourseView) -> CourseJson:
    c = view.course
    nxt = view.next_session
    return {
        "patient": c.patient,
        "protocol": c.protocol,
        "title": c.title,
        "timezone": c.zone,
        "status": c.status,
        "induction": c.induction,
        "next_session": None
        if nxt is None
        else {"number": nxt.number, "start": nxt.start.isoformat()},
        "sessions": [
            course_session_json(
                s.row, s.record, review=s.review, form=s.form, form_due=s.form_due, flags=s.flags
            )
            for s in view.sessions
        ],
        "phq9": [{"date": d, "score": score} for d, score in _phq9(view)],
        "history": [history_entry_json(e) for e in view.history],
    }


def _phq9(view: CourseView) -> list[tuple[str, int]]:
    """The latest PHQ-9 score recorded at each session, in date order."""
    return [
        (s.row.start.date().isoformat(), s.record.measured.phq9)
        for s in view.sessions
        if s.record is not None and s.record.measured.phq9 is not None
    ]


def _status(s: SessionView) -> str:
    status = s.row.status
    return f"{status} · review" if s.review else status


def _under(s: SessionView) -> str | None:
    parts: list[str] = []
    if s.record is not None:
        r = s.record
        parts += [x for x in (r.reason, measured_text(r.measured), r.note) if x]
        parts.append(f"by {r.by}")
    if s.form is not None and s.form_due is not None:
        parts.append(f"REMS form {s.form} (due {s.form_due})")
    if s.row.note and s.row.status == "booked":
        parts.append(s.row.note)
    return "; ".join(parts) or None


def view_lines(view: CourseView) -> list[str]:
    c = view.course
    state = c.status + (f", induction {c.induction}" if c.induction else "")
    lines = [f"{c.patient} · {c.title} ({c.protocol}) · {c.zone} · {state}"]
    nxt = view.next_session
    if nxt is not None:
        lines.append(
            f"Next: session {nxt.number}, {nxt.phase} {nxt.phase_number}/{nxt.phase_total}, "
            f"{nxt.start:%a %Y-%m-%d %H:%M}, "
            + ("at home" if nxt.chair is None else f"chair {nxt.chair}")
        )
    else:
        lines.append("Next: no session booked")
    rows = [("#", "Session", "Date", "Time", "Chair", "Status")]
    unders: list[str | None] = []
    for s in view.sessions:
        r = s.row
        rows.append(
            (
                str(r.number),
                f"{r.phase} {r.phase_number}/{r.phase_total}",
                f"{r.start:%a %Y-%m-%d}",
                f"{r.start:%H:%M}",
                "home" if r.chair is None else str(r.chair),
                _status(s),
            )
        )
        unders.append(_under(s))
    table = aligned(rows)
    lines += ["", table[0]]
    for line, under, s in zip(table[1:], unders, view.sessions, strict=True):
        lines.append(line)
        if under:
            lines.append(f"        {under}")
        # As in the agenda: a flag the clinician should see first, wrapped at words.
        for flag in s.flags:
            lines += wrapped(f"! {flag}", "      ")
    scores = _phq9(view)
    if scores:
        lines += ["", "PHQ-9 (0-27):"]
        lines += [f"  {day}  {score:>2}  {BAR * score}" for day, score in scores]
    lines += ["", "History:"]
    lines += history_lines(list(view.history), c.zone)
    return lines
