"""Running the real CLI entry point in-process and capturing what a user would see."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from ketaplan.cli import main


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str


def run(capsys: pytest.CaptureFixture[str], *args: str) -> Result:
    code = main(list(args))
    captured = capsys.readouterr()
    return Result(code, captured.out, captured.err)
