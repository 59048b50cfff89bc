"""Whole-process wall time of `ketaplan plan` against importing typer and rich.

Runs the two commands in turn (so both see the same machine load) and prints the
medians and their ratio; issue 2 asks for a ratio of at most 1.25.

    .venv/bin/python benchmarks/plan_startup.py [--runs 31]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

try:
    import ketaplan  # noqa: F401
except ModuleNotFoundError:  # outside the venv: one clear line instead of a traceback
    sys.exit(
        f"Error: ketaplan is not installed for {sys.executable}; run the benchmark with "
        f"the venv's python: .venv/bin/python benchmarks/{Path(__file__).name}"
    )


PLAN = ["plan", "--start", "2026-12-07", "--patient", "P-001", "--tz", "Europe/Berlin"]
BASELINE = [sys.executable, "-c", "import typer, rich.console, rich.table"]


def wall_time(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(
        command, check=True, stdout=subprocess.DEVNULL, env={**os.environ, "COLUMNS": "100"}
    )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=31)
    args = parser.parse_args()
    script = shutil.which("ketaplan", path=os.path.dirname(sys.executable))
    ketaplan = [script] if script else [sys.executable, "-m", "ketaplan"]
    plan_times: list[float] = []
    base_times: list[float] = []
    for _ in range(2):  # warm the file cache and the byte-code cache
        wall_time([*ketaplan, *PLAN])
        wall_time(BASELINE)
    for _ in range(args.runs):
        plan_times.append(wall_time([*ketaplan, *PLAN]))
        base_times.append(wall_time(BASELINE))
    plan, base = statistics.median(plan_times), statistics.median(base_times)
    print(f"ketaplan plan: median {plan * 1000:.0f} ms over {args.runs} runs")
    print(f"import typer, rich.console, rich.table: median {base * 1000:.0f} ms")
    print(f"ratio: {plan / base:.2f} (target: at most 1.25)")


if __name__ == "__main__":
    main()
