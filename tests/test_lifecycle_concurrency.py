"""Two coordinators moving sessions into the same chair at the same moment, in two real
processes on one SQLite book: one move wins, the other is refused clearly and changes
nothing."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.clirun import run
from tests.pinned import pin

CLINIC = """[clinic]
name = "Lakeside"
timezone = "Europe/Berlin"
chairs = 1
hours = "08:00-18:00"
require_screening = false
"""

# The real entry point with the clock pinned, started as its own process.
RUNNER = """
import sys, time
from datetime import datetime
from pathlib import Path
import ketaplan.cli.clock as clock
clock.now = lambda: datetime.fromisoformat("2026-12-02T09:00:00+01:00")
from ketaplan.cli import main
go = Path(sys.argv[1])
while not go.exists():
    time.sleep(0.001)
sys.exit(main(sys.argv[2:]))
"""


def test_two_processes_moving_into_one_chair_one_wins(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "ketaplan.toml").write_text(CLINIC, encoding="utf-8")
    pin(monkeypatch)("2026-12-02T09:00:00+01:00")
    for patient, at in (("P-001", "09:00"), ("P-002", "11:00")):
        booked = run(capsys, "book", "--patient", patient, "--start", "2026-12-07", "--time", at)
        assert booked.code == 0, booked.message
    go = tmp_path / "go"
    env = {**os.environ, "KETAPLAN_BOOK": str(tmp_path / "book.sqlite")}
    moves = [
        subprocess.Popen(
            [sys.executable, "-c", RUNNER, str(go), "move", "--patient", patient,
             "--session", "1", "--to", "2026-12-07", "--time", "14:00"],
            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for patient in ("P-001", "P-002")
    ]  # fmt: skip
    time.sleep(1.0)  # both processes started and waiting
    go.touch()
    results = [(p.wait(60), *p.communicate()) for p in moves]
    codes = sorted(code for code, _, _ in results)
    assert codes == [0, 1]
    winner = next(r for r in results if r[0] == 0)
    loser = next(r for r in results if r[0] == 1)
    patient = "P-001" if "P-001" in winner[1] else "P-002"
    other = "P-002" if patient == "P-001" else "P-001"
    assert winner[1].startswith(f"Moved {patient} session 1 (induction 1/6) from Mon 2026-12-07")
    assert (loser[1], loser[2]) == (
        "",
        f"Book: {tmp_path / 'book.sqlite'} · clinic Lakeside\n"
        f"Error: {other}: cannot place the session at Mon 2026-12-07 14:00: no chair free; "
        # The winner holds 14:00-16:00: the loser's 2 hours fit at 12:00 at the latest.
        "the nearest free time that day is 12:00\n",
    )
