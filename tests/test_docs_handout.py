"""docs/handout.md shows real output: its console examples run, in order, in a fresh
folder with the page's ketaplan.toml, through bash and the installed `ketaplan`, at 80
columns, with the handout's date pinned by SOURCE_DATE_EPOCH. After an intended change,
KETAPLAN_UPDATE_DOCS=1 rewrites the shown output (review the diff)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

PAGE = Path(__file__).parent.parent / "docs" / "handout.md"
PINNED = "1890993600"  # 2029-12-03 12:00 UTC


def examples() -> list[tuple[str, str]]:
    text = PAGE.read_text(encoding="utf-8")
    found = []
    for block in re.findall(r"```console\n(.*?)```", text, flags=re.S):
        for chunk in re.split(r"^\$ ", block, flags=re.M)[1:]:
            command, _, output = chunk.partition("\n")
            found.append((command, output))
    return found


def test_the_handout_page_shows_real_output(tmp_path: Path) -> None:
    text = PAGE.read_text(encoding="utf-8")
    config = re.search(r"```toml\n(.*?)```", text, flags=re.S)
    assert config
    (tmp_path / "ketaplan.toml").write_text(config[1], encoding="utf-8")
    shown = examples()
    assert len(shown) >= 10
    script = [f"export PATH={Path(sys.executable).parent}:$PATH"]
    for number, (command, _) in enumerate(shown):
        script += [f"echo '@@ {number}'", f"{command} 2>&1"]
    env = {
        **os.environ,
        "COLUMNS": "80",
        "NO_COLOR": "1",
        "SOURCE_DATE_EPOCH": PINNED,
        "TZ": "UTC",
    }
    env.pop("KETAPLAN_BOOK", None)
    ran = subprocess.run(
        ["bash", "-c", "\n".join(script)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    outputs = re.split(r"^@@ \d+\n", ran.stdout, flags=re.M)[1:]
    assert len(outputs) == len(shown), ran.stderr
    if os.environ.get("KETAPLAN_UPDATE_DOCS") == "1":
        _update(text, shown, outputs)
        return
    for (command, expected), actual in zip(shown, outputs, strict=True):
        got = "\n".join(line.rstrip() for line in actual.splitlines())
        assert got.rstrip("\n") == expected.rstrip("\n"), command


def _update(text: str, shown: list[tuple[str, str]], outputs: list[str]) -> None:
    position = 0
    for (command, expected), actual in zip(shown, outputs, strict=True):
        got = "\n".join(line.rstrip() for line in actual.splitlines())
        old = f"$ {command}\n{expected}"
        start = text.index(old, position)
        new = f"$ {command}\n{got}\n" if got else f"$ {command}\n"
        if not expected.endswith("\n") and expected:
            new = new.rstrip("\n")
        text = text[:start] + new + text[start + len(old) :]
        position = start + len(new)
    PAGE.write_text(text, encoding="utf-8")
