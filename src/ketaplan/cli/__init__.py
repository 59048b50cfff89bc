"""ketaplan's command line: each command parses its options, calls one core function and
renders the result. `main` is the one error boundary: every domain error becomes one
line on stderr and a named exit code, never a traceback."""

from __future__ import annotations

import sys

import typer

from ketaplan.cli import plan as _plan  # noqa: F401  (registers its commands)
from ketaplan.cli.app import app
from ketaplan.errors import ExitCode, KetaplanError


def main(argv: list[str] | None = None) -> int:
    """Run ketaplan; returns the exit code."""
    try:
        result = app(args=argv, prog_name="ketaplan", standalone_mode=False)
    except KetaplanError as exc:
        return _fail(str(exc), exc.exit_code)
    except typer.TyperException as exc:
        # Typer's own usage errors: unknown option, missing option, bad choice.
        return _fail(_one_line(exc.format_message()), ExitCode.USAGE)
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
