"""The one CSV writer: every CSV ketaplan prints goes through `csv_text`.

A cell that starts with = + - @ (or a tab or carriage return) is run as a formula by
Excel and LibreOffice; such a text cell is written with a leading apostrophe, the OWASP
CSV-injection rule, so a spreadsheet shows it as text. Numbers stay numbers. A line
break inside a cell is written as \\n (the writer quotes it), never a bare \\r, which
readers take for the end of a row.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    """A cell as written: text that a spreadsheet would run is prefixed with '."""
    if not isinstance(value, str):
        return value
    if value.startswith(FORMULA_START):
        value = "'" + value
    return value.replace("\r\n", "\n").replace("\r", "\n")


def csv_text(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([safe_cell(cell) for cell in header])
    writer.writerows([safe_cell(cell) for cell in row] for row in rows)
    return out.getvalue()
