"""How PostgreSQL books keep two machines off one chair: the clinic's advisory lock (what
ketaplan does) against SERIALIZABLE transactions retried on a serialization failure.

Starts --processes coordinators at once, each booking a roster of --patients patients
who all want the same mornings, into one clinic (contended) or each into its own clinic
of the same database (side by side). Reports the wall time until all are done, how many
whole bookings SERIALIZABLE had to run again, and checks that no chair holds two
sessions.

    python benchmarks/pg_write_lock.py --book postgresql://USER@HOST/DB
        [--processes 4] [--patients 25]

The role needs CREATEDB: each run books into a new database, dropped afterwards.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CLINIC = """[clinic]
name = "{name}"
timezone = "Europe/Berlin"
chairs = 6
hours = "08:00-18:00"
require_screening = false
"""
ROSTER = "patient,protocol,start,time,days,maintenance_every,rems_enrolled\n"

# One coordinator. In "serializable" mode the store's write transaction is replaced by a
# SERIALIZABLE one without the advisory lock, and a serialization failure reruns the
# whole booking (a transaction cannot be retried from inside: what it read is stale).
COORDINATOR = """
import pathlib, sys, time
from contextlib import contextmanager
import psycopg
from psycopg import errors
from ketaplan.cli import book, main
from ketaplan.store import postgres

class Retry(Exception):
    pass

if sys.argv[3] == "serializable":
    @contextmanager
    def transaction(self, clinic_id):
        try:
            with self._db.transaction():
                self._db.execute("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE")
                yield
        except (errors.SerializationFailure, errors.DeadlockDetected):
            raise Retry from None
    postgres.PostgresDialect.transaction = transaction

pathlib.Path(sys.argv[2]).touch()
while not pathlib.Path("go").exists():
    time.sleep(0.001)
retries = 0
while True:
    try:
        code = main(["book", "--roster", sys.argv[1], *sys.argv[4:]])
        break
    except Retry:
        retries += 1
print(f"retries={retries}", file=sys.stderr)
sys.exit(code)
"""


def fresh_database(server: str, name: str) -> str:
    import psycopg

    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {name}")
    return f"{server.rsplit('/', 1)[0]}/{name}"


def drop_database(server: str, name: str) -> None:
    import psycopg

    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def clashes(url: str) -> int:
    import psycopg

    with psycopg.connect(url) as db:
        row = db.execute(
            "SELECT count(*) FROM sessions a JOIN sessions b ON a.id < b.id "
            "AND a.clinic_id = b.clinic_id AND a.chair = b.chair "
            "AND a.start_utc < b.end_utc AND b.start_utc < a.end_utc "
            "WHERE a.status <> 'cancelled' AND b.status <> 'cancelled'"
        ).fetchone()
        return int(row[0]) if row else 0


def trial(server: str, mode: str, shared: bool, processes: int, patients: int) -> str:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
    url = fresh_database(server, "ketaplan_bench_lock")
    names = [f"c{i}" for i in range(processes)]
    with tempfile.TemporaryDirectory() as folder:
        where = Path(folder)
        env = {**os.environ, "KETAPLAN_BOOK": url, "COLUMNS": "100"}
        for clinic in ["shared"] if shared else names:
            # Each clinic of the network is stored by `init` from its own config.
            (where / f"{clinic}.toml").write_text(CLINIC.format(name=clinic), encoding="utf-8")
            subprocess.run(
                [sys.executable, "-m", "ketaplan", "init", "--clinic", clinic,
                 "--config", f"{clinic}.toml"],
                cwd=where, env=env, check=True, capture_output=True,
            )  # fmt: skip
        for name in names:
            rows = "".join(
                f"{name.upper()}-{i:03},iv,2030-01-07,{8 + i % 4:02}:00,,,\n"
                for i in range(patients)
            )
            (where / f"{name}.csv").write_text(ROSTER + rows, encoding="utf-8")
        running = [
            subprocess.Popen(
                [sys.executable, "-c", COORDINATOR, f"{name}.csv", f"{name}.ready", mode,
                 "--clinic", "shared" if shared else name,
                 "--config", f"{'shared' if shared else name}.toml"],
                cwd=where, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
            )
            for name in names
        ]  # fmt: skip
        while not all((where / f"{n}.ready").exists() for n in names):
            time.sleep(0.01)
        started = time.perf_counter()
        (where / "go").touch()
        retries = 0
        failed = 0
        for process in running:
            _, err = process.communicate(timeout=600)
            failed += process.returncode != 0
            retries += sum(
                int(line.split("=")[1]) for line in err.splitlines() if line.startswith("retries=")
            )
        seconds = time.perf_counter() - started
    double = clashes(url)
    drop_database(server, "ketaplan_bench_lock")
    where_ = "one clinic" if shared else "own clinics"
    return (
        f"{mode:>12}, {processes} x {patients} patients into {where_}: {seconds:.2f} s, "
        f"{retries} bookings rerun, {failed} failed, {double} chairs double-booked"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--book", required=True, metavar="URL")
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--patients", type=int, default=25)
    args = parser.parse_args()
    for shared in (True, False):
        for mode in ("lock", "serializable"):
            print(trial(args.book, mode, shared, args.processes, args.patients), flush=True)


if __name__ == "__main__":
    main()
