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

from schema.store import Store

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
    """Claim annotators (in scope) and the span agreement of every pair of them."""
    scope, params = "", ()
    if story is not None:
        scope, params = " AND c.article_id IN (SELECT id FROM articles WHERE story_id = ?)", (story,)
    conn = store.conn
    annotators = [r[0] for r in conn.execute(f"SELECT DISTINCT c.annotator FROM claims c WHERE 1{scope} ORDER BY 1", params)]
    if len(annotators) < 2:
        return annotators, []
    # Ordered pairs (x, y): x's spans in articles y annotated too.
    spans = _by_pair(conn.execute(
        "SELECT c.annotator, o.annotator, count(*) FROM claims c "
        "JOIN annotations o ON o.article_id = c.article_id AND o.annotator <> c.annotator "
        f"WHERE 1{scope} GROUP BY 1, 2", params))
    exact = _by_pair(conn.execute(
        "SELECT c.annotator, d.annotator, count(*) FROM claims c "
        'JOIN claims d ON d.article_id = c.article_id AND d.start = c.start AND d."end" = c."end" '
        f"AND d.annotator <> c.annotator WHERE 1{scope} GROUP BY 1, 2", params))
    overlapping = _by_pair(conn.execute(
        "SELECT c.annotator, o.annotator, count(*) FROM claims c "
        "JOIN annotations o ON o.article_id = c.article_id AND o.annotator <> c.annotator "
        "WHERE EXISTS (SELECT 1 FROM claims d WHERE d.article_id = c.article_id "
        'AND d.annotator = o.annotator AND d.start < c."end" AND c.start < d."end")'
        f"{scope} GROUP BY 1, 2", params))
    marks = ",".join("?" * len(annotators))
    articles_scope = "" if story is None else " AND x.article_id IN (SELECT id FROM articles WHERE story_id = ?)"
    articles = _by_pair(conn.execute(
        "SELECT x.annotator, y.annotator, count(*) FROM annotations x "
        "JOIN annotations y ON y.article_id = x.article_id AND x.annotator < y.annotator "
        f"WHERE x.annotator IN ({marks}) AND y.annotator IN ({marks}){articles_scope} GROUP BY 1, 2",
        (*annotators, *annotators, *params)))
    pairs = [
        SpanPairAgreement(
            a=a, b=b, articles=articles.get((a, b), 0),
            a_spans=spans.get((a, b), 0), b_spans=spans.get((b, a), 0), exact=exact.get((a, b), 0),
            a_overlapping=overlapping.get((a, b), 0), b_overlapping=overlapping.get((b, a), 0),
        )
        for a, b in itertools.combinations(annotators, 2)
    ]
    return annotators, pairs


def _by_pair(rows: Iterable[tuple[str, str, int]]) -> dict[tuple[str, str], int]:
    return {(x, y): count for x, y, count in rows}
