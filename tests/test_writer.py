"""The TUI's writer thread (tui/writer.py) and its checkpointer, which copies the
write-ahead log into the database file beside the writer instead of inside a keystroke's
commit."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from newsmark.schema.ingest import import_paths
from newsmark.tui.writer import CHECKPOINT_COMMITS, Writer
from tests.e2e.driving import wait_until

from .conftest import SEEDS


def file_labels(db_path: Path, annotator: str) -> dict[str, str]:
    """The stances of `annotator` in the database file alone: immutable=1 reads no WAL, so
    only what a checkpoint has copied there shows (not even the tables, before the first)."""
    conn = sqlite3.connect(f"file:{db_path}?immutable=1", uri=True)
    try:
        return dict(conn.execute(
            "SELECT article_id, value FROM labels WHERE annotator = ? AND field = 'stance'", (annotator,)))
    except sqlite3.OperationalError:  # no such table yet
        return {}
    finally:
        conn.close()


def test_the_writers_commits_reach_the_database_file_while_it_runs(sqlite_store, db_path: Path) -> None:
    store = sqlite_store
    import_paths(store, [SEEDS])
    ids = store.article_ids(store.stories()[0].id)
    stances = ("agree", "disagree", "discuss", "unrelated")
    writer = Writer(db_path)
    writer.start().result(30)
    expected: dict[str, str] = {}
    try:
        for k in range(CHECKPOINT_COMMITS + 5):
            article_id, value = ids[k % len(ids)], stances[(k // len(ids)) % len(stances)]
            writer.submit(lambda s, a=article_id, v=value: s.set_label(a, "w", "stance", v)).result(30)
            expected[article_id] = value
        assert store.labels(ids[0], "w")["stance"] == expected[ids[0]]
        # Every connection stays open (no checkpoint at close): the checkpointer copies them.
        wait_until(lambda: file_labels(db_path, "w") == expected, "the commits in the database file", timeout=30)
        assert writer.checkpointer.checkpoints >= 1
    finally:
        writer.stop()
    assert store.labels(ids[-1], "w")["stance"] == expected[ids[-1]]
