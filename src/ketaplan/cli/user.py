"""Who is making a change (`--by NAME`, else the user logged in), and whether it is
written (`--dry-run`)."""

from __future__ import annotations

from typing import Annotated

import typer

ByOpt = Annotated[
    str | None,
    typer.Option(
        "--by",
        metavar="NAME",
        help="Who records the change (default: the user logged in).",
        show_default=False,
    ),
]


DryRunOpt = Annotated[
    bool, typer.Option("--dry-run", help="Show what would change; write nothing.")
]


def who(by: str | None) -> str:
    """--by, else the user logged in (the history's "who")."""
    if by is not None and by.strip():
        return " ".join(by.split())
    import getpass  # only commands that record a change ask who is at the keyboard

    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "unknown"
