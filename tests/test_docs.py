"""Every command is documented with an example, the README's test command is the one CI
runs, and every console example in README.md and docs/ prints exactly what it shows.

The examples run as docs/development.md describes: in-process through the real entry
point, in an empty folder with its own book, at 80 columns without colour, with the
clock pinned, in page order. KETAPLAN_DOCS_UPDATE=1 rewrites the shown output instead of
comparing it, after an intended change (review the diff).
"""

from __future__ import annotations

import io
import os
import re
import shlex
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ketaplan.cli import main
from tests.clirun import run
from tests.docgen import command_paths

ROOT = Path(__file__).parent.parent
# The docs' "now": a Tuesday before every example's dates, so that no example expires.
DOCS_NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
UPDATE = os.environ.get("KETAPLAN_DOCS_UPDATE") == "1"
# A fenced block: its language, the rest of its info string, its body.
FENCE = re.compile(r"^```([\w-]*)([^\n]*)\n(.*?)^```[ \t]*$", flags=re.M | re.S)
TITLE = re.compile(r'title="([^"/]+)"')
# `<!-- clock: ISO -->` before a block: the pinned clock moves there (a page where time
# passes, such as docs/lifecycle.md).
CLOCK = re.compile(r"<!-- clock: (\S+) -->")
# A clinic network's book in the docs; its examples run on a new database of the tests'
# PostgreSQL server (KETAPLAN_TEST_PG), shown under this URL.
DOCS_PG_URL = "postgresql://ketaplan@db.example/clinics"


def doc_pages() -> list[Path]:
    """The pages whose examples run: README.md and docs/, but not the generated cli.md."""
    docs = sorted(p for p in (ROOT / "docs").glob("*.md") if p.name != "cli.md")
    return [ROOT / "README.md", *docs]


@dataclass(frozen=True)
class Example:
    """One `$ command` of a console block and the output shown under it."""

    command: str
    output: str


def console_examples(body: str) -> list[Example]:
    chunks = re.split(r"^\$ ", body, flags=re.M)
    if chunks[0].strip():
        raise AssertionError(f"a console block must start with `$ `: {chunks[0]!r}")
    examples = []
    for chunk in chunks[1:]:
        # A command may go on over lines that end with a backslash, as in a shell.
        lines = chunk.split("\n")
        taken = 1
        while lines[taken - 1].endswith("\\") and taken < len(lines):
            taken += 1
        examples.append(Example("\n".join(lines[:taken]), "\n".join(lines[taken:])))
    return examples


def documented_commands() -> list[list[str]]:
    """The arguments of every `$ ketaplan ...` example on a docs/ page (cli.md excepted)."""
    commands = []
    for page in doc_pages()[1:]:
        for lang, _, body in FENCE.findall(page.read_text(encoding="utf-8")):
            if lang == "console":
                for example in console_examples(body):
                    words = shlex.split(example.command.replace("\\\n", " ").partition("|")[0])
                    while words and "=" in words[0]:
                        words.pop(0)
                    if words and words[0] == "ketaplan":
                        commands.append(words[1:])
    return commands


class _Stream(io.StringIO):
    """stdout or stderr of an example, recording what is written in one shared list."""

    def __init__(self, name: str, chunks: list[tuple[str, str]]) -> None:
        super().__init__()
        self._name = name
        self._chunks = chunks

    def write(self, text: str) -> int:
        self._chunks.append((self._name, text))
        return len(text)


class Shell:
    """Runs an example's command line: `ketaplan ...` in-process (with `NAME=value`
    prefixes), `cat FILE` and `echo $?`, piped through `head -n N`, `tail -n N` or
    `grep -E PATTERN`. Anything else is refused, so every example stays runnable."""

    def __init__(
        self,
        capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch,
        network: str | None = None,
    ):
        self.capsys = capsys
        self.monkeypatch = monkeypatch
        self.code = 0
        self.network = network

    def __call__(self, command: str) -> str:
        line = command.replace("\\\n", " ")
        if self.network:
            line = line.replace(DOCS_PG_URL, self.network)
        stages = [shlex.split(stage) for stage in line.split(" | ")]
        words = stages[0]
        env = {}
        while words and re.fullmatch(r"[A-Z_]+=.*", words[0]):
            name, _, value = words.pop(0).partition("=")
            env[name] = value
        chunks = self._run(words, env)
        if len(stages) == 1:
            # As on a terminal: stdout and stderr interleaved in the order written.
            shown = "".join(text for _, text in chunks)
        else:
            # Piped, stdout reaches the terminal through the pipe, after stderr.
            out = "".join(text for stream, text in chunks if stream == "out")
            for stage in stages[1:]:
                out = self._filter(stage, out)
            shown = "".join(text for stream, text in chunks if stream == "err") + out
        if self.network:
            shown = shown.replace(self.network, DOCS_PG_URL)
        return "\n".join(text.rstrip() for text in shown.splitlines()).rstrip("\n")

    def _run(self, words: list[str], env: dict[str, str]) -> list[tuple[str, str]]:
        """What the command writes, as (stream, text) in the order written."""
        if words[:1] == ["ketaplan"]:
            chunks: list[tuple[str, str]] = []
            with self.monkeypatch.context() as patch:
                for name, value in env.items():
                    patch.setenv(name, value)
                patch.setattr("sys.stdout", _Stream("out", chunks))
                patch.setattr("sys.stderr", _Stream("err", chunks))
                self.code = main(words[1:])
            return chunks
        if words == ["echo", "$?"]:
            return [("out", f"{self.code}\n")]
        if len(words) == 2 and words[0] == "cat":
            return [("out", Path(words[1]).read_text(encoding="utf-8"))]
        raise AssertionError(f"the docs' examples cannot run {' '.join(words)!r}")

    @staticmethod
    def _filter(stage: list[str], out: str) -> str:
        lines = out.splitlines(keepends=True)
        match stage:
            case ["head", "-n", count]:
                return "".join(lines[: int(count)])
            case ["tail", "-n", count]:
                return "".join(lines[-int(count) :])
            case ["grep", "-E", pattern]:
                return "".join(line for line in lines if re.search(pattern, line))
        raise AssertionError(f"the docs' examples cannot pipe through {' '.join(stage)!r}")


@pytest.fixture
def network(page: Path) -> Iterator[str | None]:
    """A new PostgreSQL database for a page that shows a clinic network's book."""
    if DOCS_PG_URL not in page.read_text(encoding="utf-8"):
        yield None
        return
    from tests.pgtest import fresh_database

    with fresh_database() as url:
        yield url


@pytest.mark.parametrize("page", doc_pages(), ids=lambda p: p.name)
def test_every_console_example_prints_what_it_shows(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    page: Path,
    network: str | None,
) -> None:
    monkeypatch.setattr("ketaplan.cli.clock.now", lambda: DOCS_NOW)
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.setenv("KETAPLAN_BOOK", "book.sqlite")
    shutil.copytree(ROOT / "examples", "examples")  # as in a clone: examples/*.toml
    text = page.read_text(encoding="utf-8")
    shell = Shell(capsys, monkeypatch, network)
    updated, done, previous = [], 0, 0
    for block in FENCE.finditer(text):
        lang, info, body = block.groups()
        clocks = CLOCK.findall(text, previous, block.start())
        previous = block.end()
        if clocks:
            moment = datetime.fromisoformat(clocks[-1])
            monkeypatch.setattr("ketaplan.cli.clock.now", lambda moment=moment: moment)
        title = TITLE.search(info)
        if title:
            written = body.replace(DOCS_PG_URL, network) if network else body
            Path(title[1]).write_text(written, encoding="utf-8")
        if lang != "console":
            continue
        shown = []
        for example in console_examples(body):
            output = shell(example.command)
            if not UPDATE:
                assert output == example.output.rstrip("\n"), f"$ {example.command}"
            shown.append(f"$ {example.command}\n{output}\n" if output else f"$ {example.command}\n")
        updated += [text[done : block.start(3)], "".join(shown)]
        done = block.end(3)
    if UPDATE:
        page.write_text("".join([*updated, text[done:]]), encoding="utf-8")


@pytest.mark.parametrize("path", [p for p in command_paths() if p], ids=lambda p: " ".join(p))
def test_every_command_has_an_example_on_a_docs_page(path: tuple[str, ...]) -> None:
    commands = documented_commands()
    assert any(args[: len(path)] == list(path) for args in commands), (
        f"no `$ ketaplan {' '.join(path)}` example on a docs/ page"
    )


def test_the_cli_has_the_commands_the_readme_describes() -> None:
    names = {" ".join(path) for path in command_paths()}
    assert {"plan", "protocols", "protocols show"} <= names


@pytest.mark.parametrize("path", command_paths(), ids=lambda p: " ".join(p) or "ketaplan")
def test_every_command_has_help_with_an_example(
    capsys: pytest.CaptureFixture[str], path: tuple[str, ...]
) -> None:
    result = run(capsys, *path, "--help")
    assert result.code == 0
    match = re.search(r"Example: (ketaplan [^\n]*)", result.out)
    assert match, f"no example in `ketaplan {' '.join(path)} --help`"
    assert match[1].split()[1 : 1 + len(path)] == list(path)


def test_the_readme_test_command_is_the_one_ci_runs() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    command = next(line for line in ci.splitlines() if line.startswith("python3 -m venv"))
    assert f"\n{command}\n" in readme


def test_ketaplan_alone_prints_the_help_and_no_error(capsys: pytest.CaptureFixture[str]) -> None:
    result = run(capsys)
    assert (result.code, result.err) == (0, "")
    assert "Usage: ketaplan [OPTIONS] COMMAND [ARGS]..." in result.out
    assert "Example: ketaplan plan --start 2026-12-07 --patient P-001" in result.out


def test_every_cited_source_is_given_in_full_on_the_sources_page() -> None:
    from ketaplan.model.sources import CITATIONS
    from ketaplan.planning.protocols import BUILTIN
    from ketaplan.safety.screening import QUESTIONS

    texts = [q.source for q in QUESTIONS]
    for protocol in BUILTIN.values():
        texts.append(protocol.source)
        texts += [text for phase in protocol.phases for _, text in phase.sources]
    cited = {key for text in texts for key in re.findall(r"\[([a-z0-9-]+)\]", text)}
    assert cited <= set(CITATIONS)
    page = (ROOT / "docs" / "sources.md").read_text(encoding="utf-8")
    headings = set(re.findall(r"^### \[([a-z0-9-]+)\]$", page, flags=re.M))
    assert headings == set(CITATIONS)
    assert all(text.startswith("[") or text.startswith("ketaplan default:") for text in texts), (
        "every source cites a key or says it is ketaplan's own choice"
    )


def test_no_page_or_output_names_a_file_outside_the_repository() -> None:
    for page in [*doc_pages(), ROOT / "docs" / "cli.md"]:
        assert "shared/" not in page.read_text(encoding="utf-8"), page.name
