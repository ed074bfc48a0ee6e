"""The FNC-1 score against the challenge's scorer, case by case and on the published
label distribution of the competition test split."""

from __future__ import annotations

import pytest

from newsmark.analysis.fnc1 import fnc1_score


@pytest.mark.parametrize("reference,label,points", [
    ("agree", "agree", 1.0),        # right and related: 0.25 + 0.50 + 0.25
    ("agree", "discuss", 0.25),     # both related, wrong stance
    ("agree", "unrelated", 0.0),
    ("unrelated", "unrelated", 0.25),
    ("unrelated", "agree", 0.0),
    ("discuss", "nonsense", 0.0),
])
def test_one_pair(reference, label, points):
    result = fnc1_score([(reference, label)])
    assert result.score == points
    assert result.max_score == (0.25 if reference == "unrelated" else 1.0)


def test_the_competition_test_split_perfectly_labelled():
    # The split's labels: 18,349 unrelated, 4,464 discuss, 1,903 agree, 697 disagree.
    counts = {"unrelated": 18349, "discuss": 4464, "agree": 1903, "disagree": 697}
    pairs = [(label, label) for label, n in counts.items() for _ in range(n)]
    result = fnc1_score(pairs)
    # The challenge's scorer reports the maximum as 11,651.25 for this split.
    assert result.max_score == 11651.25 and result.score == 11651.25 and result.relative == 1.0
    everything_unrelated = fnc1_score((label, "unrelated") for label, _ in pairs)
    assert everything_unrelated.score == 18349 * 0.25
    assert round(everything_unrelated.relative, 4) == 0.3937


def test_no_pairs():
    assert fnc1_score([]).relative is None
