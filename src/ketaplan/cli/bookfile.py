"""The clinic book file, shared by every command that reads or writes it: which file
(`--book`, $KETAPLAN_BOOK, the config, the user data directory) and opening it."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ketaplan.errors import UsageError
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
    if option is not None:
        if not option.strip():
            raise UsageError(
                "--book is empty; give the clinic book's file, e.g. --book book.sqlite"
            )
        return Path(option).expanduser(), False
    env = os.environ.get("KETAPLAN_BOOK")
    if env:
        return Path(env).expanduser(), False
    if clinic.book is not None:
        return clinic.book, False
    from platformdirs import user_data_dir

    return Path(user_data_dir("ketaplan")) / BOOK_FILE, True


def book_files(option: str | None, clinic: ClinicConfig) -> tuple[Path, ...]:
    """The book in use and SQLite's files beside it: never an output file."""
    path, _ = book_path(option, clinic)
    return (path, *(Path(f"{path}{suffix}") for suffix in ("-wal", "-shm", "-journal")))


@contextmanager
def opened_book(option: str | None, clinic: ClinicConfig, *, create: bool) -> Iterator[Book]:
    path, default = book_path(option, clinic)
    from ketaplan.store import make_book_folder, open_book

    folder_notice = make_book_folder(path.parent, clinic.book_group) if default and create else None
    book = open_book(path, create=create, group=clinic.book_group)
    for notice in filter(None, [folder_notice, *book.notices]):
        sys.stderr.write(f"{notice}\n")
    if book.created:
        sys.stderr.write(f"Created a new clinic book at {path}\n")
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
