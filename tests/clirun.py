"""Running the real CLI entry point in-process and capturing what a user would see."""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

import pytest

from ketaplan.cli import main


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str

    @property
    def message(self) -> str:
        """stderr without the lines saying which book and clinic a command uses (`Book:
        ...`, `Stored the clinic ...`): tests of other things leave them aside; tests of
        the book and its clinic assert `err` whole."""
        lines = self.err.splitlines(keepends=True)
        return "".join(
            line for line in lines if not line.startswith(("Book: ", "Stored the clinic "))
        )


def run(capsys: pytest.CaptureFixture[str], *args: str) -> Result:
    code = main(list(args))
    captured = capsys.readouterr()
    return Result(code, captured.out, captured.err)


def file_hashes(folder: Path) -> dict[str, str]:
    """Every entry of the folder by name: a file's SHA-256, where a link points, or the
    kind and mode of anything else; for "nothing changed" assertions."""
    found: dict[str, str] = {}
    for path in sorted(folder.iterdir()):
        if path.is_symlink():
            found[path.name] = "-> " + os.readlink(path)
        elif path.is_file():
            found[path.name] = hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            found[path.name] = stat.filemode(path.lstat().st_mode)
    return found
