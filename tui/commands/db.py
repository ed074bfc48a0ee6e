"""`newsmark db copy SRC DST`: a whole database, event log included, from an SQLite file or a
PostgreSQL server to another (schema/dbcopy.py does the work)."""

from __future__ import annotations

import importlib.util
import sqlite3
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import click

from newsmark.schema.dbcopy import CopyError, copy_database
from newsmark.schema.engines import is_postgres_url, shown_database
from newsmark.schema.migrations import NewerDatabaseError
from newsmark.schema.sanitize import for_terminal
from newsmark.schema.store import Store, StoreError
from newsmark.tui.commands.common import database_fault, echo_json, fail


def _shown(where: str) -> str:
    return for_terminal(shown_database(where))


@click.group("db")
def command() -> None:
    """Whole databases: copy one between SQLite files and PostgreSQL servers."""


@contextmanager
def _end(where: str, *, create: bool) -> Iterator[Any]:
    """One end of the copy: the store of an SQLite file (created when `create`), or the
    PostgreSQL database of a postgresql:// URL; every failure an `Error:` line."""
    if is_postgres_url(where):
        if importlib.util.find_spec("psycopg") is None:
            fail("PostgreSQL needs psycopg: pip install 'newsmark[postgres]'")
        import psycopg

        from newsmark.schema.pg_admin import PgCopyEnd, connect

        try:
            conn = connect(where)
        except psycopg.Error as exc:
            fail(f"cannot connect to {_shown(where)}: {str(exc).strip().splitlines()[0]}")
        try:
            yield PgCopyEnd(conn)
        except psycopg.Error as exc:
            fail(f"database error on {_shown(where)}: {str(exc).strip().splitlines()[0]}")
        finally:
            conn.close()
        return
    try:
        store = Store.open(where, create=create)
    except (StoreError, NewerDatabaseError) as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"cannot open database {_shown(where)}: {exc.strerror or exc}")
    except sqlite3.DatabaseError as exc:
        fail(database_fault(exc, where))
    try:
        yield store
    except sqlite3.DatabaseError as exc:
        fail(database_fault(exc, where))
    finally:
        store.close()


@command.command("copy")
@click.argument("source")
@click.argument("destination")
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
def copy(source: str, destination: str, as_json: bool) -> None:
    """Copy the whole database SOURCE into DESTINATION, which must be empty (an SQLite file
    is created; a PostgreSQL database gets the schema). Each is a file path or a
    postgresql:// URL (on PostgreSQL, the administrator's: the tables' owner)."""
    if source == destination:
        fail("the source and the destination are the same database")
    # An SQLite file this command creates is removed again if the copy fails.
    new_file = None if is_postgres_url(destination) or Path(destination).exists() else Path(destination)
    try:
        with ExitStack() as stack:
            source_end = stack.enter_context(_end(source, create=False))
            destination_end = stack.enter_context(_end(destination, create=True))
            try:
                report = copy_database(source_end, destination_end)
            except CopyError as exc:
                fail(str(exc))
    except SystemExit:
        if new_file is not None:
            for path in (new_file, Path(f"{new_file}-wal"), Path(f"{new_file}-shm")):
                path.unlink(missing_ok=True)
        raise
    counts = report.as_dict()
    if as_json:
        echo_json({"source": _shown(source), "destination": _shown(destination), "rows": counts})
        return
    copied = ", ".join(f"{n:,} {table}" for table, n in counts.items() if n and table != "settings")
    click.echo(f"Copied {_shown(source)} to {_shown(destination)}: {copied or 'no rows'}")
