"""One root exception for everything a user can cause.

The CLI turns a ``TruenprobeError`` into a single line on stderr and its
``exit_code``; anything else that escapes is a bug and keeps its traceback.
"""

from __future__ import annotations

# Exit codes shared by every command (DESIGN.md).
EXIT_PASS = 0
EXIT_FAIL = 1
EXIT_USAGE = 2
EXIT_INCOMPLETE = 3
EXIT_INTERRUPTED = 130  # Ctrl-C (128 + SIGINT), as shells report it


class TruenprobeError(Exception):
    """A problem the user can fix: a bad option, a malformed file, a missing tool."""

    exit_code: int = EXIT_USAGE

    def __init__(self, message: str, *, exit_code: int | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else type(self).__name__


class ScenarioError(TruenprobeError):
    """A scenario the document does not allow, or a value out of range."""


class InputFileError(TruenprobeError):
    """A site file, inventory, forwards file or capture that cannot be read."""


class MissingToolError(TruenprobeError):
    """A system program (nft, ip, ffmpeg, ...) or privilege the command needs."""


class BindError(TruenprobeError):
    """A local port that cannot be bound: in use, or below 1024 without privileges."""
