"""Help renders as a coordinator reads it: paragraphs reflowed to the terminal, with no
word stranded on a line of its own by a hard-wrapped docstring, at 80 and 120 columns;
shell completion is offered and costs `plan` nothing."""

from __future__ import annotations

import subprocess
import sys
from itertools import pairwise

import pytest

from tests.clirun import run
from tests.docgen import command_paths


def stranded(help_text: str, width: int) -> list[str]:
    """Lines of a help paragraph (outside the option boxes) that end well before the
    width although the paragraph goes on: a hard line break in the source."""
    found: list[str] = []
    lines = help_text.splitlines()
    for line, following in pairwise(lines):
        if line.startswith(("╭", "│", "╰")) or not line.strip() or not following.strip():
            continue
        if following.startswith(("╭", "│", "╰", " Usage")):
            continue
        room = width - len(line.rstrip())
        first_word = following.split()[0]
        if room > len(first_word) + 1:
            found.append(f"{line.rstrip()!r} / {following.strip()!r}")
    return found


@pytest.mark.parametrize("width", [80, 120])
@pytest.mark.parametrize("path", command_paths(), ids=lambda p: " ".join(p) or "ketaplan")
def test_help_has_no_stranded_words(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    path: tuple[str, ...],
    width: int,
) -> None:
    monkeypatch.setenv("COLUMNS", str(width))
    result = run(capsys, *path, "--help")
    assert result.code == 0
    assert max(len(line) for line in result.out.splitlines()) <= width
    assert stranded(result.out, width) == []


def test_completion_is_offered_for_bash(capsys: pytest.CaptureFixture[str]) -> None:
    result = run(capsys, "--show-completion", "bash")
    assert result.code == 0
    assert "_ketaplan_completion" in result.out
    assert "--install-completion" in run(capsys, "--help").out


def test_plan_imports_nothing_for_help_the_version_or_the_config_search() -> None:
    # Typer loads its completion code whether or not completion is offered: offering it
    # costs `plan` nothing. Markdown (help), metadata (version) and platformdirs (the
    # user config folder on Linux is found without it) stay out of `plan`.
    code = (
        "import sys; from ketaplan.cli import main; "
        "main(['plan', '--start', '2026-12-07', '--patient', 'P-001', '--tz', 'UTC']); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('markdown_it', 'importlib_metadata', 'platformdirs', 'rich.markdown')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.splitlines()[-1] == "[]"


@pytest.mark.parametrize(
    "command",
    [
        ["protocols"],
        ["protocols", "show", "iv"],
        ["plan", "--start", "2030-01-07", "--patient", "P-001"],
    ],
    ids=" ".join,
)
def test_data_comes_as_table_json_or_csv(
    capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    import csv
    import io
    import json

    as_json = run(capsys, *command, "--format", "json")
    assert as_json.code == 0
    assert isinstance(json.loads(as_json.out), dict)
    as_csv = run(capsys, *command, "--format", "csv")
    assert as_csv.code == 0
    rows = list(csv.reader(io.StringIO(as_csv.out)))
    assert len(rows) > 1
    assert len({len(row) for row in rows}) == 1
    refused = run(capsys, *command, "--format", "xml")
    assert (refused.code, refused.err) == (
        2,
        "Error: --format 'xml' is not one of table, json, csv\n",
    )
