"""Claim suggestions that find paraphrases (issue 13, point 5): the known pairs of
tests/fixtures/paraphrases.jsonl (bench/make_paraphrases.py says where each came from)
and the issue's own example. Big stories: tests/test_big_story.py."""

from __future__ import annotations

import pytest

from bench.bench_paraphrase import BEFORE, SUGGESTIONS, found, load, recall
from newsmark.analysis.clusters import search_matches
from newsmark.analysis.wording import names, terms

# recall@8 of the pairs: 0.810 with the fuzzy scores alone (before), 0.929 measured with
# the term overlap (bench/bench_paraphrase.py); a change that loses more than two pairs fails.
RECALL_FLOOR = 0.88
# The issue's example: the adjacent pane said this, and it was not among the suggestions.
DNA = "without DNA from a next of kin, they won't hand over Kim Jong Nam's body"
DNA_CLAIM = "Malaysia police will not release the body of the half-brother of North Korea's leader"


@pytest.fixture(scope="module")
def known():
    return load()


def test_terms_fold_inflections_synonyms_numbers_and_typography():
    assert terms("The officials deliberated over cooperation") == terms("An official's deliberation on cooperating")
    assert terms("Police are seeking seven suspects") == terms("police sought 7 suspect")
    assert terms("won’t hand over the body") == terms("will not release the bodies")
    assert terms("a menace to its rule") & terms("a direct threat to its rule") == {"threat", "rule"}
    assert terms("the of and") == frozenset()
    assert terms("München Straße") == {"münchen", "strasse"}
    assert names("Selangor Police Chief Abdul Samah Mat said so") >= {"abdul", "samah", "mat"}


@pytest.mark.parametrize("scope", ["article", "story"])
def test_recall_of_known_paraphrase_pairs_stays_above_the_floor(known, scope):
    pairs, stories = known
    assert len(pairs) >= 30 and {pair.story for pair in pairs} == {"seeds", "kim-jong-nam"}
    value, missed = recall(pairs, stories, scope)
    assert value >= RECALL_FLOOR, [pair.source for pair in missed]
    before, _ = recall(pairs, stories, scope, BEFORE)  # characters alone, as before issue 13
    assert value > before


def test_suggestions_are_distinct_and_ranked(known):
    pairs, stories = known
    for pair in pairs[::5]:
        candidates = [(key, text) for key, text in stories[pair.story].items() if key != pair.claim_article]
        suggestions = search_matches(pair.claim, candidates, SUGGESTIONS, per_article=2).suggestions
        assert len({(s.article_id, s.text) for s in suggestions}) == len(suggestions)
        assert len({(s.article_id, s.start) for s in suggestions}) == len(suggestions)
        assert [s.score for s in suggestions] == sorted((s.score for s in suggestions), reverse=True)


def test_the_issues_dna_sentence_is_suggested_for_its_claim(known):
    pairs, stories = known
    pair = next(p for p in pairs if DNA in p.partner and DNA_CLAIM in p.claim)
    assert found(pair, stories, "story")
