"""End to end: `q` ends the process at once, whatever the app is computing.

A generated story of 3,000 articles whose first 40 are long (tests/test_background.py):
its overview would compare pairs for minutes and a claim's matches search every article.
With both running, `q` must end the `newsmark` process (every thread: the pane's command
writes the exit status only once the process is gone) within QUIT_SECONDS.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.e2e.driving import NEWSMARK, needs_tmux, wait_until
from tests.e2e.test_tmux import Terminal
from tests.test_background import BIG_STORY, add_big_story

pytestmark = [
    pytest.mark.e2e,
    needs_tmux,
]

QUIT_SECONDS = 2.0


def test_q_quits_within_two_seconds_while_the_overview_and_suggestions_compute(tmp_path: Path) -> None:
    db = tmp_path / "big.db"
    add_big_story(db)
    workdir = tmp_path / "term"
    workdir.mkdir()
    terminal = Terminal(workdir, [str(NEWSMARK), "--db", str(db), "annotate", "--annotator", "e2e",
                                  "--story", BIG_STORY])
    terminal.start()
    try:
        terminal.wait_for("A very large story")
        terminal.show("j")
        terminal.show("c", "finding matches")  # the search over 2,999 articles is under way
        terminal.show("o", "Story too large for one overview: 3,000 articles")
        terminal.wait_for("comparing…")  # 780 pairs of long articles: minutes without a bound
        started = time.monotonic()
        terminal.show("q")
        status = wait_until(terminal.exit_status, "the process to exit after q", timeout=10, context=terminal.screen)
        elapsed = time.monotonic() - started
        print(f"the process exited {elapsed:.2f} s after q")
        assert status == "0", terminal.screen()
        assert elapsed < QUIT_SECONDS, f"the process took {elapsed:.1f} s to exit after q"
    finally:
        terminal.stop()
