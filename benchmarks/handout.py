"""Whole-process wall time of `ketaplan handout --pdf` for one patient.

Books one IV course (12 sessions) and one 40-session esketamine course into a fresh
book in a temporary folder, then times `ketaplan handout --patient ... --pdf FILE` in a
new process each run (import, book read, layout, PDF), and prints the median wall time
and the median CPU time of that process (which a busy shared machine inflates less).

    .venv/bin/python benchmarks/handout.py [--runs 11]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

try:
    import ketaplan  # noqa: F401
except ModuleNotFoundError:  # outside the venv: one clear line instead of a traceback
    sys.exit(
        f"Error: ketaplan is not installed for {sys.executable}; run the benchmark with "
        f"the venv's python: .venv/bin/python benchmarks/{Path(__file__).name}"
    )

CLINIC = """[clinic]
name = "Lakeside Ketamine Clinic"
location = "Lakeside Clinic, 12 Harbour Road, 10115 Berlin"
phone = "+49 30 1234 5678"
timezone = "Europe/Berlin"
holidays = "DE-BE"
require_screening = false

[patient]
crisis_line = "Telefonseelsorge 0800 111 0 111"
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=11)
    runs = parser.parse_args().runs
    script = shutil.which("ketaplan", path=os.path.dirname(sys.executable))
    ketaplan = [script] if script else [sys.executable, "-m", "ketaplan"]
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        (work / "ketaplan.toml").write_text(CLINIC, encoding="utf-8")
        env = {**os.environ, "KETAPLAN_BOOK": str(work / "book.sqlite")}

        def call(*args: str) -> None:
            subprocess.run([*ketaplan, *args], cwd=work, env=env, check=True, capture_output=True)

        call("book", "--patient", "P-001", "--start", "2030-01-07", "--time", "09:00")
        call("rems", "enroll", "P-040", "--date", "2026-01-05")  # before any real today
        call(
            "book", "--patient", "P-040", "--protocol", "esketamine", "--start", "2030-01-07",
            "--time", "11:00", "--maintenance-sessions", "28",
        )  # fmt: skip
        for patient, what in (("P-001", "IV, 12 sessions"), ("P-040", "esketamine, 40 sessions")):
            times, cpu = [], []
            for _ in range(runs):
                used = resource.getrusage(resource.RUSAGE_CHILDREN)
                began = time.perf_counter()
                call("handout", "--patient", patient, "--pdf", f"{patient}.pdf")
                times.append(time.perf_counter() - began)
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                cpu.append(after.ru_utime + after.ru_stime - used.ru_utime - used.ru_stime)
            size = (work / f"{patient}.pdf").stat().st_size
            print(
                f"handout --pdf {patient} ({what}): median {1000 * statistics.median(times):.0f} ms"
                f" wall, {1000 * statistics.median(cpu):.0f} ms CPU over {runs} runs;"
                f" {size / 1024:.0f} KiB"
            )


if __name__ == "__main__":
    main()
