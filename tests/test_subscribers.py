"""The feeds under real subscribers: vdirsyncer's `http` storage syncs the staff feed into
a vdir that khal reads, as a calendar client subscribed to the URL would; Radicale, a
CalDAV server, takes every event of every feed. All run here, on loopback."""

from __future__ import annotations

import http.client
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

import pytest
from icalendar import Calendar

from tests.clirun import run
from tests.feedserver import free_port, running
from tests.test_feeds import CLINIC, START, book, booked_clinic, create, feed

BIN = Path(sys.executable).parent


@pytest.fixture(autouse=True)
def _clinic(tmp_path: Path) -> None:
    (tmp_path / "ketaplan.toml").write_text(CLINIC, encoding="utf-8")


def tool(name: str) -> str:
    found = shutil.which(name, path=str(BIN)) or shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: pip install -e '.[test]' installs it")
    return found


def subscribe(tmp_path: Path, url: str) -> tuple[Path, Path]:
    """vdirsyncer and khal configured as a subscriber of `url`: their config files."""
    vdir = tmp_path / "vdir" / "staff"
    vdir.mkdir(parents=True)
    (tmp_path / "status").mkdir()
    vdirsyncer = tmp_path / "vdirsyncer.conf"
    vdirsyncer.write_text(
        f"""[general]
status_path = "{tmp_path / "status"}/"

[pair staff]
a = "staff_feed"
b = "staff_local"
collections = null
conflict_resolution = "a wins"

[storage staff_feed]
type = "http"
url = "{url}"

[storage staff_local]
type = "filesystem"
path = "{vdir}/"
fileext = ".ics"
""",
        encoding="utf-8",
    )
    khal = tmp_path / "khal.conf"
    khal.write_text(
        f"""[calendars]
[[staff]]
path = {vdir}/
type = calendar

[locale]
timeformat = %H:%M
dateformat = %Y-%m-%d
longdateformat = %Y-%m-%d
datetimeformat = %Y-%m-%d %H:%M
longdatetimeformat = %Y-%m-%d %H:%M
local_timezone = Europe/Berlin
default_timezone = Europe/Berlin

[sqlite]
path = {tmp_path / "khal.db"}
""",
        encoding="utf-8",
    )
    return vdirsyncer, khal


def sync(config: Path, *command: str) -> None:
    proc = subprocess.run(
        [tool("vdirsyncer"), "-c", str(config), *(command or ("sync",))],
        capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr


def khal_list(config: Path) -> list[str]:
    """Every event khal shows from START on: `date time title`, in its order."""
    proc = subprocess.run(
        [tool("khal"), "-c", str(config), "list", "--day-format", "",
         "--format", "{start} {title}", START, "120d"],
        capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return [line for line in proc.stdout.splitlines() if line.strip()]


def test_a_subscriber_sees_moves_and_cancellations_and_keeps_no_stale_event(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    book(capsys, "P-001")
    book(capsys, "P-002")
    token = create(capsys, "--staff")
    with running(tmp_path) as server:
        vdirsyncer, khal = subscribe(tmp_path, f"http://127.0.0.1:{server.port}{feed(token)}")
        sync(vdirsyncer, "discover")
        sync(vdirsyncer)
        first = khal_list(khal)
        assert f"{START} 09:00 IV ketamine 1/6 · induction · P-001 · chair 1" in first
        assert f"{START} 09:00 IV ketamine 1/6 · induction · P-002 · chair 2" in first
        assert len(first) == 14

        # P-001's course moved to 14:00: the same sessions, so the same UIDs, later.
        book(capsys, "P-001", "--time", "14:00", "--replace", "--yes")
        sync(vdirsyncer)
        moved = khal_list(khal)
        assert f"{START} 14:00 IV ketamine 1/6 · induction · P-001 · chair 1" in moved
        assert not any("09:00" in line and "P-001" in line for line in moved)
        assert len(moved) == 14

        # P-002's course replaced by one a week later: the old sessions are cancelled.
        later = (date_of(START) + timedelta(days=7)).isoformat()
        result = run(
            capsys, "book", "--patient", "P-002", "--start", later, "--time", "10:00",
            "--maintenance-sessions", "1", "--replace", "--yes",
        )  # fmt: skip
        assert result.code == 0, result.err
        sync(vdirsyncer)
        replaced = khal_list(khal)
    p002 = [line for line in replaced if "P-002" in line]
    assert f"{START} 09:00 Cancelled: IV ketamine 1/6 · induction · P-002 · chair 2" in p002
    assert f"{later} 10:00 IV ketamine 1/6 · induction · P-002 · chair 1" in p002
    stale = [line for line in p002 if "09:00" in line and "Cancelled: " not in line]
    assert stale == []
    assert len([line for line in p002 if "Cancelled: " not in line]) == 7


def date_of(text: str) -> date:
    return date.fromisoformat(text)


@contextmanager
def radicale(tmp_path: Path) -> Iterator[int]:
    """A Radicale CalDAV server with no authentication on a loopback port."""
    port = free_port()
    storage = tmp_path / "radicale"
    log = (tmp_path / "radicale.log").open("wb")
    process = subprocess.Popen(
        [tool("radicale"), "--server-hosts", f"127.0.0.1:{port}",
         "--storage-filesystem-folder", str(storage), "--auth-type", "none",
         "--rights-type", "owner_only", "--logging-level", "warning"],
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                connection.request("OPTIONS", "/")
                connection.getresponse().read()
                connection.close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise AssertionError((tmp_path / "radicale.log").read_text()) from None
                time.sleep(0.1)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def dav(port: int, method: str, path: str, body: bytes = b"", **headers: str) -> int:
    import base64

    auth = base64.b64encode(b"clinic:x").decode()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(
            method, path, body=body, headers={"Authorization": f"Basic {auth}", **headers}
        )
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def test_radicale_takes_every_event_of_every_feed_and_the_preview_in_one_calendar(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The staff feed, a patient's feed and the patient's `plan` preview, all in one
    CalDAV calendar: Radicale refuses a second event with a UID the calendar holds
    (409), as Google merges one UID within an account, so this fails if a preview, a
    patient's event and a staff event of one session shared a UID."""
    staff, patient = booked_clinic(capsys)
    preview = run(
        capsys, "plan", "--patient", "P-001", "--start", START, "--time", "09:00",
        "--maintenance-sessions", "1", "--ics", "-",
    )  # fmt: skip
    assert preview.code == 0, preview.err
    with running(tmp_path) as server, radicale(tmp_path) as port:
        files = [
            server.request("GET", feed(staff))[2],
            server.request("GET", feed(patient))[2],
            preview.out.encode(),
        ]
        assert dav(port, "MKCOL", "/clinic/everything/", _MKCALENDAR, **_XML) == 201
        uids = []
        for data in files:
            calendar = Calendar.from_ical(data)
            events = calendar.walk("VEVENT")
            assert events
            for event in events:
                one = Calendar()
                for key in ("VERSION", "PRODID"):
                    one.add(key, calendar[key])
                one.add_component(event)
                uids.append(str(event["UID"]))
                status = dav(
                    port, "PUT", f"/clinic/everything/{len(uids)}.ics", one.to_ical(),
                    **{"Content-Type": "text/calendar; charset=utf-8"},
                )  # fmt: skip
                assert status == 201, (uids[-1], status)
        assert dav(port, "PROPFIND", "/clinic/everything/", Depth="1") == 207
    assert {uid[:5] for uid in uids} == {"team-", "rems-", "appt-", "plan-"}
    # None is a substring of another (a CalDAV text-match on UID is a substring match).
    assert not [(a, b) for a in uids for b in uids if a != b and a in b]


_XML = {"Content-Type": "application/xml; charset=utf-8"}
_MKCALENDAR = b"""<?xml version="1.0" encoding="utf-8"?>
<D:mkcol xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:set><D:prop>
    <D:resourcetype><D:collection/><C:calendar/></D:resourcetype>
  </D:prop></D:set>
</D:mkcol>"""
