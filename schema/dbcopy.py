"""`newsmark db copy SRC DST`: a whole database from one engine to another (SQLite file or
PostgreSQL server, either way), event log included, into an empty destination.

Both ends speak `CopyEnd`: the SQLite side is the store (schema/store.py), the PostgreSQL
side schema/pg_admin.py's `PgCopyEnd`. Tables go in COPY_TABLES' order, each streamed in
batches (a million-article database is never held in memory); row ids (articles' `seq`,
the events' `id`) are kept, so story order, undo and the log's order survive the move.
The destination is written in one transaction: a failure leaves it as empty as it was.

Derived data is not copied: the search index (`<db>.search`, or `search_words`) is rebuilt
by the destination's first search. The schema's own settings rows (its version, the
PostgreSQL role prefix) belong to each end and are left alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

class CopyTable(NamedTuple):
    """A table a copy moves: the columns it copies, and the key it reads them in order of
    (the order the rows were made in)."""

    columns: tuple[str, ...]
    key: tuple[str, ...]


# Parents before children, so a destination that checks references could take them.
COPY_TABLES: dict[str, CopyTable] = {
    "settings": CopyTable(("key", "value"), ("key",)),
    "stories": CopyTable(("id", "title", "proposition", "meta"), ("id",)),
    "articles": CopyTable(("seq", "id", "story_id", "source", "url", "title", "byline", "published", "text",
                           "text_sha256", "meta", "origin"), ("seq",)),
    "story_articles": CopyTable(("story_id", "article_id"), ("story_id", "article_id")),
    "clusters": CopyTable(("id", "story_id", "label", "created_by", "created_at"), ("id",)),
    "claims": CopyTable(("id", "article_id", "annotator", "start", "end", "exact", "prefix", "suffix", "cluster",
                         "created_at"), ("id",)),
    "claim_labels": CopyTable(("claim_id", "field", "value"), ("claim_id", "field")),
    "annotations": CopyTable(("article_id", "story_id", "annotator", "note", "flagged", "updated_at"),
                             ("article_id", "story_id", "annotator")),
    "labels": CopyTable(("article_id", "story_id", "annotator", "field", "value", "updated_at"),
                        ("article_id", "story_id", "annotator", "field")),
    "gold": CopyTable(("article_id", "story_id", "field", "value", "by", "reason", "at"),
                      ("article_id", "story_id", "field")),
    "gold_claims": CopyTable(("id", "article_id", "start", "end", "exact", "prefix", "suffix", "labels", "cluster",
                              "by", "reason", "at"), ("id",)),
    "events": CopyTable(("id", "action", "at", "annotator", "op", "tbl", "key", "before", "after", "undoable",
                         "undone"), ("id",)),
}
# Tables whose rows make a database non-empty (settings alone do not: a new one has some).
CONTENT_TABLES = ("stories", "articles", "labels", "annotations", "claims", "gold", "gold_claims", "events")
# Settings each end keeps for itself (schema/pg_schema.py's version and role prefix).
OWN_SETTINGS = frozenset({"schema_version", "pg_role_prefix"})
BATCH_ROWS = 5_000


class CopyError(RuntimeError):
    """A copy refused (a destination with data in it); the message says why."""


class CopyEnd(Protocol):
    """One end of a copy: rows of COPY_TABLES read in batches, or written in one transaction."""

    def count_rows(self, table: str) -> int:
        """How many rows the table holds."""
        ...

    def read_rows(self, table: str, batch: int) -> Iterator[list[tuple]]:
        """The table's rows (COPY_TABLES' columns, JSON columns as JSON text), in its key
        order, in batches."""
        ...

    def write_tables(self, tables: Iterable[tuple[str, Iterator[list[tuple]]]]) -> None:
        """Write each (table, batches of rows in COPY_TABLES' columns) in one transaction,
        then bring the row-id sequences up to the largest ids written."""
        ...


@dataclass
class CopyReport:
    """Rows copied, by table."""

    rows: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, int]:
        """The counts by table, in copy order."""
        return dict(self.rows)


def copy_database(source: CopyEnd, destination: CopyEnd, *, batch: int = BATCH_ROWS) -> CopyReport:
    """Copy every table of `source` into `destination`, which must hold no stories,
    articles, annotations or events (CopyError otherwise)."""
    held = {table: n for table in CONTENT_TABLES if (n := destination.count_rows(table))}
    if held:
        what = ", ".join(f"{n:,} {table.replace('_', ' ')} rows" for table, n in held.items())
        raise CopyError(f"the destination already holds data ({what}); copy into an empty database")
    report = CopyReport()

    def batches(table: str) -> Iterator[list[tuple]]:
        report.rows[table] = 0
        for rows in source.read_rows(table, batch):
            if table == "settings":
                rows = [row for row in rows if row[0] not in OWN_SETTINGS]
            report.rows[table] += len(rows)
            yield rows

    destination.write_tables((table, batches(table)) for table in COPY_TABLES)
    return report
