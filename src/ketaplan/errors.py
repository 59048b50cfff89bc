"""One exception hierarchy; the CLI boundary turns each into one line on stderr.

Every error carries the exit code the command ends with, so that no command has to
choose one itself.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final


class ExitCode:
    """Named exit codes (plain ints: an IntEnum costs a millisecond on every start-up)."""

    OK: Final = 0
    # The request was understood but cannot be met: a plan that would break a rule, a
    # file that cannot be written, a booking that does not fit.
    FAILED: Final = 1
    # The request itself is wrong: a bad date, option, file or value.
    USAGE: Final = 2
    INTERRUPTED: Final = 130


class KetaplanError(Exception):
    """A domain error whose message a coordinator can read and act on."""

    exit_code: int = ExitCode.FAILED


class UsageError(KetaplanError):
    """Bad input: an option, a value, a config or protocol file."""

    exit_code = ExitCode.USAGE


class RequestError(UsageError):
    """A course request the planner refuses, worded by concept: each `{maintenance
    sessions}` in the message names a concept, which the command line words as its flag
    (`--maintenance-sessions`) and a roster as its column, so both come from one rule and
    one wording. Unworded, a concept reads as itself."""

    def __init__(self, template: str) -> None:
        super().__init__(template)
        self.template = template

    def worded(self, names: Mapping[str, str]) -> str:
        """The message with each concept replaced by its name in `names`, if any."""
        return _CONCEPT.sub(lambda m: names.get(m[1], m[1]), self.template)

    def __str__(self) -> str:
        return self.worded({})


_CONCEPT = re.compile(r"\{([a-z][a-z ]*)\}")


class PlanError(KetaplanError):
    """The protocol's rules cannot be met from this start date with this calendar."""


class OutputError(KetaplanError):
    """A file could not be written; nothing was left half-written."""


class BookError(KetaplanError):
    """The clinic book refused the request, or is not a book this version can open."""


class Interrupted(KetaplanError):
    """Ctrl-C: the message says what was (not) changed."""

    exit_code = ExitCode.INTERRUPTED


class NoBookYet(BookError):
    """Nothing is stored where the book should be (no file, an empty database)."""
