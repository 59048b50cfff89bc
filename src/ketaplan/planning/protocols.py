"""The built-in protocols: IV, IM, esketamine and lozenges, every number with its source.

`ketaplan protocols show NAME` prints each parameter's source; a clinic's own protocol
file is read by `ketaplan.formats.protocol_file`.
"""

from __future__ import annotations

from collections.abc import Mapping

from ketaplan.model.protocol import Phase, Protocol, Route
from ketaplan.model.sources import SOURCE_DOC

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
