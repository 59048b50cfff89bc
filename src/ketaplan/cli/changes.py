"""What the commands that change a booked course share: --by, --dry-run, the context
they hand to `ketaplan.booking.lifecycle`, and printing what changed."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ketaplan.booking.lifecycle import Change, Context, LifecycleResult, SessionRef
from ketaplan.cli import clock
from ketaplan.cli.app import mark_stored
from ketaplan.cli.bookfile import opened_book
from ketaplan.cli.common import check_patient, clinic_calendar, clinic_zone
from ketaplan.cli.render import aligned
from ketaplan.cli.user import who
from ketaplan.errors import UsageError
from ketaplan.model.clinic import ClinicConfig
from ketaplan.parsing import parse_date

if TYPE_CHECKING:
    from ketaplan.store import Book

ReasonOpt = Annotated[
    str | None,
    typer.Option("--reason", metavar="TEXT", help="Why, kept in the history.", show_default=False),
]
SessionOpt = Annotated[
    int | None,
    typer.Option(
        "--session",
        metavar="N",
        help="The session's number, as `ketaplan course` lists it.",
        show_default=False,
    ),
]

DateOpt = Annotated[
    str | None,
    typer.Option(
        "--date",
        metavar="DATE",
        help="The session on this day (default: today's).",
        show_default=False,
    ),
]
CorrectOpt = Annotated[
    bool,
    typer.Option(
        "--correct",
        help="Record again a session already recorded: the later record supersedes, both are kept.",
    ),
]


def clean_text(value: str | None, what: str) -> str | None:
    """A free-text option on one line; None when not given."""
    if value is None:
        return None
    text = " ".join(value.split())
    if not text:
        raise UsageError(f"{what} is empty")
    return text


def session_ref(session: int | None, day: str | None, today: date) -> SessionRef:
    if session is not None and day is not None:
        raise UsageError("give --session or --date, not both")
    return SessionRef(session, parse_date(day, what="--date", today=today) if day else None)


def context(clinic: ClinicConfig, by: str | None, *, dry_run: bool = False) -> Context:
    zone = clinic_zone(None, clinic)
    return Context(
        clinic=clinic,
        calendar=clinic_calendar(clinic, None, None, None),
        now=clock.now(),
        today=clock.today_in(zone),
        by=who(by),
        dry_run=dry_run,
    )


@dataclass(frozen=True)
class Changing:
    """A patient's course opened for one change: the book, the patient's code (in the
    spelling of the book's clinic) and the change's context."""

    book: Book
    patient: str
    ctx: Context

    def done(self, result: LifecycleResult) -> None:
        print_result(result, self.book.location)


@contextmanager
def changing(
    patient: str,
    by: str | None,
    *,
    dry_run: bool,
    book_option: str | None,
    config: Path | None,
    clinic_option: str | None,
) -> Iterator[Changing]:
    """Open the book for one change of a patient's course: every lifecycle command's
    start, with the book's clinic (never a config's)."""
    with opened_book(book_option, config, create=False, clinic_option=clinic_option) as opened:
        clinic = opened.clinic
        code = check_patient(patient, clinic)
        yield Changing(opened.book, code, context(clinic, by, dry_run=dry_run))


def _when(moment: datetime | None) -> str:
    return "" if moment is None else f"{moment:%a %Y-%m-%d %H:%M}"


def _after(change: Change) -> str:
    if change.kind == "recorded":
        return change.note or ""
    if change.kind == "cancelled":
        return "cancelled"
    chair = f", chair {change.chair_after}" if change.chair_after is not None else ""
    return f"{_when(change.after)}{chair}"


def change_lines(changes: tuple[Change, ...]) -> list[str]:
    """The sessions that changed, before and after, with a note line under any that has
    one."""
    if all(c.kind == "recorded" for c in changes):
        return []
    rows = [("#", "Session", "Before", "After")]
    notes: list[str | None] = []
    for c in changes:
        label = c.label_after or c.label_before or ""
        before = "new" if c.kind == "added" else _when(c.before)
        rows.append((str(c.number), label, before, _after(c)))
        extra = []
        if c.label_before and c.label_after and c.label_before != c.label_after:
            extra.append(f"was {c.label_before}")
        if c.note and c.kind != "recorded":
            extra.append(c.note)
        notes.append("; ".join(extra) or None)
    lines = aligned(rows)
    out = lines[:1]
    for line, note in zip(lines[1:], notes, strict=True):
        out.append(line)
        if note:
            out.append(f"      {note}")
    return out


def print_result(result: LifecycleResult, location: str) -> None:
    """Print what a use case did; a change written to the book is marked stored first,
    so that output that cannot be printed still says the change is in the book."""
    if not result.dry_run:
        mark_stored(f"{result.headline.removesuffix('.')}; stored in {location}")
    lines = [result.headline, *result.details]
    lines += change_lines(result.changes)
    lines += result.hints
    if result.dry_run:
        lines.append("Dry run: nothing was written.")
    sys.stdout.write("\n".join(lines) + "\n")
