"""The clinic book and its clinic, shared by every command that reads or writes it:
which config (`--config`, $KETAPLAN_CONFIG, ketaplan.toml here or above, the user config
folder), which book (`--book`, $KETAPLAN_BOOK, the config, the user data directory: a
file, or a PostgreSQL URL), which of its clinics (`--clinic`, the config), and the
clinic's settings the book keeps."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ketaplan.cli import clock
from ketaplan.cli.common import found_config, system_zone
from ketaplan.errors import UsageError
from ketaplan.formats.config_file import ConfigChoice
from ketaplan.model.clinic import ClinicConfig
from ketaplan.parsing import parse_holidays
from ketaplan.store import is_url

if TYPE_CHECKING:
    from tempfile import TemporaryDirectory

    from ketaplan.booking.clinic import Who
    from ketaplan.model.records import ClinicRecord
    from ketaplan.store import Book

BOOK_FILE = "book.sqlite"

BookOpt = Annotated[
    str | None,
    typer.Option(
        "--book",
        metavar="FILE|URL",
        help="The clinic book: a file, or a postgresql://USER@HOST/DB URL (password from "
        "PGPASSWORD or ~/.pgpass) (default: $KETAPLAN_BOOK, else book.url or book.path in "
        "the config, else book.sqlite in the user data directory).",
        show_default=False,
    ),
]
ClinicOpt = Annotated[
    str | None,
    typer.Option(
        "--clinic",
        metavar="NAME",
        help="The clinic of the book to work on, when it holds several (default: "
        "book.clinic in the config, else the book's only clinic).",
        show_default=False,
    ),
]


def book_path(option: str | None, clinic: ClinicConfig) -> tuple[Path | str, str]:
    """The book's path (or PostgreSQL URL) and why that one: `--book`, else
    $KETAPLAN_BOOK, else the config's [book] url or path, else book.sqlite in the user
    data directory."""
    if option is not None:
        if not option.strip():
            raise UsageError(
                "--book is empty; give the clinic book's file, e.g. --book book.sqlite"
            )
        return (option if is_url(option) else Path(option).expanduser()), "given with --book"
    env = os.environ.get("KETAPLAN_BOOK")
    if env:
        return (env if is_url(env) else Path(env).expanduser()), "from $KETAPLAN_BOOK"
    if clinic.book_url is not None:
        return clinic.book_url, "book.url in the config"
    if clinic.book is not None:
        return clinic.book, "book.path in the config"
    from platformdirs import user_data_dir  # only when no book is named

    return Path(user_data_dir("ketaplan")) / BOOK_FILE, "the user data directory"


def book_files(option: str | None, clinic: ClinicConfig) -> tuple[Path, ...]:
    """The book in use and SQLite's files beside it: never an output file (none for a
    PostgreSQL book)."""
    path, _ = book_path(option, clinic)
    return sqlite_files(path)


def sqlite_files(path: Path | str) -> tuple[Path, ...]:
    """A book's file and SQLite's files beside it (none for a PostgreSQL URL)."""
    if not isinstance(path, Path):
        return ()
    return (path, *(Path(f"{path}{suffix}") for suffix in ("-wal", "-shm", "-journal")))


def who(by: str | None = None) -> Who:
    """Who changes the book now (`--by`, else the operating system's user), and a fresh
    clinic id."""
    import uuid  # only for commands that write the clinic

    from ketaplan.booking.clinic import Who
    from ketaplan.cli.user import who as user

    return Who(author=user(by), now=clock.now(), new_id=str(uuid.uuid4()))


class OpenedBook:
    """A book opened by a command, and the clinic it plans and books with.

    A book that does not exist yet is made only when the command writes
    (`keep_clinic`): a command refused before that leaves no file behind.

    Attributes:
        path: the book's file.
        clinic: the book's clinic; for a book that carries none yet, the config's.
        found: the config file found, and why.
        record: the clinic as stored in the book; None until it is stored.
    """

    def __init__(
        self,
        path: Path | str,
        book: Book | None,
        clinic: ClinicConfig,
        found: ConfigChoice,
        record: ClinicRecord | None,
        clinic_name: str | None = None,
    ) -> None:
        self.path = path
        self.clinic_name = clinic_name
        self._book = book
        self.clinic = clinic
        self.found = found
        self.record = record
        self._scratch: TemporaryDirectory[str] | None = None
        self._announced = False

    def announce(self) -> None:
        """Say on stderr, once, which book and clinic the command uses: as soon as the
        book is open (a refusal before that names the book itself)."""
        if not self._announced:
            self._announced = True
            sys.stderr.write(f"Book: {self.path} · clinic {self.clinic.name}\n")

    @property
    def book(self) -> Book:
        """The book, for reading; BookError when it does not exist yet."""
        if self._book is None:
            self._book = _open(
                self.path, create=False, group=self.clinic.book_group, clinic=self.clinic_name
            )
        return self._book

    @property
    def exists(self) -> bool:
        """Whether the book is there already (a PostgreSQL book always is)."""
        return self._book is not None or not isinstance(self.path, Path) or self.path.exists()

    @property
    def location(self) -> str:
        return str(self.path)

    def keep_clinic(self) -> Book:
        """Before the first write: the book, made if need be; a book that carries no
        clinic yet stores the one it is used with, and says so on stderr."""
        if self._book is None:
            self._book = _open(
                self.path, create=True, group=self.clinic.book_group, clinic=self.clinic_name
            )
        self.announce()
        if self.record is None:
            from ketaplan.booking.clinic import book_clinic  # with the book's writes only

            result = book_clinic(self._book, self.found, self.clinic, store=who())
            self.record = result.record
            if result.created:
                sys.stderr.write(
                    f"Stored the clinic {self.clinic.name} in the book {self.location} "
                    f"(settings from {self.found.label})\n"
                )
        return self._book

    def scratch(self) -> Book:
        """For a dry run: the book, or an empty one in a temporary folder when it does
        not exist yet (a dry run never makes it)."""
        if self._book is None and isinstance(self.path, Path) and not self.path.exists():
            import tempfile  # dry runs only

            from ketaplan.store import open_book  # the book's commands only

            self._scratch = tempfile.TemporaryDirectory(prefix="ketaplan-dry-run-")
            self._book = open_book(Path(self._scratch.name) / BOOK_FILE, create=True)
            # Not the coordinator's book: its notices are not theirs either.
        self.announce()
        return self.book

    def close(self) -> None:
        if self._book is not None:
            self._book.close()
        if self._scratch is not None:
            self._scratch.cleanup()


def _open(path: Path | str, *, create: bool, group: str | None, clinic: str | None) -> Book:
    """Open the book, saying on stderr what opening it found or did (a new book, its
    access fixed)."""
    from ketaplan.store import open_book  # the book's commands only

    book = open_book(path, create=create, group=group, clinic=clinic)
    for notice in book.notices:
        sys.stderr.write(f"{notice}\n")
    if book.created:
        sys.stderr.write(f"Created a new clinic book at {book.location}\n")
    return book


@contextmanager
def opened_book(
    book_option: str | None,
    config_option: Path | None,
    *,
    create: bool,
    compare: bool = True,
    clinic_option: str | None = None,
) -> Iterator[OpenedBook]:
    """Open the book and find its clinic; says on stderr which book and clinic, once.
    Refuses a config file that disagrees with the clinic the book carries, unless not
    `compare` (`clinic apply`, whose file is meant to differ). With `create`, a book
    that does not exist yet is made at the first write (`OpenedBook.keep_clinic`)."""
    found, config = found_config(config_option)
    path, why = book_path(book_option, config)
    from ketaplan.booking.clinic import book_clinic, with_zone  # the book's commands only
    from ketaplan.store import make_book_folder

    clinic_name = clinic_option if clinic_option is not None else config.book_clinic
    if why == "the user data directory" and create and isinstance(path, Path):
        notice = make_book_folder(path.parent, config.book_group)
        if notice:
            sys.stderr.write(f"{notice}\n")
    zoned = with_zone(config, system_zone())
    try:
        # A PostgreSQL book is opened at once: the server makes an empty one a book.
        exists = path.exists() if isinstance(path, Path) else True
    except OSError:
        exists = True  # opening it says what is wrong (a folder the user cannot enter)
    # A writing command opens an existing book as a writer: it is checked for damage
    # before anything is written; a new book is made only at the first write.
    book = (
        _open(path, create=create, group=config.book_group, clinic=clinic_name)
        if exists or not create
        else None
    )
    opened = OpenedBook(path, book, zoned, found, None, clinic_name)
    try:
        if book is not None:
            seen = found if compare else ConfigChoice(None, found.why)
            result = book_clinic(book, seen, zoned, store=None)
            opened.clinic, opened.record = result.config, result.record
            opened.announce()
        yield opened
    finally:
        opened.close()


def check_book_holidays(option: str | None, clinic: ClinicConfig) -> None:
    """A book command plans with its clinic's public holidays: others are refused (the
    same ones are harmless)."""
    if option is None or parse_holidays(option) == clinic.holidays:
        return
    kept = "none" if clinic.holidays is None else "-".join(p for p in clinic.holidays if p)
    raise UsageError(
        f"--holidays {option} are not the holidays of the book's clinic ({kept}); the "
        "book's clinic keeps its holidays: drop --holidays, or change them with "
        "`ketaplan clinic apply FILE`"
    )


def check_book_zone(option: str | None, clinic: ClinicConfig) -> None:
    """A book command plans in its clinic's zone: another --tz is refused."""
    if option is not None and option != clinic.zone:
        raise UsageError(
            f"--tz {option} is not the zone of the book's clinic ({clinic.zone}); "
            "a book plans and books in its clinic's zone: drop --tz"
        )
