"""An article's text with a sentence cursor, claim highlights, a span being refined,
search matches and passages shared with other articles, drawn line by line.

The text is wrapped once per article and width into (start, end) offsets; `render_line`
then builds only the visible lines, as plain `Segment`s (never markup), with styles laid
over the offsets. A cursor move changes two integers and repaints the visible lines, so
it costs the same for a 5 MB article as for a short one.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.events import Click, Resize
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from newsmark.tui.text import display_safe, line_index, sentence_at, wrap_lines


class ArticleText(ScrollView, can_focus=True, inherit_bindings=False):
    """The scrolling text of one article (the focusable part of a pane)."""

    BINDINGS = [
        Binding("pagedown,space", "page_down", "Page down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("home", "scroll_home", "Top", show=False),
        Binding("end", "scroll_end", "Bottom", show=False),
        Binding("down", "scroll_down", "Scroll down", show=False),
        Binding("up", "scroll_up", "Scroll up", show=False),
    ]

    COMPONENT_CLASSES = {
        "article-text--claim",
        "article-text--linked",
        "article-text--cursor",
        "article-text--cursor-claim",
        "article-text--span",
        "article-text--match",
        "article-text--shared",
    }

    DEFAULT_CSS = """
    ArticleText { scrollbar-gutter: stable; }
    """

    class SentenceClicked(Message):
        """The user clicked a sentence: move the cursor there."""

        def __init__(self, widget: ArticleText, index: int) -> None:
            super().__init__()
            self.widget = widget
            self.index = index

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._text = ""
        self._display = ""  # the text as drawn: tabs as spaces, controls as U+FFFD (1:1)
        self._lines: list[tuple[int, int]] = []
        self._wrap_width = 0
        self.sentences: list[tuple[int, int]] = []
        self.cursor: int | None = None
        self._claims: list[tuple[int, int, bool]] = []  # (start, end, linked) by start
        self.span: tuple[int, int] | None = None
        self._matches: list[tuple[int, int]] = []
        self._shared: list[tuple[int, int]] = []  # passages shared with other panes (h)
        self._masks: list[str] = []

    # --- content --------------------------------------------------------------------

    @property
    def text(self) -> str:
        """The article's text."""
        return self._text

    def set_article(self, text: str, sentences: list[tuple[int, int]]) -> None:
        """Show a new article, scrolled to the top, with no cursor."""
        self._text = text
        self._display = self._displayed(text)
        self.sentences = sentences
        self.cursor = None
        self.span = None
        self._matches = []
        self._shared = []
        self._wrap_width = 0
        self._rewrap()
        self.scroll_to(0, 0, animate=False, immediate=True)
        self.refresh()

    def _displayed(self, text: str) -> str:
        shown = display_safe(text).replace("\t", " ")
        if self._masks:
            pattern = re.compile("|".join(re.escape(m) for m in self._masks), re.IGNORECASE)
            shown = pattern.sub(lambda m: "█" * len(m.group()), shown)
        return shown

    def set_masks(self, masks: list[str]) -> None:
        """Black out these strings (blind mode: the outlet and byline inside the text),
        one block per character so offsets do not move."""
        masks = sorted({m for m in masks if len(m.strip()) >= 3}, key=len, reverse=True)
        if masks == self._masks:
            return
        self._masks = masks
        self._display = self._displayed(self._text)
        self._wrap_width = 0
        self._rewrap()
        self.refresh()

    def set_claims(self, claims: Sequence[tuple[int, int, bool]]) -> None:
        """Highlight these (start, end, linked) spans."""
        claims = sorted(claims)
        if claims != self._claims:  # a label keystroke must not repaint the text
            self._claims = claims
            self.refresh()

    def set_matches(self, matches: list[tuple[int, int]]) -> None:
        """Highlight search matches (sorted spans)."""
        if matches != self._matches:
            self._matches = matches
            self.refresh()

    def set_shared(self, spans: Sequence[tuple[int, int]]) -> None:
        """Highlight passages this article shares with others (code-point spans)."""
        spans = _merged(spans)
        if spans != self._shared:
            self._shared = spans
            self.refresh()

    @property
    def shared(self) -> list[tuple[int, int]]:
        """The shared passages highlighted (sorted, merged)."""
        return list(self._shared)

    def set_span(self, span: tuple[int, int] | None) -> None:
        """Show the span being refined (None: none)."""
        self.span = span
        if span is not None:
            self._scroll_to_offsets(*span)
        self.refresh()

    def move_cursor(self, index: int | None) -> None:
        """Put the sentence cursor on a sentence (None: no cursor) and scroll it into view.

        Without a scroll only the lines of the old and new sentence are repainted, so a
        cursor step costs a few lines whatever the article's length."""
        old = self.cursor_span()
        self.cursor = index
        top = int(self.scroll_y)
        if index is not None and self.sentences:
            self._scroll_to_offsets(*self.sentences[index])
        if int(self.scroll_y) != top or not self._lines:
            self.refresh()
            return
        for span in (old, self.cursor_span()):
            if span is not None:
                first = line_index(self._lines, span[0])
                last = line_index(self._lines, max(span[0], span[1] - 1))
                self.refresh_lines(first, last - first + 1)

    def cursor_span(self) -> tuple[int, int] | None:
        """The (start, end) of the sentence under the cursor."""
        if self.cursor is None or not self.sentences:
            return None
        return self.sentences[self.cursor]

    def first_visible_sentence(self) -> int | None:
        """The first sentence that starts on or after the top visible line."""
        if not self.sentences or not self._lines:
            return None
        top = min(int(self.scroll_y), len(self._lines) - 1)
        return sentence_at(self.sentences, self._lines[top][0])

    def _scroll_to_offsets(self, start: int, end: int) -> None:
        if not self._lines:
            return
        first = line_index(self._lines, start)
        last = line_index(self._lines, max(start, end - 1))
        height = max(1, self.scrollable_content_region.height)
        top = int(self.scroll_y)
        if first < top:
            self.scroll_to(y=first, animate=False, immediate=True)
        elif last >= top + height:
            self.scroll_to(y=max(first if last - first >= height else last - height + 1, 0), animate=False, immediate=True)

    # --- layout -----------------------------------------------------------------------

    def _rewrap(self) -> None:
        width = self.scrollable_content_region.width or self.size.width
        if width <= 0:
            return
        if width == self._wrap_width:
            return
        self._wrap_width = width
        self._lines = wrap_lines(self._display, width)
        self.virtual_size = Size(width, len(self._lines))

    def on_resize(self, event: Resize) -> None:
        """Wrap again when the width changes, keeping the cursor in view."""
        self._rewrap()
        span = self.span or self.cursor_span()
        if span is not None:
            self._scroll_to_offsets(*span)

    def on_click(self, event: Click) -> None:
        """Clicking a sentence moves the cursor there."""
        if not self._lines or not self.sentences:
            return
        row = event.y + int(self.scroll_y)
        if 0 <= row < len(self._lines):
            start, end = self._lines[row]
            position = min(start + max(event.x, 0), max(start, end - 1))
            index = sentence_at(self.sentences, position)
            if index is not None:
                self.post_message(self.SentenceClicked(self, index))

    # --- drawing ----------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        """One visible line, styled by the spans that cover it."""
        base = self.rich_style
        width = self.scrollable_content_region.width
        row = y + int(self.scroll_y)
        if row >= len(self._lines):
            return Strip.blank(width, base)
        start, end = self._lines[row]
        if end <= start:
            return Strip.blank(width, base)

        layers: list[tuple[int, int, Style]] = []
        if self._shared:
            shared_style = self.get_component_rich_style("article-text--shared", partial=True)
            index = max(0, bisect.bisect_left(self._shared, (start, start)) - 1)
            for shared_start, shared_end in self._shared[index:]:
                if shared_start >= end:
                    break
                if shared_end > start:
                    layers.append((shared_start, shared_end, shared_style))
        claim_style = self.get_component_rich_style("article-text--claim", partial=True)
        linked_style = self.get_component_rich_style("article-text--linked", partial=True)
        for claim_start, claim_end, linked in self._claims:
            if claim_start >= end:
                break
            if claim_end > start:
                layers.append((claim_start, claim_end, linked_style if linked else claim_style))
        if self._matches:
            match_style = self.get_component_rich_style("article-text--match", partial=True)
            index = max(0, bisect.bisect_left(self._matches, (start, start)) - 1)
            for match_start, match_end in self._matches[index:]:
                if match_start >= end:
                    break
                if match_end > start:
                    layers.append((match_start, match_end, match_style))
        cursor = self.cursor_span()
        if cursor is not None and cursor[0] < end and cursor[1] > start:
            on_claim = any(c[0] < cursor[1] and c[1] > cursor[0] for c in self._claims)
            name = "article-text--cursor-claim" if on_claim else "article-text--cursor"
            layers.append((cursor[0], cursor[1], self.get_component_rich_style(name, partial=True)))
        if self.span is not None and self.span[0] < end and self.span[1] > start:
            layers.append((self.span[0], self.span[1], self.get_component_rich_style("article-text--span", partial=True)))

        line = self._display[start:end]
        if not layers:
            segments = [Segment(line, base)]
        else:
            cuts = {start, end}
            for layer_start, layer_end, _ in layers:
                cuts.add(min(max(layer_start, start), end))
                cuts.add(min(max(layer_end, start), end))
            points = sorted(cuts)
            segments = []
            for piece_start, piece_end in zip(points, points[1:]):
                if piece_end <= piece_start:
                    continue
                style = base
                for layer_start, layer_end, layer_style in layers:
                    if layer_start <= piece_start and layer_end >= piece_end:
                        style = style + layer_style
                segments.append(Segment(line[piece_start - start : piece_end - start], style))
        return Strip(segments).adjust_cell_length(width, base)


def _merged(spans: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted spans with overlapping or touching ones joined."""
    out: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if end <= start:
            continue
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out
