"""The database engines a store runs on. SQLite (the embedded default) is Python's own
sqlite3 connection; PostgreSQL is `postgres.PgConnection`, which runs the same SQL (see its
docstring). The store holds the logic once and asks `is_postgres_url` which engine a
`--db` names."""

from __future__ import annotations


def is_postgres_url(database: object) -> bool:
    """True when `--db` names a PostgreSQL server rather than an SQLite file."""
    return str(database).startswith(("postgresql://", "postgres://"))
