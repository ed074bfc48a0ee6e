"""analysis.agreement and analysis.spans: the statistics against published worked examples
and against the krippendorff package, missing values, and span F1 on constructed spans."""

from __future__ import annotations

import krippendorff
import numpy as np
import pytest

from newsmark.analysis.agreement import (
    agreement,
    alpha_from_coincidences,
    cohen_kappa,
    krippendorff_alpha,
    read_labels,
)
from newsmark.analysis.spans import pair_counts, span_agreement, span_f1
from newsmark.schema.models import Story
from newsmark.schema.sanitize import article_id_for, text_sha256
from newsmark.schema.store import Store, StoreError

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", 4 coders x 12 units.
K2011 = {
    "A": "1 2 3 3 2 1 4 1 2 . . .",
    "B": "1 2 3 3 2 2 4 1 2 5 . 3",
    "C": ". 3 3 3 2 3 4 2 2 5 1 .",
    "D": "1 2 3 3 2 4 4 1 2 5 1 .",
}


def k2011_counts() -> np.ndarray:
    counts = np.zeros((12, 5), dtype=int)
    for line in K2011.values():
        for unit, value in enumerate(line.split()):
            if value != ".":
                counts[unit, int(value) - 1] += 1
    return counts


def add_articles(store: Store, count: int, story: str = "s1", prefix: str = "Article") -> list[str]:
    """Insert `count` articles into a story; return their ids in order."""
    texts = [f"{prefix} {story} number {i}. It reports something that officials said on Monday." for i in range(count)]
    with store.transaction() as conn:
        store.ensure_story(conn, Story(id=story, title=story, proposition="Something happened."))
        store.insert_articles(conn, [
            (article_id_for(t), story, "Outlet", None, None, None, None, t, text_sha256(t), "{}", None) for t in texts
        ])
    return [article_id_for(t) for t in texts]


def test_krippendorff_2011_nominal_ordinal_interval():
    counts = k2011_counts()
    assert round(krippendorff_alpha(counts, "nominal"), 3) == 0.743
    assert round(krippendorff_alpha(counts, "ordinal"), 3) == 0.815
    assert round(krippendorff_alpha(counts, "interval"), 3) == 0.849


def test_cohen_kappa_of_the_textbook_table():
    assert cohen_kappa(np.array([[20, 5], [10, 15]])) == pytest.approx(0.40, abs=1e-12)


@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval"])
def test_pairwise_alpha_from_coincidences_matches_the_package(level):
    rng = np.random.default_rng(2011)
    for _ in range(100):
        size = int(rng.integers(2, 7))
        n = int(rng.integers(2, 60))
        a = rng.integers(0, size, n)
        b = np.where(rng.random(n) < 0.6, a, rng.integers(0, size, n))
        table = np.bincount(a * size + b, minlength=size * size).reshape(size, size)
        counts = np.zeros((n, size), dtype=int)
        counts[np.arange(n), a] += 1
        counts[np.arange(n), b] += 1
        mine = alpha_from_coincidences(table + table.T, level)
        if len(set(a) | set(b)) < 2:
            assert mine is None
            continue
        expected = krippendorff.alpha(value_counts=counts, value_domain=np.arange(size), level_of_measurement=level)
        assert mine == pytest.approx(expected, abs=1e-12)


def test_alpha_is_none_where_undefined():
    assert krippendorff_alpha(np.zeros((0, 4)), "nominal") is None
    assert krippendorff_alpha(np.array([[1, 0], [0, 1]]), "nominal") is None  # no unit with two values
    assert krippendorff_alpha(np.array([[2, 0], [3, 0]]), "ordinal") is None  # no variation
    assert alpha_from_coincidences(np.array([[4, 0], [0, 0]]), "nominal") is None
    assert cohen_kappa(np.zeros((3, 3))) is None
    assert cohen_kappa(np.array([[7, 0], [0, 0]])) is None  # chance agreement is 1


def test_cannot_be_judged_is_missing_for_alpha_and_kappa_but_counted(store):
    ids = add_articles(store, 4)
    for aid, (a, b) in zip(ids, [("A", "A"), ("B", "C"), ("F", "B"), ("C", "F")]):
        store.set_label(aid, "ann", "reliability", a)
        store.set_label(aid, "bob", "reliability", b)
    report = agreement(store, fields=["reliability"], pair=("ann", "bob"))
    fa = report.fields["reliability"]
    assert fa.units == 2  # the articles where both placed the source on the A-E scale
    assert fa.pairwise[0].n == 2
    assert fa.cannot_judge == {"ann": 1, "bob": 1}
    matrix = report.confusion[0].matrix
    assert report.confusion[0].labels == ["A", "B", "C", "D", "E", "F"]
    assert matrix[5][1] == 1 and matrix[2][5] == 1 and matrix[0][0] == 1 and matrix[1][2] == 1
    # Missing labels fall out of the scale, so the matrix has the four A-E values left.
    labels = read_labels(store, store.scheme.field("reliability"))
    assert sorted(labels.scaled()[labels.scaled() >= 0].tolist()) == [0, 0, 1, 1, 2, 2]


def test_story_scope_and_errors(store):
    first = add_articles(store, 3, "s1")
    second = add_articles(store, 3, "s2")
    for aid in first:
        store.set_label(aid, "ann", "stance", "agree")
        store.set_label(aid, "bob", "stance", "agree")
    for aid, value in zip(second, ["agree", "disagree", "discuss"]):
        store.set_label(aid, "ann", "stance", value)
        store.set_label(aid, "bob", "stance", "agree")
    assert agreement(store, story="s1").fields["stance"].pairwise[0].n == 3
    assert agreement(store, story="s2").fields["stance"].units == 3
    assert agreement(store).fields["stance"].units == 6
    with pytest.raises(StoreError, match="no story 'nope'"):
        agreement(store, story="nope")
    with pytest.raises(StoreError, match="unknown field 'bogus'"):
        agreement(store, fields=["bogus"])
    with pytest.raises(StoreError, match="claim-level field"):
        agreement(store, fields=["checkworthy"])
    with pytest.raises(StoreError, match="no annotator 'zed'"):
        agreement(store, pair=("ann", "zed"))


def test_span_f1_on_constructed_spans():
    a = [(0, 10), (20, 30)]
    b = [(0, 10), (25, 40), (50, 60)]
    assert pair_counts(a, b) == (2, 3, 1, 2, 2)
    exact, overlap = span_f1(a, b)
    assert exact == pytest.approx(2 * 1 / 5)
    assert overlap == pytest.approx(2 * (2 / 3) * 1 / (2 / 3 + 1))  # precision 2/3, recall 1
    assert span_f1([], []) == (None, None)
    assert span_f1([(0, 5)], []) == (0.0, 0.0)
    assert span_f1([(0, 5)], [(5, 9)]) == (0.0, 0.0)  # touching is not overlapping (end exclusive)


def test_span_agreement_from_the_store_sums_per_article_counts(store):
    ids = add_articles(store, 3)
    spans = {
        "ann": {ids[0]: [(0, 10), (20, 30)], ids[1]: [(0, 7)], ids[2]: []},
        "bob": {ids[0]: [(0, 10), (25, 40), (45, 50)], ids[1]: [], ids[2]: [(3, 9)]},
        "cat": {ids[0]: [(1, 10)], ids[1]: [], ids[2]: []},
    }
    for name, per_article in spans.items():
        for aid, marks in per_article.items():
            store.set_label(aid, name, "stance", "agree")  # every one annotated every article
            for start, end in marks:
                store.add_claim(aid, name, start, end)
    annotators, pairs = span_agreement(store)
    assert annotators == ["ann", "bob", "cat"]
    for pair in pairs:
        totals = np.zeros(5, dtype=int)
        for aid in ids:
            totals += np.array(pair_counts(spans[pair.a][aid], spans[pair.b][aid]))
        assert (pair.a_spans, pair.b_spans, pair.exact, pair.a_overlapping, pair.b_overlapping) == tuple(totals)
    ann_bob = pairs[0]
    assert (ann_bob.a, ann_bob.b, ann_bob.articles) == ("ann", "bob", 3)
    assert ann_bob.exact_f1 == pytest.approx(2 * 1 / 7)
    assert ann_bob.overlap_f1 == pytest.approx(2 * 0.5 * (2 / 3) / (0.5 + 2 / 3))


def test_spans_of_an_annotator_who_did_not_annotate_the_article_are_not_compared(store):
    ids = add_articles(store, 2)
    store.add_claim(ids[0], "ann", 0, 5)
    store.add_claim(ids[1], "ann", 0, 5)
    store.add_claim(ids[1], "bob", 0, 5)  # bob never opened ids[0]
    _, [pair] = span_agreement(store)
    assert (pair.articles, pair.a_spans, pair.b_spans, pair.exact) == (1, 1, 1, 1)
    assert pair.exact_f1 == 1.0


def test_a_scheme_without_article_fields_and_an_empty_database(tmp_path):
    with Store.open(tmp_path / "empty.db") as store:
        report = agreement(store)
        assert list(report.fields) == ["stance", "reliability", "credibility"]
        assert all(fa.alpha is None and fa.units == 0 for fa in report.fields.values())
        store.set_scheme(
            'name = "claims only"\n[[fields]]\nname = "checkworthy"\nlevel = "claim"\nkind = "nominal"\n'
            'labels = [{ value = "yes", key = "+" }, { value = "no", key = "-" }]\n'
        )
        assert agreement(store).to_json()["fields"] == {}


def test_units_follow_the_scope_an_article_in_two_stories(store):
    """Stance is judged per (story, article): two units for an article in two stories;
    reliability per article: one unit wherever it is read."""
    from newsmark.analysis.agreement import read_label_matrices
    from newsmark.schema.scheme import default_scheme

    text = "Officials met on Monday. They agreed to share intelligence."
    with store.transaction() as conn:
        for story in ("s1", "s2"):
            store.ensure_story(conn, Story(id=story, title=story, proposition="p"))
            store.insert_articles(conn, [(article_id_for(text), story, "Outlet", None, None, None, None, text,
                                          text_sha256(text), "{}", "t")])
    aid = article_id_for(text)
    for name, first, second in (("alice", "agree", "unrelated"), ("bob", "agree", "discuss")):
        store.set_label(aid, name, "stance", first, story_id="s1")
        store.set_label(aid, name, "stance", second, story_id="s2")
        store.set_label(aid, name, "reliability", "B", story_id="s2")
    fields = [default_scheme().field("stance"), default_scheme().field("reliability")]
    matrices = read_label_matrices(store, fields, stories=True)
    assert matrices["stance"].articles == [f"s1/{aid}", f"s2/{aid}"]
    assert list(matrices["stance"].stories) == ["s1", "s2"]
    assert matrices["reliability"].articles == [aid] and list(matrices["reliability"].stories) == ["s1"]
    only_s2 = read_label_matrices(store, fields, "s2", stories=True)
    assert only_s2["stance"].articles == [f"s2/{aid}"] and list(only_s2["reliability"].stories) == ["s2"]
    store.remove_articles_from_story("s2", [aid], "lead")  # out of the story: its stances no longer count
    assert read_label_matrices(store, fields)["stance"].articles == [f"s1/{aid}"]
