"""The PostgreSQL schema (schema/pg_schema.py) on a real server: the same tables, columns
and keys as SQLite's current schema, created idempotently, refusing a newer version."""

from __future__ import annotations

import sqlite3

import pytest

from newsmark.schema.migrations import CURRENT_VERSION, NewerDatabaseError
from newsmark.schema.pg_schema import SCHEMA_VERSION, PgSchemaError, create_schema, stored_version
from newsmark.schema.store import DERIVED_TABLES, Store

# What PostgreSQL has beyond SQLite's schema (pg_schema's docstring says why).
PG_ONLY_TABLES = {"team_members", "search_words"}  # (SQLite's search index is a side file)
PG_ONLY_COLUMNS = {"added_by_role"}


def sqlite_tables(path) -> dict[str, tuple[list[str], list[str]]]:
    """table -> (columns in order, primary key columns in order), from a store just made."""
    with Store.open(path):
        pass
    conn = sqlite3.connect(path)
    try:
        tables = {}
        names = [row[0] for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
            if row[0] not in DERIVED_TABLES]  # the story list's summary: derived, per database
        for name in names:
            info = conn.execute(f"PRAGMA table_info({name})").fetchall()
            keys = [row[1] for row in sorted((row for row in info if row[5]), key=lambda row: row[5])]
            tables[name] = ([row[1] for row in info], keys)
        return tables
    finally:
        conn.close()


def pg_tables(conn) -> dict[str, tuple[list[str], list[str]]]:
    """The same, from PostgreSQL's catalog."""
    tables = {}
    for (name,) in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall():
        columns = [row[0] for row in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = %s "
            "ORDER BY ordinal_position", (name,))]
        keys = [row[0] for row in conn.execute(
            "SELECT a.attname FROM pg_index i CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, n) "
            "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum "
            "WHERE i.indrelid = %s::regclass AND i.indisprimary ORDER BY k.n", (f"public.{name}",))]
        tables[name] = (columns, keys)
    return tables


def catalog(conn) -> list[tuple]:
    """Everything create_schema makes, as the catalog records it."""
    return [
        *conn.execute("SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1, 2"),
        *conn.execute("SELECT tablename, policyname, cmd, qual, with_check FROM pg_policies ORDER BY 1, 2"),
        *conn.execute("SELECT table_name, grantee, privilege_type FROM information_schema.role_table_grants "
                      "WHERE table_schema = 'public' ORDER BY 1, 2, 3"),
        *conn.execute("SELECT table_name, column_name, grantee, privilege_type FROM information_schema.column_privileges "
                      "WHERE table_schema = 'public' ORDER BY 1, 2, 3, 4"),
        *conn.execute("SELECT tgname, tgrelid::regclass::text FROM pg_trigger WHERE NOT tgisinternal ORDER BY 1"),
    ]


def test_the_schema_has_sqlites_tables_columns_and_keys(pg_database, tmp_path):
    with pg_database.connect() as conn:
        assert create_schema(conn, pg_database.role_prefix) is True
        made = pg_tables(conn)
    expected = sqlite_tables(tmp_path / "same.db")
    assert set(made) == set(expected) | PG_ONLY_TABLES
    for table, (columns, keys) in expected.items():
        assert ([c for c in made[table][0] if c not in PG_ONLY_COLUMNS], made[table][1]) == (columns, keys), table
    assert SCHEMA_VERSION == CURRENT_VERSION


def test_creating_the_schema_again_changes_nothing_and_keeps_every_row(pg_database):
    with pg_database.connect() as conn:
        create_schema(conn, pg_database.role_prefix)
        conn.execute("INSERT INTO stories (id, title) VALUES ('s1', 'Kept')")
        first = catalog(conn)
        assert create_schema(conn) is False
        assert create_schema(conn, pg_database.role_prefix) is False
        assert catalog(conn) == first
        assert conn.execute("SELECT id, title FROM stories").fetchall() == [("s1", "Kept")]
        assert conn.execute("SELECT key, value FROM settings ORDER BY key").fetchall() == [
            ("pg_role_prefix", pg_database.role_prefix), ("schema_version", str(SCHEMA_VERSION))]
        assert stored_version(conn) == SCHEMA_VERSION


def test_a_database_without_the_schema_has_no_version(pg_database):
    with pg_database.connect() as conn:
        assert stored_version(conn) is None


def test_a_newer_schema_is_refused_and_left_alone(pg_database):
    with pg_database.connect() as conn:
        create_schema(conn, pg_database.role_prefix)
        conn.execute("UPDATE settings SET value = %s WHERE key = 'schema_version'", (str(SCHEMA_VERSION + 1),))
        with pytest.raises(NewerDatabaseError, match=f"schema version {SCHEMA_VERSION + 1}, newer"):
            create_schema(conn)
        assert stored_version(conn) == SCHEMA_VERSION + 1


@pytest.mark.parametrize("shift", [1, -1])
def test_the_store_opens_only_its_own_schema_version(pg_database, shift):
    from click.testing import CliRunner

    from newsmark.tui.cli import cli

    with pg_database.connect() as conn:
        create_schema(conn, pg_database.role_prefix)
        conn.execute("UPDATE settings SET value = %s WHERE key = 'schema_version'", (str(SCHEMA_VERSION + shift),))
    result = CliRunner().invoke(cli, ["--db", pg_database.url(), "status"])
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: the database is at schema version {SCHEMA_VERSION + 1}, newer"
                                    if shift > 0 else
                                    f"Error: the PostgreSQL database is at schema version {SCHEMA_VERSION - 1}, older")
    with pg_database.connect() as conn:
        assert stored_version(conn) == SCHEMA_VERSION + shift


def test_a_schema_keeps_its_role_prefix(pg_database):
    with pg_database.connect() as conn:
        create_schema(conn, pg_database.role_prefix)
        with pytest.raises(PgSchemaError, match="this database's roles have the prefix"):
            create_schema(conn, "other_")


@pytest.mark.parametrize("prefix", ["", "Nm_", "nm-", "1nm_", "n" * 17])
def test_a_bad_role_prefix_is_refused_before_anything_is_made(pg_database, prefix):
    with pg_database.connect() as conn:
        with pytest.raises(PgSchemaError, match="role prefix"):
            create_schema(conn, prefix)
        assert stored_version(conn) is None
