"""The PostgreSQL engine: a psycopg 3 connection that speaks the store's SQL.

The store's SQL is written once, in the subset SQLite and PostgreSQL share (upserts with
ON CONFLICT, `->>` on JSON, RETURNING, CAST, coalesce), with SQLite's `?` placeholders.
`PgConnection` runs it on PostgreSQL through the few rewrites the two dialects still need,
each made once per statement text and cached (`translate`), so a keystroke's statements
cost a dictionary lookup here and use server-side prepared plans after their fifth run:

- `?` and `?N` placeholders become `$n` (a raw cursor: no client-side quoting at all);
- `INSERT OR IGNORE INTO ...` becomes `INSERT INTO ... ON CONFLICT DO NOTHING`;
- `json_each(?)` (a JSON array passed as one parameter, the store's way of sending a list)
  becomes `json_array_elements_text(...)` with its `value` and 0-based `key` columns, or
  `json_array_elements` where the statement reads the elements with `->>`;
- `json_extract(x, '$.f')` and `'$[n]'` become `x::json ->> 'f'` and `->> n` (text);
- the schema names `main.` and `temp.` become `public.` and `pg_temp.`;
- `json_group_object` becomes `json_object_agg` (NULL, not '{}', over no rows: the store
  writes coalesce around it);
- `group_concat(x, sep)` becomes `string_agg(CAST(x AS TEXT), sep)`;
- `CROSS JOIN t ON ...` and `INDEXED BY i` (SQLite's ways to fix a plan) become `JOIN t
  ON ...` and nothing: PostgreSQL's planner chooses by its statistics;
- `LIMIT -1` becomes `LIMIT ALL`, and `LIKE` (ASCII case-insensitive in SQLite) `ILIKE`;
- `BEGIN IMMEDIATE` becomes `BEGIN` (row locks do what SQLite's database lock does).

Errors come out as sqlite3's exception classes (`_as_sqlite_error`), so the store and the
commands handle both engines' failures with one set of `except` clauses.

Values come back as SQLite gives them: JSON and JSONB columns as their text, and Python
booleans go in as 0/1 (the flags are integers in both schemas).

Why not SQLAlchemy Core: the store's 300-odd statements are already SQL, its hot paths
(a keystroke's read-modify-write and event row, an import's COPY) gain nothing from an
expression compiler, and a compiled statement per call would cost more than this cache.
"""

from __future__ import annotations

import contextlib
import functools
import re
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import psycopg
import psycopg.errors
from psycopg.pq import TransactionStatus
from psycopg.types.string import TextLoader

_TOKEN = re.compile(r"""'(?:[^']|'')*'|"[^"]*"|\?(\d*)""")
_INSERT_OR_IGNORE = re.compile(r"^\s*INSERT\s+OR\s+IGNORE\s+INTO\b", re.I)
_JSON_EACH = re.compile(r"\bjson_each\((\$\d+)\)(\s+(?:AS\s+)?(?!WHERE\b|JOIN\b|ON\b|CROSS\b|ORDER\b|GROUP\b)([a-z_]\w*))?",
                        re.I)
_GROUP_CONCAT = re.compile(r"\bgroup_concat\(", re.I)
_CROSS_JOIN_ON = re.compile(r"\bCROSS\s+JOIN\s+([\w.]+(?:\s+(?:AS\s+)?(?!ON\b)\w+)?)\s+ON\b", re.I)
_NO_LIMIT = re.compile(r"\bLIMIT -1\b", re.I)
_LIKE = re.compile(r"\bLIKE\b")
_BEGIN_IMMEDIATE = re.compile(r"^\s*BEGIN\s+IMMEDIATE\s*$", re.I)
_JSON_EXTRACT = re.compile(r"\bjson_extract\(([\w.]+), '\$(?:\[(\d+)\]|\.(\w+))'\)", re.I)
_INDEXED_BY = re.compile(r"\s+INDEXED\s+BY\s+\w+", re.I)
_SCHEMA = re.compile(r"\b(main|temp)\.(?=[a-z_\"])", re.I)


@functools.lru_cache(maxsize=4096)
def translate(sql: str) -> str:
    """The PostgreSQL text of a statement in the store's SQL (see the module docstring)."""
    if _BEGIN_IMMEDIATE.match(sql):
        return "BEGIN"
    counter = 0

    def placeholder(match: re.Match) -> str:
        nonlocal counter
        if not match.group(0).startswith("?"):
            return match.group(0)  # a string literal or a quoted identifier
        if match.group(1):
            return f"${match.group(1)}"
        counter += 1
        return f"${counter}"

    text = _TOKEN.sub(placeholder, sql)
    text = _SCHEMA.sub(lambda m: "public." if m.group(1).lower() == "main" else "pg_temp.", text)
    if "json_extract" in text:
        text = _JSON_EXTRACT.sub(
            lambda m: f"(({m.group(1)})::json ->> {m.group(2) if m.group(2) else repr(m.group(3))})", text)
    if _INSERT_OR_IGNORE.match(text):
        text = _INSERT_OR_IGNORE.sub("INSERT INTO", text, count=1).rstrip().rstrip(";") + " ON CONFLICT DO NOTHING"
    if "json_each" in text:
        elements = "json_array_elements" if "value ->>" in text else "json_array_elements_text"

        def each(match: re.Match) -> str:
            alias = match.group(3) or "json_each"
            return f"(SELECT value, ordinality - 1 AS key FROM {elements}({match.group(1)}::json) WITH ORDINALITY " \
                   f"AS e(value, ordinality)) AS {alias}"

        text = _JSON_EACH.sub(each, text)
    text = _CROSS_JOIN_ON.sub(r"JOIN \1 ON", text)
    if "INDEXED" in text:
        text = _INDEXED_BY.sub("", text)
    text = _NO_LIMIT.sub("LIMIT ALL", text)
    text = _LIKE.sub("ILIKE", text)
    text = text.replace("json_group_object(", "json_object_agg(")
    if "group_concat" in text:
        text = _concat_as_text(text)
    return text


def _concat_as_text(text: str) -> str:
    """group_concat(x, sep) -> string_agg(CAST(x AS TEXT), sep), x found by its parentheses."""
    out = []
    at = 0
    for match in _GROUP_CONCAT.finditer(text):
        if match.start() < at:
            continue  # inside a group_concat already rewritten (nested ones are not used)
        depth, index, comma = 1, match.end(), None
        while depth:
            char = text[index]
            if char == "(":
                depth += 1
            elif char == ")":
                depth -= 1
            elif char == "," and depth == 1 and comma is None:
                comma = index
            index += 1
        argument_end = comma if comma is not None else index - 1
        out.append(text[at:match.start()])
        out.append(f"string_agg(CAST({text[match.end():argument_end]} AS TEXT)")
        out.append(text[argument_end:index] if comma is not None else ", ',')")
        at = index
    out.append(text[at:])
    return "".join(out)


def _as_sqlite_error(exc: psycopg.Error) -> sqlite3.Error:
    """The sqlite3 exception class the store and the commands already handle, for a
    psycopg error (DB-API's own hierarchy: one set of `except` clauses for both engines).
    A refusal by the server's rights says so in words the user can act on."""
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if isinstance(exc, psycopg.errors.InsufficientPrivilege):
        return sqlite3.DatabaseError(f"permission denied: {message}")
    if isinstance(exc, psycopg.IntegrityError):
        return sqlite3.IntegrityError(message)
    if isinstance(exc, psycopg.OperationalError):
        return sqlite3.OperationalError(message)
    return sqlite3.DatabaseError(message)


def _params(params: Sequence[Any] | None) -> Sequence[Any] | None:
    if not params:
        return None
    if any(value is True or value is False for value in params):
        return [int(value) if isinstance(value, bool) else value for value in params]
    return params


class PgCursor:
    """What the store reads of a cursor: rows, one or all, or by iteration."""

    def __init__(self, cursor: psycopg.Cursor) -> None:
        self._cursor = cursor

    def fetchone(self) -> tuple | None:
        return self._cursor.fetchone() if self._cursor.description is not None else None

    def fetchall(self) -> list[tuple]:
        return self._cursor.fetchall() if self._cursor.description is not None else []

    def __iter__(self) -> Iterator[tuple]:
        return iter(self.fetchall())

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount


class PgConnection:
    """A psycopg connection with the part of sqlite3.Connection's interface the store uses
    (autocommit: transactions are the store's own BEGIN ... COMMIT, as on SQLite)."""

    engine = "postgresql"

    def __init__(self, conn: psycopg.Connection) -> None:
        self.raw = conn
        self.total_changes = 0  # rows inserted, updated or deleted so far, as sqlite3 counts them
        self._streams = 0  # server-side cursors opened (each gets a name of its own)
        for json_type in ("json", "jsonb"):
            conn.adapters.register_loader(json_type, TextLoader)

    @classmethod
    def connect(cls, dsn: str) -> PgConnection:
        """Connect to the database of a postgresql:// URL or a libpq connection string."""
        try:
            return cls(psycopg.connect(dsn, autocommit=True))
        except psycopg.Error as exc:
            raise _as_sqlite_error(exc) from exc

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> PgCursor:
        cursor = psycopg.RawCursor(self.raw)
        try:
            cursor.execute(translate(sql), _params(params))
        except psycopg.Error as exc:
            raise _as_sqlite_error(exc) from exc
        if cursor.rowcount > 0 and cursor.description is None:
            self.total_changes += cursor.rowcount
        return PgCursor(cursor)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        rows = [_params(row) or () for row in rows]
        if rows:
            with psycopg.RawCursor(self.raw) as cursor:
                try:
                    cursor.executemany(translate(sql), rows)
                except psycopg.Error as exc:
                    raise _as_sqlite_error(exc) from exc
                self.total_changes += max(cursor.rowcount, 0)

    def copy_rows(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
        """COPY rows into `table` (PostgreSQL's fastest way in)."""
        from psycopg import sql

        statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns)))
        try:
            with self.raw.cursor() as cursor, cursor.copy(statement) as copy:
                for row in rows:
                    copy.write_row(row)
        except psycopg.Error as exc:
            raise _as_sqlite_error(exc) from exc

    def stream(self, sql: str, params: Sequence[Any] | None = None, *, batch: int = 2_000) -> Iterator[tuple]:
        """A query's rows, fetched `batch` at a time from a server-side cursor, so that a
        big result (an export) is never held whole in this process; other statements may
        run between batches. The cursor is WITH HOLD (the server keeps the result past the
        statement's own transaction), so no transaction is left open while a caller
        iterates, or abandons the iteration."""
        self._streams += 1
        cursor = psycopg.RawServerCursor(self.raw, f"newsmark_stream_{self._streams}", withhold=True)
        try:
            try:
                cursor.execute(translate(sql), _params(params))
                while rows := cursor.fetchmany(batch):
                    yield from rows
            except psycopg.Error as exc:
                raise _as_sqlite_error(exc) from exc
        finally:
            if not self.raw.closed:
                with contextlib.suppress(psycopg.Error):
                    cursor.close()

    def notifications(self) -> int:
        """How many notifications (of a channel this connection LISTENs on) have arrived
        since the last call: read off the socket, no round trip to the server."""
        return sum(1 for _ in self.raw.notifies(timeout=0))

    @property
    def in_transaction(self) -> bool:
        return self.raw.info.transaction_status != TransactionStatus.IDLE

    def commit(self) -> None:
        if self.in_transaction:
            self.execute("COMMIT")

    def close(self) -> None:
        self.raw.close()


def connection_failure(url: str, exc: BaseException, *, doing: str = "connect to") -> str:
    """One line saying why the server at `url` (password hidden) could not be used."""
    from newsmark.schema.pg_admin import redacted

    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return f"cannot {doing} {redacted(url)}: {reason}"
