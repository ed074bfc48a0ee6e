"""How annotators are named on the review screen: their names, or in blind mode
"annotator 1", "annotator 2"... in the story's (sorted) order, so the same person keeps
the same number and colour across the story's articles."""

from __future__ import annotations


def display_name(annotators: list[str], name: str, blind: bool) -> str:
    """The name to show for an annotator of the story."""
    if not blind:
        return name
    if name in annotators:
        return f"annotator {annotators.index(name) + 1}"
    return "annotator ?"
