"""The .ics export, checked with three readers ketaplan did not write (tests/ics_readers.py)
and byte by byte against golden files.

Refresh the golden files after an intended change of the format:
    KETAPLAN_REFRESH_GOLDEN=1 /tmp/venv/bin/pytest tests/test_ics.py
and review the diff of tests/golden/ before committing it.
"""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ketaplan import __version__
from ketaplan.errors import UsageError
from ketaplan.formats.calendars import PREVIEW_SCOPE, course_calendar, course_events, event_uid
from ketaplan.formats.ics import CalendarEvent, calendar_bytes, stamp_from_epoch
from ketaplan.model.calendar import ClinicCalendar
from ketaplan.model.clinic import ClinicConfig
from ketaplan.model.course import Course, CourseRequest
from ketaplan.planning.planner import plan_course
from ketaplan.planning.protocols import BUILTIN
from ketaplan.safety.guidance import GUIDANCE
from tests.ics_readers import (
    Reading,
    check_raw_bytes,
    read_agreed,
    read_all,
    trigger,
    when,
)

GOLDEN = Path(__file__).parent / "golden"
STAMP = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
EVERY_DAY = ClinicCalendar(frozenset(range(7)))
CLINIC = ClinicConfig(
    name="Ketamine clinic Mitte", location="Hauptstraße 1, 10115 Berlin", zone="Europe/Berlin"
)
HOSTILE = (
    "P-1,2;3\\4",
    "P-ÄÖÜ-ß-日本",
    "P\\n-001",
    "P-001;X-INJECT:1",
    "P-😀-é",
    "\\,\\;\\\\",
)
HOSTILE_CLINIC = ClinicConfig(
    name="Praxis Dr. Müller, Süd; \\ Zweig\r\nBEGIN:VEVENT\nUID:evil",
    location="Straße 1, 2. OG; Raum 3\\4\nEND:VCALENDAR\nBEGIN:VCALENDAR",
    alarm_text="Morgen, 9 Uhr; \\ bitte Fahrer\norganisieren: 日本",
)


def plan(
    protocol: str,
    start: date,
    zone: str,
    *,
    at: time = time(9, 0),
    patient: str = "P-001",
    calendar: ClinicCalendar | None = None,
    lozenges: int | None = None,
    sessions: int | None = None,
) -> Course:
    return plan_course(
        CourseRequest(
            patient=patient,
            protocol=BUILTIN[protocol],
            start=start,
            at=at,
            zone=zone,
            calendar=calendar or ClinicCalendar(),
            lozenge_every=lozenges,
            open_sessions=sessions,
        )
    )


def expected(course: Course, clinic: ClinicConfig, stamp: datetime = STAMP) -> Reading:
    """What every reader must see, written out from the course and the clinic alone."""
    events = []
    for s in course.sessions:
        home = s.location == "home"
        title = "Ketamine lozenge" if home else course.protocol.title
        route = "lozenge" if home else course.protocol.route
        alarms = []
        if clinic.alarm_minutes is not None:
            alarms.append(
                {
                    "action": "DISPLAY",
                    "trigger_seconds": 0 if home else trigger(clinic.alarm_minutes),
                    "description": "Home lozenge dose now." if home else clinic.alarm_text,
                }
            )
        events.append(
            {
                "uid": event_uid(PREVIEW_SCOPE, "plan", s.uid),
                "summary": f"{title} {s.phase_number}/{s.phase_total} · {s.phase} · "
                f"{course.patient}",
                "start": when(s.start),
                "end": when(s.end),
                "all_day": False,
                "dtstamp": when(stamp),
                "sequence": 0,
                "description": GUIDANCE[route].text(),
                "location": None if home else clinic.location or clinic.name,
                "transparency": "TRANSPARENT" if home else "OPAQUE",
                "status": None,
                "class": None,
                "last_modified": None,
                "categories": ["Home dose" if home else "Appointment"],
                "alarms": alarms,
            }
        )
    name = f"{course.patient} · {course.protocol.title} · {clinic.name}"
    return {
        "version": "2.0",
        "prodid": f"-//ketaplan//ketaplan {__version__}//EN",
        "method": "PUBLISH",
        "name": name,
        "x_wr_calname": name,
        "x_wr_timezone": course.zone,
        "refresh_interval": None,
        "x_published_ttl": None,
        "components": ["vevent"] * len(course.sessions),
        "events": events,
    }


def export(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def assert_readers_see(files: list[Path], wanted: list[Reading]) -> None:
    for path, readings, want in zip(files, read_all(files), wanted, strict=True):
        check_raw_bytes(path.read_bytes())
        for reader, reading in readings.items():
            assert reading == want, f"{reader} reads {path.name} differently"


def crlf_to_text(value: str) -> str:
    """How iCalendar keeps a newline: CR LF and a lone CR become LF."""
    return value.replace("\r\n", "\n").replace("\r", "\n")


# (id, protocol, start, zone, time, open every day, lozenge interval)
DST_CASES = [
    ("berlin-march", "iv", date(2026, 3, 16), "Europe/Berlin", time(9, 0), False, None),
    ("berlin-october", "esketamine", date(2026, 10, 12), "Europe/Berlin", time(9, 0), False, None),
    ("berlin-gap-0230", "lozenge", date(2026, 3, 23), "Europe/Berlin", time(2, 30), True, None),
    ("berlin-fold-0230", "lozenge", date(2026, 10, 19), "Europe/Berlin", time(2, 30), True, None),
    ("sydney-april", "iv", date(2026, 3, 30), "Australia/Sydney", time(9, 0), False, 3),
    (
        "sydney-october",
        "esketamine",
        date(2026, 9, 28),
        "Australia/Sydney",
        time(8, 0),
        False,
        None,
    ),
    ("new-york-march", "iv", date(2026, 3, 2), "America/New_York", time(9, 0), False, 3),
    ("new-york-november", "im", date(2026, 10, 26), "America/New_York", time(16, 0), False, None),
    (
        "adelaide-april",
        "esketamine",
        date(2026, 3, 30),
        "Australia/Adelaide",
        time(8, 30),
        False,
        None,
    ),
    (
        "lord-howe-october",
        "lozenge",
        date(2026, 9, 28),
        "Australia/Lord_Howe",
        time(9, 0),
        True,
        None,
    ),
    ("kolkata", "iv", date(2026, 3, 16), "Asia/Kolkata", time(10, 15), False, None),
]


@pytest.mark.parametrize(
    ("protocol", "start", "zone", "at", "every_day", "lozenges"),
    [case[1:] for case in DST_CASES],
    ids=[case[0] for case in DST_CASES],
)
def test_every_reader_sees_the_planned_sessions_at_the_planned_utc_instants(
    tmp_path: Path,
    protocol: str,
    start: date,
    zone: str,
    at: time,
    every_day: bool,
    lozenges: int | None,
) -> None:
    course = plan(
        protocol, start, zone, at=at, calendar=EVERY_DAY if every_day else None, lozenges=lozenges
    )
    tz = ZoneInfo(zone)
    offsets = {s.start.astimezone(tz).utcoffset() for s in course.sessions}
    if zone == "Asia/Kolkata":
        assert offsets == {timedelta(hours=5, minutes=30)}
    else:
        # The case really spans a clock change, or it proves nothing about one.
        assert len(offsets) == 2, offsets
    for s in course.sessions:
        local = s.start.astimezone(tz)
        assert local.time() == at or "does not exist" in (s.note or ""), s
    path = export(tmp_path, "course.ics", course_calendar(course, CLINIC, stamp=STAMP))
    assert_readers_see([path], [expected(course, CLINIC)])


def test_a_nonexistent_time_is_written_as_the_instant_the_plan_moved_it_to(tmp_path: Path) -> None:
    course = plan("lozenge", date(2026, 3, 23), "Europe/Berlin", at=time(2, 30), calendar=EVERY_DAY)
    moved = next(s for s in course.sessions if s.day == date(2026, 3, 29))
    path = export(tmp_path, "c.ics", course_calendar(course, CLINIC, stamp=STAMP))
    for readings in read_all([path]):
        for reader, reading in readings.items():
            uid = event_uid(PREVIEW_SCOPE, "plan", moved.uid)
            event = next(e for e in reading["events"] if e["uid"] == uid)
            # 03:30 CEST, the first instant after the jump, is 01:30 UTC.
            assert event["start"] == "2026-03-29T01:30:00Z", reader


def test_header_is_complete_and_comes_before_the_first_event() -> None:
    data = course_calendar(plan("iv", date(2026, 3, 16), "Europe/Berlin"), CLINIC, stamp=STAMP)
    first_event = data.index(b"BEGIN:VEVENT\r\n")
    for line in (
        b"VERSION:2.0\r\n",
        f"PRODID:-//ketaplan//ketaplan {__version__}//EN\r\n".encode(),
        b"METHOD:PUBLISH\r\n",
        "X-WR-CALNAME:P-001 · IV ketamine · Ketamine clinic Mitte\r\n".encode(),
        "NAME:P-001 · IV ketamine · Ketamine clinic Mitte\r\n".encode(),
    ):
        assert data.count(b"\r\n" + line) == 1, line
        assert data.index(b"\r\n" + line) < first_event, line
    assert data.startswith(b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\n")
    assert b"METHOD:REQUEST" not in data
    (reading,) = read_agreed(data)
    assert reading["name"] == "P-001 · IV ketamine · Ketamine clinic Mitte"


def test_every_event_has_a_utc_dtstamp_a_sequence_and_utc_times_without_tzid() -> None:
    data = course_calendar(plan("iv", date(2026, 3, 16), "America/New_York"), CLINIC, stamp=STAMP)
    events = data.count(b"BEGIN:VEVENT")
    assert events == 12
    assert data.count(b"\r\nDTSTAMP:20260101T120000Z\r\n") == events
    assert data.count(b"\r\nSEQUENCE:0\r\n") == events
    assert data.count(b"\r\nDTSTART:") == data.count(b"\r\nDTEND:") == events
    for line in data.split(b"\r\n"):
        if line.startswith((b"DTSTART", b"DTEND")):
            assert line.endswith(b"Z"), line
            assert b";" not in line, line
    assert b"TZID" not in data
    assert b"VTIMEZONE" not in data
    (reading,) = read_agreed(data)
    assert len(reading["events"]) == events


def test_the_stamp_is_written_in_utc_whole_seconds_whatever_zone_it_is_given_in() -> None:
    stamp = datetime(
        2026, 1, 1, 13, 30, 15, 999_999, tzinfo=timezone(timedelta(hours=1, minutes=30))
    )
    data = course_calendar(plan("iv", date(2026, 3, 16), "UTC"), CLINIC, stamp=stamp)
    assert b"\r\nDTSTAMP:20260101T120015Z\r\n" in data
    (reading,) = read_agreed(data)
    assert {e["dtstamp"] for e in reading["events"]} == {"2026-01-01T12:00:15Z"}


def test_two_exports_of_the_same_course_have_the_same_uids_and_the_same_bytes() -> None:
    def export_once() -> bytes:
        return course_calendar(
            plan("esketamine", date(2026, 3, 16), "Europe/Berlin"), CLINIC, stamp=STAMP
        )

    first, second = export_once(), export_once()
    assert first == second
    (reading,) = read_agreed(first)
    uids = [e["uid"] for e in reading["events"]]
    assert len(uids) == len(set(uids)) == 18


def test_uids_differ_for_every_patient_and_session() -> None:
    one = plan("iv", date(2026, 3, 16), "UTC", patient="P-001")
    other = plan("iv", date(2026, 3, 16), "UTC", patient="P-002")
    uids = [e.uid for c in (one, other) for e in course_events(c, CLINIC)]
    assert len(uids) == len(set(uids)) == 24


def test_hostile_patient_codes_and_clinic_text_round_trip_through_every_reader(
    tmp_path: Path,
) -> None:
    files, wanted = [], []
    for number, patient in enumerate(HOSTILE):
        course = plan("iv", date(2026, 3, 16), "Europe/Berlin", patient=patient, lozenges=3)
        data = course_calendar(course, HOSTILE_CLINIC, stamp=STAMP)
        files.append(export(tmp_path, f"hostile-{number}.ics", data))
        want = expected(course, HOSTILE_CLINIC)
        name = crlf_to_text(f"{patient} · {course.protocol.title} · {HOSTILE_CLINIC.name}")
        want.update(name=name, x_wr_calname=name)
        for event in want["events"]:
            if event["location"] is not None:
                event["location"] = crlf_to_text(event["location"])
        wanted.append(want)
    assert_readers_see(files, wanted)


def test_hostile_text_adds_no_line_property_or_event() -> None:
    plain = plan("iv", date(2026, 3, 16), "Europe/Berlin", lozenges=3)
    hostile = plan("iv", date(2026, 3, 16), "Europe/Berlin", patient=HOSTILE[3], lozenges=3)

    def shape(data: bytes) -> list[str]:
        """Property names and components in order, from icalendar's parse."""
        from icalendar import Calendar

        return [
            f"{component.name}:{name}"
            for component in Calendar.from_ical(data).walk()
            for name in component
        ]

    clean = course_calendar(plain, CLINIC, stamp=STAMP)
    dirty = course_calendar(hostile, HOSTILE_CLINIC, stamp=STAMP)
    assert shape(dirty) == shape(clean)
    for marker in (b"\r\nBEGIN:", b"\r\nEND:", b"\r\nUID:", b"\r\nX-"):
        assert dirty.count(marker) == clean.count(marker), marker
    assert dirty.count(b"\r\n") == clean.count(b"\r\n") + extra_folds(dirty, clean)
    dirty_reading, clean_reading = read_agreed(dirty, clean)
    assert len(dirty_reading["events"]) == len(clean_reading["events"])


def extra_folds(dirty: bytes, clean: bytes) -> int:
    """Longer text only adds continuation lines, which start with a space."""
    return dirty.count(b"\r\n ") - clean.count(b"\r\n ")


PATIENT_CODES = st.text(
    st.characters(exclude_categories=["Cs", "Cc", "Zs", "Zl", "Zp"]) | st.sampled_from(",;\\:\"'"),
    min_size=1,
    max_size=40,
)
CLINIC_TEXT = st.text(
    st.characters(exclude_categories=["Cs"]) | st.sampled_from(',;\\\n\r:"'),
    max_size=120,
)


# A batch of 20 files an example, so ical.js (one node run a batch) reads every one.
@settings(max_examples=4, deadline=None)
@given(cases=st.lists(st.tuples(PATIENT_CODES, CLINIC_TEXT), min_size=20, max_size=20))
def test_any_patient_code_and_clinic_text_round_trip_through_every_reader(
    cases: list[tuple[str, str]],
) -> None:
    files, courses = [], []
    for patient, text in cases:
        course = plan("iv", date(2026, 3, 16), "Europe/Berlin", patient=patient, sessions=0)
        clinic = ClinicConfig(name=text or "x", location=text, alarm_text=text)
        files.append(course_calendar(course, clinic, stamp=STAMP))
        courses.append(course)
    for (patient, text), course, reading in zip(cases, courses, read_agreed(*files), strict=True):
        printable = crlf_to_text(
            "".join(
                "\ufffd" if (ch < " " and ch not in "\t\r\n") or ch == "\x7f" else ch for ch in text
            )
        )
        assert len(reading["events"]) == len(course.sessions)
        first = reading["events"][0]
        assert first["summary"].endswith(f" · {patient}")
        assert first["location"] == (printable or "x")
        assert reading["name"] == f"{patient} · IV ketamine · {printable or 'x'}"
        if printable:
            assert first["alarms"][0]["description"] == printable


def test_a_typed_backslash_n_reads_back_as_written_not_as_a_newline() -> None:
    # icalendar's own escaping turns a literal backslash-N into a newline (found by the
    # round-trip property above).
    course = plan("iv", date(2026, 3, 16), "UTC", sessions=1)
    clinic = ClinicConfig(name="A\\Nb", location="Room \\N 1", alarm_text="x\\N;")
    (reading,) = read_agreed(course_calendar(course, clinic, stamp=STAMP))
    first = reading["events"][0]
    assert first["location"] == "Room \\N 1"
    assert first["alarms"][0]["description"] == "x\\N;"
    assert reading["name"] == "P-001 · IV ketamine · A\\Nb"


def test_control_characters_that_icalendar_cannot_hold_are_replaced_not_written() -> None:
    course = plan("iv", date(2026, 3, 16), "UTC", sessions=1)
    clinic = ClinicConfig(location="Room\x00 1\x1b[31m\x7f")
    data = course_calendar(course, clinic, stamp=STAMP)
    for control in (b"\x00", b"\x1b", b"\x7f"):
        assert control not in data
    location = read_agreed(data)[0]["events"][0]["location"]
    assert location == "Room\ufffd 1\ufffd[31m\ufffd"


def test_home_doses_are_short_transparent_reminders_with_an_alarm_at_the_dose() -> None:
    course = plan("iv", date(2026, 3, 16), "Europe/Berlin", lozenges=3)
    events = course_events(course, CLINIC)
    home = [e for e in events if e.transparent]
    clinic = [e for e in events if not e.transparent]
    assert len(home) == sum(s.location == "home" for s in course.sessions) > 0
    assert len(clinic) == len(course.clinic_sessions)
    for event in home:
        assert event.location == ""
        assert event.alarm_minutes == 0
        assert event.summary.startswith("Ketamine lozenge ")
        assert " · home · P-001" in event.summary
        assert event.end - event.start == timedelta(minutes=15)  # type: ignore[operator]
        assert "not a clinic appointment" in event.description
    for event in clinic:
        assert event.alarm_minutes == 24 * 60
        assert event.location == CLINIC.location


def test_alarms_follow_the_clinic_config_and_can_be_turned_off() -> None:
    course = plan("iv", date(2026, 3, 16), "UTC", lozenges=3)
    off = course_calendar(course, replace(CLINIC, alarm_minutes=None), stamp=STAMP)
    assert b"VALARM" not in off
    assert all(e["alarms"] == [] for e in read_agreed(off)[0]["events"])
    two_hours = course_calendar(
        course, replace(CLINIC, alarm_minutes=120, alarm_text="See you soon"), stamp=STAMP
    )
    (reading,) = read_agreed(two_hours)
    clinic_alarms = [e["alarms"] for e in reading["events"] if e["transparency"] == "OPAQUE"]
    assert clinic_alarms
    assert all(
        a == [{"action": "DISPLAY", "trigger_seconds": -7200, "description": "See you soon"}]
        for a in clinic_alarms
    )


def test_without_a_clinic_location_events_are_at_the_clinic_by_name() -> None:
    course = plan("iv", date(2026, 3, 16), "UTC", sessions=1)
    events = course_events(course, ClinicConfig(name="Clinic North"))
    assert {e.location for e in events} == {"Clinic North"}


@pytest.mark.parametrize(
    ("protocol", "phrases"),
    [
        (
            "iv",
            [
                "drive you home",
                "Do not drive and do not go back to work for the rest of the day",
                "Rest",
            ],
        ),
        (
            "im",
            [
                "drive you home",
                "Do not drive and do not go back to work for the rest of the day",
                "Rest",
            ],
        ),
        (
            "esketamine",
            [
                "No food for 2 hours",
                "no liquids for 30 minutes",
                "at least 2 hours",
                "Do not drive until the next day, after a restful sleep",
            ],
        ),
        ("lozenge", ["home lozenge dose", "not a clinic appointment"]),
    ],
)
def test_each_route_describes_its_own_preparation_and_aftercare(
    protocol: str, phrases: list[str]
) -> None:
    course = plan(protocol, date(2026, 3, 16), "UTC", sessions=1, calendar=EVERY_DAY)
    description = course_events(course, CLINIC)[0].description
    for phrase in phrases:
        assert phrase in description
    if protocol == "lozenge":
        assert "food" not in description


def test_the_clinics_fasting_rule_and_crisis_line_reach_the_patients_calendar() -> None:
    course = plan("iv", date(2026, 3, 16), "UTC", sessions=1, calendar=EVERY_DAY)
    clinic = replace(CLINIC, fasting_solids_hours=8, crisis_line="0800 111 0111")
    description = course_events(course, clinic)[0].description
    assert "No solid food for 8 hours before your visit" in description
    assert "call 0800 111 0111 at once" in description


def test_summaries_name_route_phase_position_and_patient() -> None:
    course = plan("iv", date(2026, 3, 16), "UTC")
    summaries = [e.summary for e in course_events(course, CLINIC)]
    assert summaries[2] == "IV ketamine 3/6 · induction · P-001"
    assert summaries[6] == "IV ketamine 1/6 · maintenance · P-001"


def test_all_day_cancelled_and_categorised_events_read_the_same_everywhere(
    tmp_path: Path,
) -> None:
    events = [
        CalendarEvent(
            uid="a@test",
            summary="Clinic closed, all day",
            start=date(2026, 12, 24),
            end=date(2026, 12, 27),
            transparent=True,
            categories=("Closure", "a,b;c"),
        ),
        CalendarEvent(
            uid="b@test",
            summary="Cancelled visit",
            start=datetime(2026, 12, 28, 9, tzinfo=ZoneInfo("Australia/Adelaide")),
            end=datetime(2026, 12, 28, 10, 30, tzinfo=ZoneInfo("Australia/Adelaide")),
            sequence=3,
            status="CANCELLED",
            alarm_minutes=30,
        ),
    ]
    path = export(tmp_path, "misc.ics", calendar_bytes("Staff, Mitte", events, stamp=STAMP))
    for readings in read_all([path]):
        for reader, reading in readings.items():
            assert reading["name"] == "Staff, Mitte", reader
            day, visit = reading["events"]
            assert (day["start"], day["end"], day["all_day"]) == ("2026-12-24", "2026-12-27", True)
            assert day["categories"] == ["Closure", "a,b;c"], reader
            assert day["transparency"] == "TRANSPARENT"
            # 09:00 ACDT (+10:30) is 22:30 UTC the day before.
            assert (visit["start"], visit["end"]) == (
                "2026-12-27T22:30:00Z",
                "2026-12-28T00:00:00Z",
            )
            assert (visit["status"], visit["sequence"]) == ("CANCELLED", 3)
            # A DISPLAY alarm always has a DESCRIPTION: the summary when no text is given.
            assert visit["alarms"] == [
                {"action": "DISPLAY", "trigger_seconds": -1800, "description": "Cancelled visit"}
            ], reader


def test_an_empty_calendar_is_still_a_valid_calendar(tmp_path: Path) -> None:
    path = export(tmp_path, "empty.ics", calendar_bytes("Nobody", [], stamp=STAMP))
    check_raw_bytes(path.read_bytes())
    for readings in read_all([path]):
        for reader, reading in readings.items():
            assert reading["events"] == [], reader
            assert reading["method"] == "PUBLISH", reader


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"start": datetime(2026, 1, 1, 9), "end": datetime(2026, 1, 1, 10)}, "timezone-aware"),
        ({"start": date(2026, 1, 1), "end": datetime(2026, 1, 2, tzinfo=UTC)}, "both be dates"),
        (
            {
                "start": datetime(2026, 1, 1, 9, tzinfo=UTC),
                "end": datetime(2026, 1, 1, 9, tzinfo=UTC),
            },
            "after start",
        ),
        ({"start": date(2026, 1, 2), "end": date(2026, 1, 1)}, "after start"),
        ({"uid": "a\r\nb"}, "one non-empty line"),
        ({"uid": ""}, "one non-empty line"),
        ({"sequence": -1}, "sequence"),
        ({"alarm_minutes": -5}, "alarm_minutes"),
        ({"status": "DELETED"}, "status"),
    ],
)
def test_a_malformed_event_is_refused_when_built(kwargs: dict[str, object], message: str) -> None:
    base: dict[str, object] = {
        "uid": "x@test",
        "summary": "x",
        "start": datetime(2026, 1, 1, 9, tzinfo=UTC),
        "end": datetime(2026, 1, 1, 10, tzinfo=UTC),
    }
    with pytest.raises(ValueError, match=message):
        CalendarEvent(**{**base, **kwargs})  # type: ignore[arg-type]


def test_a_naive_stamp_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        calendar_bytes("x", [], stamp=datetime(2026, 1, 1))


@pytest.mark.parametrize(
    ("value", "stamp"),
    [
        (None, STAMP),
        ("", STAMP),
        ("0", datetime(1970, 1, 1, tzinfo=UTC)),
        ("1767225600", datetime(2026, 1, 1, tzinfo=UTC)),
        (" 1767225600\n", datetime(2026, 1, 1, tzinfo=UTC)),
    ],
)
def test_source_date_epoch_fixes_the_stamp(value: str | None, stamp: datetime) -> None:
    assert stamp_from_epoch(value, STAMP) == stamp


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            "yesterday",
            "SOURCE_DATE_EPOCH 'yesterday' is not a whole number of seconds since 1970-01-01 UTC",
        ),
        ("-1", "SOURCE_DATE_EPOCH '-1' is not a whole number of seconds since 1970-01-01 UTC"),
        ("1.5", "SOURCE_DATE_EPOCH '1.5' is not a whole number of seconds since 1970-01-01 UTC"),
        ("١٢٣", "SOURCE_DATE_EPOCH '١٢٣' is not a whole number of seconds since 1970-01-01 UTC"),
        ("99999999999999999999", "SOURCE_DATE_EPOCH '99999999999999999999' is after the year 9999"),
    ],
)
def test_a_bad_source_date_epoch_is_a_usage_error(value: str, message: str) -> None:
    with pytest.raises(UsageError) as caught:
        stamp_from_epoch(value, STAMP)
    assert str(caught.value) == message


GOLDEN_CASES = {
    "iv-course.ics": lambda: plan("iv", date(2026, 3, 16), "Europe/Berlin", lozenges=3),
    "esketamine-course.ics": lambda: plan("esketamine", date(2026, 9, 28), "Australia/Sydney"),
}


@pytest.mark.parametrize("name", sorted(GOLDEN_CASES))
def test_export_matches_the_golden_file_byte_for_byte(name: str) -> None:
    course = GOLDEN_CASES[name]()
    data = course_calendar(course, CLINIC, stamp=STAMP)
    path = GOLDEN / name
    if os.environ.get("KETAPLAN_REFRESH_GOLDEN") == "1":
        path.write_bytes(data)
    assert path.read_bytes() == data, f"{name} changed; see this module's docstring to refresh"


def test_golden_files_read_as_planned_in_every_reader() -> None:
    files = [GOLDEN / name for name in sorted(GOLDEN_CASES)]
    wanted = [expected(GOLDEN_CASES[name](), CLINIC) for name in sorted(GOLDEN_CASES)]
    assert_readers_see(files, wanted)
