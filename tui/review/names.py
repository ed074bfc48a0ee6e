"""How annotators are named on the review screen: their names, or in blind mode
"annotator 1", "annotator 2"... ("#1", "#2" in a narrow table) in the story's (sorted) order, so the same person keeps
the same number and colour across the story's articles."""

from __future__ import annotations

from newsmark.schema.sanitize import for_terminal


# Table cells show at most this many characters of a name: names stored before names were
# checked may be hundreds of characters long and would push every label off the screen.
TABLE_NAME_WIDTH = 24


def display_name(annotators: list[str], name: str, blind: bool, width: int | None = None) -> str:
    """The name to show for an annotator of the story (cut to `width` with "…"). Names
    come from the database (an old version or a teammate's file may have stored anything):
    shown by `for_terminal`."""
    if not blind:
        shown = for_terminal(name)
        return shown if width is None or len(shown) <= width else shown[: width - 1] + "…"
    number = str(annotators.index(name) + 1) if name in annotators else "?"
    shown = f"annotator {number}"
    return shown if width is None or len(shown) <= width else f"#{number}"
