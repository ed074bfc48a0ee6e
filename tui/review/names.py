"""How annotators are named on the review screen: their names, or in blind mode
"annotator 1", "annotator 2"... in the story's (sorted) order, so the same person keeps
the same number and colour across the story's articles."""

from __future__ import annotations

from newsmark.schema.sanitize import for_terminal


def display_name(annotators: list[str], name: str, blind: bool) -> str:
    """The name to show for an annotator of the story. Names come from the database (an
    old version or a teammate's file may have stored anything): shown by `for_terminal`."""
    if not blind:
        return for_terminal(name)
    if name in annotators:
        return f"annotator {annotators.index(name) + 1}"
    return "annotator ?"
