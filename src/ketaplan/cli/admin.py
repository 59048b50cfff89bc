"""`ketaplan admin`: looking after the clinic book (backup, check; copy between SQLite
and PostgreSQL, the book's clinics). Each subcommand is a small function."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from ketaplan.cli.app import app
from ketaplan.cli.bookfile import BookOpt, book_path
from ketaplan.cli.common import ConfigOpt, ForceOpt, FormatOpt, check_format, load_clinic
from ketaplan.cli.render import plural, write_csv
from ketaplan.errors import BookError
from ketaplan.store import is_url

admin_app = typer.Typer(
    help="Look after the clinic book: back it up, check it, copy it between SQLite and "
    "PostgreSQL, list, add and rename its clinics.\n\n"
    "Example: ketaplan admin backup book-2026-12-07.sqlite",
    invoke_without_command=True,
)
app.add_typer(admin_app, name="admin")
# Beyond this many problems, `admin check` counts the rest.
MAX_PROBLEMS = 20


# What each copied table holds, as the summary names it (singular, plural).
_WHAT = {
    "clinic": ("clinic", "clinics"),
    "clinic_changes": ("clinic change", "clinic changes"),
    "courses": ("course", "courses"),
    "sessions": ("session", "sessions"),
    "screenings": ("screening", "screenings"),
    "session_records": ("session record", "session records"),
    "history": ("history entry", "history entries"),
    "rems_forms": ("REMS form", "REMS forms"),
    "rems_enrollments": ("REMS enrollment", "REMS enrollments"),
    "feeds": ("calendar feed", "calendar feeds"),
}


@admin_app.callback()
def admin(ctx: typer.Context) -> None:
    """Look after the clinic book: back it up, check it, copy it between SQLite and
    PostgreSQL, list its clinics.

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

    path = _file(book_path(book_option, load_clinic(config))[0], "backup")
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

    path = _file(book_path(book_option, load_clinic(config))[0], "check")
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


def _file(where: Path | str, command: str) -> Path:
    """An SQLite book's file; a PostgreSQL book is looked after by its server."""
    if isinstance(where, Path):
        return where
    raise BookError(
        f"`ketaplan admin {command}` works on an SQLite book file; a PostgreSQL book is "
        f"backed up and checked on its server (pg_dump), or copied to a file with "
        f"`ketaplan admin copy URL FILE`"
    )


def _target(value: str) -> str | Path:
    return value if is_url(value) else Path(value).expanduser()


@admin_app.command("copy")
def copy(
    source: Annotated[
        str,
        typer.Argument(metavar="SRC", help="The book to copy: a file or a postgresql:// URL."),
    ],
    destination: Annotated[
        str,
        typer.Argument(metavar="DST", help="A new or empty book: a file or a postgresql:// URL."),
    ],
) -> None:
    """Copy a whole book, every clinic, into a new or empty one (SQLite to PostgreSQL, or
    back), in one transaction.

    The rows of every table are counted in both before the copy commits; anything else
    leaves the destination as it was. Nothing is written to the source. A destination
    holding anything is refused.

    Example: ketaplan admin copy book.sqlite postgresql://ketaplan@db.example/clinics
    """
    from ketaplan.store import copy_book  # the copy code only for this command

    src, dst, counts = copy_book(_target(source), _target(destination))
    parts = [
        f"{n} {_WHAT.get(table, (table, table))[0 if n == 1 else 1]}"
        for table, n in counts.items()
        if table != "book_info"  # the book's own id and change counter: always one
    ]
    sys.stdout.write(f"Copied {src} to {dst}: {', '.join(parts)}; the counts match\n")


@admin_app.command("clinics")
def list_clinics(
    fmt: FormatOpt = "table", book_option: BookOpt = None, config: ConfigOpt = None
) -> None:
    """List the clinics of the book, with their courses. `ketaplan init --clinic NAME`
    with a config whose [clinic] name is NAME adds one to a PostgreSQL book.

    Example: ketaplan admin clinics --book postgresql://ketaplan@db.example/clinics
    """
    from ketaplan.store import clinics  # as above

    check_format(fmt)
    where, _ = book_path(book_option, load_clinic(config))
    location, found = clinics(where)
    if fmt == "json":
        import json  # --format json only

        listed = [{"name": c.name, "courses": c.courses} for c in found]
        sys.stdout.write(json.dumps({"clinics": listed}, indent=2, ensure_ascii=False) + "\n")
        return
    if fmt == "csv":
        from ketaplan.formats.shapes import CLINICS_CSV  # --format csv only

        write_csv(CLINICS_CSV, [(c.name, c.courses) for c in found])
        return
    sys.stdout.write(f"Clinics in {location}:\n")
    for clinic in found:
        sys.stdout.write(f"  {clinic.name}: {plural(clinic.courses, 'course')}\n")
