"""`ketaplan plan` and `ketaplan protocols` as a coordinator meets them: exact output,
exact errors, exit codes."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from tests.clirun import run

PLAN = ("plan", "--start", "2026-12-07", "--patient", "P-001", "--tz", "Europe/Berlin")

EXPECTED_TABLE = """\
Patient P-001 · IV ketamine (iv) · Europe/Berlin
Induction: 6 sessions, 2026-12-07 to 2026-12-18 (12 days)
9 sessions, last on Thu 2027-02-18

 #   Phase             Day   Date         Time    Gap   Note
 ────────────────────────────────────────────────────────────────────────────────────────────────
 1   induction 1/6     Mon   2026-12-07   09:00
 2   induction 2/6     Wed   2026-12-09   09:00    2d
 3   induction 3/6     Fri   2026-12-11   09:00    2d
 4   induction 4/6     Mon   2026-12-14   09:00    3d
 5   induction 5/6     Wed   2026-12-16   09:00    2d
 6   induction 6/6     Fri   2026-12-18   09:00    2d
 7   maintenance 1/3   Fri   2027-01-01   09:00   14d
 8   maintenance 2/3   Thu   2027-01-21   09:00   20d   moved from Fri 2027-01-22 (clinic closed)
 9   maintenance 3/3   Thu   2027-02-18   09:00   28d

"""


def stripped(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.splitlines()) + "\n"


def test_plan_prints_the_summary_and_the_table(capsys: pytest.CaptureFixture[str]) -> None:
    result = run(capsys, *PLAN, "--closed", "2027-01-22", "--maintenance-sessions", "3")
    assert (result.code, result.err) == (0, "")
    assert stripped(result.out) == EXPECTED_TABLE


def test_plan_json_is_the_documented_format(capsys: pytest.CaptureFixture[str]) -> None:
    result = run(capsys, *PLAN, "--format", "json", "--maintenance-sessions", "1")
    assert result.code == 0
    data = json.loads(result.out)
    assert list(data) == ["patient", "protocol", "timezone", "sessions"]
    assert (data["patient"], data["protocol"], data["timezone"]) == ("P-001", "iv", "Europe/Berlin")
    assert len(data["sessions"]) == 7
    first = data["sessions"][0]
    assert list(first) == [
        "patient", "number", "phase", "phase_number", "start", "end", "location", "chair", "uid",
        "status", "note",
    ]  # fmt: skip
    assert (first["chair"], first["status"]) == (None, "planned")
    assert first["number"] == 1
    assert first["phase"] == "induction"
    assert first["start"] == "2026-12-07T09:00:00+01:00"
    assert first["end"] == "2026-12-07T11:00:00+01:00"
    assert first["uid"].endswith("@ketaplan")
    assert first["location"] == "clinic"
    assert data["sessions"][-1]["phase"] == "maintenance"


def test_plan_csv_has_a_header_and_a_row_per_session(capsys: pytest.CaptureFixture[str]) -> None:
    result = run(capsys, *PLAN, "--format", "csv", "--protocol", "esketamine")
    rows = list(csv.DictReader(io.StringIO(result.out)))
    assert result.code == 0
    assert len(rows) == 8 + 4 + 6
    assert rows[0]["date"] == "2026-12-07"
    assert rows[0]["weekday"] == "Mon"
    assert rows[8]["phase"] == "maintenance-weekly"


def test_plan_marks_lozenge_doses_as_home(capsys: pytest.CaptureFixture[str]) -> None:
    result = run(capsys, *PLAN, "--format", "json", "--lozenges", "3d")
    sessions = json.loads(result.out)["sessions"]
    home = [s for s in sessions if s["phase"] == "home"]
    assert home
    assert {s["location"] for s in home} == {"home"}


def test_flags_win_over_the_clinic_config(capsys: pytest.CaptureFixture[str]) -> None:
    Path("ketaplan.toml").write_text(
        '[clinic]\ntimezone = "America/New_York"\ntime = "10:15"\ndays = "tue,thu"\n',
        encoding="utf-8",
    )
    from_config = json.loads(
        run(capsys, "plan", "--start", "2026-12-07", "--patient", "P-1", "--format", "json").out
    )
    assert from_config["timezone"] == "America/New_York"
    assert from_config["sessions"][0]["start"] == "2026-12-08T10:15:00-05:00"
    flags = run(capsys, *PLAN, "--time", "08:00", "--format", "json")
    assert json.loads(flags.out)["sessions"][0]["start"] == "2026-12-08T08:00:00+01:00"


def test_days_are_the_patients_within_the_clinics_open_days(
    capsys: pytest.CaptureFixture[str],
) -> None:
    Path("ketaplan.toml").write_text('[clinic]\ndays = "mon-fri"\n', encoding="utf-8")
    result = run(capsys, *PLAN, "--days", "mon,wed,sat", "--format", "json")
    assert (result.code, result.err) == (
        0,
        "Note: the clinic is closed on sat; --days keeps mon,wed\n",
    )
    days = {s["start"][:10] for s in json.loads(result.out)["sessions"]}
    assert all(date.fromisoformat(d).weekday() in (0, 2) for d in days)
    refused = run(capsys, *PLAN, "--days", "sat,sun")
    assert (refused.code, refused.err) == (
        2,
        "Error: --days sat,sun are not among the clinic's open weekdays\n",
    )


@pytest.mark.parametrize(
    ("args", "code", "error"),
    [
        (
            ("--start", "03/04/2026"),
            2,
            "Error: --start '03/04/2026' is not a date; use YYYY-MM-DD,"
            " today or tomorrow (03/04/2026 could be March or April: write 2026-04-03)",
        ),
        (("--start", "2026-02-30"), 2, "Error: --start '2026-02-30' is not a real calendar date"),
        (("--time", "9am"), 2, "Error: --time '9am' is not a time; use 24-hour HH:MM, e.g. 09:30"),
        (
            ("--tz", "Mars/Base"),
            2,
            "Error: time zone 'Mars/Base' is not an IANA zone name such as Europe/Berlin",
        ),
        (
            ("--days", "mon,funday"),
            2,
            "Error: weekday 'funday' in 'mon,funday' is not one of mon,tue,wed,thu,fri,sat,sun",
        ),
        (
            ("--closed", "2026-12-20..2026-12-10"),
            2,
            "Error: closure '2026-12-20..2026-12-10' ends before it starts",
        ),
        (
            ("--holidays", "XX"),
            2,
            "Error: holidays 'XX': unknown country or subdivision "
            "(ISO 3166 codes, e.g. DE, DE-BY, US-CA)",
        ),
        (
            ("--maintenance-every", "1w"),
            2,
            "Error: interval of 7 days is outside the maintenance range of 14 to 42 days",
        ),
        (
            ("--maintenance-every", "monthly"),
            2,
            "Error: --maintenance-every 'monthly' is not an "
            "interval; use days or weeks, e.g. 28d or 4w",
        ),
        (
            ("--maintenance-sessions", "many"),
            2,
            "Error: --maintenance-sessions 'many' is not a whole number",
        ),
        (
            ("--protocol", "ketamine-xr"),
            2,
            "Error: unknown protocol 'ketamine-xr'; built in: "
            "iv, im, esketamine, lozenge, or give a FILE.toml",
        ),
        (("--protocol", "missing.toml"), 2, "Error: protocol file missing.toml does not exist"),
        (("--format", "xml"), 2, "Error: --format 'xml' is not one of table, json, csv"),
        (
            ("--patient", "Jane Doe"),
            2,
            "Error: patient code 'Jane Doe' has a space or control "
            "character; use the clinic's patient code (e.g. P-001), never a name",
        ),
        (("--colour",), 2, "Error: No such option: --colour (Possible options: --closed)"),
        (("--config", "nowhere.toml"), 2, "Error: config file nowhere.toml does not exist"),
        (
            ("--days", "mon"),
            1,
            "Error: induction: no open day from 2026-12-09 to 2026-12-12 (at most 5 days after "
            "the session on 2026-12-07); no start date in the 366 "
            "days after 2026-12-07 works",
        ),
    ],
)
def test_bad_input_is_one_line_on_stderr_and_a_non_zero_exit(
    capsys: pytest.CaptureFixture[str], args: tuple[str, ...], code: int, error: str
) -> None:
    result = run(capsys, *PLAN, *args)
    assert (result.code, result.out, result.err) == (code, "", error + "\n")


def test_a_missing_option_is_named(capsys: pytest.CaptureFixture[str]) -> None:
    result = run(capsys, "plan", "--patient", "P-001")
    assert (result.code, result.err) == (2, "Error: Missing option '--start'.\n")


@pytest.mark.parametrize(
    ("toml", "error"),
    [
        ("[clinic\n", "not valid TOML: Expected ']' at the end of a table declaration"),
        ('[clinic]\nchairs = "four"\n', "clinic.chairs must be a whole number from 1 to 500"),
        ('[clinic]\ntimezone = "Europe/Berlln"\n', "time zone 'Europe/Berlln' is not an IANA"),
        ('[clinic]\nopening = "08:00"\n', "unknown key clinic.opening"),
        ('[clinics]\nname = "x"\n', "unknown section [clinics]"),
        ('[clinic]\nhours = "18:00-08:00"\n', "closing time 08:00 is not after opening 18:00"),
    ],
)
def test_a_broken_config_is_refused_with_its_key(
    capsys: pytest.CaptureFixture[str], toml: str, error: str
) -> None:
    Path("ketaplan.toml").write_text(toml, encoding="utf-8")
    result = run(capsys, *PLAN)
    assert result.code == 2
    # A key is named after the file; a file that is not TOML at all says what it is for.
    assert result.err.startswith(
        ("Error: ketaplan.toml: ", "Error: config file ketaplan.toml is not valid TOML: ")
    )
    assert error in result.err
    assert result.err.count("\n") == 1


@pytest.mark.parametrize(
    ("toml", "error"),
    [
        (
            'name = "x"\n[[phases]]\nname = "a"\nsessions = 6\nmin_gap_days = 0\n'
            "max_gap_days = 3\nchair_minutes = 90\n",
            "phase 'a': min_gap_days must be a whole number from 1 to 365, got 0",
        ),
        (
            'name = "x"\n[[phases]]\nname = "a"\nsessions = 6\nmin_gap_days = 2\n'
            "max_gap_days = 3\nchair_minutes = 90\nwindow = 21\n",
            "phase 1: unknown field 'window'; allowed:",
        ),
        (
            'name = "x"\n[[phases]]\nname = "a"\nmin_gap_days = 2\nmax_gap_days = 3\n'
            "chair_minutes = 90\n",
            "an open-ended phase needs every_days",
        ),
        (
            'name = "x"\n[[phases]]\nname = "a"\nsessions = 6\nmin_gap_days = 2\n'
            "max_gap_days = 3\nchair_minutes = 90\nwindow_days = 5\n",
            "phase 'a': window_days must be a whole number from 11 to 365, got 5",
        ),
        ('name = "x"\nphases = 3\n', "phases must be a list of [[phases]] tables"),
    ],
)
def test_a_bad_protocol_file_names_the_field_and_its_range(
    capsys: pytest.CaptureFixture[str], toml: str, error: str
) -> None:
    Path("clinic.toml").write_text(toml, encoding="utf-8")
    result = run(capsys, *PLAN, "--protocol", "clinic.toml")
    assert result.code == 2
    assert result.err.startswith("Error: clinic.toml: ")
    assert error in result.err
    assert result.err.count("\n") == 1


def test_the_example_protocol_and_config_plan_a_course(capsys: pytest.CaptureFixture[str]) -> None:
    examples = Path(__file__).parent.parent / "examples"
    result = run(
        capsys,
        *PLAN,
        "--protocol",
        str(examples / "iv-slow.toml"),
        "--config",
        str(examples / "ketaplan.toml"),
        "--start",
        "2027-01-04",
        "--format",
        "json",
    )
    assert result.code == 0, result.err
    sessions = json.loads(result.out)["sessions"]
    assert len(sessions) == 6 + 4


def test_protocols_lists_the_built_ins(capsys: pytest.CaptureFixture[str]) -> None:
    result = run(capsys, "protocols")
    assert result.code == 0
    rows = [
        line.split()[0]
        for line in result.out.splitlines()
        if line.startswith(" ")
        and not line.startswith("  ")
        and line.split()[0] in ("iv", "im", "esketamine", "lozenge")
    ]
    assert rows == ["iv", "im", "esketamine", "lozenge"]


def test_protocols_show_gives_every_parameter_a_source(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "240")  # one line a parameter
    result = run(capsys, "protocols", "show", "iv")
    assert result.code == 0
    assert "[article2022] over two to three weeks: all six within 21 days" in result.out
    assert "[murrough2013] Mon, Wed, Fri: never on consecutive days" in result.out
    assert "gaps of 14 to 42 days" in result.out
    assert "check-in 20 + infusion 40 + recovery 60 minutes" in result.out
    assert result.out.startswith("iv: IV ketamine (route iv)\n")
    # Every row cites a source or says why the value is ketaplan's own choice, and every
    # cited source is given in full below the table.
    assert "ketaplan default:" in result.out
    assert not re.search(r"ketaplan default\s*$", result.out, flags=re.M)
    legend = result.out.split("Sources (docs/sources.md has each in full):\n")[1]
    assert [line.split()[0] for line in legend.splitlines()] == [
        "[article2022]",
        "[murrough2013]",
        "[singh2016]",
        "[rivaposse2018]",
    ]
    assert " [murrough2013]  Murrough JW et al., Biol Psychiatry 2013;74(4):250-256" in legend
    assert "shared/" not in result.out


def test_protocols_show_esketamine_names_the_rems_version_and_the_week_8_review(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "400")
    result = run(capsys, "protocols", "show", "esketamine")
    assert result.code == 0
    assert "SPRAVATO REMS (REMS@FDA, last update 12/31/2024)" in result.out
    assert "week-8 review" in result.out
    rows = [line.split() for line in result.out.splitlines()]
    assert ["maintenance", "provisional", "yes"] in [r[:3] for r in rows]
    assert ["induction", "observe_minutes", "120"] in [r[:3] for r in rows]


def test_no_traceback_reaches_the_user_from_the_installed_command() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "ketaplan",
            "plan",
            "--start",
            "tomorrow",
            "--patient",
            "P-1",
            "--tz",
            "Nowhere/Land",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        "Error: time zone 'Nowhere/Land' is not an IANA zone name such as Europe/Berlin\n"
    )


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (
            ("--maintenance-sessions", "2", "--until", "2027-06-01"),
            "give --maintenance-sessions or --until, not both",
        ),
        (("--until", "2026-12-01"), "--until 2026-12-01 is before the start 2026-12-07"),
        (
            ("--protocol", "lozenge", "--lozenges", "3d"),
            "--lozenges adds home doses to a clinic course; this protocol is home doses already",
        ),
    ],
)
def test_the_planners_refusals_name_the_flags(
    capsys: pytest.CaptureFixture[str], args: tuple[str, ...], error: str
) -> None:
    result = run(capsys, *PLAN, *args)
    assert (result.code, result.out, result.err) == (2, "", f"Error: {error}\n")
