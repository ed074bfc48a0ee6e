"""What the tests ask of a store whatever its engine."""

from __future__ import annotations

from newsmark.schema.store import Store


def assert_intact(store: Store) -> None:
    """The database is whole: SQLite's integrity check passes. (A PostgreSQL server checks
    its constraints at every statement and has no whole-database check to run.)"""
    if not store.postgres:
        assert store.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
