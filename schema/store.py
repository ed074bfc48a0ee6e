"""The SQLite store: stories, articles, annotations, claims, gold, and the event log.

Every change goes through `Store._commit`, one `BEGIN IMMEDIATE` transaction that reads
the rows' current values, writes the new ones and appends one event per row changed
(who, when, what, before, after). Undo and redo replay those events, so they work from
any front end and across restarts. Several processes may write one database at once:
WAL mode, a busy timeout, and immediate transactions that never upgrade a read lock.
"""

from __future__ import annotations

import fcntl
import functools
import hashlib
import os
import random
import re
import sqlite3
import stat
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from newsmark.schema.dbcopy import COPY_TABLES, CopyTable
from newsmark.schema.engines import is_postgres_url
from newsmark.schema.migrations import APPLICATION_ID, REQUIRED_TABLES, MigrationError, check_version, migrate
from newsmark.schema.models import Article, Claim, Event, Story, utc_now
from newsmark.schema.sanitize import for_terminal, sanitize_inline, sanitize_text
from newsmark.schema.scheme import Scheme, default_scheme, default_scheme_text, parse_scheme

BUSY_TIMEOUT_MS = 10_000
# How many busy timeouts a write waits in all for another process's write lock
# (see Store._begin_immediate).
WRITE_WAIT_ROUNDS = 30
CONTEXT_CHARS = 32  # length of a claim's prefix and suffix

# For each table the event log may touch: its key columns and its value columns.
TABLES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # story_id is '' for a field of scope "article" (one value wherever the article is).
    "labels": (("article_id", "story_id", "annotator", "field"), ("value",)),
    # A note and a flag belong to the article within one story.
    "annotations": (("article_id", "story_id", "annotator"), ("note", "flagged")),
    "claims": (
        ("id",),
        ("article_id", "annotator", "start", "end", "exact", "prefix", "suffix", "cluster", "created_at"),
    ),
    "claim_labels": (("claim_id", "field"), ("value",)),
    "clusters": (("id",), ("story_id", "label", "created_by", "created_at")),
    "gold": (("article_id", "story_id", "field"), ("value", "by", "reason", "at")),
    "stories": (("id",), ("title", "proposition", "meta")),
    "story_articles": (("story_id", "article_id"), ()),
    "gold_claims": (
        ("id",),
        ("article_id", "start", "end", "exact", "prefix", "suffix", "labels", "cluster", "by", "reason", "at"),
    ),
}
# The tables of annotation work (what a load writes row by row); the other two are the
# stories and their memberships, which curating writes through the event log too.
ANNOTATION_TABLES = {name: cols for name, cols in TABLES.items() if name not in ("stories", "story_articles")}
# Tables whose rows carry their own updated_at, stamped with the action's time.
_STAMPED = {"labels"}
# Tables whose changes are nobody's annotation: undoing them stamps no annotations row.
_NOT_ANNOTATION = {"gold", "gold_claims", "stories", "story_articles"}


class StoreError(RuntimeError):
    """A request the store refuses, with a message fit for the user."""


class UndoRefused(StoreError):
    """An undo or redo refused because a later change touched a row it would write; the
    message names that change. The action was taken off the undo (or redo) list."""

    def __init__(self, message: str, action: int, *, undo: bool) -> None:
        super().__init__(message)
        self.action = action
        self.undo = undo
        self.title = "Not undone" if undo else "Not redone"  # for a notification


@dataclass
class Change:
    """One row of one table set to `after` (None deletes it)."""

    tbl: str
    key: dict[str, Any]
    after: dict[str, Any] | None


@dataclass(frozen=True)
class GoldEntry:
    """A gold value to write: a field of an article as read in a story (None: the article's
    own story; ignored for an article-scoped field); value None removes it."""

    story_id: str | None
    article_id: str
    field: str
    value: str | None
    reason: str = ""


@dataclass(frozen=True)
class GoldClaimEntry:
    """A gold claim to write: a span of an article with its labels and cluster."""

    article_id: str
    start: int
    end: int
    reason: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    cluster: str | None = None


@dataclass(frozen=True, slots=True)
class FreshAnnotation:
    """A loaded annotation record with nothing local to compare (most records of a load):
    its labels, note and flag, every row of them new. Store.write_loaded writes it as it
    would write `changes()`, without building them."""

    article_id: str
    story_id: str
    annotator: str
    at: str
    story_labels: dict[str, str]  # story-scoped fields
    shared_labels: dict[str, str]  # article-scoped fields (story_id '')
    note: str | None
    flagged: bool

    def changes(self) -> list[Change]:
        """The same action as generic changes, in the order they are logged."""
        key = {"article_id": self.article_id, "story_id": self.story_id, "annotator": self.annotator}
        changes = [Change("labels", {**key, "field": name}, {"value": value}) for name, value in self.story_labels.items()]
        changes += [Change("labels", {**key, "story_id": "", "field": name}, {"value": value})
                    for name, value in self.shared_labels.items()]
        changes.append(Change("annotations", key, {"note": self.note, "flagged": self.flagged}))
        return changes

    def as_action(self) -> tuple[str, list[tuple[Change, None]], str]:
        """The same action in write_loaded's generic form (every row new)."""
        return self.annotator, [(change, None) for change in self.changes()], self.at


# One loaded record's action for Store.write_loaded: its annotator, its changes each with
# the row's current values (None: no row), and its time; or a fresh annotation record's.
LoadedAction = tuple[str, list[tuple["Change", dict[str, Any] | None]], str] | FreshAnnotation

# A (story, article, annotator) an action touched: its annotations row is stamped. A story
# of None means the article's own story (the one it was first imported into).
Touched = tuple[str | None, str, str]


@dataclass
class ActionResult:
    """What one committed action did: its id, its events, the annotations it touched."""

    action: int | None
    op: str
    events: list[Event] = field(default_factory=list)
    touched: list[Touched] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        """False when the action found everything already as asked (nothing written)."""
        return bool(self.events)


def default_db_path() -> Path:
    """`$NEWSMARK_DB`, else ./newsmark.db."""
    return Path(os.environ.get("NEWSMARK_DB") or "newsmark.db")


# The catch-all stories of `import --group` (ids starting with this) hold articles that
# arrived without a story, until grouping moves them into stories of their own.
CATCH_ALL_PREFIX = "ungrouped"


def joins_story(story: str, article: str) -> str:
    """The SQL condition under which the article (an SQL expression) joins the story it
    arrives under: always, unless that is a catch-all story and the article is in a story
    already — a text imported again into the catch-all is not to be grouped again."""
    return (f"NOT (substr(CAST({story} AS TEXT), 1, {len(CATCH_ALL_PREFIX)}) = '{CATCH_ALL_PREFIX}' AND EXISTS "
            f"(SELECT 1 FROM story_articles WHERE article_id = {article}))")


def claim_id_for(article_id: str, annotator: str, start: int, end: int) -> str:
    """A claim's id: stable for the same span by the same annotator in the same article."""
    digest = hashlib.sha256(f"{article_id}\x1f{annotator}\x1f{start}\x1f{end}".encode()).hexdigest()
    return digest[:16]


WORDING_CHARS = 200  # the longest automatic wording of a claim cluster
# An annotations row (alias n) that holds work: a note, a flag, a label of the article in
# that story or shared, or a claim. A row left empty (a flag set and cleared) is no
# annotation: no export carries it, so agreement and gold must not count its annotator as
# a coder of the article (one who found no claim there).
_WORKED_ON = ("(n.note IS NOT NULL OR n.flagged != 0 "
              "OR EXISTS (SELECT 1 FROM labels l WHERE l.article_id = n.article_id AND l.annotator = n.annotator "
              "AND l.story_id IN ('', n.story_id)) "
              "OR EXISTS (SELECT 1 FROM claims c WHERE c.article_id = n.article_id AND c.annotator = n.annotator))")
ACTIVITY_SCAN = 20_000  # newest events `active_annotators` looks at


def default_wording(exact: str) -> str:
    """A new cluster's wording: the claim's text, cut (when longer than WORDING_CHARS) at
    the last space that keeps at least half of it, with "…" — never mid-word."""
    if len(exact) <= WORDING_CHARS:
        return exact
    cut = exact.rfind(" ", 0, WORDING_CHARS)
    if cut < WORDING_CHARS // 2:
        cut = WORDING_CHARS - 1
    return exact[:cut].rstrip() + "…"


def claim_context(text: str, start: int, end: int) -> tuple[str, str, str]:
    """The exact text of a span with up to CONTEXT_CHARS of prefix and suffix."""
    return text[start:end], text[max(0, start - CONTEXT_CHARS) : start], text[end : end + CONTEXT_CHARS]


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    """SQLITE_BUSY (another connection holds the lock), as opposed to other failures."""
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF == sqlite3.SQLITE_BUSY
    return "database is locked" in str(exc) or "database is busy" in str(exc)


def _backoff(attempt: int) -> None:
    """Sleep before the attempt-th retry of a bulk writer's BEGIN (after a whole busy
    timeout spent in SQLite's own handler): 2 ms doubling to 50 ms, jittered so waiting
    writers spread out."""
    time.sleep(min(0.05, 0.001 * 2 ** min(attempt, 6)) * random.uniform(0.5, 1.5))


_SHOWN_TABLES = 10  # tables named in the refusal of another application's database


def _refuse_foreign(db_path: Path) -> None:
    """Raise StoreError unless `db_path` is a newsmark database, an empty file, an empty
    SQLite database or a new path, without writing a byte of it (or beside it).

    A newsmark database carries APPLICATION_ID in its header; one made before that holds
    every table of REQUIRED_TABLES. The header is read directly; the tables through a
    read-only connection (immutable when no WAL file exists, so none is created).
    """
    shown = for_terminal(db_path)
    try:
        info = os.stat(db_path)
    except FileNotFoundError:
        return
    except OSError:
        return  # unreadable: SQLite's own error says why, for what the caller was doing
    if stat.S_ISDIR(info.st_mode):
        raise StoreError(f"{shown} is a directory, not a newsmark database")
    if not stat.S_ISREG(info.st_mode):
        raise StoreError(f"{shown} is not a newsmark database (not a regular file); newsmark changes nothing in it")
    if info.st_size == 0:
        return
    # Everything is read through SQLite, never with open(): closing any other descriptor of
    # the file would drop every POSIX lock this process holds on it (the store's own
    # connections' included), and another process could then checkpoint and delete the
    # WAL under a connection still writing to it. Immutable when no WAL file exists, so
    # none is created beside a file that is not ours.
    wal_file = os.path.exists(f"{db_path}-wal")
    uri = db_path.resolve().as_uri() + ("?mode=ro" if wal_file else "?mode=ro&immutable=1")
    conn = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
    try:
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if app_id == APPLICATION_ID:
            check_version(version)  # a newer newsmark's: not even WAL
            return
        objects = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        tables = [row[0] for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name"
        )]
    except sqlite3.OperationalError:
        raise  # locked, unreadable: the caller says which
    except sqlite3.DatabaseError as exc:
        if "not a database" in str(exc):
            raise StoreError(f"{shown} is not a newsmark database (not an SQLite database); newsmark changes nothing in it") from None
        raise StoreError(f"{shown} is not a usable newsmark database: {for_terminal(exc)}") from None
    finally:
        conn.close()
    if app_id == APPLICATION_ID or (app_id == 0 and REQUIRED_TABLES <= set(tables)):
        check_version(version)  # ours (or, without the id, from before it existed)
        return
    if app_id == 0 and version == 0 and objects == 0:
        return  # an empty SQLite database: nothing in it to lose
    if tables:
        named = ", ".join(for_terminal(name) for name in tables[:_SHOWN_TABLES])
        more = f" and {len(tables) - _SHOWN_TABLES} more" if len(tables) > _SHOWN_TABLES else ""
        held = f"it holds tables: {named}{more}"
    else:
        held = f"it holds no tables but is marked by another application: application_id {app_id}, user_version {version}"
    raise StoreError(f"{shown} is not a newsmark database ({held}); newsmark changes nothing in it")


# An interactive write (a keystroke) polls for the write lock itself, every POLL_SECONDS at
# most: SQLite's own busy handler sleeps up to 100 ms between tries, so a bulk writer that
# takes the lock again within its short pause between transactions would win every time.
POLL_SECONDS = 0.002
# A bulk writer (import, load) sleeps this long after each commit, so an interactive writer
# polling every POLL_SECONDS takes the lock before the bulk writer's next transaction.
BULK_PAUSE_SECONDS = 0.006


def _poll(attempt: int) -> None:
    """Sleep before the attempt-th retry of an interactive BEGIN: 0.25 ms doubling to
    POLL_SECONDS."""
    time.sleep(min(POLL_SECONDS, 0.00025 * 2 ** min(attempt, 4)))

# A big import publishes its rows in short transactions (a keystroke never waits long for
# the write lock) into a block of `seq` values it reserves: recorded in `settings` under
# IMPORTING_KEY + its batch id as [first, last], the last held by a placeholder row so that
# no other writer's rows land inside the block. Readers leave the block out (`visible`)
# until the import's final transaction deletes the record: the file appears whole, at once.
IMPORTING_KEY = "importing:"
_IMPORTING_RANGE = "h.key >= 'importing:' AND h.key < 'importing;'"  # ';' follows ':'
_PLACEHOLDER = "~importing~"  # the reserving row's id and story id: never a real one
_BATCH_ID = re.compile(r"[0-9a-f]{32}")


def visible(alias: str = "articles") -> str:
    """SQL condition on a row of `articles` (named `alias` in the query): it is not part of a
    file an import is still publishing. Every read of articles not scoped to an article
    the reader already holds goes through it."""
    return (f"NOT EXISTS (SELECT 1 FROM main.settings h WHERE {_IMPORTING_RANGE} "
            f"AND {alias}.seq BETWEEN CAST(json_extract(h.value, '$[0]') AS INTEGER) AND CAST(json_extract(h.value, '$[1]') AS INTEGER))")


# Per-story summary figures of the story list (articles, outlets, date range), kept so that
# sorting by them reads one small row per story instead of every article. Derived data,
# not part of the versioned schema (made when missing, by any version that opens the
# database): triggers mark a story dirty when its memberships (or an article's outlet or
# date) change, and `Store.refresh_story_stats` recomputes the dirty ones.
STORY_STATS_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS story_stats (story_id TEXT PRIMARY KEY, articles INTEGER NOT NULL, "
    "outlets INTEGER NOT NULL, first_published TEXT, last_published TEXT) WITHOUT ROWID",
    "CREATE INDEX IF NOT EXISTS story_stats_articles ON story_stats (articles, story_id)",
    "CREATE INDEX IF NOT EXISTS story_stats_outlets ON story_stats (outlets, story_id)",
    "CREATE INDEX IF NOT EXISTS story_stats_dates ON story_stats (first_published, story_id)",
    "CREATE TABLE IF NOT EXISTS story_stats_dirty (story_id TEXT PRIMARY KEY) WITHOUT ROWID",
    # INSERT OR IGNORE: an outer statement's own OR policy would replace it, and the store
    # writes memberships with plain INSERTs, upserts and INSERT OR IGNORE only.
    "CREATE TRIGGER IF NOT EXISTS story_stats_joined AFTER INSERT ON story_articles BEGIN "
    "INSERT OR IGNORE INTO story_stats_dirty (story_id) VALUES (NEW.story_id); END",
    "CREATE TRIGGER IF NOT EXISTS story_stats_left AFTER DELETE ON story_articles BEGIN "
    "INSERT OR IGNORE INTO story_stats_dirty (story_id) VALUES (OLD.story_id); END",
    "CREATE TRIGGER IF NOT EXISTS story_stats_article AFTER UPDATE OF source, published ON articles BEGIN "
    "INSERT OR IGNORE INTO story_stats_dirty (story_id) SELECT story_id FROM story_articles "
    "WHERE article_id = NEW.id; END",
    "CREATE TRIGGER IF NOT EXISTS story_stats_new AFTER INSERT ON stories BEGIN "
    "INSERT OR IGNORE INTO story_stats_dirty (story_id) VALUES (NEW.id); END",
    "CREATE TRIGGER IF NOT EXISTS story_stats_gone AFTER DELETE ON stories BEGIN "
    "DELETE FROM story_stats WHERE story_id = OLD.id; END",
)
STATS_CHUNK = 200  # dirty stories recomputed per short transaction
_CREATED_NAME = re.compile(r"CREATE \w+ IF NOT EXISTS (\w+)")
DERIVED_TABLES = frozenset(("story_stats", "story_stats_dirty"))  # this database's own, never shared


def _import_lock_path(db_path: Path, batch: str) -> str:
    return f"{db_path}.importing-{batch}.lock"


class Store:
    """A newsmark database. Open with `Store.open(path)`; usable from any thread."""

    def __init__(self, conn: sqlite3.Connection, path: Path | None, backup: Path | None, *, url: str | None = None) -> None:
        self.conn = conn
        # The engine: SQLite (a file, `path`) or PostgreSQL (a server, `url`); see schema/engines.
        self.url = url
        self.postgres = url is not None
        self.has_story_stats = False  # the story summary table exists (see _ensure_story_stats)
        self._changes_heard = 0  # PostgreSQL: notifications of other commits (see data_version)
        self.created = False  # this open made the database (a new file, or the server's schema)
        self.path = path
        self.backup = backup  # the copy made before a migration, if one ran
        self._lock = threading.RLock()
        self._scheme: Scheme | None = None

    def _stream(self, sql: str, params: Sequence[Any] = ()) -> Iterator[tuple]:
        """A big query's rows as they come, never held whole: SQLite's cursor steps through
        them; PostgreSQL's rows come from a server-side cursor (`PgConnection.stream`)."""
        if self.postgres:
            return self.conn.stream(sql, params)
        return self.conn.execute(sql, params)

    @property
    def location(self) -> str | Path | None:
        """What opens this database again with `Store.open`: the server's URL or the file."""
        return self.url if self.postgres else self.path

    # --- opening --------------------------------------------------------------------

    @classmethod
    def open(cls, path: str | Path | None = None, *, create: bool = True) -> Store:
        """Open (and create or migrate) a database; ":memory:" gives a private one."""
        if path is None:
            path = default_db_path()
        if is_postgres_url(path):
            return cls._open_postgres(str(path), create=create)
        memory = str(path) == ":memory:"
        db_path = None if memory else Path(path)
        if db_path is not None and not create and not db_path.exists():
            raise StoreError(f"no database at {for_terminal(db_path)} (create one with `newsmark init`)")
        created = db_path is None or not db_path.exists()
        if db_path is not None:
            _refuse_foreign(db_path)  # before any write: WAL, user_version, tables
        try:
            conn = sqlite3.connect(
                ":memory:" if memory else str(db_path),
                isolation_level=None,
                check_same_thread=False,
                timeout=BUSY_TIMEOUT_MS / 1000,
            )
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open database {for_terminal(path)}: {for_terminal(exc)}") from None
        try:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            if not memory:
                mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                if mode.lower() != "wal":
                    raise StoreError(f"cannot switch {for_terminal(path)} to WAL mode (got {for_terminal(mode)})")
            # FULL: a commit is on disk before the screen calls it saved.
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute("PRAGMA foreign_keys = OFF")
            backup = migrate(conn, db_path)
        except sqlite3.OperationalError:
            conn.close()
            raise  # read-only, locked, full: the caller says which, for what it was doing
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise StoreError(f"{for_terminal(path)} is not a usable newsmark database: {for_terminal(exc)}") from None
        except MigrationError as exc:
            conn.close()
            raise StoreError(for_terminal(exc)) from None
        except BaseException:
            conn.close()
            raise
        store = cls(conn, db_path, backup)
        store.created = created
        if store.get_setting("scheme") is None:
            store.set_setting("scheme", default_scheme_text())
        try:
            store._ensure_story_stats()
        except sqlite3.OperationalError:
            pass  # read-only: the story list computes its figures from the articles
        try:
            store.clear_dead_imports()
        except (sqlite3.OperationalError, OSError):
            pass  # read-only or busy: the rows stay hidden; the next import clears them
        return store

    @classmethod
    def _open_postgres(cls, url: str, *, create: bool) -> Store:
        """Open the newsmark database of a PostgreSQL server (creating its schema when it
        has none, `create` and the rights allowing: the role that does is its owner)."""
        from newsmark.schema import pg_schema
        from newsmark.schema.engines.postgres import PgConnection, connection_failure

        try:
            conn = PgConnection.connect(url)
        except Exception as exc:
            raise StoreError(connection_failure(url, exc)) from None
        try:
            version = pg_schema.stored_version(conn.raw)
            if version is None:
                if not create:
                    raise StoreError("the PostgreSQL database has no newsmark schema yet: its owner creates it "
                                     "with `newsmark init --db postgresql://OWNER@HOST/DB`")
                try:
                    pg_schema.create_schema(conn.raw)
                except Exception as exc:
                    raise StoreError(connection_failure(url, exc, doing="create the newsmark schema in")) from None
            else:
                check_version(version)
                if version < pg_schema.SCHEMA_VERSION:  # (3 is the first PostgreSQL schema: none is older yet)
                    raise StoreError(f"the PostgreSQL database is at schema version {version}, older than this "
                                     f"newsmark's {pg_schema.SCHEMA_VERSION}, and has no upgrade: copy it to an SQLite "
                                     "file with an older newsmark (`newsmark db copy`), then into a new database")
        except BaseException:
            conn.close()
            raise
        store = cls(conn, None, None, url=url)  # type: ignore[arg-type]
        store.created = version is None
        if store.get_setting("scheme") is None:
            store.set_setting("scheme", default_scheme_text())
        return store

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self, *, bulk: bool = False) -> Iterator[sqlite3.Connection]:
        """One immediate (write-locking) transaction, committed on success.

        Interactive by default: waiting for the lock polls every POLL_SECONDS, so a keystroke
        gets the lock as soon as another writer lets go of it. `bulk` (imports, loads) waits
        in SQLite's busy handler instead and, after committing, pauses BULK_PAUSE_SECONDS so
        that waiting interactive writers take the lock before its next transaction."""
        with self._lock:
            if self.postgres:
                self.conn.execute("BEGIN")  # row locks, not a database lock: nothing to wait for here
            else:
                self._begin_immediate(interactive=not bulk)
            try:
                yield self.conn
            except BaseException:
                # SQLite itself may have rolled back already (a full disk, an I/O error):
                # then a ROLLBACK would fail and hide the error that matters.
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")
        if bulk and not self.postgres:
            time.sleep(BULK_PAUSE_SECONDS)

    def _begin_immediate(self, *, interactive: bool = True) -> None:
        """BEGIN IMMEDIATE, waiting out another process's write however long it runs.

        A bulk writer waits in SQLite's busy handler, which gives up after one busy timeout
        and polls only every 100 ms; then it tries again (after `_backoff`). An interactive
        writer polls itself (busy timeout 0, `_poll` between tries). Either way the wait
        lasts up to WRITE_WAIT_ROUNDS busy timeouts in all (5 minutes at the default), and
        only then SQLite's "database is locked" goes through. Nothing has been done yet
        when BEGIN fails, so a retry is safe.
        """
        busy_ms = self.conn.execute("PRAGMA busy_timeout").fetchone()[0]
        deadline = time.monotonic() + WRITE_WAIT_ROUNDS * busy_ms / 1000
        attempt = 0
        if interactive:
            self.conn.execute("PRAGMA busy_timeout = 0")
        try:
            while True:
                try:
                    self.conn.execute("BEGIN IMMEDIATE")
                    return
                except sqlite3.OperationalError as exc:
                    if not _is_busy(exc) or time.monotonic() >= deadline:
                        raise
                attempt += 1
                (_poll if interactive else _backoff)(attempt)
        finally:
            if interactive:
                self.conn.execute(f"PRAGMA busy_timeout = {int(busy_ms)}")

    def _ensure_story_stats(self) -> None:
        """Make the story summary table and its triggers if this database has none yet,
        every story marked dirty (see STORY_STATS_SCHEMA)."""
        names = [_CREATED_NAME.match(statement).group(1) for statement in STORY_STATS_SCHEMA]
        self.has_story_stats = self.conn.execute(
            "SELECT count(*) FROM sqlite_master WHERE name IN (SELECT value FROM json_each(?))", (_dumps(names),)
        ).fetchone()[0] == len(names)
        if self.has_story_stats:
            return
        with self.transaction() as conn:
            for statement in STORY_STATS_SCHEMA:
                conn.execute(statement)
            conn.execute("INSERT OR IGNORE INTO story_stats_dirty (story_id) SELECT id FROM stories")
        self.has_story_stats = True

    # --- settings and scheme ----------------------------------------------------------

    def get_setting(self, key: str) -> str | None:
        """A stored setting, or None."""
        row = self.conn.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_setting(self, key: str, value: str) -> None:
        """Store a setting."""
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO settings (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    @property
    def scheme(self) -> Scheme:
        """The scheme stored in the database."""
        if self._scheme is None:
            text = self.get_setting("scheme")
            self._scheme = parse_scheme(text, "stored scheme") if text else default_scheme()
        return self._scheme

    def set_scheme(self, scheme_text: str, origin: str = "scheme") -> Scheme:
        """Replace the scheme, refusing one that existing labels do not fit."""
        scheme = parse_scheme(scheme_text, origin)
        problems = []
        for level, table in (("article", "labels"), ("claim", "claim_labels")):
            for fld, value, count in self.conn.execute(
                f"SELECT field, value, count(*) FROM {table} GROUP BY field, value"
            ):
                why = scheme.check_value(fld, value, level)  # type: ignore[arg-type]
                if why:
                    problems.append(f"{count} {level} label(s) {fld}={value}: {why}")
        # A field whose scope changes would leave its stored values under the other scope.
        moved = sorted(scheme.story_fields() ^ self.scheme.story_fields())
        for fld in moved:
            count = self.conn.execute(
                "SELECT (SELECT count(*) FROM labels WHERE field = ?1) + (SELECT count(*) FROM gold WHERE field = ?1)",
                (fld,)).fetchone()[0]
            if count:
                problems.append(f"{count} label(s) of {fld} were given with scope "
                                f"{'story' if fld in self.scheme.story_fields() else 'article'}: its scope cannot change")
        if problems:
            raise StoreError("the new scheme does not fit existing labels: " + "; ".join(problems))
        self.set_setting("scheme", scheme_text)
        self._scheme = scheme
        return scheme

    # --- stories and articles ---------------------------------------------------------

    def upsert_story(self, story: Story, conn: sqlite3.Connection | None = None) -> None:
        """Create a story, or update its title, proposition and meta (inside `conn`'s
        transaction, else in one of its own)."""
        if conn is None:
            with self.transaction() as tx:
                self.upsert_story(story, tx)
            return
        conn.execute(
            "INSERT INTO stories (id, title, proposition, meta) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (id) DO UPDATE SET title = excluded.title, "
            "proposition = excluded.proposition, meta = excluded.meta",
            (story.id, story.title, story.proposition, _dumps(story.meta)),
        )

    def ensure_story(self, conn: sqlite3.Connection, story: Story) -> None:
        """Inside a transaction: create the story if it does not exist yet."""
        conn.execute(
            "INSERT OR IGNORE INTO stories (id, title, proposition, meta) VALUES (?, ?, ?, ?)",
            (story.id, story.title, story.proposition, _dumps(story.meta)),
        )

    ARTICLE_INSERT = (
        "INSERT OR IGNORE INTO articles (id, story_id, source, url, title, byline, published, "
        "text, text_sha256, meta, origin) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    )

    def insert_articles(self, conn: sqlite3.Connection, rows: Sequence[tuple]) -> int:
        """Inside a transaction: insert article rows (ARTICLE_INSERT's order) into their
        stories; return how many were new (the rest were duplicates of text already stored:
        they join the row's story too)."""
        before = conn.total_changes
        conn.executemany(self.ARTICLE_INSERT, rows)
        new = conn.total_changes - before
        self.add_to_stories(conn, [(row[1], row[0]) for row in rows])
        return new

    def regroup(self, conn: sqlite3.Connection, story_id: str, article_ids: Sequence[str],
                from_stories: Sequence[str]) -> set[str]:
        """Inside a transaction (an import's grouping, not an annotator's action): move
        articles out of `from_stories` into `story_id` (their own story too, where it was one
        of those); return the stories they left. Stories left empty are removed."""
        left: set[str] = set()
        wanted = set(from_stories)
        for start in range(0, len(article_ids), 500):
            chunk = list(article_ids[start:start + 500])
            marks = ",".join("?" * len(chunk))
            left.update(row[0] for row in conn.execute(
                f"SELECT DISTINCT story_id FROM story_articles WHERE article_id IN ({marks})", chunk)
                if row[0] in wanted)
        conn.executemany("DELETE FROM story_articles WHERE article_id = ? AND story_id IN (SELECT value FROM json_each(?))",
                         [(aid, _dumps(sorted(wanted))) for aid in article_ids])
        self.add_to_stories(conn, [(story_id, aid) for aid in article_ids])
        conn.executemany("UPDATE articles SET story_id = ? WHERE id = ? AND story_id IN (SELECT value FROM json_each(?))",
                         [(story_id, aid, _dumps(sorted(wanted))) for aid in article_ids])
        for old in sorted(left):
            conn.execute("DELETE FROM stories WHERE id = ? AND NOT EXISTS "
                         "(SELECT 1 FROM story_articles WHERE story_id = ?)", (old, old))
        return left

    # Unqualified names: a load's shadow tables (TEMP, same names) take these writes.
    MEMBERSHIP_INSERT = ("INSERT OR IGNORE INTO story_articles (story_id, article_id) SELECT ?1, ?2 "
                         f"WHERE {joins_story('?1', '?2')}")

    def add_to_stories(self, conn: sqlite3.Connection, pairs: Iterable[tuple[str, str]]) -> None:
        """Inside a transaction: put articles into stories, (story_id, article_id) pairs; a
        pair already there is left as it is. An article may be in any number of stories
        (see `joins_story` for the one exception)."""
        conn.executemany(self.MEMBERSHIP_INSERT, pairs)

    ARTICLE_INSERT_UTF8 = ARTICLE_INSERT.replace("?, ?, ?, ?, ?, ?, ?, ?,", "?, ?, ?, ?, ?, ?, ?, CAST(? AS TEXT),")

    def insert_articles_utf8(self, conn: sqlite3.Connection, rows: Sequence[tuple]) -> int:
        """As `insert_articles`, for rows whose text is UTF-8 bytes: bound as a blob and cast
        to TEXT byte for byte (the database's encoding is UTF-8), so rows received from another
        process are stored without decoding their texts into str and encoding them again."""
        before = conn.total_changes
        conn.executemany(self.ARTICLE_INSERT_UTF8, rows)
        new = conn.total_changes - before
        self.add_to_stories(conn, [(row[1], row[0]) for row in rows])
        return new

    # Staging: a big file's rows are written into a TEMP table of this connection (no write
    # lock on the database, invisible to every other connection, gone with the connection
    # if the process dies), then moved into `articles` by one transaction (publish_staged):
    # readers see all of the file or none of it, and a killed import leaves nothing behind.
    _STAGED_COLUMNS = "id, story_id, source, url, title, byline, published, text, text_sha256, meta, origin"

    # Without a lock file beside the database (":memory:", a read-only folder) a big file is
    # staged in this connection's TEMP table and published in one transaction; up to this
    # many bytes in memory, above it in SQLite's temporary directory (SQLITE_TMPDIR or
    # /var/tmp, /tmp), whose pages live in the OS's file cache, not in this process.
    STAGE_MEMORY_BYTES = 32 * 1024 * 1024

    # A big file's rows are published in chunks of about this many rows or bytes of text,
    # each its own short transaction (tens of milliseconds: the WAL fsync of a few MB),
    # while the next rows are still being read.
    PUBLISH_CHUNK_ROWS = 10_000
    PUBLISH_CHUNK_BYTES = 8 * 1024 * 1024
    # The block of `seq` values an import reserves: room for any file (other writers' rows
    # go above it; seq only orders articles, so the gap it may leave costs nothing).
    _RESERVED_SEQS = 2**40

    def stage_open(self, size_hint: int = 0) -> None:
        """Start taking a big file's article rows (see `stage_articles`): a batch hidden from
        readers, published chunk by chunk as rows arrive, shown whole by
        `publish_staged_chunked`; `stage_close` ends it (removing its rows if it was not
        shown). Falls back to a TEMP staging table without a lock file beside the database."""
        self._batch = None
        lock = self._import_lock()
        if lock is not None:
            self.clear_dead_imports()  # a killed import's rows: not duplicates of this one's
            batch, lock_path, fd = lock
            self._batch = {"key": IMPORTING_KEY + batch, "placeholder": _PLACEHOLDER + batch, "lock_path": lock_path,
                           "fd": fd, "first": None, "last": None, "next": None, "pending": [], "bytes": 0,
                           "new": 0, "shown": False}
            return
        self.conn.execute("DROP TABLE IF EXISTS temp.newsmark_staged_articles")
        if self.postgres:  # (its order column: SQLite's tables have the rowid)
            self.conn.execute("CREATE TEMP TABLE newsmark_staged_articles (rowid BIGINT GENERATED ALWAYS AS IDENTITY, "
                              "id TEXT, story_id TEXT, source TEXT, url TEXT, title TEXT, byline TEXT, published TEXT, "
                              "text TEXT, text_sha256 TEXT, meta TEXT, origin TEXT)")
            return
        # (Changing temp_store drops this connection's TEMP objects; there are none now.)
        store_in = "MEMORY" if size_hint <= self.STAGE_MEMORY_BYTES else "FILE"
        self.conn.execute(f"PRAGMA temp_store = {store_in}")
        self.conn.execute(
            "CREATE TEMP TABLE newsmark_staged_articles (id TEXT, story_id TEXT, source TEXT, url TEXT, "
            "title TEXT, byline TEXT, published TEXT, text TEXT, text_sha256 TEXT, meta TEXT, origin TEXT)"
        )

    def stage_articles(self, rows: Sequence[tuple], *, utf8: bool = False) -> None:
        """Add article rows (ARTICLE_INSERT's order; with `utf8`, texts as UTF-8 bytes, see
        `insert_articles_utf8`) in order. A full chunk is published at once, hidden (one short
        transaction); otherwise no lock is taken."""
        batch = self._batch
        if batch is None and self.postgres:
            self.conn.copy_rows("newsmark_staged_articles", self._STAGED_COLUMNS.split(", "), rows)
            return
        if batch is None:
            text = "CAST(? AS TEXT)" if utf8 else "?"
            sql = (f"INSERT INTO temp.newsmark_staged_articles ({self._STAGED_COLUMNS}) "
                   f"VALUES (?, ?, ?, ?, ?, ?, ?, {text}, ?, ?, ?)")
            self.conn.execute("BEGIN")  # the temp database's own transaction: one journal per batch
            try:
                self.conn.executemany(sql, rows)
            except BaseException:
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")
            return
        batch["utf8"] = utf8
        for row in rows:
            batch["pending"].append(row)
            batch["bytes"] += len(row[7])
            if len(batch["pending"]) >= self.PUBLISH_CHUNK_ROWS or batch["bytes"] >= self.PUBLISH_CHUNK_BYTES:
                self._publish_chunk()

    def _publish_chunk(self) -> None:
        """One short transaction: the pending rows into the batch's hidden block of seqs
        (the block reserved by the first chunk)."""
        batch = self._batch
        rows, batch["pending"], batch["bytes"] = batch["pending"], [], 0
        if not rows:
            return
        text = "CAST(? AS TEXT)" if batch.get("utf8") else "?"
        with self.transaction(bulk=True) as conn:
            if batch["first"] is None:
                first = conn.execute("SELECT coalesce(max(seq), 0) + 1 FROM main.articles").fetchone()[0]
                batch["first"], batch["next"], batch["last"] = first, first, first + self._RESERVED_SEQS
                conn.execute("INSERT INTO main.settings (key, value) VALUES (?, ?)",
                             (batch["key"], f"[{batch['first']}, {batch['last']}]"))
                conn.execute("INSERT INTO main.articles (seq, id, story_id, text, text_sha256) VALUES (?, ?, ?, '', '')",
                             (batch["last"], batch["placeholder"], batch["placeholder"]))
            start = batch["next"]
            before = conn.total_changes
            # ON CONFLICT (id) only: a clash of seq (none can happen) fails loudly.
            conn.executemany(
                f"INSERT INTO main.articles (seq, {self._STAGED_COLUMNS}) "
                f"VALUES (?, ?, ?, ?, ?, ?, ?, ?, {text}, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
                [(start + offset, *row) for offset, row in enumerate(rows)],
            )
            batch["new"] += conn.total_changes - before
            self.add_to_stories(conn, [(row[1], row[0]) for row in rows])
        batch["next"] = start + len(rows)

    def publish_staged(self, conn: sqlite3.Connection) -> int:
        """Inside a transaction: insert the TEMP-staged rows into `articles` in the order
        staged (duplicates of stored texts ignored, as `insert_articles`); return how many
        were new."""
        before = conn.total_changes
        conn.execute(
            f"INSERT OR IGNORE INTO main.articles ({self._STAGED_COLUMNS}) "
            f"SELECT {self._STAGED_COLUMNS} FROM temp.newsmark_staged_articles ORDER BY rowid"
        )
        new = conn.total_changes - before
        conn.execute("INSERT OR IGNORE INTO main.story_articles (story_id, article_id) "
                     "SELECT t.story_id, t.id FROM temp.newsmark_staged_articles t "
                     f"WHERE {joins_story('t.story_id', 't.id')} ORDER BY t.rowid")
        return new

    def publish_staged_chunked(self, finish: Callable[[sqlite3.Connection], None]) -> int:
        """Publish what is left of the batch, then show it all at once in a last short
        transaction that also runs `finish(conn)` (creating the file's stories); return how
        many rows were new (duplicates of stored texts are ignored, as `insert_articles`).

        While the batch runs this process holds a BSD lock on `<db>.importing-<batch>.lock`;
        a process killed meanwhile leaves hidden rows that `clear_dead_imports` removes."""
        batch = self._batch
        if batch is None:  # no lock file: everything in one transaction
            with self.transaction(bulk=True) as conn:
                finish(conn)
                return self.publish_staged(conn)
        self._publish_chunk()
        with self.transaction(bulk=True) as conn:
            finish(conn)
            if batch["first"] is not None:
                conn.execute("DELETE FROM main.articles WHERE seq = ?", (batch["last"],))
                conn.execute("DELETE FROM main.settings WHERE key = ?", (batch["key"],))
        batch["shown"] = True
        return batch["new"]

    def _import_lock(self) -> tuple[str, str, int] | None:
        """A new batch id and its lock file, created and BSD-locked (held until released or
        this process ends), or None without a database file or a writable folder beside it.
        Never the database file itself: closing any descriptor of it would drop SQLite's
        POSIX locks (see `_refuse_foreign`); flock on another file is independent of them."""
        if self.path is None:
            return None
        batch = uuid.uuid4().hex
        path = _import_lock_path(self.path, batch)
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        except OSError:
            return None
        fcntl.flock(fd, fcntl.LOCK_EX)
        return batch, path, fd

    @staticmethod
    def _release_import_lock(path: str, fd: int) -> None:
        try:
            os.unlink(path)
        except OSError:
            pass
        os.close(fd)

    def _drop_import(self, key: str) -> int:
        """Delete an unfinished import's hidden rows and its record; return how many rows."""
        with self.transaction(bulk=True) as conn:
            row = conn.execute("SELECT value FROM main.settings WHERE key = ?", (key,)).fetchone()
            if row is None:
                return 0  # finished (or cleared) meanwhile
            first, last = orjson.loads(row[0])
            conn.execute("DELETE FROM main.story_articles WHERE article_id IN "
                          "(SELECT id FROM main.articles WHERE seq BETWEEN ? AND ?)", (first, last))
            dropped = conn.execute("DELETE FROM main.articles WHERE seq BETWEEN ? AND ?", (first, last)).rowcount
            conn.execute("DELETE FROM main.settings WHERE key = ?", (key,))
        return dropped

    def clear_dead_imports(self) -> int:
        """Delete the hidden rows of every import whose process is gone (its lock file is
        missing or not locked); return how many rows. An import still running is left alone."""
        if self.path is None:
            return 0
        keys = [row[0] for row in self.conn.execute(
            f"SELECT key FROM main.settings h WHERE {_IMPORTING_RANGE}").fetchall()]
        dropped = 0
        for key in keys:
            batch = key[len(IMPORTING_KEY):]
            if not _BATCH_ID.fullmatch(batch):
                continue
            path = _import_lock_path(self.path, batch)
            try:
                fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            except OSError:
                continue  # cannot tell: leave it hidden
            try:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue  # its importer is alive
                dropped += self._drop_import(key)
                try:
                    os.unlink(path)
                except OSError:
                    pass
            finally:
                os.close(fd)
        return dropped

    def stage_close(self) -> None:
        """End the batch: its rows, if they were not shown, are removed; its lock file goes."""
        batch, self._batch = getattr(self, "_batch", None), None
        if batch is None:
            self.conn.execute("DROP TABLE IF EXISTS temp.newsmark_staged_articles")
            if not self.postgres:
                self.conn.execute("PRAGMA temp_store = DEFAULT")
            return
        try:
            if not batch["shown"] and batch["first"] is not None:
                self._drop_import(batch["key"])
        except Exception:  # noqa: BLE001 - the caller's error matters; the rows stay hidden
            pass  # and are cleared once this process's lock is gone
        finally:
            self._release_import_lock(batch["lock_path"], batch["fd"])

    @contextmanager
    def import_cache(self, kib: int) -> Iterator[None]:
        """While importing, SQLite's page cache grown to `kib` KiB (the random article ids
        land all over the id index, which soon outgrows its default 2 MB); PostgreSQL's
        shared buffers are the server's."""
        if self.postgres:
            yield
            return
        cache_size = self.conn.execute("PRAGMA cache_size").fetchone()[0]
        if -kib < cache_size < 0:
            self.conn.execute(f"PRAGMA cache_size = -{kib}")
        try:
            yield
        finally:
            self.conn.execute(f"PRAGMA cache_size = {int(cache_size)}")

    @property
    def utf8_text(self) -> bool:
        """Texts may be bound as UTF-8 bytes (see `insert_articles_utf8`): an SQLite
        database in UTF-8, as newsmark always creates."""
        return not self.postgres and self.conn.execute("PRAGMA encoding").fetchone()[0] == "UTF-8"

    def get_story(self, story_id: str) -> Story | None:
        """One story, or None."""
        row = self.conn.execute(
            "SELECT id, title, proposition, meta FROM stories WHERE id = ?", (story_id,)
        ).fetchone()
        return _story(row) if row else None

    def stories(self, *, offset: int = 0, limit: int = -1) -> list[Story]:
        """Stories in id order (a page of them with offset and limit)."""
        rows = self.conn.execute(
            "SELECT id, title, proposition, meta FROM stories ORDER BY id LIMIT ? OFFSET ?",
            (None if limit < 0 and self.postgres else limit, offset)
        )
        return [_story(row) for row in rows]

    def story_count(self) -> int:
        """How many stories there are."""
        return self.conn.execute("SELECT count(*) FROM stories").fetchone()[0]

    def article_count(self, story_id: str | None = None) -> int:
        """How many articles there are (in one story)."""
        if story_id is None:
            return self.conn.execute(f"SELECT count(*) FROM articles WHERE {visible()}").fetchone()[0]
        return self.conn.execute(
            "SELECT count(*) FROM story_articles m JOIN articles a ON a.id = m.article_id "
            f"WHERE m.story_id = ? AND {visible('a')}", (story_id,)).fetchone()[0]

    def article_ids(self, story_id: str) -> list[str]:
        """The ids of a story's articles, in import order."""
        rows = self.conn.execute(
            "SELECT a.id FROM story_articles m JOIN articles a ON a.id = m.article_id "
            f"WHERE m.story_id = ? AND {visible('a')} ORDER BY a.seq", (story_id,))
        return [row[0] for row in rows]

    def article_texts(
        self, *, story_ids: Sequence[str] = (), article_ids: Sequence[str] = ()
    ) -> list[tuple[str, str | None, str]]:
        """(id, title, text) of the articles of some stories (each article once, in import
        order) or of the given ids (in their order; unknown ids left out)."""
        if story_ids:
            return self.conn.execute(
                "SELECT a.id, a.title, a.text FROM articles a WHERE a.id IN (SELECT article_id FROM story_articles "
                f"WHERE story_id IN (SELECT value FROM json_each(?))) AND {visible('a')} ORDER BY a.seq",
                (_dumps(list(story_ids)),),
            ).fetchall()
        found: dict[str, tuple] = {}
        for start in range(0, len(article_ids), 500):
            chunk = list(article_ids[start:start + 500])
            for row in self.conn.execute(
                f"SELECT id, title, text FROM articles WHERE id IN ({','.join('?' * len(chunk))})", chunk):
                found[row[0]] = row
        return [found[aid] for aid in article_ids if aid in found]

    def member_texts(self, *, exclude: Sequence[str] = ()) -> Iterator[tuple[str, str, str | None, str]]:
        """(story id, article id, title, text) of every membership of every story but the
        `exclude`d ones, by story and then import order (what grouping compares new
        articles with)."""
        yield from self._stream(
            "SELECT m.story_id, a.id, a.title, a.text FROM story_articles m JOIN articles a ON a.id = m.article_id "
            f"WHERE m.story_id NOT IN (SELECT value FROM json_each(?)) AND {visible('a')} ORDER BY m.story_id, a.seq",
            (_dumps(list(exclude)),),
        )

    def article_stories(self, article_id: str) -> list[str]:
        """The ids of every story an article is in, sorted."""
        rows = self.conn.execute(
            "SELECT story_id FROM story_articles WHERE article_id = ? ORDER BY story_id", (article_id,))
        return [row[0] for row in rows]

    def home_story(self, article_id: str) -> str | None:
        """The story an article was first imported into (None for an unknown article)."""
        row = self.conn.execute("SELECT story_id FROM articles WHERE id = ?", (article_id,)).fetchone()
        return row[0] if row else None

    def scope_story(self, field_name: str, story_id: str | None, article_id: str) -> str:
        """The story_id a label or gold row of this field is stored under: the story (the
        article's own when None) for a story-scoped field, '' for an article-scoped one."""
        if field_name not in self.scheme.story_fields():
            return ""
        return story_id if story_id is not None else (self.home_story(article_id) or "")

    def get_article(self, article_id: str) -> Article | None:
        """One article, or None."""
        row = self.conn.execute(
            "SELECT id, story_id, source, url, title, byline, published, text, meta, origin "
            f"FROM articles WHERE id = ? AND {visible()}",
            (article_id,),
        ).fetchone()
        if row is None:
            return None
        return Article.model_construct(
            id=row[0], story_id=row[1], source=row[2], url=row[3], title=row[4], byline=row[5],
            published=row[6], text=row[7], meta=orjson.loads(row[8]), origin=row[9],
        )

    # --- reading annotations ----------------------------------------------------------

    def annotators(self) -> list[str]:
        """Everyone who has annotated anything, sorted."""
        return [row[0] for row in self.conn.execute("SELECT DISTINCT annotator FROM annotations ORDER BY 1")]

    def labels(self, article_id: str, annotator: str, story_id: str | None = None) -> dict[str, str]:
        """An annotator's article-level labels for one article as read in one story (the
        article's own story when None): its story-scoped values there and its
        article-scoped values."""
        story = story_id if story_id is not None else (self.home_story(article_id) or "")
        rows = self.conn.execute(
            "SELECT field, value FROM labels WHERE article_id = ? AND story_id IN ('', ?) AND annotator = ? "
            "ORDER BY story_id",
            (article_id, story, annotator),
        )
        return dict(rows.fetchall())

    def annotation(
        self, article_id: str, annotator: str, story_id: str | None = None
    ) -> tuple[str | None, bool, str | None]:
        """An annotator's note, flag and last-change time for one article in one story (the
        article's own story when None)."""
        story = story_id if story_id is not None else (self.home_story(article_id) or "")
        row = self.conn.execute(
            "SELECT note, flagged, updated_at FROM annotations WHERE article_id = ? AND story_id = ? AND annotator = ?",
            (article_id, story, annotator),
        ).fetchone()
        return (row[0], bool(row[1]), row[2]) if row else (None, False, None)

    def claims(self, article_id: str, annotator: str | None = None) -> list[Claim]:
        """Claims in an article (one annotator's, or everyone's), in text order."""
        sql = (
            'SELECT id, article_id, annotator, start, "end", exact, prefix, suffix, cluster '
            "FROM claims WHERE article_id = ?"
        )
        params: tuple = (article_id,)
        if annotator is not None:
            sql += " AND annotator = ?"
            params += (annotator,)
        rows = self.conn.execute(sql + ' ORDER BY start, "end", id', params).fetchall()
        labels: dict[str, dict[str, str]] = {}
        if rows:
            marks = ",".join("?" * len(rows))
            for claim_id, fld, value in self.conn.execute(
                f"SELECT claim_id, field, value FROM claim_labels WHERE claim_id IN ({marks})",
                [row[0] for row in rows],
            ):
                labels.setdefault(claim_id, {})[fld] = value
        return [
            Claim.model_construct(
                id=r[0], article_id=r[1], annotator=r[2], start=r[3], end=r[4], exact=r[5],
                prefix=r[6], suffix=r[7], cluster=r[8], labels=labels.get(r[0], {}),
            )
            for r in rows
        ]

    def get_claim(self, claim_id: str) -> Claim | None:
        """One claim, or None."""
        row = self.conn.execute("SELECT article_id FROM claims WHERE id = ?", (claim_id,)).fetchone()
        if row is None:
            return None
        return next(c for c in self.claims(row[0]) if c.id == claim_id)

    def cluster_article_count(self, cluster: str) -> int:
        """In how many articles a claim cluster appears."""
        return self.conn.execute(
            "SELECT count(DISTINCT article_id) FROM claims WHERE cluster = ?", (cluster,)
        ).fetchone()[0]

    def adjacent_story_id(self, story_id: str | None, step: int = 1, *, wrap: bool = True) -> str | None:
        """The story after (step > 0) or before (step < 0) story_id in id order, wrapping
        around (None at either end without `wrap`); with story_id None, the first (or last)
        story. One index probe each."""
        order, compare = ("ASC", ">") if step > 0 else ("DESC", "<")
        if story_id is not None:
            row = self.conn.execute(
                f"SELECT id FROM stories WHERE id {compare} ? ORDER BY id {order} LIMIT 1", (story_id,)
            ).fetchone()
            if row is not None or not wrap:
                return row[0] if row is not None else None
        row = self.conn.execute(f"SELECT id FROM stories ORDER BY id {order} LIMIT 1").fetchone()
        return row[0] if row else None

    def outlet_grades(
        self, annotator: str, source: str, field_name: str = "reliability", exclude_article: str | None = None
    ) -> dict[str, int]:
        """How often this annotator gave each value of a field to other articles of the same
        outlet: {value: count}. Walks only the annotator's own annotations (indexed), so it
        stays fast however many articles the database holds."""
        rows = self.conn.execute(
            "SELECT l.value, count(*) FROM labels AS l INDEXED BY labels_annotator "
            "CROSS JOIN articles AS a ON a.id = l.article_id "
            "WHERE l.annotator = ? AND a.source = ? AND l.field = ? AND l.article_id != ? "
            "GROUP BY l.value",
            (annotator, source, field_name, exclude_article or ""),
        )
        return dict(rows.fetchall())

    def grades_by_outlet(self, annotator: str, field_name: str = "reliability") -> dict[str, dict[str, str]]:
        """Every value of a field this annotator gave, by outlet: {source: {article_id:
        value}}. One pass over the annotator's own annotations, for a screen that keeps
        it and updates it as the annotator labels (instead of one query per article)."""
        rows = self.conn.execute(
            "SELECT a.source, l.article_id, l.value FROM labels AS l INDEXED BY labels_annotator "
            "CROSS JOIN articles AS a ON a.id = l.article_id "
            "WHERE l.annotator = ? AND l.field = ? AND a.source IS NOT NULL",
            (annotator, field_name),
        )
        book: dict[str, dict[str, str]] = {}
        for source, article_id, value in rows:
            book.setdefault(source, {})[article_id] = value
        return book

    def gold(self, article_id: str, story_id: str | None = None) -> dict[str, dict[str, str]]:
        """Gold values of one article as read in one story (the article's own story when
        None): {field: {value, by, reason, at}}."""
        story = story_id if story_id is not None else (self.home_story(article_id) or "")
        rows = self.conn.execute(
            "SELECT field, value, by, reason, at FROM gold WHERE article_id = ? AND story_id IN ('', ?) ORDER BY story_id",
            (article_id, story))
        return {r[0]: {"value": r[1], "by": r[2], "reason": r[3], "at": r[4]} for r in rows}

    def events(self, *, annotator: str | None = None, limit: int = 100) -> list[Event]:
        """The newest events first (one annotator's, or everyone's)."""
        sql = "SELECT * FROM events"
        params: tuple = ()
        if annotator is not None:
            sql += " WHERE annotator = ?"
            params = (annotator,)
        rows = self.conn.execute(sql + " ORDER BY id DESC LIMIT ?", params + (limit,))
        return [_event(row) for row in rows]

    # --- watching for teammates' changes (tui/live.py) ---------------------------------

    def listen_for_changes(self) -> None:
        """Hear of other connections' commits from now on (see `data_version`): PostgreSQL
        LISTENs on the channel the event log's trigger notifies; SQLite needs nothing."""
        if self.postgres:
            from newsmark.schema.pg_schema import CHANGES_CHANNEL

            self.conn.execute(f"LISTEN {CHANGES_CHANNEL}")

    def data_version(self) -> int:
        """A number that changes when another connection commits: SQLite's `PRAGMA
        data_version` (shared memory, no disk), or on PostgreSQL the count of notifications
        heard so far (after `listen_for_changes`; read off the socket, no round trip). Cheap
        enough to poll several times a second."""
        if self.postgres:
            self._changes_heard += self.conn.notifications()
            return self._changes_heard
        return self.conn.execute("PRAGMA data_version").fetchone()[0]

    def last_event_id(self) -> int:
        """The id of the newest event (0 with none)."""
        return self.conn.execute("SELECT coalesce(max(id), 0) FROM events").fetchone()[0]

    def events_since(self, event_id: int, *, limit: int = 10_000) -> list[Event]:
        """The events after `event_id`, oldest first (at most `limit`)."""
        rows = self.conn.execute("SELECT * FROM events WHERE id > ? ORDER BY id LIMIT ?", (event_id, limit))
        return [_event(row) for row in rows]

    def active_annotators(self, story_id: str, since: str, *, scan: int = ACTIVITY_SCAN) -> list[tuple[str, str]]:
        """Who changed something in a story since `since` (a utc_now() timestamp), with the
        time of their latest change, latest first: labels, notes, claims and gold of its
        articles, and the story itself. Only the newest `scan` events are looked at, so
        the answer stays instant on a long event log."""
        rows = self.conn.execute(
            """
            SELECT e.annotator, max(e.at) AS last FROM events e
            WHERE e.id > (SELECT coalesce(max(id), 0) FROM events) - ? AND e.at >= ? AND e.tbl != 'events'
              AND (e.key ->> 'story_id' = ? OR (e.tbl = 'stories' AND e.key ->> 'id' = ?)
                   OR e.key ->> 'article_id' IN (SELECT article_id FROM story_articles WHERE story_id = ?))
            GROUP BY e.annotator ORDER BY last DESC, e.annotator
            """,
            (scan, since, story_id, story_id, story_id))
        return [(annotator, last) for annotator, last in rows]

    # --- the write path ---------------------------------------------------------------

    def _commit(
        self,
        annotator: str,
        op: str,
        changes: Iterable[Change],
        touch: Iterable[tuple[str, str]] = (),
        *,
        at: str | None = None,
        undoable: bool = True,
        conn: sqlite3.Connection | None = None,
    ) -> ActionResult:
        """Apply changes and log them as one action, in one transaction (or inside `conn`'s)."""
        if conn is None:
            with self.transaction() as tx:
                return self._commit(annotator, op, changes, touch, at=at, undoable=undoable, conn=tx)
        at = at or utc_now()
        result = ActionResult(action=None, op=op, touched=list(dict.fromkeys(touch)))
        for change in changes:
            before = self._read_row(conn, change.tbl, change.key)
            after = change.after
            if after is not None and before is not None:
                after = {**before, **after}
            if before == after:
                continue
            self._write_row(conn, change.tbl, change.key, after, at)
            result.events.append(self._log(conn, result, annotator, op, change.tbl, change.key, before, after, at, undoable))
        if result.events:
            self._touch(conn, result.touched, at)
        return result

    def _log(self, conn, result, annotator, op, tbl, key, before, after, at, undoable) -> Event:
        event_id, action = conn.execute(
            "INSERT INTO events (action, at, annotator, op, tbl, key, before, after, undoable) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id, action",
            (result.action or 0, at, annotator, op, tbl, _dumps(key),
             None if before is None else _dumps(before), None if after is None else _dumps(after), int(undoable)),
        ).fetchone()
        if result.action is None:
            result.action = event_id
            if action != event_id:  # (on PostgreSQL the log's own trigger numbers a new action)
                conn.execute("UPDATE events SET action = ? WHERE id = ?", (event_id, event_id))
        return Event(
            id=event_id, action=result.action, at=at, annotator=annotator, op=op, tbl=tbl, key=key,
            before=before, after=after, undoable=undoable, undone=False,
        )

    @staticmethod
    def _read_row(conn: sqlite3.Connection, tbl: str, key: dict[str, Any]) -> dict[str, Any] | None:
        key_cols, value_cols = TABLES[tbl]
        where = " AND ".join(f'"{col}" = ?' for col in key_cols)
        cols = ", ".join(f'"{col}"' for col in value_cols) or "1"
        row = conn.execute(f"SELECT {cols} FROM {tbl} WHERE {where}", [key[c] for c in key_cols]).fetchone()
        if row is None:
            return None
        values = dict(zip(value_cols, row))
        if tbl == "annotations":
            values["flagged"] = bool(values["flagged"])
        return values

    @staticmethod
    def _write_row(conn: sqlite3.Connection, tbl: str, key: dict[str, Any], after: dict[str, Any] | None, at: str) -> None:
        key_cols, _ = TABLES[tbl]
        if after is None:
            where = " AND ".join(f'"{col}" = ?' for col in key_cols)
            conn.execute(f"DELETE FROM {tbl} WHERE {where}", [key[c] for c in key_cols])
            return
        conn.execute(_upsert_sql(tbl), _row_values(tbl, key, after, at))

    @staticmethod
    def _touch(conn: sqlite3.Connection, touched: Iterable[Touched], at: str) -> None:
        """Stamp the annotations rows of what an action touched (creating them): a story of
        None, or one the article is not in, is the article's own story."""
        conn.executemany(
            "INSERT INTO annotations (article_id, story_id, annotator, updated_at) "
            "VALUES (?1, coalesce((SELECT story_id FROM story_articles WHERE story_id = ?2 AND article_id = ?1), "
            "(SELECT story_id FROM articles WHERE id = ?1), ''), ?3, ?4) "
            "ON CONFLICT (article_id, story_id, annotator) DO UPDATE SET updated_at = excluded.updated_at",
            [(article_id, story_id, annotator, at) for story_id, article_id, annotator in touched],
        )

    # --- annotating -------------------------------------------------------------------

    def set_label(
        self, article_id: str, annotator: str, field_name: str, value: str | None, *, story_id: str | None = None
    ) -> ActionResult:
        """Set (or with None, clear) an article-level label, as read in `story_id` (the
        article's own story when None): a story-scoped field's value holds in that story
        only, an article-scoped one's in every story of the article."""
        if value is not None:
            self._check_value(field_name, value, "article")
        key = {"article_id": article_id, "story_id": self.scope_story(field_name, story_id, article_id),
               "annotator": annotator, "field": field_name}
        after = None if value is None else {"value": value}
        return self._commit(annotator, "label", [Change("labels", key, after)], [(story_id, article_id, annotator)])

    def _annotation_key(self, article_id: str, annotator: str, story_id: str | None) -> dict[str, str]:
        story = story_id if story_id is not None else (self.home_story(article_id) or "")
        return {"article_id": article_id, "story_id": story, "annotator": annotator}

    def set_note(self, article_id: str, annotator: str, note: str | None, *, story_id: str | None = None) -> ActionResult:
        """Set (or with None or "", clear) an annotator's note on an article in a story (the
        article's own story when None)."""
        after = {"note": sanitize_text(note).strip() or None if note else None}
        change = Change("annotations", self._annotation_key(article_id, annotator, story_id), after)
        return self._commit(annotator, "note", [change], [(story_id, article_id, annotator)])

    def set_flag(self, article_id: str, annotator: str, flagged: bool, *, story_id: str | None = None) -> ActionResult:
        """Flag or unflag an article in a story (the article's own when None) for an annotator."""
        after = {"flagged": flagged}
        change = Change("annotations", self._annotation_key(article_id, annotator, story_id), after)
        return self._commit(annotator, "flag", [change], [(story_id, article_id, annotator)])

    def add_claim(
        self, article_id: str, annotator: str, start: int, end: int, labels: dict[str, str] | None = None,
        *, story_id: str | None = None,
    ) -> tuple[Claim, ActionResult]:
        """Mark a span of an article as a claim (an existing identical claim is kept)."""
        exact, prefix, suffix = self._quote_span(article_id, start, end, labels)
        claim_id = claim_id_for(article_id, annotator, start, end)
        changes = [
            Change("claims", {"id": claim_id}, {
                "article_id": article_id, "annotator": annotator, "start": start, "end": end,
                "exact": exact, "prefix": prefix, "suffix": suffix, "cluster": None, "created_at": utc_now(),
            })
        ]
        if self._read_row(self.conn, "claims", {"id": claim_id}) is not None:
            changes = []
        changes += [Change("claim_labels", {"claim_id": claim_id, "field": f}, {"value": v}) for f, v in (labels or {}).items()]
        result = self._commit(annotator, "claim.add", changes, [(story_id, article_id, annotator)])
        claim = self.get_claim(claim_id)
        assert claim is not None
        return claim, result

    def remove_claim(self, claim_id: str, annotator: str, *, story_id: str | None = None) -> ActionResult:
        """Unmark a claim, with its labels; undo brings both back."""
        claim = self._own_claim(claim_id, annotator)
        changes = [Change("claim_labels", {"claim_id": claim_id, "field": f}, None) for f in claim.labels]
        changes.append(Change("claims", {"id": claim_id}, None))
        return self._commit(annotator, "claim.remove", changes, [(story_id, claim.article_id, annotator)])

    def set_claim_label(
        self, claim_id: str, annotator: str, field_name: str, value: str | None, *, story_id: str | None = None
    ) -> ActionResult:
        """Set (or with None, clear) a claim-level label."""
        claim = self._own_claim(claim_id, annotator)
        if value is not None:
            self._check_value(field_name, value, "claim")
        change = Change("claim_labels", {"claim_id": claim_id, "field": field_name}, None if value is None else {"value": value})
        return self._commit(annotator, "claim.label", [change], [(story_id, claim.article_id, annotator)])

    def link_claims(
        self, claim_id: str, other_id: str, annotator: str, *, story_id: str | None = None
    ) -> tuple[str, ActionResult]:
        """Put two claims (and the clusters they are in) into one cluster; return its id."""
        claim = self._own_claim(claim_id, annotator)
        other = self._own_claim(other_id, annotator)
        target = claim.cluster or other.cluster
        changes: list[Change] = []
        touched: list[Touched] = [(story_id, claim.article_id, annotator), (story_id, other.article_id, annotator)]
        if target is None:
            target = uuid.uuid4().hex[:16]
            changes.append(Change("clusters", {"id": target}, {
                "story_id": story_id if story_id is not None else self.home_story(claim.article_id),
                "label": default_wording(claim.exact),
                "created_by": annotator, "created_at": utc_now(),
            }))
        movers = {claim.id, other.id}
        for old in {claim.cluster, other.cluster} - {None, target}:
            rows = self.conn.execute("SELECT id, article_id FROM claims WHERE cluster = ? AND annotator = ?", (old, annotator))
            for cid, aid in rows.fetchall():
                movers.add(cid)
                touched.append((story_id, aid, annotator))
        changes += [Change("claims", {"id": cid}, {"cluster": target}) for cid in sorted(movers)]
        return target, self._commit(annotator, "claim.link", changes, touched)

    def unlink_claim(self, claim_id: str, annotator: str, *, story_id: str | None = None) -> ActionResult:
        """Take a claim out of its cluster."""
        claim = self._own_claim(claim_id, annotator)
        change = Change("claims", {"id": claim_id}, {"cluster": None})
        return self._commit(annotator, "claim.unlink", [change], [(story_id, claim.article_id, annotator)])

    def set_cluster_label(self, cluster_id: str, annotator: str, label: str) -> ActionResult:
        """Edit a cluster's short canonical wording."""
        if self._read_row(self.conn, "clusters", {"id": cluster_id}) is None:
            raise StoreError(f"no claim cluster {cluster_id}")
        return self._commit(annotator, "cluster.label", [Change("clusters", {"id": cluster_id}, {"label": label})])

    # Added for the annotate screen's claim suggestions (issue 5).

    def cluster_label(self, cluster_id: str) -> str | None:
        """A cluster's canonical wording, or None when there is no such cluster."""
        row = self.conn.execute("SELECT coalesce(label, '') FROM clusters WHERE id = ?", (cluster_id,)).fetchone()
        return row[0] if row else None

    def add_linked_claim(
        self, claim_id: str, article_id: str, start: int, end: int, annotator: str, *, story_id: str | None = None
    ) -> tuple[str, Claim, ActionResult]:
        """Mark a span of another article as the annotator's claim and put it in the
        cluster of `claim_id` (creating the cluster if needed), as one action: one undo
        takes both back. Returns the cluster id and the new (or existing) claim."""
        claim = self._own_claim(claim_id, annotator)
        article = self.get_article(article_id)
        if article is None:
            raise StoreError(f"no article {article_id}")
        if not (0 <= start < end <= len(article.text)):
            raise StoreError(f"span {start}-{end} is outside the article's text (0-{len(article.text)})")
        new_id = claim_id_for(article_id, annotator, start, end)
        existing = self.get_claim(new_id)
        target = claim.cluster or (existing.cluster if existing is not None else None)
        changes: list[Change] = []
        touched: list[Touched] = [(story_id, claim.article_id, annotator), (story_id, article_id, annotator)]
        if target is None:
            target = uuid.uuid4().hex[:16]
            changes.append(Change("clusters", {"id": target}, {
                "story_id": story_id if story_id is not None else self.home_story(claim.article_id),
                "label": default_wording(claim.exact),
                "created_by": annotator, "created_at": utc_now(),
            }))
        if existing is None:
            exact, prefix, suffix = claim_context(article.text, start, end)
            changes.append(Change("claims", {"id": new_id}, {
                "article_id": article_id, "annotator": annotator, "start": start, "end": end,
                "exact": exact, "prefix": prefix, "suffix": suffix, "cluster": target, "created_at": utc_now(),
            }))
        movers = {claim.id} | ({new_id} if existing is not None else set())
        for old in {claim.cluster, existing.cluster if existing is not None else None} - {None, target}:
            rows = self.conn.execute("SELECT id, article_id FROM claims WHERE cluster = ? AND annotator = ?", (old, annotator))
            for cid, aid in rows.fetchall():
                movers.add(cid)
                touched.append((story_id, aid, annotator))
        changes += [Change("claims", {"id": cid}, {"cluster": target}) for cid in sorted(movers)]
        result = self._commit(annotator, "claim.add_linked", changes, touched)
        linked = self.get_claim(new_id)
        assert linked is not None
        return target, linked, result

    def set_gold(
        self, article_id: str, field_name: str, value: str | None, by: str, reason: str = "",
        *, story_id: str | None = None,
    ) -> ActionResult:
        """Adjudicate a field of an article as read in `story_id` (the article's own story
        when None; see `set_label` for scope). None removes the gold value; never touches
        anyone's own annotation."""
        return self._commit(by, "gold", [self._gold_change(GoldEntry(story_id, article_id, field_name, value, reason), by)])

    def _gold_change(self, entry: GoldEntry, by: str) -> Change:
        """The row of a gold value (removed when its value is None), the value checked."""
        if entry.value is not None:
            self._check_value(entry.field, entry.value, "article")
        key = {"article_id": entry.article_id, "story_id": self.scope_story(entry.field, entry.story_id, entry.article_id),
               "field": entry.field}
        after = None if entry.value is None else {
            "value": entry.value, "by": by, "reason": sanitize_text(entry.reason).strip(), "at": utc_now()}
        return Change("gold", key, after)

    # Gold claims (added for review/adjudication, issue 4).

    @staticmethod
    def gold_claim_id_for(article_id: str, start: int, end: int) -> str:
        """A gold claim's id: one gold claim per span of an article."""
        return hashlib.sha256(f"{article_id}\x1fgold\x1f{start}\x1f{end}".encode()).hexdigest()[:16]

    def gold_claims(self, article_id: str) -> list[dict[str, Any]]:
        """Gold claims of one article in text order: {id, start, end, exact, prefix, suffix,
        labels, cluster, by, reason, at}."""
        rows = self.conn.execute(
            'SELECT id, start, "end", exact, prefix, suffix, labels, cluster, by, reason, at '
            'FROM gold_claims WHERE article_id = ? ORDER BY start, "end", id',
            (article_id,),
        )
        names = ("id", "start", "end", "exact", "prefix", "suffix", "labels", "cluster", "by", "reason", "at")
        return [{**dict(zip(names, row)), "labels": orjson.loads(row[6])} for row in rows]

    def set_gold_claim(
        self, article_id: str, start: int, end: int, by: str, reason: str = "",
        labels: dict[str, str] | None = None, cluster: str | None = None,
    ) -> tuple[str, ActionResult]:
        """Adjudicate a span of an article as a gold claim (e.g. accept one annotator's
        claim); never touches anyone's own claims. Returns the gold claim's id."""
        change = self._gold_claim_change(GoldClaimEntry(article_id, start, end, reason, labels or {}, cluster), by)
        return change.key["id"], self._commit(by, "gold.claim", [change])

    def _gold_claim_change(self, claim: GoldClaimEntry, by: str) -> Change:
        """The row of a gold claim, its span and labels checked."""
        exact, prefix, suffix = self._quote_span(claim.article_id, claim.start, claim.end, claim.labels)
        return Change("gold_claims", {"id": self.gold_claim_id_for(claim.article_id, claim.start, claim.end)}, {
            "article_id": claim.article_id, "start": claim.start, "end": claim.end, "exact": exact, "prefix": prefix,
            "suffix": suffix, "labels": _dumps(dict(sorted(claim.labels.items()))), "cluster": claim.cluster,
            "by": by, "reason": sanitize_text(claim.reason).strip(), "at": utc_now(),
        })

    def remove_gold_claim(self, gold_id: str, by: str) -> ActionResult:
        """Remove a gold claim."""
        if self._read_row(self.conn, "gold_claims", {"id": gold_id}) is None:
            raise StoreError(f"no gold claim {gold_id}")
        return self._commit(by, "gold.claim.remove", [Change("gold_claims", {"id": gold_id}, None)])

    # Added for review's accept-agreed key (issue 12).

    def add_gold(
        self, by: str, values: Iterable[GoldEntry] = (), claims: Iterable[GoldClaimEntry] = (),
        *, op: str = "gold.agreed",
    ) -> ActionResult:
        """Write several gold values and gold claims as one action, so one undo takes them all
        back. A field or span that already has gold keeps it (read inside the transaction):
        this adds gold, it never overwrites a reviewer's decision."""
        with self.transaction() as conn:
            changes: list[Change] = []
            for entry in values:
                change = self._gold_change(entry, by)
                if self._read_row(conn, "gold", change.key) is None:
                    changes.append(change)
            for claim in claims:
                change = self._gold_claim_change(claim, by)
                if self._read_row(conn, "gold_claims", change.key) is None:
                    changes.append(change)
            return self._commit(by, op, changes, conn=conn)

    def _quote_span(
        self, article_id: str, start: int, end: int, labels: dict[str, str] | None
    ) -> tuple[str, str, str]:
        """Check a claim's span and labels; return its exact text, prefix and suffix."""
        article = self.get_article(article_id)
        if article is None:
            raise StoreError(f"no article {article_id}")
        if not (0 <= start < end <= len(article.text)):
            raise StoreError(f"span {start}-{end} is outside the article's text (0-{len(article.text)})")
        for fld, value in (labels or {}).items():
            self._check_value(fld, value, "claim")
        return claim_context(article.text, start, end)

    def _own_claim(self, claim_id: str, annotator: str) -> Claim:
        claim = self.get_claim(claim_id)
        if claim is None:
            raise StoreError(f"no claim {claim_id}")
        if claim.annotator != annotator:
            raise StoreError(f"claim {claim_id} belongs to {claim.annotator}, not {annotator}")
        return claim

    def _check_value(self, field_name: str, value: str, level: str) -> None:
        why = self.scheme.check_value(field_name, value, level)  # type: ignore[arg-type]
        if why:
            raise StoreError(why)

    # --- undo and redo ----------------------------------------------------------------

    def undo(self, annotator: str) -> ActionResult | None:
        """Undo the annotator's latest action still in effect; None when there is none.

        Raises UndoRefused, writing no row, when a later change (anyone's, a load's, or a
        write outside the event log) touched a row the action wrote: undo never overwrites
        it. The refused action stays in effect and leaves the undo list, so the next undo
        goes on to the annotator's action before it.
        """
        with self.transaction() as conn:
            row = conn.execute(
                "SELECT max(action) FROM events WHERE annotator = ? AND undoable = 1 AND undone = 0", (annotator,)
            ).fetchone()
            if row[0] is None:
                return None
            refusal = self._conflict(conn, annotator, row[0], undo=True)
            if refusal is None:
                return self._replay(conn, annotator, row[0], undo=True)
            self._set_aside(conn, annotator, row[0], refusal, undo=True)
        raise UndoRefused(refusal, row[0], undo=True)

    def redo(self, annotator: str) -> ActionResult | None:
        """Redo the annotator's most recently undone action, unless a new action came since.

        Raises UndoRefused, writing no row, when a change made after the action (anyone's,
        a load's, or a write outside the event log) touched a row it would write: the
        action stays undone and leaves the redo list.
        """
        with self.transaction() as conn:
            last_done = conn.execute(
                "SELECT coalesce(max(action), 0) FROM events WHERE annotator = ? AND undoable = 1 AND undone = 0",
                (annotator,),
            ).fetchone()[0]
            row = conn.execute(
                "SELECT min(action) FROM events WHERE annotator = ? AND undoable = 1 AND undone = 1 AND action > ?",
                (annotator, last_done),
            ).fetchone()
            if row[0] is None:
                return None
            refusal = self._conflict(conn, annotator, row[0], undo=False)
            if refusal is None:
                return self._replay(conn, annotator, row[0], undo=False)
            self._set_aside(conn, annotator, row[0], refusal, undo=False)
        raise UndoRefused(refusal, row[0], undo=False)

    def _conflict(self, conn: sqlite3.Connection, annotator: str, action: int, *, undo: bool) -> str | None:
        """Why undoing (or redoing) `action` would overwrite a later change, or None if it
        would not.

        Each row the action touched must hold what the action left (undo: its `after`;
        redo: its `before`), and no later event still in effect (anyone's, or a load's)
        may have touched it. Comparing the stored values also catches a write that went
        around the event log.
        """
        events = [_event(r) for r in conn.execute("SELECT * FROM events WHERE action = ? ORDER BY id", (action,))]
        last_id = max(event.id for event in events)
        # What each row must hold now: after the action's last event on it (undo), or
        # before its first (redo).
        expected: dict[tuple[str, tuple], tuple[Event, dict[str, Any] | None]] = {}
        for event in reversed(events) if undo else events:
            expected.setdefault((event.tbl, _key_tuple(event.tbl, event.key)), (event, event.after if undo else event.before))
        later = self._later_changes(conn, last_id, set(expected))
        for row_key, (event, wanted) in expected.items():
            current = self._read_row(conn, event.tbl, event.key)
            direct = later.get(row_key)
            if direct is None and _normal_row(event.tbl, current) == _normal_row(event.tbl, wanted):
                continue
            replayed = self._latest_replay(conn, action, last_id, event.tbl, event.key)
            return _refusal_text(annotator, undo, event, current, wanted, direct, replayed)
        return None

    def _later_changes(
        self, conn: sqlite3.Connection, last_id: int, rows: set[tuple[str, tuple]]
    ) -> dict[tuple[str, tuple], Event]:
        """For each of `rows` (table, key tuple) that an event after `last_id` wrote and that
        event is still in effect (not undone): the latest such event."""
        direct: dict[tuple[str, tuple], Event] = {}
        by_table: dict[str, set[Any]] = {}
        for tbl, key in rows:
            by_table.setdefault(tbl, set()).add(key[0])
        for tbl, firsts in sorted(by_table.items()):
            # SQLite narrows the later log to events on these rows' first key column, so
            # only those are decoded (an undo far back in a busy log stays fast).
            marks = ",".join("?" * len(firsts))
            for raw in conn.execute(
                f"SELECT * FROM events WHERE id > ? AND tbl = ? AND undone = 0 "
                f"AND json_extract(key, '$.{TABLES[tbl][0][0]}') IN ({marks}) ORDER BY id",
                [last_id, tbl, *firsts],
            ):
                event = _event(raw)
                row_key = (tbl, _key_tuple(tbl, event.key))
                if row_key in rows:
                    direct[row_key] = event
        return direct

    def _latest_replay(
        self, conn: sqlite3.Connection, action: int, last_id: int, tbl: str, key: dict[str, Any]
    ) -> tuple[Event, Event] | None:
        """The latest undo or redo (after `last_id`, of another action than `action`) that
        rewrote the row: its audit event and the event it replayed; None if none did."""
        wanted = _key_tuple(tbl, key)
        for raw in conn.execute(
            f"SELECT {_columns('u')}, {_columns('e')} FROM events u JOIN events e ON e.action = CAST(json_extract(u.key, '$.action') AS INTEGER) "
            "WHERE u.id > ? AND u.tbl = 'events' AND u.op IN ('undo', 'redo') "
            f"AND CAST(json_extract(u.key, '$.action') AS INTEGER) != ? AND e.tbl = ? AND json_extract(e.key, '$.{TABLES[tbl][0][0]}') = ? "
            "ORDER BY u.id DESC",
            (last_id, action, tbl, wanted[0]),
        ):
            inner = _event(raw[11:])
            if _key_tuple(tbl, inner.key) == wanted:
                return _event(raw[:11]), inner
        return None

    def _set_aside(self, conn: sqlite3.Connection, annotator: str, action: int, refusal: str, *, undo: bool) -> None:
        """Take a refused action off the undo (or redo) list, so the next undo or redo goes
        on past it, and log the refusal. No row of the action's tables is written."""
        conn.execute("UPDATE events SET undoable = 0 WHERE action = ?", (action,))
        audit = ActionResult(action=None, op="undo refused" if undo else "redo refused")
        self._log(
            conn, audit, annotator, audit.op.replace(" ", "."), "events", {"action": action}, None,
            {"reason": refusal}, utc_now(), False,
        )

    def _replay(self, conn: sqlite3.Connection, annotator: str, action: int, *, undo: bool) -> ActionResult:
        events = [_event(r) for r in conn.execute(
            f"SELECT * FROM events WHERE action = ? ORDER BY id {'DESC' if undo else 'ASC'}", (action,)
        )]
        at = utc_now()
        result = ActionResult(action=action, op=("undo " if undo else "redo ") + events[0].op, events=events)
        touched: list[Touched] = []
        for event in events:
            values = event.before if undo else event.after
            self._write_row(conn, event.tbl, event.key, values, at)
            row = values or event.before or event.after or {}
            article_id = event.key.get("article_id") or row.get("article_id")
            if article_id is None and event.tbl == "claim_labels":
                found = conn.execute("SELECT article_id FROM claims WHERE id = ?", (event.key["claim_id"],)).fetchone()
                article_id = found[0] if found else None
            if article_id is not None and event.tbl not in _NOT_ANNOTATION:
                touched.append((event.key.get("story_id") or None, article_id,
                                event.key.get("annotator") or row.get("annotator") or annotator))
        conn.execute("UPDATE events SET undone = ? WHERE action = ?", (int(undo), action))
        audit = ActionResult(action=None, op=result.op)
        self._log(conn, audit, annotator, "undo" if undo else "redo", "events", {"action": action}, None, None, at, False)
        # Curating stories moves others' rows; undoing it is nobody's annotation either.
        result.touched = [] if events[0].op.startswith("story.") else list(dict.fromkeys(touched))
        self._touch(conn, result.touched, at)
        return result

    # --- curating stories (each change one action: undo reverses it) -------------------

    def _existing_story(self, story_id: str) -> Story:
        story = self.get_story(story_id)
        if story is None:
            raise StoreError(f"no story {story_id!r}")
        return story

    def edit_story(
        self, story_id: str, by: str, *, title: str | None = None, proposition: str | None = None
    ) -> ActionResult:
        """Set a story's title and/or proposition (sanitised, one line)."""
        self._existing_story(story_id)
        after: dict[str, Any] = {}
        if title is not None:
            after["title"] = sanitize_inline(title) or ""
        if proposition is not None:
            after["proposition"] = sanitize_inline(proposition) or ""
        return self._commit(by, "story.edit", [Change("stories", {"id": story_id}, after)])

    def _known_articles(self, article_ids: Sequence[str], in_story: str | None = None) -> list[str]:
        """The articles (each once), refusing an unknown one or one not in `in_story`."""
        missing = [aid for aid in article_ids if self.home_story(aid) is None]
        if missing:
            raise StoreError(f"no article {missing[0]!r}")
        if in_story is not None:
            present = set(self.article_ids(in_story))
            absent = [aid for aid in article_ids if aid not in present]
            if absent:
                raise StoreError(f"article {absent[0]!r} is not in story {in_story!r}")
        return list(dict.fromkeys(article_ids))

    def add_articles_to_story(self, story_id: str, article_ids: Sequence[str], by: str) -> ActionResult:
        """Put articles into a story (they stay in their other stories)."""
        self._existing_story(story_id)
        changes = [Change("story_articles", {"story_id": story_id, "article_id": aid}, {})
                   for aid in self._known_articles(article_ids)]
        return self._commit(by, "story.add", changes)

    def remove_articles_from_story(self, story_id: str, article_ids: Sequence[str], by: str) -> ActionResult:
        """Take articles out of a story. What annotators gave them there (story-scoped labels,
        notes) is kept, out of sight, and shows again if an undo puts them back."""
        self._existing_story(story_id)
        aids = self._known_articles(article_ids, in_story=story_id)
        changes = [Change("story_articles", {"story_id": story_id, "article_id": aid}, None) for aid in aids]
        return self._commit(by, "story.remove", changes)

    def move_articles(self, article_ids: Sequence[str], from_story: str, to_story: str, by: str) -> ActionResult:
        """Move articles from one story to another, as one action. Their story-scoped labels
        stay with the story they were judged against (a stance toward another proposition
        is not carried over)."""
        self._existing_story(to_story)
        aids = self._known_articles(article_ids, in_story=from_story)
        changes = [Change("story_articles", {"story_id": from_story, "article_id": aid}, None) for aid in aids]
        changes += [Change("story_articles", {"story_id": to_story, "article_id": aid}, {}) for aid in aids]
        return self._commit(by, "story.move", changes)

    def split_story(self, story_id: str, article_ids: Sequence[str], new_story: Story, by: str) -> ActionResult:
        """Make a new story of some of a story's articles (moved out of it), as one action."""
        self._existing_story(story_id)
        if self.get_story(new_story.id) is not None:
            raise StoreError(f"story {new_story.id!r} exists already")
        aids = self._known_articles(article_ids, in_story=story_id)
        changes = [Change("stories", {"id": new_story.id}, {
            "title": sanitize_inline(new_story.title) or "", "proposition": sanitize_inline(new_story.proposition) or "",
            "meta": _dumps(new_story.meta)})]
        changes += [Change("story_articles", {"story_id": story_id, "article_id": aid}, None) for aid in aids]
        changes += [Change("story_articles", {"story_id": new_story.id, "article_id": aid}, {}) for aid in aids]
        return self._commit(by, "story.split", changes)

    def merge_stories(self, target: str, sources: Sequence[str], by: str) -> ActionResult:
        """Merge stories into `target`, as one action: their articles join it, and the work
        done on them there (story-scoped labels and gold, notes and flags) moves along; the
        merged stories are removed. Where an article already has a value in `target`, the
        target's value is kept and the source's is dropped (undo brings it back)."""
        self._existing_story(target)
        changes: list[Change] = []
        for source in dict.fromkeys(sources):
            if source == target:
                raise StoreError(f"cannot merge story {source!r} into itself")
            story = self._existing_story(source)
            for aid in self.article_ids(source):
                changes.append(Change("story_articles", {"story_id": source, "article_id": aid}, None))
                changes.append(Change("story_articles", {"story_id": target, "article_id": aid}, {}))
            for tbl in ("labels", "gold", "annotations"):
                key_cols, value_cols = TABLES[tbl]
                cols = ", ".join(f'"{c}"' for c in key_cols + value_cols)
                for row in self.conn.execute(f"SELECT {cols} FROM {tbl} WHERE story_id = ?", (source,)).fetchall():
                    values = dict(zip(key_cols + value_cols, row))
                    old_key = {c: values[c] for c in key_cols}
                    new_key = {**old_key, "story_id": target}
                    changes.append(Change(tbl, old_key, None))
                    if self._read_row(self.conn, tbl, new_key) is None:
                        changes.append(Change(tbl, new_key, {c: values[c] for c in value_cols}))
            changes.append(Change("stories", {"id": story.id}, None))
        return self._commit(by, "story.merge", changes)

    # --- units for gold and agreement (a story-scoped field's unit is (story, article), ---
    # --- an article-scoped field's the article: read here as the rows of each membership) -

    def unit_labels(self, story_id: str | None = None) -> Iterator[tuple[str, str, str, str, str]]:
        """Every annotator's label of every article in every story it is in (one story's
        with `story_id`): (story_id, article_id, field, annotator, value), sorted by story,
        article, field, annotator. An article-scoped label shows in each of its stories."""
        where = "WHERE m.story_id = ?" if story_id is not None else ""
        yield from self._stream(
            "SELECT m.story_id, m.article_id, l.field, l.annotator, l.value FROM story_articles m "
            f"JOIN labels l ON l.article_id = m.article_id AND l.story_id IN ('', m.story_id) {where} "
            "ORDER BY m.story_id, m.article_id, l.field, l.annotator",
            () if story_id is None else (story_id,),
        )

    def unit_gold(self, story_id: str | None = None) -> Iterator[tuple[str, str, str, str, str, str, str]]:
        """Gold values of every article in every story it is in: (story_id, article_id, field,
        value, by, reason, at), sorted by story, article, field."""
        where = "WHERE m.story_id = ?" if story_id is not None else ""
        yield from self._stream(
            "SELECT m.story_id, m.article_id, g.field, g.value, g.by, g.reason, g.at FROM story_articles m "
            f"JOIN gold g ON g.article_id = m.article_id AND g.story_id IN ('', m.story_id) {where} "
            "ORDER BY m.story_id, m.article_id, g.field",
            () if story_id is None else (story_id,),
        )

    def claim_spans(self, article_id: str) -> list[tuple[str, int, int, str, dict[str, str]]]:
        """Every annotator's claims in an article: (annotator, start, end, exact, labels),
        in text order."""
        return [(c.annotator, c.start, c.end, c.exact, c.labels) for c in self.claims(article_id)]

    def story_article_keys(self, story_id: str | None = None) -> Iterator[tuple[str, str]]:
        """(story_id, article_id) of every article of every story (one story's with
        `story_id`), in story id and article import order: the export's order."""
        where = "WHERE m.story_id = ?" if story_id is not None else ""
        yield from self._stream(
            f"SELECT m.story_id, m.article_id FROM story_articles m JOIN articles a ON a.id = m.article_id {where} "
            "ORDER BY m.story_id, a.seq",
            () if story_id is None else (story_id,),
        )

    def articles_with_claims(self) -> set[str]:
        """Ids of the articles with anyone's claims or gold claims."""
        return {row[0] for row in self.conn.execute(
            "SELECT article_id FROM claims UNION SELECT article_id FROM gold_claims")}

    def export_article_row(self, story_id: str, article_id: str, text: bool = True) -> tuple | None:
        """An article as an export record carries it, read in a story: (id, source, url,
        title, byline, published, text_sha256, text or None, story title, story proposition)."""
        return self.conn.execute(
            "SELECT a.id, a.source, a.url, a.title, a.byline, a.published, a.text_sha256, "
            f"{'a.text' if text else 'NULL'}, s.title, s.proposition "
            "FROM articles a LEFT JOIN stories s ON s.id = ? WHERE a.id = ?",
            (story_id, article_id),
        ).fetchone()

    def visible_article_meta(self, article_id: str) -> dict[str, Any] | None:
        """An article's meta, or None when there is no such visible article."""
        row = self.conn.execute(f"SELECT meta FROM articles WHERE id = ? AND {visible()}", (article_id,)).fetchone()
        return orjson.loads(row[0]) if row else None

    def annotations_updated(self, article_id: str) -> str | None:
        """When anyone last changed their annotation of an article (in any story), or None:
        of the annotations the annotation export writes (a row left with nothing in it is
        not exported, so a gold record dated by it would not come back from the files)."""
        return self.conn.execute(
            "SELECT max(n.updated_at) FROM annotations n WHERE n.article_id = ? AND (n.note IS NOT NULL OR n.flagged != 0 "
            "OR EXISTS (SELECT 1 FROM labels l WHERE l.article_id = n.article_id AND l.story_id IN ('', n.story_id) "
            "AND l.annotator = n.annotator) "
            "OR EXISTS (SELECT 1 FROM claims c WHERE c.article_id = n.article_id AND c.annotator = n.annotator))",
            (article_id,)).fetchone()[0]

    def cluster_wording(self, cluster_id: str) -> str | None:
        """A cluster's wording as export records carry it: its label, None when it has none."""
        row = self.conn.execute("SELECT label FROM clusters WHERE id = ?", (cluster_id,)).fetchone()
        return row[0] if row else None

    def article_annotators(self, article_id: str) -> list[str]:
        """Who has worked on an article (in any of its stories; see _WORKED_ON), sorted."""
        return [row[0] for row in self.conn.execute(
            f"SELECT DISTINCT n.annotator FROM annotations n WHERE n.article_id = ? AND {_WORKED_ON} ORDER BY 1",
            (article_id,))]

    # --- reads for review, agreement and compare ------------------------------------------

    def story_position(self, story_id: str) -> int:
        """How many stories come before this one in id order (by the primary-key index: no
        list of every story, there may be a million)."""
        return self.conn.execute("SELECT count(*) FROM stories WHERE id < ?", (story_id,)).fetchone()[0]

    def story_annotators(self, story_id: str) -> list[str]:
        """Anyone who worked on one of the story's articles, in any story (their claims and
        article-scoped labels hold here too), sorted."""
        return [row[0] for row in self.conn.execute(
            "SELECT DISTINCT n.annotator FROM story_articles m JOIN annotations n ON n.article_id = m.article_id "
            "WHERE m.story_id = ? ORDER BY 1", (story_id,))]

    def unit_labels_by_annotator(self, article_id: str, story_id: str) -> dict[str, dict[str, str]]:
        """Every annotator's labels of an article as read in a story: {annotator: {field: value}},
        annotators sorted."""
        labels: dict[str, dict[str, str]] = {}
        for name, fld, value in self.conn.execute(
                "SELECT annotator, field, value FROM labels WHERE article_id = ? AND story_id IN ('', ?) "
                "ORDER BY annotator", (article_id, story_id)):
            labels.setdefault(name, {})[fld] = value
        return labels

    def unit_notes(self, article_id: str, story_id: str) -> list[tuple[str, str | None, bool]]:
        """The notes and flags annotators left on an article in a story: (annotator, note,
        flagged) for those with either, sorted by annotator."""
        return [(name, note, bool(flagged)) for name, note, flagged in self.conn.execute(
            "SELECT annotator, note, flagged FROM annotations WHERE article_id = ? AND story_id = ? "
            "AND (flagged != 0 OR coalesce(note, '') != '') ORDER BY annotator", (article_id, story_id))]

    def story_disagreements(self, story_id: str) -> list[tuple[str, str]]:
        """(article_id, field) of the story's articles where annotators gave a field two or
        more different values (as read in the story)."""
        return self.conn.execute(
            "SELECT l.article_id, l.field FROM story_articles m JOIN labels l ON l.article_id = m.article_id "
            "WHERE m.story_id = ?1 AND l.story_id IN ('', ?1) GROUP BY l.article_id, l.field "
            "HAVING count(DISTINCT l.value) > 1", (story_id,)).fetchall()

    def label_codes(self, value_codes: dict[str, dict[str, int]], coder_codes: dict[str, int], unknown: int,
                    base: int, *, story: str | None = None, stories: bool = False,
                    gold_coder: str | None = None) -> tuple[str | None, str | None, str | None]:
        """Every agreement unit's labels as integer codes, in one query (analysis/agreement.py
        decodes them): a label's code is coder_codes[annotator] (`unknown` for anyone else)
        times `base` plus value_codes[field][value]. Returns three comma-joined strings: the
        units' codes (units apart by ",-1,"), the units' names (`story/article` for a
        story-scoped label, counted while the article is in that story; the article for an
        article-scoped one) and, with `stories`, each unit's story (its own, else `story`,
        else the article's first story). With `gold_coder`, gold values are labels of that
        coder. Only one story's units with `story`."""
        params: list[Any] = []
        case_annotator = "CASE l.annotator " + "WHEN ? THEN ? " * len(coder_codes) + f"ELSE {unknown} END"
        for name, code in coder_codes.items():
            params += [name, code]
        case_label = "CASE l.field "
        for name, values in value_codes.items():
            case_label += "WHEN ? THEN CASE l.value " + "WHEN ? THEN ? " * len(values) + "ELSE NULL END "
            params.append(name)
            for value, code in values.items():
                params += [value, code]
        case_label += "ELSE NULL END"
        source = "labels"
        if gold_coder is not None:
            source = ("(SELECT article_id, story_id, annotator, field, value FROM labels "
                      "UNION ALL SELECT article_id, story_id, ?, field, value FROM gold)")
            params.append(gold_coder)
        names = list(value_codes)
        where = (f"WHERE l.field IN ({','.join('?' * len(names))}) AND (l.story_id = '' OR EXISTS "
                 "(SELECT 1 FROM story_articles m WHERE m.story_id = l.story_id AND m.article_id = l.article_id))")
        params += names
        if story is not None:
            where += (" AND (l.story_id = ? OR (l.story_id = '' AND l.article_id IN "
                      "(SELECT article_id FROM story_articles WHERE story_id = ?)))")
            params += [story, story]
        home = "'" + story.replace("'", "''") + "'" if story is not None else "a.story_id"
        story_column = f"CASE WHEN l.story_id != '' THEN l.story_id ELSE {home} END" if stories else "NULL"
        join = "JOIN articles AS a ON a.id = l.article_id " if stories and story is None else ""
        unit = "CASE WHEN l.story_id = '' THEN l.article_id ELSE l.story_id || '/' || l.article_id END"
        sql = (
            "SELECT group_concat(codes, ',-1,'), group_concat(unit, ','), group_concat(story_id, ',') FROM ("
            f"SELECT {unit} AS unit, {story_column} AS story_id, "
            f"group_concat(({case_annotator}) * {base} + ({case_label}), ',') AS codes "
            f"FROM {source} AS l {join}{where} GROUP BY l.article_id, l.story_id{', a.story_id' if join else ''}) AS units"
        )
        return self.conn.execute(sql, params).fetchone()

    def label_annotators(self) -> list[str]:
        """Everyone with a label (with or without an annotations row), sorted."""
        return [row[0] for row in self.conn.execute("SELECT DISTINCT annotator FROM labels ORDER BY 1")]

    def claim_rows(self, story_id: str | None = None) -> list[tuple[str, str, int, int]]:
        """Every claim (of one story's articles): (article_id, annotator, start, end)."""
        scope, params = _in_story(story_id)
        return self.conn.execute(f'SELECT article_id, annotator, start, "end" FROM claims{scope}', params).fetchall()

    def claim_article_annotators(self, story_id: str | None = None) -> list[tuple[str, str]]:
        """(article_id, annotator) of every annotation of an article holding a claim (of one
        story's articles); an empty annotations row is none (see _WORKED_ON)."""
        scope, params = _in_story(story_id)
        return self.conn.execute(
            f"SELECT n.article_id, n.annotator FROM annotations n WHERE n.article_id IN (SELECT article_id FROM claims{scope}) "
            f"AND {_WORKED_ON}", params).fetchall()

    def article_ids_with_prefix(self, prefix: str, limit: int) -> list[str]:
        """Visible articles whose id starts with `prefix` (lowercase hex), in id order: a range
        scan on the ids' unique index (prefix <= id < prefix + "g")."""
        return [row[0] for row in self.conn.execute(
            f"SELECT id FROM articles WHERE id >= ? AND id < ? AND {visible()} ORDER BY id LIMIT ?",
            (prefix, prefix + "g", limit))]

    # --- reads for exports ---------------------------------------------------------------

    def has_annotations(self, annotator: str) -> bool:
        """Whether the annotator has any annotations row."""
        return self.conn.execute("SELECT 1 FROM annotations WHERE annotator = ? LIMIT 1", (annotator,)).fetchone() is not None

    def annotation_export_rows(self, *, annotators: Sequence[str] = (), story: str | None = None,
                               text: bool = True) -> Iterator[tuple]:
        """The rows behind the annotation records (see `annotation_query`), streamed."""
        sql, params = annotation_query(annotators=annotators, story=story, text=text, postgres=self.postgres)
        yield from self._stream(sql, params)

    def cluster_labels(self) -> dict[str, str]:
        """Every cluster's wording ('' for none), by id."""
        return dict(self.conn.execute("SELECT id, coalesce(label, '') FROM clusters").fetchall())

    def export_summary(self, story_id: str | None = None) -> tuple[int, int, list[tuple[str, int]], list[tuple[str, int]]]:
        """What a dataset card says of the export's articles (one story's, or all): how many
        articles (each once) and stories, articles by outlet (most first), and each
        annotator's article count."""
        members = "SELECT article_id FROM story_articles" + (" WHERE story_id = ?" if story_id else "")
        where, params = f"WHERE id IN ({members}) AND {visible()}", [story_id] if story_id else []
        articles = self.conn.execute(f"SELECT count(*) FROM articles {where}", params).fetchone()[0]
        stories = self.conn.execute(
            f"SELECT count(DISTINCT m.story_id) FROM story_articles m JOIN articles a ON a.id = m.article_id "
            f"WHERE {visible('a')}" + (" AND m.story_id = ?" if story_id else ""), params).fetchone()[0]
        outlets = self.conn.execute(
            f"SELECT coalesce(source, '(unknown)'), count(*) FROM articles {where} GROUP BY 1 ORDER BY 2 DESC, 1", params
        ).fetchall()
        people = self.conn.execute(
            "SELECT annotator, count(DISTINCT article_id) FROM annotations GROUP BY annotator ORDER BY annotator"
        ).fetchall()
        return articles, stories, outlets, people

    def annotator_stance_rows(self, field_name: str, annotator: str, story_id: str | None = None) -> Iterator[tuple]:
        """(story id, headline, story meta JSON, article id, article meta JSON, value) of one
        annotator's values of a field in every (story, article), by story and import order;
        the headline is the story's proposition, else its title."""
        # A scheme may make the field article-scoped: then one value, under story '', in every story.
        scope = "m.story_id" if field_name in self.scheme.story_fields() else "''"
        params: list[Any] = [field_name, annotator]
        where = ""
        if story_id is not None:
            where = "AND m.story_id = ?"
            params.append(story_id)
        yield from self._stream(f"""
            SELECT m.story_id, coalesce(nullif(s.proposition, ''), s.title), s.meta, a.id, a.meta, l.value
              FROM story_articles m
              JOIN stories s ON s.id = m.story_id
              JOIN articles a ON a.id = m.article_id
              JOIN labels l ON l.article_id = m.article_id AND l.story_id = {scope} AND l.field = ? AND l.annotator = ?
             WHERE {visible('a')} {where}
             ORDER BY m.story_id, a.seq""", params)

    def article_bodies(self, article_ids: Sequence[str]) -> list[tuple[str, dict[str, Any], str]]:
        """(id, meta, text) of these articles, in import order."""
        rows = self.conn.execute("SELECT id, meta, text FROM articles WHERE id IN (SELECT value FROM json_each(?)) "
                                 "ORDER BY seq", (_dumps(list(article_ids)),))
        return [(article_id, orjson.loads(meta), text) for article_id, meta, text in rows]

    # --- meta of stories and articles (dataset readers keep their own ids there) ----------

    def set_story_meta(self, conn: sqlite3.Connection, story_id: str, meta: dict[str, Any]) -> None:
        """Inside `conn`'s transaction: replace a story's meta."""
        conn.execute("UPDATE stories SET meta = ? WHERE id = ?", (_dumps(meta), story_id))

    def article_metas(self, conn: sqlite3.Connection, article_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The meta of those of these articles that exist, by id."""
        return {article_id: orjson.loads(meta) for article_id, meta in conn.execute(
            "SELECT id, meta FROM articles WHERE id IN (SELECT value FROM json_each(?))", (_dumps(list(article_ids)),))}

    def set_article_meta(self, conn: sqlite3.Connection, article_id: str, meta: dict[str, Any]) -> None:
        """Inside `conn`'s transaction: replace an article's meta."""
        conn.execute("UPDATE articles SET meta = ? WHERE id = ?", (_dumps(meta), article_id))

    # --- a whole database, table by table (schema/dbcopy.py) ------------------------------

    def count_rows(self, table: str) -> int:
        """How many rows one of dbcopy.COPY_TABLES holds."""
        _copy_spec(table)
        return self.conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]

    def read_rows(self, table: str, batch: int) -> Iterator[list[tuple]]:
        """The rows of one of dbcopy.COPY_TABLES (its columns), in its key order, in batches."""
        spec = _copy_spec(table)
        cursor = self.conn.execute(f"SELECT {', '.join(map(_quoted, spec.columns))} FROM {table} "
                                   f"ORDER BY {', '.join(map(_quoted, spec.key))}")
        while rows := cursor.fetchmany(batch):
            yield rows

    def write_tables(self, tables: Iterable[tuple[str, Iterator[list[tuple]]]]) -> None:
        """Write each (table, batches of rows in COPY_TABLES' columns) in one transaction:
        settings replace this database's, every other row is inserted (keeping its ids:
        SQLite moves the events' AUTOINCREMENT sequence on by itself)."""
        with self.transaction(bulk=True) as conn:
            for table, batches in tables:
                columns = _copy_spec(table).columns
                verb = "INSERT OR REPLACE" if table == "settings" else "INSERT"
                sql = (f"{verb} INTO {table} ({', '.join(map(_quoted, columns))}) "
                       f"VALUES ({', '.join('?' * len(columns))})")
                for rows in batches:
                    conn.executemany(sql, rows)
        self._scheme = None  # the copied settings hold the scheme

    # --- checkpoints (the TUI's writer runs them on a thread of their own) ----------------

    def defer_checkpoints(self) -> None:
        """Stop this connection's commits from checkpointing the write-ahead log (another
        connection runs `checkpoint` instead)."""
        self.conn.execute("PRAGMA wal_autocheckpoint = 0")

    def checkpoint(self) -> None:
        """Copy the write-ahead log into the database file as far as no reader needs it
        (PASSIVE: never waits for a lock, so it never holds up a writer)."""
        self.conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

    # --- summaries --------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        """Counts for `newsmark status`: stories, articles, annotators and their progress."""
        annotated = dict(self.conn.execute(
            "SELECT annotator, count(DISTINCT article_id) FROM labels GROUP BY annotator ORDER BY annotator"
        ).fetchall())
        annotators = self.annotators()
        return {
            "stories": self.story_count(),
            "articles": self.article_count(),
            "annotators": annotators,
            "annotated": {name: annotated.get(name, 0) for name in annotators},
        }

    # --- the story list (a virtual list: pages of rows, never the whole table) ------------

    def finished_story_ids(self, annotator: str) -> list[str]:
        """Stories in which `annotator` has labelled every article, sorted.

        Only stories holding an article the annotator touched are counted (found through
        the annotations_annotator index; every labelled article has an annotations row, as
        `_commit` touches one); each of their articles is one probe of the labels key and of
        the articles id index (which holds seq), never a read of the articles themselves.
        """
        sql = (
            "SELECT m.story_id FROM story_articles m JOIN articles a ON a.id = m.article_id "
            "WHERE m.story_id IN (SELECT DISTINCT t.story_id FROM annotations n "
            "  JOIN story_articles t ON t.article_id = n.article_id WHERE n.annotator = ?1) "
            f"AND {visible('a')} GROUP BY m.story_id "
            "HAVING sum(CASE WHEN EXISTS (SELECT 1 FROM labels l WHERE l.article_id = m.article_id "
            "  AND l.story_id IN ('', m.story_id) AND l.annotator = ?1) THEN 1 ELSE 0 END) = count(*) ORDER BY m.story_id"
        )
        return [row[0] for row in self.conn.execute(sql, (annotator,))]

    def _story_filter(
        self, annotator: str, unfinished_only: bool, text_filter: str, finished: Sequence[str] | None
    ) -> tuple[str, list[Any]]:
        """The WHERE clause (and its parameters) of the story list's filters."""
        clauses: list[str] = []
        params: list[Any] = []
        if text_filter:
            pattern = _like_prefix(text_filter)
            clauses.append("(id LIKE ? ESCAPE '\\' OR title LIKE ? ESCAPE '\\')")
            params += [pattern, pattern]
        if unfinished_only:
            if finished is None:
                finished = self.finished_story_ids(annotator)
            if finished:
                clauses.append("id NOT IN (SELECT value FROM json_each(?))")
                params.append(_dumps(list(finished)))
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params

    def story_page(
        self,
        offset: int,
        limit: int,
        annotator: str,
        unfinished_only: bool = False,
        text_filter: str = "",
        finished: Sequence[str] | None = None,
    ) -> list[StoryRow]:
        """One page of the story list, in id order: each story's title, article count,
        outlets, date range and how many of its articles `annotator` has labelled.

        Counts come from the story_articles and labels primary keys for the
        page's stories only. `unfinished_only` leaves out stories whose every article the
        annotator has labelled; `text_filter` keeps stories whose id or title starts with
        it (case-insensitive for ASCII). `finished` may pass `finished_story_ids(annotator)`
        computed once for many pages.
        """
        where, params = self._story_filter(annotator, unfinished_only, text_filter, finished)
        return self._story_rows(
            f"SELECT id, title, id AS ord FROM (SELECT id, title FROM stories{where} ORDER BY id LIMIT ? OFFSET ?) AS page",
            [*params, limit, offset], annotator)

    def story_list_count(
        self,
        annotator: str,
        unfinished_only: bool = False,
        text_filter: str = "",
        finished: Sequence[str] | None = None,
    ) -> int:
        """How many rows the story list has under these filters (see `story_page`)."""
        where, params = self._story_filter(annotator, unfinished_only, text_filter, finished)
        return self.conn.execute(f"SELECT count(*) FROM stories{where}", params).fetchone()[0]

    def story_list_index(
        self,
        story_id: str,
        annotator: str,
        unfinished_only: bool = False,
        text_filter: str = "",
        finished: Sequence[str] | None = None,
    ) -> int | None:
        """The row of `story_id` in the story list under these filters, or None if absent."""
        where, params = self._story_filter(annotator, unfinished_only, text_filter, finished)
        present = self.conn.execute(
            f"SELECT 1 FROM stories{where}{' AND' if where else ' WHERE'} id = ?", [*params, story_id]
        ).fetchone()
        if present is None:
            return None
        return self.conn.execute(
            f"SELECT count(*) FROM stories{where}{' AND' if where else ' WHERE'} id < ?", [*params, story_id]
        ).fetchone()[0]


    # --- the story list's columns and sorting (the finder) ---------------------------------
    # A page's columns are one query over its stories' memberships; sorting by a column
    # other than the id computes that column for every story that passes the filters.

    def refresh_story_stats(self, limit: int | None = None) -> int:
        """Recompute the summary figures of stories marked dirty, STATS_CHUNK stories per
        short transaction (at most `limit` stories; None: all); return how many. Nothing is
        done while an import is publishing (its rows are hidden: figures computed now would
        be wrong once it finishes), nor on a database that cannot be written."""
        if not self.has_story_stats:
            return 0
        done = 0
        # Derived rows: a commit need not wait for the disk (synchronous NORMAL; WAL keeps
        # each one atomic, and one lost to a power cut leaves its stories marked dirty).
        synchronous = self.conn.execute("PRAGMA synchronous").fetchone()[0]
        try:
            self.conn.execute("PRAGMA synchronous = NORMAL")
            while limit is None or done < limit:
                if self.conn.execute("SELECT 1 FROM story_stats_dirty LIMIT 1").fetchone() is None:
                    return done
                with self.transaction() as conn:
                    if self._importing():
                        return done
                    ids = [r[0] for r in conn.execute("SELECT story_id FROM story_stats_dirty LIMIT ?", (STATS_CHUNK,))]
                    marks = _dumps(ids)
                    conn.execute("DELETE FROM story_stats WHERE story_id IN (SELECT value FROM json_each(?))", (marks,))
                    conn.executemany("INSERT INTO story_stats VALUES (?, ?, ?, ?, ?)", self._live_stats(ids, conn))
                    conn.execute("DELETE FROM story_stats_dirty WHERE story_id IN (SELECT value FROM json_each(?))",
                                 (marks,))
                done += len(ids)
        except sqlite3.OperationalError:
            return done  # read-only or busy: dirty stories are computed when read
        finally:
            self.conn.execute(f"PRAGMA synchronous = {int(synchronous)}")
        return done

    def _importing(self) -> bool:
        """An import is publishing (its rows are hidden from readers until it ends)."""
        return self.conn.execute(f"SELECT 1 FROM settings h WHERE {_IMPORTING_RANGE} LIMIT 1").fetchone() is not None

    def _live_stats(self, story_ids: Sequence[str], conn: sqlite3.Connection | None = None) -> list[tuple]:
        """(story id, articles, outlets, first and last published) of these stories (those
        that exist), computed from their articles."""
        return (conn or self.conn).execute(
            "SELECT s.id, count(a.id), count(DISTINCT a.source), min(a.published), max(a.published) "
            "FROM stories s LEFT JOIN story_articles m ON m.story_id = s.id "
            f"LEFT JOIN articles a ON a.id = m.article_id AND {visible('a')} "
            "WHERE s.id IN (SELECT value FROM json_each(?)) GROUP BY s.id",
            (_dumps(list(story_ids)),),
        ).fetchall()

    def _article_counts(self, story_ids: Sequence[str]) -> dict[str, int]:
        """How many articles each of these stories has: from the summary table, or from
        the articles for a story still marked dirty."""
        counts: dict[str, int] = {}
        if self.has_story_stats:
            counts.update(self.conn.execute(
                "SELECT story_id, articles FROM story_stats WHERE story_id IN (SELECT value FROM json_each(?)) "
                "AND story_id NOT IN (SELECT story_id FROM story_stats_dirty)", (_dumps(list(story_ids)),)))
        counts.update((r[0], r[1]) for r in self._live_stats([i for i in story_ids if i not in counts]))
        return counts

    def _story_rows(self, stories_sql: str, params: Sequence[Any], annotator: str) -> list[StoryRow]:
        """The list's columns for the stories `stories_sql` yields (columns id, title, ord),
        in `ord` order: articles, distinct outlets, first and last published (from the
        summary table; computed from the articles for a story still marked dirty), and how
        many articles `annotator` has labelled (a label of the story or of the article).
        Nothing is refreshed here: a page costs its own stories, whatever else is dirty."""
        stats = ("LEFT JOIN story_stats t ON t.story_id = s.id LEFT JOIN story_stats_dirty d ON d.story_id = s.id"
                 if self.has_story_stats else
                 "LEFT JOIN (SELECT NULL AS articles, NULL AS outlets, NULL AS first_published, "
                 "NULL AS last_published) t ON TRUE LEFT JOIN (SELECT 1 AS story_id) d ON TRUE")
        rows = self.conn.execute(
            "SELECT s.id, s.title, t.articles, t.outlets, t.first_published, t.last_published, "
            "  (SELECT count(*) FROM story_articles m JOIN articles a ON a.id = m.article_id "
            f"   WHERE m.story_id = s.id AND {visible('a')} AND EXISTS (SELECT 1 FROM labels l "
            "    WHERE l.article_id = m.article_id AND l.story_id IN ('', s.id) AND l.annotator = ?)), "
            f"  d.story_id IS NOT NULL OR t.articles IS NULL FROM ({stories_sql}) s {stats} ORDER BY s.ord",
            [annotator, *params],
        ).fetchall()
        live = {r[0]: r for r in self._live_stats([r[0] for r in rows if r[7]])}
        out = []
        for r in rows:
            articles, outlets, first, last = live[r[0]][1:] if r[0] in live else r[2:6]
            out.append(StoryRow(id=r[0], title=r[1], articles=articles or 0, labelled=r[6], outlets=outlets or 0,
                                first_published=first, last_published=last))
        return out

    def story_rows(self, story_ids: Sequence[str], annotator: str) -> list[StoryRow]:
        """The list's columns (see `story_page`) for these stories, in this order (unknown
        ids are left out)."""
        return self._story_rows(
            "SELECT j.value AS id, t.title, j.key AS ord FROM json_each(?) j JOIN stories t ON t.id = j.value",
            [_dumps(list(story_ids))], annotator)

    def story_order(
        self,
        annotator: str,
        sort: str = "id",
        descending: bool = False,
        unfinished_only: bool = False,
        text_filter: str = "",
        finished: Sequence[str] | None = None,
        among: Iterable[str] | None = None,
    ) -> list[str]:
        """The ids of the stories that pass the filters (and are `among` these, if given),
        sorted by a column of STORY_SORTS, ties by id; `descending` reverses the order.

        Articles, outlets and dates come from the summary table (see
        `refresh_story_stats`), never from the articles; progress counts the annotator's
        own labels, one pass over them (labels_annotator), not over every story."""
        if sort not in STORY_SORTS:
            raise StoreError(f"cannot sort stories by {sort!r}")
        where, params = self._story_filter(annotator, unfinished_only, text_filter, finished)
        if among is not None:
            where += (" AND" if where else " WHERE") + " id IN (SELECT value FROM json_each(?))"
            params.append(_dumps(list(among)))
        order = "DESC" if descending else "ASC"
        if sort == "id":
            return [r[0] for r in self.conn.execute(f"SELECT id FROM stories{where} ORDER BY id {order}", params)]
        if sort == "progress":
            return self._progress_order(annotator, descending, where, params)
        self.refresh_story_stats()
        column = {"articles": "articles", "outlets": "outlets", "dates": "first_published"}[sort]
        if (self.has_story_stats and not where
                and self.conn.execute("SELECT 1 FROM story_stats_dirty LIMIT 1").fetchone() is None):
            # With nothing dirty every story has its row (an empty one too): the column's
            # index gives the order without sorting.
            rows = self.conn.execute(f"SELECT story_id FROM story_stats ORDER BY {column} {order}, story_id {order}")
            return [r[0] for r in rows]
        if self.has_story_stats:
            stats = "story_stats"
        else:  # a read-only database made before the summary table: computed here
            stats = ("(SELECT m.story_id, count(*) AS articles, count(DISTINCT a.source) AS outlets, "
                     "min(a.published) AS first_published FROM story_articles m JOIN articles a ON a.id = m.article_id "
                     f"WHERE {visible('a')} GROUP BY m.story_id)")
        key = "coalesce(t.first_published, '')" if sort == "dates" else f"coalesce(t.{column}, 0)"
        rows = self.conn.execute(
            f"SELECT s.id FROM (SELECT id FROM stories{where}) s LEFT JOIN {stats} t ON t.story_id = s.id "
            f"ORDER BY {key} {order}, s.id {order}",
            params,
        )
        return [r[0] for r in rows]

    def _progress_order(self, annotator: str, descending: bool, where: str, params: list[Any]) -> list[str]:
        """The stories passing `where`, by the share of their articles `annotator` has
        labelled, ties by id. Only stories holding an article the annotator labelled have a
        share above 0: those are counted (one pass over the annotator's labels, through
        labels_annotator), and every other story keeps its place in id order."""
        # Hidden rows exist only while an import publishes: else the check is skipped (it
        # costs a probe of the articles per label).
        shown = (f"JOIN articles a ON a.id = m.article_id AND {visible('a')} " if self._importing() else "")
        labelled = dict(self.conn.execute(
            "SELECT m.story_id, count(DISTINCT m.article_id) FROM "
            "(SELECT DISTINCT article_id, story_id FROM labels WHERE annotator = ?) l "
            f"JOIN story_articles m ON m.article_id = l.article_id AND l.story_id IN ('', m.story_id) {shown}"
            "GROUP BY m.story_id",
            (annotator,)).fetchall())
        ids = [r[0] for r in self.conn.execute(f"SELECT id FROM stories{where} ORDER BY id", params)]
        touched = [story_id for story_id in ids if story_id in labelled]
        sizes = self._article_counts(touched)
        share = {story_id: labelled[story_id] / max(1, sizes.get(story_id, 0)) for story_id in touched}
        done = sorted(touched, key=lambda story_id: (share[story_id], story_id))
        untouched = [story_id for story_id in ids if story_id not in share]
        ordered = untouched + done  # share 0 first, then rising; ties by id
        return ordered[::-1] if descending else ordered

    # --- for load-annotations (schema/load.py) ----------------------------------------
    # What loading a teammate's file needs of the write path, and nothing else uses.

    ARTICLE_COPY_COLUMNS = _STAGED_COLUMNS  # an article row's columns but its seq

    def commit_loaded(
        self, conn: sqlite3.Connection, annotator: str, changes: Iterable[Change], touch: Iterable[Touched], *, at: str
    ) -> ActionResult:
        """Inside `conn`'s transaction: apply one loaded record's changes as one action of
        the event log (op "load", not undoable, stamped with the record's time `at`, in the
        name of `annotator`), stamping the annotations rows of `touch` when a row changed."""
        return self._commit(annotator, "load", changes, touch, at=at, undoable=False, conn=conn)

    def write_loaded(self, conn: sqlite3.Connection, actions: Iterable[LoadedAction], *,
                     fresh_into: dict[str, str] | None = None, after_event: int = 0) -> int:
        """Inside `conn`'s transaction: what `commit_loaded` does for each action, for
        records whose rows' current values the loader already knows (it read them for a
        whole batch at once): each change comes with the row as it is (None: no row), so
        nothing is read back, and the rows and events are written with one executemany
        per table. Nothing is stamped besides the changes: an annotation record's own
        annotations row (what commit_loaded's `touch` stamps) must be among them. No
        change may delete a row.

        `fresh_into` names, per table (labels, annotations), a plain table with
        FRESH_COLUMNS[table] that takes that table's new rows (no row before) instead,
        appended with their event's id and action: their events are not written here but
        made from those rows by `fresh_events_select` (a load's shadow holds such rows apart
        until it publishes them). Event ids follow the log's and `after_event`; the last one
        given is returned."""
        if self.postgres:
            self._write_loaded_numbered_by_server(
                conn, [a.as_action() if isinstance(a, FreshAnnotation) else a for a in actions])
            return 0
        row = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'events'").fetchone()
        event_id = max(row[0] if row else 0, conn.execute("SELECT coalesce(max(id), 0) FROM events").fetchone()[0],
                       after_event)
        fresh_into = fresh_into or {}
        # Rows by (table, whether they go to its fresh_into table), in the order they come.
        rows: dict[tuple[str, bool], list[Any]] = {("labels", True): [], ("annotations", True): []}
        label_rows, annotation_rows = rows["labels", True], rows["annotations", True]
        events: list[tuple] = []
        append = events.append
        dumps = orjson.dumps
        held = "labels" in fresh_into and "annotations" in fresh_into
        for action_of in actions:
            action = event_id + 1
            if type(action_of) is FreshAnnotation and held:
                # Most of a load's rows: appended with their event ids, as the generic branch
                # below would hold action_of.changes() (test_store holds the two equal).
                article_id, story_id, annotator, at = (action_of.article_id, action_of.story_id,
                                                       action_of.annotator, action_of.at)
                for scope, labels in ((story_id, action_of.story_labels), ("", action_of.shared_labels)):
                    for name, value in labels.items():
                        event_id += 1
                        label_rows.append((article_id, scope, annotator, name, value, at, event_id, action))
                event_id += 1
                annotation_rows.append((article_id, story_id, annotator, action_of.note, int(bool(action_of.flagged)),
                                        at, event_id, action))
                continue
            if type(action_of) is FreshAnnotation:
                action_of = action_of.as_action()
            annotator, changes, at = action_of
            for change, before in changes:
                after = change.after
                if after is None:
                    raise ValueError("write_loaded does not delete rows")
                if before is not None:
                    after = {**before, **after}
                    if before == after:
                        continue
                event_id += 1
                tbl = change.tbl
                to_fresh = before is None and tbl in fresh_into
                table_rows = rows.get((tbl, to_fresh))
                if table_rows is None:
                    table_rows = rows[tbl, to_fresh] = []
                if to_fresh:
                    table_rows.append((*_row_values(tbl, change.key, after, at), event_id, action))
                    continue
                if tbl == "labels":  # (most rows: _row_values inline)
                    key = change.key
                    table_rows.append((key["article_id"], key["story_id"], key["annotator"], key["field"],
                                       after.get("value"), at))
                else:
                    table_rows.append(_row_values(tbl, change.key, after, at))
                append((event_id, action, at, annotator, "load", tbl, dumps(change.key).decode(),
                        None if before is None else dumps(before).decode(), dumps(after).decode(), 0))
        for (tbl, to_fresh), params in rows.items():
            if not params:
                continue
            if to_fresh:
                conn.executemany(f"INSERT INTO {fresh_into[tbl]} VALUES ({', '.join('?' * len(params[0]))})", params)
            else:
                conn.executemany(_upsert_sql(tbl), params)
        conn.executemany("INSERT INTO events (id, action, at, annotator, op, tbl, key, before, after, undoable) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", events)
        return event_id

    # A loaded table's new rows as `write_loaded` appends them to a `fresh_into` table.
    FRESH_COLUMNS = {tbl: (*TABLES[tbl][0], *TABLES[tbl][1], "updated_at", "event_id", "action")
                     for tbl in ("labels", "annotations")}

    @staticmethod
    def fresh_events_select(tbl: str, source: str) -> str:
        """A SELECT of the events (the columns of `events`, ids shifted by the first
        parameter) of the rows in `source`, a `fresh_into` table of `tbl`: the events
        write_loaded would have written for them (json_object writes the JSON as orjson
        does; test_store holds the two equal)."""
        key_cols = TABLES[tbl][0]
        key = "json_object(" + ", ".join(f"'{c}', \"{c}\"" for c in key_cols) + ")"
        if tbl == "labels":
            after = "json_object('value', \"value\")"
        else:
            after = "json_object('note', note, 'flagged', json(CASE WHEN flagged THEN 'true' ELSE 'false' END))"
        return (f"SELECT event_id + ?1, action + ?1, updated_at, annotator, 'load', '{tbl}', {key}, NULL, {after}, 0, 0 "
                f"FROM {source}")

    def _write_loaded_numbered_by_server(self, conn: Any, actions: Iterable[LoadedAction]) -> None:
        """`write_loaded` on PostgreSQL, where the log's sequence numbers every event (its
        trigger refuses ids given by the client): each action's first event is inserted
        alone for its id, the action's number; the rest of its events follow in one go."""
        rows: dict[str, list[list[Any]]] = {}
        for annotator, changes, at in actions:
            events: list[tuple] = []
            for change, before in changes:
                if change.after is None:
                    raise ValueError("write_loaded does not delete rows")
                after = {**before, **change.after} if before is not None else change.after
                if before == after:
                    continue
                rows.setdefault(change.tbl, []).append(_row_values(change.tbl, change.key, after, at))
                events.append((at, annotator, "load", change.tbl, _dumps(change.key),
                               None if before is None else _dumps(before), _dumps(after), 0))
            if not events:
                continue
            insert = "INSERT INTO events (action, at, annotator, op, tbl, key, before, after, undoable) " \
                     "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
            action = conn.execute(insert + " RETURNING id", (0, *events[0])).fetchone()[0]
            conn.executemany(insert, [(action, *event) for event in events[1:]])
        for tbl, params in rows.items():
            conn.executemany(_upsert_sql(tbl), params)

    def begin_bulk_write(self) -> None:
        """Take the write lock (BEGIN IMMEDIATE) as a bulk writer does, waiting out other
        writers; the caller commits or rolls back (a load's last, locked try)."""
        self._begin_immediate(interactive=False)


@dataclass(frozen=True)
class StoryProgress:
    """A row of the story list: a story, its article count, and one annotator's progress
    (articles with any label)."""

    id: str
    title: str
    articles: int
    labelled: int

    @property
    def finished(self) -> bool:
        """Every article of the story has a label from the annotator."""
        return self.articles > 0 and self.labelled >= self.articles


@dataclass(frozen=True)
class StoryRow(StoryProgress):
    """A row of the story finder: a story's progress, its outlets and date range."""

    outlets: int = 0
    first_published: str | None = None
    last_published: str | None = None


# The story list's sort columns, in the order a key cycles through them.
STORY_SORTS = ("id", "articles", "outlets", "dates", "progress")


def _copy_spec(table: str) -> CopyTable:
    """COPY_TABLES' entry for a table; ValueError for any other name (it goes into SQL)."""
    if table not in COPY_TABLES:
        raise ValueError(f"not a table a copy moves: {table!r}")
    return COPY_TABLES[table]


def _quoted(column: str) -> str:
    return f'"{column}"'


# --- the annotation export's query (exports/jsonl.py reads its rows) ---------------------

_EXPORT_ARTICLE_COLUMNS = "a.id, a.source, a.url, a.title, a.byline, a.published, a.text_sha256"

# Claims as [id, start, end, exact, prefix, suffix, cluster, {field: value}, cluster wording] arrays.
_EXPORT_CLAIMS = """
    (SELECT json_group_array(json_array(c.id, c.start, c."end", c.exact, c.prefix, c.suffix, c.cluster,
            json((SELECT json_group_object(cl.field, cl.value) FROM claim_labels cl WHERE cl.claim_id = c.id)),
            (SELECT k.label FROM clusters k WHERE k.id = c.cluster)))
       FROM claims c WHERE c.article_id = an.article_id AND c.annotator = an.annotator)
"""
# The story's story-scoped labels and the article-scoped ones (story_id '').
_EXPORT_LABELS = """
    (SELECT json_group_object(l.field, l.value) FROM labels l
      WHERE l.article_id = an.article_id AND l.story_id IN ('', an.story_id) AND l.annotator = an.annotator)
"""


# The same two on PostgreSQL (its JSON aggregates; none is NULL there, not an empty one).
_EXPORT_CLAIMS_PG = """
    (SELECT coalesce(json_agg(json_build_array(c.id, c.start, c."end", c.exact, c.prefix, c.suffix, c.cluster,
            (SELECT coalesce(json_object_agg(cl.field, cl.value), '{}') FROM claim_labels cl WHERE cl.claim_id = c.id),
            (SELECT k.label FROM clusters k WHERE k.id = c.cluster))), '[]')
       FROM claims c WHERE c.article_id = an.article_id AND c.annotator = an.annotator)
"""
_EXPORT_LABELS_PG = """
    (SELECT coalesce(json_object_agg(l.field, l.value), '{}') FROM labels l
      WHERE l.article_id = an.article_id AND l.story_id IN ('', an.story_id) AND l.annotator = an.annotator)
"""


def annotation_query(
    *, annotators: Sequence[str] = (), story: str | None = None, text: bool = True, postgres: bool = False
) -> tuple[str, list[Any]]:
    """The one SQL statement (and its parameters) behind the annotation records (on
    PostgreSQL with its JSON aggregates, and ordered by the outer query, whose joins need
    not keep the subquery's order there)."""
    where: list[str] = []
    params: list[Any] = []
    if story is not None:
        where.append("n.story_id = ?")
        params.append(story)
    if annotators:
        where.append(f"n.annotator IN ({', '.join('?' * len(annotators))})")
        params.extend(annotators)
    params += params  # the filters apply to the keys and to the rows they lead to
    # Only the (story, seq) keys of annotated articles are sorted (a few bytes each, never
    # the texts); CROSS JOIN keeps them the outer loop, in that order, each article found
    # by its seq (the rowid) and its annotators by the annotations primary key, whose
    # (article_id, story_id, annotator) order gives annotator order. The LIMIT keeps
    # SQLite (3.41+) from dropping the subquery's ORDER BY, as the outer query has none.
    sql = f"""
        SELECT k.story_id, {_EXPORT_ARTICLE_COLUMNS}, {"a.text" if text else "NULL"}, s.title, s.proposition,
               an.annotator, an.note, an.flagged, an.updated_at,
               {_EXPORT_LABELS_PG if postgres else _EXPORT_LABELS}, {_EXPORT_CLAIMS_PG if postgres else _EXPORT_CLAIMS}
          FROM (SELECT DISTINCT n.story_id, b.seq FROM annotations n
                  JOIN articles b ON b.id = n.article_id
                 {"WHERE " + " AND ".join(where) if where else ""}
                 ORDER BY n.story_id, b.seq LIMIT -1) k
          CROSS JOIN articles a ON a.seq = k.seq
          CROSS JOIN annotations an ON an.article_id = a.id AND an.story_id = k.story_id
          LEFT JOIN stories s ON s.id = k.story_id
         {"WHERE " + " AND ".join(w.replace("n.", "an.") for w in where) if where else ""}
         {"ORDER BY k.story_id, k.seq, an.annotator" if postgres else ""}
    """
    return sql, params


def _in_story(story_id: str | None) -> tuple[str, tuple]:
    """A WHERE clause keeping the rows of one story's articles (none with None), and its
    parameters."""
    if story_id is None:
        return "", ()
    return " WHERE article_id IN (SELECT article_id FROM story_articles WHERE story_id = ?)", (story_id,)


def _like_prefix(prefix: str) -> str:
    """A LIKE pattern matching strings that start with `prefix` (\\ escapes % and _)."""
    return prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _story(row: tuple) -> Story:
    return Story.model_construct(id=row[0], title=row[1], proposition=row[2], meta=orjson.loads(row[3]))


_EVENT_COLUMNS = ("id", "action", "at", "annotator", "op", "tbl", "key", "before", "after", "undoable", "undone")


def _columns(alias: str) -> str:
    """The event columns `_event` reads, in its order, of the table aliased `alias`."""
    return ", ".join(f"{alias}.{col}" for col in _EVENT_COLUMNS)


def _event(row: tuple) -> Event:
    return Event.model_construct(
        id=row[0], action=row[1], at=row[2], annotator=row[3], op=row[4], tbl=row[5], key=orjson.loads(row[6]),
        before=None if row[7] is None else orjson.loads(row[7]),
        after=None if row[8] is None else orjson.loads(row[8]), undoable=bool(row[9]), undone=bool(row[10]),
    )


@functools.cache
def _upsert_sql(tbl: str) -> str:
    """The statement that writes one row of `tbl` (its key columns, its value columns and
    the stamp of stamped tables), replacing the row with that key; see `_row_values`."""
    key_cols, value_cols = TABLES[tbl]
    values = list(value_cols) + (["updated_at"] if tbl in _STAMPED or tbl == "annotations" else [])
    cols = list(key_cols) + values
    quoted = ", ".join(f'"{c}"' for c in cols)
    updates = ", ".join(f'"{c}" = excluded."{c}"' for c in values)
    return (f"INSERT INTO {tbl} ({quoted}) VALUES ({', '.join('?' * len(cols))}) "
            f"ON CONFLICT ({', '.join(key_cols)}) " + (f"DO UPDATE SET {updates}" if updates else "DO NOTHING"))


def _row_values(tbl: str, key: dict[str, Any], after: dict[str, Any], at: str) -> list[Any]:
    """The parameters of `_upsert_sql(tbl)` for a row set to `after` at `at`."""
    key_cols, value_cols = TABLES[tbl]
    values = [key[c] for c in key_cols]
    get = after.get
    values += [get(c) for c in value_cols]
    if tbl == "annotations":
        values[-1] = int(bool(values[-1]))  # flagged, the last value column
        values.append(at)
    elif tbl in _STAMPED:
        values.append(at)
    return values


def _key_tuple(tbl: str, key: dict[str, Any]) -> tuple:
    """A row's key as a tuple in TABLES' column order (events store keys as JSON objects)."""
    return tuple(key.get(col) for col in TABLES[tbl][0])


def _normal_row(tbl: str, values: dict[str, Any] | None) -> dict[str, Any] | None:
    """A row's values as stored, for comparing an event's before/after with the row now.

    Fills the value columns an event left out, and treats an annotations row with no note
    and no flag as no row: every action re-creates that row for the articles it touches.
    """
    value_cols = TABLES[tbl][1]
    if values is None:
        return {"note": None, "flagged": False} if tbl == "annotations" else None
    normal = {col: values.get(col) for col in value_cols}
    if tbl == "annotations":
        normal["flagged"] = bool(normal["flagged"])
    return normal


def _short(value: Any) -> str:
    text = str(value)
    return text[:8] + "…" if len(text) > 9 else text


def _when(stamp: str) -> str:
    """An event's timestamp for a message: 2026-12-02 10:02 UTC."""
    if len(stamp) >= 16 and stamp[10:11] == "T" and stamp.endswith("Z"):
        return f"{stamp[:10]} {stamp[11:16]} UTC"
    return stamp


def _row_phrase(annotator: str, tbl: str, key: dict[str, Any], row: dict[str, Any] | None, columns: str) -> str:
    """What a row is, for a message: `gold stance of 8023a418…`, `your note on …`."""
    values = row or {}
    owner_name = key.get("annotator") or values.get("annotator")
    owner = "your" if owner_name == annotator else f"{owner_name}'s"
    article = _short(key.get("article_id") or values.get("article_id") or "?")
    if tbl == "labels":
        return f"{owner} {key['field']} of {article}"
    if tbl == "annotations":
        return f"{owner} {columns or 'note and flag'} on {article}"
    if tbl == "claims":
        return f"{owner} claim {_short(key['id'])} in {article}"
    if tbl == "claim_labels":
        return f"the {key['field']} of claim {_short(key['claim_id'])}"
    if tbl == "clusters":
        return f"claim cluster {_short(key['id'])}"
    if tbl == "gold":
        return f"gold {key['field']} of {article}"
    if tbl == "stories":
        return f"story {key['id']}"
    if tbl == "story_articles":
        return f"{article} in story {key['story_id']}"
    return f"gold claim {_short(key['id'])} of {article}"


def _value_phrase(tbl: str, values: dict[str, Any] | None) -> str | None:
    """A row's value for a message (labels and gold: the label; no row: "nothing"), or
    None for rows whose value is not one word."""
    if values is None:
        return "nothing"
    if tbl in ("labels", "gold", "claim_labels"):
        return str(values.get("value"))
    return None


def _refusal_text(
    annotator: str,
    undo: bool,
    event: Event,
    current: dict[str, Any] | None,
    wanted: dict[str, Any] | None,
    direct: Event | None,
    replayed: tuple[Event, Event] | None,
) -> str:
    """The message of a refused undo or redo: who changed which row, when and to what."""
    verb = "undo" if undo else "redo"
    now, then = _normal_row(event.tbl, current), _normal_row(event.tbl, wanted)
    changed = [col for col in ("note", "flagged") if (now or {}).get(col) != (then or {}).get(col)]
    columns = " and ".join("flag" if col == "flagged" else col for col in changed)
    what = _row_phrase(annotator, event.tbl, event.key, current or wanted or event.after or event.before, columns)
    if replayed is not None and (direct is None or replayed[0].id > direct.id):
        audit, _ = replayed
        who = "you" if audit.annotator == annotator else audit.annotator
        value = _value_phrase(event.tbl, current)
        state = f" (it is now {value})" if value is not None else ""
        done = "undid" if audit.op == "undo" else "redid"
        text = f"{who} {done} a change to {what}{state} at {_when(audit.at)}, after your change"
    elif direct is not None:
        value = _value_phrase(direct.tbl, direct.after)
        if direct.after is None:
            change = f"removed {what}"
        elif value is not None:
            change = f"changed {what} to {value}"
        else:
            change = f"changed {what}"
        if direct.op == "load":
            by = "" if direct.annotator == "load" else f" by {direct.annotator}"  # "load": nobody decided
            text = f"load-annotations {change} (a record{by}, of {_when(direct.at)}), after your change"
        else:
            who = "you" if direct.annotator == annotator else direct.annotator
            text = f"{who} {change} at {_when(direct.at)}, after your change"
    else:
        value, left = _value_phrase(event.tbl, current), _value_phrase(event.tbl, wanted)
        state = f" (it is {value}, not {left})" if value is not None and left is not None else ""
        text = f"{what} was changed outside newsmark's event log{state}, after your change"
    if undo:
        outcome = "yours stays in effect and is off the undo list: undo again to go on with your earlier changes"
    else:
        outcome = "yours stays undone and is off the redo list"
    return for_terminal(f"cannot {verb}: {text}. That change is kept; {outcome}.")
