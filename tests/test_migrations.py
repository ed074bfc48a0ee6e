"""Migrations: a committed version-1 database upgrades with its backup made, losing nothing;
a backup is never overwritten, and nothing at its name stops an upgrade."""

from __future__ import annotations

import io
import os
import shutil
import sqlite3
import stat
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from newsmark.exports.jsonl import write_jsonl
from newsmark.schema.migrations import APPLICATION_ID, CURRENT_VERSION, backup_path
from newsmark.schema.store import Store, StoreError
from newsmark.tui.cli import cli

FIXTURES = Path(__file__).parent / "fixtures"
TABLES = ("settings", "stories", "articles", "annotations", "labels", "clusters", "claims",
          "claim_labels", "gold", "gold_claims", "events")


def rows(path: Path) -> dict[str, list[tuple]]:
    conn = sqlite3.connect(path)
    try:
        return {table: conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall() for table in TABLES}
    finally:
        conn.close()


def version(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("PRAGMA user_version").fetchone()[0]
    finally:
        conn.close()


def test_version_1_upgrades_with_a_backup_and_loses_nothing(tmp_path):
    db = tmp_path / "team.db"
    shutil.copy(FIXTURES / "v1.db", db)
    before = rows(db)
    with Store.open(db) as store:
        assert store.backup == backup_path(db, 1) == tmp_path / "team.db.v1.bak"
        assert store.conn.execute("PRAGMA user_version").fetchone()[0] == CURRENT_VERSION
        indexes = {row[1] for row in store.conn.execute("PRAGMA index_list(events)")}
        assert "events_action" in indexes
        exported, gold = io.BytesIO(), io.BytesIO()
        write_jsonl(store, exported)
        write_jsonl(store, gold, gold=True)
    assert exported.getvalue() == (FIXTURES / "v1.export.jsonl").read_bytes()
    assert gold.getvalue() == (FIXTURES / "v1.gold.jsonl").read_bytes()
    assert rows(db) == before
    assert version(tmp_path / "team.db.v1.bak") == 1
    assert rows(tmp_path / "team.db.v1.bak") == before


def test_the_upgraded_log_still_undoes_and_redoes(tmp_path):
    db = tmp_path / "team.db"
    shutil.copy(FIXTURES / "v1.db", db)
    with Store.open(db) as store:
        fourth = store.article_ids("us-taliban-isisk")[3]
        assert store.labels(fourth, "alice") == {}
        assert store.redo("alice").op == "redo label"  # undone in version 1, redone in the current one
        assert store.labels(fourth, "alice") == {"stance": "unrelated"}


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
    assert rows(db) == before
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
    assert rows(db) == before


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
