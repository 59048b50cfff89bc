"""A clinic's settings: name, zone, week, capacity and defaults (read from
`ketaplan.toml` by `ketaplan.formats.config_file`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from types import MappingProxyType

from ketaplan.model.calendar import MON_TO_FRI, Closure

DEFAULT_TIME = time(9, 0)
DEFAULT_HOURS = (time(8, 0), time(18, 0))
DEFAULT_ALARM_MINUTES = 24 * 60
DEFAULT_FEED_URL = "http://127.0.0.1:8642"
DEFAULT_ALARM_TEXT = "Ketamine appointment tomorrow: arrange a driver home."
# A screening older than this many days at the course's start counts as none.
DEFAULT_SCREENING_VALID_DAYS = 90
REMS_PROGRAMS = ("us-spravato", "none")
PAPERS = ("a4", "letter")
# A patient code after normalisation (upper case): a letter or digit, then letters,
# digits and dashes, 40 characters at most.
DEFAULT_PATIENT_CODE = r"^[A-Z0-9][A-Z0-9-]{0,39}$"


def default_alarm_text(minutes: int | None) -> str:
    """The reminder's default text, worded for when it rings: `2h` never says tomorrow."""
    if minutes is None or minutes == 24 * 60:
        return DEFAULT_ALARM_TEXT
    if minutes % (24 * 60) == 0:
        when = f"in {minutes // (24 * 60)} days"
    elif minutes % 60 == 0:
        when = "in 1 hour" if minutes == 60 else f"in {minutes // 60} hours"
    else:
        when = "in 1 minute" if minutes == 1 else f"in {minutes} minutes"
    return f"Ketamine appointment {when}: arrange a driver home."


@dataclass(frozen=True)
class ClinicConfig:
    """A clinic's settings.

    Attributes:
        name: the clinic's name, in calendar names.
        location: the address, in each calendar event's LOCATION.
        zone: IANA time zone; None for the system's.
        open_weekdays: 0 is Monday.
        session_time: default session time.
        closures: closed dates and ranges.
        holidays: (country, subdivision) whose public holidays close the clinic.
        protocol: the default protocol name or file.
        hours: opening and closing time by weekday (0 is Monday), open days only.
        chairs: treatment chairs.
        slot_minutes: length of one start slot.
        starts_per_slot: the most sessions that may start in one slot (nurse load).
        require_screening: booking needs a recorded screening.
        date_order: how a roster's local dates read: "DMY" (07.12.2026) or "MDY"
            (12/7/2026); None for ISO dates only.
        alarm_minutes: calendar reminder this many minutes before; None for no reminder.
        alarm_text: the reminder's text.
        private_staff_events: staff calendars mark every event CLASS:PRIVATE, so a
            calendar shared beyond the staff shows the time as busy only.
        patient_feeds: the clinic serves patient calendar feeds (opt-in: a patient's feed
            puts health data in the patient's calendar provider).
        feed_url: the address the feed server is reached at, for the URLs that `ketaplan
            feed create` prints (behind a reverse proxy, its public https:// address).
        book: path of the clinic book; None for the user data directory.
        screening_valid_days: a screening older than this at the course's start is
            treated as none.
        bp_threshold: (systolic, diastolic) before dosing, printed in staff checklists;
            above it the clinician decides (the SPRAVATO label's point, 140/90).
        vitals_every_minutes: IV and IM: vitals during the infusion this often (15: the
            upper end of the 10 to 15 minutes clinics use).
        fasting_solids_hours: IV and IM preparation: no solid food this many hours before.
        fasting_liquids_hours: clear liquids until this many hours before.
        crisis_line: the clinic's crisis line, in patient calendars; "" for none given.
        rems_program: `us-spravato` or `none`; None to follow the zone (on for US zones).
        phone: the clinic's phone number, on the patient's handout.
        contact: whom a patient calls with a question (the handout); "" for the phone.
        language: the patient handout's language: a catalogue shipped with ketaplan
            (en, de) or a clinic's own catalogue FILE.toml.
        paper: a4 or letter for the handout; None to choose from the clinic's country.
        book_group: the OS group that shares the book (0660); None for its owner alone.
        book_url: a `postgresql://` URL of a clinic network's book (instead of `book`).
        book_clinic: the clinic of the book that commands work on; None for its only one.
        patient_code: the regular expression every (upper-cased) patient code matches.
        source: the file this came from, or None for built-in defaults.
    """

    name: str = "Ketamine clinic"
    location: str = ""
    zone: str | None = None
    open_weekdays: frozenset[int] = MON_TO_FRI
    session_time: time = DEFAULT_TIME
    closures: tuple[Closure, ...] = ()
    holidays: tuple[str, str | None] | None = None
    protocol: str = "iv"
    hours: Mapping[int, tuple[time, time]] = field(
        default_factory=lambda: MappingProxyType(dict.fromkeys(range(7), DEFAULT_HOURS))
    )
    chairs: int = 4
    slot_minutes: int = 15
    starts_per_slot: int = 2
    require_screening: bool = True
    date_order: str | None = None
    alarm_minutes: int | None = DEFAULT_ALARM_MINUTES
    alarm_text: str = DEFAULT_ALARM_TEXT
    private_staff_events: bool = False
    patient_feeds: bool = False
    feed_url: str = DEFAULT_FEED_URL
    book: Path | None = None
    screening_valid_days: int = DEFAULT_SCREENING_VALID_DAYS
    bp_threshold: tuple[int, int] = (140, 90)
    vitals_every_minutes: int = 15
    fasting_solids_hours: int = 6
    fasting_liquids_hours: int = 2
    crisis_line: str = ""
    rems_program: str | None = None
    phone: str = ""
    contact: str = ""
    language: str = "en"
    paper: str | None = None
    book_group: str | None = None
    book_url: str | None = None
    book_clinic: str | None = None
    patient_code: str = DEFAULT_PATIENT_CODE
    source: Path | None = None
