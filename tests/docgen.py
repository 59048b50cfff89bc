"""What docs/cli.md and docs/config.md generate from the code, through cog.

Each function returns Markdown text; the pages call them between their `[[[cog` markers,
and `.ci/run` runs `cog --check` so that a page that no longer matches the code fails CI.
Refresh the pages after an intended change with `.venv/bin/cog -r -I . docs/cli.md
docs/config.md` (see docs/development.md).
"""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Iterator

import typer

from ketaplan.cli import load_commands, main
from ketaplan.cli.app import app
from ketaplan.formats.config_file import CONFIG_KEYS

WIDTH = 80


def command_paths() -> list[tuple[str, ...]]:
    """Every command and subcommand, `()` for `ketaplan` itself, in help order."""
    load_commands([])  # every command

    paths: list[tuple[str, ...]] = []

    def walk(command: object, path: tuple[str, ...]) -> None:
        paths.append(path)
        for name, sub in sorted(getattr(command, "commands", {}).items()):
            walk(sub, (*path, name))

    walk(typer.main.get_command(app), ())
    return paths


@contextlib.contextmanager
def plain_terminal() -> Iterator[None]:
    """An 80-column terminal without colour, as a pipe or a default terminal has."""
    saved = {name: os.environ.get(name) for name in ("COLUMNS", "NO_COLOR", "TERM")}
    os.environ.update(COLUMNS=str(WIDTH), NO_COLOR="1", TERM="dumb")
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def help_text(path: tuple[str, ...]) -> str:
    """`ketaplan PATH --help` as the installed command prints it, run in-process."""
    out = io.StringIO()
    with plain_terminal(), contextlib.redirect_stdout(out):
        code = main([*path, "--help"])
    if code != 0:
        raise RuntimeError(f"ketaplan {' '.join(path)} --help exited with {code}")
    return "\n".join(line.rstrip() for line in out.getvalue().strip("\n").splitlines())


def cli_reference() -> str:
    """A section per command with its help, for docs/cli.md."""
    parts = []
    for path in command_paths():
        name = " ".join(("ketaplan", *path))
        parts.append(f"## `{name}`\n\n```text\n$ {name} --help\n{help_text(path)}\n```\n")
    return "\n".join(parts)


def config_keys() -> str:
    """The table of every `ketaplan.toml` key, for docs/config.md."""
    rows = [
        "| key | value | default | meaning |",
        "|---|---|---|---|",
    ]
    for key in CONFIG_KEYS:
        value = key.kind
        if key.limits:
            value += f", {key.limits[0]} to {key.limits[1]}"
        default = f"`{key.default}`" if key.default else "unset"
        cells = (f"`{key.section}.{key.key}`", value, default, key.meaning)
        rows.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(rows) + "\n"
