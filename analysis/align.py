"""Text alignment between two articles: the passages of B that repeat, or closely
paraphrase, passages of A (word-swapped and reordered copies included).

How: both texts are cut into sentence-like units (a fast regex, not the sentence splitter,
which alone would take most of the 50 ms budget on a 20,000-character article). Every unit
of B is scored against every unit of A with rapidfuzz's `cdist` (the larger of the
character-level Indel ratio, which survives swapped words, and the token-sort ratio,
which survives reordered words). Each unit of B keeps its best unit of A when that scores
at least THRESHOLD; runs of matches that are consecutive in both texts merge into one
passage. All offsets are Python string indices, i.e. Unicode code points, end exclusive.

Units shorter than MIN_WORDS words (menu items, bylines, captions such as "Getty
Images") are never matched on their own and do not count towards the texts' size:
two sites' navigation menus are not shared reporting.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import chain

import numpy as np
from rapidfuzz import fuzz, process
from rapidfuzz.utils import default_process

from newsmark.analysis.budget import UNBOUNDED, Budget

THRESHOLD = 62.0  # best-unit score (0-100) from which two units count as the same passage
MIN_WORDS = 4  # shorter units are not matched on their own
MAX_WORDS = 60  # longer units (text without punctuation) are cut into windows of this size
# Short units agree by chance more easily ("The head of U.S." vs "The father had two
# sons." scores 63), so a pair whose shorter unit has fewer than SHORT_CHARS characters
# needs SHORT_PENALTY more points per missing character.
SHORT_CHARS = 80
SHORT_PENALTY = 0.5
# One rapidfuzz call compares at most this many unit pairs (a few ms), so a cancelled
# computation stops between calls even on a 5 MB article.
CDIST_CELLS = 4_000
UNITS_PER_CHECK = 500  # prepare() checks for cancellation every this many units

# A sentence ends at . ! or ? (optionally followed by closing quotes or brackets) when
# whitespace and then something other than a lowercase letter follows ("U.S. official"
# stays whole); at every line break; and where scraped text glued two sentences together
# ("official.Following").
_BOUNDARY = re.compile(
    r"(?:(?<=[.!?])|(?<=[.!?][\"'\u201d\u2019)\]]))[ \t]+(?=[^a-z\s])"
    r"|[ \t]*\n\s*"
    r"|(?<=[a-z][.!?])(?=[A-Z][a-z])"
)
_WORD = re.compile(r"\w+")


@dataclass(frozen=True, slots=True)
class SharedPassage:
    """A passage of B that repeats or paraphrases a passage of A (code points, end exclusive).

    `score` is 0..1: 1 for a verbatim copy, about 0.65 for a heavily word-spun one.
    """

    a_start: int
    a_end: int
    b_start: int
    b_end: int
    score: float

    def as_dict(self) -> dict[str, int | float]:
        """The passage as `compare --json` writes it."""
        return {
            "a_start": self.a_start, "a_end": self.a_end,
            "b_start": self.b_start, "b_end": self.b_end, "score": self.score,
        }


@dataclass(frozen=True, slots=True)
class Alignment:
    """What two texts share.

    `similarity` is symmetric (0..1): the score-weighted share of both texts' content
    covered by shared passages. `a_shared` / `b_shared` are the plain fractions of A's and
    of B's content that lies in shared passages (what "68% shared with …" reports).
    """

    similarity: float
    shared: list[SharedPassage]
    a_shared: float
    b_shared: float


@dataclass(frozen=True, slots=True)
class PreparedText:
    """A text cut into units, ready to align; prepare a text once to align it many times."""

    text: str
    spans: list[tuple[int, int]]  # content units (>= MIN_WORDS words), in text order
    keys: list[str]  # each unit lowercased, punctuation folded to spaces
    key_lengths: np.ndarray  # len() of each key
    content_chars: int  # total length of the content units


def units(text: str) -> list[tuple[int, int]]:
    """Sentence-like units of a text as (start, end) spans, whitespace trimmed, in order."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        _add_unit(text, start, match.start(), spans)
        start = match.end()
    _add_unit(text, start, len(text), spans)
    return spans


def _add_unit(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start >= end:
        return
    words = list(_WORD.finditer(text, start, end))
    if len(words) <= MAX_WORDS:
        spans.append((start, end))
        return
    # No sentence punctuation for a long stretch: cut it into windows of whole words.
    for first in range(0, len(words), MAX_WORDS):
        chunk = words[first : first + MAX_WORDS]
        chunk_end = end if first + MAX_WORDS >= len(words) else chunk[-1].end()
        spans.append((start if first == 0 else chunk[0].start(), chunk_end))


def prepare(text: str, budget: Budget = UNBOUNDED) -> PreparedText:
    """Cut a text into the units alignment compares (cheap; reuse it across pairs).
    Raises `Cancelled` when the budget is cancelled."""
    spans: list[tuple[int, int]] = []
    keys: list[str] = []
    for count, (start, end) in enumerate(units(text)):
        if count % UNITS_PER_CHECK == UNITS_PER_CHECK - 1:
            budget.check()
        key = default_process(text[start:end])
        if len(key.split()) >= MIN_WORDS:
            spans.append((start, end))
            keys.append(key)
    lengths = np.fromiter((len(key) for key in keys), dtype=np.int32, count=len(keys))
    return PreparedText(text, spans, keys, lengths, sum(end - start for start, end in spans))


def _as_prepared(text: str | PreparedText, budget: Budget = UNBOUNDED) -> PreparedText:
    return text if isinstance(text, PreparedText) else prepare(text, budget)


def unit_scores(a: PreparedText, b: PreparedText, budget: Budget = UNBOUNDED) -> np.ndarray:
    """The len(a.spans) x len(b.spans) matrix of unit scores, 0-100 (below THRESHOLD as 0).
    Computed in blocks of rows of A (CDIST_CELLS pairs each); raises `Cancelled` between
    blocks when the budget is cancelled."""
    if not a.keys or not b.keys:
        return np.zeros((len(a.keys), len(b.keys)), dtype=np.uint8)
    cutoff = int(THRESHOLD)
    kwargs = {"processor": None, "score_cutoff": cutoff, "dtype": np.uint8, "workers": 1}
    scores = np.empty((len(a.keys), len(b.keys)), dtype=np.uint8)
    rows = max(1, CDIST_CELLS // len(b.keys))
    for first in range(0, len(a.keys), rows):
        budget.check()
        block = a.keys[first : first + rows]
        part = process.cdist(block, b.keys, scorer=fuzz.ratio, **kwargs)
        np.maximum(part, process.cdist(block, b.keys, scorer=fuzz.token_sort_ratio, **kwargs), out=part)
        scores[first : first + len(block)] = part
    shorter = np.minimum.outer(a.key_lengths, b.key_lengths)
    required = THRESHOLD + SHORT_PENALTY * np.clip(SHORT_CHARS - shorter, 0, None)
    scores[scores < required] = 0
    return scores


def align(a: str | PreparedText, b: str | PreparedText, budget: Budget = UNBOUNDED) -> Alignment:
    """The passages of B that repeat or closely paraphrase passages of A, and how similar
    the two texts are overall. Accepts texts or `prepare`d texts; raises `Cancelled` when
    the budget is cancelled."""
    a, b = _as_prepared(a, budget), _as_prepared(b, budget)
    return assemble(a, b, unit_scores(a, b, budget), THRESHOLD)


def assemble(a: PreparedText, b: PreparedText, scores: np.ndarray, threshold: float) -> Alignment:
    """An Alignment from a units-of-A x units-of-B score matrix (0-100): each unit of B
    keeps its best unit of A when that scores at least `threshold`, and runs of matches
    consecutive in both texts merge into passages. (The semantic mode reuses this.)"""
    if scores.size == 0:
        return Alignment(0.0, [], 0.0, 0.0)
    scores = np.where(scores >= threshold, scores, 0).astype(np.float64)
    best = scores.max(axis=0)  # for each unit of B, its best score against A
    matches: list[tuple[int, int, float]] = []
    for j in np.flatnonzero(best >= threshold).tolist():
        i = int(scores[:, j].argmax())
        # Text repeated in A (a headline shown twice, a teaser): on a tie, prefer the unit
        # that continues the previous match, so a copied run stays one passage.
        if matches and matches[-1][1] == j - 1:
            following = matches[-1][0] + 1
            if following < scores.shape[0] and scores[following, j] == best[j]:
                i = following
        matches.append((i, j, float(best[j])))

    passages: list[SharedPassage] = []
    run: list[tuple[int, int, float]] = []
    for match in matches:
        if run and not (match[0] == run[-1][0] + 1 and match[1] == run[-1][1] + 1):
            passages.append(_passage(a, b, run))
            run = []
        run.append(match)
    if run:
        passages.append(_passage(a, b, run))

    # A unit counts as shared when some unit of the other text matches it, whether or
    # not it ended up in a passage (text repeated on one side matches more than once).
    a_best = scores.max(axis=1)
    a_sizes = np.fromiter((end - start for start, end in a.spans), np.int64, len(a.spans))
    b_sizes = np.fromiter((end - start for start, end in b.spans), np.int64, len(b.spans))
    a_chars = int(a_sizes[a_best > 0].sum())
    b_chars = int(b_sizes[best > 0].sum())
    weighted = float((a_sizes * a_best).sum() + (b_sizes * best).sum())
    total = a.content_chars + b.content_chars
    return Alignment(
        similarity=round(weighted / 100 / total, 4) if total else 0.0,
        shared=passages,
        a_shared=round(a_chars / a.content_chars, 4) if a.content_chars else 0.0,
        b_shared=round(b_chars / b.content_chars, 4) if b.content_chars else 0.0,
    )


def _passage(a: PreparedText, b: PreparedText, run: list[tuple[int, int, float]]) -> SharedPassage:
    weight = 0
    total = 0.0
    for i, j, score in run:
        size = (a.spans[i][1] - a.spans[i][0]) + (b.spans[j][1] - b.spans[j][0])
        weight += size
        total += size * score
    return SharedPassage(
        a_start=a.spans[run[0][0]][0], a_end=a.spans[run[-1][0]][1],
        b_start=b.spans[run[0][1]][0], b_end=b.spans[run[-1][1]][1],
        score=round(total / weight / 100, 4),
    )


def shared_fraction(a: str | PreparedText, b: str | PreparedText) -> float:
    """The fraction (0..1) of A's text that B shares, for the label bar's
    "68% shared with Capital Cities" (A is the article in the pane, B the other one)."""
    return align(a, b).a_shared


@dataclass(frozen=True, slots=True)
class PairMatrix:
    """Article x article shared fractions, possibly partial: matrix[i][j] is the fraction
    of text i that text j shares (1.0 on the diagonal), None for a pair not compared
    (the time budget ran out first). `compared` of `total` pairs were aligned."""

    matrix: list[list[float | None]]
    compared: int
    total: int

    @property
    def complete(self) -> bool:
        """Every pair was compared."""
        return self.compared == self.total


def bounded_story_matrix(
    texts: Sequence[str | PreparedText],
    budget: Budget = UNBOUNDED,
    progress: Callable[[PairMatrix], None] | None = None,
    progress_every: float = 0.5,
    first: Sequence[tuple[int, int]] = (),
) -> PairMatrix:
    """Align every pair of texts until done or the budget's time is spent (then the pairs
    not reached are None): the pairs `first` ((i, j), i < j) first, in their order, then
    the others row by row. Raises `Cancelled` when the budget is cancelled. `progress`,
    if given, receives a snapshot every `progress_every` seconds."""
    prepared = [_as_prepared(t, budget) for t in texts]
    n = len(prepared)
    matrix: list[list[float | None]] = [[1.0 if i == j else None for j in range(n)] for i in range(n)]
    total = n * (n - 1) // 2
    compared = 0
    reported = time.monotonic()
    early = list(dict.fromkeys((i, j) for i, j in first if 0 <= i < j < n))
    chosen = set(early)
    for i, j in chain(early, ((i, j) for i in range(n) for j in range(i + 1, n) if (i, j) not in chosen)):
        if budget.spent:
            return PairMatrix(matrix, compared, total)
        result = align(prepared[i], prepared[j], budget)
        matrix[i][j] = result.a_shared
        matrix[j][i] = result.b_shared
        compared += 1
        if progress is not None and time.monotonic() - reported >= progress_every:
            reported = time.monotonic()
            progress(PairMatrix([row[:] for row in matrix], compared, total))
    return PairMatrix(matrix, compared, total)


def story_matrix(texts: Sequence[str | PreparedText]) -> list[list[float]]:
    """Article x article shared fractions: row i, column j is the fraction of text i that
    text j shares (1.0 on the diagonal). Each pair is aligned once (no bound)."""
    return bounded_story_matrix(texts).matrix  # type: ignore[return-value]  # complete: no None


def most_shared(texts: Sequence[str | PreparedText]) -> list[tuple[int, float] | None]:
    """For each text, the index of the other text sharing the largest fraction of it and
    that fraction; None where it shares nothing (or is alone)."""
    matrix = story_matrix(texts)
    out: list[tuple[int, float] | None] = []
    for i, row in enumerate(matrix):
        others = [(value, -j) for j, value in enumerate(row) if j != i and value > 0]
        if not others:
            out.append(None)
        else:
            value, neg_j = max(others)
            out.append((-neg_j, value))
    return out
