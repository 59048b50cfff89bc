"""ketaplan's command line: each command parses its options, calls one core function and
renders the result. `main` is the one error boundary: every domain error becomes one
line on stderr and a named exit code, never a traceback."""

from __future__ import annotations

import gc
import importlib
import sys

import typer

from ketaplan.cli.app import app
from ketaplan.errors import ExitCode, KetaplanError, RequestError

# Which module registers each command. Only the invoked command's module is imported, so
# `ketaplan plan` never pays for the book's or the screening's imports; help and unknown
# commands import them all.
COMMAND_MODULES = {
    "plan": "ketaplan.cli.plan",
    "protocols": "ketaplan.cli.protocols",
    "screen": "ketaplan.cli.screen",
    "book": "ketaplan.cli.book",
    "agenda": "ketaplan.cli.agenda",
    "export": "ketaplan.cli.export",
    "rems": "ketaplan.cli.rems",
    "handout": "ketaplan.cli.handout",
}

# How the command line names the planner's concepts (see `RequestError`).
OPTION_NAMES = {
    "maintenance sessions": "--maintenance-sessions",
    "maintenance interval": "--maintenance-every",
    "end date": "--until",
    "lozenges": "--lozenges",
}


def load_commands(argv: list[str] | None = None) -> None:
    """Register the command that `argv` invokes, or every command."""
    args = sys.argv[1:] if argv is None else argv
    name = next((a for a in args if not a.startswith("-")), None)
    wanted = [COMMAND_MODULES[name]] if name in COMMAND_MODULES else COMMAND_MODULES.values()
    for module in dict.fromkeys(wanted):
        importlib.import_module(module)


def main(argv: list[str] | None = None) -> int:
    """Run ketaplan; returns the exit code. With no `argv` (the installed command) the
    process ends right after, so nothing is left for the garbage collector to do: freezing
    what exists spares the interpreter's exit a full collection over every loaded module
    (about 25 ms, a sixth of a `ketaplan plan`)."""
    code = _run(argv)
    if argv is None:
        gc.freeze()
    return code


def _run(argv: list[str] | None) -> int:
    try:
        load_commands(argv)
        result = app(args=argv, prog_name="ketaplan", standalone_mode=False)
    except RequestError as exc:
        return _fail(exc.worded(OPTION_NAMES), exc.exit_code)
    except KetaplanError as exc:
        return _fail(str(exc), exc.exit_code)
    except typer.TyperException as exc:
        # Typer's own usage errors: unknown option, missing option, bad choice. The one
        # without a message is `ketaplan` alone, which has printed the help: not an error.
        message = _one_line(exc.format_message())
        return _fail(message, ExitCode.USAGE) if message else ExitCode.OK
    except (typer.Abort, KeyboardInterrupt, EOFError):
        return _fail("interrupted; nothing was changed", ExitCode.INTERRUPTED)
    except BrokenPipeError:
        # The reader of our output went away (`ketaplan agenda | head`): not an error.
        sys.stderr.close()
        return ExitCode.OK
    return result if isinstance(result, int) else ExitCode.OK


def _one_line(message: str) -> str:
    return " ".join(message.split())


def _fail(message: str, code: int) -> int:
    sys.stdout.flush()
    sys.stderr.write(f"Error: {message}\n")
    return int(code)
