"""The proposition prompt: asked when a stance key is pressed in a story without a
proposition (a stance is toward a proposition). One line; enter saves, escape cancels."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, Static

from newsmark.tui.screens.cluster_wording import ClusterWordingScreen
from newsmark.tui.text import display_inline

PROPOSITION_MAX = 500  # characters


class PropositionScreen(ClusterWordingScreen):
    """Ask for a story's proposition; dismisses with it, or None (escape or empty).

    The cluster wording editor's behaviour (one line, enter saves, escape cancels) with
    its own wording."""

    def __init__(self, story_title: str, field_name: str) -> None:
        super().__init__("", "")
        self.story_title = story_title
        self.field_name = field_name

    def compose(self) -> ComposeResult:
        with Vertical(id="wording-box"):
            yield Static(Text("This story has no proposition yet", style="bold"))
            about = Text("story: ", style="dim")
            about.append(display_inline(self.story_title), style="italic")
            yield Static(about)
            yield Static(Text(f"{display_inline(self.field_name)} is judged toward it: write the claim the "
                              "articles agree or disagree with.", style="dim"))
            yield Input("", id="proposition-input", max_length=PROPOSITION_MAX,
                        placeholder="e.g. The US carried out a strike on ISIS-K in Kabul")
            yield Static(Text("enter save and set the label · esc cancel", style="dim"))
