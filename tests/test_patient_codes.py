"""Who is the same patient (issue 9): one spelling per code (NFC, upper case), refused
look-alikes, mixed scripts and formula prefixes, the clinic's own pattern, and CSV cells
a spreadsheet never runs; as hypothesis properties over hostile codes and as a
coordinator meets them."""

from __future__ import annotations

import csv
import io
import unicodedata
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ketaplan.errors import UsageError
from ketaplan.formats.csvfile import FORMULA_START, csv_text
from ketaplan.model.clinic import DEFAULT_PATIENT_CODE
from ketaplan.model.patient import FORMULA_PREFIXES, normalise_code, scripts
from tests.clirun import file_hashes, run
from tests.test_cli_safety import CLINIC, screen
from tests.test_store import older_book

ANYTHING = r"^.+$"
GREEK_RHO = "\u03a1"  # drawn like a Latin P
CYRILLIC_ER = "\u0420"  # likewise
LOOK_ALIKES = [GREEK_RHO, CYRILLIC_ER, "\u0391", "\u0410", "\uff30", "\u0440"]
DECOMPOSED_U = "U\u0308"  # Ü as U and a combining diaeresis


@pytest.fixture(autouse=True)
def _clinic(tmp_path: Path) -> None:
    """The safety tests' clinic: screenings stay valid for the far-ahead start dates."""
    (tmp_path / "ketaplan.toml").write_text(CLINIC, encoding="utf-8")


hostile = st.one_of(
    st.text(st.characters(), max_size=16),  # every Unicode category, surrogates aside
    st.builds(
        lambda head, body: head + body,
        st.sampled_from([*FORMULA_PREFIXES, "\t", "\r", " ", *LOOK_ALIKES, "p", "P", ""]),
        st.lists(
            st.sampled_from(["P", "-", "0", "1", *LOOK_ALIKES, DECOMPOSED_U, "ü"]), max_size=8
        ).map("".join),
    ),
)


def _normalised_or_none(text: str, pattern: str) -> str | None:
    try:
        return normalise_code(text, pattern)
    except UsageError as exc:
        message = str(exc)
    assert "\n" not in message  # a refusal is one line
    return None


@settings(max_examples=500)
@given(hostile, st.sampled_from([DEFAULT_PATIENT_CODE, ANYTHING]))
@example("P-0" + GREEK_RHO, ANYTHING)
@example("=HYPERLINK(1)", ANYTHING)
@example("p-" + DECOMPOSED_U, ANYTHING)
def test_an_accepted_code_has_one_spelling_and_is_safe_everywhere(text: str, pattern: str) -> None:
    code = _normalised_or_none(text, pattern)
    if code is None:
        return
    # One spelling: normalising again changes nothing.
    assert normalise_code(code, pattern) == code
    assert unicodedata.is_normalized("NFC", code)
    assert code == unicodedata.normalize("NFC", code.upper())
    assert not code.startswith(FORMULA_START)
    assert all(ch.isprintable() and not ch.isspace() for ch in code)
    assert len(scripts(code)) <= 1
    if pattern == DEFAULT_PATIENT_CODE:
        assert code.isascii()


@settings(max_examples=300)
@given(st.text(st.characters(), max_size=12), st.text(st.characters(), max_size=12))
@example("=1+2", "@SUM(A1)")
@example("-P", "+P")
def test_no_csv_cell_starts_a_formula_and_every_cell_reads_back(a: str, b: str) -> None:
    text = csv_text(("patient", "note"), [(a, b), (1, -2)])
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0] == ["patient", "note"]
    for written, given_cell in zip(rows[1], (a, b), strict=True):
        assert not written.startswith(FORMULA_START)
        expected = "'" + given_cell if given_cell.startswith(FORMULA_START) else given_cell
        # A bare carriage return would end the row: line breaks are written as \n.
        assert written == expected.replace("\r\n", "\n").replace("\r", "\n")
    assert rows[2] == ["1", "-2"]  # numbers stay numbers


@pytest.mark.parametrize(
    ("one", "other"),
    [("p-001", "P-001"), ("k2026-17", "K2026-17"), ("p-" + DECOMPOSED_U, "P-\u00fc")],
)
def test_spellings_of_one_code_are_one_patient(one: str, other: str) -> None:
    assert normalise_code(one, ANYTHING) == normalise_code(other, ANYTHING)


@pytest.mark.parametrize("look_alike", [GREEK_RHO, CYRILLIC_ER])
def test_a_look_alike_is_never_taken_for_the_latin_letter(look_alike: str) -> None:
    with pytest.raises(UsageError, match="is not a code of this clinic"):
        normalise_code(f"{look_alike}-001")
    with pytest.raises(UsageError, match="mixes scripts"):
        normalise_code(f"P{look_alike}-001", ANYTHING)


def test_a_lower_case_code_books_the_same_patient_as_the_upper_case_one(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    screen(capsys, tmp_path, "p-001")  # stored as P-001
    booked = run(capsys, "book", "--patient", "P-001", "--start", "2030-01-07")
    assert booked.code == 0, booked.message
    again = run(capsys, "book", "--patient", "p-001", "--start", "2030-02-04")
    assert again.code == 1
    assert again.message.startswith("Error: P-001: already has an active course")
    plan = run(capsys, "plan", "--patient", "p-001", "--start", "2030-01-07")
    assert plan.out.startswith("Patient P-001 ·")


@pytest.mark.parametrize(
    ("code", "message"),
    [
        (
            "=HYPERLINK(1)",
            "patient code '=HYPERLINK(1)' starts with '=', which spreadsheets run as a formula; "
            "use the clinic's patient code, e.g. P-001",
        ),
        (
            "@P-001",
            "patient code '@P-001' starts with '@', which spreadsheets run as a formula; use "
            "the clinic's patient code, e.g. P-001",
        ),
        (
            "P" + GREEK_RHO + "-001",
            "patient code 'P\u03a1-001' mixes scripts (Greek, Latin): letters that look alike "
            "would make two patients of one",
        ),
        (
            "P_001",
            "patient code 'P_001' is not a code of this clinic (pattern ^[A-Z][0-9]{3}$, after "
            "upper-casing), e.g. P-001",
        ),
    ],
)
def test_a_refused_code_is_one_line_and_stores_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, code: str, message: str
) -> None:
    pattern = "^[A-Z][0-9]{3}$" if code == "P_001" else ANYTHING
    (tmp_path / "ketaplan.toml").write_text(
        f"[clinic]\npatient_code = '{pattern}'\nrequire_screening = false\n", encoding="utf-8"
    )
    before = file_hashes(tmp_path)
    for command in ("plan", "book"):
        result = run(capsys, command, f"--patient={code}", "--start", "2030-01-07")
        assert (result.code, result.out, result.message) == (2, "", f"Error: {message}\n"), command
    result = run(capsys, "rems", "enroll", code, "--date", "2026-11-01")
    assert (result.code, result.message) == (2, f"Error: {message}\n")
    assert file_hashes(tmp_path) == before


def test_a_roster_refuses_a_formula_code_on_its_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "roster.csv").write_text(
        "patient,start\nP-001,2030-01-07\n\"=cmd|' /C calc'!A0\",2030-01-07\n", encoding="utf-8"
    )
    before = file_hashes(tmp_path)
    result = run(capsys, "book", "--roster", "roster.csv")
    # Every problem of every row in one run: the good row's missing screening too.
    assert (result.code, result.out) == (1, "")
    assert result.message == (
        "Error: roster.csv: 2 problems, nothing was booked:\n"
        "  line 2 (P-001): no screening recorded; screen the patient first (`ketaplan screen "
        "--patient P-001`), or fill in the roster's override column if the clinician decides "
        "to book anyway\n"
        "  line 3, column 1: patient code \"=cmd|' /C calc'!A0\" starts with '=', which "
        "spreadsheets run as a formula; use the clinic's patient code, e.g. P-001\n"
    )
    assert file_hashes(tmp_path) == before


def test_a_pattern_that_is_not_a_regular_expression_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "ketaplan.toml").write_text("[clinic]\npatient_code = '^[A-Z'\n")
    result = run(capsys, "plan", "--patient", "P-001", "--start", "2030-01-07")
    assert (result.code, result.out) == (2, "")
    assert result.message == (
        "Error: ketaplan.toml: clinic.patient_code is not a regular expression: "
        "unterminated character set at position 1\n"
    )


def test_codes_stored_before_their_one_spelling_are_given_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A book written by a ketaplan that stored codes as typed (book version 3): its
    lower-case codes get their spelling, so a contraindication stored for p-002 stops a
    booking of P-002 and p-001's active course counts for P-001. Two active courses that
    become one code are left as they were."""
    import sqlite3

    # The rows as today's ketaplan stores them, in a scratch book.
    scratch = str(tmp_path / "scratch.sqlite")
    with pytest.MonkeyPatch.context() as elsewhere:
        elsewhere.setenv("KETAPLAN_BOOK", scratch)
        screen(capsys, tmp_path, "P-002", mania_current=True)  # a contraindication
        for code in ("P-001", "P-003", "P-004"):
            screen(capsys, tmp_path, code)
            assert run(capsys, "book", "--patient", code, "--start", "2030-01-07").code == 0
    screening_columns = "patient, screened_on, answers, summary, contraindicated, recorded_utc"
    course_columns = "patient, protocol, title, definition, start_date, zone, active, created_utc"
    with sqlite3.connect(scratch) as db:
        screenings = db.execute(f"SELECT {screening_columns} FROM screenings").fetchall()
        courses = db.execute(f"SELECT {course_columns} FROM courses").fetchall()
    # A book version 3, as the ketaplan that stored codes as typed wrote it (its
    # migrations only), holding those rows with the codes as typed.
    older_book(tmp_path / "book.sqlite", 3)
    typed = {"P-002": "p-002", "P-001": "p-001", "P-003": "p-003", "P-004": "P-003"}
    with sqlite3.connect(tmp_path / "book.sqlite") as db:
        # p-003 and P-003 both active, as an old ketaplan would have allowed.
        for table, columns, rows in (
            ("screenings", screening_columns, screenings),
            ("courses", course_columns, courses),
        ):
            marks = ", ".join("?" * len(rows[0]))
            db.executemany(
                f"INSERT INTO {table} ({columns}) VALUES ({marks})",
                [(typed[row[0]], *row[1:]) for row in rows],
            )
    with sqlite3.connect(tmp_path / "book.sqlite") as db:
        stored = sorted(db.execute("SELECT patient FROM courses"))
    assert stored == [("P-003",), ("p-001",), ("p-003",)]

    refused = run(capsys, "book", "--patient", "P-002", "--start", "2030-01-07")
    assert refused.code == 1
    assert refused.message.startswith("Error: P-002: the latest screening")
    # p-001's course is P-001's now: the same booking (compared by protocol and start, as
    # for every course stored before the book kept requests) is already booked.
    again = run(capsys, "book", "--patient", "P-001", "--start", "2030-01-07")
    assert (again.code, again.message) == (
        0,
        "P-001 is already booked as asked (IV ketamine, start 2030-01-07); nothing new was "
        "booked: `ketaplan course --patient P-001` shows it\n",
    )
    other = run(capsys, "book", "--patient", "P-001", "--start", "2030-01-08")
    assert other.message.startswith("Error: P-001: already has an active course")
    with sqlite3.connect(tmp_path / "book.sqlite") as db:
        assert sorted(db.execute("SELECT patient FROM courses")) == [
            ("P-001",),
            ("P-003",),
            ("p-003",),
        ]
        assert db.execute("SELECT patient FROM screenings WHERE patient LIKE '%2'").fetchall() == [
            ("P-002",)
        ]
    check = run(capsys, "admin", "check")
    assert check.out.splitlines()[1:] == [
        "Warning: one patient has 2 active courses, stored as P-003, p-003 (from before codes "
        "had one spelling); ketaplan's commands reach only the one in upper case"
    ]
