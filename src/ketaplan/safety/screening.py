"""Intake screening: the source article's eligibility questions and their result.

ketaplan supports the clinician's decision and makes none. A screening records what was
answered and lists the contraindications the source article names and the criteria for
treatment-resistant depression that were not met; whether to treat stays with the
clinician.

Every question must be answered. A missing answer, an unknown question or a value of the
wrong kind is refused with its name: nothing ever defaults to "no", because a screening
that silently assumed "not pregnant" would be worse than none.

Pure: no clock (the screening date is an argument), no terminal, no store.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Literal

from ketaplan.errors import UsageError

Kind = Literal["yes_no", "count"]
Answer = bool | int

# What every rendering of a result says (README, `screen` output, JSON).
NOTE = "ketaplan supports the clinician's decision and makes none."
NO_CONTRAINDICATION = "no listed contraindication"
# ketaplan default: "two or more antidepressants", the label's treatment-resistant
# depression [spravato-label]; the source article says "different medications".
MIN_ANTIDEPRESSANTS = 2
# A count beyond this is a typo, not a history.
MAX_COUNT = 99

# Citations: the source article's "Am I eligible" section (key in protocols.CITATIONS).
_ELIGIBILITY = "[article2022] Am I eligible"
_MAY_BE_ELIGIBLE = f"{_ELIGIBILITY}: may be eligible"
_NOT_ELIGIBLE = f"{_ELIGIBILITY}: not eligible"
_NOT_RECOMMENDED = f"{_ELIGIBILITY}: not recommended"


@dataclass(frozen=True)
class Question:
    """One screening question.

    Attributes:
        key: stable name, used in answers files, JSON and the clinic book; never changes
            once released.
        text: the question as asked, about "the patient".
        kind: `yes_no` (TOML true/false) or `count` (a whole number from 0).
        source: the citation the question comes from (the source article's section).
        name: short readable name in results ("pregnancy or breastfeeding").
    """

    key: str
    text: str
    kind: Kind
    source: str
    name: str


# Criteria for treatment-resistant depression: reported when not met, never a block.
CRITERIA: tuple[Question, ...] = (
    Question(
        "prior_antidepressants",
        "How many different antidepressant medications has the patient tried?",
        "count",
        f"{_MAY_BE_ELIGIBLE}: has already tried different medications; "
        "ketaplan default: two or more, as the label's treatment-resistant depression "
        "[spravato-label]",
        f"at least {MIN_ANTIDEPRESSANTS} antidepressants tried",
    ),
    Question(
        "therapy_response_poor",
        "Has the patient not responded well to individual or group therapy?",
        "yes_no",
        f"{_MAY_BE_ELIGIBLE}: has not responded well to individual or group therapy",
        "poor response to individual or group therapy",
    ),
    Question(
        "other_therapies_tried",
        "Has the patient tried other therapies, including TMS?",
        "yes_no",
        f"{_MAY_BE_ELIGIBLE}: has tried other therapies, including TMS",
        "other therapies tried (including TMS)",
    ),
)

# Contraindications: a "yes" to any one of them is listed in the result by name.
CONTRAINDICATIONS: tuple[Question, ...] = (
    Question(
        "pregnant_or_breastfeeding",
        "Is the patient pregnant or breastfeeding?",
        "yes_no",
        f"{_NOT_ELIGIBLE}: pregnant (or breastfeeding)",
        "pregnancy or breastfeeding",
    ),
    Question(
        "acute_cardiovascular_disease",
        "Does the patient have acute or unstable cardiovascular disease?",
        "yes_no",
        f"{_NOT_ELIGIBLE}: acute cardiovascular disease; "
        "not recommended: unstable cardiovascular disease",
        "acute or unstable cardiovascular disease",
    ),
    Question(
        "uncontrolled_hypertension",
        "Does the patient have uncontrolled hypertension (high blood pressure)?",
        "yes_no",
        f"{_NOT_ELIGIBLE}: uncontrolled hypertension",
        "uncontrolled hypertension",
    ),
    Question(
        "blood_pressure_rise_risk",
        "Does the patient have a condition where a rise in blood pressure could cause "
        "a heart attack, aneurysm or aortic tear?",
        "yes_no",
        f"{_ELIGIBILITY}: conditions where raised blood pressure could cause "
        "heart attack, aneurysm or aortic tear",
        "blood pressure rise risks heart attack, aneurysm or aortic tear",
    ),
    Question(
        "substance_abuse_history",
        "Does the patient have a history of substance abuse?",
        "yes_no",
        f"{_NOT_ELIGIBLE}: history of substance abuse",
        "history of substance abuse",
    ),
    Question(
        "psychosis_history",
        "Does the patient have a history of psychosis, or active psychosis?",
        "yes_no",
        f"{_NOT_ELIGIBLE}: history of psychosis; {_NOT_RECOMMENDED}: active psychosis",
        "history of psychosis",
    ),
    Question(
        "raised_intracranial_pressure",
        "Does the patient have a history of raised (increased) intracranial pressure?",
        "yes_no",
        f"{_NOT_ELIGIBLE}: history of increased intracranial pressure",
        "raised intracranial pressure",
    ),
    Question(
        "schizophrenia",
        "Does the patient have schizophrenia?",
        "yes_no",
        f"{_NOT_ELIGIBLE}: schizophrenia",
        "schizophrenia",
    ),
    Question(
        "mania",
        "Does the patient have mania?",
        "yes_no",
        f"{_NOT_RECOMMENDED}: people with mania",
        "mania",
    ),
    Question(
        "negative_ketamine_response",
        "Has the patient had a negative response to ketamine therapy before?",
        "yes_no",
        f"{_NOT_ELIGIBLE}: previous negative response to ketamine therapy",
        "previous negative response to ketamine",
    ),
    # A yes/no question, not a birth date: the book keeps no date of birth, and the
    # source article says only "children"; 18 is ketaplan's reading of it.
    Question(
        "under_18",
        "Is the patient a child (under 18)?",
        "yes_no",
        f"{_NOT_RECOMMENDED}: children",
        "child (under 18)",
    ),
)

QUESTIONS: tuple[Question, ...] = CRITERIA + CONTRAINDICATIONS
BY_KEY: Mapping[str, Question] = {q.key: q for q in QUESTIONS}


@dataclass(frozen=True)
class Finding:
    """A contraindication reported, or a criterion not met.

    Attributes:
        key: the question's key.
        name: the question's readable name.
    """

    key: str
    name: str


@dataclass(frozen=True)
class Screening:
    """A patient's answers on one day: what the clinic book stores.

    Attributes:
        patient: the patient's code, never a name.
        date: the day the questions were answered.
        answers: every question's answer as (key, answer), in catalogue order.
    """

    patient: str
    date: date
    answers: tuple[tuple[str, Answer], ...]

    def answer(self, key: str) -> Answer:
        return dict(self.answers)[key]


@dataclass(frozen=True)
class ScreeningResult:
    """What a screening lists for the clinician. ketaplan supports the clinician's
    decision and makes none: this result decides nothing by itself.

    Attributes:
        screening: the answers it was computed from.
        contraindications: each contraindication answered "yes", in catalogue order.
        unmet_criteria: each criterion for treatment-resistant depression not met.
    """

    screening: Screening
    contraindications: tuple[Finding, ...]
    unmet_criteria: tuple[Finding, ...]

    @property
    def patient(self) -> str:
        return self.screening.patient

    @property
    def date(self) -> date:
        return self.screening.date

    @property
    def contraindicated(self) -> bool:
        return bool(self.contraindications)

    @property
    def summary(self) -> str:
        """`no listed contraindication`, or `contraindicated: ` and each item by name,
        separated by semicolons."""
        if not self.contraindications:
            return NO_CONTRAINDICATION
        # Semicolons: some names have commas of their own.
        return "contraindicated: " + "; ".join(f.name for f in self.contraindications)

    def lines(self) -> list[str]:
        """The result as short lines of plain text, the note last."""
        unmet = "; ".join(f.name for f in self.unmet_criteria) or "none"
        return [
            f"Screening of {self.patient} on {self.date.isoformat()}: {self.summary}",
            f"Criteria for treatment-resistant depression not met: {unmet}",
            NOTE,
        ]


def evaluate(
    patient: str, answers: Mapping[str, object], on: date, *, where: str = "answers"
) -> ScreeningResult:
    """List the contraindications and unmet criteria of `answers`, taken on day `on`.

    `answers` maps question keys to answers (TOML values or prompt answers); every
    question must be answered, with a value of its kind, or `UsageError` names the first
    problem, prefixed with `where` (the answers file). The result supports the
    clinician's decision and makes none.
    """
    checked = check_answers(answers, where=where)
    screening = Screening(patient, on, checked)
    values = dict(checked)
    return ScreeningResult(
        screening=screening,
        contraindications=tuple(
            Finding(q.key, q.name) for q in CONTRAINDICATIONS if values[q.key] is True
        ),
        unmet_criteria=tuple(
            Finding(q.key, q.name) for q in CRITERIA if not _criterion_met(q, values[q.key])
        ),
    )


def _criterion_met(question: Question, value: Answer) -> bool:
    if question.kind == "count":
        return value >= MIN_ANTIDEPRESSANTS
    return value is True


def check_answers(
    answers: Mapping[str, object], *, where: str = "answers"
) -> tuple[tuple[str, Answer], ...]:
    """Every question's answer in catalogue order, or `UsageError` naming an unknown
    question (with the closest key), a value of the wrong kind, or the missing ones."""
    for key in answers:
        if key not in BY_KEY:
            raise UsageError(f"{where}: {_unknown(key)}")
    checked = {key: check_value(BY_KEY[key], value, where=where) for key, value in answers.items()}
    missing = [q.key for q in QUESTIONS if q.key not in checked]
    if missing:
        raise UsageError(
            f"{where}: no answer to {', '.join(missing)}; every question must be answered "
            "(none defaults to no)"
        )
    return tuple((q.key, checked[q.key]) for q in QUESTIONS)


def check_value(question: Question, value: object, *, where: str = "answers") -> Answer:
    """`value` if it is an answer of the question's kind, else `UsageError`."""
    if question.kind == "yes_no":
        if not isinstance(value, bool):
            raise UsageError(
                f"{where}: {question.key} must be true or false (yes/no), got {value!r}"
            )
        return value
    # bool is an int in Python; `true` is no count of medications.
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_COUNT:
        raise UsageError(
            f"{where}: {question.key} must be a whole number from 0 to {MAX_COUNT}, got {value!r}"
        )
    return value


def _unknown(key: str) -> str:
    close = difflib.get_close_matches(key, list(BY_KEY), n=1, cutoff=0.6)
    if close:
        return f"unknown question {key!r}; did you mean {close[0]!r}?"
    return f"unknown question {key!r}; questions are: {', '.join(BY_KEY)}"
