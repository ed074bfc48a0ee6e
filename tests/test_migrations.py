"""Migrations: a committed version-1 database upgrades with its backup made, losing nothing."""

from __future__ import annotations

import io
import shutil
import sqlite3
from pathlib import Path

from click.testing import CliRunner

from newsmark.exports.jsonl import write_jsonl
from newsmark.schema.migrations import CURRENT_VERSION, backup_path
from newsmark.schema.store import Store
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
