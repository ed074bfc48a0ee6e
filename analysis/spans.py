"""Claim span agreement between annotators (spans in Unicode code points, end exclusive).

For a pair of annotators a and b, over the articles both annotated (both have an
annotation row: they labelled, noted or marked something there), each one's claim spans
are compared with the other's:

- exact-match F1: a span matches when the other annotator marked exactly the same
  start and end. With m matches, F1 = 2m / (|A| + |B|) (a claim's id is unique per
  annotator and span, so matches pair off one to one);
- overlap F1: a span is matched when it shares at least one code point with some span
  of the other annotator. Recall = share of a's spans that overlap one of b's, precision
  = share of b's spans that overlap one of a's, F1 = their harmonic mean.

Both are symmetric in a and b and None when neither marked a span. Only annotators who
marked at least one claim (in scope) are paired: someone who never marks claims is not
doing that task. Krippendorff's unitized α (u-α) is not computed: we could not validate
an implementation against a published worked example, so we leave it out rather than
report an unchecked figure.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from newsmark.schema.store import Store

Span = tuple[int, int]


@dataclass
class SpanPairAgreement:
    """Span agreement of annotators a and b over the articles both annotated."""

    a: str
    b: str
    articles: int
    a_spans: int
    b_spans: int
    exact: int
    a_overlapping: int
    b_overlapping: int

    @property
    def exact_f1(self) -> float | None:
        """F1 of identical spans."""
        total = self.a_spans + self.b_spans
        return None if total == 0 else 2 * self.exact / total

    @property
    def overlap_f1(self) -> float | None:
        """F1 of spans overlapping one of the other annotator's."""
        if self.a_spans + self.b_spans == 0:
            return None
        recall = self.a_overlapping / self.a_spans if self.a_spans else 0.0
        precision = self.b_overlapping / self.b_spans if self.b_spans else 0.0
        if recall + precision == 0:
            return 0.0
        return 2 * precision * recall / (precision + recall)

    def to_json(self, digits: int = 4) -> dict[str, Any]:
        """The pair as a JSON object (floats rounded to `digits`)."""

        def rnd(value: float | None) -> float | None:
            return None if value is None else round(value, digits)

        return {
            "a": self.a, "b": self.b, "articles": self.articles,
            "a_spans": self.a_spans, "b_spans": self.b_spans, "exact_matches": self.exact,
            "exact_f1": rnd(self.exact_f1), "overlap_f1": rnd(self.overlap_f1),
        }


def pair_counts(a_spans: Iterable[Span], b_spans: Iterable[Span]) -> tuple[int, int, int, int, int]:
    """For two annotators' spans in one article: (|A|, |B|, exact matches, A's spans
    overlapping some B span, B's spans overlapping some A span)."""
    a_set, b_set = set(a_spans), set(b_spans)

    def overlapping(mine: set[Span], theirs: set[Span]) -> int:
        return sum(1 for s, e in mine if any(s < te and ts < e for ts, te in theirs))

    return len(a_set), len(b_set), len(a_set & b_set), overlapping(a_set, b_set), overlapping(b_set, a_set)


def span_f1(a_spans: Iterable[Span], b_spans: Iterable[Span]) -> tuple[float | None, float | None]:
    """(exact-match F1, overlap F1) of two annotators' spans in one article."""
    na, nb, exact, a_hit, b_hit = pair_counts(a_spans, b_spans)
    pair = SpanPairAgreement("a", "b", 1, na, nb, exact, a_hit, b_hit)
    return pair.exact_f1, pair.overlap_f1


def span_agreement(store: Store, story: str | None = None) -> tuple[list[str], list[SpanPairAgreement]]:
    """Claim annotators (in scope) and the span agreement of every pair of them.

    "articles" of a pair counts the articles both annotated in which at least one of the
    two marked a claim: the articles that enter its F1 figures.
    """
    rows = store.claim_rows(story)
    annotators = sorted({row[1] for row in rows})
    if len(annotators) < 2:
        return annotators, []
    coder_of = {name: index for index, name in enumerate(annotators)}
    units: dict[str, int] = {}
    art = np.fromiter((units.setdefault(row[0], len(units)) for row in rows), dtype=np.int64, count=len(rows))
    ann = np.fromiter((coder_of[row[1]] for row in rows), dtype=np.int64, count=len(rows))
    start = np.fromiter((row[2] for row in rows), dtype=np.int64, count=len(rows))
    end = np.fromiter((row[3] for row in rows), dtype=np.int64, count=len(rows))
    coders, n_units = len(annotators), len(units)
    # Who annotated each article that holds a claim (claims imply their own annotator's row).
    annotated = np.zeros((n_units, coders), dtype=bool)
    annotated[art, ann] = True
    for article_id, name in store.claim_article_annotators(story):
        if name in coder_of and article_id in units:
            annotated[units[article_id], coder_of[name]] = True
    has_claim = np.zeros((n_units, coders), dtype=bool)
    has_claim[art, ann] = True
    # Every ordered pair of claims (i, j) in the same article by different annotators.
    order = np.argsort(art, kind="stable")
    art, ann, start, end = art[order], ann[order], start[order], end[order]
    first = np.searchsorted(art, art, side="left")
    last = np.searchsorted(art, art, side="right")
    per_claim = last - first
    i = np.repeat(np.arange(len(art)), per_claim)
    j = np.repeat(first, per_claim) + (np.arange(per_claim.sum()) - np.repeat(np.cumsum(per_claim) - per_claim, per_claim))
    other = ann[i] != ann[j]
    i, j = i[other], j[other]
    same = (start[i] == start[j]) & (end[i] == end[j])
    overlaps = (start[i] < end[j]) & (start[j] < end[i])
    exact_with = np.zeros((len(art), coders), dtype=bool)  # claim i has an identical span by coder
    overlap_with = np.zeros((len(art), coders), dtype=bool)  # claim i overlaps a span by coder
    exact_with[i[same], ann[j[same]]] = True
    overlap_with[i[overlaps], ann[j[overlaps]]] = True
    pairs = []
    for x, y in itertools.combinations(range(coders), 2):
        mine_x, mine_y = ann == x, ann == y
        shared = annotated[:, x] & annotated[:, y] & (has_claim[:, x] | has_claim[:, y])
        pairs.append(SpanPairAgreement(
            a=annotators[x], b=annotators[y], articles=int(shared.sum()),
            a_spans=int((mine_x & annotated[art, y]).sum()), b_spans=int((mine_y & annotated[art, x]).sum()),
            exact=int((mine_x & exact_with[:, y]).sum()),
            a_overlapping=int((mine_x & overlap_with[:, y]).sum()),
            b_overlapping=int((mine_y & overlap_with[:, x]).sum()),
        ))
    return annotators, pairs
