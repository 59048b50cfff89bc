"""Protocol files: a clinic's own protocol in TOML, and the JSON definition a booked
course keeps so that it can be rebuilt after the file is gone."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from pathlib import Path

from ketaplan.errors import UsageError
from ketaplan.formats.files import read_toml
from ketaplan.model.protocol import (
    MAX_MAINTENANCE_SESSIONS,
    ROUTES,
    TIME_PARTS,
    Phase,
    Protocol,
    ProtocolError,
)
from ketaplan.planning.protocols import BUILTIN

_PHASE_FIELDS = {f.name for f in fields(Phase)} - {"sources"}
_PROTOCOL_KEYS = {"name", "title", "route", "maintenance_sessions", "source", "phases"}


def load_protocol_file(path: Path) -> Protocol:
    """Read a clinic's protocol from TOML; every bad field is named with its range."""
    data = read_toml(path, "protocol file")
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
    for required in ("name", "min_gap_days", "max_gap_days"):
        if required not in raw:
            raise ProtocolError(f"phase {index}: {required} is missing")
    chair = raw.get("chair_minutes")
    if chair is None:
        # The parts alone: the chair is held for their sum.
        if not all(isinstance(raw.get(part), int) for part in TIME_PARTS):
            raise ProtocolError(
                f"phase {index}: chair_minutes is missing (or give checkin_minutes, "
                "dose_minutes and observe_minutes)"
            )
        chair = sum(raw[part] for part in TIME_PARTS)
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
        chair_minutes=chair,
        location=raw.get("location", "clinic"),
        window_days=raw.get("window_days"),
        per_week=raw.get("per_week"),
        every_days=tuple(every),
        checkin_minutes=raw.get("checkin_minutes"),
        dose_minutes=raw.get("dose_minutes"),
        observe_minutes=raw.get("observe_minutes"),
        provisional=raw.get("provisional", False),
        sources=tuple((key, source) for key in raw if key != "name"),
    )


def get_protocol(name_or_path: str) -> Protocol:
    """A built-in protocol by name (any case: IV, iv), or a clinic's own from a TOML
    file."""
    if name_or_path.strip().lower() in BUILTIN:
        return BUILTIN[name_or_path.strip().lower()]
    if name_or_path.endswith(".toml"):
        return load_protocol_file(Path(name_or_path))
    raise UsageError(
        f"unknown protocol {name_or_path!r}; built in: {', '.join(BUILTIN)}, or give a FILE.toml"
    )


def protocol_definition(protocol: Protocol) -> str:
    """The protocol as JSON, kept with a booked course so that the course can be rebuilt
    (for its calendar) even when it came from a clinic's own file that has since changed."""
    import json

    phases = [
        {f.name: getattr(phase, f.name) for f in fields(Phase) if f.name != "sources"}
        for phase in protocol.phases
    ]
    data = {
        "name": protocol.name,
        "title": protocol.title,
        "route": protocol.route,
        "maintenance_sessions": protocol.maintenance_sessions,
        "source": protocol.source,
        "phases": phases,
    }
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


def protocol_from_definition(text: str) -> Protocol:
    """The protocol `protocol_definition` wrote; a built-in one comes back with its sources."""
    import json

    data = json.loads(text)
    builtin = BUILTIN.get(data.get("name", ""))
    if builtin is not None and protocol_definition(builtin) == text:
        return builtin
    phases = [{k: v for k, v in phase.items() if v is not None} for phase in data["phases"]]
    return protocol_from_dict({**data, "phases": phases}, source=str(data.get("source", "")))
