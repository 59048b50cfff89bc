"""Reading a roster: many patients to book at once, from a CSV file.

Columns (a header row names them, in any order): patient, protocol, start, time, days,
maintenance_every, override, rems_enrolled. `patient` and `start` are required; the
others may be left out or empty (the clinic's protocol, the least loaded time, the
clinic's days, the protocol's maintenance interval, no screening override, the REMS
enrollment already in the book). Every bad cell of every row is reported at once, with its line and
column, so a coordinator fixes the file in one go; nothing is booked from a bad roster.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, time
from typing import TypeVar

from ketaplan.errors import UsageError
from ketaplan.formats.protocol_file import get_protocol
from ketaplan.model.protocol import Protocol
from ketaplan.parsing import parse_date, parse_intervals, parse_time, parse_weekdays
from ketaplan.planning.planner import check_every
from ketaplan.safety.gate import parse_override
from ketaplan.safety.rems import ENROLLMENT_AHEAD_DAYS

COLUMNS = (
    "patient",
    "protocol",
    "start",
    "time",
    "days",
    "maintenance_every",
    "override",
    "rems_enrolled",
)
REQUIRED = ("patient", "start")
_T = TypeVar("_T")
# Beyond this many problems the rest are counted, not listed.
MAX_LISTED = 100


@dataclass(frozen=True)
class RosterRow:
    """One patient to book.

    Attributes:
        line: the row's line number in the file (the header is line 1).
        patient: the patient's code.
        protocol: the row's protocol, or the clinic's when the cell is empty.
        start: the course's first possible day.
        time: the preferred time of day; None for the least loaded start.
        days: weekdays the patient can come (0 is Monday); None for any open day.
        every: maintenance gaps in days, the last repeating; None for the protocol's.
        override: the reason to book despite the screening check; None for none.
        rems_enrolled: the patient's esketamine REMS enrollment date, to record with
            the booking; None to use the one in the book.
    """

    line: int
    patient: str
    protocol: Protocol
    start: date
    time: time | None
    days: frozenset[int] | None
    every: tuple[int, ...] | None
    override: str | None = None
    rems_enrolled: date | None = None


class RosterError(UsageError):
    """A roster with bad rows; the message lists every one."""

    def __init__(self, source: str, problems: list[str]) -> None:
        listed = problems[:MAX_LISTED]
        more = len(problems) - len(listed)
        lines = [f"{source}: {_count(len(problems))}, nothing was booked:"]
        lines += [f"  {problem}" for problem in listed]
        if more:
            lines.append(f"  ... and {more} more")
        super().__init__("\n".join(lines))
        self.problems = tuple(problems)


def _count(n: int) -> str:
    return "1 problem" if n == 1 else f"{n} problems"


def parse_roster(
    text: str,
    *,
    source: str,
    today: date,
    default_protocol: Protocol,
    check_patient: Callable[[str], str],
) -> tuple[RosterRow, ...]:
    """The rows of a roster, or RosterError listing every problem.

    `check_patient` validates a patient code (raising UsageError); `today` refuses starts
    in the past and gives `today`/`tomorrow` their meaning.
    """
    reader = csv.reader(io.StringIO(text, newline=""))
    problems: list[str] = []
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise RosterError(source, [f"line 1: {exc}"]) from None
    if header is None or not any(cell.strip() for cell in header):
        raise RosterError(source, [f"line 1: no header row; columns: {', '.join(COLUMNS)}"])
    names = [cell.strip().lower() for cell in header]
    for index, name in enumerate(names, 1):
        if name not in COLUMNS:
            problems.append(
                f"line 1, column {index}: unknown column {name!r}; columns: {', '.join(COLUMNS)}"
            )
        elif names.index(name) != index - 1:
            problems.append(f"line 1, column {index}: column {name!r} appears twice")
    for name in REQUIRED:
        if name not in names:
            problems.append(f"line 1: the required column {name!r} is missing")
    if problems:
        raise RosterError(source, problems)

    rows: list[RosterRow] = []
    seen: dict[str, int] = {}
    try:
        for cells in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) > len(names):
                problems.append(f"line {line}: {len(cells)} cells, the header has {len(names)}")
                continue
            values = {
                name: cells[i].strip() if i < len(cells) else "" for i, name in enumerate(names)
            }
            row = _row(line, values, names, today, default_protocol, check_patient, problems)
            if row is None:
                continue
            if row.patient in seen:
                column = names.index("patient") + 1
                problems.append(
                    f"line {line}, column {column}: patient {row.patient} is already on "
                    f"line {seen[row.patient]}"
                )
                continue
            seen[row.patient] = line
            rows.append(row)
    except csv.Error as exc:
        problems.append(f"line {reader.line_num}: {exc}")
    if problems:
        raise RosterError(source, problems)
    if not rows:
        raise RosterError(source, ["no patients: the file has a header and no rows"])
    return tuple(rows)


def _intervals(text: str, protocol: Protocol) -> tuple[int, ...]:
    every = parse_intervals(text, what="maintenance_every")
    check_every(protocol, every)  # the planner's own rule and wording
    return every


def _row(
    line: int,
    values: dict[str, str],
    names: list[str],
    today: date,
    default_protocol: Protocol,
    check_patient: Callable[[str], str],
    problems: list[str],
) -> RosterRow | None:
    before = len(problems)

    def cell(name: str, parse: Callable[[str], _T]) -> _T | None:
        text = values.get(name, "")
        if not text:
            if name in REQUIRED:
                problems.append(f"line {line}, column {names.index(name) + 1}: {name} is empty")
            return None
        try:
            return parse(text)
        except UsageError as exc:
            problems.append(f"line {line}, column {names.index(name) + 1}: {exc}")
            return None

    patient = cell("patient", check_patient)
    protocol = cell("protocol", get_protocol) or default_protocol
    start = cell("start", lambda t: parse_date(t, what="start", today=today))
    if start is not None and start < today:
        problems.append(
            f"line {line}, column {names.index('start') + 1}: start {start} is in the past; "
            f"the book takes courses from today ({today}) on"
        )
    at = cell("time", lambda t: parse_time(t, what="time"))
    days = cell("days", parse_weekdays)
    every = cell("maintenance_every", lambda t: _intervals(t, protocol))
    override = cell("override", lambda t: parse_override(t, what="override"))
    enrolled = cell("rems_enrolled", lambda t: parse_date(t, what="rems_enrolled", today=today))
    # A planned enrollment may lie ahead (it is needed before the first treatment, not
    # before booking); more than a year ahead is a typo.
    if enrolled is not None and (enrolled - today).days > ENROLLMENT_AHEAD_DAYS:
        problems.append(
            f"line {line}, column {names.index('rems_enrolled') + 1}: rems_enrolled {enrolled} "
            f"is more than {ENROLLMENT_AHEAD_DAYS} days after today ({today})"
        )
    if len(problems) > before or patient is None or start is None:
        return None
    return RosterRow(line, patient, protocol, start, at, days, every, override, enrolled)
