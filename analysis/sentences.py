"""Sentence spans of an article's text, for the sentence cursor and claim suggestions.

pysbd does the sentence splitting, line by line: scraped articles put headlines, menu
items and captions on lines of their own without final punctuation, and a line break is
always a boundary. pysbd (clean=False) returns the line's pieces in order (minus some
surrounding blanks), so spans are recovered by finding each piece at or after the end of
the previous one, which stays right when a sentence repeats (pysbd's own char_span
searches from the start and does not). A glued pair such as "official.Following"
is split as well. Spans are code points, end exclusive, whitespace trimmed.

This is the one sentence splitter of newsmark: the annotate screen's sentence cursor
(tui/text.py) and claim suggestions use the same spans. pysbd is super-linear in the
length of what it is given, so a line over PYSBD_CHUNK characters is first cut at likely
sentence ends and handed to pysbd in chunks; a line over LONG_LINE characters, or any
text over PYSBD_TEXT_LIMIT characters (a 5 MB file would take minutes), is cut by the
fast regex alone. pysbd is imported on first use (it compiles many regexes).
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict

from newsmark.analysis.budget import UNBOUNDED, Budget

LONG_LINE = 10_000  # pysbd is super-linear: longer lines are cut by the fast regex instead
PYSBD_CHUNK = 2_000  # longer lines reach pysbd in chunks of about this size
PYSBD_TEXT_LIMIT = 1_000_000  # longer texts skip pysbd entirely
CACHE_SIZE = 256  # texts whose sentences are kept
_GLUED = re.compile(r"(?<=[a-z][.!?])(?=[A-Z][a-z])")
_LIKELY_END = re.compile(r"(?<=[.!?\u2026])[\"'\u201d\u2019)\]]*\s+(?=[\"'\u201c\u2018(\[]?[A-Z0-9])")
_segmenter = None
_segmenter_lock = threading.Lock()


def _segment(line: str) -> list[str]:
    global _segmenter
    with _segmenter_lock:
        if _segmenter is None:
            import pysbd

            _segmenter = pysbd.Segmenter(language="en", clean=False)
    return _segmenter.segment(line)


_cache: OrderedDict[str, tuple[tuple[int, int], ...]] = OrderedDict()
_cache_lock = threading.Lock()


def split_sentences(text: str, budget: Budget = UNBOUNDED) -> list[tuple[int, int]]:
    """The sentences of a text as (start, end) code-point spans, in order (cached).
    Raises `Cancelled` between lines and pysbd chunks when the budget is cancelled (a
    long text takes seconds)."""
    with _cache_lock:
        found = _cache.get(text)
        if found is not None:
            _cache.move_to_end(text)
            return list(found)
    spans = _split(text, budget)
    with _cache_lock:
        _cache[text] = spans
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return list(spans)


def _split(text: str, budget: Budget) -> tuple[tuple[int, int], ...]:
    spans: list[tuple[int, int]] = []
    line_start = 0
    use_pysbd = len(text) <= PYSBD_TEXT_LIMIT
    for line in text.split("\n"):
        budget.check()
        if len(line) > LONG_LINE or (not use_pysbd and line.strip()):
            from newsmark.analysis.align import units  # fast regex sentence ends

            for start, end in units(line):
                _add(text, line_start + start, line_start + end, spans)
        elif len(line) > PYSBD_CHUNK:
            # Regroup likely sentence ends into chunks of at most PYSBD_CHUNK for pysbd.
            chunk_start = None
            chunk_end = 0
            for start, end in _likely_sentences(line):
                if chunk_start is None:
                    chunk_start = start
                elif end - chunk_start > PYSBD_CHUNK:
                    budget.check()
                    _pysbd_pieces(text, line, line_start, chunk_start, chunk_end, spans)
                    chunk_start = start
                chunk_end = end
            if chunk_start is not None:
                _pysbd_pieces(text, line, line_start, chunk_start, chunk_end, spans)
        elif line.strip():
            _pysbd_pieces(text, line, line_start, 0, len(line), spans)
        line_start += len(line) + 1
    return tuple(spans)


def _likely_sentences(line: str) -> list[tuple[int, int]]:
    """Rough sentence spans of a line by the regex (where pysbd may then cut further)."""
    out: list[tuple[int, int]] = []
    start = 0
    for match in _LIKELY_END.finditer(line):
        out.append((start, match.start()))
        start = match.end()
    out.append((start, len(line)))
    return out


def _pysbd_pieces(text: str, line: str, line_start: int, first: int, last: int, spans: list[tuple[int, int]]) -> None:
    """pysbd's sentences of line[first:last], as spans of `text` (the line starts at line_start)."""
    chunk = line[first:last]
    cursor = 0
    for piece in _segment(chunk):
        piece = piece.strip()
        found = chunk.find(piece, cursor) if piece else -1
        if found < 0:  # pysbd altered the text: keep the rest of the chunk whole
            if piece:
                _add_glued(text, line_start + first + cursor, line_start + last, spans)
                return
            continue
        _add_glued(text, line_start + first + found, line_start + first + found + len(piece), spans)
        cursor = found + len(piece)


def _add_glued(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    cuts = [start] + [m.start() for m in _GLUED.finditer(text, start, end)] + [end]
    for first, last in zip(cuts, cuts[1:]):
        _add(text, first, last, spans)


def _add(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start < end:
        spans.append((start, end))


def sentence_at(text: str, offset: int) -> tuple[int, int] | None:
    """The sentence span containing (or, between sentences, following) an offset."""
    for start, end in split_sentences(text):
        if offset < end:
            return start, end
    return None
