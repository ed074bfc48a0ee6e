"""The Fake News Challenge stage 1 (FNC-1) score: the challenge's weighted accuracy of
stance labels against a reference, as its official scorer computes it.

For each (headline, body) pair: +0.25 when the label is right; +0.50 more when it is
right and the pair is related (agree, disagree or discuss); +0.25 when the reference and
the label are both related, whichever they are. So a related pair is worth 1.0 and an
unrelated one 0.25; the relative score divides by what a perfect labelling would get.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

RELATED = frozenset({"agree", "disagree", "discuss"})
UNRELATED = "unrelated"
LABELS = RELATED | {UNRELATED}


@dataclass(frozen=True)
class FNC1Score:
    """The score, the best possible score of the same pairs, and their ratio (None for no pairs)."""

    score: float
    max_score: float
    pairs: int

    @property
    def relative(self) -> float | None:
        """score / max_score, None when there is nothing to score."""
        return self.score / self.max_score if self.max_score else None


def is_fnc1_scale(values: Iterable[str]) -> bool:
    """Whether a field's labels are exactly FNC-1's four (agree, disagree, discuss, unrelated)."""
    return set(values) == LABELS


def fnc1_score(pairs: Iterable[tuple[str, str]]) -> FNC1Score:
    """The FNC-1 score of (reference, label) pairs; labels outside FNC-1's four count as
    wrong and unrelated-to-nothing (they earn nothing)."""
    return fnc1_score_of_counts(Counter(pairs))


def fnc1_score_of_counts(counts: Mapping[tuple[str, str], int]) -> FNC1Score:
    """The FNC-1 score of (reference, label) pairs given as how many times each occurs
    (a confusion matrix), so a large comparison costs one step per cell."""
    score = max_score = 0.0
    total = 0
    for (reference, label), count in counts.items():
        total += count
        related = reference in RELATED
        max_score += (1.0 if related else 0.25) * count
        if reference == label:
            score += (0.75 if related else 0.25) * count
        if related and label in RELATED:
            score += 0.25 * count
    return FNC1Score(score=score, max_score=max_score, pairs=total)
