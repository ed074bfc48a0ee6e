"""The screens (`annotate`, `review`) read keys from stdin and draw on a terminal (Textual
draws on stderr): without a terminal they would write escape sequences into a file or
pipe and wait for keys that never come, so they refuse at once."""

from __future__ import annotations

import sys
from typing import TextIO

NEEDS_A_TERMINAL = "needs a terminal (stdin and stdout must be a terminal; for scripts use export/status)"
NEEDS_A_TERMINAL_ON_STDERR = (
    "needs a terminal (stderr must be a terminal too: the screen is drawn there; for scripts use export/status)"
)


def terminal_problem() -> str | None:
    """Why the screens cannot run here (a sentence for `Error:`), or None when stdin,
    stdout and stderr are all a terminal."""
    if not (_is_terminal(sys.stdin) and _is_terminal(sys.stdout)):
        return NEEDS_A_TERMINAL
    if not _is_terminal(sys.stderr):
        return NEEDS_A_TERMINAL_ON_STDERR
    return None


def _is_terminal(stream: TextIO | None) -> bool:
    try:
        return stream is not None and stream.isatty()
    except ValueError:  # a closed stream
        return False
