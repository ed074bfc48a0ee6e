"""Stories and articles many-to-many: an article in several stories, fields judged per story
(scope "story") or once per article (scope "article"), notes and flags per story, undo."""

from __future__ import annotations

import pytest

from newsmark.schema.models import Story
from newsmark.schema.store import Store, StoreError
from tests.test_store import add_article


@pytest.fixture
def shared(store: Store) -> str:
    """One article in stories s1 and s2."""
    aid = add_article(store, story="s1")
    assert add_article(store, story="s2") == aid
    return aid


def test_the_same_text_imported_under_another_story_joins_it(store: Store, shared: str):
    assert store.article_count() == 1
    assert store.article_ids("s1") == [shared] and store.article_ids("s2") == [shared]
    assert store.article_count("s2") == 1
    assert store.article_stories(shared) == ["s1", "s2"]
    assert store.home_story(shared) == "s1"


def test_stance_is_per_story_and_reliability_per_article(store: Store, shared: str):
    store.set_label(shared, "alice", "stance", "agree", story_id="s1")
    store.set_label(shared, "alice", "stance", "disagree", story_id="s2")
    store.set_label(shared, "alice", "reliability", "B", story_id="s1")
    assert store.labels(shared, "alice", story_id="s1") == {"stance": "agree", "reliability": "B"}
    assert store.labels(shared, "alice", story_id="s2") == {"stance": "disagree", "reliability": "B"}
    store.set_label(shared, "alice", "reliability", "C", story_id="s2")  # one value: changed everywhere
    assert store.labels(shared, "alice", story_id="s1")["reliability"] == "C"
    rows = store.conn.execute("SELECT story_id, field, value FROM labels ORDER BY story_id, field").fetchall()
    assert rows == [("", "reliability", "C"), ("s1", "stance", "agree"), ("s2", "stance", "disagree")]


def test_without_a_story_the_article_s_own_story_is_meant(store: Store, shared: str):
    store.set_label(shared, "alice", "stance", "discuss")
    assert store.labels(shared, "alice", story_id="s1") == {"stance": "discuss"}
    assert store.labels(shared, "alice", story_id="s2") == {}


def test_notes_flags_and_progress_are_per_story(store: Store, shared: str):
    store.set_note(shared, "alice", "only in the second story", story_id="s2")
    store.set_flag(shared, "alice", True, story_id="s2")
    assert store.annotation(shared, "alice", story_id="s1")[:2] == (None, False)
    assert store.annotation(shared, "alice", story_id="s2")[:2] == ("only in the second story", True)
    store.set_label(shared, "alice", "stance", "agree", story_id="s1")
    assert store.finished_story_ids("alice") == ["s1"]
    assert [(row.id, row.labelled) for row in store.story_page(0, 10, "alice")] == [("s1", 1), ("s2", 0)]
    store.set_label(shared, "alice", "reliability", "A", story_id="s1")  # an article field counts in both
    assert store.finished_story_ids("alice") == ["s1", "s2"]


def test_gold_follows_the_scope_too(store: Store, shared: str):
    store.set_gold(shared, "stance", "agree", "lead", "per headline", story_id="s1")
    store.set_gold(shared, "reliability", "B", "lead", story_id="s2")
    assert {f: g["value"] for f, g in store.gold(shared, story_id="s1").items()} == {"stance": "agree", "reliability": "B"}
    assert {f: g["value"] for f, g in store.gold(shared, story_id="s2").items()} == {"reliability": "B"}


def test_undo_takes_back_the_value_of_the_story_it_was_given_in(store: Store, shared: str):
    store.set_label(shared, "alice", "stance", "agree", story_id="s1")
    store.set_label(shared, "alice", "stance", "disagree", story_id="s2")
    store.undo("alice")
    assert store.labels(shared, "alice", story_id="s2") == {}
    assert store.labels(shared, "alice", story_id="s1") == {"stance": "agree"}
    store.redo("alice")
    assert store.labels(shared, "alice", story_id="s2") == {"stance": "disagree"}


def test_a_claim_is_the_article_s_in_every_story(store: Store, shared: str):
    claim, _ = store.add_claim(shared, "alice", 0, 24, story_id="s2")
    assert store.claims(shared, "alice") == [claim]
    # The action stamped the annotator's work on the article in the story being read.
    assert store.annotation(shared, "alice", story_id="s2")[2] is not None
    assert store.annotation(shared, "alice", story_id="s1")[2] is None


def test_a_scheme_that_changes_a_used_field_s_scope_is_refused(store: Store, shared: str):
    store.set_label(shared, "alice", "stance", "agree", story_id="s1")
    text = store.get_setting("scheme").replace('scope = "story"', 'scope = "article"')
    with pytest.raises(StoreError, match="1 label\\(s\\) of stance were given with scope story: its scope cannot change"):
        store.set_scheme(text)
    assert store.scheme.story_fields() == frozenset({"stance"})


def test_an_unused_field_s_scope_may_change(store: Store, shared: str):
    text = store.get_setting("scheme").replace('scope = "story"', 'scope = "article"')
    assert store.set_scheme(text).story_fields() == frozenset()
    assert store.article_ids("s2") == [shared]


# --- curating stories: every change one action that undo reverses ------------------------------


def _snapshot(store: Store) -> dict[str, list]:
    tables = ("stories", "story_articles", "labels", "annotations", "gold")
    return {t: store.conn.execute(f"SELECT * FROM {t}").fetchall() for t in tables}


def _strip_times(snapshot: dict[str, list]) -> dict[str, list]:
    return {t: sorted(tuple(v for v in row if not (isinstance(v, str) and v.endswith("Z"))) for row in rows)
            for t, rows in snapshot.items()}


def test_editing_a_story_is_undone_like_a_label(store: Store, shared: str):
    store.edit_story("s2", "lead", title="Second \x1b[31mstory", proposition="Officials  met\non Monday.")
    assert (store.get_story("s2").title, store.get_story("s2").proposition) == ("Second story", "Officials met on Monday.")
    store.undo("lead")
    assert (store.get_story("s2").title, store.get_story("s2").proposition) == ("A story", "Something happened.")
    assert store.annotators() == []  # curating is nobody's annotation


def test_merging_moves_the_articles_and_the_work_done_on_them(store: Store, shared: str):
    other = add_article(store, text="A second report. It differs.", story="s3")
    store.set_label(other, "alice", "stance", "agree", story_id="s3")
    store.set_note(other, "alice", "seen", story_id="s3")
    store.set_label(shared, "alice", "stance", "agree", story_id="s1")
    store.set_label(shared, "bob", "stance", "discuss", story_id="s2")
    store.set_label(shared, "alice", "stance", "disagree", story_id="s2")  # clashes with s1's
    before = _snapshot(store)
    store.merge_stories("s1", ["s2", "s3"], "lead")
    assert [s.id for s in store.stories()] == ["s1"]
    assert store.article_ids("s1") == [shared, other]
    assert store.labels(other, "alice", story_id="s1") == {"stance": "agree"}
    assert store.annotation(other, "alice", story_id="s1")[0] == "seen"
    assert store.labels(shared, "bob", story_id="s1") == {"stance": "discuss"}
    assert store.labels(shared, "alice", story_id="s1") == {"stance": "agree"}  # the target's value is kept
    store.undo("lead")
    assert _strip_times(_snapshot(store)) == _strip_times(before)


def test_split_and_move_leave_stances_with_the_story_they_were_judged_in(store: Store, shared: str):
    other = add_article(store, text="A second report. It differs.", story="s1")
    store.set_label(other, "alice", "stance", "agree", story_id="s1")
    store.split_story("s1", [other], Story(id="s9", title="Stray"), "lead")
    assert store.article_ids("s1") == [shared] and store.article_ids("s9") == [other]
    assert store.labels(other, "alice", story_id="s9") == {}
    store.undo("lead")
    assert store.get_story("s9") is None and store.article_ids("s1") == [shared, other]
    assert store.labels(other, "alice", story_id="s1") == {"stance": "agree"}
    store.move_articles([other], "s1", "s2", "lead")
    assert store.article_ids("s2") == [shared, other] and store.article_stories(other) == ["s2"]
    store.undo("lead")
    assert store.article_stories(other) == ["s1"]


def test_curating_refuses_what_does_not_exist(store: Store, shared: str):
    with pytest.raises(StoreError, match="no story 'nope'"):
        store.merge_stories("s1", ["nope"], "lead")
    with pytest.raises(StoreError, match="cannot merge story 's1' into itself"):
        store.merge_stories("s1", ["s1"], "lead")
    with pytest.raises(StoreError, match="article 'ffffffffffffffff' is not|no article 'ffffffffffffffff'"):
        store.remove_articles_from_story("s1", ["ffffffffffffffff"], "lead")
    with pytest.raises(StoreError, match="story 's2' exists already"):
        store.split_story("s1", [shared], Story(id="s2"), "lead")
    assert store.events(limit=5) == []


def test_a_new_cluster_s_wording_is_never_cut_mid_word(store: Store):
    from newsmark.schema.store import default_wording

    words = "The situation in Afghanistan " * 10
    assert default_wording(words) == "The situation in Afghanistan " * 6 + "The situation in…"
    assert default_wording("short claim") == "short claim"
    assert default_wording("x" * 300) == "x" * 199 + "…"
