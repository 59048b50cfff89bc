"""`ketaplan admin`: looking after the clinic book (backup, check). Each subcommand is a
small function; other stores' subcommands join this group here."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from ketaplan.cli.app import app
from ketaplan.cli.bookfile import BookOpt, book_path
from ketaplan.cli.common import ConfigOpt, ForceOpt, load_clinic
from ketaplan.cli.render import plural
from ketaplan.errors import BookError

admin_app = typer.Typer(
    help="Look after the clinic book: back it up, check it.\n\n"
    "Example: ketaplan admin backup book-2026-12-07.sqlite",
    invoke_without_command=True,
)
app.add_typer(admin_app, name="admin")
# Beyond this many problems, `admin check` counts the rest.
MAX_PROBLEMS = 20


@admin_app.callback()
def admin(ctx: typer.Context) -> None:
    """Look after the clinic book: back it up, check it.

    Example: ketaplan admin backup book-2026-12-07.sqlite
    """
    if ctx.invoked_subcommand is None:
        sys.stdout.write(ctx.get_help() + "\n")


@admin_app.command("backup")
def backup(
    file: Annotated[
        Path,
        typer.Argument(metavar="FILE", help="The copy to write (mode 0600).", dir_okay=False),
    ],
    force: ForceOpt = False,
    book_option: BookOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Copy the clinic book to FILE while others keep booking.

    SQLite's online backup: the copy is the book as of one moment, mode 0600, checked
    after writing. Restore by putting the copy in the book's place while nobody books.

    Example: ketaplan admin backup book-2026-12-07.sqlite
    """
    from ketaplan.booking.maintenance import back_up  # the backup's modules, here only

    path, _ = book_path(book_option, load_clinic(config))
    found = back_up(path, file, force=force)
    sys.stdout.write(
        f"Backed up {path} to {file}: {plural(found.courses, 'course')}, "
        f"{plural(found.sessions, 'session')}, {plural(found.screenings, 'screening')}; "
        "the copy passed SQLite's integrity check\n"
    )


@admin_app.command("check")
def check(book_option: BookOpt = None, config: ConfigOpt = None) -> None:
    """Run SQLite's integrity check on the clinic book; changes nothing.

    Example: ketaplan admin check --book book-2026-12-07.sqlite
    """
    from ketaplan.booking.maintenance import check as check_book  # here only

    path, _ = book_path(book_option, load_clinic(config))
    found = check_book(path)
    if found.problems:
        shown = found.problems[:MAX_PROBLEMS]
        lines = [f"  {problem}" for problem in shown]
        if len(found.problems) > len(shown):
            lines.append(f"  ... and {len(found.problems) - len(shown)} more")
        sys.stdout.write("\n".join(lines) + "\n")
        raise BookError(
            f"the book {path} is damaged ({plural(len(found.problems), 'problem')} above); "
            "restore your latest backup (made with `ketaplan admin backup`)"
        )
    sys.stdout.write(
        f"The book {path} is intact: {plural(found.courses, 'course')}, "
        f"{plural(found.sessions, 'session')}, {plural(found.screenings, 'screening')} "
        "(SQLite's integrity check: ok)\n"
    )
    for names in found.one_patient:
        # Left by a book from before codes had one spelling (docs/reliability.md).
        sys.stdout.write(
            f"Warning: one patient has {len(names)} active courses, stored as "
            f"{', '.join(names)} (from before codes had one spelling); ketaplan's commands "
            "reach only the one in upper case\n"
        )
