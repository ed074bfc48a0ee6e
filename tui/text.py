"""Article text for the screen: sentence spans, word steps, line wrapping, display safety.

Sentences come from analysis/sentences.py, the one splitter newsmark has (Punkt, line by
line, with guards for very long lines and texts), so the sentence cursor, claims and
claim suggestions agree on what a sentence is.

All offsets are Unicode code points into the stored text, end exclusive, the same
coordinates claims are stored in (W3C TextPositionSelector).
"""

from __future__ import annotations

import bisect
import re
import threading
from collections import OrderedDict
from collections.abc import Sequence

from rich.cells import cell_len

from newsmark.analysis.budget import UNBOUNDED, Budget
from newsmark.analysis.sentences import split_sentences  # noqa: F401  (re-exported: the one splitter)
from newsmark.schema.sanitize import for_terminal

_NON_SPACE = re.compile(r"\S+")
# C0/C1 controls (other than tab and newline, handled by the renderer) shown as U+FFFD,
# one for one so offsets stay valid. Stored text is sanitised at import already; this
# guards against databases filled by other means.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def display_safe(value: str | None) -> str:
    """A string fit to hand to the terminal: control characters become U+FFFD (1:1)."""
    if not value:
        return ""
    return _CONTROL.sub("\ufffd", value)


def display_inline(value: str | None) -> str:
    """A one-line display string: newlines and tabs become spaces, any other control or
    format character is written out visibly (`for_terminal`, the one rule)."""
    return for_terminal((value or "").replace("\n", " ").replace("\t", " "))


def clip_words(value: str | None, width: int) -> str:
    """`display_inline(value)` in at most `width` characters: when it is longer, cut at the
    last space that keeps at least half of the width (else mid-word), with "…" at the end,
    so a wording reads "...situation in…", never "...situation in Afghani"."""
    text = display_inline(value)
    if len(text) <= width:
        return text
    if width <= 1:
        return "…"[:width]
    cut = text.rfind(" ", 0, width)  # the character at `cut` is the space dropped for "…"
    if cut < width // 2:
        cut = width - 1
    return text[:cut].rstrip() + "…"


class _SentenceCache:
    """Sentence spans per article id (an article's text never changes: its id is its hash)."""

    def __init__(self, size: int = 64) -> None:
        self._items: OrderedDict[str, list[tuple[int, int]]] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, article_id: str, text: str, budget: Budget = UNBOUNDED) -> list[tuple[int, int]]:
        with self._lock:
            found = self._items.get(article_id)
            if found is not None:
                self._items.move_to_end(article_id)
                return found
        spans = split_sentences(text, budget)
        with self._lock:
            self._items[article_id] = spans
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return spans


_CACHE = _SentenceCache()


def sentences_for(article_id: str, text: str, budget: Budget = UNBOUNDED) -> list[tuple[int, int]]:
    """Sentence spans of an article, computed once per article id (a 1 MB article takes
    seconds: raises `Cancelled` when the budget is cancelled)."""
    return _CACHE.get(article_id, text, budget)


def sentence_at(spans: Sequence[tuple[int, int]], position: int) -> int | None:
    """Index of the sentence containing position (or the next one after it), or None."""
    if not spans:
        return None
    index = bisect.bisect_right(spans, (position, float("inf"))) - 1
    if index >= 0 and spans[index][0] <= position < spans[index][1]:
        return index
    index += 1
    return index if index < len(spans) else len(spans) - 1


# --- word steps for refining a span ------------------------------------------------------


def next_word_end(text: str, position: int) -> int:
    """The end of the first word ending after position (position itself if none)."""
    match = _NON_SPACE.search(text, position if position < len(text) and not text[position].isspace() else position)
    if match is None:
        return position
    if match.end() == position:  # position sits at a word end: take the following word
        match = _NON_SPACE.search(text, position + 1)
        return position if match is None else match.end()
    return match.end()


def previous_word_end(text: str, position: int, floor: int) -> int:
    """The end of the word before the one ending at position, not below floor+1."""
    index = position - 1
    while index > floor and not text[index].isspace():  # back over the last word
        index -= 1
    while index > floor and text[index].isspace():  # back over the gap
        index -= 1
    return max(index + 1, floor + 1) if index > floor else position


def next_word_start(text: str, position: int, ceiling: int) -> int:
    """The start of the word after the one starting at position, below ceiling."""
    index = position
    while index < ceiling and not text[index].isspace():
        index += 1
    while index < ceiling and text[index].isspace():
        index += 1
    return index if index < ceiling else position


def previous_word_start(text: str, position: int) -> int:
    """The start of the word before the one starting at position."""
    index = position - 1
    while index >= 0 and text[index].isspace():
        index -= 1
    while index >= 0 and not text[index].isspace():
        index -= 1
    return max(index + 1, 0) if position > 0 else position


# --- wrapping ----------------------------------------------------------------------------

_TOKEN = re.compile(r"\S+\s*|\s+")


def wrap_lines(text: str, width: int) -> list[tuple[int, int]]:
    """Visual lines of text at a width, as (start, end) offsets (end excludes the newline).

    Greedy word wrap by terminal cells; a word wider than the line is cut by characters.
    Trailing spaces stay on the line they follow (they may overflow; they are invisible).
    """
    width = max(4, width)
    lines: list[tuple[int, int]] = []
    offset = 0
    for paragraph in text.split("\n"):
        if not paragraph:
            lines.append((offset, offset))
            offset += 1
            continue
        ascii_only = paragraph.isascii()
        line_start = 0
        used = 0
        for match in _TOKEN.finditer(paragraph):
            token = match.group()
            word = token.rstrip()
            word_cells = len(word) if ascii_only else cell_len(word)
            if used and used + word_cells > width:
                lines.append((offset + line_start, offset + match.start()))
                line_start = match.start()
                used = 0
            if word_cells > width:
                # Cut an over-long word into line-sized pieces.
                position = match.start()
                stop = match.start() + len(word)
                while position < stop:
                    cells = 0
                    cut = position
                    while cut < stop:
                        char_cells = 1 if ascii_only else cell_len(paragraph[cut])
                        if cells + char_cells > width - used and cut > position:
                            break
                        cells += char_cells
                        cut += 1
                    if cut < stop:
                        lines.append((offset + line_start, offset + cut))
                        line_start = cut
                        used = 0
                    else:
                        used += cells
                    position = cut
                used += len(token) - len(word)
                continue
            used += word_cells + (len(token) - len(word))
        lines.append((offset + line_start, offset + len(paragraph)))
        offset += len(paragraph) + 1
    return lines


def line_index(lines: Sequence[tuple[int, int]], position: int) -> int:
    """Index of the visual line holding position."""
    index = bisect.bisect_right(lines, (position, float("inf"))) - 1
    return max(0, index)
