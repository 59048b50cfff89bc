"""`ketaplan screen` as a coordinator meets it: exact output, exact errors, exit codes,
and the questions asked one by one through real Rich prompts."""

from __future__ import annotations

import io
import json
import os
import re
from pathlib import Path

import pytest
from rich.console import Console

from ketaplan.cli.screen import prompt_answers, take_screening
from ketaplan.model.clinic import ClinicConfig
from ketaplan.safety.screening import QUESTIONS
from tests.clirun import run

EXAMPLE = str(Path(__file__).resolve().parents[1] / "examples" / "screening-answers.toml")
SCREEN = ("screen", "--patient", "P-001", "--date", "2026-11-27")


def write_answers(path: Path, **changes: object) -> Path:
    lines = Path(EXAMPLE).read_text(encoding="utf-8").splitlines()
    out = []
    for line in lines:
        key = line.split("=", 1)[0].strip()
        if key in changes:
            value = changes.pop(key)
            if value is None:
                continue
            line = f"{key} = {json.dumps(value)}"
        out.append(line)
    out.extend(f"{key} = {json.dumps(value)}" for key, value in changes.items())
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    return path


def test_screen_prints_answers_then_the_result(capsys: pytest.CaptureFixture[str]) -> None:
    answers = write_answers(Path("a.toml"), mania_current=True, antidepressants_this_episode=1)
    result = run(capsys, *SCREEN, "--answers", str(answers))
    book = os.environ["KETAPLAN_BOOK"]
    assert (result.code, result.message) == (
        0,
        f"Created a new clinic book at {book}\nStored the screening of P-001 in {book}\n",
    )
    lines = [line.rstrip() for line in result.out.splitlines()]
    assert lines[1].split() == ["Question", "Answer"]
    assert lines[3].split()[-1] == "1"
    assert lines[-4:] == [
        "Screening of P-001 on 2026-11-27: contraindicated: current mania",
        "Criteria for treatment-resistant depression not met: 2 adequate antidepressant "
        "trials this episode",
        "Ask the clinician about: none",
        "ketaplan supports the clinician's decision and makes none.",
    ]


def test_the_double_negative_and_tms_are_gone_and_trd_is_the_labels() -> None:
    texts = [q.text for q in QUESTIONS]
    assert not any(" not responded" in t or "TMS" in t for t in texts)
    assert texts[0] == (
        "How many antidepressants has the patient taken, each at an adequate dose for an "
        "adequate time, in the current depressive episode?"
    )


def test_current_suicidal_thoughts_tell_the_coordinator_to_alert_the_clinician_today(
    capsys: pytest.CaptureFixture[str],
) -> None:
    answers = write_answers(Path("a.toml"), suicidal_thoughts_current=True, cystitis=True)
    result = run(capsys, *SCREEN, "--answers", str(answers))
    assert result.code == 0
    assert result.out.splitlines()[-5:] == [
        "Screening of P-001 on 2026-11-27: no listed contraindication",
        "Criteria for treatment-resistant depression not met: none",
        "Ask the clinician about: current suicidal thoughts; ulcerative or interstitial cystitis",
        "Alert the clinician today: the patient has suicidal thoughts now (SPRAVATO boxed "
        "warning).",
        "ketaplan supports the clinician's decision and makes none.",
    ]


def test_screen_json_is_the_documented_format(capsys: pytest.CaptureFixture[str]) -> None:
    answers = write_answers(Path("a.toml"), pregnant_or_breastfeeding=True)
    result = run(capsys, *SCREEN, "--answers", str(answers), "--format", "json")
    assert result.code == 0
    data = json.loads(result.out)
    assert list(data) == [
        "patient",
        "date",
        "summary",
        "contraindicated",
        "contraindications",
        "unmet_criteria",
        "clinician_flags",
        "alert_clinician_today",
        "not_asked",
        "answers",
        "note",
    ]
    assert data["summary"] == "contraindicated: pregnancy or breastfeeding"
    assert data["contraindications"] == [
        {"key": "pregnant_or_breastfeeding", "name": "pregnancy or breastfeeding"}
    ]
    assert (data["clinician_flags"], data["alert_clinician_today"], data["not_asked"]) == (
        [],
        False,
        [],
    )
    assert data["answers"]["antidepressants_this_episode"] == 3
    assert list(data["answers"]) == [q.key for q in QUESTIONS]


def test_a_typo_in_the_answers_file_is_refused_with_exit_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    answers = write_answers(Path("a.toml"), mania_current=None, mania_curent=False)
    result = run(capsys, *SCREEN, "--answers", str(answers))
    assert (result.code, result.out) == (2, "")
    assert result.message == (
        "Error: a.toml: unknown question 'mania_curent'; did you mean 'mania_current'?\n"
    )


def test_a_missing_answer_is_refused_with_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    answers = write_answers(Path("a.toml"), schizophrenia=None)
    result = run(capsys, *SCREEN, "--answers", str(answers))
    assert (result.code, result.out) == (2, "")
    assert result.message == (
        "Error: a.toml: no answer to schizophrenia; every question must be answered "
        "(none defaults to no)\n"
    )


def test_without_a_terminal_or_answers_file_screen_refuses(
    capsys: pytest.CaptureFixture[str],
) -> None:
    result = run(capsys, *SCREEN)
    assert (result.code, result.out) == (2, "")
    assert result.message == (
        "Error: not a terminal, so the questions cannot be asked; give --answers FILE.toml "
        "(see examples/screening-answers.toml)\n"
    )


def test_a_screening_dated_in_the_future_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    result = run(capsys, "screen", "--patient", "P-001", "--date", "2199-01-01")
    assert result.code == 2
    assert re.fullmatch(
        r"Error: --date 2199-01-01 is after today \(\d{4}-\d\d-\d\d\); "
        r"a screening records answers already given\n",
        result.message,
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--format", "xml"), "--format 'xml' is not one of table, json, csv"),
        (("--date", "27/11/2026"), "--date '27/11/2026' is not a date"),
        (("--patient", "Jane Doe"), "patient code 'Jane Doe' has a space"),
        (("--answers", "missing.toml"), "answers file missing.toml does not exist"),
    ],
)
def test_bad_options_are_one_line_errors(
    capsys: pytest.CaptureFixture[str], args: tuple[str, ...], message: str
) -> None:
    result = run(capsys, *SCREEN, *args)
    assert result.code == 2
    assert result.message.startswith(f"Error: {message}")
    assert result.err.count("\n") == 1


def test_screen_help_has_an_example(capsys: pytest.CaptureFixture[str]) -> None:
    result = run(capsys, "screen", "--help")
    assert result.code == 0
    assert any(line.strip().startswith("Example:") for line in result.out.splitlines())


def typed(*replies: str) -> io.StringIO:
    return io.StringIO("".join(f"{reply}\n" for reply in replies))


def test_prompts_ask_every_question_in_order_and_reask_bad_replies() -> None:
    out = io.StringIO()
    # A count of -1 and an empty reply are asked again: nothing has a default.
    replies = typed("-1", "3", "y", "", "y", *["n"] * (len(QUESTIONS) - 3))
    answers = prompt_answers(Console(file=out, width=100), stream=replies)
    assert list(answers) == [q.key for q in QUESTIONS]
    assert answers["antidepressants_this_episode"] == 3
    assert answers["pregnant_or_breastfeeding"] is True
    assert answers["acute_cardiovascular_disease"] is True
    assert answers["uncontrolled_hypertension"] is False
    shown = out.getvalue()
    assert "Please enter a whole number from 0 to 99" in shown
    assert "3. Does the patient have acute or unstable cardiovascular disease?" in shown
    assert shown.count("3. Does the patient have acute or unstable") == 2


def test_interactive_screening_prompts_on_stderr_and_returns_the_result(
    capsys: pytest.CaptureFixture[str],
) -> None:
    under_18 = [q.key for q in QUESTIONS].index("under_18")
    replies = typed("2", *["n"] * (under_18 - 1), "y", *["n"] * (len(QUESTIONS) - under_18 - 1))
    result = take_screening(
        patient="P-001",
        answers_file=None,
        on="2026-11-27",
        clinic=ClinicConfig(),
        interactive=True,
        stream=replies,
    )
    assert result.summary == "contraindicated: child (under 18)"
    captured = capsys.readouterr()
    assert captured.out == ""
    assert f"{under_18 + 1}. Is the patient a child (under 18)?" in captured.err


def test_a_screening_is_stored_and_shown_again_with_show(
    capsys: pytest.CaptureFixture[str],
) -> None:
    answers = write_answers(Path("a.toml"), mania_current=True, antidepressants_this_episode=1)
    taken = run(capsys, *SCREEN, "--answers", str(answers))
    assert taken.code == 0
    shown = run(capsys, "screen", "--show", "--patient", "P-001")
    assert (shown.code, shown.message) == (0, "")
    assert shown.out == taken.out
    as_json = run(capsys, "screen", "--show", "--patient", "P-001", "--format", "json")
    data = json.loads(as_json.out)
    assert (data["patient"], data["date"], data["summary"]) == (
        "P-001",
        "2026-11-27",
        "contraindicated: current mania",
    )
    assert list(data["answers"]) == [q.key for q in QUESTIONS]


def test_show_names_the_latest_screening(capsys: pytest.CaptureFixture[str]) -> None:
    first = write_answers(Path("a.toml"), mania_current=True)
    run(capsys, "screen", "--patient", "P-001", "--date", "2026-11-02", "--answers", str(first))
    run(capsys, *SCREEN, "--answers", EXAMPLE)
    shown = run(capsys, "screen", "--show", "--patient", "P-001")
    assert "Screening of P-001 on 2026-11-27: no listed contraindication" in shown.out


def test_show_without_a_stored_screening_is_a_clear_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    run(capsys, *SCREEN, "--answers", EXAMPLE)
    result = run(capsys, "screen", "--show", "--patient", "P-002")
    book = os.environ["KETAPLAN_BOOK"]
    assert (result.code, result.out) == (1, "")
    assert result.message == (
        f"Error: no screening of P-002 is stored in the book {book}; record one with "
        "`ketaplan screen --patient P-002`\n"
    )


def test_show_without_a_book_creates_none(capsys: pytest.CaptureFixture[str]) -> None:
    result = run(capsys, "screen", "--show", "--patient", "P-001")
    assert result.code == 1
    assert result.message.startswith("Error: there is no clinic book at ")
    assert not Path(os.environ["KETAPLAN_BOOK"]).exists()


def test_show_code_the_older_form_still_shows_the_latest_screening(
    capsys: pytest.CaptureFixture[str],
) -> None:
    run(capsys, *SCREEN, "--answers", EXAMPLE)
    documented = run(capsys, "screen", "--patient", "P-001", "--show")
    older = run(capsys, "screen", "--show", "P-001")
    assert (older.code, older.message) == (0, "")
    assert older.out == documented.out
    assert "Screening of P-001 on 2026-11-27: no listed contraindication" in older.out


def test_screen_help_names_the_patient_with_patient_only(
    capsys: pytest.CaptureFixture[str],
) -> None:
    lines = [line.strip() for line in run(capsys, "screen", "--help").out.splitlines()]
    # The older `--show CODE` works but is not shown: the usage has no argument.
    assert "Usage: ketaplan screen [OPTIONS]" in lines
    assert "--patient CODE --show prints the patient's latest stored screening instead." in lines
    show = next(line for line in lines if line.startswith("│ --show "))
    assert show.split()[:3] == ["│", "--show", "Print"]  # a flag: no CODE after it


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--show", "--patient", "P-001", "--answers", "a.toml"), "--show prints a stored "
         "screening; drop --answers"),
        (("--patient", "P-001", "--show", "--date", "today"), "--show prints a stored "
         "screening; drop --date"),
        (("--show", "P-001", "--answers", "a.toml"), "--show prints a stored screening; drop "
         "--answers"),
        (("--show", "P-001", "--patient", "P-002"), "give the patient's code once: --patient "
         "CODE --show"),
        (("--show",), "--show prints a patient's stored screening; give --patient CODE"),
        (("P-001",), "give the patient's code with --patient P-001"),
        ((), "give --patient CODE to screen a patient; add --show to print the latest stored "
         "screening"),
    ],
)  # fmt: skip
def test_show_and_screening_options_do_not_mix(
    capsys: pytest.CaptureFixture[str], args: tuple[str, ...], message: str
) -> None:
    result = run(capsys, "screen", *args)
    assert (result.code, result.out, result.message) == (2, "", f"Error: {message}\n")


def test_a_refused_screening_stores_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    answers = write_answers(Path("a.toml"), mania_current=None, manai=False)
    assert run(capsys, *SCREEN, "--answers", str(answers)).code == 2
    assert not Path(os.environ["KETAPLAN_BOOK"]).exists()


def test_a_stored_screening_as_csv_has_one_row_per_question(
    capsys: pytest.CaptureFixture[str],
) -> None:
    answers = write_answers(Path("a.toml"), mania_current=True)
    assert run(capsys, *SCREEN, "--answers", str(answers)).code == 0
    shown = run(capsys, "screen", "--show", "--patient", "P-001", "--format", "csv")
    lines = shown.out.splitlines()
    assert lines[0] == "patient,date,key,question,answer"
    assert len(lines) == 1 + len(QUESTIONS)
    mania = next(line for line in lines if ",mania_current," in line)
    assert mania.startswith("P-001,2026-11-27,mania_current,")
    assert mania.endswith(",true")
