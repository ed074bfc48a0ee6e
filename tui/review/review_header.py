"""ReviewHeader: the story, its proposition, where we are, and adjudication progress."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from newsmark.schema.sanitize import for_terminal
from newsmark.tui.review.data import ReviewState


def header_text(state: ReviewState, reviewer: str, blind: bool) -> Text:
    """Three lines: story, position and what this article still needs decided; proposition;
    then the story's progress under the gold policy. Lines are cut with
    "…", never wrapped, so a long title cannot push the progress line off the header."""
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append("Review ", style="bold")
    text.append(for_terminal(state.story.title or state.story.id), style="bold")
    text.append(f"  (story {state.story_index + 1}/{state.story_count}", style="dim")
    count = len(state.article_ids)
    text.append(f", article {state.index + 1 if count else 0}/{count})", style="dim")
    review = state.review
    if review is not None and review.undecided:
        fields = [for_terminal(f) + (" ≠" if f in review.disagreements else "") for f in review.undecided]
        text.append("  to decide: " + ", ".join(fields), style="bold #ffd54f")
    elif review is not None and review.labels:
        text.append("  ✓ decided", style="bold #69f0ae")
    text.append("\n")
    text.append(for_terminal(state.story.proposition) if state.story.proposition else "(no proposition)", style="italic")
    text.append("\n")
    progress = state.progress
    text.append(f"to decide {progress.to_decide} of {progress.labelled} labelled", style="bold")
    text.append(f" ({progress.policy})")
    text.append(f"  ·  disagreements adjudicated {progress.done}/{progress.with_disagreement}")
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
