"""`ketaplan screen` as a coordinator meets it: exact output, exact errors, exit codes,
and the questions asked one by one through real Rich prompts."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from rich.console import Console

from ketaplan.cli.screen import prompt_answers, take_screening
from ketaplan.screening import QUESTIONS
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
    answers = write_answers(Path("a.toml"), mania=True, prior_antidepressants=1)
    result = run(capsys, *SCREEN, "--answers", str(answers))
    assert (result.code, result.err) == (0, "")
    lines = [line.rstrip() for line in result.out.splitlines()]
    assert lines[1].split() == ["Question", "Answer"]
    assert lines[3].split()[-1] == "1"
    assert lines[-3:] == [
        "Screening of P-001 on 2026-11-27: contraindicated: mania",
        "Criteria for treatment-resistant depression not met: at least 2 antidepressants tried",
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
        "answers",
        "note",
    ]
    assert data["summary"] == "contraindicated: pregnancy or breastfeeding"
    assert data["contraindications"] == [
        {"key": "pregnant_or_breastfeeding", "name": "pregnancy or breastfeeding"}
    ]
    assert data["answers"]["prior_antidepressants"] == 3
    assert list(data["answers"]) == [q.key for q in QUESTIONS]


def test_a_typo_in_the_answers_file_is_refused_with_exit_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    answers = write_answers(Path("a.toml"), mania=None, manai=False)
    result = run(capsys, *SCREEN, "--answers", str(answers))
    assert (result.code, result.out) == (2, "")
    assert result.err == "Error: a.toml: unknown question 'manai'; did you mean 'mania'?\n"


def test_a_missing_answer_is_refused_with_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    answers = write_answers(Path("a.toml"), schizophrenia=None)
    result = run(capsys, *SCREEN, "--answers", str(answers))
    assert (result.code, result.out) == (2, "")
    assert result.err == (
        "Error: a.toml: no answer to schizophrenia; every question must be answered "
        "(none defaults to no)\n"
    )


def test_without_a_terminal_or_answers_file_screen_refuses(
    capsys: pytest.CaptureFixture[str],
) -> None:
    result = run(capsys, *SCREEN)
    assert (result.code, result.out) == (2, "")
    assert result.err == (
        "Error: not a terminal, so the questions cannot be asked; give --answers FILE.toml "
        "(see examples/screening-answers.toml)\n"
    )


def test_a_screening_dated_in_the_future_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    result = run(capsys, "screen", "--patient", "P-001", "--date", "2999-01-01")
    assert result.code == 2
    assert re.fullmatch(
        r"Error: --date 2999-01-01 is after today \(\d{4}-\d\d-\d\d\); "
        r"a screening records answers already given\n",
        result.err,
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--format", "csv"), "--format 'csv' is not one of table, json"),
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
    assert result.err.startswith(f"Error: {message}")
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
    assert answers["prior_antidepressants"] == 3
    assert answers["therapy_response_poor"] is True
    assert answers["other_therapies_tried"] is True
    assert answers["pregnant_or_breastfeeding"] is False
    shown = out.getvalue()
    assert "Please enter a whole number from 0 to 99" in shown
    assert "3. Has the patient tried other therapies, including TMS?" in shown
    assert shown.count("3. Has the patient tried other therapies") == 2


def test_interactive_screening_prompts_on_stderr_and_returns_the_result(
    capsys: pytest.CaptureFixture[str],
) -> None:
    replies = typed("2", "y", "y", *["n"] * (len(QUESTIONS) - 4), "y")
    result = take_screening(
        patient="P-001",
        answers_file=None,
        on="2026-11-27",
        config=None,
        interactive=True,
        stream=replies,
    )
    assert result.summary == "contraindicated: child (under 18)"
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "14. Is the patient a child (under 18)?" in captured.err
