"""A team on PostgreSQL: one login role per analyst, its rights, and how they connect.

`newsmark team add` and `team list` (tui/commands/team.py) are thin layers over this. The
connection given here is the administrator's: a role that may create roles and owns the
newsmark tables (the superuser, or the role that created the database).
"""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from pydantic import BaseModel

from newsmark.schema.dbcopy import COPY_TABLES, CopyError
from newsmark.schema.engines import is_postgres_url
from newsmark.schema.models import utc_now
from newsmark.schema.names import check_name
from newsmark.schema.pg_schema import PgSchemaError, create_schema, group_roles, role_prefix, stored_version
from newsmark.schema.sanitize import for_terminal

if TYPE_CHECKING:
    import psycopg

# PostgreSQL truncates names to 63 bytes; a role is prefix + slug (+ "_" + 8 hex digits).
MAX_ROLE_NAME = 63
_HASH_DIGITS = 8
PASSWORD_BYTES = 24  # secrets.token_urlsafe: 32 characters, 192 bits


class TeamMember(BaseModel):
    """One analyst of the team: their exact annotator name, login role, and whether they review."""

    annotator: str
    role: str
    reviewer: bool


class NewMember(BaseModel):
    """What `add_member` made: the member, the database's role prefix, and whether the
    schema was created on the way."""

    member: TeamMember
    prefix: str
    schema_created: bool


class TeamError(RuntimeError):
    """A team change the database or the rules refuse; the message says why."""


def connect(dsn: str) -> psycopg.Connection:
    """A connection to the server `dsn` names (psycopg's errors pass through)."""
    import psycopg

    return psycopg.connect(dsn, autocommit=True)


def role_name_for(annotator: str, prefix: str) -> str:
    """The login role of an annotator: prefix + the name's slug (lowercase ASCII letters,
    digits, '_'). A name that is not its own slug (capitals, spaces, accents, other
    scripts), is too long to keep whole, or would give a group role's name, also gets 8
    hex digits of its SHA-256, so two names never share a role."""
    folded = unicodedata.normalize("NFKD", annotator).encode("ascii", "ignore").decode().lower()
    slug = re.sub(r"[^a-z0-9]+", "_", folded).strip("_")
    plain = slug == annotator and len(prefix) + len(slug) <= MAX_ROLE_NAME and prefix + slug not in group_roles(prefix)
    suffix = "" if plain else "_" + hashlib.sha256(annotator.encode()).hexdigest()[:_HASH_DIGITS]
    room = MAX_ROLE_NAME - len(prefix) - len(suffix)
    return prefix + (slug[:room].rstrip("_") or "x") + suffix


def generate_password() -> str:
    """A random password fit for a connection string (URL-safe characters)."""
    return secrets.token_urlsafe(PASSWORD_BYTES)


def add_member(
    conn: psycopg.Connection, annotator: str, password: str, *, reviewer: bool = False, prefix: str | None = None
) -> NewMember:
    """Create the login role of `annotator` with `password`, put it in the analyst (or
    reviewer) group and map it to the exact name; create the schema first if the database
    has none (with `prefix` for its roles). The password reaches the server only as its
    SCRAM verifier, computed here. TeamError when the name or its role is taken."""
    from psycopg import errors, sql

    annotator = check_name(annotator)
    if not password or "\n" in password or "\0" in password:
        raise TeamError("the password is empty or holds a line break or NUL")
    schema_created = create_schema(conn, prefix)
    prefix = role_prefix(conn)
    analyst, reviewer_group = group_roles(prefix)
    role = role_name_for(annotator, prefix)
    with conn.transaction():
        if conn.execute("SELECT 1 FROM team_members WHERE annotator = %s", (annotator,)).fetchone():
            raise TeamError(f"{annotator} is on the team already")
        if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone():
            raise TeamError(f"a role {role} exists already on this server; remove it or choose another name")
        verifier = conn.pgconn.encrypt_password(password.encode(), role.encode())
        try:
            conn.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {} IN ROLE {}").format(
                sql.Identifier(role), sql.Literal(verifier.decode()),
                sql.Identifier(reviewer_group if reviewer else analyst)))
        except errors.DuplicateObject:  # created meanwhile by another admin
            raise TeamError(f"a role {role} exists already on this server; remove it or choose another name") from None
        conn.execute(
            "INSERT INTO team_members (role_name, annotator, added_at) VALUES (%s, %s, %s)",
            (role, annotator, utc_now()),
        )
    member = TeamMember(annotator=annotator, role=role, reviewer=reviewer)
    return NewMember(member=member, prefix=prefix, schema_created=schema_created)


def list_members(conn: psycopg.Connection) -> list[TeamMember]:
    """The team, by annotator name; `reviewer` is what the server grants, not a note."""
    prefix = role_prefix(conn)
    if prefix is None:
        raise PgSchemaError(f"no newsmark schema in database {conn.info.dbname}: `newsmark team add` creates it")
    reviewer_group = group_roles(prefix)[1]
    rows = conn.execute(
        "SELECT t.annotator, t.role_name, coalesce(pg_has_role(r.oid, %s, 'MEMBER'), false) "
        "FROM team_members t LEFT JOIN pg_roles r ON r.rolname = t.role_name ORDER BY t.annotator COLLATE \"C\"",
        (reviewer_group,),
    ).fetchall()
    return [TeamMember(annotator=name, role=role, reviewer=reviews) for name, role, reviews in rows]


def member_dsn(conn: psycopg.Connection, role: str, host: str | None = None) -> str:
    """The connection string a member uses: postgresql://ROLE@HOST:PORT/DB, with `host`
    (the server's name as members reach it) or else the host this connection reached. A
    unix socket folder goes in `?host=`. No password: that goes in ~/.pgpass or $PGPASSWORD."""
    host = host or conn.info.host
    port = conn.info.port
    database = quote(conn.info.dbname, safe="")
    if host.startswith("/"):
        return f"postgresql://{role}@/{database}?host={quote(host, safe='')}&port={port}"
    shown = f"[{host}]" if ":" in host else host
    return f"postgresql://{role}@{shown}:{port}/{database}"


def redacted(dsn: str) -> str:
    """`dsn` without its password, for messages: a postgresql:// URL stays a URL (as the
    user gave it), a connection string stays one."""
    from psycopg import ProgrammingError
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    try:
        parts = conninfo_to_dict(dsn)
    except ProgrammingError:  # unparsable: say nothing of it rather than leak a secret
        return "the given server"
    if is_postgres_url(dsn):
        url = urlsplit(dsn)
        userinfo, at, host = url.netloc.rpartition("@")
        netloc = f"{userinfo.partition(':')[0]}@{host}" if at else host
        query = "&".join(item for item in url.query.split("&")
                         if item and unquote(item.partition("=")[0]).strip().lower() != "password")
        return for_terminal(urlunsplit((url.scheme, netloc, url.path, query, "")))
    parts.pop("password", None)
    return for_terminal(make_conninfo(**parts))



# --- a whole database, table by table (schema/dbcopy.py) ----------------------------------

_JSONB_COLUMNS = {"events": ("key", "before", "after")}
_ID_SEQUENCES = {"articles": "seq", "events": "id"}  # identity columns a copy fills itself


class PgCopyEnd:
    """A PostgreSQL database as one end of `dbcopy.copy_database`, through the
    administrator's connection (the tables' owner, whom row-level security does not bind).
    Writing creates the schema first when the database has none."""

    def __init__(self, conn: psycopg.Connection) -> None:
        self.conn = conn

    def count_rows(self, table: str) -> int:
        """How many rows one of dbcopy.COPY_TABLES holds (0 before the schema exists)."""
        from psycopg import sql

        if stored_version(self.conn) is None:
            return 0
        return self.conn.execute(sql.SQL("SELECT count(*) FROM public.{}").format(sql.Identifier(table))).fetchone()[0]

    def read_rows(self, table: str, batch: int) -> Iterator[list[tuple]]:
        """The rows (COPY_TABLES' columns; jsonb as compact JSON text, as SQLite keeps it) in
        the table's key order, in batches, through a server-side cursor."""
        import orjson
        from psycopg import sql

        if stored_version(self.conn) is None:
            raise CopyError(f"{self.conn.info.dbname} holds no newsmark database (no schema)")
        columns, key = COPY_TABLES[table]
        jsonb = [i for i, column in enumerate(columns) if column in _JSONB_COLUMNS.get(table, ())]
        query = sql.SQL("SELECT {} FROM public.{} ORDER BY {}").format(
            sql.SQL(", ").join(map(sql.Identifier, columns)), sql.Identifier(table),
            sql.SQL(", ").join(map(sql.Identifier, key)))
        with self.conn.transaction(), self.conn.cursor(name=f"newsmark_copy_{table}") as cursor:
            cursor.execute(query)
            while rows := cursor.fetchmany(batch):
                if jsonb:
                    rows = [tuple(orjson.dumps(v).decode() if i in jsonb and v is not None else v
                                  for i, v in enumerate(row)) for row in rows]
                yield rows

    def write_tables(self, tables: Iterable[tuple[str, Iterator[list[tuple]]]]) -> None:
        """Create the schema if missing, then write every table in one transaction (COPY;
        settings as upserts), and move the identity sequences past the ids written."""
        from psycopg import sql

        create_schema(self.conn)
        with self.conn.transaction():
            for table, batches in tables:
                names = sql.SQL(", ").join(map(sql.Identifier, COPY_TABLES[table].columns))
                if table == "settings":
                    upsert = sql.SQL("INSERT INTO public.settings ({}) VALUES (%s, %s) "
                                     "ON CONFLICT (key) DO UPDATE SET value = excluded.value").format(names)
                    for rows in batches:
                        self.conn.cursor().executemany(upsert, rows)
                    continue
                if table == "events":
                    # The log keeps its ids and actions: the owner sets aside, inside this
                    # transaction only, the trigger that makes analysts take theirs from the
                    # sequence (schema/pg_schema.py).
                    self.conn.execute("ALTER TABLE public.events DISABLE TRIGGER events_insert")
                with self.conn.cursor().copy(sql.SQL("COPY public.{} ({}) FROM STDIN").format(
                        sql.Identifier(table), names)) as copy:
                    for rows in batches:
                        for row in rows:
                            copy.write_row(row)
                if table == "events":
                    self.conn.execute("ALTER TABLE public.events ENABLE TRIGGER events_insert")
            for table, column in _ID_SEQUENCES.items():
                self.conn.execute(sql.SQL(
                    "SELECT setval(pg_get_serial_sequence({}, {}), coalesce(max({}), 0) + 1, false) FROM public.{}").format(
                    sql.Literal(f"public.{table}"), sql.Literal(column), sql.Identifier(column), sql.Identifier(table)))
