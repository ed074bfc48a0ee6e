"""ReviewHeader: the story, its proposition, where we are, and adjudication progress."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from newsmark.schema.sanitize import for_terminal
from newsmark.tui.review.data import ReviewState


def header_text(state: ReviewState, reviewer: str, blind: bool) -> Text:
    """Three lines: story and position; proposition; then progress. Lines are cut with
    "…", never wrapped, so a long title cannot push the progress line off the header."""
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append("Review ", style="bold")
    text.append(for_terminal(state.story.title or state.story.id), style="bold")
    text.append(f"  (story {state.story_index + 1}/{state.story_count}", style="dim")
    count = len(state.article_ids)
    text.append(f", article {state.index + 1 if count else 0}/{count})", style="dim")
    if state.review is not None:
        mark = "  ✓ adjudicated" if state.review.disagreements and state.review.adjudicated else ""
        if state.review.disagreements and not mark:
            text.append("  disagreement: " + ", ".join(map(for_terminal, state.review.disagreements)), style="bold #ffd54f")
        text.append(mark, style="bold #69f0ae")
    text.append("\n")
    text.append(for_terminal(state.story.proposition) if state.story.proposition else "(no proposition)", style="italic")
    text.append("\n")
    progress = state.progress
    text.append(f"adjudicated {progress.done} / {progress.with_disagreement} with disagreement", style="bold")
    text.append("  ·  reviewer ")
    text.append(for_terminal(reviewer))
    text.append("  ·  blind " + ("on" if blind else "off"))
    return text


class ReviewHeader(Static):
    """The top lines of the review screen."""

    DEFAULT_CSS = """
    ReviewHeader { text-wrap: nowrap; text-overflow: ellipsis; }
    """

    def show(self, state: ReviewState, reviewer: str, blind: bool) -> None:
        """Render the header for a review state."""
        self.update(header_text(state, reviewer, blind))
