"""Patient codes: one spelling for one patient.

`p-001` and `P-001`, a composed and a decomposed `ü`, a Greek Rho and a Latin `P` would
otherwise be different patients, and a contraindication recorded for one would not stop
a booking of its look-alike. Every command and the roster read a code through
`normalise_code`: Unicode NFC, then upper case; refused when it holds a space or a
control character, starts like a spreadsheet formula (= + - @), mixes scripts, or does
not match the clinic's pattern (`[clinic] patient_code`, matched after upper-casing).
"""

from __future__ import annotations

import re
from functools import lru_cache

from ketaplan.errors import UsageError
from ketaplan.model.clinic import DEFAULT_PATIENT_CODE

MAX_LENGTH = 40
# A cell starting with one of these is run as a formula by spreadsheet programs.
FORMULA_PREFIXES = ("=", "+", "-", "@")
# Japanese writes one word in kana and kanji alike: one script for this purpose.
_SAME_SCRIPT = {"HIRAGANA": "CJK", "KATAKANA": "CJK", "HALFWIDTH": "CJK"}


def normalise_code(text: str, pattern: str = DEFAULT_PATIENT_CODE) -> str:
    """The one spelling of a patient code, or UsageError saying why it is refused."""
    if not text:
        raise UsageError("patient code is empty; use the clinic's patient code, e.g. P-001")
    if text.startswith(FORMULA_PREFIXES):
        raise UsageError(
            f"patient code {text!r} starts with {text[0]!r}, which spreadsheets run as a "
            "formula; use the clinic's patient code, e.g. P-001"
        )
    if any(ch.isspace() or not ch.isprintable() for ch in text):
        raise UsageError(
            f"patient code {text!r} has a space or control character; "
            "use the clinic's patient code (e.g. P-001), never a name"
        )
    code = spelling(text)
    if len(code) > MAX_LENGTH:
        raise UsageError(f"patient code must be 1 to {MAX_LENGTH} characters")
    found = set() if code.isascii() else scripts(code)
    if len(found) > 1:
        raise UsageError(
            f"patient code {text!r} mixes scripts ({', '.join(sorted(found)).title()}): "
            "letters that look alike would make two patients of one"
        )
    if not _compiled(pattern).fullmatch(code):
        raise UsageError(
            f"patient code {text!r} is not a code of this clinic (pattern {pattern}, after "
            "upper-casing), e.g. P-001"
        )
    return code


def spelling(text: str) -> str:
    """The one spelling of a code, unchecked: Unicode NFC, then upper case (the book's
    migration 4 gives codes stored before this their spelling)."""
    if text.isascii():
        return text.upper()  # ASCII is its own NFC
    import unicodedata  # only a code beyond ASCII needs the Unicode tables

    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", text).upper())


def scripts(code: str) -> set[str]:
    """The writing systems of the code's letters and digits (ASCII digits belong to all)."""
    import unicodedata  # the Unicode tables, for codes beyond ASCII only

    found: set[str] = set()
    for ch in code:
        category = unicodedata.category(ch)
        if category[0] not in "LN" or "0" <= ch <= "9":
            continue
        name = unicodedata.name(ch, "UNKNOWN")
        word = re.split(r"[ -]", name, maxsplit=1)[0]
        if word in ("DIGIT", "MODIFIER", "SUPERSCRIPT", "SUBSCRIPT"):
            continue
        found.add(_SAME_SCRIPT.get(word, word))
    return found


@lru_cache(maxsize=8)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)
