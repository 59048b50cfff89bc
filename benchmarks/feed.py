"""Benchmark: the staff calendar of a large clinic as an export and as a feed.

Run: python benchmarks/feed.py [--patients 5000] [--dir DIR] [--rounds 3] [--requests 3000]

Books a roster of `--patients` patients (as benchmarks/book_roster.py does, starting next
Monday so that the feed's window around today holds sessions) into DIR (kept and reused
when given), then measures:

1. a year's staff export (`ketaplan export --staff`, 52 weeks) in a fresh process: its
   peak memory (target: at most 200 MB) and its time;
2. in this process, alternating rounds, the export path (the book read, the events made
   and streamed to a file) against a bare icalendar serialization of the same events
   (a Calendar of icalendar Events, plain `add` calls, one `to_ical`), byte for byte
   the same file (target: within 1.2x). Both in CPU time of this process, best of the
   rounds: on a machine shared with other work, wall time varies by 30% run to run;
3. `ketaplan serve` on the book: the staff feed's cold response (first request, 12-week
   window: the calendar built), a full response again (the build kept until the book
   changes), and a 304 (If-None-Match) against a bare `GET /` on the same server and
   connection (target: within 1.2x).

Exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import gc
import http.client
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
import book_roster  # the roster and clinic of the booking benchmark

from ketaplan import __version__
from ketaplan.formats.ics import CalendarEvent

MEMORY_LIMIT_MB = 200
TIME_RATIO = 1.2
NOT_MODIFIED_RATIO = 1.2
ZONE = book_roster.ZONE


def next_monday() -> date:
    today = date.today()
    return today + timedelta(days=7 - today.weekday())


def ketaplan(*args: str) -> list[str]:
    return [sys.executable, "-m", "ketaplan", *args]


def make_book(directory: Path, patients: int) -> Path:
    book = directory / "book.sqlite"
    if book.exists():
        return book
    directory.mkdir(parents=True, exist_ok=True)
    book_roster.FIRST_START = next_monday()
    # Half as many chairs again as the booking benchmark's clinic: every patient fits,
    # whatever the week the roster starts in.
    clinic = book_roster.clinic_toml(patients)
    chairs = int(clinic.split("chairs = ")[1].split("\n")[0])
    clinic = clinic.replace(f"chairs = {chairs}\n", f"chairs = {chairs * 3 // 2}\n")
    (directory / "ketaplan.toml").write_text(
        clinic + '\n[feeds]\npatient = true\n\n[rems]\nprogram = "us-spravato"\n',
        encoding="utf-8",
    )
    (directory / "roster.csv").write_text(book_roster.roster_csv(patients), encoding="utf-8")
    print(f"booking {patients} patients into {book} ...", flush=True)
    started = time.perf_counter()
    subprocess.run(
        ketaplan("book", "--roster", "roster.csv", "--book", str(book)),
        cwd=directory, check=True, capture_output=True,
    )  # fmt: skip
    print(f"  booked in {time.perf_counter() - started:.1f} s", flush=True)
    return book


def year(first: date) -> tuple[str, str]:
    return first.isoformat(), (first + timedelta(days=52 * 7 - 1)).isoformat()


# A process that runs one export and reports its own peak resident memory.
_PEAK = """
import resource, sys
from ketaplan.cli import main
code = main(sys.argv[1:])
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)
sys.exit(code)
"""


def export_process(directory: Path, book: Path, out: Path) -> tuple[float, float, int]:
    """Seconds, peak MB and events of `ketaplan export --staff` for a year, fresh process."""
    first, last = year(next_monday())
    args = (
        "export",
        "--staff",
        "--from",
        first,
        "--to",
        last,
        "--ics",
        str(out),
        "--book",
        str(book),
    )
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1767225600"}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _PEAK, *args], cwd=directory, env=env, capture_output=True,
        text=True, check=True,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    lines = done.stderr.strip().splitlines()
    wrote = next(line for line in lines if line.startswith("Wrote "))
    events = int(wrote.split()[1])  # "Wrote N events to ..."
    return seconds, int(lines[-1]) / 1024, events


def ketaplan_export(book: Path, directory: Path, out: Path) -> float:
    """The export path in this process: the book read, events made and streamed."""
    from ketaplan.booking.calendars import staff_calendar
    from ketaplan.formats.config_file import load_config
    from ketaplan.formats.ics import write_calendar
    from ketaplan.store import open_book

    clinic = load_config(directory / "ketaplan.toml")
    first, last = (date.fromisoformat(d) for d in year(next_monday()))
    started = time.process_time()
    opened = open_book(book, create=False)
    calendar = staff_calendar(opened, clinic, ZONE, first, last)
    with out.open("wb", buffering=1 << 20) as file:
        write_calendar(file.write, calendar.header, calendar.events, stamp=STAMP)
    opened.close()
    return time.process_time() - started


STAMP = datetime(2026, 1, 1, tzinfo=UTC)


def same_events(book: Path, directory: Path) -> tuple[Any, list[CalendarEvent]]:
    from ketaplan.booking.calendars import staff_calendar
    from ketaplan.formats.config_file import load_config
    from ketaplan.store import open_book

    clinic = load_config(directory / "ketaplan.toml")
    first, last = (date.fromisoformat(d) for d in year(next_monday()))
    opened = open_book(book, create=False)
    calendar = staff_calendar(opened, clinic, ZONE, first, last)
    events = list(calendar.events)
    opened.close()
    return calendar.header, events


def bare_export(header: Any, events: list[CalendarEvent], out: Path) -> float:
    """The same events with nothing but icalendar calls: one tree, one to_ical."""
    from icalendar import Calendar, Event, vText

    started = time.process_time()
    gc.disable()
    calendar = Calendar()
    calendar.add("version", "2.0")
    calendar.add("prodid", f"-//ketaplan//ketaplan {__version__}//EN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", vText(header.name))
    calendar.add("name", vText(header.name))
    calendar.add("x-wr-timezone", vText(header.zone))
    for e in events:
        event = Event()
        event.add("uid", e.uid)
        event.add("dtstamp", STAMP)
        event.add("sequence", e.sequence)
        if isinstance(e.start, datetime) and isinstance(e.end, datetime):
            event.add("dtstart", e.start.astimezone(UTC))
            event.add("dtend", e.end.astimezone(UTC))
        else:
            event.add("dtstart", e.start)
            event.add("dtend", e.end)
        event.add("summary", e.summary)
        if e.location:
            event.add("location", e.location)
        event.add("description", e.description)
        event.add("transp", "TRANSPARENT" if e.transparent else "OPAQUE")
        if e.modified is not None:
            event.add("last-modified", e.modified.astimezone(UTC))
        event.add("status", e.status)
        event.add("categories", list(e.categories))
        calendar.add_component(event)
    out.write_bytes(calendar.to_ical())
    gc.enable()
    return time.process_time() - started


def compare_exports(book: Path, directory: Path, rounds: int) -> float:
    header, events = same_events(book, directory)
    ours, bare = directory / "ours.ics", directory / "bare.ics"
    best = {"ketaplan": float("inf"), "bare": float("inf")}
    for number in range(rounds):
        order = ["ketaplan", "bare"] if number % 2 == 0 else ["bare", "ketaplan"]
        for label in order:
            gc.collect()
            if label == "ketaplan":
                seconds = ketaplan_export(book, directory, ours)
            else:
                seconds = bare_export(header, events, bare)
            best[label] = min(best[label], seconds)
        if ours.read_bytes() != bare.read_bytes():
            raise SystemExit("the two exports wrote different files; the comparison is void")
    ratio = best["ketaplan"] / best["bare"]
    print(f"export path vs bare icalendar, {len(events)} events, CPU time, best of {rounds}:")
    for label, seconds in best.items():
        print(f"  {label:>9}: {seconds:6.2f} s  {len(events) / seconds:8.0f} events/s")
    print(f"  ratio: {ratio:.3f}x ({'within' if ratio <= TIME_RATIO else 'OVER'} {TIME_RATIO}x)")
    return ratio


def timed_requests(
    connection: http.client.HTTPConnection, path: str, headers: dict[str, str], count: int
) -> list[float]:
    times = []
    for _ in range(count):
        started = time.perf_counter()
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        response.read()
        times.append(time.perf_counter() - started)
    return times


def serve(book: Path, directory: Path, requests: int) -> float:
    done = subprocess.run(
        ketaplan("feed", "create", "--staff", "--book", str(book)),
        cwd=directory, check=True, capture_output=True, text=True,
    )  # fmt: skip
    feed = "/feeds/" + done.stdout.strip().rsplit("/feeds/", 1)[1]
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    log = (directory / "serve.log").open("wb")
    server = subprocess.Popen(
        ketaplan("serve", "--port", str(port), "--book", str(book)),
        cwd=directory, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        deadline = time.monotonic() + 30
        while True:
            try:
                connection.request("GET", "/")
                connection.getresponse().read()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                connection.close()
                time.sleep(0.05)
        started = time.perf_counter()
        connection.request("GET", feed)
        response = connection.getresponse()
        body = response.read()
        cold = time.perf_counter() - started
        etag = response.getheader("ETag") or ""
        warm = min(timed_requests(connection, feed, {}, 3))
        print(
            f"staff feed, 12-week window: {body.count(b'BEGIN:VEVENT')} events, {len(body)} bytes"
        )
        print(
            f"  cold response {cold * 1000:.0f} ms (built), full response again "
            f"{warm * 1000:.0f} ms (kept)"
        )
        # Alternating batches on one keep-alive connection, as a calendar client polls.
        bare: list[float] = []
        not_modified: list[float] = []
        for _ in range(10):
            bare += timed_requests(connection, "/", {}, requests // 10)
            not_modified += timed_requests(
                connection, feed, {"If-None-Match": etag}, requests // 10
            )
        ratio = statistics.median(not_modified) / statistics.median(bare)
        print(
            f"  304 median {statistics.median(not_modified) * 1e6:.0f} us, bare GET / median "
            f"{statistics.median(bare) * 1e6:.0f} us ({requests} each): {ratio:.3f}x "
            f"({'within' if ratio <= NOT_MODIFIED_RATIO else 'OVER'} {NOT_MODIFIED_RATIO}x)"
        )
        connection.close()
        return ratio
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--patients", type=int, default=5000)
    parser.add_argument("--dir", type=Path, default=None)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=3000)
    args = parser.parse_args(argv)
    directory = args.dir or Path(tempfile.mkdtemp(prefix="ketaplan-feed-bench-"))
    book = make_book(directory, args.patients)

    seconds, peak, events = export_process(directory, book, directory / "year.ics")
    verdict = "within" if peak <= MEMORY_LIMIT_MB else "OVER"
    print(
        f"year staff export, {args.patients} patients: {events} events in {seconds:.2f} s, "
        f"peak {peak:.0f} MB ({verdict} {MEMORY_LIMIT_MB} MB)"
    )
    ratio = compare_exports(book, directory, args.rounds)
    not_modified = serve(book, directory, args.requests)
    ok = peak <= MEMORY_LIMIT_MB and ratio <= TIME_RATIO and not_modified <= NOT_MODIFIED_RATIO
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
