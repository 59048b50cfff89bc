"""Intake screening: the eligibility questions of the source article and the SPRAVATO
label, and their result.

ketaplan supports the clinician's decision and makes none. A screening records what was
answered and lists four things: the contraindications answered "yes" (booking then needs
a clinician's override), the criteria for treatment-resistant depression not met (the
booking is flagged), the label's warnings answered "yes" as "ask the clinician" flags
(current suicidal thoughts: alert the clinician the same day), and questions not asked
(a screening stored before a question existed keeps its answers; the new questions show
as "not asked").

Every question must be answered in a new screening. A missing answer, an unknown
question or a value of the wrong kind is refused with its name: nothing ever defaults
to "no", because a screening that silently assumed "not pregnant" would be worse than
none.

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
NOT_ASKED = "not asked"
# The label's treatment-resistant depression: at least 2 antidepressants of adequate
# dose and duration in the current episode.
MIN_ANTIDEPRESSANTS = 2
# A count beyond this is a typo, not a history.
MAX_COUNT = 99

# Citations (keys in ketaplan.model.sources.CITATIONS; docs/sources.md gives them in full).
_ELIGIBILITY = "[article2022] Am I eligible"
_NOT_ELIGIBLE = f"{_ELIGIBILITY}: not eligible"
_NOT_RECOMMENDED = f"{_ELIGIBILITY}: not recommended"
_CONTRAINDICATED = "[spravato-label] section 4 (contraindications)"
_WARNING = "[spravato-label] section 5 (warnings)"


@dataclass(frozen=True)
class Question:
    """One screening question.

    Attributes:
        key: stable name, used in answers files, JSON and the clinic book; never changes
            once released (a question whose meaning changes gets a new key).
        text: the question as asked, about "the patient".
        kind: `yes_no` (TOML true/false) or `count` (a whole number from 0).
        source: where the question comes from.
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
        "antidepressants_this_episode",
        "How many antidepressants has the patient taken, each at an adequate dose for an "
        "adequate time, in the current depressive episode?",
        "count",
        "[spravato-label] section 1: treatment-resistant depression is an inadequate response to "
        "at least 2 antidepressants of adequate dose and duration in the current episode",
        f"{MIN_ANTIDEPRESSANTS} adequate antidepressant trials this episode",
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
        "aneurysmal_vascular_disease",
        "Does the patient have aneurysmal vascular disease (thoracic or abdominal aorta, "
        "intracranial or peripheral arteries) or an arteriovenous malformation?",
        "yes_no",
        f"{_CONTRAINDICATED}: aneurysmal vascular disease or arteriovenous malformation",
        "aneurysmal vascular disease or arteriovenous malformation",
    ),
    Question(
        "intracerebral_haemorrhage",
        "Has the patient ever had an intracerebral haemorrhage (bleeding in the brain)?",
        "yes_no",
        f"{_CONTRAINDICATED}: history of intracerebral hemorrhage",
        "history of intracerebral haemorrhage",
    ),
    Question(
        "ketamine_hypersensitivity",
        "Is the patient hypersensitive (allergic) to ketamine or esketamine?",
        "yes_no",
        f"{_CONTRAINDICATED}: hypersensitivity to esketamine, ketamine or an excipient",
        "hypersensitivity to ketamine or esketamine",
    ),
    Question(
        "substance_use_current",
        "Does the patient have a substance use disorder now (alcohol included)?",
        "yes_no",
        f"{_NOT_ELIGIBLE}: history of substance abuse; {_WARNING}: abuse and misuse",
        "current substance use disorder",
    ),
    Question(
        "substance_use_past",
        "Has the patient had a substance use disorder in the past (alcohol included)?",
        "yes_no",
        f"{_NOT_ELIGIBLE}: history of substance abuse",
        "past substance use disorder",
    ),
    Question(
        "psychosis_current",
        "Does the patient have psychosis now (active psychosis)?",
        "yes_no",
        f"{_NOT_RECOMMENDED}: active psychosis",
        "active psychosis",
    ),
    Question(
        "psychosis_past",
        "Has the patient had psychosis in the past?",
        "yes_no",
        f"{_NOT_ELIGIBLE}: history of psychosis",
        "past psychosis",
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
        "mania_current",
        "Does the patient have mania now?",
        "yes_no",
        f"{_NOT_RECOMMENDED}: people with mania",
        "current mania",
    ),
    Question(
        "negative_ketamine_response",
        "Has the patient had a negative response to ketamine therapy before?",
        "yes_no",
        f"{_NOT_ELIGIBLE}: previous negative response to ketamine therapy",
        "previous negative response to ketamine",
    ),
    # A yes/no question, not a birth date: the book keeps no date of birth, and the
    # document says only "children"; 18 is ketaplan's reading of it.
    Question(
        "under_18",
        "Is the patient a child (under 18)?",
        "yes_no",
        f"{_NOT_RECOMMENDED}: children",
        "child (under 18)",
    ),
)

# The label's warnings: a "yes" is an "ask the clinician" flag, never a block.
CLINICIAN_FLAGS: tuple[Question, ...] = (
    Question(
        "suicidal_thoughts_current",
        "Does the patient have suicidal thoughts now?",
        "yes_no",
        "[spravato-label] boxed warning: suicidal thoughts and behaviors",
        "current suicidal thoughts",
    ),
    Question(
        "bipolar_history",
        "Has the patient had mania or a bipolar disorder diagnosis in the past?",
        "yes_no",
        f"{_NOT_RECOMMENDED}: people with mania; [sanacora2017] caution in bipolar disorder",
        "past mania or bipolar disorder",
    ),
    Question(
        "hepatic_impairment",
        "Does the patient have impaired liver function (hepatic impairment)?",
        "yes_no",
        f"{_WARNING}; [article2022] Risks: liver injury",
        "hepatic impairment",
    ),
    Question(
        "cystitis",
        "Does the patient have ulcerative or interstitial cystitis?",
        "yes_no",
        f"{_WARNING}: ulcerative or interstitial cystitis",
        "ulcerative or interstitial cystitis",
    ),
    Question(
        "hypertensive_encephalopathy_history",
        "Has the patient ever had hypertensive encephalopathy?",
        "yes_no",
        f"{_WARNING}: increase in blood pressure",
        "history of hypertensive encephalopathy",
    ),
    Question(
        "cns_depressants",
        "Does the patient take CNS depressants (benzodiazepines, opioids, sleeping pills, "
        "regular alcohol)?",
        "yes_no",
        "[spravato-label] section 7: CNS depressants increase sedation",
        "takes CNS depressants",
    ),
    Question(
        "psychostimulants",
        "Does the patient take psychostimulants (amphetamines, methylphenidate, modafinil)?",
        "yes_no",
        "[spravato-label] section 7: psychostimulants increase blood pressure",
        "takes psychostimulants",
    ),
    Question(
        "maois",
        "Does the patient take a monoamine oxidase inhibitor (MAOI)?",
        "yes_no",
        "[spravato-label] section 7: MAOIs increase blood pressure",
        "takes an MAOI",
    ),
)
# The flag the coordinator acts on the same day (the boxed warning).
URGENT_FLAG = "suicidal_thoughts_current"

# Context for the clinic, never evaluated: it changes what staff check, not the result.
CONTEXT: tuple[Question, ...] = (
    Question(
        "could_become_pregnant",
        "Could the patient become pregnant?",
        "yes_no",
        f"{_NOT_ELIGIBLE}: pregnant; asked again before each course, and staff confirm "
        "pregnancy status at each session",
        "could become pregnant",
    ),
    Question(
        "therapy_helped",
        "Has individual or group therapy helped the patient enough?",
        "yes_no",
        f"{_ELIGIBILITY}: may be eligible when therapy has not helped enough",
        "therapy helped enough",
    ),
)

# Questions of earlier versions: a stored screening keeps their answers, shown as asked.
RETIRED: tuple[Question, ...] = (
    Question(
        "prior_antidepressants",
        "How many different antidepressant medications has the patient tried?",
        "count",
        f"{_ELIGIBILITY}: has already tried different medications",
        "antidepressants tried (any episode)",
    ),
    Question(
        "therapy_response_poor",
        "Has the patient not responded well to individual or group therapy?",
        "yes_no",
        _ELIGIBILITY,
        "poor response to individual or group therapy",
    ),
    Question(
        "other_therapies_tried",
        "Has the patient tried other therapies, including TMS?",
        "yes_no",
        _ELIGIBILITY,
        "other therapies tried (including TMS)",
    ),
    Question(
        "substance_abuse_history",
        "Does the patient have a history of substance abuse?",
        "yes_no",
        _NOT_ELIGIBLE,
        "history of substance abuse",
    ),
    Question(
        "psychosis_history",
        "Does the patient have a history of psychosis, or active psychosis?",
        "yes_no",
        _NOT_ELIGIBLE,
        "history of psychosis",
    ),
    Question("mania", "Does the patient have mania?", "yes_no", _NOT_RECOMMENDED, "mania"),
)

QUESTIONS: tuple[Question, ...] = CRITERIA + CONTRAINDICATIONS + CLINICIAN_FLAGS + CONTEXT
BY_KEY: Mapping[str, Question] = {q.key: q for q in QUESTIONS}
_RETIRED_BY_KEY: Mapping[str, Question] = {q.key: q for q in RETIRED}


@dataclass(frozen=True)
class Finding:
    """A contraindication reported, a criterion not met, or a flag for the clinician.

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
        answers: each answer as (key, answer): today's questions in catalogue order; a
            stored screening may lack newer questions and hold retired ones.
    """

    patient: str
    date: date
    answers: tuple[tuple[str, Answer], ...]

    def answer(self, key: str) -> Answer | None:
        """The answer, or None when the question was not asked."""
        return dict(self.answers).get(key)


@dataclass(frozen=True)
class ScreeningResult:
    """What a screening lists for the clinician. ketaplan supports the clinician's
    decision and makes none: this result decides nothing by itself.

    Attributes:
        screening: the answers it was computed from.
        contraindications: each contraindication answered "yes", in catalogue order.
        unmet_criteria: each criterion for treatment-resistant depression not met (or
            not asked).
        clinician_flags: each warning answered "yes": ask the clinician.
        not_asked: today's questions the screening has no answer to (it was stored
            before they existed).
    """

    screening: Screening
    contraindications: tuple[Finding, ...]
    unmet_criteria: tuple[Finding, ...]
    clinician_flags: tuple[Finding, ...] = ()
    not_asked: tuple[Finding, ...] = ()

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
    def urgent(self) -> bool:
        """Current suicidal thoughts: the coordinator alerts the clinician the same day."""
        return any(f.key == URGENT_FLAG for f in self.clinician_flags)

    @property
    def could_become_pregnant(self) -> bool | None:
        """The answer, or None when it was not asked."""
        value = self.screening.answer("could_become_pregnant")
        return None if value is None else bool(value)

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
        flags = "; ".join(f.name for f in self.clinician_flags) or "none"
        lines = [
            f"Screening of {self.patient} on {self.date.isoformat()}: {self.summary}",
            f"Criteria for treatment-resistant depression not met: {unmet}",
            f"Ask the clinician about: {flags}",
        ]
        if self.not_asked:
            lines.append(
                f"Not asked (stored before these questions existed): {len(self.not_asked)} "
                "questions; screen the patient again"
            )
        if self.urgent:
            lines.append(
                "Alert the clinician today: the patient has suicidal thoughts now "
                "(SPRAVATO boxed warning)."
            )
        lines.append(NOTE)
        return lines

    def rows(self) -> list[tuple[str, str]]:
        """(question, answer) for every question of today's catalogue (`not asked` when
        the screening has no answer), then the answered questions of earlier versions."""
        rows = [(q.text, shown(self.screening.answer(q.key))) for q in QUESTIONS]
        for key, value in self.screening.answers:
            if key in _RETIRED_BY_KEY:
                rows.append((f"(earlier version) {_RETIRED_BY_KEY[key].text}", shown(value)))
        return rows


def shown(value: Answer | None) -> str:
    """An answer as printed: yes, no, a number, or `not asked`."""
    if value is None:
        return NOT_ASKED
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def evaluate(
    patient: str, answers: Mapping[str, object], on: date, *, where: str = "answers"
) -> ScreeningResult:
    """List the contraindications, unmet criteria and clinician flags of `answers`, taken
    on day `on`.

    `answers` maps question keys to answers (TOML values or prompt answers); every
    question must be answered, with a value of its kind, or `UsageError` names the first
    problem, prefixed with `where` (the answers file). The result supports the
    clinician's decision and makes none.
    """
    return assess(patient, check_answers(answers, where=where), on)


def assess(patient: str, answers: tuple[tuple[str, Answer], ...], on: date) -> ScreeningResult:
    """The result of answers already checked when they were taken, as the book stores
    them: a question without an answer is `not asked`, a retired question's answer is
    kept and shown, and neither is guessed."""
    values = dict(answers)
    return ScreeningResult(
        screening=Screening(patient, on, answers),
        contraindications=tuple(
            Finding(q.key, q.name) for q in CONTRAINDICATIONS if values.get(q.key) is True
        ),
        unmet_criteria=tuple(
            Finding(q.key, q.name) for q in CRITERIA if not _criterion_met(q, values.get(q.key))
        ),
        clinician_flags=tuple(
            Finding(q.key, q.name) for q in CLINICIAN_FLAGS if values.get(q.key) is True
        ),
        not_asked=tuple(Finding(q.key, q.name) for q in QUESTIONS if q.key not in values),
    )


def _criterion_met(question: Question, value: Answer | None) -> bool:
    if value is None:
        return False
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
