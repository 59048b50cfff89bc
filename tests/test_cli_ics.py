"""`ketaplan plan --ics PATH` as a coordinator meets it: the calendar beside the table,
on stdout with `-`, SOURCE_DATE_EPOCH for byte-identical files, and one clear line when
the file cannot be written."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.clirun import run
from tests.ics_readers import check_raw_bytes, read_agreed, read_all

PLAN = (
    "plan",
    "--start",
    "2026-03-16",
    "--patient",
    "P-001",
    "--tz",
    "Europe/Berlin",
    "--maintenance-sessions",
    "2",
)
EPOCH = "1767225600"  # 2026-01-01 00:00:00 UTC


def test_ics_writes_the_calendar_beside_the_table(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    table = run(capsys, *PLAN)
    result = run(capsys, *PLAN, "--ics", "course.ics")
    assert (result.code, result.err, result.out) == (0, "", table.out)
    data = (tmp_path / "course.ics").read_bytes()
    check_raw_bytes(data)
    for readings in read_all([tmp_path / "course.ics"]):
        for reader, reading in readings.items():
            events = reading["events"]
            assert len(events) == 8, reader
            assert events[0]["summary"] == "IV ketamine 1/6 · induction · P-001"
            # 09:00 is 08:00 UTC in CET (16 March) and 07:00 UTC in CEST (maintenance in April).
            assert events[0]["start"] == "2026-03-16T08:00:00Z"
            assert events[6]["start"] == "2026-04-10T07:00:00Z", reader
            assert {e["dtstamp"] for e in events} == {"2026-01-01T00:00:00Z"}


def test_ics_dash_writes_the_calendar_to_stdout_instead_of_the_table(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    run(capsys, *PLAN, "--ics", "course.ics")
    for fmt in ("table", "json", "csv"):
        result = run(capsys, *PLAN, "--format", fmt, "--ics", "-")
        assert (result.code, result.err) == (0, "")
        assert result.out.encode() == (tmp_path / "course.ics").read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["course.ics"]


def test_ics_works_with_json_output_too(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    result = run(capsys, *PLAN, "--format", "json", "--ics", "course.ics")
    assert result.code == 0
    assert result.out.startswith("{\n")
    (reading,) = read_agreed((tmp_path / "course.ics").read_bytes())
    assert len(reading["events"]) == 8


def test_source_date_epoch_makes_two_exports_byte_identical(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    run(capsys, *PLAN, "--ics", "one.ics")
    run(capsys, *PLAN, "--ics", "two.ics")
    assert (tmp_path / "one.ics").read_bytes() == (tmp_path / "two.ics").read_bytes()


def test_without_source_date_epoch_the_stamp_is_the_time_of_export(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    run(capsys, *PLAN, "--ics", "course.ics")
    after = datetime.now(UTC)
    (reading,) = read_agreed((tmp_path / "course.ics").read_bytes())
    stamps = {e["dtstamp"] for e in reading["events"]}
    (stamp,) = stamps
    written = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert before <= written <= after + timedelta(seconds=1)


def test_a_hostile_patient_code_survives_the_cli(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code = "P-1,2;3\\4:ÄÖ"
    # A clinic whose codes may hold the characters calendars escape.
    (tmp_path / "ketaplan.toml").write_text("[clinic]\npatient_code = '^P-.+$'\n")
    result = run(capsys, "plan", "--start", "2026-03-16", "--patient", code, "--ics", "c.ics")
    assert result.code == 0
    for readings in read_all([tmp_path / "c.ics"]):
        for reader, reading in readings.items():
            assert reading["events"][0]["summary"].endswith(f" · {code}"), reader
            assert reading["name"].startswith(f"{code} · "), reader


def test_a_bad_source_date_epoch_is_one_usage_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "2026-01-01")
    result = run(capsys, *PLAN, "--ics", "course.ics")
    assert (result.code, result.out) == (2, "")
    assert result.err == (
        "Error: SOURCE_DATE_EPOCH '2026-01-01' is not a whole number of seconds since "
        "1970-01-01 UTC\n"
    )
    assert list(tmp_path.iterdir()) == []


def test_source_date_epoch_is_ignored_without_ics(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "not a number")
    assert run(capsys, *PLAN).code == 0


def test_an_unwritable_path_is_one_line_exit_1_and_leaves_no_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    result = run(capsys, *PLAN, "--ics", "missing/course.ics")
    assert (result.code, result.out) == (1, "")
    assert result.err == "Error: cannot write missing/course.ics: the directory does not exist\n"
    assert list(tmp_path.iterdir()) == []


def test_a_directory_as_the_path_is_one_line_and_stays_a_directory(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "calendars").mkdir()
    result = run(capsys, *PLAN, "--ics", "calendars")
    assert (result.code, result.out) == (1, "")
    assert result.err == "Error: cannot write calendars: it is a directory\n"
    assert list((tmp_path / "calendars").iterdir()) == []


def test_a_plan_that_fails_writes_no_calendar(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    result = run(capsys, *PLAN, "--days", "mon", "--ics", "course.ics")
    assert result.code == 1
    assert result.err.startswith("Error: ")
    assert result.err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


def test_a_failing_write_leaves_the_old_calendar_intact(tmp_path: Path) -> None:
    old = b"BEGIN:VCALENDAR\r\nPRODID:-//ketaplan//ketaplan 0.1.0//EN\r\nEND:VCALENDAR\r\n"
    (tmp_path / "course.ics").write_bytes(old)
    # A 1,000-byte file size limit makes the real write fail midway (EFBIG).
    script = (
        "import resource, signal, sys\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (1000, 1000))\n"
        "from ketaplan.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script, *PLAN, "--ics", "course.ics"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert (proc.returncode, proc.stdout) == (1, "")
    assert proc.stderr == (
        "Error: cannot write course.ics: the file is larger than this system allows\n"
    )
    assert (tmp_path / "course.ics").read_bytes() == old
    assert sorted(p.name for p in tmp_path.iterdir()) == ["course.ics"]


def test_plan_help_documents_ics(capsys: pytest.CaptureFixture[str]) -> None:
    result = run(capsys, "plan", "--help")
    assert result.code == 0
    assert "--ics" in result.out
    assert "PATH" in result.out
