"""One clinic, one book: the book stores its clinic, every command that opens it plans
with it, a disagreeing config is refused, `clinic apply` changes it on purpose, and the
config is found the same way everywhere."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from ketaplan import __version__
from ketaplan.errors import UsageError
from ketaplan.formats.config_file import (
    clinic_settings,
    config_from_settings,
    differing_keys,
    load_config,
    settings_json,
)
from tests.clirun import run

CLINIC = """[clinic]
name = "Lakeside"
timezone = "Europe/Berlin"
chairs = 1
hours = "08:00-16:00"
require_screening = false
closed = ["2030-12-24..2030-12-26"]
holidays = "DE-BE"
"""
START = "2030-01-07"  # a Monday


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def book(capsys: pytest.CaptureFixture[str], patient: str, *args: str) -> tuple[int, str, str]:
    result = run(
        capsys, "book", "--patient", patient, "--start", START, "--maintenance-sessions", "1",
        "--format", "json", *args,
    )  # fmt: skip
    return result.code, result.out, result.err


def starts(out: str) -> list[str]:
    course = json.loads(out)["courses"][0]
    return [s["start"] for s in course["sessions"]]


# The stored settings ----------------------------------------------------------------


def test_the_stored_settings_round_trip_through_the_config_reader(tmp_path: Path) -> None:
    config = load_config(
        write(
            tmp_path / "k.toml",
            CLINIC + 'location = "1 Lake St"\ntime = "10:15"\nprotocol = "im"\nslot_minutes = 10\n'
            'starts_per_slot = 3\ndays = "mon-sat"\n[calendar]\nalarm = "2h"\n'
            'alarm_text = "See you soon"\n',
        )
    )
    back = config_from_settings(settings_json(config), "the book b.sqlite")
    assert clinic_settings(back) == clinic_settings(config)
    assert differing_keys(config, back) == []
    assert clinic_settings(back)["clinic"]["days"] == ["mon", "tue", "wed", "thu", "fri", "sat"]
    assert clinic_settings(back)["calendar"] == {
        "alarm": "2h",
        "alarm_text": "See you soon",
        "private": False,
    }


def test_hours_for_some_weekdays_leave_the_others_closed(tmp_path: Path) -> None:
    config = load_config(
        write(
            tmp_path / "k.toml", '[clinic]\nhours = { mon = "08:00-12:00", thu = "13:00-19:00" }\n'
        )
    )
    assert config.open_weekdays == frozenset({0, 3})
    assert clinic_settings(config)["clinic"]["hours"] == {
        "mon": "08:00-12:00",
        "thu": "13:00-19:00",
    }


def test_days_without_hours_are_refused_by_name(tmp_path: Path) -> None:
    path = write(
        tmp_path / "k.toml", '[clinic]\ndays = "mon,tue"\nhours = { mon = "08:00-12:00" }\n'
    )
    with pytest.raises(UsageError) as refused:
        load_config(path)
    assert str(refused.value) == (
        f"{path}: clinic.days includes tue but clinic.hours gives no hours for it: add its "
        "hours or drop it from the days"
    )


def test_the_keys_that_differ_are_named(tmp_path: Path) -> None:
    one = load_config(write(tmp_path / "a.toml", CLINIC))
    two = load_config(
        write(tmp_path / "b.toml", CLINIC.replace("chairs = 1", "chairs = 3") + 'time = "10:00"\n')
    )
    assert differing_keys(one, two) == ["clinic.time", "clinic.chairs"]


# The book carries its clinic --------------------------------------------------------


def test_the_first_booking_stores_the_clinic_and_says_so(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    write(tmp_path / "ketaplan.toml", CLINIC)
    code, _, err = book(capsys, "P-001", "--time", "09:00")
    assert code == 0
    path = tmp_path / "book.sqlite"
    assert err == (
        f"Created a new clinic book at {path}\n"
        f"Book: {path} · clinic Lakeside\n"
        f"Stored the clinic Lakeside in the book {path} (settings from ketaplan.toml)\n"
    )
    db = sqlite3.connect(path)
    (name, settings, by), *_ = db.execute("SELECT name, settings, updated_by FROM clinic")
    assert (name, json.loads(settings)["clinic"]["chairs"], by != "") == ("Lakeside", 1, True)
    assert db.execute("SELECT count(*) FROM clinic_changes").fetchone() == (1,)


def test_a_book_command_from_a_folder_without_the_config_uses_the_books_clinic(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "clinic" / "ketaplan.toml", CLINIC)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(tmp_path / "clinic")
    assert book(capsys, "P-001", "--time", "09:00")[0] == 0
    monkeypatch.chdir(elsewhere)  # no config here or above: the built-in defaults would be UTC
    code, out, err = book(capsys, "P-002", "--time", "09:00")
    assert (code, err) == (0, f"Book: {tmp_path / 'book.sqlite'} · clinic Lakeside\n")
    # One chair, held by P-001 from 09:00 to 11:00 Berlin time: P-002 comes after it.
    assert starts(out)[:2] == ["2030-01-07T11:00:00+01:00", "2030-01-09T11:00:00+01:00"]
    result = run(capsys, "agenda", "--day", START)
    assert result.out.splitlines()[0] == "Agenda 2030-01-07 · Lakeside · 1 chair · Europe/Berlin"


def test_a_config_that_disagrees_with_the_book_is_refused_naming_both(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    write(tmp_path / "ketaplan.toml", CLINIC)
    assert book(capsys, "P-001")[0] == 0
    write(tmp_path / "ketaplan.toml", CLINIC.replace("chairs = 1", "chairs = 2"))
    before = (tmp_path / "book.sqlite").read_bytes()
    for command in (["agenda"], ["rems", "due"], ["export", "--staff", "--ics", "x.ics"]):
        result = run(capsys, *command)
        assert (result.code, result.out) == (1, ""), command
        assert result.err == (
            f"Error: the config ketaplan.toml disagrees with the clinic stored in the book "
            f"{tmp_path / 'book.sqlite'} (Lakeside) on clinic.chairs; the book's clinic is "
            "used only as stored: run `ketaplan clinic apply ketaplan.toml` to change it, or "
            "use the config with another book\n"
        )
    assert book(capsys, "P-002")[0] == 1
    assert (tmp_path / "book.sqlite").read_bytes() == before


def test_a_book_command_refuses_another_zone(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    write(tmp_path / "ketaplan.toml", CLINIC)
    code, _, err = book(capsys, "P-001", "--tz", "America/New_York", "--time", "09:00")
    assert code == 2
    assert err.splitlines()[-1] == (
        "Error: --tz America/New_York is not the zone of the book's clinic (Europe/Berlin); "
        "a book plans and books in its clinic's zone: drop --tz"
    )
    assert not (tmp_path / "book.sqlite").exists()


def test_init_stores_the_clinic_and_prints_it_as_a_config(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    write(tmp_path / "clinic.toml", CLINIC)
    result = run(capsys, "init", "--config", "clinic.toml", "--book", "new.sqlite")
    assert result.code == 0
    assert result.err == (
        "Created a new clinic book at new.sqlite\n"
        "Book: new.sqlite · clinic Lakeside\n"
        "Stored the clinic Lakeside in the book new.sqlite (settings from clinic.toml)\n"
        "Esketamine REMS: off (not a US time zone; [rems] program can turn it on)\n"
    )
    assert result.out == (
        "[clinic]\n"
        'name = "Lakeside"\n'
        'location = ""\n'
        'timezone = "Europe/Berlin"\n'
        'days = ["mon", "tue", "wed", "thu", "fri"]\n'
        'time = "09:00"\n'
        'closed = ["2030-12-24..2030-12-26"]\n'
        'holidays = "DE-BE"\n'
        'protocol = "iv"\n'
        'hours = "08:00-16:00"\n'
        "chairs = 1\n"
        "slot_minutes = 15\n"
        "starts_per_slot = 2\n"
        "require_screening = false\n"
        "screening_valid_days = 90\n"
        'patient_code = "^[A-Z0-9][A-Z0-9-]{0,39}$"\n'
        'phone = ""\n'
        'contact = ""\n'
        'language = "en"\n'
        "\n"
        "[calendar]\n"
        'alarm = "1d"\n'
        'alarm_text = "Ketamine appointment tomorrow: arrange a driver home."\n'
        "private = false\n"
        "\n"
        "[safety]\n"
        'bp_threshold = "140/90"\n'
        "vitals_every_minutes = 15\n"
        "\n"
        "[patient]\n"
        "fasting_solids_hours = 6\n"
        "fasting_liquids_hours = 2\n"
        'crisis_line = ""\n'
        "\n"
        "[feeds]\n"
        "patient = false\n"
        'url = "http://127.0.0.1:8642"\n'
    )
    # What it prints is a config file that agrees with the book.
    write(tmp_path / "printed.toml", result.out)
    again = run(capsys, "init", "--config", "printed.toml", "--book", "new.sqlite")
    assert (again.code, again.out) == (0, result.out)
    assert again.err == (
        "Book: new.sqlite · clinic Lakeside\n"
        "The book new.sqlite is already kept for the clinic Lakeside, with these settings\n"
        "Esketamine REMS: off (not a US time zone; [rems] program can turn it on)\n"
    )
    shown = run(capsys, "clinic", "show", "--book", "new.sqlite")
    assert (shown.code, shown.out) == (0, result.out)


def test_clinic_apply_lists_the_sessions_that_no_longer_fit_and_changes_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    write(tmp_path / "ketaplan.toml", CLINIC.replace("chairs = 1", "chairs = 2"))
    assert book(capsys, "P-001", "--time", "09:00")[0] == 0
    assert book(capsys, "P-002", "--time", "09:00")[0] == 0  # chair 2
    write(
        tmp_path / "new.toml",
        CLINIC.replace('closed = ["2030-12-24..2030-12-26"]', 'closed = ["2030-01-09"]'),
    )
    result = run(capsys, "clinic", "apply", "new.toml")
    assert result.code == 1
    assert result.out == (
        "  Session               Patient  #  Chair  Why it no longer fits\n"
        "  Mon 2030-01-07 09:00  P-002    1  2      chair 2, and the clinic has 1\n"
        "  Wed 2030-01-09 09:00  P-001    2  1      clinic closed\n"
        "  Wed 2030-01-09 09:00  P-002    2  2      clinic closed\n"
        "  Fri 2030-01-11 09:00  P-002    3  2      chair 2, and the clinic has 1\n"
        "  Mon 2030-01-14 09:00  P-002    4  2      chair 2, and the clinic has 1\n"
        "  Wed 2030-01-16 09:00  P-002    5  2      chair 2, and the clinic has 1\n"
        "  Fri 2030-01-18 09:00  P-002    6  2      chair 2, and the clinic has 1\n"
        "  Fri 2030-02-01 09:00  P-002    7  2      chair 2, and the clinic has 1\n"
    )
    assert result.err.splitlines()[-1] == (
        "Error: 8 booked sessions no longer fit new.toml (clinic.closed, clinic.chairs); "
        "nothing was changed: give --replan to re-plan them, or move or cancel them first "
        "(`ketaplan move --patient CODE --session N --to DATE`)"
    )
    # The book still has its clinic: the old config still agrees with it.
    assert run(capsys, "agenda", "--day", START).code == 0


REPLANNED = """\
Re-planned 7 sessions of P-002.
  #  Session          Before                After
  1  induction 1/6    Mon 2030-01-07 09:00  Mon 2030-01-07 11:00, chair 1
      chair 2, and the clinic has 1
  2  induction 2/6    Wed 2030-01-09 09:00  Thu 2030-01-10 11:00, chair 1
      clinic closed
  3  induction 3/6    Fri 2030-01-11 09:00  Mon 2030-01-14 11:00, chair 1
  4  induction 4/6    Mon 2030-01-14 09:00  Wed 2030-01-16 11:00, chair 1
  5  induction 5/6    Wed 2030-01-16 09:00  Fri 2030-01-18 11:00, chair 1
  6  induction 6/6    Fri 2030-01-18 09:00  Mon 2030-01-21 11:00, chair 1
  7  maintenance 1/1  Fri 2030-02-01 09:00  Mon 2030-02-04 11:00, chair 1
Re-planned 6 sessions of P-001.
  #  Session          Before                After
  2  induction 2/6    Wed 2030-01-09 09:00  Thu 2030-01-10 09:00, chair 1
      clinic closed
  3  induction 3/6    Fri 2030-01-11 09:00  Mon 2030-01-14 09:00, chair 1
  4  induction 4/6    Mon 2030-01-14 09:00  Wed 2030-01-16 09:00, chair 1
  5  induction 5/6    Wed 2030-01-16 09:00  Fri 2030-01-18 09:00, chair 1
  6  induction 6/6    Fri 2030-01-18 09:00  Mon 2030-01-21 09:00, chair 1
  7  maintenance 1/1  Fri 2030-02-01 09:00  Mon 2030-02-04 09:00, chair 1
"""


def two_chairs_then_one(capsys: pytest.CaptureFixture[str], tmp_path: Path, closed: str) -> None:
    """Two patients at 09:00 in a 2-chair clinic, and a new config with 1 chair and
    `closed` days."""
    write(tmp_path / "ketaplan.toml", CLINIC.replace("chairs = 1", "chairs = 2"))
    assert book(capsys, "P-001", "--time", "09:00")[0] == 0
    assert book(capsys, "P-002", "--time", "09:00")[0] == 0  # chair 2
    write(
        tmp_path / "new.toml",
        CLINIC.replace('closed = ["2030-12-24..2030-12-26"]', f"closed = {closed}"),
    )
    (tmp_path / "ketaplan.toml").unlink()


def what_is_stored(capsys: pytest.CaptureFixture[str]) -> tuple[str, str, str]:
    agenda = run(capsys, "agenda", "--from", START, "--to", "2030-03-01", "--format", "json")
    history = run(capsys, "clinic", "show", "--history", "--format", "json")
    course = run(capsys, "history", "--patient", "P-001", "--format", "json")
    return agenda.out, history.out, course.out


def test_clinic_apply_replan_moves_just_the_sessions_that_no_longer_fit_by_the_rules(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    two_chairs_then_one(capsys, tmp_path, '["2030-01-09"]')
    before = what_is_stored(capsys)
    dry = run(capsys, "clinic", "apply", "new.toml", "--replan", "--dry-run")
    assert dry.code == 0, dry.err
    assert dry.out == (
        "Would apply new.toml to the clinic Lakeside: clinic.closed, clinic.chairs.\n"
        + REPLANNED.replace("Re-planned", "Would re-plan")
        + "Dry run: nothing was written.\n"
    )
    assert what_is_stored(capsys) == before

    result = run(capsys, "clinic", "apply", "new.toml", "--replan", "--by", "amsel")
    assert (result.code, result.out) == (0, REPLANNED), result.err
    assert result.err.splitlines()[-1] == (
        f"Applied new.toml to the clinic Lakeside in {tmp_path / 'book.sqlite'}: "
        "clinic.closed, clinic.chairs; re-planned 13 sessions of 2 patients"
    )
    # One chair, no session on the closed day, each course keeps the protocol's rules.
    sessions = json.loads(run(capsys, "agenda", "--from", START, "--to", "2030-03-01",
                              "--format", "json").out)["sessions"]  # fmt: skip
    assert {s["chair"] for s in sessions} == {1}
    assert not [s for s in sessions if s["start"].startswith("2030-01-09")]
    starts = sorted(s["start"] for s in sessions)
    assert len(starts) == len(set(starts)) == 14
    for patient in ("P-001", "P-002"):
        shown = run(capsys, "course", "--patient", patient)
        assert shown.code == 0
        assert "rule" not in shown.out.lower()
    # Who, when and why, in each course's history; the clinic's change in its own.
    history = run(capsys, "history", "--patient", "P-001", "--format", "json").out
    last = json.loads(history)["history"][-1]
    assert (last["who"], last["what"]) == ("amsel", "clinic apply")
    assert last["why"] == "clinic apply new.toml (closed, chairs)"
    assert [s["number"] for s in last["after"]] == [2, 3, 4, 5, 6, 7]
    assert len(json.loads(run(capsys, "clinic", "show", "--history", "--format", "json").out)) == 2
    # Calendars that hold a moved session update it: SEQUENCE raised, uid kept.
    export = run(capsys, "export", "--patient", "P-001", "--ics", "-")
    assert export.code == 0, export.err
    assert export.out.count("SEQUENCE:1") == 6
    # Applying again changes nothing, and says so (a dry run too).
    for extra in ((), ("--dry-run",)):
        again = run(capsys, "clinic", "apply", "new.toml", "--replan", *extra)
        assert (again.code, again.out) == (0, "")
        assert again.err.splitlines()[-1] == (
            f"The clinic in {tmp_path / 'book.sqlite'} already has the settings of new.toml"
        )


def test_clinic_apply_replan_refuses_whole_when_a_session_has_nowhere_to_go(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # Closed for three weeks from the second infusion on: the induction cannot be kept.
    two_chairs_then_one(capsys, tmp_path, '["2030-01-08..2030-01-31"]')
    before = what_is_stored(capsys)
    result = run(capsys, "clinic", "apply", "new.toml", "--replan")
    assert result.code == 1
    assert result.out.splitlines()[:3] == [
        "  Session               Patient  #  Chair  Why it no longer fits",
        "  Wed 2030-01-09 09:00  P-001    2  1      clinic closed",
        "  Wed 2030-01-09 09:00  P-002    2  2      clinic closed",
    ]
    assert result.err.splitlines()[-1] == (
        "Error: 10 booked sessions have no day within 14 days that keeps the protocol's "
        "rules and has a free chair under new.toml; nothing was changed: move or cancel "
        "them first (`ketaplan move --patient CODE --session N --to DATE --override REASON`)"
    )
    assert what_is_stored(capsys) == before


def test_clinic_apply_changes_the_clinic_and_keeps_every_version(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    write(tmp_path / "ketaplan.toml", CLINIC)
    assert book(capsys, "P-001", "--time", "09:00")[0] == 0
    write(tmp_path / "ketaplan.toml", CLINIC.replace("chairs = 1", "chairs = 3"))
    result = run(capsys, "clinic", "apply", "ketaplan.toml")
    path = tmp_path / "book.sqlite"
    assert (result.code, result.out) == (0, "")
    assert result.err.splitlines()[-1] == (
        f"Applied ketaplan.toml to the clinic Lakeside in {path}: clinic.chairs"
    )
    agenda = run(capsys, "agenda", "--day", START)
    assert agenda.out.splitlines()[0] == "Agenda 2030-01-07 · Lakeside · 3 chairs · Europe/Berlin"
    history = run(capsys, "clinic", "show", "--history", "--format", "json")
    changes = json.loads(history.out)
    assert [c["settings"]["clinic"]["chairs"] for c in changes] == [1, 3]
    assert [c["source"] for c in changes] == ["ketaplan.toml", "ketaplan.toml"]
    same = run(capsys, "clinic", "apply", "ketaplan.toml")
    assert same.err.splitlines()[-1] == (
        f"The clinic in {path} already has the settings of ketaplan.toml"
    )


# Which config and which book --------------------------------------------------------


def test_the_config_is_found_by_option_then_environment_then_folders_then_user_folder(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def config_line() -> str:
        result = run(capsys, "info")
        assert result.code == 0, result.err
        return result.out.splitlines()[1]

    assert config_line() == "Config: the built-in defaults (no ketaplan.toml found)"
    user = write(tmp_path / ".config" / "ketaplan" / "ketaplan.toml", CLINIC)
    assert config_line() == f"Config: {user} (found in the user config folder)"
    write(tmp_path / "ketaplan.toml", CLINIC)
    (tmp_path / "sub" / "deeper").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "sub" / "deeper")
    assert config_line() == (
        f"Config: {tmp_path / 'ketaplan.toml'} (found in the parent folder {tmp_path})"
    )
    env = write(tmp_path / "env.toml", CLINIC)
    monkeypatch.setenv("KETAPLAN_CONFIG", str(env))
    assert config_line() == f"Config: {env} (from $KETAPLAN_CONFIG)"
    write(Path("here.toml"), CLINIC)
    result = run(capsys, "info", "--config", "here.toml")
    assert result.out.splitlines()[1] == "Config: here.toml (given with --config)"
    monkeypatch.setenv("KETAPLAN_CONFIG", str(tmp_path / "gone.toml"))
    missing = run(capsys, "plan", "--start", START, "--patient", "P-001")
    assert (missing.code, missing.err) == (
        2,
        f"Error: config file {tmp_path / 'gone.toml'} (from $KETAPLAN_CONFIG) does not exist\n",
    )


def test_info_names_the_version_config_book_and_clinic(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    write(tmp_path / "ketaplan.toml", CLINIC)
    path = tmp_path / "book.sqlite"
    before = run(capsys, "info")
    assert before.out == (
        f"ketaplan {__version__}\n"
        "Config: ketaplan.toml (found in the current folder)\n"
        f"Book: {path} (from $KETAPLAN_BOOK; not created yet)\n"
        "Clinic: Lakeside · Europe/Berlin (from ketaplan.toml, stored at init)\n"
    )
    assert book(capsys, "P-001")[0] == 0
    after = run(capsys, "info").out.splitlines()
    assert after[2] == f"Book: {path} (from $KETAPLAN_BOOK)"
    assert after[3].startswith("Clinic: Lakeside · Europe/Berlin · 1 chair · stored ")
    assert after[3].endswith(" from ketaplan.toml")
    write(tmp_path / "ketaplan.toml", CLINIC.replace('"08:00-16:00"', '"08:00-15:00"'))
    assert run(capsys, "info").out.splitlines()[4] == (
        "Warning: the config disagrees with the book's clinic on clinic.hours; commands "
        "refuse until `ketaplan clinic apply ketaplan.toml`"
    )


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    result = run(capsys, "--version")
    assert (result.code, result.out, result.err) == (0, f"ketaplan {__version__}\n", "")


# plan and book agree ------------------------------------------------------------------


def test_book_without_a_time_uses_the_clinics_time_like_plan(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    write(tmp_path / "ketaplan.toml", CLINIC + 'time = "10:15"\n')
    code, out, _ = book(capsys, "P-001")
    planned = run(
        capsys, "plan", "--patient", "P-001", "--start", START, "--maintenance-sessions", "1",
        "--format", "json",
    )  # fmt: skip
    assert code == 0
    assert starts(out) == [s["start"] for s in json.loads(planned.out)["sessions"]]
    assert starts(out)[0] == "2030-01-07T10:15:00+01:00"


def test_a_dry_run_shows_what_would_be_booked_and_writes_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    write(tmp_path / "ketaplan.toml", CLINIC)
    path = tmp_path / "book.sqlite"
    dry = run(
        capsys, "book", "--patient", "P-001", "--start", START, "--maintenance-sessions", "1",
        "--dry-run",
    )  # fmt: skip
    assert dry.code == 0
    assert dry.out.startswith("Would book P-001: IV ketamine (iv), 7 sessions, 7 in clinic")
    assert dry.err == (f"Book: {path} · clinic Lakeside\nDry run: nothing was written to {path}\n")
    assert not path.exists()
    real = run(
        capsys, "book", "--patient", "P-001", "--start", START, "--maintenance-sessions", "1",
    )  # fmt: skip
    assert real.out == dry.out.replace("Would book", "Booked", 1)
    before = path.read_bytes()
    again = run(
        capsys, "book", "--patient", "P-001", "--start", "2030-01-08", "--maintenance-sessions",
        "1", "--replace", "--dry-run",
    )  # fmt: skip
    assert again.code == 0
    assert again.err == (
        f"Book: {path} · clinic Lakeside\n"
        "--replace cancels 7 booked sessions (kept in the book as cancelled):\n"
        "  P-001 #1 Mon 2030-01-07 09:00 induction 1/6\n"
        "  P-001 #2 Wed 2030-01-09 09:00 induction 2/6\n"
        "  P-001 #3 Fri 2030-01-11 09:00 induction 3/6\n"
        "  P-001 #4 Mon 2030-01-14 09:00 induction 4/6\n"
        "  P-001 #5 Wed 2030-01-16 09:00 induction 5/6\n"
        "  P-001 #6 Fri 2030-01-18 09:00 induction 6/6\n"
        "  P-001 #7 Fri 2030-02-01 09:00 maintenance 1/1\n"
        "Would replace the active course: 7 future sessions cancelled.\n"
        f"Dry run: nothing was written to {path}\n"
    )
    assert path.read_bytes() == before
    agenda = run(capsys, "agenda", "--day", START, "--format", "json")
    assert [s["status"] for s in json.loads(agenda.out)["sessions"]] == ["booked"]


@pytest.mark.parametrize(
    ("alarm", "text"),
    [
        ('"1d"', "Ketamine appointment tomorrow: arrange a driver home."),
        ('"2d"', "Ketamine appointment in 2 days: arrange a driver home."),
        ('"2h"', "Ketamine appointment in 2 hours: arrange a driver home."),
        ('"1h"', "Ketamine appointment in 1 hour: arrange a driver home."),
        ('"30m"', "Ketamine appointment in 30 minutes: arrange a driver home."),
    ],
)
def test_the_reminders_default_text_follows_its_offset(
    tmp_path: Path, alarm: str, text: str
) -> None:
    config = load_config(write(tmp_path / "k.toml", f"[calendar]\nalarm = {alarm}\n"))
    assert config.alarm_text == text


def test_a_clinic_sets_the_pattern_of_its_patient_codes(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    write(tmp_path / "ketaplan.toml", CLINIC + 'patient_code = "P-[0-9]{3}"\n')
    code, out, err = book(capsys, "K-17")
    assert (code, out) == (2, "")
    # Refused before the book is made.
    assert err == (
        "Error: patient code 'K-17' is not a code of this clinic (pattern P-[0-9]{3}, after "
        "upper-casing), e.g. P-001\n"
    )
    assert not (tmp_path / "book.sqlite").exists()
    assert book(capsys, "P-017")[0] == 0
    enrolled = run(capsys, "rems", "enroll", "--patient", "p-017", "--date", "2026-11-02")
    # Codes are upper-cased first: p-017 is P-017.
    assert (enrolled.code, enrolled.message) == (
        0,
        f"Recorded the REMS enrollment of P-017 on 2026-11-02 in {tmp_path / 'book.sqlite'}\n",
    )


def test_a_bad_patient_code_pattern_is_refused_by_name(tmp_path: Path) -> None:
    path = write(tmp_path / "k.toml", '[clinic]\npatient_code = "P-[0-9"\n')
    with pytest.raises(UsageError) as refused:
        load_config(path)
    assert str(refused.value).startswith(
        f"{path}: clinic.patient_code is not a regular expression: "
    )


def test_every_config_key_but_the_books_path_is_stored_in_the_book(tmp_path: Path) -> None:
    from ketaplan.formats.config_file import CONFIG_KEYS

    config = load_config(
        write(
            tmp_path / "k.toml",
            '[clinic]\nholidays = "DE"\ntimezone = "UTC"\ndate_order = "DMY"\n'
            'paper = "a4"\n[rems]\nprogram = "none"\n',
        )
    )
    settings = clinic_settings(config)
    stored = {f"{section}.{key}" for section, values in settings.items() for key in values}
    # Where the book is, who shares it and which of its clinics to use are about the
    # book, not the clinic.
    assert {f"{k.section}.{k.key}" for k in CONFIG_KEYS} - stored == {
        "book.path",
        "book.group",
        "book.url",
        "book.clinic",
    }
    back = config_from_settings(settings_json(config), "the book b.sqlite")
    assert clinic_settings(back) == settings


def test_clinic_apply_replan_moves_a_session_with_the_next_one_in_its_week(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # Esketamine twice a week from a Wednesday: Wednesday 16 January closes, Thursday is
    # too close to Friday's session (never two days running), so Friday's moves to
    # Monday: both stay in the schedule's second week (Wednesday to Tuesday).
    write(tmp_path / "ketaplan.toml", CLINIC.replace("chairs = 1", "chairs = 2"))
    booked = run(capsys, "book", "--patient", "P-001", "--start", "2030-01-09", "--time",
                 "09:00", "--protocol", "esketamine", "--override", "test")  # fmt: skip
    assert booked.code == 0, booked.err
    write(tmp_path / "ketaplan.toml", CLINIC.replace("chairs = 1", "chairs = 2").replace(
        'closed = ["2030-12-24..2030-12-26"]', 'closed = ["2030-01-16"]'))  # fmt: skip
    result = run(capsys, "clinic", "apply", "ketaplan.toml", "--replan")
    assert result.code == 0, result.err
    assert result.out == (
        "Re-planned 2 sessions of P-001.\n"
        "  #  Session        Before                After\n"
        "  3  induction 3/8  Wed 2030-01-16 09:00  Thu 2030-01-17 09:00, chair 1\n"
        "      clinic closed\n"
        "  4  induction 4/8  Fri 2030-01-18 09:00  Mon 2030-01-21 09:00, chair 1\n"
        "      moved with session 3\n"
    )


def test_clinic_apply_counts_the_starts_a_slot_allows(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # Two patients start at 09:00 on two chairs; the nurses now start one at a time.
    two = CLINIC.replace("chairs = 1", "chairs = 2\nstarts_per_slot = 2")
    write(tmp_path / "ketaplan.toml", two)
    assert book(capsys, "P-001", "--time", "09:00")[0] == 0
    assert book(capsys, "P-002", "--time", "09:00")[0] == 0
    write(tmp_path / "ketaplan.toml", two.replace("starts_per_slot = 2", "starts_per_slot = 1"))
    refused = run(capsys, "clinic", "apply", "ketaplan.toml")
    assert refused.code == 1
    assert refused.out.splitlines()[:2] == [
        "  Session               Patient  #  Chair  Why it no longer fits",
        "  Mon 2030-01-07 09:00  P-002    1  2      start slot full (1 start per 15 min)",
    ]
    result = run(capsys, "clinic", "apply", "ketaplan.toml", "--replan")
    assert result.code == 0, result.err
    assert result.out.splitlines()[:4] == [
        "Re-planned 7 sessions of P-002.",
        "  #  Session          Before                After",
        "  1  induction 1/6    Mon 2030-01-07 09:00  Mon 2030-01-07 08:45, chair 2",
        "      start slot full (1 start per 15 min)",
    ]
