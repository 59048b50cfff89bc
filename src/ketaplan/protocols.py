"""Treatment protocols: the rules a course is planned from.

A protocol is an ordered tuple of phases. Every built-in number comes from
`shared/PROTOCOLS.md`; each field's source is recorded beside it so that
`ketaplan protocols show NAME` can print it.

A phase is one of three kinds, decided by its fields:

- rhythm (``per_week`` unset, ``every_days`` empty): a fixed number of sessions, each on
  the earliest open day at least ``min_gap_days`` after the previous one (IV induction);
- weekly blocks (``per_week`` set): ``per_week`` sessions in each 7-day block counted from
  the course's first session (esketamine weeks 1-8);
- interval (``every_days`` set): gaps from the course's interval list, the last one
  repeating, each gap within [``min_gap_days``, ``max_gap_days``] (maintenance).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Literal

from ketaplan.errors import UsageError

Location = Literal["clinic", "home"]
Route = Literal["iv", "im", "esketamine", "lozenge"]
ROUTES: tuple[Route, ...] = ("iv", "im", "esketamine", "lozenge")
LOCATIONS: tuple[Location, ...] = ("clinic", "home")

SOURCE_DOC = "shared/PROTOCOLS.md"

# Sanity bounds for a clinic's own protocol file; a value outside them is a typo.
MAX_SESSIONS = 100
MAX_GAP_DAYS = 365
MAX_CHAIR_MINUTES = 12 * 60
MAX_MAINTENANCE_SESSIONS = 200


class ProtocolError(UsageError):
    """A protocol definition breaks a field's allowed range."""


@dataclass(frozen=True)
class Phase:
    """One phase of a course.

    Attributes:
        name: shown in plans and JSON (`induction`, `maintenance`, ...).
        sessions: how many sessions; None for the open-ended last phase, whose count is
            set per course (`--maintenance-sessions`, `--until`).
        min_gap_days: fewest days from one session to the next (2 = never consecutive).
        max_gap_days: most days from one session to the next.
        chair_minutes: chair time per session, session plus recovery; 0 at home.
        location: `clinic` (takes a chair) or `home` (a reminder, no chair).
        window_days: all of the phase's sessions fall within this many days of its first
            (21: the first and the last are at most 20 days apart).
        per_week: sessions in each 7-day block counted from the course's first session.
        every_days: default gaps of an interval phase, the last repeating (a taper).
        sources: where each field's value comes from, by field name.
    """

    name: str
    sessions: int | None
    min_gap_days: int
    max_gap_days: int
    chair_minutes: int
    location: Location = "clinic"
    window_days: int | None = None
    per_week: int | None = None
    every_days: tuple[int, ...] = ()
    sources: tuple[tuple[str, str], ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        where = f"phase {self.name!r}"
        if not self.name or not self.name.replace("-", "").isalnum():
            raise ProtocolError(
                f"{where}: name must be letters, digits and dashes, got {self.name!r}"
            )
        _check_range(where, "sessions", self.sessions, 1, MAX_SESSIONS, optional=True)
        _check_range(where, "min_gap_days", self.min_gap_days, 1, MAX_GAP_DAYS)
        _check_range(where, "max_gap_days", self.max_gap_days, self.min_gap_days, MAX_GAP_DAYS)
        _check_range(where, "chair_minutes", self.chair_minutes, 0, MAX_CHAIR_MINUTES)
        if self.location not in LOCATIONS:
            raise ProtocolError(f"{where}: location must be clinic or home, got {self.location!r}")
        if self.location == "clinic" and self.chair_minutes == 0:
            raise ProtocolError(
                f"{where}: chair_minutes must be 1 to {MAX_CHAIR_MINUTES} in clinic"
            )
        if self.per_week is not None:
            _check_range(where, "per_week", self.per_week, 1, 7 // self.min_gap_days or 1)
            if self.sessions is None or self.sessions % self.per_week:
                raise ProtocolError(
                    f"{where}: sessions must be a multiple of per_week ({self.per_week})"
                )
            if self.every_days:
                raise ProtocolError(f"{where}: per_week and every_days cannot be combined")
        for gap in self.every_days:
            _check_range(where, "every_days", gap, self.min_gap_days, self.max_gap_days)
        if self.window_days is not None:
            shortest = ((self.sessions or 1) - 1) * self.min_gap_days + 1
            _check_range(where, "window_days", self.window_days, shortest, MAX_GAP_DAYS)

    @property
    def kind(self) -> Literal["rhythm", "weekly", "interval"]:
        if self.per_week is not None:
            return "weekly"
        return "interval" if self.every_days else "rhythm"

    def source_of(self, name: str) -> str:
        return dict(self.sources).get(name, "")


@dataclass(frozen=True)
class Protocol:
    """A named course pattern.

    Attributes:
        name: what `--protocol` takes.
        title: the route's name in summaries and calendar events.
        route: decides preparation, aftercare and checklists.
        phases: in order; only the last may be open-ended.
        maintenance_sessions: sessions of the open-ended phase when a course names no
            count and no end date.
        source: where the pattern comes from.
    """

    name: str
    title: str
    route: Route
    phases: tuple[Phase, ...]
    maintenance_sessions: int = 6
    source: str = ""

    def __post_init__(self) -> None:
        where = f"protocol {self.name!r}"
        if self.route not in ROUTES:
            raise ProtocolError(f"{where}: route must be one of {', '.join(ROUTES)}")
        if not self.phases:
            raise ProtocolError(f"{where}: needs at least one phase")
        names = [phase.name for phase in self.phases]
        if len(set(names)) != len(names):
            raise ProtocolError(f"{where}: phase names must differ")
        for phase in self.phases[:-1]:
            if phase.sessions is None:
                raise ProtocolError(f"{where}: only the last phase may be open-ended")
        last = self.phases[-1]
        if last.sessions is None and last.kind != "interval":
            raise ProtocolError(f"{where}: an open-ended phase needs every_days")
        _check_range(
            where, "maintenance_sessions", self.maintenance_sessions, 1, MAX_MAINTENANCE_SESSIONS
        )

    @property
    def open_phase(self) -> Phase | None:
        """The open-ended phase, whose interval and count a course may set."""
        last = self.phases[-1]
        return last if last.sessions is None else None

    @property
    def fixed_sessions(self) -> int:
        return sum(phase.sessions or 0 for phase in self.phases)


def _check_range(
    where: str, name: str, value: int | None, low: int, high: int, *, optional: bool = False
) -> None:
    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ProtocolError(
            f"{where}: {name} must be a whole number from {low} to {high}, got {value!r}"
        )


_IV_INDUCTION = (
    ("sessions", f"{SOURCE_DOC}, IV ketamine: six infusions over two to three weeks"),
    ("min_gap_days", f"{SOURCE_DOC}, IV ketamine: never on consecutive days"),
    ("max_gap_days", f"{SOURCE_DOC}, IV ketamine: at least twice weekly (Singh 2016)"),
    ("window_days", f"{SOURCE_DOC}, IV ketamine: all six within a 21-day window"),
    (
        "chair_minutes",
        f"{SOURCE_DOC}, IV ketamine: 40-minute infusion plus up to 60 "
        "minutes of recovery, about 1 h 30 min in the chair",
    ),
)
_IV_MAINTENANCE = (
    ("min_gap_days", f"{SOURCE_DOC}, IV ketamine: each maintenance gap in [14, 42] days"),
    ("max_gap_days", f"{SOURCE_DOC}, IV ketamine: each maintenance gap in [14, 42] days"),
    (
        "every_days",
        f"{SOURCE_DOC}, IV ketamine: clinics lengthen the interval, 2 weeks, "
        "then 3, then about monthly",
    ),
    ("chair_minutes", f"{SOURCE_DOC}, IV ketamine: about 1 h 30 min in the chair"),
)
_IM_CHAIR = (
    "chair_minutes",
    f"{SOURCE_DOC}, IM ketamine: the experience lasts about 40 minutes, plus 30 minutes "
    "of recovery (the IV lower bound)",
)


def _iv_like(name: str, title: str, route: Route, chair: int, chair_source: str) -> Protocol:
    def swap(sources: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
        return tuple((k, chair_source if k == "chair_minutes" else v) for k, v in sources)

    return Protocol(
        name=name,
        title=title,
        route=route,
        phases=(
            Phase("induction", 6, 2, 7, chair, window_days=21, sources=swap(_IV_INDUCTION)),
            Phase(
                "maintenance",
                None,
                14,
                42,
                chair,
                every_days=(14, 21, 28),
                sources=swap(_IV_MAINTENANCE),
            ),
        ),
        maintenance_sessions=6,
        source=f"{SOURCE_DOC}, IV ketamine"
        + ("; IM ketamine: the IV pattern is the sensible default" if route == "im" else ""),
    )


IV = _iv_like("iv", "IV ketamine", "iv", 90, dict(_IV_INDUCTION)["chair_minutes"])
IM = _iv_like("im", "IM ketamine", "im", 70, _IM_CHAIR[1])

_ESK_OBSERVE = (
    "chair_minutes",
    f"{SOURCE_DOC}, esketamine: observation for at least 2 hours after the dose",
)
ESKETAMINE = Protocol(
    name="esketamine",
    title="Esketamine nasal spray",
    route="esketamine",
    phases=(
        Phase(
            "induction",
            8,
            2,
            5,
            120,
            per_week=2,
            sources=(
                ("sessions", f"{SOURCE_DOC}, esketamine: weeks 1 to 4, twice weekly"),
                ("per_week", f"{SOURCE_DOC}, esketamine: twice weekly"),
                ("min_gap_days", "ketaplan: twice weekly is never on consecutive days"),
                ("max_gap_days", "ketaplan: two sessions a week are at most 5 days apart"),
                _ESK_OBSERVE,
            ),
        ),
        Phase(
            "maintenance-weekly",
            4,
            3,
            10,
            120,
            per_week=1,
            sources=(
                ("sessions", f"{SOURCE_DOC}, esketamine: weeks 5 to 8, once weekly"),
                ("per_week", f"{SOURCE_DOC}, esketamine: once weekly"),
                (
                    "min_gap_days",
                    "ketaplan: a weekly session moved for a closure stays at least "
                    "3 days from its neighbours",
                ),
                (
                    "max_gap_days",
                    "ketaplan: a weekly session moved for a closure stays within "
                    "10 days of the previous one",
                ),
                _ESK_OBSERVE,
            ),
        ),
        Phase(
            "maintenance",
            None,
            7,
            14,
            120,
            every_days=(14,),
            sources=(
                ("min_gap_days", f"{SOURCE_DOC}, esketamine: week 9 on, weekly or every 2 weeks"),
                ("max_gap_days", f"{SOURCE_DOC}, esketamine: week 9 on, weekly or every 2 weeks"),
                (
                    "every_days",
                    f"{SOURCE_DOC}, esketamine: the lowest frequency that keeps the response",
                ),
                _ESK_OBSERVE,
            ),
        ),
    ),
    maintenance_sessions=6,
    source=f"{SOURCE_DOC}, esketamine nasal spray (Spravato label)",
)

LOZENGE_SOURCES = (
    ("min_gap_days", f"{SOURCE_DOC}, lozenges: every 2 to 3 days, or weekly (Lara 2013)"),
    ("max_gap_days", f"{SOURCE_DOC}, lozenges: every 2 to 3 days, or weekly (Lara 2013)"),
    ("every_days", f"{SOURCE_DOC}, lozenges: every 2 to 3 days (Lara 2013)"),
    ("chair_minutes", f"{SOURCE_DOC}, lozenges: home doses take no chair"),
    ("location", f"{SOURCE_DOC}, lozenges: reminders, not appointments"),
)
LOZENGE_MIN_GAP = 2
LOZENGE_MAX_GAP = 7
LOZENGE = Protocol(
    name="lozenge",
    title="Ketamine lozenge",
    route="lozenge",
    phases=(
        Phase(
            "home",
            None,
            LOZENGE_MIN_GAP,
            LOZENGE_MAX_GAP,
            0,
            location="home",
            every_days=(3,),
            sources=LOZENGE_SOURCES,
        ),
    ),
    maintenance_sessions=10,
    source=f"{SOURCE_DOC}, lozenges (troches)",
)

BUILTIN: Mapping[str, Protocol] = {p.name: p for p in (IV, IM, ESKETAMINE, LOZENGE)}
DEFAULT_PROTOCOL = "iv"


def get_protocol(name_or_path: str) -> Protocol:
    """A built-in protocol by name, or a clinic's own from a TOML file."""
    if name_or_path in BUILTIN:
        return BUILTIN[name_or_path]
    if name_or_path.endswith(".toml"):
        return load_protocol_file(Path(name_or_path))
    raise UsageError(
        f"unknown protocol {name_or_path!r}; built in: {', '.join(BUILTIN)}, or give a FILE.toml"
    )


_PHASE_FIELDS = {f.name for f in fields(Phase)} - {"sources"}
_PROTOCOL_KEYS = {"name", "title", "route", "maintenance_sessions", "source", "phases"}


def load_protocol_file(path: Path) -> Protocol:
    """Read a clinic's protocol from TOML; every bad field is named with its range."""
    import tomllib

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"protocol file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot read the protocol file: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path}: not valid TOML: {exc}") from None
    try:
        return protocol_from_dict(data, source=f"clinic protocol file {path.name}")
    except ProtocolError as exc:
        raise ProtocolError(f"{path}: {exc}") from None


def protocol_from_dict(data: Mapping[str, object], *, source: str) -> Protocol:
    unknown = sorted(set(data) - _PROTOCOL_KEYS)
    if unknown:
        allowed = ", ".join(sorted(_PROTOCOL_KEYS))
        raise ProtocolError(f"unknown field {unknown[0]!r}; allowed: {allowed}")
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise ProtocolError("name must be a non-empty string")
    route = data.get("route", "iv")
    if route not in ROUTES:
        raise ProtocolError(f"route must be one of {', '.join(ROUTES)}, got {route!r}")
    raw_phases = data.get("phases")
    if not isinstance(raw_phases, list) or not raw_phases:
        raise ProtocolError("phases must be a list of [[phases]] tables")
    phases = tuple(_phase_from_dict(i, raw, source) for i, raw in enumerate(raw_phases, 1))
    title = data.get("title", name)
    if not isinstance(title, str):
        raise ProtocolError("title must be a string")
    count = data.get("maintenance_sessions", 6)
    if not isinstance(count, int):
        raise ProtocolError(
            f"maintenance_sessions must be a whole number from 1 to {MAX_MAINTENANCE_SESSIONS}"
        )
    return Protocol(
        name=name,
        title=title,
        route=route,
        phases=phases,
        maintenance_sessions=count,
        source=str(data.get("source", source)),
    )


def _phase_from_dict(index: int, raw: object, source: str) -> Phase:
    if not isinstance(raw, dict):
        raise ProtocolError(f"phase {index} must be a table")
    unknown = sorted(set(raw) - _PHASE_FIELDS)
    if unknown:
        allowed = ", ".join(sorted(_PHASE_FIELDS))
        raise ProtocolError(f"phase {index}: unknown field {unknown[0]!r}; allowed: {allowed}")
    for required in ("name", "min_gap_days", "max_gap_days", "chair_minutes"):
        if required not in raw:
            raise ProtocolError(f"phase {index}: {required} is missing")
    every = raw.get("every_days", [])
    if isinstance(every, int):
        every = [every]
    if not isinstance(every, list) or not all(
        isinstance(g, int) and not isinstance(g, bool) for g in every
    ):
        raise ProtocolError(f"phase {index}: every_days must be a list of whole days")
    name = raw["name"]
    if not isinstance(name, str):
        raise ProtocolError(f"phase {index}: name must be a string")
    return Phase(
        name=name,
        sessions=raw.get("sessions"),
        min_gap_days=raw["min_gap_days"],
        max_gap_days=raw["max_gap_days"],
        chair_minutes=raw["chair_minutes"],
        location=raw.get("location", "clinic"),
        window_days=raw.get("window_days"),
        per_week=raw.get("per_week"),
        every_days=tuple(every),
        sources=tuple((key, source) for key in raw if key != "name"),
    )
