"""`newsmark db copy SRC DST`: a whole database between SQLite files and a real PostgreSQL
server, event log included; exports before and after are the same bytes, undo still works
in the copy, and a destination with data in it is refused."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from newsmark.schema.store import Store
from newsmark.tui.cli import cli

ROOT = Path(__file__).resolve().parent.parent
STORY = "us-taliban-isisk"


def run(*args: str, db: Path | str | None = None):
    return CliRunner().invoke(cli, ([] if db is None else ["--db", str(db)]) + list(args))


@pytest.fixture
def worked(db_path: Path) -> Path:
    """The seed story worked on by two annotators and a reviewer: labels in the story and
    shared, a note and a flag, claims in a worded cluster, gold, curation and an undo."""
    assert run("import", str(ROOT / "seeds"), db=db_path).exit_code == 0
    with Store.open(db_path) as store:
        ids = store.article_ids(STORY)
        for name, stance in (("alice", "agree"), ("bob", "disagree")):
            store.set_label(ids[0], name, "stance", stance, story_id=STORY)
            store.set_label(ids[0], name, "reliability", "B", story_id=STORY)
        store.set_label(ids[1], "alice", "credibility", "3", story_id=STORY)
        store.set_note(ids[1], "alice", "Check the \u201cquote\u201d — naïve?", story_id=STORY)
        store.set_flag(ids[2], "bob", True, story_id=STORY)
        claim, _ = store.add_claim(ids[0], "alice", 0, 40, {"checkworthy": "yes"})
        other, _ = store.add_claim(ids[1], "alice", 0, 30)
        store.add_claim(ids[1], "bob", 0, 30)
        cluster, _ = store.link_claims(claim.id, other.id, "alice")
        store.set_cluster_label(cluster, "alice", "Kabul \u2192 cooperation")
        store.set_gold(ids[0], "stance", "agree", "rita", "headline and body agree", story_id=STORY)
        store.set_label(ids[3], "alice", "stance", "discuss", story_id=STORY)
        store.undo("alice")
    return db_path


def exports(db: Path) -> tuple[str, str]:
    annotations = run("export", "-o", "-", db=db)
    gold = run("export", "--gold", "-o", "-", db=db)
    assert annotations.exit_code == 0 and gold.exit_code == 0, (annotations.output, gold.output)
    return annotations.output, gold.output


def events(db: Path) -> list[tuple]:
    with Store.open(db, create=False) as store:
        return [(e.id, e.action, e.at, e.annotator, e.op, e.tbl, e.key, e.before, e.after, e.undoable, e.undone)
                for e in reversed(store.events(limit=10_000))]


def test_an_sqlite_copy_holds_everything_and_undo_goes_on_there(worked, tmp_path):
    copy = tmp_path / "copy.db"
    result = run("db", "copy", str(worked), str(copy))
    assert result.exit_code == 0, result.output
    with Store.open(worked, create=False) as store:
        counts = {table: store.count_rows(table) for table in ("stories", "articles", "labels", "events")}
    assert result.output.startswith(f"Copied {worked} to {copy}: 1 stories, 5 articles, 5 story_articles, ")
    assert f"{counts['labels']} labels" in result.output and f"{counts['events']} events\n" in result.output
    assert exports(copy) == exports(worked)
    assert events(copy) == events(worked)
    # The copy's log is the original's: alice's undo of her last label, redone there.
    redone = run("redo", "--annotator", "alice", db=copy)
    assert redone.exit_code == 0 and redone.output == run("redo", "--annotator", "alice", db=worked).output
    with Store.open(copy, create=False) as store:
        fourth = store.article_ids(STORY)[3]
        assert store.labels(fourth, "alice", story_id=STORY) == {"stance": "discuss"}


def test_a_destination_with_data_is_refused_and_left_as_it_was(worked, tmp_path):
    other = tmp_path / "other.db"
    assert run("import", str(ROOT / "seeds"), db=other).exit_code == 0
    before = exports(other)
    result = run("db", "copy", str(worked), str(other))
    assert result.exit_code == 1
    assert result.output == ("Error: the destination already holds data (1 stories rows, 5 articles rows); "
                             "copy into an empty database\n")
    assert exports(other) == before
    assert run("db", "copy", str(worked), str(worked)).output == (
        "Error: the source and the destination are the same database\n")
    missing = tmp_path / "missing.db"
    assert run("db", "copy", str(missing), str(tmp_path / "x.db")).exit_code == 1
    assert not missing.exists()


def test_sqlite_to_postgresql_and_back_keeps_every_row_and_both_exports(worked, tmp_path, pg_database):
    url = pg_database.url()
    to_pg = run("db", "copy", str(worked), url, "--json")
    assert to_pg.exit_code == 0, to_pg.output
    copied = json.loads(to_pg.output)["rows"]
    with Store.open(worked, create=False) as store:
        assert {t: n for t, n in copied.items() if t != "settings"} == {
            table: store.count_rows(table) for table in copied if table != "settings"}
    with pg_database.connect() as conn:
        assert conn.execute("SELECT count(*) FROM events").fetchone()[0] == copied["events"]
        # The copy is the tables' owner's: PostgreSQL's own identity sequences go on after it.
        next_id = conn.execute("SELECT nextval(pg_get_serial_sequence('public.events', 'id'))").fetchone()[0]
        assert next_id == copied["events"] + 1
    # The server's own export of the copy (the store on PostgreSQL) is the file's, byte for byte.
    assert exports(url) == exports(worked)
    assert events(url) == events(worked)
    with pg_database.server.database() as empty:
        refused = run("db", "copy", empty.url(), str(tmp_path / "never.db"))
        assert refused.output == f"Error: {empty.name} holds no newsmark database (no schema)\n"
        assert not (tmp_path / "never.db").exists()  # the file it had begun is gone
    # A second copy into the same server database is refused: it is not empty any more.
    again = run("db", "copy", str(worked), url)
    assert again.exit_code == 1 and "already holds data" in again.output
    back = tmp_path / "back.db"
    result = run("db", "copy", url, str(back))
    assert result.exit_code == 0, result.output
    assert "password" not in result.output
    assert exports(back) == exports(worked)
    assert events(back) == events(worked)
    with Store.open(back, create=False) as store:
        assert store.scheme == Store.open(worked, create=False).scheme
        raw = store.conn.execute("SELECT key FROM events ORDER BY id LIMIT 1").fetchone()[0]
        assert raw == orjson.dumps(orjson.loads(raw)).decode()  # compact JSON text, as SQLite keeps it
