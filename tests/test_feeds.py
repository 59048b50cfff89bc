"""`ketaplan feed` and `ketaplan serve` as a calendar client meets them: a real server
process on loopback, real HTTP, the three calendar readers on every answer, and hostile
requests that must get the right status and leak nothing."""

from __future__ import annotations

import gzip
import json
import os
import re
import socket
import threading
import time
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from tests.clirun import run
from tests.feedserver import Server, running
from tests.ics_readers import read_agreed, when

CLINIC = """[clinic]
name = "Lakeside"
timezone = "Europe/Berlin"
chairs = 2
hours = "08:00-20:00"
require_screening = false

[feeds]
patient = true
url = "https://calendar.example.org/ketaplan"

[rems]
program = "us-spravato"  # the REMS markers, which a Berlin clinic would not have
"""
URL = re.compile(r"https://calendar\.example\.org/ketaplan/feeds/([A-Za-z0-9_-]{43})\.ics\n")


def next_monday() -> date:
    # The server reads the real clock (its window is around today): courses start soon.
    today = date.today()
    return today + timedelta(days=7 - today.weekday())


START = next_monday().isoformat()


@pytest.fixture(autouse=True)
def _clinic(tmp_path: Path) -> None:
    (tmp_path / "ketaplan.toml").write_text(CLINIC, encoding="utf-8")


def book(capsys: pytest.CaptureFixture[str], patient: str, *args: str) -> None:
    result = run(
        capsys, "book", "--patient", patient, "--start", START, "--time", "09:00",
        "--maintenance-sessions", "1", *args,
    )  # fmt: skip
    assert result.code == 0, result.err


def create(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    """`ketaplan feed create ...`: the token of the URL it printed."""
    result = run(capsys, "feed", "create", *args)
    assert result.code == 0, result.err
    match = URL.fullmatch(result.out)
    assert match, result.out
    return match[1]


def booked_clinic(capsys: pytest.CaptureFixture[str]) -> tuple[str, str]:
    """Two patients booked, an esketamine one among them; a staff and a patient feed."""
    book(capsys, "P-001")
    assert run(capsys, "rems", "enroll", "--patient", "P-002", "--date", "today").code == 0
    book(capsys, "P-002", "--protocol", "esketamine")
    return create(capsys, "--staff"), create(capsys, "--patient", "P-001")


def feed(token: str) -> str:
    return f"/feeds/{token}.ics"


# --- feed create, list, revoke ------------------------------------------------------


def test_feed_create_prints_the_url_and_keeps_only_the_tokens_hash(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    book(capsys, "P-001")
    result = run(capsys, "feed", "create", "--staff")
    assert result.code == 0
    token = URL.fullmatch(result.out)[1]  # type: ignore[index]
    book_line, result_err = result.err.split("\n", 1)
    assert book_line.startswith("Book: ")
    assert result_err == (
        "Feed 1 (staff) never expires. The URL is shown only now:\n"
        "anyone who has it can read the feed; `ketaplan feed revoke 1` ends it.\n"
    )
    assert token.encode() not in (tmp_path / "book.sqlite").read_bytes()
    assert create(capsys, "--staff") != token  # random, 256 bits each


def test_a_patient_feed_expires_with_the_course_unless_told(
    capsys: pytest.CaptureFixture[str],
) -> None:
    book(capsys, "P-001")
    create(capsys, "--patient", "P-001")
    create(capsys, "--patient", "P-001", "--expires", "2099-12-31")
    listing = run(capsys, "feed", "list").out.splitlines()
    assert listing[0].split() == ["Id", "Kind", "Patient", "Created", "Answers", "through", "State"]
    last_session = next_monday() + timedelta(days=39)  # 6 induction + 1 maintenance, 4 weeks on
    first, second = (line.split() for line in listing[1:])
    assert first[:3] == ["1", "patient", "P-001"]
    assert date.fromisoformat(first[5]) <= last_session
    assert date.fromisoformat(first[5]) > next_monday()
    assert second[5:] == ["2099-12-31", "active"]


def test_feed_list_prints_json_and_csv_with_the_same_columns(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert run(capsys, "init").code == 0
    empty = run(capsys, "feed", "list", "--format", "json")
    assert (empty.code, empty.out) == (0, '{\n  "feeds": []\n}\n'), empty.err
    assert run(capsys, "feed", "list", "--format", "csv").out == (
        "id,kind,patient,created,answers_through,state\n"
    )
    book(capsys, "P-001")
    create(capsys, "--staff")
    create(capsys, "--patient", "P-001", "--expires", "2099-12-31")
    run(capsys, "feed", "revoke", "1")
    listed = json.loads(run(capsys, "feed", "list", "--format", "json").out)["feeds"]
    assert [
        (f["id"], f["kind"], f["patient"], f["answers_through"], f["state"]) for f in listed
    ] == [
        (1, "staff", None, None, "revoked"),
        (2, "patient", "P-001", "2099-12-31", "active"),
    ]
    assert datetime.fromisoformat(listed[0]["created"]).utcoffset() is not None
    rows = run(capsys, "feed", "list", "--format", "csv").out.splitlines()
    assert rows[1:] == [
        f"1,staff,,{listed[0]['created']},,revoked",
        f"2,patient,P-001,{listed[1]['created']},2099-12-31,active",
    ]
    wrong = run(capsys, "feed", "list", "--format", "xml")
    assert (wrong.code, wrong.err) == (2, "Error: --format 'xml' is not one of table, json, csv\n")


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        ([], 2, "give --staff or --patient CODE"),
        (["--staff", "--patient", "P-001"], 2, "give --staff or --patient CODE"),
        (["--staff", "--expires", "2001-01-01"], 2, "--expires 2001-01-01 is before today"),
        (["--staff", "--expires", "soon"], 2, "--expires 'soon' is not a date; use YYYY-MM-DD, "),
        (["--patient", "P-404"], 1, "P-404 has no active course in the book /"),
    ],
)
def test_feed_create_refuses_unclear_or_impossible_requests(
    capsys: pytest.CaptureFixture[str], args: list[str], code: int, message: str
) -> None:
    book(capsys, "P-001")
    result = run(capsys, "feed", "create", *args)
    assert (result.code, result.out) == (code, "")
    assert result.err.splitlines()[-1].startswith(f"Error: {message}"), result.err


def test_patient_feeds_need_the_clinics_opt_in(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "ketaplan.toml").write_text(CLINIC.replace("true", "false"), encoding="utf-8")
    book(capsys, "P-001")
    result = run(capsys, "feed", "create", "--patient", "P-001")
    assert (result.code, result.out) == (1, "")
    assert result.err.splitlines()[-1] == (
        "Error: patient feeds are off for this clinic: a patient's feed puts health data in "
        "the patient's calendar provider; to offer them, set `patient = true` under [feeds] "
        "in the clinic's config file and `ketaplan clinic apply` it"
    )


def test_revoking_is_kept_and_an_unknown_feed_is_refused(
    capsys: pytest.CaptureFixture[str],
) -> None:
    book(capsys, "P-001")
    create(capsys, "--staff")
    revoked = run(capsys, "feed", "revoke", "1")
    assert revoked.code == 0
    assert re.fullmatch(
        r"Feed 1 is revoked since [0-9-]+ [0-9:]+: its URL answers 404\.\n", revoked.out
    )
    assert run(capsys, "feed", "list").out.splitlines()[1].split()[-1] == "revoked"
    missing = run(capsys, "feed", "revoke", "7", "--book", "book.sqlite")
    assert (missing.code, missing.err.splitlines()[-1]) == (
        1,
        "Error: there is no feed 7 in the book book.sqlite",
    )


# --- the server -------------------------------------------------------------------


def test_a_feed_is_a_full_snapshot_with_the_headers_subscribers_need(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    staff, patient = booked_clinic(capsys)
    with running(tmp_path) as server:
        status, headers, body = server.request("GET", feed(staff))
        assert status == 200
        assert headers["content-type"] == "text/calendar; charset=utf-8"
        assert re.fullmatch(r'W/"[0-9a-f]{32}"', headers["etag"])
        assert headers["cache-control"] == "private, no-cache"
        assert body.startswith(b"BEGIN:VCALENDAR\r\n")
        assert body.endswith(b"END:VCALENDAR\r\n")
        for line in (
            b"X-WR-CALNAME:Lakeside \xc2\xb7 staff",
            b"X-WR-TIMEZONE:Europe/Berlin",
            b"REFRESH-INTERVAL;VALUE=DURATION:PT1H",
            b"X-PUBLISHED-TTL:PT1H",
        ):
            assert line + b"\r\n" in body.split(b"BEGIN:VEVENT")[0]
        patient_body = server.request("GET", feed(patient))[2]
        staff_reading, patient_reading = read_agreed(body, patient_body)
        # Every clinic session from 14 days back to 12 weeks ahead, then the REMS markers
        # due in that window, one per esketamine session due in it.
        first, last = date.today() - timedelta(days=14), date.today() + timedelta(days=84)
        agenda = run(
            capsys, "agenda", "--format", "json", "--from", first.isoformat(), "--to",
            last.isoformat(),
        )  # fmt: skip
        sessions = json.loads(agenda.out)["sessions"]
        events = staff_reading["events"]
        timed = [e for e in events if not e["all_day"]]
        markers = [e for e in events if e["all_day"]]
        starts = [when(datetime.fromisoformat(s["start"])) for s in sessions]
        assert [e["start"] for e in timed] == starts
        assert [e["summary"].split(" · ")[2] for e in timed] == [s["patient"] for s in sessions]
        due = sorted(
            date.fromisoformat(s["start"][:10]) + timedelta(days=7)
            for s, e in zip(sessions, timed, strict=True)
            if e["summary"].startswith("Esketamine")
        )
        assert [e["start"] for e in markers] == [d.isoformat() for d in due if d <= last]
        assert all(e["uid"].startswith("team-") for e in timed)
        assert all(e["uid"].startswith("rems-") for e in markers)
        assert patient_reading["x_wr_calname"] == "P-001 · IV ketamine · Lakeside"
        assert all(e["uid"].startswith("appt-") for e in patient_reading["events"])
        # The same state gives the same bytes: DTSTAMP is the book's last change.
        assert server.request("GET", feed(staff))[2] == body


def test_if_none_match_gets_304_until_the_book_changes(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    staff, _ = booked_clinic(capsys)
    with running(tmp_path) as server:
        _, headers, _ = server.request("GET", feed(staff))
        etag = headers["etag"]
        for asked in (etag, etag.removeprefix("W/"), f'"other", {etag}', "*"):
            status, again, body = server.request("GET", feed(staff), {"If-None-Match": asked})
            assert (status, again["etag"], body) == (304, etag, b"")
        assert server.request("GET", feed(staff), {"If-None-Match": '"other"'})[0] == 200
        book(capsys, "P-003")  # another coordinator books meanwhile
        status, changed, body = server.request("GET", feed(staff), {"If-None-Match": etag})
        assert status == 200
        assert changed["etag"] != etag
        assert b"P-003" in body


def test_head_and_gzip(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    staff, _ = booked_clinic(capsys)
    with running(tmp_path) as server:
        _, plain_headers, plain = server.request("GET", feed(staff))
        status, headers, body = server.request("HEAD", feed(staff))
        assert (status, body) == (200, b"")
        assert headers["content-type"] == "text/calendar; charset=utf-8"
        assert headers["etag"] == plain_headers["etag"]
        assert int(headers["content-length"]) == len(plain)
        status, headers, body = server.request("GET", feed(staff), {"Accept-Encoding": "gzip"})
        assert (status, headers["content-encoding"]) == (200, "gzip")
        assert gzip.decompress(body) == plain
        assert len(body) < len(plain) / 3


def test_unknown_revoked_and_expired_tokens_get_the_same_404(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    staff, patient = booked_clinic(capsys)
    revoked = create(capsys, "--staff")
    assert run(capsys, "feed", "revoke", "3").code == 0
    expired = create(capsys, "--staff", "--expires", "today")
    with running(tmp_path) as server:
        assert server.request("GET", feed(expired))[0] == 200  # until the day ends
    # The server's clock a day on: the same feed has expired.
    import sqlite3

    db = sqlite3.connect(tmp_path / "book.sqlite")
    db.execute("UPDATE feeds SET expires_utc = '2000-01-01T00:00:00Z' WHERE id = 4")
    db.commit()
    db.close()
    unknown = "A" * 43
    with running(tmp_path) as server:
        answers = set()
        for token in (revoked, expired, unknown, staff[:-1] + ("B" if staff[-1] != "B" else "C")):
            status, headers, body = server.request("GET", feed(token))
            del headers["date"]
            answers.add((status, tuple(sorted(headers.items())), body))
        assert len(answers) == 1
        status, _, body = answers.pop()
        assert (status, body) == (404, b"Not Found\n")
        assert server.request("GET", feed(patient))[0] == 200


def test_patient_feeds_stop_when_the_clinic_opts_out(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    staff, patient = booked_clinic(capsys)
    (tmp_path / "ketaplan.toml").write_text(CLINIC.replace("true", "false"), encoding="utf-8")
    applied = run(capsys, "clinic", "apply", "ketaplan.toml")  # the book carries its clinic
    assert applied.code == 0, applied.err
    with running(tmp_path) as server:
        assert server.request("GET", feed(patient))[0] == 404
        assert server.request("GET", feed(staff))[0] == 200


def test_the_window_option_narrows_the_staff_feed(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    staff, _ = booked_clinic(capsys)
    with running(tmp_path, "--window", "0d:7d") as server:
        reading = read_agreed(server.request("GET", feed(staff))[2])[0]
    days = {e["start"][:10] for e in reading["events"] if not e["all_day"]}
    assert days
    assert max(days) <= (date.today() + timedelta(days=8)).isoformat()


# --- hostile requests -------------------------------------------------------------


def raw(server: Server, data: bytes) -> bytes:
    """Bytes sent as they are (no client library tidies the path), the answer read."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(data)
        chunks = []
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks)


def status_of(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else 0


def test_hostile_requests_get_the_right_status_and_leak_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    staff, patient = booked_clinic(capsys)
    with running(tmp_path) as server:
        for path in (
            "/feeds/../book.sqlite", "/../../etc/passwd", "/feeds/%2e%2e%2fbook.sqlite",
            "/feeds/" + staff, "/feeds/" + staff + ".ics/x", "/feeds/.ics", "/feeds/P-001.ics",
            "/feeds/" + "A" * 21 + ".ics", "/feeds/" + "A" * 129 + ".ics",
            "/feeds/" + staff.upper() + ".ics", "/ketaplan.toml", "/book.sqlite",
            "/feeds/" + staff + ".ics%00", "/feeds/%00.ics",
        ):  # fmt: skip
            answer = raw(
                server, f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode()
            )
            assert status_of(answer) == 404, (path, answer[:80])
            assert b"BEGIN:VCALENDAR" not in answer
        for method in ("POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "PROPFIND"):
            status, headers, body = server.request(method, feed(staff))
            assert status == 405, method
            assert set(headers["allow"].split(", ")) == {"GET", "HEAD"}
            assert b"VCALENDAR" not in body
            assert server.request(method, "/")[0] == 405
        long_path = "/feeds/" + "A" * 100_000 + ".ics"
        assert status_of(raw(server, f"GET {long_path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())) in (
            0, 400, 404, 414, 431,
        )  # fmt: skip
        huge = "X-Junk: " + "j" * 200_000
        answer = raw(server, f"GET {feed(staff)} HTTP/1.1\r\nHost: x\r\n{huge}\r\n\r\n".encode())
        assert status_of(answer) in (0, 400, 431)
        assert b"VCALENDAR" not in answer
        many = "".join(f"X-H{i}: v\r\n" for i in range(5000))
        answer = raw(server, f"GET {feed(staff)} HTTP/1.1\r\nHost: x\r\n{many}\r\n".encode())
        assert status_of(answer) in (0, 200, 400, 431)
        assert status_of(raw(server, b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" * 8)) in (
            0,
            400,
        )
        # Still serving, and nothing in its log names a token or a patient.
        assert server.request("GET", feed(staff))[0] == 200
        assert server.request("GET", feed(patient))[0] == 200
        logs = server.logs()
    assert '"GET /feeds/<token> HTTP/1.1" 200' in logs
    assert '"GET <other path> HTTP/1.1" 404' in logs
    for secret in (staff, patient, staff[:12], patient[:12], "P-001", "P-002", "etc/passwd"):
        assert secret not in logs
    assert "Traceback" not in logs


def test_many_clients_at_once_all_get_their_feed(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """200 clients on loopback for a few seconds (KETAPLAN_LOAD_SECONDS=30 for the long
    run): every answer a 200 or a 304, never an error or a dropped connection."""
    import http.client

    staff, _ = booked_clinic(capsys)
    seconds = float(os.environ.get("KETAPLAN_LOAD_SECONDS", "3"))
    statuses: Counter[int] = Counter()
    errors: list[str] = []
    lock = threading.Lock()
    with running(tmp_path) as server:
        etag = server.request("GET", feed(staff))[1]["etag"]
        deadline = time.monotonic() + seconds

        def client(number: int) -> None:
            connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
            seen: Counter[int] = Counter()
            try:
                while time.monotonic() < deadline:
                    # Half revalidate, as calendar clients do; half fetch the whole feed.
                    headers = {"If-None-Match": etag} if number % 2 else {}
                    connection.request("GET", feed(staff), headers=headers)
                    response = connection.getresponse()
                    response.read()
                    seen[response.status] += 1
            except OSError as exc:
                with lock:
                    errors.append(repr(exc))
            finally:
                connection.close()
                with lock:
                    statuses.update(seen)

        threads = [threading.Thread(target=client, args=(n,)) for n in range(200)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert server.request("GET", "/")[0] == 200
        logs = server.logs()
    assert errors == []
    assert set(statuses) == {200, 304}
    assert statuses[200] >= 100
    assert statuses[304] >= 100
    assert "Traceback" not in logs
    assert "ERROR" not in logs


def test_a_feed_revoked_while_the_server_runs_answers_404_at_once(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    staff, patient = booked_clinic(capsys)
    with running(tmp_path) as server:
        etag = server.request("GET", feed(staff))[1]["etag"]
        assert server.request("GET", feed(staff), {"If-None-Match": etag})[0] == 304
        assert run(capsys, "feed", "revoke", "1").code == 0
        assert server.request("GET", feed(staff), {"If-None-Match": etag})[0] == 404
        assert server.request("GET", feed(staff))[0] == 404
        assert server.request("GET", feed(patient))[0] == 200


def test_two_staff_feeds_answer_the_same_calendar_with_the_same_etag(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    first, _ = booked_clinic(capsys)
    second = create(capsys, "--staff")
    with running(tmp_path) as server:
        one = server.request("GET", feed(first))
        two = server.request("GET", feed(second))
        assert (one[0], two[0]) == (200, 200)
        assert one[1]["etag"] == two[1]["etag"]
        assert one[2] == two[2]
        assert server.request("GET", feed(second), {"If-None-Match": one[1]["etag"]})[0] == 304
        book(capsys, "P-003")
        three = server.request("GET", feed(second))
        assert three[1]["etag"] != one[1]["etag"]
        assert b"P-003" in three[2]
