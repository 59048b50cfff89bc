"""`ketaplan attend` and `ketaplan move` on a 5,000-patient book against `ketaplan plan`
for one patient, whole-process wall time.

Books the 5,000-patient roster of `book_roster.py` once, then runs, in turn so that all
three see the same machine load: `plan` for one patient, `attend` of a patient whose
session is today (a different patient each run: an attendance is recorded once), and
`move` of a maintenance session to the next day and back (the rest of the course is
re-planned each time). Every command runs in a fresh process with the clock pinned to a
day of the booked half-year, through the same small launcher. Issue 11 asks for each
within 1.5 times `plan`.

    python benchmarks/lifecycle.py [--runs 21] [--patients 5000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from book_roster import roster_csv  # a sibling script, on the path above

TODAY = date(2030, 3, 4)  # a Monday in the booked half-year
NOW = f"{TODAY}T07:00:00+01:00"
# The real entry point with the clock pinned: the same launcher for every command.
LAUNCHER = (
    "import sys\n"
    "from datetime import datetime\n"
    "import ketaplan.cli.clock as clock\n"
    f"clock.now = lambda: datetime.fromisoformat({NOW!r})\n"
    "from ketaplan.cli import main\n"
    "sys.exit(main())\n"
)
PLAN = ["plan", "--start", "2030-03-04", "--patient", "P-001", "--tz", "Europe/Berlin"]


def launch(args: list[str], cwd: Path) -> float:
    env = {**os.environ, "KETAPLAN_BOOK": str(cwd / "book.sqlite"), "COLUMNS": "100"}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", LAUNCHER, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"ketaplan {' '.join(args)} failed:\n{done.stderr}")
    return elapsed


def clinic_toml(patients: int) -> str:
    """A clinic with room for the roster's two-hour chair times (book_roster.py's clinic is
    sized for shorter ones)."""
    chairs = max(4, round(patients * 40 / 1000))
    return (
        "[clinic]\n"
        'name = "Benchmark clinic"\n'
        'timezone = "Europe/Berlin"\n'
        'hours = "08:00-18:00"\n'
        f"chairs = {chairs}\n"
        "slot_minutes = 15\n"
        f"starts_per_slot = {max(2, chairs // 4)}\n"
        "require_screening = false\n"
    )


def build(directory: Path, patients: int) -> None:
    (directory / "ketaplan.toml").write_text(clinic_toml(patients), encoding="utf-8")
    (directory / "roster.csv").write_text(roster_csv(patients), encoding="utf-8")
    started = time.perf_counter()
    env = {**os.environ, "KETAPLAN_BOOK": str(directory / "book.sqlite")}
    subprocess.run(
        [sys.executable, "-m", "ketaplan", "book", "--roster", "roster.csv"],
        cwd=directory,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    print(f"booked {patients} patients in {time.perf_counter() - started:.1f} s")


def todays_patients(directory: Path) -> list[str]:
    """Patients with a booked clinic session today (local date), one each."""
    with sqlite3.connect(directory / "book.sqlite") as db:
        rows = db.execute(
            "SELECT DISTINCT c.patient FROM sessions s JOIN courses c ON c.id = s.course_id "
            "WHERE s.status = 'booked' AND s.location = 'clinic' "
            "AND s.start_utc >= ? AND s.start_utc < ? ORDER BY c.patient",
            (f"{TODAY - timedelta(days=1)}T23:00:00Z", f"{TODAY}T23:00:00Z"),
        )
        return [patient for (patient,) in rows]


def movable(directory: Path) -> tuple[str, int, date]:
    """A maintenance session (not the first) on a Tuesday a few weeks ahead: moving it a
    day later and back keeps every maintenance gap in range."""
    with sqlite3.connect(directory / "book.sqlite") as db:
        rows = db.execute(
            "SELECT c.patient, s.number, s.start_utc FROM sessions s "
            "JOIN courses c ON c.id = s.course_id WHERE s.status = 'booked' "
            "AND s.phase = 'maintenance' AND s.phase_number > 1 AND c.protocol = 'iv' "
            "AND s.start_utc > ? ORDER BY s.start_utc",
            (f"{TODAY + timedelta(days=21)}",),
        )
        for patient, number, start in rows:
            day = date.fromisoformat(start[:10])
            if day.weekday() == 1:
                return patient, number, day
    raise SystemExit("no maintenance session to move")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--patients", type=int, default=5000)
    parser.add_argument("--keep", type=Path, default=None)
    args = parser.parse_args()
    directory = args.keep or Path(tempfile.mkdtemp(prefix="ketaplan-lifecycle-"))
    directory.mkdir(parents=True, exist_ok=True)
    if not (directory / "book.sqlite").exists():
        build(directory, args.patients)
    attendees = todays_patients(directory)
    if len(attendees) < args.runs + 2:
        raise SystemExit(f"only {len(attendees)} patients have a session on {TODAY}")
    patient, number, day = movable(directory)
    targets = [day + timedelta(days=1), day]
    plan_times: list[float] = []
    attend_times: list[float] = []
    move_times: list[float] = []
    for run in range(args.runs + 2):  # the first two warm the caches
        plan = launch(PLAN, directory)
        attend = launch(["attend", "--patient", attendees[run], "--by", "bench"], directory)
        to = targets[run % 2]
        move = launch(
            ["move", "--patient", patient, "--session", str(number), "--to", str(to)], directory
        )
        if run >= 2:
            plan_times.append(plan)
            attend_times.append(attend)
            move_times.append(move)
    plan_ms = statistics.median(plan_times) * 1000
    for name, times in (("attend", attend_times), ("move", move_times)):
        ms = statistics.median(times) * 1000
        print(
            f"{name} on the {args.patients}-patient book: median {ms:.0f} ms; plan for one "
            f"patient: {plan_ms:.0f} ms ({ms / plan_ms:.2f}x, limit 1.5x)"
        )


if __name__ == "__main__":
    main()
