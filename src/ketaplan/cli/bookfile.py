"""The clinic book file, shared by every command that reads or writes it: which file
(`--book`, $KETAPLAN_BOOK, the config, the user data directory) and opening it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ketaplan.errors import BookError
from ketaplan.model.clinic import ClinicConfig

if TYPE_CHECKING:
    from ketaplan.store import Book

BOOK_FILE = "book.sqlite"

BookOpt = Annotated[
    str | None,
    typer.Option(
        "--book",
        metavar="FILE",
        help="The clinic book (default: $KETAPLAN_BOOK, else book.path in ketaplan.toml, "
        "else book.sqlite in the user data directory).",
        show_default=False,
    ),
]


def book_path(option: str | None, clinic: ClinicConfig) -> tuple[Path, bool]:
    """The book's path, and whether it is the default in the user data directory:
    `--book`, else $KETAPLAN_BOOK, else the config's [book] path, else the default."""
    if option:
        return Path(option).expanduser(), False
    env = os.environ.get("KETAPLAN_BOOK")
    if env:
        return Path(env).expanduser(), False
    if clinic.book is not None:
        return clinic.book, False
    from platformdirs import user_data_dir

    return Path(user_data_dir("ketaplan")) / BOOK_FILE, True


@contextmanager
def opened_book(option: str | None, clinic: ClinicConfig, *, create: bool) -> Iterator[Book]:
    path, default = book_path(option, clinic)
    if default and create:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise BookError(f"cannot create {path.parent}: {exc.strerror or exc}") from None
    from ketaplan.store import open_book

    book = open_book(path, create=create)
    try:
        yield book
    finally:
        book.close()


FromOpt = Annotated[
    str | None,
    typer.Option("--from", metavar="DATE", help="First day, YYYY-MM-DD.", show_default=False),
]
ToOpt = Annotated[
    str | None,
    typer.Option("--to", metavar="DATE", help="Last day, YYYY-MM-DD.", show_default=False),
]
