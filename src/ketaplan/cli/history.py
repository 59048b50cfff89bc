"""`ketaplan history`: every change to a patient's courses: when, who, what, why."""

from __future__ import annotations

import json
import sys

from ketaplan.booking.views import patient_history
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
from ketaplan.cli.render import aligned, write_csv
from ketaplan.formats.shapes import HISTORY_CSV, HistoryJson, history_csv_row, history_entry_json
from ketaplan.model.records import HistoryEntry


def history_lines(entries: list[HistoryEntry], zone: str) -> list[str]:
    from zoneinfo import ZoneInfo

    if not entries:
        return ["  nothing recorded yet"]
    where = ZoneInfo(zone)
    rows = [("When", "Who", "What", "Sessions", "Why")]
    for e in entries:
        changed = history_csv_row(e)[-1]
        rows.append(
            (
                f"{e.when.astimezone(where):%Y-%m-%d %H:%M}",
                e.who,
                e.what,
                str(changed) if changed else "",
                e.why or "",
            )
        )
    return aligned(rows)


@app.command()
def history(
    patient: PatientOpt,
    fmt: FormatOpt = "table",
    book_option: BookOpt = None,
    clinic_option: ClinicOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Every change to a patient's courses, oldest first: when, who, what and why (JSON
    also gives each changed session before and after).

    Example: ketaplan history --patient P-001 --format json
    """
    check_format(fmt)
    with opened_book(book_option, config, create=False, clinic_option=clinic_option) as opened:
        clinic = opened.clinic  # the book's clinic
        code = check_patient(patient, clinic)
        zone = clinic_zone(None, clinic)
        book = opened.book
        entries = patient_history(book, code)
        if fmt == "json":
            data: HistoryJson = {
                "patient": code,
                "history": [history_entry_json(e) for e in entries],
            }
            sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
            return
        if fmt == "csv":
            write_csv(HISTORY_CSV, [(code, *history_csv_row(e)) for e in entries])
            return
        lines = [f"History of {code} · times in {zone}", *history_lines(entries, zone)]
        sys.stdout.write("\n".join(lines) + "\n")
