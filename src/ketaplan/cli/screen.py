"""`ketaplan screen`: the intake screening questions, asked one by one or read from a file,
stored in the clinic book with the patient's code; `--patient CODE --show` prints the
latest (`--show CODE`, the older form, still works).

ketaplan supports the clinician's decision and makes none: the command prints what the
answers list (contraindications, criteria not met) and decides nothing.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer

from ketaplan.booking.screenings import latest_screening, store_screening
from ketaplan.cli import clock
from ketaplan.cli.app import AliasCommand, app, mark_stored
from ketaplan.cli.bookfile import BookOpt, ClinicOpt, opened_book
from ketaplan.cli.common import (
    ConfigOpt,
    check_format,
    check_patient,
    check_patient_form,
    clinic_zone,
)
from ketaplan.cli.render import console, write_csv
from ketaplan.errors import UsageError
from ketaplan.formats.files import read_toml
from ketaplan.formats.shapes import SCREENING_CSV, screening_csv_rows, screening_json
from ketaplan.model.clinic import ClinicConfig
from ketaplan.parsing import parse_date
from ketaplan.safety.screening import (
    MAX_COUNT,
    NOTE,
    QUESTIONS,
    ScreeningResult,
    evaluate,
)

EXAMPLE_ANSWERS = "examples/screening-answers.toml"

AnswersOpt = Annotated[
    Path | None,
    typer.Option(
        "--answers",
        help="Answers as TOML, one `key = true|false|number` a question, for scripted use.",
        show_default=False,
        dir_okay=False,
    ),
]
DateOpt = Annotated[
    str | None,
    typer.Option(
        "--date",
        help="Day the answers were given: YYYY-MM-DD or today (default: today).",
        show_default=False,
    ),
]
ScreenFormatOpt = Annotated[str, typer.Option("--format", help="table or json.")]
ScreenPatientOpt = Annotated[
    str | None,
    typer.Option(
        "--patient",
        metavar="CODE",
        help="The patient's code, e.g. P-001: never a name.",
        show_default=False,
    ),
]
ShowOpt = Annotated[
    bool,
    typer.Option(
        "--show",
        help="Print the patient's latest screening stored in the book; asks nothing.",
    ),
]
# `--show CODE`, the form before every command named its patient with --patient: the
# code is read as this hidden argument, so that scripts written for it keep working.
ShowCodeArg = Annotated[
    str | None,
    typer.Argument(metavar="[CODE]", hidden=True, show_default=False),
]


@app.command(cls=AliasCommand)
def screen(
    patient: ScreenPatientOpt = None,
    answers: AnswersOpt = None,
    on: DateOpt = None,
    show: ShowOpt = False,
    show_code: ShowCodeArg = None,
    fmt: ScreenFormatOpt = "table",
    book_option: BookOpt = None,
    clinic_option: ClinicOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Ask the screening questions, store the answers in the book, print what they list.

    --patient CODE --show prints the patient's latest stored screening instead.

    Asked one by one on a terminal, read from --answers FILE.toml in scripts.

    Every question must be answered: nothing defaults to no.

    ketaplan supports the clinician's decision and makes none.

    Example: ketaplan screen --patient P-001 --answers examples/screening-answers.toml
    """
    check_format(fmt)
    if show_code is not None and not show:
        raise UsageError(f"give the patient's code with --patient {show_code}")
    if show:
        given = [n for n, v in (("--answers", answers), ("--date", on)) if v]
        if given:
            raise UsageError(f"--show prints a stored screening; drop {given[0]}")
        if patient is not None and show_code is not None:
            raise UsageError("give the patient's code once: --patient CODE --show")
        shown = patient or show_code
        if shown is None:
            raise UsageError("--show prints a patient's stored screening; give --patient CODE")
        check_patient_form(shown)
        with opened_book(book_option, config, create=False, clinic_option=clinic_option) as opened:
            code = check_patient(shown, opened.clinic)
            print_screening(latest_screening(opened.book, code), fmt)
        return
    if patient is None:
        raise UsageError(
            "give --patient CODE to screen a patient; add --show to print the latest stored "
            "screening"
        )
    # What the options alone say is wrong is refused before the book is opened.
    check_patient_form(patient)
    if on:
        parse_date(on, what="--date", today=clock.today_in("UTC"))
    if answers is not None and not answers.is_file():
        raise UsageError(f"answers file {answers} does not exist")
    with opened_book(book_option, config, create=True, clinic_option=clinic_option) as opened:
        result = take_screening(
            patient=patient,
            answers_file=answers,
            on=on,
            clinic=opened.clinic,
            interactive=sys.stdin.isatty(),
        )
        store_screening(opened.keep_clinic(), result, now=clock.now())
        location = opened.location
    mark_stored(f"Stored the screening of {result.patient} in {location}")
    print_screening(result, fmt)
    # On stderr: stdout stays the result alone (JSON included).
    sys.stderr.write(f"Stored the screening of {result.patient} in {location}\n")


def take_screening(
    *,
    patient: str,
    answers_file: Path | None,
    on: str | None,
    clinic: ClinicConfig,
    interactive: bool,
    stream: TextIO | None = None,
) -> ScreeningResult:
    """Check the options, take the answers (file, else prompts) and evaluate them.

    Everything that can be wrong with the options is refused before the first question
    is asked. Returns the result for the caller to store and print.
    """
    code = check_patient(patient, clinic)
    today = clock.today_in(clinic_zone(None, clinic))
    day = parse_date(on, what="--date", today=today) if on else today
    if day > today:
        raise UsageError(
            f"--date {day} is after today ({today}); a screening records answers already given"
        )
    if answers_file is not None:
        return evaluate(code, read_toml(answers_file, "answers file"), day, where=str(answers_file))
    if not interactive:
        raise UsageError(
            "not a terminal, so the questions cannot be asked; give --answers FILE.toml "
            f"(see {EXAMPLE_ANSWERS})"
        )
    return evaluate(code, prompt_answers(console(stderr=True), stream=stream), day)


def prompt_answers(out: Any, *, stream: TextIO | None = None) -> dict[str, object]:
    """Ask every question in order on the Rich console `out`; no question has a default.

    `stream` is where answers are read from (default: stdin).
    """
    from rich.prompt import Confirm, IntPrompt
    from rich.text import Text

    out.print(f"{len(QUESTIONS)} questions; {NOTE}", markup=False)
    answers: dict[str, object] = {}
    for number, question in enumerate(QUESTIONS, 1):
        prompt = Text(f"{number}. {question.text}")
        if question.kind == "yes_no":
            answers[question.key] = Confirm.ask(prompt, console=out, stream=stream)
            continue
        while True:
            value = IntPrompt.ask(prompt, console=out, stream=stream)
            if 0 <= value <= MAX_COUNT:
                answers[question.key] = value
                break
            out.print(f"Please enter a whole number from 0 to {MAX_COUNT}", markup=False)
    return answers


def print_screening(result: ScreeningResult, fmt: str) -> None:
    if fmt == "json":
        sys.stdout.write(json.dumps(screening_json(result), indent=2, ensure_ascii=False) + "\n")
        return
    if fmt == "csv":
        write_csv(SCREENING_CSV, screening_csv_rows(result))
        return
    from rich import box
    from rich.table import Table
    from rich.text import Text

    out = console()
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("Question", overflow="fold")
    table.add_column("Answer")
    for question, answer in result.rows():
        table.add_row(Text(question), answer)
    out.print(table)
    for line in result.lines():
        # One line each, however long: the result is read and copied, not laid out.
        out.print(line, markup=False, soft_wrap=True)
