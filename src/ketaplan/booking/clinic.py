"""The clinic a book is kept for: stored in the book when the book is made, used by
every command that opens it, and changed only on purpose (`ketaplan clinic apply`).

A config file that disagrees with the book's clinic is never applied silently: the
command refuses, naming both and the keys that differ. A change that leaves booked
sessions outside the new settings (a closure, fewer chairs, shorter hours, fewer starts
per slot) is refused with those sessions listed, or, when asked, re-plans just those
sessions by the protocol's rules.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import TYPE_CHECKING

from ketaplan.errors import KetaplanError
from ketaplan.formats.config_file import (
    ConfigChoice,
    config_from_settings,
    differing_keys,
    settings_json,
)
from ketaplan.model.calendar import ClinicCalendar
from ketaplan.model.clinic import ClinicConfig
from ketaplan.model.course import local_start
from ketaplan.model.records import ClinicRecord, SessionRecord
from ketaplan.store import Book, BookWriter

if TYPE_CHECKING:  # every book command opens its clinic here; re-planning is for apply
    from ketaplan.booking.lifecycle import LifecycleResult, Unfit


class ClinicMismatch(KetaplanError):
    """A config file disagrees with the clinic stored in the book."""


@dataclass(frozen=True)
class Who:
    """Who makes a change, when, and the new clinic's id should one be stored."""

    author: str
    now: datetime
    new_id: str


@dataclass(frozen=True)
class BookClinic:
    """The clinic a command plans and books with.

    Attributes:
        config: the clinic's settings (from the book, or the config for a book that
            carries none yet), always with a zone.
        record: the clinic as stored in the book; None when the book carries none.
        created: this command stored it (the book's first clinic).
    """

    config: ClinicConfig
    record: ClinicRecord | None
    created: bool = False


def with_zone(config: ClinicConfig, system_zone: str) -> ClinicConfig:
    """The config with its zone spelled out: a clinic without one is in the system's."""
    return config if config.zone is not None else replace(config, zone=system_zone)


def book_clinic(
    book: Book, found: ConfigChoice, config: ClinicConfig, *, store: Who | None
) -> BookClinic:
    """The clinic of `book`. A book that carries none yet takes `config` (the config
    file found, or the built-in defaults), stored when `store` says who stores it.
    A config file that disagrees with the stored clinic is refused (ClinicMismatch)."""
    record = book.clinic()
    if record is None:
        if store is None:
            return BookClinic(config, None)
        with book.writing() as writer:
            record = writer.clinic()
            if record is None:
                record = _record(config, found, store, clinic_id=store.new_id)
                writer.save_clinic(record)
                return BookClinic(config, record, created=True)
    stored = config_from_settings(record.settings, f"the book {book.location}")
    if found.path is not None:
        keys = differing_keys(config, stored)
        if keys:
            raise ClinicMismatch(
                f"the config {found.path} disagrees with the clinic stored in the book "
                f"{book.location} ({record.name}) on {', '.join(keys)}; the book's clinic is "
                f"used only as stored: run `ketaplan clinic apply {found.path}` to change it, "
                "or use the config with another book"
            )
    return BookClinic(stored, record)


@dataclass(frozen=True)
class ClinicChange:
    """What `apply_clinic` found, and did (or, with dry_run, would do).

    Attributes:
        keys: the config keys that change.
        misfits: booked future sessions the new settings leave no room for.
        record: the clinic as now stored; None when nothing was stored.
        replanned: with replan, what was re-planned, one result per course.
        unplaced: with replan, the misfits with no day that keeps the protocol's rules
            and has a free chair (then nothing was stored).
        dry_run: nothing was written.
    """

    keys: tuple[str, ...]
    misfits: tuple[Unfit, ...]
    record: ClinicRecord | None
    replanned: tuple[LifecycleResult, ...] = ()
    unplaced: tuple[Unfit, ...] = ()
    dry_run: bool = False


class _RollBack(Exception):
    """Leaves the write transaction without keeping anything."""

    def __init__(self, change: ClinicChange) -> None:
        super().__init__("roll back")
        self.change = change


def apply_clinic(
    book: Book,
    found: ConfigChoice,
    config: ClinicConfig,
    calendar: ClinicCalendar,
    who: Who,
    *,
    horizon: datetime,
    replan: bool = False,
    dry_run: bool = False,
) -> ClinicChange:
    """Store new settings for the book's clinic. A booked session from now on (up to
    `horizon`) that would no longer fit them stops the change: nothing is stored and the
    change lists them; with `replan`, each is re-placed by the protocol's rules instead
    (`ketaplan.booking.lifecycle.refit`), in the same transaction, and recorded in its
    course's history, unless one has nowhere to go. `calendar` is the new settings'
    calendar (with their holidays); `dry_run` does it all and keeps nothing."""
    try:
        with book.writing() as writer:
            change = _apply(book, writer, found, config, calendar, who, horizon, replan)
            if change.record is None and change.replanned:  # pragma: no cover
                raise AssertionError("re-planned without storing the clinic")
            if change.unplaced:
                raise _RollBack(replace(change, record=None, replanned=()))
            if dry_run:
                raise _RollBack(replace(change, dry_run=True))
    except _RollBack as back:
        return back.change
    return change


def _apply(
    book: Book,
    writer: BookWriter,
    found: ConfigChoice,
    config: ClinicConfig,
    calendar: ClinicCalendar,
    who: Who,
    horizon: datetime,
    replan: bool,
) -> ClinicChange:
    current = writer.clinic()
    if current is None:
        keys: list[str] = ["clinic"]
        clinic_id = who.new_id
    else:
        old = config_from_settings(current.settings, f"the book {book.location}")
        keys = differing_keys(old, config)
        clinic_id = current.id
        if not keys:
            return ClinicChange((), (), None)
    misfits = tuple(_misfits(book.sessions_between(who.now, horizon), config, calendar))
    if misfits and not replan:
        return ClinicChange(tuple(keys), misfits, None)
    record = _record(config, found, who, clinic_id=clinic_id)
    writer.save_clinic(record)
    if not misfits:
        return ClinicChange(tuple(keys), (), record)
    from zoneinfo import ZoneInfo  # only when sessions are re-planned

    from ketaplan.booking.lifecycle import Context, refit  # the re-planner, for apply only

    assert config.zone is not None
    ctx = Context(
        clinic=config,
        calendar=calendar,
        now=who.now,
        today=who.now.astimezone(ZoneInfo(config.zone)).date(),
        by=who.author,
    )
    changed = ", ".join(key.removeprefix("clinic.") for key in keys)
    why = f"clinic apply {found.label} ({changed})"
    results, left = refit(writer, ctx, misfits, why)
    if not left:
        # Whatever was re-planned fits the new settings: checked again, as stored.
        left = _misfits(book.sessions_between(who.now, horizon), config, calendar)
    return ClinicChange(tuple(keys), misfits, record, tuple(results), tuple(left))


def _misfits(
    sessions: list[SessionRecord], config: ClinicConfig, calendar: ClinicCalendar
) -> list[Unfit]:
    from zoneinfo import ZoneInfo  # only when settings change

    from ketaplan.booking.lifecycle import Unfit  # the re-planner's unit, for apply only

    assert config.zone is not None
    where = ZoneInfo(config.zone)
    found: list[Unfit] = []
    # The sessions that fit by day, hours and chair, by the start slot they start in.
    slots: dict[tuple[date, int], list[SessionRecord]] = {}
    for s in sessions:
        if s.status != "booked" or s.location != "clinic":
            continue
        start, end = s.start.astimezone(where), s.end.astimezone(where)
        day = start.date()
        reason: str | None
        if day.weekday() not in calendar.open_weekdays:
            reason = f"the clinic is closed on {start:%A}s"
        else:
            reason = calendar.closed_reason(day)
        if reason is None:
            opens, closes = config.hours.get(day.weekday(), (None, None))
            if opens is None or closes is None:
                reason = f"no opening hours on {start:%A}s"
            elif start.time() < opens or end.date() != day or end.time() > closes:
                reason = f"outside the opening hours {opens:%H:%M}-{closes:%H:%M}"
        if reason is None and s.chair is not None and s.chair > config.chairs:
            reason = f"chair {s.chair}, and the clinic has {config.chairs}"
        if reason is not None:
            found.append(Unfit(s, reason))
            continue
        # The opening instant as the capacity engine takes it (a clock change respected).
        opened = local_start(day, config.hours[day.weekday()][0], where)[0]
        minutes = int((start - opened).total_seconds()) // 60
        slots.setdefault((day, minutes // config.slot_minutes), []).append(s)
    # Nurse load: more starts in one slot than the clinic allows; the latest booked go.
    starts = "1 start" if config.starts_per_slot == 1 else f"{config.starts_per_slot} starts"
    for same in slots.values():
        for s in sorted(same, key=lambda s: s.id)[config.starts_per_slot :]:
            found.append(Unfit(s, f"start slot full ({starts} per {config.slot_minutes} min)"))
    found.sort(key=lambda u: (u.session.start, u.session.chair or 0, u.session.id))
    return found


def _record(config: ClinicConfig, found: ConfigChoice, who: Who, *, clinic_id: str) -> ClinicRecord:
    return ClinicRecord(
        id=clinic_id,
        name=config.name,
        settings=settings_json(config),
        updated=who.now,
        updated_by=who.author,
        source=found.label,
    )
