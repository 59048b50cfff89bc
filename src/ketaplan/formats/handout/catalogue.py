"""The handout's texts, one TOML catalogue per language (`en.toml`, `de.toml` beside this
module, or a clinic's own file), checked against the English one so that a missing or
misspelt key is refused by name instead of printing a blank on a patient's page."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from ketaplan.errors import UsageError
from ketaplan.model.protocol import Route
from ketaplan.safety.guidance import GUIDANCE, Guidance, PatientSettings, guidance

# Lists of names and how many each must have.
_LISTS = {
    "weekdays": 7,
    "weekdays_short": 7,
    "weekdays_grid": 7,
    "months": 12,
    "months_short": 12,
}
_TABLES = ("routes", "phases", "status")
# The {placeholders} each text may use, with a sample value of the kind it gets, so that
# a clinic's catalogue with a misspelt one is refused when it is read, not mid-print.
_DATE = {
    "weekday": "Monday",
    "weekday_short": "Mon",
    "day": 7,
    "month": "December",
    "month_short": "Dec",
    "year": 2026,
}
_PLACEHOLDERS: dict[str, dict[str, object]] = {
    "document_title": {"patient": "P-001"},
    "updated": {"date": "Monday 7 December 2026"},
    "date_long": _DATE,
    "date_list": _DATE,
    "month_caption": {"month": "December", "year": 2026},
    "time": {"hour": 9, "minute": 0},
    "course": {"title": "IV ketamine", "clinic": 6, "home": 3},
    "course_clinic_only": {"title": "IV ketamine", "clinic": 6},
    "contact_phone": {"phone": "+49 30 1234"},
    "contact_named": {"contact": "the nurses"},
    "crisis_line": {"crisis_line": "0800 111 0 111"},
}
_GUIDANCE_VALUES: dict[str, object] = {"solids": 6, "liquids": 2, "crisis": "112"}


@dataclass(frozen=True)
class Catalogue:
    """One language's texts.

    Attributes:
        language: the language code the page declares (`<html lang>`).
        texts: every plain text by key; `{placeholders}` are filled by the renderer.
        lists: the names of weekdays and months, Monday and January first.
        tables: route titles, phase names and session statuses by ketaplan's own name.
        guidance: preparation and aftercare by route, as in the calendar files; None
            for English, which takes the calendar files' own text. A translation may use
            {solids}, {liquids} (the clinic's fasting hours) and {crisis} (the crisis
            line, else `crisis_fallback`).
    """

    language: str
    texts: Mapping[str, str]
    lists: Mapping[str, tuple[str, ...]]
    tables: Mapping[str, Mapping[str, str]]
    guidance: Mapping[str, Guidance] | None

    def __getitem__(self, key: str) -> str:
        return self.texts[key]

    def guidance_for(self, route: Route, settings: PatientSettings) -> Guidance:
        """The route's preparation and aftercare with the clinic's own rules."""
        if self.guidance is None:
            return guidance(route, settings)
        values = {
            "solids": settings.fasting_solids_hours,
            "liquids": settings.fasting_liquids_hours,
            "crisis": settings.crisis_line or self.texts["crisis_fallback"],
        }
        template = self.guidance[route]
        return Guidance(
            preparation=tuple(line.format(**values) for line in template.preparation),
            aftercare=tuple(line.format(**values) for line in template.aftercare),
            reminder=tuple(line.format(**values) for line in template.reminder),
        )

    def name(self, table: str, key: str) -> str:
        """A route, phase or status in this language; a name the catalogue does not know
        (a clinic protocol's own phase) is shown as it is."""
        return self.tables[table].get(key, key)


def available() -> list[str]:
    """The catalogues shipped with ketaplan."""
    folder = resources.files(__package__)
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml"))


def load_catalogue(language: str) -> Catalogue:
    """The catalogue of a shipped language code, or of a clinic's own FILE.toml."""
    if language.endswith(".toml"):
        path = Path(language)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"cannot read the handout texts {path}: {_why(exc)}") from None
        where = str(path)
    else:
        if language not in available():
            raise UsageError(
                f"clinic.language {language!r}: ketaplan has handout texts for "
                f"{', '.join(available())}; a clinic adds a language as a FILE.toml"
            )
        text = _shipped(language)
        where = f"{language}.toml"
    reference = tomllib.loads(_shipped("en"))
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{where}: not valid TOML: {exc}") from None
    try:
        return _catalogue(data, reference)
    except UsageError as exc:
        raise UsageError(f"{where}: {exc}") from None


def _shipped(language: str) -> str:
    return (resources.files(__package__) / f"{language}.toml").read_text(encoding="utf-8")


def _why(exc: Exception) -> str:
    return getattr(exc, "strerror", None) or str(exc)


def _catalogue(data: Mapping[str, Any], reference: Mapping[str, Any]) -> Catalogue:
    missing = sorted(set(reference) - set(data))
    if missing:
        raise UsageError(f"missing key {missing[0]} (every key of en.toml is needed)")
    unknown = sorted(set(data) - set(reference) - {"guidance"})
    if unknown:
        raise UsageError(f"unknown key {unknown[0]}")
    texts: dict[str, str] = {}
    lists: dict[str, tuple[str, ...]] = {}
    tables: dict[str, dict[str, str]] = {}
    for key, value in data.items():
        if key in _LISTS:
            if (
                not isinstance(value, list)
                or len(value) != _LISTS[key]
                or not all(isinstance(v, str) for v in value)
            ):
                raise UsageError(f"{key} must be a list of {_LISTS[key]} names")
            lists[key] = tuple(value)
        elif key in _TABLES:
            if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
                raise UsageError(f"[{key}] must be a table of texts")
            tables[key] = dict(value)
        elif key != "guidance":
            if not isinstance(value, str):
                raise UsageError(f"{key} must be a text")
            texts[key] = _checked(key, value)
    return Catalogue(
        language=texts["language"],
        texts=texts,
        lists=lists,
        tables=tables,
        guidance=_guidance(data.get("guidance"), english=data["language"] == "en"),
    )


def _checked(key: str, text: str, sample: Mapping[str, object] | None = None) -> str:
    sample = _PLACEHOLDERS.get(key, {}) if sample is None else sample
    try:
        text.format(**sample)
    except (KeyError, IndexError, ValueError):
        allowed = ", ".join("{" + name + "}" for name in sample) or "none (write { as {{)"
        raise UsageError(
            f"{key} = {text!r}: a placeholder this text does not have; it may use {allowed}"
        ) from None
    return text


def _guidance(value: object, *, english: bool) -> dict[str, Guidance] | None:
    """English uses the calendar files' own texts; another language translates them,
    line for line."""
    if value is None and english:
        return None
    if not isinstance(value, dict):
        raise UsageError("[guidance] is needed: each route's preparation and aftercare")
    guidance: dict[str, Guidance] = {}
    for route, original in GUIDANCE.items():
        table = value.get(route)
        if not isinstance(table, dict):
            raise UsageError(f"[guidance.{route}] is missing")
        parts: dict[str, tuple[str, ...]] = {}
        for part in ("preparation", "aftercare", "reminder"):
            lines = table.get(part, [])
            if not isinstance(lines, list) or not all(isinstance(s, str) for s in lines):
                raise UsageError(f"guidance.{route}.{part} must be a list of texts")
            if len(lines) != len(getattr(original, part)):
                raise UsageError(
                    f"guidance.{route}.{part} has {len(lines)} lines; the English text has "
                    f"{len(getattr(original, part))}"
                )
            key = f"guidance.{route}.{part}"
            parts[part] = tuple(_checked(key, line, _GUIDANCE_VALUES) for line in lines)
        guidance[route] = Guidance(**parts)
    return guidance
