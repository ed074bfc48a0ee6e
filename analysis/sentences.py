"""Sentence spans of an article's text, for the sentence cursor and claim suggestions.

pysbd does the sentence splitting, line by line: scraped articles put headlines, menu
items and captions on lines of their own without final punctuation, and a line break is
always a boundary. pysbd (clean=False) returns the line's pieces in order (minus some
surrounding blanks), so spans are recovered by finding each piece at or after the end of
the previous one, which stays right when a sentence repeats (pysbd's own char_span
searches from the start and does not). A glued pair such as "official.Following"
is split as well. Spans are code points, end exclusive, whitespace trimmed.
"""

from __future__ import annotations

import re
from functools import lru_cache

import pysbd

LONG_LINE = 10_000  # pysbd is super-linear: longer lines are cut by the fast regex instead
_GLUED = re.compile(r"(?<=[a-z][.!?])(?=[A-Z][a-z])")
_segmenter: pysbd.Segmenter | None = None


def _segment(line: str) -> list[str]:
    global _segmenter
    if _segmenter is None:
        _segmenter = pysbd.Segmenter(language="en", clean=False)
    return _segmenter.segment(line)


def split_sentences(text: str) -> list[tuple[int, int]]:
    """The sentences of a text as (start, end) code-point spans, in order (cached)."""
    return list(_split_cached(text))


@lru_cache(maxsize=256)
def _split_cached(text: str) -> tuple[tuple[int, int], ...]:
    spans: list[tuple[int, int]] = []
    line_start = 0
    for line in text.split("\n"):
        if len(line) > LONG_LINE:
            from analysis.align import units  # fast regex sentence ends

            for start, end in units(line):
                _add(text, line_start + start, line_start + end, spans)
        elif line.strip():
            cursor = 0
            for piece in _segment(line):
                piece = piece.strip()
                found = line.find(piece, cursor) if piece else -1
                if found < 0:  # pysbd altered the text: keep the rest of the line whole
                    _add_glued(text, line_start + cursor, line_start + len(line), spans)
                    break
                _add_glued(text, line_start + found, line_start + found + len(piece), spans)
                cursor = found + len(piece)
        line_start += len(line) + 1
    return tuple(spans)


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
