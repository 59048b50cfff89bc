"""Roster CSV files: defaults for empty cells, and every bad cell reported at once."""

from __future__ import annotations

from datetime import date, time

import pytest

from ketaplan.formats.roster import RosterError, RosterRow, parse_roster
from ketaplan.model.patient import normalise_code
from ketaplan.planning.protocols import ESKETAMINE, IV

TODAY = date(2026, 12, 1)


def parse(text: str) -> tuple[RosterRow, ...]:
    return parse_roster(
        text, source="roster.csv", today=TODAY, default_protocol=IV, check_patient=normalise_code
    )


def problems(text: str) -> str:
    with pytest.raises(RosterError) as error:
        parse(text)
    return str(error.value)


def test_a_roster_row_takes_the_clinic_defaults_for_empty_cells() -> None:
    rows = parse(
        "patient,protocol,start,time,days,maintenance_every\n"
        "P-001,,2026-12-07,,,\n"
        'P-002,esketamine,tomorrow,09:30,"mon,thu",2w\n'
    )
    assert rows == (
        RosterRow(2, "P-001", IV, date(2026, 12, 7), None, None, None),
        RosterRow(3, "P-002", ESKETAMINE, date(2026, 12, 2), time(9, 30), frozenset({0, 3}), (14,)),
    )


def test_optional_columns_may_be_left_out_and_columns_come_in_any_order() -> None:
    rows = parse("start,patient\n2026-12-07,P-001\n\n")
    assert [(r.line, r.patient, r.protocol) for r in rows] == [(2, "P-001", IV)]


def test_every_bad_cell_is_reported_at_once_with_line_and_column() -> None:
    text = (
        "patient,protocol,start,time,days,maintenance_every\n"
        "P-001,iv,2026-12-07,09:00,,\n"
        "Jane Doe,iv,2026-13-01,9am,,\n"
        "P-003,ivv,2026-11-01,,funday,1w\n"
        "P-001,iv,2026-12-08,,,\n"
        ",iv,2026-12-08,,,,\n"
    )
    assert problems(text) == (
        "roster.csv: 9 problems, nothing was booked:\n"
        "  line 3, column 1: patient code 'Jane Doe' has a space or control character; "
        "use the clinic's patient code (e.g. P-001), never a name\n"
        "  line 3, column 3: start '2026-13-01' is not a real calendar date\n"
        "  line 3, column 4: time '9am' is not a time; use 24-hour HH:MM, e.g. 09:30\n"
        "  line 4, column 2: unknown protocol 'ivv'; built in: iv, im, esketamine, lozenge, "
        "or give a FILE.toml\n"
        "  line 4, column 3: start 2026-11-01 is in the past; the book takes courses from "
        "today (2026-12-01) on\n"
        "  line 4, column 5: weekday 'funday' in 'funday' is not one of "
        "mon,tue,wed,thu,fri,sat,sun\n"
        "  line 4, column 6: interval of 7 days is outside the maintenance range of "
        "14 to 42 days\n"
        "  line 5, column 1: patient P-001 is already on line 2\n"
        "  line 6: 7 cells, the header has 6"
    )


def test_a_maintenance_interval_outside_the_protocols_range_names_its_cell() -> None:
    assert problems("patient,start,maintenance_every\nP-001,2026-12-07,1w\n") == (
        "roster.csv: 1 problem, nothing was booked:\n"
        "  line 2, column 3: interval of 7 days is outside the maintenance range of "
        "14 to 42 days"
    )


def test_a_header_without_the_required_columns_is_refused() -> None:
    assert problems("patient,when\nP-001,2026-12-07\n") == (
        "roster.csv: 2 problems, nothing was booked:\n"
        "  line 1, column 2: unknown column 'when'; columns: patient, protocol, start, time, "
        "days, maintenance_every, override, rems_enrolled, maintenance_sessions, until, "
        "lozenges, replace\n"
        "  line 1: the required column 'start' is missing"
    )


def test_an_empty_required_cell_is_named() -> None:
    assert problems("patient,start\nP-001,\n") == (
        "roster.csv: 1 problem, nothing was booked:\n  line 2, column 2: start is empty"
    )


@pytest.mark.parametrize("text", ["", "\n\n", "patient,start\n"])
def test_an_empty_roster_is_refused(text: str) -> None:
    assert "roster.csv: 1 problem, nothing was booked:" in problems(text)


def test_a_planned_rems_enrollment_ahead_is_taken_and_one_too_far_ahead_refused() -> None:
    # Enrollment is needed before the first treatment, not before booking.
    (row,) = parse("patient,protocol,start,rems_enrolled\nP-004,esketamine,2026-12-14,2026-12-10\n")
    assert row.rems_enrolled == date(2026, 12, 10)
    assert problems(
        "patient,protocol,start,rems_enrolled\nP-004,esketamine,2026-12-14,2028-01-01\n"
    ) == (
        "roster.csv: 1 problem, nothing was booked:\n"
        "  line 2, column 4: rems_enrolled 2028-01-01 is more than 366 days after today "
        "(2026-12-01)"
    )


def test_local_dates_follow_the_clinics_order_strictly() -> None:
    from ketaplan.errors import UsageError
    from ketaplan.formats.roster import delimiter, roster_date

    assert roster_date("07.12.2026", what="start", today=TODAY, order="DMY") == date(2026, 12, 7)
    assert roster_date("12/7/2026", what="start", today=TODAY, order="MDY") == date(2026, 12, 7)
    assert roster_date("2026-12-07", what="start", today=TODAY, order="MDY") == date(2026, 12, 7)
    with pytest.raises(UsageError) as refused:
        roster_date("13/12/2026", what="start", today=TODAY, order="MDY")
    assert str(refused.value) == "start '13/12/2026' is not a date in the clinic's order MDY"
    assert [delimiter(t) for t in ("a;b,c;d\n", "a\tb\n", "a,b\n", "ab\n")] == [";", "\t", ",", ","]
