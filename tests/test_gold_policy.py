"""Gold policies on constructed cases: what becomes gold, and where it says it came from."""

from __future__ import annotations

import pytest

from newsmark.analysis.gold import GoldValue, decide, gold_claims, gold_units
from newsmark.schema.store import Store
from tests.test_store import add_article


@pytest.mark.parametrize(
    ("values", "policy", "expected"),
    [
        ({"a": "C", "b": "C", "c": "C"}, "unanimous", GoldValue("C", "agreed", agreed=3, of=3)),
        ({"a": "C", "b": "C", "c": "C"}, "adjudicated", None),
        ({"a": "C", "b": "C", "c": "B"}, "unanimous", None),
        ({"a": "C", "b": "C", "c": "B"}, "majority", GoldValue("C", "majority", agreed=2, of=3)),
        ({"a": "C", "b": "B"}, "majority", None),  # a tie is no majority
        ({"a": "C"}, "unanimous", None),  # one annotator is no agreement
        ({"a": "F", "b": "F"}, "unanimous", GoldValue("F", "agreed", agreed=2, of=2)),  # "cannot be judged" too
        ({}, "majority", None),
    ],
)
def test_decide(values, policy, expected):
    assert decide(values, policy) == expected


@pytest.fixture
def team(store: Store) -> tuple[Store, str, str]:
    """Two articles; the first in stories s1 and s2. Three annotators."""
    shared = add_article(store, story="s1")
    add_article(store, story="s2")
    other = add_article(store, text="Another report. It says more.", story="s1")
    for name in ("alice", "bob", "carol"):
        store.set_label(shared, name, "reliability", "C", story_id="s1")
    store.set_label(shared, "alice", "stance", "agree", story_id="s1")
    store.set_label(shared, "bob", "stance", "agree", story_id="s1")
    store.set_label(shared, "carol", "stance", "discuss", story_id="s1")
    store.set_label(shared, "alice", "stance", "unrelated", story_id="s2")
    store.set_label(shared, "bob", "stance", "unrelated", story_id="s2")
    store.set_label(other, "alice", "stance", "agree", story_id="s1")
    store.set_label(other, "bob", "stance", "disagree", story_id="s1")
    store.set_gold(other, "stance", "disagree", "lead", "the second paragraph", story_id="s1")
    return store, shared, other


def _table(units) -> list[tuple]:
    return [(u.story_id, u.article_id[:4], {f: v.describe() + "=" + v.value for f, v in u.values.items()}, u.undecided)
            for u in units]


def test_unanimous_gold_takes_what_everyone_agreed_on(team):
    store, shared, other = team
    assert _table(gold_units(store, "unanimous")) == [
        ("s1", shared[:4], {"reliability": "agreed by 3 of 3=C"}, ("stance",)),
        ("s1", other[:4], {"stance": "adjudicated by lead: the second paragraph=disagree"}, ()),
        ("s2", shared[:4], {"reliability": "agreed by 3 of 3=C", "stance": "agreed by 2 of 2=unrelated"}, ()),
    ]


def test_majority_and_adjudicated_policies(team):
    store, shared, other = team
    majority = _table(gold_units(store, "majority", story_id="s1"))
    assert majority[0] == ("s1", shared[:4], {"reliability": "agreed by 3 of 3=C", "stance": "majority 2 of 3=agree"}, ())
    adjudicated = _table(gold_units(store, "adjudicated"))
    assert [row[2] for row in adjudicated] == [{}, {"stance": "adjudicated by lead: the second paragraph=disagree"}, {}]
    assert adjudicated[0][3] == ("reliability", "stance")


def test_claims_marked_identically_by_everyone_become_gold(team):
    store, shared, _ = team
    for name in ("alice", "bob", "carol"):
        claim, _ = store.add_claim(shared, name, 0, 24, story_id="s1")
        store.set_claim_label(claim.id, name, "checkworthy", "yes" if name != "carol" else "no")
    store.add_claim(shared, "alice", 25, 58, story_id="s1")
    store.add_claim(shared, "bob", 25, 58, story_id="s1")
    unanimous = gold_claims(store, shared, "unanimous")
    assert [(c.start, c.end, c.source.describe(), {f: v.describe() for f, v in c.labels.items()}) for c in unanimous] == [
        (0, 24, "agreed by 3 of 3", {}),
    ]
    majority = gold_claims(store, shared, "majority")
    assert [(c.start, c.end, c.source.describe(), {f: v.value for f, v in c.labels.items()}) for c in majority] == [
        (0, 24, "agreed by 3 of 3", {"checkworthy": "yes"}), (25, 58, "majority 2 of 3", {}),
    ]
    store.set_gold_claim(shared, 25, 58, by="lead", reason="a claim", labels={"checkworthy": "no"})
    adjudicated = gold_claims(store, shared, "adjudicated")
    assert [(c.start, c.source.describe(), c.labels["checkworthy"].value) for c in adjudicated] == [
        (25, "adjudicated by lead: a claim", "no")]
    assert [c.source.source for c in gold_claims(store, shared, "majority")] == ["agreed", "adjudicated"]
