"""The built-in protocols: IV, IM, esketamine and lozenges, every number with its source.

`ketaplan protocols show NAME` prints each parameter's source; a clinic's own protocol
file is read by `ketaplan.formats.protocol_file`.
"""

from __future__ import annotations

from collections.abc import Mapping

from ketaplan.model.protocol import ESKETAMINE_MIN_OBSERVE_MINUTES, Phase, Protocol, Route

_OPEN = ("sessions", "ketaplan default: open-ended; each course sets its count or end date")
_IV_CLINIC = ("location", "[article2022] IV infusion in a clinic chair")
# IV: what the facts add up to. The chair is held for check-in, vitals and the line, the
# 40-minute infusion, and up to 60 minutes of recovery.
IV_CHECKIN = 20
IV_INFUSION = 40
IV_RECOVERY = 60
# Induction infusions at most 5 days apart: the trials gave two or three a week.
INDUCTION_MAX_GAP = 5
_INDUCTION_MAX_GAP_SOURCE = (
    "[singh2016] twice vs three times weekly; [murrough2013] Mon, Wed, Fri: gaps beyond 4 "
    "to 5 days are outside the evidence; a clinic's protocol file sets its own max_gap_days"
)
_IV_TIMES = (
    (
        "checkin_minutes",
        "ketaplan default: check-in, vitals and placing the IV line before the infusion; "
        "a clinic's protocol file sets its own",
    ),
    ("dose_minutes", "[murrough2013] [singh2016] [rivaposse2018] a 40-minute infusion"),
    ("observe_minutes", "[article2022] rest afterwards; clinic practice: up to 60 minutes"),
    (
        "chair_minutes",
        "ketaplan default: what the facts add up to, check-in "
        f"{IV_CHECKIN} + infusion {IV_INFUSION} + recovery {IV_RECOVERY} minutes",
    ),
)
_IV_INDUCTION = (
    _IV_CLINIC,
    ("sessions", "[article2022] six infusions over two to three weeks; [murrough2013] six"),
    ("min_gap_days", "[murrough2013] Mon, Wed, Fri: never on consecutive days"),
    ("max_gap_days", _INDUCTION_MAX_GAP_SOURCE),
    ("window_days", "[article2022] over two to three weeks: all six within 21 days"),
    *_IV_TIMES,
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
    *_IV_TIMES,
)
# IM: no source gives a chair time, so 70 minutes is ketaplan's.
IM_CHECKIN = 15
IM_INJECTION = 5
IM_OBSERVE = 50
_IM_TIMES = (
    ("checkin_minutes", "ketaplan default: check-in and vitals before the injection"),
    ("dose_minutes", "ketaplan default: the injection itself"),
    (
        "observe_minutes",
        "[article2022] the experience lasts roughly 40 minutes; ketaplan default: plus 10 "
        "minutes for the discharge checks",
    ),
    (
        "chair_minutes",
        "ketaplan default: no source gives an IM chair time; check-in "
        f"{IM_CHECKIN} + injection {IM_INJECTION} + observation {IM_OBSERVE} minutes",
    ),
    ("location", "[article2022] IM injection in a hospital or office"),
)


def _iv_like(name: str, title: str, route: Route, times: tuple[int, int, int]) -> Protocol:
    def swap(sources: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
        own = dict(_IM_TIMES) if route == "im" else {}
        return tuple((k, own.get(k, v)) for k, v in sources)

    checkin, dose, observe = times
    chair = checkin + dose + observe
    return Protocol(
        name=name,
        title=title,
        route=route,
        phases=(
            Phase(
                "induction",
                6,
                2,
                INDUCTION_MAX_GAP,
                chair,
                window_days=21,
                checkin_minutes=checkin,
                dose_minutes=dose,
                observe_minutes=observe,
                sources=swap(_IV_INDUCTION),
            ),
            Phase(
                "maintenance",
                None,
                14,
                42,
                chair,
                every_days=(14, 21, 28),
                checkin_minutes=checkin,
                dose_minutes=dose,
                observe_minutes=observe,
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
        notes=(
            f"Induction: at most {INDUCTION_MAX_GAP} days apart ({_INDUCTION_MAX_GAP_SOURCE}).",
            "Chair time: check-in + administration + observation, what the facts add up to"
            if route == "iv"
            else "Chair time: 70 minutes is a ketaplan default, no source gives one",
            "A clinic's protocol file sets checkin_minutes, dose_minutes and observe_minutes "
            "per phase.",
        ),
    )


IV = _iv_like("iv", "IV ketamine", "iv", (IV_CHECKIN, IV_INFUSION, IV_RECOVERY))
IM = _iv_like("im", "IM ketamine", "im", (IM_CHECKIN, IM_INJECTION, IM_OBSERVE))

# Esketamine: pre-dose checks, administration (84 mg = 3 devices, 5 minutes apart: the
# last at +10 minutes; 56 mg = 2 devices, the last at +5), then at least 2 hours of
# observation from the last device. 145 minutes: clinics book 2 to 2.5 hours.
ESK_CHECKIN = 15
ESK_ADMINISTRATION = 10
ESK_OBSERVE = ESKETAMINE_MIN_OBSERVE_MINUTES
ESK_CHAIR = ESK_CHECKIN + ESK_ADMINISTRATION + ESK_OBSERVE
_ESK_TIMES = (
    (
        "checkin_minutes",
        "[spravato-label] section 2: blood pressure before dosing; ketaplan default: 15 "
        "minutes for check-in and the pre-dose checks",
    ),
    (
        "dose_minutes",
        "[spravato-label] section 2: 56 mg = 2 devices, 84 mg = 3 devices, 5 minutes apart; "
        "10 minutes covers 84 mg (a clinic giving 56 mg sets 5)",
    ),
    (
        "observe_minutes",
        "[spravato-label] sections 2 and 5: observe for at least 2 hours after "
        "administration, counted from the last device",
    ),
    (
        "chair_minutes",
        f"[spravato-label] check-in {ESK_CHECKIN} + administration {ESK_ADMINISTRATION} + "
        f"observation {ESK_OBSERVE} minutes (clinics book 2 to 2.5 hours)",
    ),
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
            ESK_CHAIR,
            per_week=2,
            checkin_minutes=ESK_CHECKIN,
            dose_minutes=ESK_ADMINISTRATION,
            observe_minutes=ESK_OBSERVE,
            sources=(
                ("sessions", "[spravato-label] section 2: weeks 1 to 4, twice weekly"),
                ("per_week", "[spravato-label] section 2: twice weekly"),
                ("min_gap_days", "ketaplan default: twice weekly is never on consecutive days"),
                ("max_gap_days", "ketaplan default: two sessions a week are at most 5 days apart"),
                *_ESK_TIMES,
                _ESK_CLINIC,
            ),
        ),
        Phase(
            "maintenance-weekly",
            4,
            3,
            10,
            ESK_CHAIR,
            per_week=1,
            checkin_minutes=ESK_CHECKIN,
            dose_minutes=ESK_ADMINISTRATION,
            observe_minutes=ESK_OBSERVE,
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
                *_ESK_TIMES,
                _ESK_CLINIC,
            ),
        ),
        Phase(
            "maintenance",
            None,
            7,
            14,
            ESK_CHAIR,
            every_days=(14,),
            checkin_minutes=ESK_CHECKIN,
            dose_minutes=ESK_ADMINISTRATION,
            observe_minutes=ESK_OBSERVE,
            provisional=True,
            sources=(
                ("min_gap_days", "[spravato-label] section 2: week 9 on, weekly or every 2 weeks"),
                ("max_gap_days", "[spravato-label] section 2: week 9 on, weekly or every 2 weeks"),
                (
                    "every_days",
                    "[spravato-label] section 2: the least frequent dosing that keeps the response",
                ),
                (
                    "provisional",
                    "[spravato-label] section 2: weekly or every 2 weeks is the clinician's "
                    "choice by response at the week-8 review; the booked frequency is "
                    "provisional until then",
                ),
                *_ESK_TIMES,
                _ESK_CLINIC,
                _OPEN,
            ),
        ),
    ),
    maintenance_sessions=6,
    source="[spravato-label] sections 2 and 5; [spravato-rems]",
    notes=(
        "Week 9 on: the maintenance frequency booked is provisional; the clinician chooses "
        "weekly or every 2 weeks at the week-8 review (the least frequent dosing that keeps "
        "the response).",
        "Observe until: at least 2 hours from the last device, not from the session's start.",
        "REMS rules: SPRAVATO REMS (REMS@FDA, last update 12/31/2024) [spravato-rems]. US "
        'outpatient clinics only, set in ketaplan.toml ([rems] program = "us-spravato"; on '
        "by default for US time zones, off otherwise; inpatient settings are exempt). The "
        "patient is enrolled before the first treatment (booking without it is allowed and "
        "flagged); a pulse oximeter and a prescriber on site; monitoring until sedation, "
        "dissociation and respiratory depression resolve; a patient monitoring form after "
        "every session, within 7 calendar days.",
    ),
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
