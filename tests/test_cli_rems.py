"""`ketaplan rems enroll` and `ketaplan rems due`: exact output, refusals and exit codes."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.clirun import run
from tests.pinned import pin

CLINIC = """[clinic]
name = "Lakeside"
timezone = "Europe/Berlin"
chairs = 2
hours = "08:00-20:00"
require_screening = false

[rems]
program = "us-spravato"
"""


@pytest.fixture(autouse=True)
def _clinic(tmp_path: Path) -> None:
    (tmp_path / "ketaplan.toml").write_text(CLINIC, encoding="utf-8")


def test_enroll_records_once_and_a_new_date_corrects_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = ("rems", "enroll", "--patient", "P-001", "--book", "b.sqlite", "--date")
    first = run(capsys, *args, "2026-11-20")
    assert (first.code, first.out) == (0, "")
    assert first.message == (
        "Created a new clinic book at b.sqlite\n"
        "Recorded the REMS enrollment of P-001 on 2026-11-20 in b.sqlite\n"
    )
    # The code as an argument, as before --patient, is kept for scripts (not in the help).
    again = run(capsys, "rems", "enroll", "P-001", "--book", "b.sqlite", "--date", "2026-11-20")
    assert again.message == "The REMS enrollment of P-001 on 2026-11-20 is already in b.sqlite\n"
    fixed = run(capsys, *args, "2026-11-19")
    assert fixed.message == (
        "Recorded the REMS enrollment of P-001 on 2026-11-19 in b.sqlite (it was 2026-11-20)\n"
    )


def test_enroll_help_names_the_patient_with_patient_only(
    capsys: pytest.CaptureFixture[str],
) -> None:
    lines = [line.strip() for line in run(capsys, "rems", "enroll", "--help").out.splitlines()]
    assert "Usage: ketaplan rems enroll [OPTIONS]" in lines
    assert not any(line.startswith("╭─ Arguments") for line in lines)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--patient", "P-001", "--date", "2199-01-01"), None),  # more than a year ahead
        (("--patient", "P-001", "--date", "someday"), "--date 'someday' is not a date; use "
         "YYYY-MM-DD, today or tomorrow"),
        (("--patient", "Jane Doe", "--date", "2026-11-20"), "patient code 'Jane Doe' has a "
         "space or control character; use the clinic's patient code (e.g. P-001), never a "
         "name"),
    ],
)  # fmt: skip
def test_enroll_refuses_bad_input_and_writes_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, args: tuple[str, ...], message: str | None
) -> None:
    result = run(capsys, "rems", "enroll", *args, "--book", "b.sqlite")
    assert (result.code, result.out) == (2, "")
    if message is None:
        assert result.message.startswith("Error: --date 2199-01-01 is more than 366 days after ")
    else:
        assert result.message == f"Error: {message}\n"
    assert not (tmp_path / "b.sqlite").exists()


def test_a_planned_enrollment_date_ahead_is_recorded(
    capsys: pytest.CaptureFixture[str],
) -> None:
    ahead = (date.today() + timedelta(days=30)).isoformat()
    result = run(
        capsys, "rems", "enroll", "--patient", "P-001", "--date", ahead, "--book", "b.sqlite"
    )
    assert (result.code, result.out) == (0, "")
    assert result.message == (
        "Created a new clinic book at b.sqlite\n"
        f"Recorded the REMS enrollment of P-001 on {ahead} in b.sqlite\n"
    )


def test_outside_the_rems_no_forms_are_due(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    book_esketamine(capsys, "P-001", "2030-01-07")
    (tmp_path / "ketaplan.toml").write_text(CLINIC.replace("us-spravato", "none"), "utf-8")
    # The book keeps its clinic until the change is applied.
    assert run(capsys, "rems", "due", "--week", "2030-01-14").code == 1
    assert run(capsys, "clinic", "apply", "ketaplan.toml").code == 0
    result = run(capsys, "rems", "due", "--week", "2030-01-14")
    assert (result.code, result.out) == (
        0,
        "The esketamine REMS does not apply to Lakeside (Europe/Berlin); set [rems] program "
        '= "us-spravato" in ketaplan.toml for a US outpatient clinic.\n',
    )
    data = json.loads(run(capsys, "rems", "due", "--week", "2030-01-14", "--format", "json").out)
    assert (data["rems"], data["forms"]) == (False, [])


def book_esketamine(capsys: pytest.CaptureFixture[str], patient: str, start: str) -> None:
    assert run(capsys, "rems", "enroll", patient, "--date", "2026-11-02").code == 0
    result = run(
        capsys, "book", "--patient", patient, "--protocol", "esketamine", "--start", start,
        "--time", "09:00", "--maintenance-sessions", "1",
    )  # fmt: skip
    assert result.code == 0, result.message


def test_due_lists_the_forms_of_the_week_before(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    at = pin(monkeypatch)
    at("2030-01-02T09:00:00+01:00")
    book_esketamine(capsys, "P-001", "2030-01-07")  # Mon 7 and Thu 10 January, ...
    book_esketamine(capsys, "P-002", "2030-01-08")  # Tue 8 and Fri 11 January, ...
    run(capsys, "book", "--patient", "P-003", "--start", "2030-01-07")  # IV: no forms
    at("2030-01-16T09:00:00+01:00")
    for patient, day in (("P-001", "2030-01-07"), ("P-001", "2030-01-10"),
                         ("P-002", "2030-01-08"), ("P-002", "2030-01-11"),
                         ("P-003", "2030-01-07")):  # fmt: skip
        assert run(capsys, "attend", "--patient", patient, "--date", day).code == 0
    result = run(capsys, "rems", "due", "--week", "2030-01-16", "--format", "json")
    assert (result.code, result.message) == (0, "")
    data = json.loads(result.out)
    assert (data["from"], data["to"]) == ("2030-01-14", "2030-01-20")
    assert [(f["patient"], f["session_date"], f["due"]) for f in data["forms"]] == [
        ("P-001", "2030-01-07", "2030-01-14"),
        ("P-002", "2030-01-08", "2030-01-15"),
        ("P-001", "2030-01-10", "2030-01-17"),
        ("P-002", "2030-01-11", "2030-01-18"),
    ]
    agenda = json.loads(
        run(capsys, "agenda", "--from", "2030-01-07", "--to", "2030-01-13", "--format", "json").out
    )
    uids = {(s["patient"], s["start"][:10]): s["uid"] for s in agenda["sessions"]}
    assert all(f["session_uid"] == uids[(f["patient"], f["session_date"])] for f in data["forms"])
    table = run(capsys, "rems", "due", "--week", "2030-01-14")
    lines = table.out.splitlines()
    assert lines[:3] == [
        "REMS monitoring forms due 2030-01-14 to 2030-01-20 · Lakeside · Europe/Berlin",
        "",
        "  Due             Patient  Session date    Session uid",
    ]
    assert lines[3].startswith("  Mon 2030-01-14  P-001    Mon 2030-01-07  ")
    assert lines[-1] == (
        "4 forms: each within 7 calendar days of its session; `ketaplan rems filed` records one."
    )


def test_forms_are_owed_for_attended_sessions_only_until_filed(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    at = pin(monkeypatch)
    at("2030-01-02T09:00:00+01:00")
    book_esketamine(capsys, "P-001", "2030-01-07")  # Mon 7, Thu 10, Mon 14, ...
    at("2030-01-21T09:00:00+01:00")
    assert run(capsys, "attend", "--patient", "P-001", "--date", "2030-01-07").code == 0
    assert run(capsys, "miss", "--patient", "P-001", "--date", "2030-01-10").code == 0
    assert run(capsys, "attend", "--patient", "P-001", "--date", "2030-01-14").code == 0
    due = run(capsys, "rems", "due", "--week", "2030-01-21", "--format", "json")
    forms = json.loads(due.out)["forms"]
    assert [(f["session_date"], f["due"], f["overdue"]) for f in forms] == [
        ("2030-01-07", "2030-01-14", True),
        ("2030-01-14", "2030-01-21", False),
    ]
    filed = run(capsys, "rems", "filed", "--patient", "P-001", "--session", "1", "--by", "anna")
    assert (filed.code, filed.message) == (0, "")
    assert filed.out == (
        "Recorded the REMS monitoring form of P-001 session 1 (Mon 2030-01-07) as filed on "
        "2030-01-21 (late).\n"
    )
    again = run(capsys, "rems", "filed", "--patient", "P-001", "--session", "1")
    assert (again.code, again.message) == (
        1,
        "Error: the form for session 1 of P-001 was already recorded as filed on 2030-01-21 "
        "by anna\n",
    )
    missed = run(capsys, "rems", "filed", "--patient", "P-001", "--session", "2")
    assert missed.message == (
        "Error: session 2 of P-001 is missed; a monitoring form is owed for attended "
        "sessions only\n"
    )
    table = run(capsys, "rems", "due", "--week", "2030-01-21").out.splitlines()
    assert table[3].startswith("  Mon 2030-01-21  P-001    Mon 2030-01-14  ")
    assert len(table) == 6


def test_cancelled_sessions_owe_no_form(capsys: pytest.CaptureFixture[str]) -> None:
    book_esketamine(capsys, "P-001", "2030-01-07")
    replaced = run(
        capsys, "book", "--patient", "P-001", "--start", "2030-01-08", "--replace", "--yes",
    )  # fmt: skip
    assert replaced.code == 0, replaced.err
    result = run(capsys, "rems", "due", "--week", "2030-01-14")
    assert result.out.splitlines()[-1] == "No monitoring forms due from 2030-01-14 to 2030-01-20."


def test_due_refuses_a_bad_format_and_a_missing_book(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "rems", "due", "--format", "xml").err == (
        "Error: --format 'xml' is not one of table, json, csv\n"
    )
    result = run(capsys, "rems", "due", "--book", "none.sqlite")
    assert (result.code, result.message) == (
        1,
        "Error: there is no clinic book at none.sqlite yet; `ketaplan init` or the first "
        "`ketaplan book` creates it\n",
    )


def test_due_takes_the_date_ranges_of_every_command_and_csv(
    capsys: pytest.CaptureFixture[str],
) -> None:
    book_esketamine(capsys, "P-001", "2030-01-07")
    week = run(capsys, "rems", "due", "--week", "2030-01-14", "--format", "csv")
    span = run(
        capsys, "rems", "due", "--from", "2030-01-14", "--to", "2030-01-20", "--format", "csv"
    )
    day = run(capsys, "rems", "due", "--day", "2030-01-14", "--format", "json")
    month = run(capsys, "rems", "due", "--month", "2030-01", "--format", "json")
    assert week.out.splitlines()[0] == "patient,session_date,due,session_uid,overdue"
    assert span.out == week.out
    assert (json.loads(day.out)["from"], json.loads(day.out)["to"]) == ("2030-01-14", "2030-01-14")
    assert (json.loads(month.out)["from"], json.loads(month.out)["to"]) == (
        "2030-01-01",
        "2030-01-31",
    )
    both = run(capsys, "rems", "due", "--day", "2030-01-14", "--week", "2030-01-14")
    assert (both.code, both.err) == (
        2,
        "Error: give one of --day, --week, --month or --from/--to, not --day and --week\n",
    )
