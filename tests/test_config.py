"""The clinic config's documented key table is the one the loader uses: every documented
default is the default, every key is accepted, and nothing else is."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from ketaplan.errors import UsageError
from ketaplan.formats.config_file import CONFIG_KEYS, ConfigKey, load_config
from ketaplan.model.clinic import ClinicConfig


def _toml(keys: dict[str, list[str]]) -> str:
    return "".join(f"[{section}]\n" + "".join(lines) for section, lines in keys.items())


def test_every_documented_default_is_the_default(tmp_path: Path) -> None:
    sections: dict[str, list[str]] = {}
    for key in CONFIG_KEYS:
        if key.default:
            sections.setdefault(key.section, []).append(f"{key.key} = {key.default}\n")
    path = tmp_path / "ketaplan.toml"
    path.write_text(_toml(sections), encoding="utf-8")
    assert replace(load_config(path), source=None) == ClinicConfig()


@pytest.mark.parametrize("key", [k for k in CONFIG_KEYS if k.limits], ids=lambda k: k.key)
def test_a_number_outside_its_documented_limits_is_refused(tmp_path: Path, key: ConfigKey) -> None:
    assert key.limits
    low, high = key.limits
    path = tmp_path / "ketaplan.toml"
    path.write_text(f"[{key.section}]\n{key.key} = {high + 1}\n", encoding="utf-8")
    with pytest.raises(UsageError) as raised:
        load_config(path)
    assert str(raised.value) == (
        f"{path}: {key.section}.{key.key} must be a whole number from {low} to {high}, "
        f"got {high + 1}"
    )


def test_an_undocumented_key_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ketaplan.toml"
    path.write_text("[clinic]\nchiars = 3\n", encoding="utf-8")
    with pytest.raises(UsageError) as raised:
        load_config(path)
    assert str(raised.value).startswith(f"{path}: unknown key clinic.chiars; known: chairs, ")
