"""Booking rosters of 1,000 and 5,000 patients into an empty book, end to end.

Generates a roster and a clinic sized to hold it (chairs and nurse load scale with the
number of patients), books it with `ketaplan book --roster` in a fresh process, and
reports the time per patient, the share of sessions at the preferred time and on their
ideal date, the peak and mean chair utilization, and the time of `ketaplan agenda --week`
on the booked book against `ketaplan plan` for one patient.

    .venv/bin/python benchmarks/book_roster.py [--sizes 1000 5000] [--repeat 3] [--keep DIR]
        [--book postgresql://USER@HOST/DB]

Issue 4 asks that 5,000 patients take at most 5.5 times as long as 1,000. With --book,
every run books into a new PostgreSQL database on that server instead of an SQLite file
(the role needs CREATEDB; the databases are dropped afterwards unless --keep is given).
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

try:
    from ketaplan import __version__ as _installed_version  # noqa: F401
except ModuleNotFoundError:  # outside the venv: one clear line instead of a traceback
    sys.exit(
        f"Error: ketaplan is not installed for {sys.executable}; run the benchmark with "
        f"the venv's python: .venv/bin/python benchmarks/{Path(__file__).name}"
    )


FIRST_START = date(2030, 1, 7)  # a Monday: fixed, so every run books the same roster
ENROLLED = date(2026, 1, 5)  # REMS enrollment of the esketamine patients: in the past
START_WEEKS = 26  # courses start over half a year
ZONE = "Europe/Berlin"
PROTOCOLS = (("iv", 0.6), ("im", 0.15), ("esketamine", 0.25))
TIMES = [f"{h:02}:{m:02}" for h in range(8, 16) for m in (0, 30)]


def roster_csv(patients: int, seed: int = 4) -> str:
    """A roster of `patients` rows: mixed protocols, starts spread over START_WEEKS weeks,
    70% with a preferred time, some with fixed weekdays or a maintenance interval."""
    rng = random.Random(seed)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        ("patient", "protocol", "start", "time", "days", "maintenance_every", "rems_enrolled")
    )
    names = [name for name, _ in PROTOCOLS]
    weights = [weight for _, weight in PROTOCOLS]
    for number in range(1, patients + 1):
        protocol = rng.choices(names, weights)[0]
        start = FIRST_START + timedelta(days=rng.randrange(START_WEEKS * 7))
        at = rng.choice(TIMES) if rng.random() < 0.7 else ""
        days = "mon,wed,fri" if protocol != "esketamine" and rng.random() < 0.1 else ""
        every = rng.choice(["3w", "4w"]) if protocol != "esketamine" and rng.random() < 0.2 else ""
        # Esketamine needs a REMS enrollment before the first treatment (issue 5).
        enrolled = ENROLLED.isoformat() if protocol == "esketamine" else ""
        writer.writerow((f"P-{number:05}", protocol, start.isoformat(), at, days, every, enrolled))
    return out.getvalue()


def clinic_toml(patients: int) -> str:
    """A clinic sized to hold the roster at about 60% of its chair time."""
    # 32 chairs per 1,000 patients: IV holds its chair 120 minutes (check-in, infusion,
    # recovery) and esketamine 145 (pre-dose checks, devices, 2 hours of observation).
    chairs = max(4, round(patients * 32 / 1000))
    return (
        "[clinic]\n"
        'name = "Benchmark clinic"\n'
        f'timezone = "{ZONE}"\n'
        'hours = "08:00-18:00"\n'
        f"chairs = {chairs}\n"
        "slot_minutes = 15\n"
        f"starts_per_slot = {max(2, chairs // 4)}\n"
        # The benchmark measures capacity: its generated patients have no screenings.
        "require_screening = false\n"
    )


@dataclass(frozen=True)
class Result:
    patients: int
    seconds: float
    sessions: int
    at_preferred: str
    on_ideal_date: str
    peak_utilization: float
    mean_utilization: float
    busiest_week: date
    book: str


def ketaplan() -> list[str]:
    script = shutil.which("ketaplan", path=os.path.dirname(sys.executable))
    return [script] if script else [sys.executable, "-m", "ketaplan"]


def run(args: list[str], cwd: Path, book: str) -> tuple[float, str]:
    env = {**os.environ, "COLUMNS": "100", "NO_COLOR": "1", "KETAPLAN_BOOK": book}
    started = time.perf_counter()
    done = subprocess.run(
        [*ketaplan(), *args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"ketaplan {' '.join(args)} failed:\n{done.stderr}")
    return seconds, done.stdout


def utilization(cwd: Path, book_at: str) -> tuple[float, float, date]:
    """Peak and mean daily chair utilization over the open days from the first to the
    last booked day, and the Monday of the busiest week."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
    from zoneinfo import ZoneInfo

    from ketaplan.booking.capacity import day_utilization
    from ketaplan.formats.config_file import load_config
    from ketaplan.store import open_book

    clinic = load_config(cwd / "ketaplan.toml")
    book = open_book(book_at if "://" in book_at else Path(book_at), create=False)
    since = datetime(2029, 1, 1, tzinfo=ZoneInfo(ZONE))
    sessions = [
        s
        for s in book.sessions_between(since, since + timedelta(days=3 * 365), location="clinic")
        if s.status != "cancelled"
    ]
    book.close()
    by_day: dict[date, list[tuple[datetime, datetime]]] = {}
    for s in sessions:
        by_day.setdefault(s.start.date(), []).append((s.start, s.end))
    first, last = min(by_day), max(by_day)
    shares: dict[date, float] = {}
    day = first
    while day <= last:
        share = day_utilization(day, by_day.get(day, []), clinic, ZONE)
        if share is not None:
            shares[day] = share
        day += timedelta(days=1)
    weeks: dict[date, float] = {}
    for day, share in shares.items():
        monday = day - timedelta(days=day.weekday())
        weeks[monday] = weeks.get(monday, 0.0) + share
    busiest = max(weeks, key=lambda monday: weeks[monday])
    return max(shares.values()), statistics.fmean(shares.values()), busiest


def fresh_database(server: str, name: str) -> str:
    """A new, empty database `name` on the server (dropped first if there), as a URL."""
    import psycopg  # only with --book

    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {name}")
    return f"{server.rsplit('/', 1)[0]}/{name}"


def drop_database(server: str, book: str) -> None:
    import psycopg  # only with --book

    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {book.rsplit('/', 1)[1]} WITH (FORCE)")


def book_roster(patients: int, directory: Path, repeat: int, server: str | None) -> Result:
    """Book the roster into an empty book `repeat` times; the fastest run counts (the
    others measure the machine's other load, not ketaplan)."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "ketaplan.toml").write_text(clinic_toml(patients), encoding="utf-8")
    (directory / "roster.csv").write_text(roster_csv(patients), encoding="utf-8")
    runs: list[tuple[float, str]] = []
    book = str(directory / "book.sqlite")
    for _ in range(repeat):
        if server:
            book = fresh_database(server, f"ketaplan_bench_{patients}")
        for old in directory.glob("book.sqlite*"):
            old.unlink()
        runs.append(run(["book", "--roster", "roster.csv"], directory, book))
    seconds, out = min(runs)
    sessions = re.search(r": (\d+) sessions", out)
    preferred = re.search(r"At the preferred time: (.*) clinic sessions", out)
    ideal = re.search(r"On the ideal date: (.*) sessions", out)
    if sessions is None or preferred is None or ideal is None:
        raise SystemExit(f"unexpected output of ketaplan book:\n{out[:500]}")
    peak, mean, busiest = utilization(directory, book)
    return Result(
        patients, seconds, int(sessions[1]), preferred[1], ideal[1], peak, mean, busiest, book
    )


def best_of(runs: int, args: list[str], cwd: Path, book: str) -> float:
    return min(run(args, cwd, book)[0] for _ in range(runs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000])
    parser.add_argument("--keep", type=Path, help="Keep the rosters and books in this folder.")
    parser.add_argument("--repeat", type=int, default=3, help="Runs per size; the best counts.")
    parser.add_argument(
        "--book",
        metavar="URL",
        help="Book into new databases on this PostgreSQL server (postgresql://USER@HOST/DB; "
        "the role needs CREATEDB) instead of SQLite files.",
    )
    args = parser.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="ketaplan-bench-"))
    results = [book_roster(n, root / str(n), args.repeat, args.book) for n in args.sizes]
    print(f"Books: {'PostgreSQL at ' + args.book if args.book else 'SQLite files'}")
    for r in results:
        print(
            f"{r.patients} patients: {r.seconds:.1f} s ({1000 * r.seconds / r.patients:.2f} ms "
            f"per patient), {r.sessions} sessions; at the preferred time {r.at_preferred}; "
            f"on the ideal date {r.on_ideal_date}; chair utilization peak "
            f"{100 * r.peak_utilization:.0f}%, mean {100 * r.mean_utilization:.0f}%"
        )
    if len(results) > 1:
        first, last = results[0], results[-1]
        ratio = last.seconds / first.seconds
        print(f"{last.patients} / {first.patients} patients: {ratio:.2f}x the time (limit 5.5x)")
    largest = results[-1]
    where = root / str(largest.patients)
    week = largest.busiest_week.isoformat()
    agenda = best_of(5, ["agenda", "--week", week], where, largest.book)
    plan = best_of(5, ["plan", "--patient", "P-1", "--start", week], where, largest.book)
    print(
        f"agenda --week {week} on the {largest.patients}-patient book: {1000 * agenda:.0f} ms; "
        f"plan for one patient: {1000 * plan:.0f} ms ({agenda / plan:.2f}x)"
    )
    if args.keep is None:
        shutil.rmtree(root)
        if args.book:
            for r in results:
                drop_database(args.book, r.book)


if __name__ == "__main__":
    main()
