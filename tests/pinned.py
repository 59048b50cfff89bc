"""Pinning the one clock (`ketaplan.cli.clock.now`) in tests."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest


def pin(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    """A setter: `at("2026-12-07T10:00:00+01:00")` makes that instant now."""

    def at(moment: str) -> None:
        fixed = datetime.fromisoformat(moment)
        monkeypatch.setattr("ketaplan.cli.clock.now", lambda: fixed)

    return at
