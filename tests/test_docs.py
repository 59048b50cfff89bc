"""Every command is documented with an example, and the README's commands are the ones
CI runs."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from tests.clirun import run
from tests.docgen import command_paths

ROOT = Path(__file__).parent.parent


def test_the_cli_has_the_commands_the_readme_describes() -> None:
    names = {" ".join(path) for path in command_paths()}
    assert {"plan", "protocols", "protocols show"} <= names


@pytest.mark.parametrize("path", command_paths(), ids=lambda p: " ".join(p) or "ketaplan")
def test_every_command_has_help_with_an_example(
    capsys: pytest.CaptureFixture[str], path: tuple[str, ...]
) -> None:
    result = run(capsys, *path, "--help")
    assert result.code == 0
    match = re.search(r"Example: (ketaplan [^\n]*)", result.out)
    assert match, f"no example in `ketaplan {' '.join(path)} --help`"
    assert match[1].split()[1 : 1 + len(path)] == list(path)


def test_the_readme_test_command_is_the_one_ci_runs() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    command = next(line for line in ci.splitlines() if line.startswith("python3 -m venv"))
    assert f"\n{command}\n" in readme


def readme_examples() -> list[tuple[str, str]]:
    """(command, output) for each `$ ketaplan plan|protocols` line of the README's console
    blocks: commands whose output depends on nothing but their arguments."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    examples: list[tuple[str, str]] = []
    for block in re.findall(r"```console\n(.*?)```", readme, flags=re.S):
        for chunk in re.split(r"^\$ ", block, flags=re.M)[1:]:
            command, _, output = chunk.partition("\n")
            if re.match(r"ketaplan (plan|protocols)\b", command) and ".toml" not in command:
                examples.append((command, output))
    return examples


@pytest.mark.parametrize(("command", "output"), readme_examples(), ids=lambda v: v[:60])
def test_the_readme_shows_real_output(
    capsys: pytest.CaptureFixture[str], command: str, output: str
) -> None:
    args = shlex.split(command)[1:]
    result = run(capsys, *args)
    shown = "\n".join(line.rstrip() for line in (result.out + result.err).splitlines())
    assert shown.rstrip("\n") == output.rstrip("\n")


def test_ketaplan_alone_prints_the_help_and_no_error(capsys: pytest.CaptureFixture[str]) -> None:
    result = run(capsys)
    assert (result.code, result.err) == (0, "")
    assert "Usage: ketaplan [OPTIONS] COMMAND [ARGS]..." in result.out
    assert "Example: ketaplan plan --start 2026-12-07 --patient P-001" in result.out
