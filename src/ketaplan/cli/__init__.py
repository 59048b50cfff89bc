"""ketaplan's command line: each command parses its options, calls one core function and
renders the result. `main` is the one error boundary: every domain error becomes one
line on stderr and a named exit code, never a traceback."""

from __future__ import annotations

import errno
import gc
import importlib
import os
import sys

import typer

from ketaplan.cli.app import app, stored
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
    "admin": "ketaplan.cli.admin",
    "attend": "ketaplan.cli.attend",
    "miss": "ketaplan.cli.miss",
    "cancel": "ketaplan.cli.cancel",
    "move": "ketaplan.cli.move",
    "booster": "ketaplan.cli.booster",
    "replan": "ketaplan.cli.replan",
    "course": "ketaplan.cli.course",
    "history": "ketaplan.cli.history",
    "init": "ketaplan.cli.clinic",
    "clinic": "ketaplan.cli.clinic",
    "info": "ketaplan.cli.clinic",
    "feed": "ketaplan.cli.feed",
    "serve": "ketaplan.cli.serve",
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
    stored.clear()
    try:
        load_commands(argv)
        result = app(args=argv, prog_name="ketaplan", standalone_mode=False)
        # Inside the boundary: a full disk behind stdout fails here, not at exit.
        sys.stdout.flush()
    except SystemExit as exc:
        # Typer turns a closed pipe into exit 1 (after muting stdout and stderr); here a
        # closed pipe is no failure, and a stored booking is said to be stored.
        cause = exc.__context__
        if not (isinstance(cause, OSError) and cause.errno == errno.EPIPE):
            # Typer's completion options (`--show-completion`) end the program themselves.
            if cause is None and isinstance(exc.code, int | None):
                return exc.code or ExitCode.OK
            raise
        return _output_failed("the reader of the output has gone away") if stored else 0
    except RequestError as exc:
        return _fail(exc.worded(OPTION_NAMES), exc.exit_code)
    except KetaplanError as exc:
        if stored and exc.exit_code == ExitCode.INTERRUPTED:
            return _output_failed("interrupted")
        return _fail(str(exc), exc.exit_code)
    except typer.TyperException as exc:
        # Typer's own usage errors: unknown option, missing option, bad choice. The one
        # without a message is `ketaplan` alone, which has printed the help: not an error.
        message = _one_line(exc.format_message())
        return _fail(message, ExitCode.USAGE) if message else ExitCode.OK
    except (typer.Abort, KeyboardInterrupt, EOFError):
        if stored:
            return _output_failed("interrupted")
        return _fail("interrupted; nothing was changed", ExitCode.INTERRUPTED)
    except BrokenPipeError:
        # The reader of our output went away (`ketaplan agenda | head`): not an error.
        _silence_stdout()
        if stored:
            return _output_failed("the reader of the output has gone away")
        return ExitCode.OK
    except OSError as exc:
        # Every file ketaplan writes reports its own errors: what is left is standard
        # output itself (`> /dev/full`).
        _silence_stdout()
        from ketaplan.formats.files import reason  # only on this failure

        if stored:
            return _output_failed(f"the output could not be written: {reason(exc)}")
        return _fail(f"cannot write the output: {reason(exc)}", ExitCode.FAILED)
    if result == ExitCode.INTERRUPTED:
        # Typer's own answer to Ctrl-C: exit 130 and nothing said.
        if stored:
            return _output_failed("interrupted")
        return _fail("interrupted; nothing was changed", ExitCode.INTERRUPTED)
    return result if isinstance(result, int) else ExitCode.OK


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so that the interpreter's own flush at exit does not
    fail a second time with a traceback (Python's documented recipe for SIGPIPE)."""
    try:
        fd = sys.stdout.fileno()
    except (OSError, ValueError, AttributeError):
        return  # a captured stream (tests): nothing is flushed at exit
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)


def _output_failed(why: str) -> int:
    """The change was stored: a failed output is said, and is no failure."""
    try:
        sys.stderr.write(f"{stored[-1]} ({why}).\n")
        sys.stderr.flush()
    except OSError:
        pass
    return ExitCode.OK


def _one_line(message: str) -> str:
    return " ".join(message.split())


def _fail(message: str, code: int) -> int:
    try:
        sys.stdout.flush()
    except OSError:
        _silence_stdout()  # the error line below is what matters
    sys.stderr.write(f"Error: {message}\n")
    return int(code)
