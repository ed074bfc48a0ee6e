"""HelpModal: the review screen's keys."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

KEYS = [
    ("] / [", "next / previous article of the story"),
    ("N / P", "next / previous article with a field that still needs a decision"),
    ("n / p", "next / previous story"),
    ("arrows, tab", "move in a table, switch between labels and claims"),
    ("a", "accept as gold every agreed value and claim of this article (one undo)"),
    ("A", "the same for every article of the story"),
    ("enter (labels)", "take the value under the cursor as gold (asks for a reason)"),
    ("enter (gold row), o", "type another gold value for the field under the cursor"),
    ("enter (claims), G", "accept the claim under the cursor as a gold claim (✓ gold, ≈ agreed)"),
    ("delete", "remove the gold value (labels) or gold claim (claims) under the cursor"),
    ("b", "blind: hide annotator names (annotator 1, 2, ...)"),
    ("r", "reload (see teammates' latest labels on a shared database)"),
    ("u / ctrl+y", "undo / redo your latest change (refused if a teammate changed it since)"),
    ("? / q", "this help / quit"),
]


class HelpModal(ModalScreen[None]):
    """A table of keys; any of escape, q or ? closes it."""

    BINDINGS = [Binding("escape,q,question_mark", "close", "Close")]

    def compose(self) -> ComposeResult:
        table = Table(show_header=False, box=None, padding=(0, 2))
        table.add_column(style="bold")
        table.add_column()
        for keys, meaning in KEYS:
            table.add_row(Text(keys), Text(meaning))
        with Vertical(id="help-dialog"):
            yield Static(Text("Review keys", style="bold"))
            yield Static(table)
            yield Static(Text("Gold row: a reviewer's value in bold, a value agreed under the gold policy in "
                              "italics; accepting never overwrites a reviewer's value. ⚑: flagged. Gold never "
                              "changes anyone's own labels or claims.", style="dim"))

    def action_close(self) -> None:
        self.dismiss(None)
