"""End to end: hostile teammates' names, story ids and titles in a real terminal (tmux).

The database is what an old version or a foreign tool leaves (rows written with sqlite3:
see tests/test_terminal_safety.py). `status`, the annotate screen and the review screen
run in a private tmux server; the pane's title must stay what it was (an OSC 0 from data
would set it to "pwned") and the pane shows the escaped form, never raw escapes.
Skipped where tmux is not installed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.driving import NEWSMARK, needs_tmux, wait_until
from tests.e2e.test_tmux import Terminal
from tests.hostile import assert_terminal_safe
from tests.test_terminal_safety import hostile_db, row_counts

pytestmark = [
    pytest.mark.e2e,
    needs_tmux,
]


@pytest.fixture
def terminals():
    started: list[Terminal] = []
    yield started
    for terminal in started:
        terminal.stop()


def start(tmp_path: Path, terminals: list[Terminal], name: str, *args: str) -> Terminal:
    workdir = tmp_path / name
    workdir.mkdir()
    terminal = Terminal(workdir, [str(NEWSMARK), *args])
    terminals.append(terminal)
    terminal.start()
    return terminal


def assert_pane_clean(terminal: Terminal) -> str:
    """The pane's title is still tmux's default (the host name: an OSC 0 from data would
    have set it to "pwned") and its text holds no raw escape; returns the pane's text."""
    assert terminal.value("#{pane_title}") == terminal.value("#{host}")
    screen = terminal.screen()
    assert_terminal_safe(screen, "the pane")
    return screen


def test_status_annotate_and_review_leave_the_terminal_alone(tmp_path: Path, terminals: list[Terminal]) -> None:
    db = tmp_path / "hostile.db"
    hostile_db(db)
    before = row_counts(db)

    status = start(tmp_path, terminals, "status", "--db", str(db), "status")
    wait_until(status.exit_status, "status to exit", context=status.screen)
    assert status.exit_status() == "0", status.screen()
    screen = assert_pane_clean(status)
    assert "t\\x1b]0;pwned\\x07" in screen and "[link=http://evil]x[/link]" in screen

    annotate = start(tmp_path, terminals, "annotate", "--db", str(db), "annotate", "--annotator", "e2e")
    annotate.wait_for("Proposition:")
    annotate.wait_for("Title red\\x1b[31mX")
    annotate.show("a")  # a label on the hostile story's first article
    wait_until(lambda: row_counts(db)["labels"] > before["labels"], "the label to be saved", context=annotate.screen)
    screen = assert_pane_clean(annotate)
    assert "st\\x1b]0;pwned\\x07\\u202ex" in screen
    annotate.show("q")
    assert wait_until(annotate.exit_status, "annotate to exit", context=annotate.screen) == "0"

    review = start(tmp_path, terminals, "review", "--db", str(db), "review", "--annotator", "lead",
                   "--story", "us-taliban-isisk")
    review.wait_for("reviewer lead")
    review.wait_for("t\\x1b]0;pwned\\x07")  # a teammate's name in the labels table
    assert_pane_clean(review)
    review.show("q")
    assert wait_until(review.exit_status, "review to exit", context=review.screen) == "0"
    assert row_counts(db)["labels"] == before["labels"] + 1
