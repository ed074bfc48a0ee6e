"""The database engines a store runs on. SQLite (the embedded default) is Python's own
sqlite3 connection; PostgreSQL is `postgres.PgConnection`, which runs the same SQL (see its
docstring). The store holds the logic once and asks `is_postgres_url` which engine a
`--db` names."""

from __future__ import annotations

from pathlib import Path


def is_postgres_url(database: object) -> bool:
    """True when `--db` names a PostgreSQL server rather than an SQLite file."""
    return str(database).startswith(("postgresql://", "postgres://"))


def database_location(database: str | Path) -> str | Path:
    """`--db` as `Store.open` takes it: a server's URL stays a string (a Path would fold
    its `//`), anything else is a file's path."""
    return str(database) if is_postgres_url(database) else Path(database)


def shown_database(database: object) -> str:
    """How messages name a database: a file's path as it is, or a server's URL without
    its password."""
    if is_postgres_url(database):
        from newsmark.schema.pg_admin import redacted

        return redacted(str(database))
    return str(database)
