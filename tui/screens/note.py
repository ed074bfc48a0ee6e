"""The note editor: a modal text area; ctrl+s saves, escape cancels."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static, TextArea

from newsmark.schema.sanitize import for_terminal
from newsmark.tui.text import display_inline


class NoteScreen(ModalScreen[str | None]):
    """Edit an annotator's note on an article; dismisses with the text, or None."""

    BINDINGS = [
        Binding("ctrl+s", "save", "Save note", priority=True),
        Binding("escape", "cancel", "Cancel", priority=True),
    ]

    def __init__(self, note: str, article_title: str) -> None:
        super().__init__()
        self.note = note
        self.article_title = article_title

    def compose(self) -> ComposeResult:
        with Vertical(id="note-box"):
            title = Text("Note on: ", style="bold")
            title.append(display_inline(self.article_title), style="italic")
            yield Static(title, id="note-title")
            yield TextArea(for_terminal(self.note, multiline=True), id="note-text", soft_wrap=True, show_line_numbers=False)
            yield Static(Text("ctrl+s save · esc cancel · an empty note deletes it", style="dim"))

    def on_mount(self) -> None:
        """Start typing at the end of the note."""
        area = self.query_one(TextArea)
        area.focus()
        area.move_cursor(area.document.end)

    def action_save(self) -> None:
        """Save the note as typed."""
        self.dismiss(self.query_one(TextArea).text)

    def action_cancel(self) -> None:
        """Leave the note as it was."""
        self.dismiss(None)
