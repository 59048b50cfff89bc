"""`ketaplan clinic apply --replan` on a busy book: a clinic change that leaves hundreds
of booked sessions without room, re-planned by the protocol's rules in one transaction.

Books the 1,000-patient roster of `book_roster.py` (32 chairs), then applies the same
clinic with a new closure (a Wednesday in August, the roster's maintenance months;
`--fewer-chairs N` takes chairs away too), first with --dry-run, then for real, and
reports how many sessions moved and how long each took. In the roster's spring, when
its inductions overlap, Mondays and Fridays are full: a closed Wednesday there is
refused with the sessions that have nowhere to go, which the benchmark reports too.

    .venv/bin/python benchmarks/clinic_apply.py [--patients 1000] [--closed 2030-08-14]
        [--fewer-chairs 0]
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from book_roster import clinic_toml, roster_csv, run  # the sibling benchmark


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--patients", type=int, default=1000)
    parser.add_argument("--closed", default="2030-08-14", help="the new closed day")
    parser.add_argument("--fewer-chairs", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ketaplan-apply-") as folder:
        cwd = Path(folder)
        book = str(cwd / "book.sqlite")
        config = clinic_toml(args.patients)
        (cwd / "ketaplan.toml").write_text(config, encoding="utf-8")
        (cwd / "roster.csv").write_text(roster_csv(args.patients), encoding="utf-8")
        booked, _ = run(["book", "--roster", "roster.csv"], cwd, book)
        print(f"booked {args.patients} patients in {booked:.1f} s")
        chairs = int(re.search(r"chairs = (\d+)", config)[1])  # type: ignore[index]
        changed = config.replace(f"chairs = {chairs}", f"chairs = {chairs - args.fewer_chairs}")
        changed += f'closed = ["{args.closed}"]\n'
        (cwd / "ketaplan.toml").write_text(changed, encoding="utf-8")
        command = ["clinic", "apply", "ketaplan.toml", "--replan"]
        started = time.perf_counter()
        try:
            dry, out = run([*command, "--dry-run"], cwd, book)
        except SystemExit as refused:  # the change has sessions with nowhere to go
            took = time.perf_counter() - started
            print(f"refused in {took:.2f} s: {str(refused).splitlines()[-1]}")
            return
        moved = sum(1 for line in out.splitlines() if re.match(r"\s+\d+\s", line))
        patients = sum(1 for line in out.splitlines() if line.startswith("Would re-plan"))
        print(f"--dry-run: {moved} sessions of {patients} patients would move, {dry:.2f} s")
        real, _ = run(command, cwd, book)
        print(
            f"clinic apply --replan: {real:.2f} s ({1000 * real / max(1, moved):.1f} ms a session)"
        )


if __name__ == "__main__":
    main()
