"""`ketaplan agenda --month`: the per-day figures and the calendar grid."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from rich.console import Console

from ketaplan.booking.month import DayFigures, month_bounds, month_figures
from ketaplan.cli.month_grid import month_grid
from ketaplan.model.calendar import ClinicCalendar, Closure
from ketaplan.model.clinic import ClinicConfig
from ketaplan.model.records import SessionRecord
from tests.clirun import run

CLINIC = """[clinic]
name = "Lakeside"
timezone = "Europe/Berlin"
holidays = "DE-BE"
chairs = 1
hours = "08:00-13:00"
require_screening = false
"""


@pytest.fixture(autouse=True)
def _clinic(tmp_path: Path) -> None:
    (tmp_path / "ketaplan.toml").write_text(CLINIC, encoding="utf-8")


def session(start: datetime, minutes: int, status: str = "booked") -> SessionRecord:
    return SessionRecord(
        id=1,
        course_id=1,
        patient="P-001",
        title="IV ketamine",
        uid="u",
        sequence=0,
        number=1,
        phase="induction",
        phase_number=1,
        phase_total=6,
        location="clinic",
        start=start,
        end=start + timedelta(minutes=minutes),
        zone="UTC",
        chair=1,
        status=status,  # type: ignore[arg-type]
        note=None,
    )


def test_month_bounds_cover_the_whole_month() -> None:
    assert month_bounds(date(2030, 2, 14)) == (date(2030, 2, 1), date(2030, 2, 28))
    assert month_bounds(date(2028, 2, 1)) == (date(2028, 2, 1), date(2028, 2, 29))
    assert month_bounds(date(2030, 12, 31)) == (date(2030, 12, 1), date(2030, 12, 31))


def test_figures_count_chair_holding_sessions_and_name_closures() -> None:
    clinic = ClinicConfig(chairs=2)
    calendar = ClinicCalendar(closures=(Closure(date(2030, 1, 9), date(2030, 1, 9), "training"),))
    at = datetime(2030, 1, 7, 9, tzinfo=UTC)
    sessions = [session(at, 120), session(at, 60, "cancelled"), session(at + timedelta(1), 300)]
    days = month_figures(date(2030, 1, 7), date(2030, 1, 13), sessions, clinic, calendar, "UTC")
    assert days[0] == DayFigures(date(2030, 1, 7), True, None, 1, 1, 120 / (2 * 600))
    assert days[1].sessions == 1
    assert days[1].utilization == pytest.approx(300 / 1200)
    assert (days[2].open, days[2].closed_reason, days[2].utilization) == (False, "training", None)
    assert (days[5].open, days[5].closed_reason) == (False, "closed weekday")
    assert len(days) == 7


def book(capsys: pytest.CaptureFixture[str], patient: str, start: str) -> None:
    args = ("--start", start, "--time", "09:00", "--maintenance-sessions", "1")
    assert run(capsys, "book", "--patient", patient, *args).code == 0


def test_the_month_grid_shows_sessions_use_and_holidays(
    capsys: pytest.CaptureFixture[str],
) -> None:
    book(capsys, "P-001", "2030-12-02")
    book(capsys, "P-002", "2030-12-02")
    result = run(capsys, "agenda", "--month", "2030-12")
    assert (result.code, result.message) == (0, "")
    assert result.out == (
        "December 2030 · Lakeside · 1 chair · Europe/Berlin\n"
        "Each open day: sessions booked and the share of chair time they hold.\n"
        "┌──────────┬──────────┬──────────┬──────────┬──────────┬──────────┬──────────┐\n"
        "│ Mon      │ Tue      │ Wed      │ Thu      │ Fri      │ Sat      │ Sun      │\n"
        "├──────────┼──────────┼──────────┼──────────┼──────────┼──────────┼──────────┤\n"
        "│          │          │          │          │          │          │  1       │\n"
        "│          │          │          │          │          │          │ closed   │\n"
        "├──────────┼──────────┼──────────┼──────────┼──────────┼──────────┼──────────┤\n"
        "│  2       │  3       │  4       │  5       │  6       │  7       │  8       │\n"
        "│ 2 sess.  │ 0 sess.  │ 2 sess.  │ 0 sess.  │ 2 sess.  │ closed   │ closed   │\n"
        "│ 80% used │ 0% used  │ 80% used │ 0% used  │ 80% used │          │          │\n"
        "├──────────┼──────────┼──────────┼──────────┼──────────┼──────────┼──────────┤\n"
        "│  9       │ 10       │ 11       │ 12       │ 13       │ 14       │ 15       │\n"
        "│ 2 sess.  │ 0 sess.  │ 2 sess.  │ 0 sess.  │ 2 sess.  │ closed   │ closed   │\n"
        "│ 80% used │ 0% used  │ 80% used │ 0% used  │ 80% used │          │          │\n"
        "├──────────┼──────────┼──────────┼──────────┼──────────┼──────────┼──────────┤\n"
        "│ 16       │ 17       │ 18       │ 19       │ 20       │ 21       │ 22       │\n"
        "│ 0 sess.  │ 0 sess.  │ 0 sess.  │ 0 sess.  │ 0 sess.  │ closed   │ closed   │\n"
        "│ 0% used  │ 0% used  │ 0% used  │ 0% used  │ 0% used  │          │          │\n"
        "├──────────┼──────────┼──────────┼──────────┼──────────┼──────────┼──────────┤\n"
        "│ 23       │ 24       │ 25       │ 26       │ 27       │ 28       │ 29       │\n"
        "│ 0 sess.  │ 0 sess.  │ Christmas│ Second   │ 2 sess.  │ closed   │ closed   │\n"
        "│ 0% used  │ 0% used  │ Day      │ Day of…  │ 80% used │          │          │\n"
        "├──────────┼──────────┼──────────┼──────────┼──────────┼──────────┼──────────┤\n"
        "│ 30       │ 31       │          │          │          │          │          │\n"
        "│ 0 sess.  │ 0 sess.  │          │          │          │          │          │\n"
        "│ 0% used  │ 0% used  │          │          │          │          │          │\n"
        "└──────────┴──────────┴──────────┴──────────┴──────────┴──────────┴──────────┘\n"
        "14 sessions on 20 open days; chairs 28% used on average.\n"
        "Closed Wed 2030-12-25: Christmas Day\n"
        "Closed Thu 2030-12-26: Second Day of Christmas\n"
    )
    assert max(len(line) for line in result.out.splitlines()) <= 80


def test_the_month_as_json_gives_each_days_figures(capsys: pytest.CaptureFixture[str]) -> None:
    book(capsys, "P-001", "2030-12-02")
    result = run(capsys, "agenda", "--month", "2030-12-09", "--format", "json")
    assert result.code == 0
    data = json.loads(result.out)
    assert (data["month"], data["chairs"], data["timezone"]) == ("2030-12", 1, "Europe/Berlin")
    assert len(data["days"]) == 31
    assert data["days"][1] == {
        "date": "2030-12-02",
        "open": True,
        "closed_reason": None,
        "sessions": 1,
        "cancelled": 0,
        "chair_utilization": 0.4,
    }
    assert data["days"][24]["closed_reason"] == "Christmas Day"
    assert data["days"][24]["chair_utilization"] is None


def test_today_is_marked_in_the_grid() -> None:
    days = [DayFigures(date(2030, 1, d), True, None, 0, 0, 0.0) for d in range(1, 32)]
    console = Console(width=80, color_system=None, record=True)
    for part in month_grid(days, "January 2030", date(2030, 1, 15)):
        console.print(part)
    text = console.export_text()
    assert "│ 15 today │" in text
    assert text.count("today") == 1


@pytest.mark.parametrize(
    ("args", "err"),
    [
        (("--month", "2030-13"), "Error: --month '2030-13' is not a month; use YYYY-MM or a date"),
        (("--month", "12/2030"), "Error: --month '12/2030' is not a date"),
        (("2030-12",), "Error: a DATE argument goes with --month alone: agenda --month [DATE]"),
        (
            ("--month", "--day", "2030-12-01"),
            "Error: a DATE argument goes with --month alone: agenda --month [DATE]",
        ),
        (("--month", "--format", "xml"), "Error: --format 'xml' is not one of table, json, csv"),
    ],
)
def test_month_refusals(
    capsys: pytest.CaptureFixture[str], args: tuple[str, ...], err: str
) -> None:
    book(capsys, "P-001", "2030-12-02")
    result = run(capsys, "agenda", *args)
    assert (result.code, result.out) == (2, "")
    assert result.message.startswith(err)
