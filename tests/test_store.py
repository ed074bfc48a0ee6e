"""The store: schema, transactions, the event log, undo and redo across restarts."""

from __future__ import annotations

import sqlite3

import pytest

from newsmark.schema.migrations import CURRENT_VERSION, NewerDatabaseError
from newsmark.schema.models import Story
from newsmark.schema.sanitize import article_id_for, text_sha256
from newsmark.schema.store import Store, StoreError

TEXT = "Officials met on Monday. They agreed to share intelligence. Critics objected."


def add_article(store: Store, text: str = TEXT, story: str = "s1", source: str = "Outlet") -> str:
    with store.transaction() as conn:
        store.ensure_story(conn, Story(id=story, title="A story", proposition="Something happened."))
        store.insert_articles(
            conn, [(article_id_for(text), story, source, None, "Title", None, None, text, text_sha256(text), "{}", "t")]
        )
    return article_id_for(text)


def test_new_database_is_wal_with_busy_timeout_and_current_version(store: Store):
    assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 5000
    assert store.conn.execute("PRAGMA user_version").fetchone()[0] == CURRENT_VERSION
    assert [f.name for f in store.scheme.fields] == ["stance", "reliability", "credibility", "checkworthy"]


def test_duplicate_text_is_not_inserted_twice(store: Store):
    add_article(store)
    with store.transaction() as conn:
        new = store.insert_articles(
            conn, [(article_id_for(TEXT), "s1", "Other", None, None, None, None, TEXT, text_sha256(TEXT), "{}", "u")]
        )
    assert new == 0
    assert store.article_count() == 1


def test_label_changes_are_logged_with_before_and_after(store: Store):
    aid = add_article(store)
    store.set_label(aid, "alice", "stance", "agree")
    store.set_label(aid, "alice", "stance", "disagree")
    events = store.events(annotator="alice")
    assert [(e.op, e.before, e.after) for e in events] == [
        ("label", {"value": "agree"}, {"value": "disagree"}),
        ("label", None, {"value": "agree"}),
    ]


def test_setting_the_same_value_again_writes_nothing(store: Store):
    aid = add_article(store)
    store.set_label(aid, "alice", "stance", "agree")
    assert not store.set_label(aid, "alice", "stance", "agree").changed
    assert len(store.events()) == 1


def test_unknown_label_is_refused(store: Store):
    aid = add_article(store)
    with pytest.raises(StoreError, match="'maybe' is not a label of 'stance'"):
        store.set_label(aid, "alice", "stance", "maybe")
    with pytest.raises(StoreError, match="not a article-level field|not a article"):
        store.set_label(aid, "alice", "checkworthy", "yes")


def test_undo_and_redo_survive_a_restart(db_path):
    with Store.open(db_path) as store:
        aid = add_article(store)
        store.set_label(aid, "alice", "stance", "agree")
        store.set_label(aid, "alice", "reliability", "B")
        store.set_label(aid, "bob", "stance", "disagree")
    with Store.open(db_path) as store:
        assert store.undo("alice").op == "undo label"
        assert store.labels(aid, "alice") == {"stance": "agree"}
        assert store.labels(aid, "bob") == {"stance": "disagree"}  # bob's work is his own
    with Store.open(db_path) as store:
        store.redo("alice")
        assert store.labels(aid, "alice") == {"stance": "agree", "reliability": "B"}
        assert store.redo("alice") is None


def test_a_new_action_after_undo_clears_redo(store: Store):
    aid = add_article(store)
    store.set_label(aid, "alice", "stance", "agree")
    store.set_label(aid, "alice", "stance", "disagree")
    store.undo("alice")
    store.set_label(aid, "alice", "reliability", "C")
    assert store.redo("alice") is None
    assert store.labels(aid, "alice") == {"stance": "agree", "reliability": "C"}
    store.undo("alice")
    store.undo("alice")
    assert store.labels(aid, "alice") == {}
    assert store.undo("alice") is None


def test_claims_link_into_clusters_and_undo_restores_labels(store: Store):
    a = add_article(store)
    b = add_article(store, "Another outlet says officials agreed to share intelligence. Fine.", source="Other")
    claim_a, _ = store.add_claim(a, "alice", 25, 59, {"credibility": "2"})
    assert claim_a.exact == TEXT[25:59] and claim_a.prefix == TEXT[:25]
    claim_b, _ = store.add_claim(b, "alice", 0, 58)
    cluster, _ = store.link_claims(claim_a.id, claim_b.id, "alice")
    assert store.cluster_article_count(cluster) == 2
    store.remove_claim(claim_a.id, "alice")
    assert store.claims(a) == []
    store.undo("alice")
    restored = store.claims(a)[0]
    assert (restored.labels, restored.cluster) == ({"credibility": "2"}, cluster)


def test_claims_outside_the_text_or_of_another_annotator_are_refused(store: Store):
    aid = add_article(store)
    with pytest.raises(StoreError, match="outside the article's text"):
        store.add_claim(aid, "alice", 10, 10_000)
    claim, _ = store.add_claim(aid, "alice", 0, 10)
    with pytest.raises(StoreError, match="belongs to alice"):
        store.remove_claim(claim.id, "bob")


def test_gold_never_touches_annotations(store: Store):
    aid = add_article(store)
    store.set_label(aid, "alice", "stance", "agree")
    store.set_gold(aid, "stance", "discuss", by="lead", reason="hedged throughout")
    assert store.labels(aid, "alice") == {"stance": "agree"}
    assert store.gold(aid)["stance"]["value"] == "discuss"
    assert store.gold(aid)["stance"]["reason"] == "hedged throughout"


def test_note_and_flag(store: Store):
    aid = add_article(store)
    store.set_note(aid, "alice", "check the byline")
    store.set_flag(aid, "alice", True)
    assert store.annotation(aid, "alice")[:2] == ("check the byline", True)
    store.undo("alice")
    assert store.annotation(aid, "alice")[:2] == ("check the byline", False)


def test_two_connections_write_one_database(db_path):
    first, second = Store.open(db_path), Store.open(db_path)
    try:
        aid = add_article(first)
        first.set_label(aid, "alice", "stance", "agree")
        second.set_label(aid, "bob", "stance", "disagree")
        assert first.status()["annotated"] == {"alice": 1, "bob": 1}
    finally:
        first.close()
        second.close()


def test_a_newer_database_is_refused_with_a_clear_message(db_path):
    conn = sqlite3.connect(db_path)
    conn.execute(f"PRAGMA user_version = {CURRENT_VERSION + 1}")
    conn.close()
    with pytest.raises(NewerDatabaseError, match="newer than this newsmark"):
        Store.open(db_path)


def test_a_file_that_is_not_a_database_is_refused(tmp_path):
    path = tmp_path / "junk.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="not a usable newsmark database"):
        Store.open(path)


def test_scheme_change_that_existing_labels_do_not_fit_is_refused(store: Store):
    aid = add_article(store)
    store.set_label(aid, "alice", "stance", "agree")
    narrow = '[[fields]]\nname = "stance"\nlevel = "article"\nkind = "nominal"\nlabels = [{ value = "pro", key = "p" }]\n'
    with pytest.raises(StoreError, match="1 article label"):
        store.set_scheme(narrow)


def test_undoing_a_gold_claim_does_not_make_the_reviewer_an_annotator(store: Store):
    aid = add_article(store)
    claim, _ = store.add_claim(aid, "alice", 0, 24)
    store.set_gold_claim(aid, claim.start, claim.end, by="lead", reason="clear factual claim")
    assert store.undo("lead") is not None
    assert store.annotators() == ["alice"]


def test_gold_reasons_are_sanitised_like_every_other_text(store: Store):
    aid = add_article(store)
    store.set_gold(aid, "stance", "agree", by="lead", reason="seen\r\non\x1b[31m TV ")
    assert store.gold(aid)["stance"]["reason"] == "seen\non TV"
