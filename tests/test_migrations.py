"""Migrations: committed databases of every earlier schema version (1 and 2) upgrade with
their backup made, losing nothing (every row, both exports, undo); a backup is never
overwritten, and nothing at its name stops an upgrade."""

from __future__ import annotations

import io
import json
import os
import shutil
import sqlite3
import stat
import threading
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from newsmark.exports.jsonl import write_jsonl
from newsmark.schema.load import load_annotations
from newsmark.schema.migrations import APPLICATION_ID, CURRENT_VERSION, backup_path
from newsmark.schema.store import Store, StoreError
from newsmark.tui.cli import cli
from tests.gold_records import without_undecided

FIXTURES = Path(__file__).parent / "fixtures"
TABLES = ("settings", "stories", "articles", "annotations", "labels", "clusters", "claims",
          "claim_labels", "gold", "gold_claims", "events")  # of every version


def rows(path: Path) -> dict[str, list[tuple]]:
    conn = sqlite3.connect(path)
    try:
        return {table: sorted(conn.execute(f"SELECT * FROM {table}").fetchall()) for table in TABLES}
    finally:
        conn.close()


def version(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("PRAGMA user_version").fetchone()[0]
    finally:
        conn.close()


# Tables keyed by story since version 3 (story_id the second column), and the fields whose
# rows carry the article's story there (the default scheme's story-scoped field).
BY_STORY = ("labels", "annotations", "gold")
STORY_FIELDS = {"stance"}


def upgraded(path: Path) -> dict[str, list[tuple]]:
    """The rows of an upgraded database as the earlier version held them: story_id taken
    out of the rows and event keys that gained it."""
    found = rows(path)
    for table in BY_STORY:
        found[table] = sorted(row[:1] + row[2:] for row in found[table])
    found["events"] = sorted(row[:6] + (_without_story(row[6]),) + row[7:] for row in found["events"])
    return found


def _without_story(key: str) -> str:
    return json.dumps({k: v for k, v in json.loads(key).items() if k != "story_id"}, separators=(",", ":"))


def as_version_1(line: bytes) -> bytes:
    """An export line of the current record in the version-1 shape (the article names its
    story, claims carry no wording, gold names no source), to compare with what the earlier
    code exported."""
    record = orjson.loads(line)
    article = record["article"]
    record["schema_version"] = 1
    record["article"] = {"id": article["id"], "story_id": record["story"]["id"],
                         **{k: v for k, v in article.items() if k != "id"}}
    for claim in record["claims"]:
        del claim["cluster_wording"]
        claim.pop("gold", None)  # a gold claim's own source: named since
    for entry in record.get("gold", {}).values():
        assert entry.pop("source") == "adjudicated"  # the earlier code's gold was all adjudicated
    return orjson.dumps(record)


@pytest.mark.parametrize("old", [1, 2])
def test_every_earlier_version_upgrades_with_a_backup_and_loses_nothing(tmp_path, old):
    db = tmp_path / "team.db"
    shutil.copy(FIXTURES / f"v{old}.db", db)
    before = rows(db)
    with Store.open(db) as store:
        assert store.backup == backup_path(db, old) == tmp_path / f"team.db.v{old}.bak"
        assert store.conn.execute("PRAGMA user_version").fetchone()[0] == CURRENT_VERSION
        indexes = {row[1] for row in store.conn.execute("PRAGMA index_list(events)")}
        assert "events_action" in indexes
        exported, gold = io.BytesIO(), io.BytesIO()
        write_jsonl(store, exported)
        write_jsonl(store, gold, gold=True, policy="adjudicated")
        # What the earlier code called gold: the reviewers' decisions, not the undecided fields.
        gold = io.BytesIO(without_undecided(gold.getvalue()))
    # Every row is kept; each gained the story the model gives it.
    assert upgraded(db) == before
    after = rows(db)
    home = dict(sqlite3.connect(db).execute("SELECT id, story_id FROM articles").fetchall())
    assert sqlite3.connect(db).execute("SELECT story_id, article_id FROM story_articles ORDER BY 1, 2").fetchall() \
        == sorted((story, article) for article, story in home.items())
    for article_id, story_id, *rest in after["labels"] + after["gold"]:
        field_name = rest[1] if len(rest) == 4 else rest[0]
        assert story_id == (home[article_id] if field_name in STORY_FIELDS else "")
    assert all(story_id == home[article_id] for article_id, story_id, *_ in after["annotations"])
    # Both exports hold what the earlier code exported (records of schema_version 1).
    for new, old_file in ((exported, f"v{old}.export.jsonl"), (gold, f"v{old}.gold.jsonl")):
        lines = new.getvalue().splitlines()
        assert all(orjson.loads(line)["schema_version"] == 2 for line in lines)
        assert sorted(map(as_version_1, lines)) == sorted((FIXTURES / old_file).read_bytes().splitlines())
    # The earlier exports load into an empty database as the upgraded one exports (but
    # for the wording of reworded clusters, which those files never carried).
    with Store.open(tmp_path / "fresh.db") as fresh:
        report = load_annotations(fresh, [FIXTURES / f"v{old}.export.jsonl", FIXTURES / f"v{old}.gold.jsonl"])
        assert report.rejected == []
        for options, new in (({}, exported), ({"gold": True, "policy": "adjudicated"}, gold)):
            lines = export_lines(fresh, **options)
            if options:
                lines = without_undecided(b"\n".join(lines)).splitlines()
            assert sorted(map(as_version_1, lines)) \
                == sorted(map(as_version_1, new.getvalue().splitlines()))
    if old == 2:
        assert b'"cluster_wording":"Pentagon weighs working with the Taliban"' in gold.getvalue()
    assert version(tmp_path / f"team.db.v{old}.bak") == old
    assert rows(tmp_path / f"team.db.v{old}.bak") == rows(FIXTURES / f"v{old}.db")


def export_lines(store: Store, **options) -> list[bytes]:
    out = io.BytesIO()
    write_jsonl(store, out, **options)
    return out.getvalue().splitlines()


def test_the_upgraded_log_still_undoes_and_redoes(tmp_path):
    db = tmp_path / "team.db"
    shutil.copy(FIXTURES / "v1.db", db)
    with Store.open(db) as store:
        ids = store.article_ids("us-taliban-isisk")
        assert store.labels(ids[3], "alice") == {}
        assert store.redo("alice").op == "redo label"  # undone in version 1, redone in the current one
        assert store.labels(ids[3], "alice") == {"stance": "unrelated"}
        assert store.undo("alice").op == "undo label"
        # Back past the claims to a label made in version 1.
        assert [store.undo("alice").op for _ in range(4)] == [
            "undo claim.link", "undo claim.add", "undo claim.add", "undo label"]
        assert store.labels(ids[2], "alice") == {"stance": "agree", "reliability": "B"}


def test_a_label_made_at_version_2_is_undone_after_the_upgrade(tmp_path):
    db = tmp_path / "team.db"
    shutil.copy(FIXTURES / "v2.db", db)
    with Store.open(db) as store:
        second = store.article_ids("us-taliban-isisk")[1]
        assert store.labels(second, "alice")["stance"] == "disagree"
        assert store.undo("alice").op == "undo label"
        assert store.labels(second, "alice", story_id="us-taliban-isisk")["stance"] == "agree"
        # The gold made at version 2 is undone by its maker too: the story-scoped value
        # in its story, the article-scoped one for the article.
        assert store.undo("lead").op == "undo gold.claim"
        assert store.undo("lead").op == "undo gold"
        assert "reliability" not in store.gold(store.article_ids("us-taliban-isisk")[0])


def test_the_cli_says_where_the_backup_is(tmp_path):
    db = tmp_path / "team.db"
    shutil.copy(FIXTURES / "v1.db", db)
    result = CliRunner().invoke(cli, ["--db", str(db), "status", "--json"])
    assert result.exit_code == 0
    assert f"Upgraded the database; the previous version is kept at {db}.v1.bak\n" in result.output
    again = CliRunner().invoke(cli, ["--db", str(db), "status", "--json"])
    assert "Upgraded" not in again.output


# --- backups are never overwritten, and nothing at their name stops an upgrade ------------


def upgrade_copy(tmp_path: Path) -> Path:
    db = tmp_path / "team.db"
    shutil.copy(FIXTURES / "v1.db", db)
    return db


def test_an_earlier_backup_is_never_overwritten(tmp_path):
    db = upgrade_copy(tmp_path)
    earlier = tmp_path / "team.db.v1.bak"
    earlier.write_bytes(b"last month's backup")
    before = rows(db)
    result = CliRunner().invoke(cli, ["--db", str(db), "status", "--json"])
    assert result.exit_code == 0
    assert result.stderr == f"Upgraded the database; the previous version is kept at {db}.v1.1.bak\n"
    assert earlier.read_bytes() == b"last month's backup"
    assert version(tmp_path / "team.db.v1.1.bak") == 1
    assert rows(tmp_path / "team.db.v1.1.bak") == before
    # The same version upgraded again (a restored copy): a third name, both earlier kept.
    first_copy = (tmp_path / "team.db.v1.1.bak").read_bytes()
    db.unlink()
    shutil.copy(FIXTURES / "v1.db", db)
    with Store.open(db) as store:
        assert store.backup == tmp_path / "team.db.v1.2.bak"
    assert earlier.read_bytes() == b"last month's backup"
    assert (tmp_path / "team.db.v1.1.bak").read_bytes() == first_copy
    assert rows(tmp_path / "team.db.v1.2.bak") == before


@pytest.mark.parametrize("occupant", ["folder", "dangling link", "link to a file", "fifo"])
def test_anything_at_the_backup_name_is_left_alone_and_the_database_upgrades(tmp_path, occupant):
    db = upgrade_copy(tmp_path)
    name = tmp_path / "team.db.v1.bak"
    target = tmp_path / "elsewhere.txt"
    if occupant == "folder":
        name.mkdir()
        (name / "notes.txt").write_text("mine")
    elif occupant == "dangling link":
        name.symlink_to(target)
    elif occupant == "link to a file":
        target.write_text("not a backup")
        name.symlink_to(target)
    else:
        os.mkfifo(name)
    before = rows(db)
    with Store.open(db) as store:
        assert store.backup == tmp_path / "team.db.v1.1.bak"
        assert store.conn.execute("PRAGMA user_version").fetchone()[0] == CURRENT_VERSION
    assert upgraded(db) == before
    assert rows(tmp_path / "team.db.v1.1.bak") == before
    if occupant == "folder":
        assert [p.name for p in name.iterdir()] == ["notes.txt"]
    elif occupant == "dangling link":
        assert name.is_symlink() and not target.exists()
    elif occupant == "link to a file":
        assert target.read_text() == "not a backup"
    else:
        assert stat.S_ISFIFO(name.lstat().st_mode)


def test_the_upgrade_marks_the_database_as_newsmarks(tmp_path):
    db = upgrade_copy(tmp_path)
    with Store.open(db) as store:
        assert store.conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    conn = sqlite3.connect(tmp_path / "team.db.v1.bak")
    try:
        assert conn.execute("PRAGMA application_id").fetchone()[0] == 0  # the copy is as it was
    finally:
        conn.close()


def test_two_processes_opening_an_old_database_at_once_upgrade_it_once(tmp_path):
    db = upgrade_copy(tmp_path)
    before = rows(db)
    barrier = threading.Barrier(4)
    outcomes: list[object] = []

    def open_it() -> None:
        barrier.wait()
        try:
            with Store.open(db) as store:
                outcomes.append(store.backup)
        except Exception as exc:  # collected: the assertion below names it
            outcomes.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(map(str, outcomes)) == sorted([str(tmp_path / "team.db.v1.bak"), "None", "None", "None"])
    assert sorted(p.name for p in tmp_path.glob("team.db.v*")) == ["team.db.v1.bak"]
    assert upgraded(db) == before


def test_an_upgrade_whose_backup_cannot_be_written_changes_nothing_and_says_why(tmp_path):
    short = upgrade_copy(tmp_path)
    conn = sqlite3.connect(short)
    conn.execute("PRAGMA journal_mode = WAL")  # then it needs no "-journal" file
    conn.close()
    db = short.rename(tmp_path / ("d" * 247 + ".db"))  # 250 bytes: room for "-wal", none for ".v1.bak"
    before = rows(db)
    with pytest.raises(StoreError) as refused:
        Store.open(db)
    assert str(refused.value) == (
        f"cannot upgrade {db}: cannot write its backup {db}.v1.bak (File name too long); it stays at version 1"
    )
    assert version(db) == 1
    assert rows(db) == before
    assert sorted(p.name for p in tmp_path.iterdir() if ".bak" in p.name) == []
