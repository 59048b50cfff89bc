"""The built-in protocols: IV, IM, esketamine and lozenges, every number with its source.

`ketaplan protocols show NAME` prints each parameter's source; a clinic's own protocol
file is read by `ketaplan.formats.protocol_file`.
"""

from __future__ import annotations

from collections.abc import Mapping

from ketaplan.model.protocol import Phase, Protocol, Route

_OPEN = ("sessions", "ketaplan default: open-ended; each course sets its count or end date")
_IV_CLINIC = ("location", "[article2022] IV infusion in a clinic chair")
_IV_INDUCTION = (
    _IV_CLINIC,
    ("sessions", "[article2022] six infusions over two to three weeks; [murrough2013] six"),
    ("min_gap_days", "[murrough2013] Mon, Wed, Fri: never on consecutive days"),
    ("max_gap_days", "[singh2016] twice weekly worked as well as three times a week"),
    ("window_days", "[article2022] over two to three weeks: all six within 21 days"),
    (
        "chair_minutes",
        "ketaplan default: a 40-minute infusion [rivaposse2018] and up to an hour of "
        "recovery, about 1 h 30 min in the chair",
    ),
)
_IV_MAINTENANCE = (
    _OPEN,
    _IV_CLINIC,
    ("min_gap_days", "[article2022] one infusion every two to six weeks: gaps of 14 to 42 days"),
    ("max_gap_days", "[article2022] one infusion every two to six weeks: gaps of 14 to 42 days"),
    (
        "every_days",
        "ketaplan default: clinics lengthen the interval, 2 weeks, then 3, then about monthly",
    ),
    ("chair_minutes", "ketaplan default: about 1 h 30 min in the chair, as in induction"),
)
_IM_CHAIR = (
    "chair_minutes",
    "[article2022] the experience lasts about 40 minutes; ketaplan default: plus 30 minutes "
    "of recovery",
)


_IM_CLINIC = ("location", "[article2022] IM injection in a hospital or office")


def _iv_like(
    name: str, title: str, route: Route, chair: int, own: tuple[tuple[str, str], ...] = ()
) -> Protocol:
    def swap(sources: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
        return tuple((k, dict(own).get(k, v)) for k, v in sources)

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
        source="[article2022] IV infusion; [murrough2013]; [singh2016]"
        + (
            "; ketaplan default: the IV pattern, as the article gives none for IM"
            if route == "im"
            else ""
        ),
    )


IV = _iv_like("iv", "IV ketamine", "iv", 90)
IM = _iv_like("im", "IM ketamine", "im", 70, (_IM_CHAIR, _IM_CLINIC))

_ESK_OBSERVE = (
    "chair_minutes",
    "[spravato-label] sections 2 and 5: observation for at least 2 hours after the dose",
)
_ESK_CLINIC = ("location", "[spravato-rems] given only in certified healthcare settings")
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
                ("sessions", "[spravato-label] section 2: weeks 1 to 4, twice weekly"),
                ("per_week", "[spravato-label] section 2: twice weekly"),
                ("min_gap_days", "ketaplan default: twice weekly is never on consecutive days"),
                ("max_gap_days", "ketaplan default: two sessions a week are at most 5 days apart"),
                _ESK_OBSERVE,
                _ESK_CLINIC,
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
                ("sessions", "[spravato-label] section 2: weeks 5 to 8, once weekly"),
                ("per_week", "[spravato-label] section 2: once weekly"),
                (
                    "min_gap_days",
                    "ketaplan default: a weekly session moved for a closure stays at least "
                    "3 days from its neighbours",
                ),
                (
                    "max_gap_days",
                    "ketaplan default: a weekly session moved for a closure stays within "
                    "10 days of the previous one",
                ),
                _ESK_OBSERVE,
                _ESK_CLINIC,
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
                ("min_gap_days", "[spravato-label] section 2: week 9 on, weekly or every 2 weeks"),
                ("max_gap_days", "[spravato-label] section 2: week 9 on, weekly or every 2 weeks"),
                (
                    "every_days",
                    "[spravato-label] section 2: the lowest frequency that keeps the response",
                ),
                _ESK_OBSERVE,
                _ESK_CLINIC,
                _OPEN,
            ),
        ),
    ),
    maintenance_sessions=6,
    source="[spravato-label] sections 2 and 5; [spravato-rems]",
)

LOZENGE_SOURCES = (
    _OPEN,
    ("min_gap_days", "[lara2013] every 2 to 3 days, or weekly"),
    ("max_gap_days", "[lara2013] every 2 to 3 days, or weekly"),
    ("every_days", "[lara2013] every 2 to 3 days"),
    ("chair_minutes", "[article2022] lozenges are taken at home: no chair"),
    ("location", "ketaplan default: home doses are reminders, not appointments"),
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
    source="[article2022] lozenges (troches); [lara2013]",
)

BUILTIN: Mapping[str, Protocol] = {p.name: p for p in (IV, IM, ESKETAMINE, LOZENGE)}
DEFAULT_PROTOCOL = "iv"
