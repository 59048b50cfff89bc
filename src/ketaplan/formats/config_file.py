"""The clinic config file, `ketaplan.toml`: the clinic's name, zone, week, capacity and
defaults. Command-line flags win over it.

Every key is optional. A key this version does not know, or a value of the wrong kind,
is refused with its name, so a typo never silently falls back to a default.

The clinic stored in a book is the same settings as JSON of the config's own keys, every
key spelled out (`settings_json`, read back by `config_from_settings`), so a book keeps
its clinic whatever a later version's defaults are, and a config file and a book's
clinic are compared key by key (`differing_keys`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import time
from pathlib import Path
from types import MappingProxyType

from ketaplan.errors import UsageError
from ketaplan.formats.files import read_toml
from ketaplan.model.calendar import MON_TO_FRI, Closure
from ketaplan.model.clinic import (
    DEFAULT_ALARM_TEXT,
    DEFAULT_FEED_URL,
    DEFAULT_HOURS,
    DEFAULT_PATIENT_CODE,
    PAPERS,
    REMS_PROGRAMS,
    ClinicConfig,
    default_alarm_text,
)
from ketaplan.parsing import (
    WEEKDAYS,
    is_windows_path,
    parse_blood_pressure,
    parse_closure,
    parse_holidays,
    parse_interval,
    parse_time,
    parse_weekdays,
    parse_zone,
)

CONFIG_NAME = "ketaplan.toml"
CONFIG_ENV = "KETAPLAN_CONFIG"


@dataclass(frozen=True)
class ConfigKey:
    """One key of `ketaplan.toml`. The loader takes its keys and limits from `CONFIG_KEYS`
    and docs/config.md's table is generated from it, so the two cannot drift apart.

    Attributes:
        section: the TOML table: `clinic`, `calendar`, `book`, `safety`, `patient`, `rems`.
        key: the key's name in that table.
        kind: what the value is, as a coordinator writes it.
        default: the value when the key is left out, as TOML; empty when it is then unset.
        meaning: what it sets; for an unset default, what happens then.
        limits: the smallest and largest allowed whole number, for numbers.
    """

    section: str
    key: str
    kind: str
    default: str
    meaning: str
    limits: tuple[int, int] | None = None


CONFIG_KEYS: tuple[ConfigKey, ...] = (
    ConfigKey(
        "clinic", "name", "string", '"Ketamine clinic"', "the clinic's name, in calendar names"
    ),
    ConfigKey(
        "clinic",
        "location",
        "string",
        '""',
        "the address, each calendar event's LOCATION (empty: the name)",
    ),
    ConfigKey(
        "clinic", "timezone", "IANA zone name", "", "the clinic's zone; unset: the system's zone"
    ),
    ConfigKey(
        "clinic",
        "days",
        'weekday list or "mon-fri"',
        '["mon", "tue", "wed", "thu", "fri"]',
        "the weekdays the clinic is open",
    ),
    ConfigKey("clinic", "time", '"HH:MM"', '"09:00"', "the default session time"),
    ConfigKey(
        "clinic", "closed", "list of DATE or DATE..DATE", "[]", "closed days and inclusive ranges"
    ),
    ConfigKey(
        "clinic",
        "holidays",
        '"CC" or "CC-SUB"',
        "",
        "public holidays that close the clinic (e.g. DE-BE); unset: none",
    ),
    ConfigKey(
        "clinic", "protocol", "name or FILE.toml", '"iv"', "the protocol when a command names none"
    ),
    ConfigKey(
        "clinic",
        "hours",
        '"HH:MM-HH:MM" or table',
        '"08:00-18:00"',
        'opening hours, every open day or by weekday: { mon = "08:00-16:00" } (a weekday '
        "left out of the table is closed)",
    ),
    ConfigKey("clinic", "chairs", "whole number", "4", "treatment chairs", (1, 500)),
    ConfigKey("clinic", "slot_minutes", "whole number", "15", "length of one start slot", (5, 120)),
    ConfigKey(
        "clinic",
        "starts_per_slot",
        "whole number",
        "2",
        "the most sessions that may start in one slot (nurse load)",
        (1, 500),
    ),
    ConfigKey(
        "clinic", "require_screening", "true or false", "true", "booking needs a recorded screening"
    ),
    ConfigKey(
        "clinic",
        "screening_valid_days",
        "whole number",
        "90",
        "a screening older than this on the course's start counts as none",
        (1, 3650),
    ),
    ConfigKey(
        "clinic", "phone", "string", '""', "the clinic's phone number, on the patient's handout"
    ),
    ConfigKey(
        "clinic",
        "contact",
        "string",
        '""',
        "whom a patient calls with a question, on the handout; empty: the phone",
    ),
    ConfigKey(
        "clinic",
        "language",
        '"en", "de" or FILE.toml',
        '"en"',
        "the handout's language, or a clinic's own catalogue (relative to this file)",
    ),
    ConfigKey(
        "clinic",
        "paper",
        '"a4" or "letter"',
        "",
        "the handout's paper; unset: letter in the US, Canada, Mexico..., else a4",
    ),
    ConfigKey(
        "clinic",
        "patient_code",
        "regular expression",
        f"'{DEFAULT_PATIENT_CODE}'",
        "what every patient code matches, after upper-casing (docs/reliability.md)",
    ),
    ConfigKey(
        "clinic",
        "date_order",
        '"DMY" or "MDY"',
        "",
        "how a roster's dates read (07.12.2026, 12/7/2026); unset: YYYY-MM-DD only",
    ),
    ConfigKey(
        "calendar",
        "alarm",
        '"1d", "2h", "30m" or "off"',
        '"1d"',
        "the reminder before each clinic session",
    ),
    ConfigKey(
        "calendar",
        "alarm_text",
        "string",
        f'"{DEFAULT_ALARM_TEXT}"',
        "what the reminder says; the default names when it rings (2h: in 2 hours)",
    ),
    ConfigKey(
        "calendar",
        "private",
        "true or false",
        "false",
        "staff events are CLASS:PRIVATE: a shared staff calendar shows busy only",
    ),
    ConfigKey(
        "feeds",
        "patient",
        "true or false",
        "false",
        "offer patient calendar feeds (health data in the patient's calendar provider)",
    ),
    ConfigKey(
        "feeds",
        "url",
        "http(s) address",
        f'"{DEFAULT_FEED_URL}"',
        "the feed server's public address, for the URLs `ketaplan feed create` prints",
    ),
    ConfigKey(
        "book",
        "path",
        "file path",
        "",
        "the clinic book, relative to this file; unset: the user data folder",
    ),
    ConfigKey(
        "safety",
        "bp_threshold",
        '"SYS/DIA"',
        '"140/90"',
        "blood pressure before dosing, in staff checklists: above it the clinician decides",
    ),
    ConfigKey(
        "safety",
        "vitals_every_minutes",
        "whole number",
        "15",
        "IV and IM: vitals during the infusion this often (clinics use 10 to 15)",
        (1, 60),
    ),
    ConfigKey(
        "patient",
        "fasting_solids_hours",
        "whole number",
        "6",
        "IV and IM: no solid food this many hours before the visit",
        (0, 24),
    ),
    ConfigKey(
        "patient",
        "fasting_liquids_hours",
        "whole number",
        "2",
        "IV and IM: clear liquids until this many hours before (at most the solids rule)",
        (0, 24),
    ),
    ConfigKey(
        "patient",
        "crisis_line",
        "string",
        '""',
        "the clinic's crisis line in patient calendars; empty: the local emergency number",
    ),
    ConfigKey(
        "rems",
        "program",
        '"us-spravato" or "none"',
        "",
        "the esketamine REMS; unset: on for a US time zone, off elsewhere; "
        'inpatient settings set "none"',
    ),
    ConfigKey(
        "book",
        "group",
        "OS group name",
        "",
        "share the book with this group (0660); unset: its owner's alone (0600)",
    ),
    ConfigKey(
        "book",
        "url",
        '"postgresql://USER@HOST/DB"',
        "",
        "a clinic network's book on PostgreSQL, instead of path (no password in it)",
    ),
    ConfigKey(
        "book",
        "clinic",
        "string",
        "",
        "the clinic of the book to work on; unset: the book's only clinic",
    ),
)
_SECTIONS = {
    section: {k.key for k in CONFIG_KEYS if k.section == section}
    for section in dict.fromkeys(k.section for k in CONFIG_KEYS)
}
_LIMITS = {f"{k.section}.{k.key}": k.limits for k in CONFIG_KEYS if k.limits}


@dataclass(frozen=True)
class ConfigChoice:
    """The config file a command uses, and why that one.

    Attributes:
        path: the file; None when none was found (built-in defaults).
        why: how it was found, for `ketaplan info` and messages.
    """

    path: Path | None
    why: str

    @property
    def label(self) -> str:
        """How messages name it: the file, or the built-in defaults."""
        return str(self.path) if self.path is not None else "the built-in defaults"


def find_config(
    explicit: Path | None,
    cwd: Path,
    *,
    env: str | None = None,
    user_dir: Callable[[], Path] | None = None,
) -> ConfigChoice:
    """The config in use: `--config` (it must exist), else $KETAPLAN_CONFIG (it must
    exist), else `ketaplan.toml` in `cwd` or its nearest parent that has one, else the
    one in the user config folder `user_dir`, else none."""
    if explicit is not None:
        if not explicit.is_file():
            raise UsageError(f"config file {explicit} does not exist")
        return ConfigChoice(explicit, "given with --config")
    if env:
        path = Path(env).expanduser()
        if not path.is_file():
            raise UsageError(f"config file {path} (from ${CONFIG_ENV}) does not exist")
        return ConfigChoice(path, f"from ${CONFIG_ENV}")
    for folder in (cwd, *cwd.resolve().parents):
        candidate = folder / CONFIG_NAME
        if candidate.is_file():
            where = "the current folder" if folder == cwd else f"the parent folder {folder}"
            return ConfigChoice(candidate, f"found in {where}")
    if user_dir is not None and (user_dir() / CONFIG_NAME).is_file():
        return ConfigChoice(user_dir() / CONFIG_NAME, "found in the user config folder")
    return ConfigChoice(None, "no ketaplan.toml found")


def load_config(path: Path | None) -> ClinicConfig:
    if path is None:
        return ClinicConfig()
    data = read_toml(path, "config file")
    try:
        return _from_dict(data, path)
    except UsageError as exc:
        raise UsageError(f"{path}: {exc}") from None


def _from_dict(data: Mapping[str, object], path: Path | None) -> ClinicConfig:
    for section, value in data.items():
        if section not in _SECTIONS:
            raise UsageError(f"unknown section [{section}]; known: {', '.join(_SECTIONS)}")
        if not isinstance(value, dict):
            raise UsageError(f"[{section}] must be a table")
        unknown = sorted(set(value) - _SECTIONS[section])
        if unknown:
            raise UsageError(
                f"unknown key {section}.{unknown[0]}; known: "
                f"{', '.join(sorted(_SECTIONS[section]))}"
            )
    clinic = _table(data, "clinic")
    calendar = _table(data, "calendar")
    book = _table(data, "book")
    feeds = _table(data, "feeds")
    safety = _table(data, "safety")
    patient = _table(data, "patient")
    program = _table(data, "rems").get("program")
    if program is not None and program not in REMS_PROGRAMS:
        raise UsageError(f"rems.program must be one of {', '.join(REMS_PROGRAMS)}, got {program!r}")
    base = ClinicConfig()
    solids = _int(
        patient.get("fasting_solids_hours", base.fasting_solids_hours),
        "patient.fasting_solids_hours",
    )
    liquids = _int(
        patient.get("fasting_liquids_hours", base.fasting_liquids_hours),
        "patient.fasting_liquids_hours",
    )
    if liquids > solids:
        raise UsageError(
            f"patient.fasting_liquids_hours ({liquids}) is more than "
            f"patient.fasting_solids_hours ({solids})"
        )
    days = clinic.get("days")
    hours = _hours(clinic.get("hours"))
    open_weekdays = MON_TO_FRI
    if days is not None:
        if isinstance(days, list) and all(isinstance(d, str) for d in days):
            days = ",".join(days)
        open_weekdays = parse_weekdays(_str(days, "clinic.days"))
        missing = [WEEKDAYS[d] for d in sorted(open_weekdays - set(hours))]
        if missing:
            raise UsageError(
                f"clinic.days includes {','.join(missing)} but clinic.hours gives no hours "
                "for it: add its hours or drop it from the days"
            )
    elif isinstance(clinic.get("hours"), dict):
        # Hours for some weekdays only: those are the open days, the others closed.
        open_weekdays = frozenset(hours)
    closed = clinic.get("closed", [])
    if not isinstance(closed, list):
        raise UsageError("clinic.closed must be a list of dates or DATE..DATE ranges")
    closures = tuple(Closure(*parse_closure(_str(c, "clinic.closed"))) for c in closed)
    holidays = clinic.get("holidays")
    zone = clinic.get("timezone")
    if zone is not None:
        parse_zone(_str(zone, "clinic.timezone"))
    alarm = _alarm(calendar.get("alarm", "1d"))
    return ClinicConfig(
        name=_str(clinic.get("name", base.name), "clinic.name"),
        location=_str(clinic.get("location", base.location), "clinic.location"),
        zone=_str(zone, "clinic.timezone") if zone is not None else None,
        open_weekdays=open_weekdays,
        session_time=parse_time(
            _str(clinic.get("time", "09:00"), "clinic.time"), what="clinic.time"
        ),
        closures=closures,
        holidays=parse_holidays(_str(holidays, "clinic.holidays")) if holidays else None,
        protocol=_str(clinic.get("protocol", base.protocol), "clinic.protocol"),
        hours=hours,
        chairs=_int(clinic.get("chairs", base.chairs), "clinic.chairs"),
        slot_minutes=_int(clinic.get("slot_minutes", base.slot_minutes), "clinic.slot_minutes"),
        starts_per_slot=_int(
            clinic.get("starts_per_slot", base.starts_per_slot), "clinic.starts_per_slot"
        ),
        require_screening=_bool(clinic.get("require_screening", True), "clinic.require_screening"),
        date_order=_date_order(clinic.get("date_order")),
        alarm_minutes=alarm,
        alarm_text=_str(
            calendar.get("alarm_text", default_alarm_text(alarm)), "calendar.alarm_text"
        ),
        private_staff_events=_bool(calendar.get("private", False), "calendar.private"),
        patient_feeds=_bool(feeds.get("patient", False), "feeds.patient"),
        feed_url=_url(feeds.get("url", base.feed_url)),
        book=_path(book.get("path"), path),
        screening_valid_days=_int(
            clinic.get("screening_valid_days", base.screening_valid_days),
            "clinic.screening_valid_days",
        ),
        bp_threshold=parse_blood_pressure(
            _str(safety.get("bp_threshold", "140/90"), "safety.bp_threshold"),
            what="safety.bp_threshold",
        ),
        vitals_every_minutes=_int(
            safety.get("vitals_every_minutes", base.vitals_every_minutes),
            "safety.vitals_every_minutes",
        ),
        fasting_solids_hours=solids,
        fasting_liquids_hours=liquids,
        crisis_line=_str(patient.get("crisis_line", ""), "patient.crisis_line").strip(),
        rems_program=program if isinstance(program, str) else None,
        phone=_line(clinic.get("phone", ""), "clinic.phone"),
        contact=_line(clinic.get("contact", ""), "clinic.contact"),
        language=_language(clinic.get("language", base.language), path),
        paper=_paper(clinic.get("paper")),
        book_group=_group(book.get("group")),
        book_url=_book_url(book),
        book_clinic=_str(book["clinic"], "book.clinic").strip() or None
        if "clinic" in book
        else None,
        patient_code=_pattern(clinic.get("patient_code", base.patient_code)),
        source=path,
    )


def _table(data: Mapping[str, object], name: str) -> Mapping[str, object]:
    value = data.get(name)
    return value if isinstance(value, dict) else {}


def _str(value: object, key: str) -> str:
    if not isinstance(value, str):
        raise UsageError(f"{key} must be a string, got {value!r}")
    return value


def _line(value: object, key: str) -> str:
    """One line of text for a printed page: no newline or control character."""
    text = _str(value, key)
    if any(not ch.isprintable() for ch in text):
        raise UsageError(f"{key} must be one line of text")
    return text.strip()


def _language(value: object, config_path: Path | None) -> str:
    """A catalogue name (`en`), or a clinic's own FILE.toml, relative to the config (a
    book's stored clinic holds it as the config gave it, resolved)."""
    text = _str(value, "clinic.language").strip()
    if text.endswith(".toml"):
        file = Path(text).expanduser()
        if file.is_absolute() or config_path is None:
            return str(file)
        return str(config_path.parent / file)
    if not text.isascii() or not text.replace("-", "").isalpha() or not 2 <= len(text) <= 8:
        raise UsageError(f"clinic.language must be a language code like en or de, got {text!r}")
    return text.lower()


def _paper(value: object) -> str | None:
    if value is None:
        return None
    text = _str(value, "clinic.paper").strip().lower()
    if text not in PAPERS:
        raise UsageError(f"clinic.paper must be a4 or letter, got {value!r}")
    return text


def _int(value: object, key: str) -> int:
    low, high = _LIMITS[key]
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise UsageError(f"{key} must be a whole number from {low} to {high}, got {value!r}")
    return value


def _date_order(value: object) -> str | None:
    if value is None:
        return None
    text = _str(value, "clinic.date_order").strip().upper()
    if text not in ("DMY", "MDY"):
        raise UsageError(f'clinic.date_order must be "DMY" or "MDY", got {value!r}')
    return text


def _bool(value: object, key: str) -> bool:
    if not isinstance(value, bool):
        raise UsageError(f"{key} must be true or false, got {value!r}")
    return value


def _alarm(value: object) -> int | None:
    """`1d`, `2h`, `30m` before the session, or false / "off" for none."""
    if value is False or value == "off":
        return None
    text = _str(value, "calendar.alarm").strip().lower()
    if text.endswith(("h", "m")) and text[:-1].isdigit() and int(text[:-1]) > 0:
        return int(text[:-1]) * (60 if text.endswith("h") else 1)
    return parse_interval(text, what="calendar.alarm") * 24 * 60


def _url(value: object) -> str:
    """The feeds' public address: http(s)://host[:port][/prefix], without a trailing /."""
    text = _str(value, "feeds.url").strip().rstrip("/")
    scheme, sep, rest = text.partition("://")
    if scheme not in ("http", "https") or not sep or not rest or any(c in rest for c in "?# "):
        raise UsageError(f"feeds.url must be an http:// or https:// address, got {value!r}")
    return text


def _path(value: object, config_path: Path | None) -> Path | None:
    if value is None or config_path is None:
        return None
    text = _str(value, "book.path")
    if os.name != "nt" and is_windows_path(text):
        raise UsageError(
            f"book.path {text} is a Windows path, which this system would take as a file "
            "name; give the path where the share or drive is mounted here"
        )
    path = Path(text).expanduser()
    return path if path.is_absolute() else config_path.parent / path


def _group(value: object) -> str | None:
    if value is None:
        return None
    name = _str(value, "book.group")
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.-]{0,31}", name):
        raise UsageError(f"book.group must be the name of an OS group, got {name!r}")
    return name


def _pattern(value: object) -> str:
    """A regular expression for patient codes, matched after they are upper-cased."""
    text = _str(value, "clinic.patient_code")
    try:
        re.compile(text)
    except re.error as exc:
        raise UsageError(f"clinic.patient_code is not a regular expression: {exc}") from None
    return text


def _book_url(book: Mapping[str, object]) -> str | None:
    value = book.get("url")
    if value is None:
        return None
    url = _str(value, "book.url")
    if "path" in book:
        raise UsageError("give book.path or book.url, not both")
    if not url.startswith(("postgresql://", "postgres://")):
        raise UsageError(f"book.url must be a postgresql:// URL, got {url.split('@')[-1]!r}")
    return url


def _hours(value: object) -> Mapping[int, tuple[time, time]]:
    """`hours = "08:00-18:00"` for every open day, or a table by weekday (the days it
    leaves out are closed)."""
    if value is None:
        return MappingProxyType(dict.fromkeys(range(7), DEFAULT_HOURS))
    hours: dict[int, tuple[time, time]] = {}
    if isinstance(value, str):
        span = _span(value, "clinic.hours")
        return MappingProxyType(dict.fromkeys(range(7), span))
    if not isinstance(value, dict) or not value:
        raise UsageError('clinic.hours must be "HH:MM-HH:MM" or a table by weekday')
    for key, span_text in value.items():
        if key not in WEEKDAYS:
            raise UsageError(f"clinic.hours.{key}: not one of {','.join(WEEKDAYS)}")
        day = WEEKDAYS.index(key)
        hours[day] = _span(_str(span_text, f"clinic.hours.{key}"), f"clinic.hours.{key}")
    return MappingProxyType(hours)


def _span(text: str, key: str) -> tuple[time, time]:
    first, dash, last = text.partition("-")
    if not dash:
        raise UsageError(f'{key} must be "HH:MM-HH:MM", got {text!r}')
    opens, closes = parse_time(first, what=key), parse_time(last, what=key)
    if closes <= opens:
        raise UsageError(f"{key}: closing time {closes:%H:%M} is not after opening {opens:%H:%M}")
    return opens, closes


def clinic_settings(config: ClinicConfig) -> dict[str, dict[str, object]]:
    """The config's settings as the config file's own sections and keys, every key
    spelled out (defaults included); the [book] keys are left out: they are about the
    book (its file or URL, its group, which of its clinics), not the clinic."""
    open_days = sorted(config.open_weekdays)
    clinic: dict[str, object] = {"name": config.name, "location": config.location}
    if config.zone is not None:
        clinic["timezone"] = config.zone
    clinic["days"] = [WEEKDAYS[d] for d in open_days]
    clinic["time"] = f"{config.session_time:%H:%M}"
    clinic["closed"] = [_closure_text(c) for c in config.closures]
    if config.holidays is not None:
        country, subdivision = config.holidays
        clinic["holidays"] = country if subdivision is None else f"{country}-{subdivision}"
    clinic.update(
        protocol=config.protocol,
        hours=_hours_value(config, open_days),
        chairs=config.chairs,
        slot_minutes=config.slot_minutes,
        starts_per_slot=config.starts_per_slot,
        require_screening=config.require_screening,
        screening_valid_days=config.screening_valid_days,
        patient_code=config.patient_code,
        phone=config.phone,
        contact=config.contact,
        language=config.language,
    )
    if config.paper is not None:
        clinic["paper"] = config.paper
    if config.date_order is not None:
        clinic["date_order"] = config.date_order
    calendar: dict[str, object] = {
        "alarm": _alarm_text(config.alarm_minutes),
        "alarm_text": config.alarm_text,
        "private": config.private_staff_events,
    }
    feeds: dict[str, object] = {"patient": config.patient_feeds, "url": config.feed_url}
    systolic, diastolic = config.bp_threshold
    safety: dict[str, object] = {
        "bp_threshold": f"{systolic}/{diastolic}",
        "vitals_every_minutes": config.vitals_every_minutes,
    }
    patient: dict[str, object] = {
        "fasting_solids_hours": config.fasting_solids_hours,
        "fasting_liquids_hours": config.fasting_liquids_hours,
        "crisis_line": config.crisis_line,
    }
    # Unset: the REMS follows the clinic's zone, which the book stores.
    rems: dict[str, object] = (
        {} if config.rems_program is None else {"program": config.rems_program}
    )
    settings = {
        "clinic": clinic,
        "calendar": calendar,
        "safety": safety,
        "patient": patient,
        "rems": rems,
        "feeds": feeds,
    }
    return {section: values for section, values in settings.items() if values}


def settings_json(config: ClinicConfig) -> str:
    """The settings a book stores: `clinic_settings` as JSON, keys in a stable order."""
    import json  # not on `plan`'s path, which never stores a clinic

    return json.dumps(clinic_settings(config), ensure_ascii=False, sort_keys=True)


def config_from_settings(text: str, where: str) -> ClinicConfig:
    """The clinic a book stores (see `settings_json`); `where` names the book in errors."""
    import json  # not on `plan`'s path, which never reads a book

    try:
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("not an object")
        return _from_dict(data, None)
    except (ValueError, UsageError) as exc:
        raise UsageError(f"the clinic stored in {where} cannot be read: {exc}") from None


def differing_keys(first: ClinicConfig, second: ClinicConfig) -> list[str]:
    """The config keys (`clinic.chairs`) whose values differ between two clinics."""
    a, b = clinic_settings(first), clinic_settings(second)
    keys: list[str] = []
    for section in dict.fromkeys([*a, *b]):
        one, two = a.get(section, {}), b.get(section, {})
        names = list(dict.fromkeys([*one, *two]))
        keys += [f"{section}.{k}" for k in names if one.get(k) != two.get(k)]
    return keys


def _hours_value(config: ClinicConfig, open_days: list[int]) -> str | dict[str, str]:
    """One span when every open day has the same hours, else a table by weekday."""
    spans = {WEEKDAYS[d]: _span_text(config.hours[d]) for d in open_days}
    if len(set(spans.values())) == 1:
        return next(iter(spans.values()))
    return spans


def _closure_text(closure: Closure) -> str:
    if closure.first == closure.last:
        return closure.first.isoformat()
    return f"{closure.first.isoformat()}..{closure.last.isoformat()}"


def _span_text(span: tuple[time, time]) -> str:
    return f"{span[0]:%H:%M}-{span[1]:%H:%M}"


def _alarm_text(minutes: int | None) -> str | bool:
    if minutes is None:
        return False
    if minutes % (24 * 60) == 0:
        return f"{minutes // (24 * 60)}d"
    if minutes % 60 == 0:
        return f"{minutes // 60}h"
    return f"{minutes}m"


def settings_toml(config: ClinicConfig) -> str:
    """The clinic's settings as a config file (`clinic_settings`, every key spelled
    out): what `ketaplan clinic show` prints, ready to edit and `clinic apply`."""
    lines: list[str] = []
    for section, values in clinic_settings(config).items():
        if lines:
            lines.append("")
        lines.append(f"[{section}]")
        lines += [f"{key} = {_toml_value(value)}" for key, value in values.items()]
    return "\n".join(lines) + "\n"


def _toml_value(value: object) -> str:
    import json  # for `clinic show` only

    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        # A JSON string is a valid TOML basic string.
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"no TOML form for {value!r}")
