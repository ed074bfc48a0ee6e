"""Small modals of the story list: edit a story's title and proposition, confirm a merge,
and the list's keys. Every text shown is untrusted and drawn as plain text."""

from __future__ import annotations

from collections.abc import Iterable

from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from newsmark.schema.sanitize import for_terminal
from newsmark.tui.text import display_inline

_BOX_CSS = """
{name} {{
    align: center middle;
}}
{name} > Vertical {{
    width: 80%;
    max-width: 100;
    height: auto;
    border: round $accent;
    background: $surface;
    padding: 0 1;
}}
"""


class StoryEditModal(ModalScreen[tuple[str, str] | None]):
    """Edit a story's title and proposition; dismisses with both (enter in either box), or
    None (escape)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", priority=True)]
    DEFAULT_CSS = _BOX_CSS.format(name="StoryEditModal")

    def __init__(self, story_id: str, title: str, proposition: str) -> None:
        super().__init__()
        self.story_id = story_id
        self.title_text = title
        self.proposition = proposition

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(f"Story {for_terminal(self.story_id)}", style="bold"))
            yield Static(Text("title", style="dim"))
            yield Input(display_inline(self.title_text), id="story-edit-title", placeholder="the story's title")
            yield Static(Text("proposition (what stance is taken towards)", style="dim"))
            yield Input(display_inline(self.proposition), id="story-edit-proposition",
                        placeholder="a statement annotators agree or disagree with")
            yield Static(Text("enter save · tab next box · esc cancel", style="dim"))

    def on_mount(self) -> None:
        self.query_one("#story-edit-title", Input).focus()

    @on(Input.Submitted)
    def _save(self) -> None:
        self.dismiss((self.query_one("#story-edit-title", Input).value,
                      self.query_one("#story-edit-proposition", Input).value))

    def action_cancel(self) -> None:
        """Leave the story as it was."""
        self.dismiss(None)


class ConfirmModal(ModalScreen[bool]):
    """A question answered with y / enter (True) or n / escape (False)."""

    BINDINGS = [
        Binding("y,enter", "answer(True)", "Yes", priority=True),
        Binding("n,escape", "answer(False)", "No", priority=True),
    ]
    DEFAULT_CSS = _BOX_CSS.format(name="ConfirmModal")

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(for_terminal(self.question, multiline=True)), id="confirm-question")
            yield Static(Text("y / enter: yes · n / escape: no", style="dim"))

    def action_answer(self, yes: bool) -> None:
        """Dismiss with the answer."""
        self.dismiss(yes)


class KeysModal(ModalScreen[None]):
    """A table of keys and what they do; escape, q or ? closes it."""

    BINDINGS = [Binding("escape,q,question_mark", "close", "Close")]
    DEFAULT_CSS = _BOX_CSS.format(name="KeysModal")

    def __init__(self, heading: str, keys: Iterable[tuple[str, str]]) -> None:
        super().__init__()
        self.heading = heading
        self.keys = list(keys)

    def compose(self) -> ComposeResult:
        table = Table(show_header=False, box=None, padding=(0, 2))
        table.add_column(style="bold")
        table.add_column()
        for keys, meaning in self.keys:
            table.add_row(Text(keys), Text(meaning))
        with Vertical():
            yield Static(Text(self.heading, style="bold"))
            yield Static(table, id="keys-table")

    def action_close(self) -> None:
        """Close the help."""
        self.dismiss(None)
