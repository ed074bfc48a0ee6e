"""Sentence spans, claim-match suggestions, and the story overview's matrices."""

from __future__ import annotations

import pytest

from newsmark.analysis.clusters import suggest_for_claim, suggest_matches
from newsmark.analysis.overview import best_shared_label, claim_matrix, shared_matrix
from newsmark.analysis.sentences import sentence_at, split_sentences
from tests.test_align import UNRELATED, make_copy, read_seed
from tests.test_grouping import add_articles


def test_split_sentences_spans_are_trimmed_and_in_order():
    text = ("Headline without a stop\n\n  A former U.S. official said so.Following this, talks began. "
            "Then more talks followed in Doha.  \n")
    spans = split_sentences(text)
    assert [text[s:e] for s, e in spans] == [
        "Headline without a stop", "A former U.S. official said so.", "Following this, talks began.",
        "Then more talks followed in Doha.",
    ]
    assert all(a_end <= b_start for (_, a_end), (b_start, _) in zip(spans, spans[1:]))
    assert split_sentences("") == [] and split_sentences(" \n\n ") == []
    assert sentence_at(text, text.index("talks")) == spans[2]
    assert sentence_at(text, len(text)) is None


def test_split_sentences_handles_repeated_sentences_and_code_points():
    text = "🙂 Same sentence here. Same sentence here.\nSame sentence here."
    spans = split_sentences(text)
    assert [text[s:e] for s, e in spans] == ["🙂 Same sentence here.", "Same sentence here.", "Same sentence here."]
    assert len({s for s, _ in spans}) == 3


def test_split_sentences_on_a_huge_single_line_is_fast():
    import time

    line = "The minister said the talks would resume. " * 50_000  # ~2 MB, one line
    started = time.perf_counter()
    spans = split_sentences(line)
    assert time.perf_counter() - started < 5
    assert len(spans) == 50_000 and line[spans[-1][0] : spans[-1][1]] == "The minister said the talks would resume."


@pytest.fixture(scope="module")
def real() -> str:
    return read_seed("003")


def claim_span(text: str, words: str) -> tuple[int, int]:
    """The sentence of `text` that contains `words`."""
    return next((s, e) for s, e in split_sentences(text) if words in text[s:e])


def test_suggestions_find_the_copied_sentence_first(real):
    copy, _ = make_copy(real)
    start, end = claim_span(real, "menace to its rule")
    claim = real[start:end]
    found = suggest_matches(claim, [("copy", copy), ("fete", UNRELATED)], limit=3)
    assert found and found[0].article_id == "copy"
    best = found[0]
    assert copy[best.start : best.end] == best.text
    assert "menace to its rule" in best.text
    assert best.score > 0.8
    assert all(s.article_id != "fete" for s in found)
    assert [s.score for s in found] == sorted((s.score for s in found), reverse=True)


def test_suggestion_limits(real):
    copy, _ = make_copy(real)
    claim = "The Taliban sees ISIS-K as a menace to its rule and has launched a series of assaults on the group"
    assert len(suggest_matches(claim, [("a", copy), ("b", real)], limit=1)) == 1
    capped = suggest_matches(claim, [("a", copy), ("b", real)], limit=5, per_article=1)
    assert sorted(s.article_id for s in capped) == ["a", "b"]
    assert suggest_matches("", [("a", copy)]) == []
    assert suggest_matches(claim, []) == []
    assert suggest_matches(claim, [("fete", UNRELATED)]) == []


def _story(store, real):
    copy, _ = make_copy(real)
    ids = add_articles(store, "s", [("Original", real), ("Copy", copy), ("Fete", UNRELATED)])
    return ids, copy


def test_suggest_for_a_stored_claim_looks_in_the_other_articles(store, real):
    (original, copy_id, _), copy = _story(store, real)
    claim, _ = store.add_claim(original, "alice", *claim_span(real, "menace to its rule"))
    found = suggest_for_claim(store, claim.id)
    assert found[0].article_id == copy_id and all(s.article_id != original for s in found)
    assert suggest_for_claim(store, "nope") == []


def test_overview_matrices(store, real):
    (original, copy_id, fete), copy = _story(store, real)
    shared = shared_matrix(store, "s")
    assert [a.id for a in shared.articles] == [original, copy_id, fete]
    assert shared.matrix[1][0] > 0.9 and shared.matrix[2][0] == 0.0
    assert best_shared_label(shared, 1).endswith("% shared with Original")
    assert best_shared_label(shared, 2) is None

    for who, grade in (("alice", "2"), ("bob", "4")):
        store.set_label(copy_id, who, "stance", "agree")
        store.set_label(copy_id, who, "credibility", grade)
    first, _ = store.add_claim(original, "alice", *claim_span(real, "menace to its rule"), {"credibility": "3"})
    match = suggest_matches(first.exact, [(copy_id, copy)], limit=1)[0]
    second, _ = store.add_claim(copy_id, "alice", match.start, match.end)
    cluster, _ = store.link_claims(first.id, second.id, "alice")
    store.set_cluster_label(cluster, "alice", "Taliban fight ISIS-K")
    claims = claim_matrix(store, "s", "alice")
    assert [(a.stance, a.credibility) for a in claims.articles] == [(None, None), ("agree", "2"), (None, None)]
    [row] = claims.clusters
    assert row.label == "Taliban fight ISIS-K" and row.n_articles == 2
    assert row.cells == {original: [(first.id, "3")], copy_id: [(second.id, None)]}
    assert claim_matrix(store, "s", "bob").clusters == []
