"""The store: schema, transactions, the event log, undo and redo across restarts; undo and
redo that never overwrite a later change (a teammate's, a load's, or one outside the log)."""

from __future__ import annotations

import sqlite3

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newsmark.exports.jsonl import write_jsonl
from newsmark.schema.load import load_annotations
from newsmark.schema.migrations import CURRENT_VERSION, NewerDatabaseError
from newsmark.schema.models import Story, utc_now
from newsmark.schema.sanitize import article_id_for, text_sha256
from newsmark.schema.store import Store, StoreError, UndoRefused
from tests.engines import assert_intact

TEXT = "Officials met on Monday. They agreed to share intelligence. Critics objected."


def add_article(store: Store, text: str = TEXT, story: str = "s1", source: str = "Outlet") -> str:
    with store.transaction() as conn:
        store.ensure_story(conn, Story(id=story, title="A story", proposition="Something happened."))
        store.insert_articles(
            conn, [(article_id_for(text), story, source, None, "Title", None, None, text, text_sha256(text), "{}", "t")]
        )
    return article_id_for(text)


def test_new_database_is_wal_with_busy_timeout_and_current_version(sqlite_store: Store):
    store = sqlite_store
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
    Store.open(db_path).close()
    conn = sqlite3.connect(db_path)
    conn.execute(f"PRAGMA user_version = {CURRENT_VERSION + 1}")
    conn.close()
    with pytest.raises(NewerDatabaseError, match="newer than this newsmark"):
        Store.open(db_path)


def test_a_file_that_is_not_a_database_is_refused(tmp_path):
    path = tmp_path / "junk.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="junk.db is not a newsmark database \\(not an SQLite database\\)"):
        Store.open(path)
    assert path.read_bytes() == b"this is not sqlite" * 100


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


# --- team-safe undo: never overwrite a change made after the one undone -------------------

KEPT_UNDO = "That change is kept; yours stays in effect and is off the undo list: undo again to go on with your earlier changes."
KEPT_REDO = "That change is kept; yours stays undone and is off the redo list."


def when(event) -> str:
    """How a refusal shows an event's time."""
    return f"{event.at[:10]} {event.at[11:16]} UTC"


def snapshot(store: Store) -> dict[str, list[tuple]]:
    """Every row of every annotation table (not the event log)."""
    tables = ("labels", "annotations", "claims", "claim_labels", "clusters", "gold", "gold_claims")
    return {t: store.conn.execute(f"SELECT * FROM {t} ORDER BY 1, 2").fetchall() for t in tables}


def test_undo_never_removes_a_teammates_later_gold(store: Store):
    aid = add_article(store)
    store.set_gold(aid, "stance", "agree", by="lead1", reason="explicit")
    store.set_gold(aid, "stance", "disagree", by="lead2", reason="read again")
    rows, events = snapshot(store), len(store.events(limit=1000))
    lead2 = store.events(annotator="lead2")[0]
    with pytest.raises(UndoRefused) as refused:
        store.undo("lead1")
    assert str(refused.value) == (
        f"cannot undo: lead2 changed gold stance of {aid[:8]}… to disagree at {when(lead2)}, after your change. "
        + KEPT_UNDO
    )
    assert refused.value.title == "Not undone"
    assert snapshot(store) == rows
    assert store.gold(aid)["stance"]["value"] == "disagree"
    # The refusal is in the audit trail; lead1's change left the undo list, nothing else moved.
    log = store.events(limit=1000)
    assert len(log) == events + 1
    assert (log[0].annotator, log[0].op, log[0].after) == ("lead1", "undo.refused", {"reason": str(refused.value)})
    assert store.undo("lead1") is None
    assert_intact(store)


def test_a_refused_undo_lets_the_analyst_go_on_with_earlier_safe_changes(store: Store):
    aid = add_article(store)
    store.set_label(aid, "lead1", "stance", "agree")  # 1: safe to undo
    store.set_gold(aid, "stance", "agree", by="lead1")  # 2: overtaken by lead2
    store.set_gold(aid, "stance", "discuss", by="lead1")  # 3: overtaken by lead2
    store.set_gold(aid, "stance", "disagree", by="lead2")
    with pytest.raises(UndoRefused, match="^cannot undo: lead2 changed gold stance"):
        store.undo("lead1")  # 3
    with pytest.raises(UndoRefused, match="^cannot undo: lead2 changed gold stance"):
        store.undo("lead1")  # 2: the same row, overtaken by the same later change
    assert store.undo("lead1").op == "undo label"  # 1
    assert store.labels(aid, "lead1") == {}
    assert store.undo("lead1") is None
    assert store.gold(aid)["stance"]["value"] == "disagree"
    # Redo brings back what was undone, and only that.
    assert store.redo("lead1").op == "redo label"
    assert store.labels(aid, "lead1") == {"stance": "agree"}
    assert store.redo("lead1") is None
    assert store.gold(aid)["stance"]["value"] == "disagree"
    assert_intact(store)


def test_undo_is_allowed_again_once_the_teammate_undid_their_change(store: Store):
    aid = add_article(store)
    store.set_gold(aid, "stance", "agree", by="lead1")
    store.set_gold(aid, "stance", "disagree", by="lead2")
    assert store.undo("lead2").op == "undo gold"
    assert store.undo("lead1").op == "undo gold"
    assert store.gold(aid) == {}


def test_undo_after_loading_a_newer_export_of_ones_own_work_keeps_the_loaded_label(tmp_path):
    with Store.open(tmp_path / "office.db") as office:
        aid = add_article(office)
        office.set_label(aid, "alice", "stance", "agree")
        office_at = office.annotation(aid, "alice")[2]
    exported = tmp_path / "alice.jsonl"
    with Store.open(tmp_path / "laptop.db") as laptop:
        add_article(laptop)
        while utc_now() <= office_at:  # the laptop's change must be the newer one
            pass
        laptop.set_label(aid, "alice", "stance", "disagree")
        with exported.open("wb") as out:
            write_jsonl(laptop, out)
    with Store.open(tmp_path / "office.db") as office:
        assert load_annotations(office, [exported]).replaced == 1
        loaded = office.events()[0]
        assert loaded.op == "load"
        rows = snapshot(office)
        with pytest.raises(UndoRefused) as refused:
            office.undo("alice")
        assert str(refused.value) == (
            f"cannot undo: load-annotations changed your stance of {aid[:8]}… to disagree "
            f"(a record by alice, of {when(loaded)}), after your change. " + KEPT_UNDO
        )
        assert snapshot(office) == rows
        assert office.labels(aid, "alice") == {"stance": "disagree"}
        assert_intact(office)


def test_redo_never_overwrites_a_teammates_change_made_since(store: Store):
    aid = add_article(store)
    store.set_gold(aid, "stance", "agree", by="lead1")
    store.undo("lead1")
    store.set_gold(aid, "stance", "disagree", by="lead2")
    lead2 = store.events(annotator="lead2")[0]
    rows = snapshot(store)
    with pytest.raises(UndoRefused) as refused:
        store.redo("lead1")
    assert str(refused.value) == (
        f"cannot redo: lead2 changed gold stance of {aid[:8]}… to disagree at {when(lead2)}, after your change. " + KEPT_REDO
    )
    assert refused.value.title == "Not redone"
    assert snapshot(store) == rows
    assert store.redo("lead1") is None  # off the redo list


def test_redo_names_a_teammates_undo_that_changed_the_row(store: Store):
    aid = add_article(store)
    store.set_gold(aid, "stance", "agree", by="lead1")
    store.set_gold(aid, "stance", "disagree", by="lead2")
    store.undo("lead2")  # back to lead1's agree
    store.undo("lead1")  # safe: nothing of lead2's is in effect; the gold is gone
    undone = store.events(annotator="lead1")[0]
    with pytest.raises(UndoRefused) as refused:
        store.redo("lead2")
    assert str(refused.value) == (
        f"cannot redo: lead1 undid a change to gold stance of {aid[:8]}… (it is now nothing) at {when(undone)}, "
        "after your change. " + KEPT_REDO
    )
    assert store.gold(aid) == {}


def test_a_write_around_the_event_log_is_not_overwritten_either(store: Store):
    aid = add_article(store)
    store.set_label(aid, "alice", "reliability", "B")
    store.conn.execute("UPDATE labels SET value = 'C' WHERE article_id = ? AND annotator = 'alice'", (aid,))
    with pytest.raises(UndoRefused) as refused:
        store.undo("alice")
    assert str(refused.value) == (
        f"cannot undo: your reliability of {aid[:8]}… was changed outside newsmark's event log (it is C, not B), "
        "after your change. " + KEPT_UNDO
    )
    assert store.labels(aid, "alice") == {"reliability": "C"}


def test_an_analysts_own_undo_chain_is_unchanged(store: Store):
    """Undo and redo of one's own changes to one row, in any order, still just work."""
    aid = add_article(store)
    for value in ("agree", "disagree", "discuss"):
        store.set_label(aid, "alice", "stance", value)
    store.set_note(aid, "alice", "first")
    store.set_flag(aid, "alice", True)
    for _ in range(5):
        store.undo("alice")
    assert store.labels(aid, "alice") == {} and store.annotation(aid, "alice")[:2] == (None, False)
    for _ in range(5):
        store.redo("alice")
    assert store.labels(aid, "alice") == {"stance": "discuss"}
    assert store.annotation(aid, "alice")[:2] == ("first", True)
    store.undo("alice")
    store.undo("alice")
    store.redo("alice")
    assert store.annotation(aid, "alice")[:2] == ("first", False)
    # A note on an article with no annotation row yet: undo deletes the row, redo brings it.
    other = add_article(store, "A second article about something else entirely.")
    store.set_note(other, "dora", "fresh")
    store.undo("dora")
    assert store.redo("dora").op == "redo note"
    assert store.annotation(other, "dora")[:2] == ("fresh", False)


def test_undo_of_a_claim_that_a_later_load_removed_is_refused(tmp_path):
    with Store.open(tmp_path / "office.db") as office:
        aid = add_article(office)
        office.set_label(aid, "alice", "stance", "agree")
        claim, _ = office.add_claim(aid, "alice", 0, 24, {"checkworthy": "yes"})
        office_at = office.annotation(aid, "alice")[2]
    exported = tmp_path / "alice.jsonl"
    with Store.open(tmp_path / "laptop.db") as laptop:
        add_article(laptop)
        while utc_now() <= office_at:
            pass
        laptop.set_label(aid, "alice", "stance", "agree")  # the same label, and no claim
        with exported.open("wb") as out:
            write_jsonl(laptop, out)
    with Store.open(tmp_path / "office.db") as office:
        load_annotations(office, [exported])
        assert office.claims(aid) == []
        loaded = office.events()[0]
        rows = snapshot(office)
        with pytest.raises(UndoRefused) as refused:
            office.undo("alice")
        # The claim's label is the action's last row, so the first one checked.
        assert str(refused.value) == (
            f"cannot undo: load-annotations removed the checkworthy of claim {claim.id[:8]}… "
            f"(a record by alice, of {when(loaded)}), after your change. " + KEPT_UNDO
        )
        assert snapshot(office) == rows
        assert office.undo("alice").op == "undo label"  # the label before it: nobody changed it since
        assert office.labels(aid, "alice") == {}


def test_a_refusal_shows_hostile_values_visibly(store: Store):
    aid = add_article(store)
    store.set_gold(aid, "stance", "agree", by="lead1")
    store.conn.execute("UPDATE gold SET value = 'x\x1b]0;pwned\x07' WHERE article_id = ?", (aid,))
    with pytest.raises(UndoRefused) as refused:
        store.undo("lead1")
    message = str(refused.value)
    assert "\x1b" not in message and "\x07" not in message
    assert "it is x\\x1b]0;pwned\\x07, not agree" in message


def test_opening_a_second_store_keeps_the_first_ones_commits_durable(tmp_path):
    """Opening the database again in the same process (the annotate screen's reader does,
    beside its writer) must not drop the first connection's file locks: then another
    process closing its connection believes it is the last, checkpoints and deletes the
    WAL, and the first connection's next commits go to a deleted file and are lost."""
    import subprocess
    import sys

    path = tmp_path / "locks.db"
    with Store.open(path) as writer, Store.open(path) as second:  # the second open in this process
        writer.set_setting("probe", "one")
        other_process = f"import sqlite3; c = sqlite3.connect({str(path)!r}); c.execute('SELECT 1 FROM settings').fetchall(); c.close()"
        subprocess.run([sys.executable, "-c", other_process], check=True)
        writer.set_setting("probe", "two")  # committed: must be on disk
        assert second.get_setting("probe") == "two"
        reader = sqlite3.connect(path)
        try:
            assert reader.execute("SELECT value FROM settings WHERE key = 'probe'").fetchone() == ("two",)
        finally:
            reader.close()


def test_a_fresh_annotation_is_written_as_its_changes_would_be(store: Store):
    """write_loaded's short branch for a fresh annotation record writes the rows and events
    its generic changes would (the bulk of every load takes that branch)."""
    from newsmark.schema.store import FreshAnnotation

    first = add_article(store)
    second = add_article(store, TEXT + " Again.")
    at = "2026-03-01T10:00:00.000000Z"

    def fresh(article_id: str) -> FreshAnnotation:
        return FreshAnnotation(article_id, "s1", "ana", at, {"stance": "agree"},
                               {"reliability": "B", "credibility": "2"}, "Ünïcode “note” 🤝", True)

    with store.transaction(bulk=True) as conn:
        store.write_loaded(conn, [fresh(first)])
    with store.transaction(bulk=True) as conn:
        store.write_loaded(conn, [fresh(second).as_action()])

    def written(article_id: str) -> tuple:
        labels = store.conn.execute(
            "SELECT story_id, annotator, field, value, updated_at FROM labels WHERE article_id = ? "
            "ORDER BY story_id, field", (article_id,)).fetchall()
        notes = store.conn.execute("SELECT story_id, annotator, note, flagged, updated_at FROM annotations "
                                   "WHERE article_id = ?", (article_id,)).fetchall()
        events = [(e.op, e.tbl, {**e.key, "article_id": "A"}, e.before, e.after, e.at, e.annotator)
                  for e in store.events(annotator="ana") if e.key.get("article_id") == article_id]
        actions = {e.action for e in store.events(annotator="ana") if e.key.get("article_id") == article_id}
        return labels, notes, events[::-1], len(actions)

    assert written(first) == written(second)
    labels, notes, events, actions = written(first)
    assert labels == [("", "ana", "credibility", "2", at), ("", "ana", "reliability", "B", at),
                      ("s1", "ana", "stance", "agree", at)]
    assert notes == [("s1", "ana", "Ünïcode “note” 🤝", 1, at)]
    assert [(e[1], e[2].get("field")) for e in events] == [
        ("labels", "stance"), ("labels", "reliability"), ("labels", "credibility"), ("annotations", None)]
    assert actions == 1


def test_an_annotation_left_empty_is_not_a_coder_of_the_article(store: Store):
    """A flag set and cleared leaves an empty annotations row, which no export carries: gold
    by agreement and claim agreement count only those who worked on the article, so a
    database and its export -> load give the same gold."""
    from newsmark.analysis.gold import gold_claims

    aid = add_article(store)
    for who in ("ana", "ben"):
        store.add_claim(aid, who, 0, 24, {})
    store.set_flag(aid, "cy", True)
    store.set_flag(aid, "cy", False)
    assert store.conn.execute("SELECT count(*) FROM annotations WHERE annotator = 'cy'").fetchone()[0] == 1
    assert store.article_annotators(aid) == ["ana", "ben"]
    assert sorted(set(store.claim_article_annotators())) == [(aid, "ana"), (aid, "ben")]
    [agreed] = gold_claims(store, aid, "unanimous")
    assert (agreed.start, agreed.end, agreed.source.agreed, agreed.source.of) == (0, 24, 2, 2)
    store.set_note(aid, "cy", "read it, found no claim")  # now a coder who marked none
    assert gold_claims(store, aid, "unanimous") == []


@settings(max_examples=60, deadline=None)
@given(note=st.none() | st.text(max_size=40), flagged=st.booleans(),
       annotator=st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=12))
def test_held_rows_make_the_events_write_loaded_would_write(note, flagged, annotator):
    """A load's held rows (write_loaded's `fresh_into`) get their events from SQL at publish
    (json_object): byte for byte the JSON orjson writes, whatever the note holds."""
    from newsmark.schema.store import FreshAnnotation

    with Store.open(":memory:") as store:
        aid = add_article(store)
        action = FreshAnnotation(aid, "s1", annotator, "2026-03-01T10:00:00.000000Z", {"stance": "agree"},
                                 {"reliability": "B"}, note, flagged)
        into = {}
        for tbl, cols in Store.FRESH_COLUMNS.items():
            store.conn.execute(f"CREATE TEMP TABLE held_{tbl} ({', '.join(cols)})")
            into[tbl] = f"temp.held_{tbl}"
        with store.transaction(bulk=True) as conn:
            last = store.write_loaded(conn, [action], fresh_into=into, after_event=100)
            held = [row for tbl in into for row in conn.execute(
                Store.fresh_events_select(tbl, into[tbl]) + " ORDER BY 1", (0,))]
        with store.transaction(bulk=True) as conn:
            store.write_loaded(conn, [action.as_action()], after_event=100)
        written = store.conn.execute("SELECT * FROM events ORDER BY id").fetchall()
        assert sorted(held) == written
        assert [row[0] for row in written] == [101, 102, 103] and last == 103
