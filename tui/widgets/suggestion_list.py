"""A pane's suggested matches for the claim under the cursor: the sentences of the story's
other articles that may make the same claim, best first, with their scores. One is
selected (J / K); L links it into the claim's cluster. Built as `rich.text.Text` from
plain strings (sentences are article text, outlet names untrusted: never markup)."""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.text import Text
from textual.widgets import Static

from newsmark.tui.text import display_inline

VISIBLE_SUGGESTIONS = 3  # lines of suggestions shown at once (around the selected one)
NAME_WIDTH = 16  # characters of the article's name on a suggestion's line


@dataclass
class SuggestionItem:
    """One suggested sentence, with the name to show for its article."""

    article_id: str
    start: int
    end: int
    text: str
    score: float
    name: str  # outlet (or "article 3" in blind mode)
    blind_name: str  # what to show in blind mode
    linked: bool = False  # already a claim of this annotator in the same cluster


@dataclass
class SuggestionState:
    """The suggestions computed for one claim, and which one is selected."""

    claim_id: str
    items: list[SuggestionItem] = field(default_factory=list)
    selected: int = 0
    note: str | None = None  # how the search fell short ("searched 400 of 2,864 articles in 10 s")

    @property
    def current(self) -> SuggestionItem | None:
        """The selected suggestion, or None when there are none."""
        if not self.items:
            return None
        return self.items[max(0, min(self.selected, len(self.items) - 1))]

    def step(self, delta: int) -> None:
        """Select the next / previous suggestion (wrapping)."""
        if self.items:
            self.selected = (self.selected + delta) % len(self.items)


def render_suggestions(state: SuggestionState | None, width: int, blind: bool, keys: str = "J/K select · L link") -> Text:
    """The panel's content: a heading, then one line per suggestion (the selected one marked)."""
    out = Text(no_wrap=True, overflow="ellipsis")
    if state is None:
        out.append("finding matches in the other articles…", style="dim italic")
        return out
    if not state.items:
        if state.note:
            out.append(f"no matching sentence ({display_inline(state.note)})", style="dim italic")
        else:
            out.append("no matching sentence in the story's other articles", style="dim italic")
        return out
    count = len(state.items)
    heading = Text(f"match {state.selected + 1}/{count} · {keys}", style="dim", end="")
    if state.note:
        heading.append(f" · {display_inline(state.note)}", style="yellow")
    heading.truncate(max(width, 10), overflow="ellipsis")
    out.append_text(heading)
    first = max(0, min(state.selected - VISIBLE_SUGGESTIONS // 2, count - VISIBLE_SUGGESTIONS))
    for index in range(first, min(count, first + VISIBLE_SUGGESTIONS)):
        item = state.items[index]
        is_current = index == state.selected
        line = Text(no_wrap=True, overflow="ellipsis", end="")
        line.append("▶ " if is_current else "  ", style="bold yellow")
        line.append(f"{item.score:.2f} ", style="bold" if is_current else "dim")
        line.append(_short(item.blind_name if blind else item.name), style="italic")
        if item.linked:
            line.append(" ⛓ linked", style="green")
        line.append(": ", style="dim")
        line.append(display_inline(item.text), style="bold" if is_current else "")
        line.truncate(max(width, 10), overflow="ellipsis")
        out.append("\n")
        out.append_text(line)
    return out


class SuggestionList(Static):
    """The suggestions panel of one pane (shown while the cursor is on a claim)."""

    DEFAULT_CSS = """
    SuggestionList { height: auto; max-height: 4; }
    """


def _short(name: str, width: int = NAME_WIDTH) -> str:
    """An article's name cut to `width` characters (the sentence matters more)."""
    name = display_inline(name)
    return name if len(name) <= width else name[: width - 1] + "…"
