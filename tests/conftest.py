"""Every test runs in its own empty working directory, with its own clinic book and no
clinic config (none in the user config folder either), at a fixed terminal width, with no
colour, logged in as "coordinator" (the history's default "who")."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KETAPLAN_BOOK", str(tmp_path / "book.sqlite"))
    monkeypatch.setenv("COLUMNS", "100")
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("TZ", "UTC")
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    monkeypatch.setenv("LOGNAME", "coordinator")
    # No config from outside the test: neither named nor in the user config folder.
    monkeypatch.delenv("KETAPLAN_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / ".config"))


@pytest.fixture(params=["sqlite", "postgresql"])
def book_at(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Where a new book goes: an SQLite file, or a new PostgreSQL database (skipped, with
    the reason, when no server is configured)."""
    if request.param == "sqlite":
        yield str(tmp_path / "b.sqlite")
        return
    from tests.pgtest import fresh_database

    with fresh_database() as url:
        yield url
