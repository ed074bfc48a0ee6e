"""Forward-only schema migrations, tracked in `PRAGMA user_version`.

MIGRATIONS[i] takes a database from version i to version i + 1. A database that already
holds data is copied aside (`<db>.v<N>.bak`, or `<db>.v<N>.1.bak`, ... when that name is
taken: a backup is never overwritten) before any migration runs. Every database newsmark
creates or upgrades carries APPLICATION_ID in its header.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path

V1 = """
CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE stories (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL DEFAULT '',
    proposition TEXT NOT NULL DEFAULT '',
    meta TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE articles (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    story_id TEXT NOT NULL,
    source TEXT,
    url TEXT,
    title TEXT,
    byline TEXT,
    published TEXT,
    text TEXT NOT NULL,
    text_sha256 TEXT NOT NULL,
    meta TEXT NOT NULL DEFAULT '{}',
    origin TEXT
);
CREATE INDEX articles_story ON articles (story_id, id);
CREATE TABLE annotations (
    article_id TEXT NOT NULL,
    annotator TEXT NOT NULL,
    note TEXT,
    flagged INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (article_id, annotator)
) WITHOUT ROWID;
CREATE INDEX annotations_annotator ON annotations (annotator, article_id);
CREATE TABLE labels (
    article_id TEXT NOT NULL,
    annotator TEXT NOT NULL,
    field TEXT NOT NULL,
    value TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (article_id, annotator, field)
) WITHOUT ROWID;
CREATE INDEX labels_field ON labels (field, article_id);
CREATE TABLE clusters (
    id TEXT PRIMARY KEY,
    story_id TEXT,
    label TEXT,
    created_by TEXT,
    created_at TEXT
);
CREATE TABLE claims (
    id TEXT PRIMARY KEY,
    article_id TEXT NOT NULL,
    annotator TEXT NOT NULL,
    start INTEGER NOT NULL,
    "end" INTEGER NOT NULL,
    exact TEXT NOT NULL,
    prefix TEXT NOT NULL DEFAULT '',
    suffix TEXT NOT NULL DEFAULT '',
    cluster TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX claims_article ON claims (article_id, annotator, start);
CREATE INDEX claims_cluster ON claims (cluster);
CREATE TABLE claim_labels (
    claim_id TEXT NOT NULL,
    field TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (claim_id, field)
) WITHOUT ROWID;
CREATE TABLE gold (
    article_id TEXT NOT NULL,
    field TEXT NOT NULL,
    value TEXT NOT NULL,
    by TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    at TEXT NOT NULL,
    PRIMARY KEY (article_id, field)
) WITHOUT ROWID;
CREATE TABLE gold_claims (
    id TEXT PRIMARY KEY,
    article_id TEXT NOT NULL,
    start INTEGER NOT NULL,
    "end" INTEGER NOT NULL,
    exact TEXT NOT NULL,
    prefix TEXT NOT NULL DEFAULT '',
    suffix TEXT NOT NULL DEFAULT '',
    labels TEXT NOT NULL DEFAULT '{}',
    cluster TEXT,
    by TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    at TEXT NOT NULL
);
CREATE INDEX gold_claims_article ON gold_claims (article_id, start);
CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    action INTEGER NOT NULL,
    at TEXT NOT NULL,
    annotator TEXT NOT NULL,
    op TEXT NOT NULL,
    tbl TEXT NOT NULL,
    key TEXT NOT NULL,
    before TEXT,
    after TEXT,
    undoable INTEGER NOT NULL DEFAULT 1,
    undone INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX events_undo ON events (annotator, undoable, action);
"""

# Undo, redo and load look events up by action; without this index each of them scanned
# the whole log (undo + redo with 300,000 events: 39 ms before, 0.4 ms after).
V2 = """
CREATE INDEX events_action ON events (action);
"""

# Stories and articles become many-to-many: `story_articles` holds every membership
# (`articles.story_id` stays as the story an article was first imported into). Labels and
# gold of the scheme's story-scoped fields (stance) are kept per (story, article); the other
# fields' rows carry story_id '' (one value wherever the article appears). Notes and flags
# (`annotations`) belong to the article within a story. Existing rows take the article's
# story; the event log's keys are rewritten the same way, so undo goes on across the upgrade.
V3_TABLES = """
CREATE TABLE story_articles (
    story_id TEXT NOT NULL,
    article_id TEXT NOT NULL,
    PRIMARY KEY (story_id, article_id)
) WITHOUT ROWID;
CREATE INDEX story_articles_article ON story_articles (article_id, story_id);
INSERT INTO story_articles (story_id, article_id)
    SELECT story_id, id FROM articles WHERE id NOT LIKE '~importing~%';
CREATE TABLE labels_v3 (
    article_id TEXT NOT NULL,
    story_id TEXT NOT NULL,
    annotator TEXT NOT NULL,
    field TEXT NOT NULL,
    value TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (article_id, story_id, annotator, field)
) WITHOUT ROWID;
INSERT INTO labels_v3
    SELECT l.article_id,
           CASE WHEN l.field IN (SELECT value FROM json_each(:story_fields))
                THEN coalesce((SELECT a.story_id FROM articles a WHERE a.id = l.article_id), '') ELSE '' END,
           l.annotator, l.field, l.value, l.updated_at
    FROM labels l;
DROP TABLE labels;
ALTER TABLE labels_v3 RENAME TO labels;
CREATE INDEX labels_field ON labels (field, article_id);
CREATE INDEX labels_annotator ON labels (annotator, article_id);
CREATE TABLE annotations_v3 (
    article_id TEXT NOT NULL,
    story_id TEXT NOT NULL,
    annotator TEXT NOT NULL,
    note TEXT,
    flagged INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (article_id, story_id, annotator)
) WITHOUT ROWID;
INSERT INTO annotations_v3
    SELECT n.article_id, coalesce((SELECT a.story_id FROM articles a WHERE a.id = n.article_id), ''),
           n.annotator, n.note, n.flagged, n.updated_at
    FROM annotations n;
DROP TABLE annotations;
ALTER TABLE annotations_v3 RENAME TO annotations;
CREATE INDEX annotations_annotator ON annotations (annotator, article_id);
CREATE TABLE gold_v3 (
    article_id TEXT NOT NULL,
    story_id TEXT NOT NULL,
    field TEXT NOT NULL,
    value TEXT NOT NULL,
    by TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    at TEXT NOT NULL,
    PRIMARY KEY (article_id, story_id, field)
) WITHOUT ROWID;
INSERT INTO gold_v3
    SELECT g.article_id,
           CASE WHEN g.field IN (SELECT value FROM json_each(:story_fields))
                THEN coalesce((SELECT a.story_id FROM articles a WHERE a.id = g.article_id), '') ELSE '' END,
           g.field, g.value, g.by, g.reason, g.at
    FROM gold g;
DROP TABLE gold;
ALTER TABLE gold_v3 RENAME TO gold;
UPDATE events SET key = json_set(key, '$.story_id',
        coalesce((SELECT a.story_id FROM articles a WHERE a.id = json_extract(events.key, '$.article_id')), ''))
    WHERE tbl = 'annotations'
       OR (tbl IN ('labels', 'gold')
           AND json_extract(key, '$.field') IN (SELECT value FROM json_each(:story_fields)));
UPDATE events SET key = json_set(key, '$.story_id', '')
    WHERE tbl IN ('labels', 'gold') AND json_extract(key, '$.story_id') IS NULL;
"""


def _v3_many_to_many(conn: sqlite3.Connection) -> None:
    """Version 2 to 3: see V3_TABLES. Which fields are story-scoped is the stored scheme's
    word (a scheme without `scope` gives stance alone)."""
    from newsmark.schema.scheme import default_scheme, parse_scheme

    row = conn.execute("SELECT value FROM settings WHERE key = 'scheme'").fetchone()
    scheme = parse_scheme(row[0]) if row else default_scheme()
    story_fields = json.dumps(sorted(scheme.story_fields()))
    for statement in _statements(V3_TABLES):
        conn.execute(statement, {"story_fields": story_fields} if ":story_fields" in statement else {})


MIGRATIONS: list[str | Callable[[sqlite3.Connection], None]] = [V1, V2, _v3_many_to_many]
CURRENT_VERSION = len(MIGRATIONS)


class NewerDatabaseError(RuntimeError):
    """The database was written by a newer newsmark than this one."""


class MigrationError(RuntimeError):
    """A migration could not run (its backup could not be written); the database stays at its version."""


# `PRAGMA application_id` of every database newsmark creates or upgrades ("nwsm"), so a
# newsmark database is told from another application's SQLite file by its header.
APPLICATION_ID = 0x6E77736D
# Every newsmark database holds these (version 1 on): how one made before the application
# id existed is recognised.
REQUIRED_TABLES = frozenset(
    ("settings", "stories", "articles", "annotations", "labels", "clusters", "claims",
     "claim_labels", "gold", "gold_claims", "events")
)
MAX_BACKUPS = 10_000  # .vN.bak, .vN.1.bak, ... .vN.9999.bak: then refuse rather than overwrite


def backup_path(db_path: Path, version: int, number: int = 0) -> Path:
    """The `number`-th name for the copy of a version-N database kept before migrating it:
    `<db>.vN.bak`, then `<db>.vN.1.bak`, `<db>.vN.2.bak`, ..."""
    suffix = f".v{version}.bak" if number == 0 else f".v{version}.{number}.bak"
    return db_path.with_name(db_path.name + suffix)


def migrate(conn: sqlite3.Connection, db_path: Path | None) -> Path | None:
    """Bring the database up to CURRENT_VERSION; return the backup made, if any.

    Runs under the write lock, in one transaction: the version is read again once the lock
    is held (another process may have migrated meanwhile), the backup is written first, and
    a migration that fails leaves the database as it was.
    """
    if _version(conn) == CURRENT_VERSION:
        return None
    conn.execute("BEGIN IMMEDIATE")
    backup = None
    try:
        version = _version(conn)
        if version < CURRENT_VERSION:
            if version > 0 and db_path is not None:
                backup = _write_backup(db_path, version)
            for number in range(version, CURRENT_VERSION):
                step = MIGRATIONS[number]
                if callable(step):
                    step(conn)
                    continue
                for statement in _statements(step):
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {CURRENT_VERSION}")
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return backup


def check_version(version: int) -> int:
    """Raise NewerDatabaseError for a schema version newer than this newsmark's."""
    if version > CURRENT_VERSION:
        raise NewerDatabaseError(
            f"the database is at schema version {version}, newer than this newsmark "
            f"understands ({CURRENT_VERSION}); upgrade newsmark to open it"
        )
    return version


def _version(conn: sqlite3.Connection) -> int:
    return check_version(conn.execute("PRAGMA user_version").fetchone()[0])


def _write_backup(db_path: Path, version: int) -> Path:
    """Copy the database (as the caller's transaction sees it: nothing written yet) to the
    first backup name nothing occupies. An earlier backup, or an unrelated file, folder or
    link at that name, is left alone: the next name is taken instead."""
    for number in range(MAX_BACKUPS):
        target = backup_path(db_path, version, number)
        if os.path.lexists(target):
            continue
        try:
            # Claim the name atomically: a concurrent claimant gets the next one.
            os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileExistsError:
            continue
        except OSError as exc:
            raise MigrationError(
                f"cannot upgrade {db_path}: cannot write its backup {target} "
                f"({exc.strerror or exc}); it stays at version {version}"
            ) from None
        try:
            # A second connection reads the snapshot before this migration (WAL lets it
            # read while the caller holds the write lock); the backup API copies it whole.
            source = sqlite3.connect(db_path)
            copy = sqlite3.connect(target)
            try:
                source.backup(copy)
            finally:
                copy.close()
                source.close()
        except BaseException as exc:
            target.unlink(missing_ok=True)
            if isinstance(exc, sqlite3.Error):
                raise MigrationError(
                    f"cannot upgrade {db_path}: cannot write its backup {target} ({exc}); it stays at version {version}"
                ) from None
            raise
        return target
    raise MigrationError(
        f"cannot upgrade {db_path}: {MAX_BACKUPS} backups of version {version} are in the way "
        f"({backup_path(db_path, version)} and on); move some away"
    )


def _statements(script: str) -> list[str]:
    """Split a migration script into statements (our scripts hold no ';' in literals)."""
    return [part.strip() for part in script.split(";") if part.strip()]
