"""Grouping measured on a labelled corpus: FNC-1's 904 article bodies, grouped from their
text alone, against the groups of bodies related to a common headline (see
bench/bench_grouping.py for the truth and the figures)."""

from __future__ import annotations

from bench.bench_grouping import fnc1_bodies_and_stories, two_step
from newsmark.analysis.grouping import candidate_pairs, group_texts, pairwise_scores


def test_fnc1_bodies_group_with_pairwise_precision_and_recall(shared_data):
    bodies, stories = fnc1_bodies_and_stories(shared_data / "fnc1")
    assert len(bodies) == 904
    found = group_texts(bodies)
    assert sorted(b for group in found for b in group) == sorted(b for b, _, _ in bodies)
    precision, recall = pairwise_scores(found, stories)
    assert precision >= 0.95, precision
    assert recall >= 0.80, recall


def test_fnc1_candidate_pairs_hold_most_pairs_that_belong_together(shared_data):
    bodies, stories = fnc1_bodies_and_stories(shared_data / "fnc1")
    story_of = {body: k for k, story in enumerate(stories) for body in story}
    pairs = candidate_pairs([(title, text) for _, title, text in bodies])
    together = sum(len(story) * (len(story) - 1) // 2 for story in stories)
    found = sum(story_of[bodies[i][0]] == story_of[bodies[j][0]] for i, j, _ in pairs)
    # Far fewer pairs than all 408,156, yet most of those that belong together.
    assert len(pairs) < 0.05 * len(bodies) * (len(bodies) - 1) // 2
    assert found >= 0.8 * together, (found, together)


def test_fnc1_in_two_imports_the_second_half_joins_the_first_halfs_stories(shared_data):
    bodies, stories = fnc1_bodies_and_stories(shared_data / "fnc1")
    found = two_step(bodies)
    assert sorted(b for group in found for b in group) == sorted(b for b, _, _ in bodies)
    precision, recall = pairwise_scores(found, stories)
    assert precision >= 0.95, precision
    assert recall >= 0.80, recall
