"""What the tests ask of a store whatever its engine."""

from __future__ import annotations

from pathlib import Path

from newsmark.schema.engines import is_postgres_url
from newsmark.schema.store import Store, StoreError


def assert_intact(store: Store) -> None:
    """The database is whole: SQLite's integrity check passes. (A PostgreSQL server checks
    its constraints at every statement and has no whole-database check to run.)"""
    if not store.postgres:
        assert store.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def database_exists(location: object) -> bool:
    """Whether a newsmark database is there: an SQLite file, or a server's database that
    holds newsmark's schema."""
    if not is_postgres_url(location):
        return Path(str(location)).exists()
    try:
        Store.open(str(location), create=False).close()
    except StoreError:
        return False
    return True
