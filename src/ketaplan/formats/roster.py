"""Reading a roster: many patients to book at once, from a CSV file.

Columns (a header row names them, in any order, any case): patient, protocol, start,
time, days, maintenance_every, override, rems_enrolled, maintenance_sessions, until,
lozenges, replace. `patient` and `start` are required; the others may be left out or
empty (the clinic's protocol, the least loaded time, the clinic's days, the protocol's
maintenance interval, no screening override, the REMS enrollment already in the book,
the protocol's maintenance count, no end date, no lozenges, no replacing). Every bad cell
of every row is reported at once, with its line and column, so a coordinator fixes the
file in one go; nothing is booked from a bad roster.

Files as Excel saves them are read as they are: comma, semicolon or tab between cells
(found from the header row), UTF-8 with or without a byte order mark, CRLF line ends,
and dates in the clinic's order (`date_order = "DMY"` or `"MDY"`: 07.12.2026,
12/7/2026). A file in another encoding is refused with the fix (`--encoding cp1252`).
"""

from __future__ import annotations

import contextlib
import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, time
from typing import TypeVar

from ketaplan.errors import UsageError
from ketaplan.formats.protocol_file import get_protocol
from ketaplan.model.protocol import Protocol
from ketaplan.parsing import (
    parse_date,
    parse_interval,
    parse_intervals,
    parse_time,
    parse_weekdays,
)
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
    "maintenance_sessions",
    "until",
    "lozenges",
    "replace",
)
DATE_ORDERS = ("DMY", "MDY")
_DELIMITERS = (",", ";", "\t")
_LOCAL_DATE = re.compile(r"(\d{1,2})([./-])(\d{1,2})\2(\d{4})")
_YES = {"yes": True, "y": True, "true": True, "1": True, "no": False, "n": False}
_YES |= {"false": False, "0": False}
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
        sessions: how many maintenance sessions; None for the protocol's.
        until: maintenance sessions up to this date instead of a count; None for none.
        lozenges: home lozenge doses between maintenance visits, every this many days;
            None for none.
        replace: replace the patient's active course (its future sessions cancelled).
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
    sessions: int | None = None
    until: date | None = None
    lozenges: int | None = None
    replace: bool = False


class RosterError(UsageError):
    """A roster with bad rows; the message lists every one."""

    def __init__(self, source: str, problems: list[str]) -> None:
        super().__init__(problems_text(source, problems))
        self.problems = tuple(problems)


def problems_text(source: str, problems: list[str]) -> str:
    """A roster's problems, one a line, in line order: what every refusal of a roster
    says, whatever found them (the file, the rules, screening, capacity)."""
    ordered = sorted(problems, key=_line_number)
    listed = ordered[:MAX_LISTED]
    more = len(ordered) - len(listed)
    lines = [f"{source}: {_count(len(ordered))}, nothing was booked:"]
    lines += [f"  {problem}" for problem in listed]
    if more:
        lines.append(f"  ... and {more} more")
    return "\n".join(lines)


def _line_number(problem: str) -> int:
    match = re.match(r"line (\d+)", problem)
    return int(match[1]) if match else 0


def _count(n: int) -> str:
    return "1 problem" if n == 1 else f"{n} problems"


def decode_roster(data: bytes, *, source: str, encoding: str | None = None) -> str:
    """A roster file's text: UTF-8 with or without a byte order mark, or `encoding` when
    given; UsageError with the fix otherwise."""
    if encoding is not None:
        try:
            return data.decode(encoding)
        except LookupError:
            raise UsageError(f"--encoding {encoding!r} is not an encoding Python knows") from None
        except UnicodeDecodeError:
            raise UsageError(f"roster {source} is not {encoding} text") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UsageError(
            f'roster {source} is not UTF-8 text; save it as "CSV UTF-8" in Excel, or give '
            "its encoding, e.g. --encoding cp1252 (Excel's plain CSV on Windows)"
        ) from None


def delimiter(text: str) -> str:
    """The cell separator of a CSV file, from its header row: comma, semicolon or tab,
    whichever it has most of (a comma when it has none)."""
    header = next((line for line in text.splitlines() if line.strip()), "")
    counts = {d: header.count(d) for d in _DELIMITERS}
    best = max(_DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def roster_date(text: str, *, what: str, today: date, order: str | None) -> date:
    """A date cell: ISO (YYYY-MM-DD), today or tomorrow, or day and month in the clinic's
    `order` (DMY: 07.12.2026, MDY: 12/7/2026). Without an order, a date such as
    07.12.2026 is refused, naming both readings."""
    match = _LOCAL_DATE.fullmatch(text.strip())
    if match is None:
        return parse_date(text, what=what, today=today)
    first, second, year = int(match[1]), int(match[3]), int(match[4])
    if order is None:
        readings = []
        for day, month in ((first, second), (second, first)):
            with contextlib.suppress(ValueError):
                readings.append(date(year, month, day))
        shown = " or ".join(f"{r.day} {r:%B %Y}" for r in dict.fromkeys(readings)) or "no date"
        raise UsageError(
            f"{what} {text!r} could be {shown}; write YYYY-MM-DD, or set the clinic's "
            'date_order = "DMY" or "MDY" in ketaplan.toml'
        )
    from dateutil import parser  # rosters with local dates only

    day, month = (first, second) if order == "DMY" else (second, first)
    try:
        parsed = parser.parse(text.strip(), dayfirst=order == "DMY", yearfirst=False).date()
    except (ValueError, OverflowError):
        parsed = None
    if parsed is None or (parsed.day, parsed.month) != (day, month):
        raise UsageError(f"{what} {text!r} is not a date in the clinic's order {order}")
    return parsed


@dataclass(frozen=True)
class RosterRead:
    """A roster's good rows, and every problem of the others."""

    rows: tuple[RosterRow, ...]
    problems: tuple[str, ...]


def parse_roster(
    text: str,
    *,
    source: str,
    today: date,
    default_protocol: Protocol,
    check_patient: Callable[[str], str],
    date_order: str | None = None,
) -> tuple[RosterRow, ...]:
    """The rows of a roster, or RosterError listing every problem (see `read_roster`)."""
    read = read_roster(
        text,
        source=source,
        today=today,
        default_protocol=default_protocol,
        check_patient=check_patient,
        date_order=date_order,
    )
    if read.problems:
        raise RosterError(source, list(read.problems))
    return read.rows


def read_roster(
    text: str,
    *,
    source: str,
    today: date,
    default_protocol: Protocol,
    check_patient: Callable[[str], str],
    date_order: str | None = None,
) -> RosterRead:
    """The good rows of a roster and every problem of the others; RosterError when the
    header itself is wrong or there are no rows.

    `check_patient` validates a patient code (raising UsageError); `today` refuses starts
    in the past and gives `today`/`tomorrow` their meaning; `date_order` reads local
    dates (see `roster_date`).
    """
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter(text))
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
    context = _Context(today, default_protocol, check_patient, date_order)
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
            row = _row(line, values, names, context, problems)
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
    if not rows and not problems:
        raise RosterError(source, ["no patients: the file has a header and no rows"])
    return RosterRead(tuple(rows), tuple(problems))


@dataclass(frozen=True)
class _Context:
    today: date
    default_protocol: Protocol
    check_patient: Callable[[str], str]
    date_order: str | None


def _intervals(text: str, protocol: Protocol) -> tuple[int, ...]:
    every = parse_intervals(text, what="maintenance_every")
    check_every(protocol, every)  # the planner's own rule and wording
    return every


def _row(
    line: int, values: dict[str, str], names: list[str], context: _Context, problems: list[str]
) -> RosterRow | None:
    before = len(problems)
    today, order = context.today, context.date_order

    def day(what: str) -> Callable[[str], date]:
        return lambda t: roster_date(t, what=what, today=today, order=order)

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

    patient = cell("patient", context.check_patient)
    protocol = cell("protocol", get_protocol) or context.default_protocol
    start = cell("start", day("start"))
    if start is not None and start < today:
        problems.append(
            f"line {line}, column {names.index('start') + 1}: start {start} is in the past; "
            f"the book takes courses from today ({today}) on"
        )
    at = cell("time", lambda t: parse_time(t, what="time"))
    days = cell("days", parse_weekdays)
    every = cell("maintenance_every", lambda t: _intervals(t, protocol))
    override = cell("override", lambda t: parse_override(t, what="override"))
    enrolled = cell("rems_enrolled", day("rems_enrolled"))
    # A planned enrollment may lie ahead (it is needed before the first treatment, not
    # before booking); more than a year ahead is a typo.
    if enrolled is not None and (enrolled - today).days > ENROLLMENT_AHEAD_DAYS:
        problems.append(
            f"line {line}, column {names.index('rems_enrolled') + 1}: rems_enrolled {enrolled} "
            f"is more than {ENROLLMENT_AHEAD_DAYS} days after today ({today})"
        )
    sessions = cell("maintenance_sessions", _count_cell)
    until = cell("until", day("until"))
    lozenges = cell("lozenges", lambda t: parse_interval(t, what="lozenges"))
    replace = cell("replace", _yes_no)
    if len(problems) > before or patient is None or start is None:
        return None
    return RosterRow(
        line, patient, protocol, start, at, days, every, override, enrolled,
        sessions, until, lozenges, bool(replace),
    )  # fmt: skip


def _count_cell(text: str) -> int:
    if not text.isdigit():
        raise UsageError(f"maintenance_sessions {text!r} is not a whole number")
    return int(text)


def _yes_no(text: str) -> bool:
    answer = _YES.get(text.strip().lower())
    if answer is None:
        raise UsageError(f"replace {text!r} is not yes or no")
    return answer
