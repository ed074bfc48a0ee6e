"""What the end-to-end tests share: the installed `newsmark`, polling waits, and reading
which pane a terminal shows as focused from its colours."""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NEWSMARK = Path(sys.executable).with_name("newsmark")
TIMEOUT = 30.0

# A user's machine without tmux skips the end-to-end tests that drive it; CI never skips
# them (.ci/run installs tmux and sets CI): there a missing tmux fails the tests instead.
needs_tmux = pytest.mark.skipif(
    shutil.which("tmux") is None and not os.environ.get("CI"), reason="tmux is not installed"
)


def wait_until(
    condition: Callable[[], object], what: str, timeout: float = TIMEOUT, context: Callable[[], str] | None = None
) -> object:
    """Poll `condition` until it returns something truthy; fail after `timeout` seconds
    (saying what `context()` shows then)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}" + (f"\n{context()}" if context else ""))
        time.sleep(0.02)  # the polling interval, not a wait for a state


def foreground_after(params: str, foreground: str) -> str:
    """The foreground colour after one SGR sequence (only what tells panes apart)."""
    parts = params.split(";") if params else ["0"]
    index = 0
    while index < len(parts):
        part = parts[index]
        if part in ("0", "", "39"):
            foreground = ""
        elif part == "38" and index + 1 < len(parts):
            width = 3 if parts[index + 1] == "5" else 5
            foreground = ";".join(parts[index:index + width])
            index += width - 1
        elif part == "48" and index + 1 < len(parts):
            index += 2 if parts[index + 1] == "5" else 4
        elif part.isdigit() and (30 <= int(part) <= 37 or 90 <= int(part) <= 97):
            foreground = part
        index += 1
    return foreground


def children_of(pid: int) -> list[int]:
    """The child processes of every thread of `pid` (Linux /proc)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(child) for child in (task / "children").read_text().split()]
        except OSError:
            continue
    return found
