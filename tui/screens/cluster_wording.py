"""The cluster wording editor: a small modal with one line of text, the short canonical
wording of a claim cluster (what the overview and exports call the claim). Enter saves,
escape cancels."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from newsmark.tui.text import display_inline

WORDING_MAX = 200  # characters; the store keeps a cluster's first wording at 200 as well


class ClusterWordingScreen(ModalScreen[str | None]):
    """Edit a cluster's canonical wording; dismisses with the new wording, or None."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", priority=True)]

    def __init__(self, wording: str, claim_text: str) -> None:
        super().__init__()
        self.wording = wording
        self.claim_text = claim_text

    def compose(self) -> ComposeResult:
        with Vertical(id="wording-box"):
            yield Static(Text("Wording of this claim's cluster", style="bold"))
            quoted = Text("claim: ", style="dim")
            quoted.append(display_inline(self.claim_text), style="italic")
            yield Static(quoted, id="wording-claim")
            yield Input(display_inline(self.wording), id="wording-input", max_length=WORDING_MAX,
                        placeholder="a short canonical wording of the claim")
            yield Static(Text("enter save · esc cancel", style="dim"))

    def on_mount(self) -> None:
        """Start typing at the end of the wording."""
        area = self.query_one(Input)
        area.focus()
        area.cursor_position = len(area.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Save the wording as typed (an empty one changes nothing)."""
        event.stop()
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        """Leave the wording as it was."""
        self.dismiss(None)
