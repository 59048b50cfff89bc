"""Intake screening: every contraindication is reported by name on its own, criteria for
treatment-resistant depression are reported when not met, and answers are refused,
never defaulted, when one is missing, unknown or of the wrong kind."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketaplan.errors import UsageError
from ketaplan.formats.files import read_toml
from ketaplan.safety.screening import (
    CLINICIAN_FLAGS,
    CONTEXT,
    CONTRAINDICATIONS,
    CRITERIA,
    NOTE,
    QUESTIONS,
    Finding,
    assess,
    evaluate,
)

DAY = date(2026, 11, 27)
EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "screening-answers.toml"

# The names a clinician reads; literal here so that a renamed item fails a test.
CONTRAINDICATION_NAMES = {
    "pregnant_or_breastfeeding": "pregnancy or breastfeeding",
    "acute_cardiovascular_disease": "acute or unstable cardiovascular disease",
    "uncontrolled_hypertension": "uncontrolled hypertension",
    "blood_pressure_rise_risk": "blood pressure rise risks heart attack, aneurysm or aortic tear",
    "aneurysmal_vascular_disease": "aneurysmal vascular disease or arteriovenous malformation",
    "intracerebral_haemorrhage": "history of intracerebral haemorrhage",
    "ketamine_hypersensitivity": "hypersensitivity to ketamine or esketamine",
    "substance_use_current": "current substance use disorder",
    "substance_use_past": "past substance use disorder",
    "psychosis_current": "active psychosis",
    "psychosis_past": "past psychosis",
    "raised_intracranial_pressure": "raised intracranial pressure",
    "schizophrenia": "schizophrenia",
    "mania_current": "current mania",
    "negative_ketamine_response": "previous negative response to ketamine",
    "under_18": "child (under 18)",
}
FLAG_NAMES = {
    "suicidal_thoughts_current": "current suicidal thoughts",
    "bipolar_history": "past mania or bipolar disorder",
    "hepatic_impairment": "hepatic impairment",
    "cystitis": "ulcerative or interstitial cystitis",
    "hypertensive_encephalopathy_history": "history of hypertensive encephalopathy",
    "cns_depressants": "takes CNS depressants",
    "psychostimulants": "takes psychostimulants",
    "maois": "takes an MAOI",
}
CRITERION_KEYS = ("antidepressants_this_episode",)
CONTEXT_KEYS = ("could_become_pregnant", "therapy_helped")
ALL_KEYS = CRITERION_KEYS + tuple(CONTRAINDICATION_NAMES) + tuple(FLAG_NAMES) + CONTEXT_KEYS


def clear() -> dict[str, object]:
    """Answers with every criterion met, no contraindication and no flag."""
    answers: dict[str, object] = dict.fromkeys(ALL_KEYS, False)
    answers["antidepressants_this_episode"] = 2
    return answers


def refused(answers: dict[str, object]) -> str:
    with pytest.raises(UsageError) as info:
        evaluate("P-001", answers, DAY, where="answers.toml")
    return str(info.value)


def test_question_keys_are_stable_because_the_book_stores_them() -> None:
    assert tuple(q.key for q in CRITERIA) == CRITERION_KEYS
    assert tuple(q.key for q in CONTRAINDICATIONS) == tuple(CONTRAINDICATION_NAMES)
    assert tuple(q.key for q in CLINICIAN_FLAGS) == tuple(FLAG_NAMES)
    assert tuple(q.key for q in CONTEXT) == CONTEXT_KEYS


def test_every_question_names_its_source_and_no_path_outside_the_repository() -> None:
    for q in QUESTIONS:
        assert q.source.startswith(("[article2022]", "[spravato-label]")), q.key
        assert "shared/" not in q.source


def test_the_labels_contraindications_are_questions_of_their_own() -> None:
    label = [q.key for q in CONTRAINDICATIONS if q.source.startswith("[spravato-label] section 4")]
    assert label == [
        "aneurysmal_vascular_disease",
        "intracerebral_haemorrhage",
        "ketamine_hypersensitivity",
    ]


def test_all_clear_answers_list_no_contraindication() -> None:
    result = evaluate("P-001", clear(), DAY)
    assert result.summary == "no listed contraindication"
    assert result.contraindications == ()
    assert result.unmet_criteria == ()
    assert result.clinician_flags == ()
    assert result.not_asked == ()
    assert result.date == DAY
    assert result.patient == "P-001"
    assert not result.contraindicated


@pytest.mark.parametrize(("key", "name"), CONTRAINDICATION_NAMES.items())
def test_each_contraindication_on_its_own_is_reported_by_name(key: str, name: str) -> None:
    answers = clear()
    answers[key] = True
    result = evaluate("P-001", answers, DAY)
    assert result.contraindications == (Finding(key, name),)
    assert result.summary == f"contraindicated: {name}"
    assert result.contraindicated


@pytest.mark.parametrize(("key", "name"), FLAG_NAMES.items())
def test_each_warning_is_a_flag_for_the_clinician_never_a_contraindication(
    key: str, name: str
) -> None:
    answers = clear()
    answers[key] = True
    result = evaluate("P-001", answers, DAY)
    assert result.clinician_flags == (Finding(key, name),)
    assert not result.contraindicated
    assert result.urgent == (key == "suicidal_thoughts_current")


def test_several_contraindications_are_listed_in_catalogue_order() -> None:
    answers = clear()
    answers.update(mania_current=True, pregnant_or_breastfeeding=True)
    result = evaluate("P-001", answers, DAY)
    assert result.summary == "contraindicated: pregnancy or breastfeeding; current mania"


@given(st.sets(st.sampled_from(tuple(CONTRAINDICATION_NAMES))))
def test_exactly_the_contraindications_answered_yes_are_listed(yes: set[str]) -> None:
    answers = clear()
    answers.update(dict.fromkeys(yes, True))
    result = evaluate("P-001", answers, DAY)
    expected = [name for key, name in CONTRAINDICATION_NAMES.items() if key in yes]
    assert [f.name for f in result.contraindications] == expected
    assert (result.summary == "no listed contraindication") == (not yes)


@pytest.mark.parametrize(("count", "met"), [(0, False), (1, False), (2, True), (7, True)])
def test_at_least_two_antidepressants_is_the_criterion(count: int, met: bool) -> None:
    answers = clear()
    answers["antidepressants_this_episode"] = count
    result = evaluate("P-001", answers, DAY)
    expected = (
        ()
        if met
        else (
            Finding(
                "antidepressants_this_episode", "2 adequate antidepressant trials this episode"
            ),
        )
    )
    assert result.unmet_criteria == expected


def test_unmet_criteria_are_listed_but_are_no_contraindication() -> None:
    answers = clear()
    answers.update(antidepressants_this_episode=1, therapy_helped=True)
    result = evaluate("P-001", answers, DAY)
    assert result.summary == "no listed contraindication"
    assert result.lines() == [
        "Screening of P-001 on 2026-11-27: no listed contraindication",
        "Criteria for treatment-resistant depression not met: 2 adequate antidepressant "
        "trials this episode",
        "Ask the clinician about: none",
        "ketaplan supports the clinician's decision and makes none.",
    ]


def test_an_earlier_versions_screening_keeps_its_answers_and_new_ones_are_not_asked() -> None:
    old = (("prior_antidepressants", 3), ("mania", False), ("schizophrenia", False))
    result = assess("P-001", old, DAY)
    assert [f.key for f in result.not_asked] == [
        q.key for q in QUESTIONS if q.key != "schizophrenia"
    ]
    rows = dict(result.rows())
    assert rows["Does the patient have schizophrenia?"] == "no"
    assert rows["Is the patient pregnant or breastfeeding?"] == "not asked"
    assert (
        rows[
            "(earlier version) How many different antidepressant medications has the patient tried?"
        ]
        == "3"
    )
    assert rows["(earlier version) Does the patient have mania?"] == "no"
    # Not asked is never read as "no" or as met.
    assert [f.key for f in result.unmet_criteria] == ["antidepressants_this_episode"]
    assert result.could_become_pregnant is None


def test_result_text_says_ketaplan_makes_no_decision() -> None:
    answers = clear()
    answers["schizophrenia"] = True
    assert evaluate("P-001", answers, DAY).lines()[-1] == NOTE
    assert NOTE == "ketaplan supports the clinician's decision and makes none."


def test_a_typo_in_a_question_name_is_refused_with_the_closest_key() -> None:
    answers = clear()
    answers["pregnant_or_breastfeding"] = answers.pop("pregnant_or_breastfeeding")
    assert refused(answers) == (
        "answers.toml: unknown question 'pregnant_or_breastfeding'; "
        "did you mean 'pregnant_or_breastfeeding'?"
    )


def test_an_unknown_question_far_from_any_key_lists_the_questions() -> None:
    answers = clear()
    answers["diabetes"] = False
    assert refused(answers) == (
        "answers.toml: unknown question 'diabetes'; questions are: " + ", ".join(ALL_KEYS)
    )


def test_a_missing_answer_is_refused_never_taken_as_no() -> None:
    answers = clear()
    del answers["mania_current"]
    del answers["under_18"]
    assert refused(answers) == (
        "answers.toml: no answer to mania_current, under_18; every question must be answered "
        "(none defaults to no)"
    )


def test_no_answers_at_all_names_every_question() -> None:
    message = refused({})
    assert all(q.key in message for q in QUESTIONS)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        (
            "maois",
            "no",
            "answers.toml: maois must be true or false (yes/no), got 'no'",
        ),
        ("maois", 0, "answers.toml: maois must be true or false (yes/no), got 0"),
        (
            "antidepressants_this_episode",
            True,
            "answers.toml: antidepressants_this_episode must be a whole number from 0 to 99, "
            "got True",
        ),
        (
            "antidepressants_this_episode",
            -1,
            "answers.toml: antidepressants_this_episode must be a whole number from 0 to 99, "
            "got -1",
        ),
        (
            "antidepressants_this_episode",
            2.5,
            "answers.toml: antidepressants_this_episode must be a whole number from 0 to 99, "
            "got 2.5",
        ),
        (
            "antidepressants_this_episode",
            "two",
            "answers.toml: antidepressants_this_episode must be a whole number from 0 to 99, "
            "got 'two'",
        ),
    ],
)
def test_an_answer_of_the_wrong_kind_is_refused_by_name(
    key: str, value: object, message: str
) -> None:
    answers = clear()
    answers[key] = value
    assert refused(answers) == message


def test_the_example_answers_file_answers_every_question() -> None:
    answers = read_toml(EXAMPLE, "answers file")
    assert set(answers) == {q.key for q in QUESTIONS}
    assert evaluate("P-001", answers, DAY).summary == "no listed contraindication"


def test_a_missing_answers_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"^answers file .*nope\.toml does not exist$"):
        read_toml(tmp_path / "nope.toml", "answers file")


def test_an_answers_file_that_is_not_toml_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "answers.toml"
    path.write_text("mania = no\n", encoding="utf-8")
    with pytest.raises(UsageError, match=r"answers\.toml is not valid TOML"):
        read_toml(path, "answers file")
