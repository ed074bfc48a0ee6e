"""`newsmark team add NAME [--reviewer]` and `newsmark team list`: the analysts of a
PostgreSQL database, each with a login role of their own (schema/pg_admin.py does the work)."""

from __future__ import annotations

import importlib.util
import shlex
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click

from newsmark.schema.migrations import NewerDatabaseError
from newsmark.schema.names import InvalidName
from newsmark.schema.sanitize import for_terminal
from newsmark.tui.commands.common import echo_json, fail


@click.group("team")
def command() -> None:
    """The analysts of a PostgreSQL database (--db postgresql://ADMIN@HOST/DB): each
    connects as a role of their own, and the database enforces what each may write."""


@contextmanager
def _admin_connection(ctx: click.Context) -> Iterator:
    """The administrator's connection to the --db server; every failure an `Error:` line."""
    dsn = ctx.obj["db_path"]
    if importlib.util.find_spec("psycopg") is None:
        fail("PostgreSQL needs psycopg: pip install 'newsmark[postgres]'")
    from newsmark.schema import pg_admin
    from newsmark.schema.pg_schema import PgSchemaError

    if not pg_admin.is_postgres_url(dsn):
        fail(f"team works on a PostgreSQL database: give --db postgresql://ADMIN@HOST/DB, not {dsn}")
    import psycopg

    where = pg_admin.redacted(dsn)
    try:
        conn = pg_admin.connect(dsn)
    except psycopg.Error as exc:
        fail(f"cannot connect to {where}: {_first_line(exc)}")
    try:
        yield conn
    except (pg_admin.TeamError, PgSchemaError, NewerDatabaseError, InvalidName) as exc:
        fail(str(exc))
    except psycopg.errors.InsufficientPrivilege as exc:
        fail(f"{where}: {_first_line(exc)} (team commands need a role that may create roles and owns the database)")
    except psycopg.Error as exc:
        fail(f"database error on {where}: {_first_line(exc)}")
    finally:
        conn.close()


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


@command.command("add")
@click.argument("name")
@click.option("--reviewer", is_flag=True, help="May also write gold (adjudicate).")
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin instead of generating one.")
@click.option("--host", default=None, help="The server's name as analysts reach it (default: the host in --db).")
@click.option("--role-prefix", default=None,
              help="Prefix of this database's role names, when this command creates its schema (default nm_).")
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
@click.pass_context
def add(ctx: click.Context, name: str, reviewer: bool, password_stdin: bool, host: str | None,
        role_prefix: str | None, as_json: bool) -> None:
    """Add an analyst NAME: a login role with its rights, and the connection string to give them."""
    from newsmark.schema import pg_admin
    from newsmark.schema.pg_schema import SCHEMA_VERSION, group_roles

    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else pg_admin.generate_password()
    with _admin_connection(ctx) as conn:
        made = pg_admin.add_member(conn, name, password, reviewer=reviewer, prefix=role_prefix)
        dsn = pg_admin.member_dsn(conn, made.member.role, host)
        database = conn.info.dbname
    member = made.member
    if as_json:
        echo_json({
            "annotator": member.annotator, "role": member.role, "reviewer": member.reviewer, "dsn": dsn,
            "password": None if password_stdin else password, "schema_created": made.schema_created,
        })
        return
    if made.schema_created:
        analyst, reviewers = group_roles(made.prefix)
        click.echo(f"Created the newsmark schema (version {SCHEMA_VERSION}) in database {for_terminal(database)}, "
                   f"with the group roles {analyst} and {reviewers}.")
    rights = "a reviewer" if member.reviewer else "an analyst"
    click.echo(f"Added {for_terminal(member.annotator)} as {rights}: PostgreSQL role {member.role}.")
    click.echo("They connect with:")
    click.echo(f"  export NEWSMARK_DB={shlex.quote(for_terminal(dsn))}")
    click.echo(f"  export NEWSMARK_ANNOTATOR={shlex.quote(for_terminal(member.annotator))}")
    if password_stdin:
        click.echo("Password: the one given on standard input.")
    else:
        click.echo(f"Password (shown only this once; pass it on privately, for ~/.pgpass or $PGPASSWORD): {password}")


@command.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
@click.pass_context
def list_(ctx: click.Context, as_json: bool) -> None:
    """List the team: annotator names, their roles, analyst or reviewer."""
    from newsmark.schema import pg_admin

    with _admin_connection(ctx) as conn:
        members = pg_admin.list_members(conn)
    if as_json:
        echo_json({"members": [member.model_dump() for member in members]})
        return
    rows = [("annotator", "role", "rights")] + [
        (for_terminal(m.annotator), m.role, "reviewer" if m.reviewer else "analyst") for m in members
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(2)]
    for row in rows:
        click.echo(f"{row[0].ljust(widths[0])}  {row[1].ljust(widths[1])}  {row[2]}")
    if not members:
        click.echo("(nobody yet)")
