"""The Typer application that every command module registers on."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from typer.core import TyperCommand

# What the running command has stored in the book, in one line ("Booked P-001 in X"):
# when its output then fails (a full disk, `| head -1`), the CLI says this on stderr and
# exits 0, so that a script never retries a booking that was stored.
stored: list[str] = []


def mark_stored(message: str) -> None:
    """Call right after a command's change is committed, before printing anything."""
    stored.append(message)


class AliasCommand(TyperCommand):
    """A command whose older form (a patient's code as an argument, from before every
    command named its patient with --patient) still works as a hidden argument: left out
    of the usage line as the help leaves it out, so the documented form is the one shown."""

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if not getattr(param, "hidden", False):
                pieces.extend(param.get_usage_pieces(ctx))
        return pieces


app = typer.Typer(
    name="ketaplan",
    help="Plan, book and export ketamine treatment courses.\n\n"
    "Example: ketaplan plan --start 2026-12-07 --patient P-001",
    no_args_is_help=True,
    add_completion=True,
    # Help paragraphs reflow to the terminal: docstrings wrap lines at 88 for the source.
    rich_markup_mode="markdown",
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        from ketaplan import __version__

        typer.echo(f"ketaplan {__version__}")
        raise typer.Exit()


@app.callback()
def ketaplan(
    version: Annotated[
        bool,
        typer.Option(
            "--version", help="Print the version and exit.", is_eager=True, callback=_version
        ),
    ] = False,
) -> None:
    """Plan, book and export ketamine treatment courses.

    Example: ketaplan plan --start 2026-12-07 --patient P-001
    """
    # A callback keeps `ketaplan` a group of commands even when only the invoked
    # command's module is loaded (see cli/__init__.py).
