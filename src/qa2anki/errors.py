"""The errors qa2anki reports to its users.

Every user-facing problem is a :class:`Qa2AnkiError`.  Its ``str()`` is the one line
the CLI prints: ``path:line: message``.  Anything else that escapes is a bug.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path


class Qa2AnkiError(Exception):
    """A problem the user can fix, located in a file and, when known, a line."""

    def __init__(self, message: str, path: Path | None = None, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line

    def __str__(self) -> str:
        return f"{self.location()}{self.message}"

    def location(self) -> str:
        """Return where the problem is, as the start of its line: ``path:line: `` or ``""``."""
        if self.path is None:
            return ""
        return f"{self.path}: " if self.line is None else f"{self.path}:{self.line}: "


class SourceError(Qa2AnkiError):
    """One problem in the question sources."""


class ValidationError(Qa2AnkiError):
    """The sources have one or more problems; ``problems`` lists them all, in file order."""

    def __init__(self, problems: Sequence[SourceError]) -> None:
        count = len(problems)
        super().__init__(f"{count} problem{'s' if count != 1 else ''} in the sources")
        self.problems = list(problems)

    def __str__(self) -> str:
        return "\n".join(str(problem) for problem in self.problems)


class OutputError(Qa2AnkiError):
    """The deck could not be written."""


class StateError(Qa2AnkiError):
    """The state file (``qa2anki.lock``) cannot be used."""
