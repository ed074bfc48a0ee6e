"""What the end-to-end tests share: the installed `newsmark`, polling waits, and reading
which pane a terminal shows as focused from its colours."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NEWSMARK = Path(sys.executable).with_name("newsmark")
TIMEOUT = 30.0


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
