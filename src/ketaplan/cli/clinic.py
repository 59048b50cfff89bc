"""`ketaplan init`, `ketaplan clinic show|apply` and `ketaplan info`: the clinic a book is
kept for, and which config and book a command uses."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ketaplan import __version__
from ketaplan.booking.clinic import apply_clinic, with_zone
from ketaplan.cli.app import app, mark_stored
from ketaplan.cli.bookfile import BookOpt, ClinicOpt, book_path, opened_book, who
from ketaplan.cli.common import (
    ConfigOpt,
    check_format,
    clinic_calendar,
    clinic_zone,
    found_config,
    system_zone,
)
from ketaplan.cli.render import aligned, plural, wrapped
from ketaplan.cli.user import ByOpt, DryRunOpt
from ketaplan.errors import BookError, NoBookYet
from ketaplan.formats.config_file import (
    ConfigChoice,
    clinic_settings,
    config_from_settings,
    differing_keys,
    settings_toml,
)
from ketaplan.model.clinic import ClinicConfig
from ketaplan.model.records import ClinicRecord
from ketaplan.safety.rems import rems_setting

if TYPE_CHECKING:
    from ketaplan.booking.lifecycle import Unfit

# Booked sessions up to this far ahead are checked against new settings: all of them.
_HORIZON = datetime(9000, 1, 1, tzinfo=UTC)

clinic_app = typer.Typer(
    help="The clinic a book is kept for: show its settings, apply a changed config.\n\n"
    "Example: ketaplan clinic show",
    invoke_without_command=True,
)
app.add_typer(clinic_app, name="clinic")


@app.command()
def init(
    config: ConfigOpt = None, book_option: BookOpt = None, clinic_option: ClinicOpt = None
) -> None:
    """Make a clinic book, kept for the clinic of the config file.

    The clinic's name, zone, days, hours, closures, holidays, chairs and defaults are
    stored in the book, and every command that opens the book plans and books with them.
    The first booking into a new book does the same, and says so.

    Example: ketaplan init --config ketaplan.toml --book clinic.sqlite
    """
    with opened_book(book_option, config, create=True, clinic_option=clinic_option) as opened:
        if opened.record is not None:
            sys.stderr.write(
                f"The book {opened.location} is already kept for the clinic "
                f"{opened.record.name}, with these settings\n"
            )
        opened.keep_clinic()
        clinic = opened.clinic
    sys.stderr.write(rems_setting(clinic.rems_program, clinic_zone(None, clinic)) + "\n")
    sys.stdout.write(settings_toml(clinic))


@clinic_app.callback()
def clinic(ctx: typer.Context) -> None:
    """The clinic a book is kept for: show its settings, apply a changed config.

    Example: ketaplan clinic show
    """
    if ctx.invoked_subcommand is None:
        sys.stdout.write(ctx.get_help() + "\n")


@clinic_app.command("show")
def show(
    book_option: BookOpt = None,
    clinic_option: ClinicOpt = None,
    fmt: Annotated[str, typer.Option("--format", metavar="FORMAT", help="toml or json.")] = (
        "toml"
    ),
    history: Annotated[
        bool, typer.Option("--history", help="Every change of the settings: when, who, from.")
    ] = False,
    config: ConfigOpt = None,
) -> None:
    """Print the book's clinic as a config file, every key spelled out.

    Edit it and `ketaplan clinic apply` it to change the clinic.

    Example: ketaplan clinic show > ketaplan.toml
    """
    check_format(fmt, ("toml", "json"))
    with opened_book(book_option, config, create=False, clinic_option=clinic_option) as opened:
        location = opened.location
        if opened.record is None:
            raise BookError(
                f"the book {location} carries no clinic yet; `ketaplan init` stores one"
            )
        changes = opened.book.clinic_history() if history else []
        settings = config_from_settings(opened.record.settings, location)
    if history:
        _print_history(changes, fmt)
        return
    if fmt == "json":
        data = {"id": opened.record.id, **clinic_settings(settings)}
        sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        return
    sys.stdout.write(settings_toml(settings))


def _print_history(changes: list[ClinicRecord], fmt: str) -> None:
    if fmt == "json":
        data = [
            {
                "changed_utc": c.updated.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "changed_by": c.updated_by,
                "source": c.source,
                "settings": json.loads(c.settings),
            }
            for c in changes
        ]
        sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        return
    rows = [("Changed (UTC)", "By", "From")] + [
        (f"{c.updated.astimezone(UTC):%Y-%m-%d %H:%M}", c.updated_by, c.source) for c in changes
    ]
    sys.stdout.write("\n".join(aligned(rows)) + "\n")


@clinic_app.command("apply")
def apply(
    file: Annotated[
        Path,
        typer.Argument(metavar="FILE", help="The clinic's config file.", dir_okay=False),
    ],
    replan: Annotated[
        bool,
        typer.Option(
            "--replan",
            help="Re-plan the booked sessions the new settings leave no room for, each on "
            "the nearest day that keeps the protocol's rules and has a free chair.",
        ),
    ] = False,
    dry_run: DryRunOpt = False,
    by: ByOpt = None,
    book_option: BookOpt = None,
    clinic_option: ClinicOpt = None,
) -> None:
    """Change the book's clinic to the settings of a config file.

    Booked sessions from now on that no longer fit (a new closure, fewer chairs, shorter
    hours, fewer starts per slot) are listed, and nothing changes until they are moved
    or cancelled, or until --replan re-plans them by the protocol's rules: each one
    alone, on its own day or the nearest day where its course keeps every rule and a
    chair is free; else with the course's next session; else as `move` does, the later
    sessions re-planned from it. When one has nowhere to go, nothing changes.

    Each change is kept in the book with its time and author (`clinic show --history`,
    and `ketaplan history` for each re-planned course).

    Example: ketaplan clinic apply ketaplan.toml --replan
    """
    with opened_book(
        book_option, file, create=False, compare=False, clinic_option=clinic_option
    ) as opened:
        found, config = found_config(file)
        new = with_zone(config, system_zone())
        calendar = clinic_calendar(new, None, None, None)
        author = who(by)
        change = apply_clinic(
            opened.book,
            found,
            new,
            calendar,
            author,
            horizon=_HORIZON,
            replan=replan,
            dry_run=dry_run,
        )
        location = opened.location
    if change.misfits and not replan:
        _print_unfit(change.misfits)
        count = plural(len(change.misfits), "booked session")
        fit = "fits" if len(change.misfits) == 1 else "fit"
        raise BookError(
            f"{count} no longer {fit} {file} ({', '.join(change.keys)}); nothing was changed: "
            "give --replan to re-plan them, or move or cancel them first "
            "(`ketaplan move --patient CODE --session N --to DATE`)"
        )
    from ketaplan.booking.lifecycle import REFIT_DAYS  # the re-planner, for apply only

    if change.unplaced:
        _print_unfit(change.unplaced)
        count = plural(len(change.unplaced), "booked session")
        has = "has" if len(change.unplaced) == 1 else "have"
        raise BookError(
            f"{count} {has} no day within {REFIT_DAYS} days that keeps the protocol's rules "
            f"and has a free chair under {file}; nothing was changed: move or cancel "
            f"{'it' if len(change.unplaced) == 1 else 'them'} first "
            "(`ketaplan move --patient CODE --session N --to DATE --override REASON`)"
        )
    if not change.keys:
        sys.stderr.write(f"The clinic in {location} already has the settings of {file}\n")
        return
    name = change.record.name if change.record is not None else new.name
    applied = f"Applied {file} to the clinic {name} in {location}: {', '.join(change.keys)}"
    if change.replanned:
        moved = sum(len(r.changes) for r in change.replanned)
        courses = plural(len(change.replanned), "patient")
        applied += f"; re-planned {plural(moved, 'session')} of {courses}"
    from ketaplan.cli.changes import change_lines  # the lifecycle's table, for apply only

    if change.dry_run:
        would = f"Would apply {file} to the clinic {name}: {', '.join(change.keys)}."
        lines = wrapped(would, "", hang="")
        for result in change.replanned:
            headline = result.headline.replace("Re-planned", "Would re-plan", 1)
            lines += [headline, *change_lines(result.changes)]
        lines.append("Dry run: nothing was written.")
        sys.stdout.write("\n".join(lines) + "\n")
        return
    mark_stored(f"{applied}; stored in {location}")
    lines = []
    for result in change.replanned:
        lines += [result.headline, *change_lines(result.changes)]
    if lines:
        sys.stdout.write("\n".join(lines) + "\n")
    sys.stderr.write(applied + "\n")


def _print_unfit(unfit: tuple[Unfit, ...]) -> None:
    rows = [("Session", "Patient", "#", "Chair", "Why it no longer fits")] + [
        (
            f"{u.session.start:%a %Y-%m-%d %H:%M}",
            u.session.patient,
            str(u.session.number),
            str(u.session.chair),
            u.reason,
        )
        for u in unfit
    ]
    sys.stdout.write("\n".join(aligned(rows)) + "\n")


@app.command()
def info(
    config: ConfigOpt = None, book_option: BookOpt = None, clinic_option: ClinicOpt = None
) -> None:
    """Print the version, the config and the book in use and why, and the book's clinic.

    Example: ketaplan info
    """
    found, settings = found_config(config)
    path, why = book_path(book_option, settings)
    lines = [f"ketaplan {__version__}", f"Config: {found.label} ({found.why})"]
    exists = not isinstance(path, Path) or path.exists()
    lines.append(f"Book: {path} ({why}{'' if exists else '; not created yet'})")
    name = clinic_option if clinic_option is not None else settings.book_clinic
    lines += _clinic_lines(path, exists, name, found, with_zone(settings, system_zone()))
    sys.stdout.write("\n".join(lines) + "\n")


def _clinic_lines(
    path: Path | str, exists: bool, name: str | None, found: ConfigChoice, config: ClinicConfig
) -> list[str]:
    if not exists:
        return [f"Clinic: {config.name} · {config.zone} (from {found.label}, stored at init)"]
    from ketaplan.store import open_book  # only when the book exists

    try:
        book = open_book(path, create=False, clinic=name)
    except NoBookYet:  # an empty PostgreSQL database: a book at its first write
        return [f"Clinic: {config.name} · {config.zone} (from {found.label}, stored at init)"]
    try:
        record = book.clinic()
    finally:
        book.close()
    if record is None:
        return [f"Clinic: none stored yet; {config.name} from {found.label} at the first booking"]
    stored = config_from_settings(record.settings, str(path))
    lines = [
        f"Clinic: {record.name} · {stored.zone} · {plural(stored.chairs, 'chair')} · "
        f"stored {record.updated.astimezone(UTC):%Y-%m-%d %H:%M} UTC by {record.updated_by} "
        f"from {record.source}"
    ]
    if found.path is not None:
        keys = differing_keys(config, stored)
        if keys:
            lines.append(
                f"Warning: the config disagrees with the book's clinic on {', '.join(keys)}; "
                f"commands refuse until `ketaplan clinic apply {found.path}`"
            )
    return lines
