"""What coordinators type: each form accepted, each mistake refused with a reason."""

from __future__ import annotations

from datetime import date, time

import pytest

from ketaplan.errors import UsageError
from ketaplan.parsing import (
    parse_closure,
    parse_date,
    parse_holidays,
    parse_intervals,
    parse_time,
    parse_weekdays,
)

TODAY = date(2026, 11, 27)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("2026-12-07", date(2026, 12, 7)), ("today", TODAY), ("Tomorrow", date(2026, 11, 28))],
)
def test_dates_are_iso_or_today_or_tomorrow(text: str, expected: date) -> None:
    assert parse_date(text, today=TODAY) == expected


@pytest.mark.parametrize("text", ["03/04/2026", "2026-4-3", "20261207", "next monday", ""])
def test_anything_but_an_iso_date_is_refused(text: str) -> None:
    with pytest.raises(UsageError, match="is not a date; use YYYY-MM-DD"):
        parse_date(text, today=TODAY)


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("mon,wed,fri", {0, 2, 4}),
        ("mon-fri", {0, 1, 2, 3, 4}),
        ("fri-mon", {4, 5, 6, 0}),
        ("Monday, Thursday", {0, 3}),
        ("sun", {6}),
    ],
)
def test_weekdays_take_names_and_ranges(text: str, days: set[int]) -> None:
    assert parse_weekdays(text) == frozenset(days)


@pytest.mark.parametrize(
    ("text", "gaps"), [("4w", (28,)), ("28d", (28,)), ("2w,3w,4w,6w", (14, 21, 28, 42))]
)
def test_intervals_are_days_or_weeks_and_tapers_are_lists(text: str, gaps: tuple[int, ...]) -> None:
    assert parse_intervals(text) == gaps


@pytest.mark.parametrize("text", ["4", "0w", "4 weeks", "2w,,4w", "-1w"])
def test_a_bad_interval_is_refused(text: str) -> None:
    with pytest.raises(UsageError):
        parse_intervals(text)


def test_times_are_24_hour() -> None:
    assert parse_time("09:30") == time(9, 30)
    assert parse_time("7:05") == time(7, 5)
    for bad in ("24:00", "9.30", "9am", "12:60"):
        with pytest.raises(UsageError, match="use 24-hour HH:MM"):
            parse_time(bad)


def test_closures_are_days_or_inclusive_ranges() -> None:
    assert parse_closure("2026-12-24") == (date(2026, 12, 24), date(2026, 12, 24))
    assert parse_closure("2026-12-24..2027-01-01") == (date(2026, 12, 24), date(2027, 1, 1))


def test_holiday_codes_are_a_country_and_an_optional_subdivision() -> None:
    assert parse_holidays("de-by") == ("DE", "BY")
    assert parse_holidays("US") == ("US", None)
    with pytest.raises(UsageError):
        parse_holidays("Germany")
