"""Three iCalendar readers that ketaplan did not write, each reduced to the same plain form.

- vobject with validate=True (Radicale's parser; strict about required properties),
- icalendar (khal's parser),
- Mozilla's ical.js (Thunderbird's parser), run with node on tests/ical_read.mjs.

A missing node or ical.js fails the test: CI installs both (`npm ci --prefix tests`).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

TESTS = Path(__file__).parent
NODE_SCRIPT = TESTS / "ical_read.mjs"
# The event fields each reader reports; everything else a file holds is compared by name.
Reading = dict[str, Any]


def when(value: date) -> str:
    """A start or end as every reader reports it: UTC `...Z` for times, ISO for dates."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return value.isoformat()


def read_vobject(data: bytes) -> Reading:
    import vobject

    calendar = vobject.readOne(data.decode("utf-8"), validate=True)
    # A second parse that must find exactly one calendar: nothing leaked past END.
    assert len(list(vobject.readComponents(data.decode("utf-8"), validate=True))) == 1
    header = {line.name.lower(): line.value for line in calendar.lines()}
    events = []
    for vevent in calendar.components():
        assert vevent.name == "VEVENT", vevent.name
        props = {line.name: line for line in vevent.lines()}
        alarms = [
            {
                "action": valarm.action.value,
                "trigger_seconds": int(valarm.trigger.value.total_seconds()),
                "description": valarm.description.value,
            }
            for valarm in vevent.components()
        ]
        start = vevent.dtstart.value
        events.append(
            {
                "uid": vevent.uid.value,
                "summary": vevent.summary.value,
                "start": when(start),
                "end": when(vevent.dtend.value),
                "all_day": not isinstance(start, datetime),
                "dtstamp": when(vevent.dtstamp.value),
                "sequence": int(vevent.sequence.value),
                "description": _value(props.get("DESCRIPTION")),
                "location": _value(props.get("LOCATION")),
                "transparency": _value(props.get("TRANSP")),
                "status": _value(props.get("STATUS")),
                "class": _value(props.get("CLASS")),
                "last_modified": _when(props.get("LAST-MODIFIED")),
                "categories": [
                    c for line in vevent.contents.get("categories", []) for c in line.value
                ],
                "alarms": alarms,
            }
        )
    return {
        "version": header["version"],
        "prodid": header["prodid"],
        "method": header["method"],
        "name": header["name"],
        "x_wr_calname": header["x-wr-calname"],
        "x_wr_timezone": header.get("x-wr-timezone"),
        "refresh_interval": header.get("refresh-interval"),
        "x_published_ttl": header.get("x-published-ttl"),
        "components": [c.name.lower() for c in calendar.components()],
        "events": events,
    }


def _value(line: Any) -> Any:
    return None if line is None else line.value


def _when(line: Any) -> str | None:
    return None if line is None else when(line.value)


def read_icalendar(data: bytes) -> Reading:
    from icalendar import Calendar
    from icalendar.parser import unescape_backslash

    calendar = Calendar.from_ical(data)
    events = []
    for vevent in calendar.subcomponents:
        start = vevent.decoded("DTSTART")
        alarms = [
            {
                "action": str(valarm["ACTION"]),
                "trigger_seconds": int(valarm.decoded("TRIGGER").total_seconds()),
                "description": str(valarm["DESCRIPTION"]),
            }
            for valarm in vevent.subcomponents
        ]
        categories = vevent.get("CATEGORIES")
        events.append(
            {
                "uid": str(vevent["UID"]),
                "summary": str(vevent["SUMMARY"]),
                "start": when(start),
                "end": when(vevent.decoded("DTEND")),
                "all_day": not isinstance(start, datetime),
                "dtstamp": when(vevent.decoded("DTSTAMP")),
                "sequence": int(vevent.decoded("SEQUENCE")),
                "description": _text(vevent.get("DESCRIPTION")),
                "location": _text(vevent.get("LOCATION")),
                "transparency": _text(vevent.get("TRANSP")),
                "status": _text(vevent.get("STATUS")),
                "class": _text(vevent.get("CLASS")),
                "last_modified": (
                    when(vevent.decoded("LAST-MODIFIED")) if "LAST-MODIFIED" in vevent else None
                ),
                "categories": [str(c) for c in categories.cats] if categories else [],
                "alarms": alarms,
            }
        )
    return {
        "version": str(calendar["VERSION"]),
        "prodid": str(calendar["PRODID"]),
        "method": str(calendar["METHOD"]),
        # icalendar 7 reads NAME and X-WR-CALNAME as untyped, still escaped; RFC 7986
        # types NAME as TEXT, so unescape them with icalendar's own RFC 5545 unescaper.
        "name": unescape_backslash(str(calendar["NAME"])),
        "x_wr_calname": unescape_backslash(str(calendar["X-WR-CALNAME"])),
        "x_wr_timezone": _text(calendar.get("X-WR-TIMEZONE")),
        "refresh_interval": _raw(calendar.get("REFRESH-INTERVAL")),
        "x_published_ttl": _raw(calendar.get("X-PUBLISHED-TTL")),
        "components": [str(c.name).lower() for c in calendar.subcomponents],
        "events": events,
    }


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _raw(value: Any) -> str | None:
    if value is None:
        return None
    return value.to_ical().decode() if hasattr(value, "to_ical") else str(value)


def read_icaljs(paths: Sequence[Path]) -> list[Reading]:
    """Parse files with ical.js in one node run (node starts in ~50 ms; batch them)."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed; the ical.js reader needs it (CI installs it)")
    if not (TESTS / "node_modules" / "ical.js").is_dir():
        pytest.fail("ical.js is not installed: run `npm ci --prefix tests`")
    proc = subprocess.run(
        [node, str(NODE_SCRIPT), *map(str, paths)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=False,
        timeout=120,
    )
    if proc.returncode != 0:
        pytest.fail(f"ical.js could not read the files: {proc.stderr.strip()}")
    readings: list[Reading] = json.loads(proc.stdout)
    return readings


def read_all(files: Sequence[Path]) -> list[dict[str, Reading]]:
    """Every file through every reader: one {reader: reading} per file."""
    from_icaljs = read_icaljs(files)
    result = []
    for path, icaljs in zip(files, from_icaljs, strict=True):
        data = path.read_bytes()
        result.append(
            {"vobject": read_vobject(data), "icalendar": read_icalendar(data), "ical.js": icaljs}
        )
    return result


def read_agreed(*files: bytes) -> list[Reading]:
    """Each file's reading, after checking its raw bytes and that all three readers agree."""
    with tempfile.TemporaryDirectory() as directory:
        paths = []
        for number, data in enumerate(files):
            check_raw_bytes(data)
            paths.append(Path(directory) / f"{number}.ics")
            paths[-1].write_bytes(data)
        readings = read_all(paths)
    for readings_of_file in readings:
        first = readings_of_file["vobject"]
        for reader, reading in readings_of_file.items():
            assert reading == first, f"{reader} and vobject read the file differently"
    return [r["vobject"] for r in readings]


def check_raw_bytes(data: bytes) -> None:
    """CRLF only, a final CRLF, no line over 75 octets, valid UTF-8, no empty line."""
    data.decode("utf-8")  # raises on invalid UTF-8
    assert data.endswith(b"\r\n")
    assert b"\r" not in data.replace(b"\r\n", b""), "a bare CR"
    assert b"\n" not in data.replace(b"\r\n", b""), "a bare LF"
    lines = data.split(b"\r\n")[:-1]
    too_long = [line for line in lines if len(line) > 75]
    assert not too_long, too_long[0]
    assert all(line.strip() for line in lines), "an empty or blank line"
    for line in lines:
        # A fold never splits a UTF-8 sequence: each physical line decodes on its own.
        line.decode("utf-8")


def trigger(minutes: int) -> int:
    return int(timedelta(minutes=-minutes).total_seconds())
