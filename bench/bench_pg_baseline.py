"""Benchmark: the bare PostgreSQL baselines the store's PostgreSQL backend will be compared with.

On a real local server (tests/pg_server.py: $NEWSMARK_TEST_PG, else a throwaway cluster of
Debian's binaries on a unix socket, with fsync on, so commits are real), in a database
holding newsmark's schema (schema/pg_schema.py):

1. COPY of --articles synthetic article rows (2-4 KB each, bench_import_export's
   generator) into `articles`, in one transaction: rows per second, by the tables' owner
   (no row-level security: the bare baseline) and by an analyst's role. PostgreSQL refuses
   COPY FROM into a table under row-level security, so the analyst COPYs into a temporary
   table and moves the rows with INSERT ... SELECT (the policies' WITH CHECK per row), as
   the backend will have to.
2. One label row INSERTed and COMMITted per transaction, --labels times, as a keystroke
   would be: commit latency p50 / p99, by the owner and by the analyst (whose policy
   looks up their annotator name per row).

The owner's figures are the bare baselines; the analyst's, over the owner's, give the cost
of the database enforcing the rights. For reference, in the same run, the same on a bare
SQLite file (WAL, synchronous=FULL, as the store opens it): the rows by one
`executemany` in one transaction, and the label loop.

Usage: .venv/bin/python bench/bench_pg_baseline.py [--articles 100000] [--labels 2000] [--json]
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(1, str(ROOT))

from bench_import_export import make_articles  # noqa: E402
from tests.pg_server import Unavailable, start_server  # noqa: E402

from newsmark.schema.pg_admin import add_member  # noqa: E402
from newsmark.schema.pg_schema import create_schema  # noqa: E402

COLUMNS = ("id", "story_id", "source", "url", "title", "byline", "published", "text", "text_sha256")
PASSWORD = "bench-password"


def article_rows(count: int) -> list[tuple]:
    """The synthetic articles as `articles` rows (ids and hashes as newsmark makes them)."""
    import hashlib

    rows = []
    for article in make_articles(count, stories=max(1, count // 50)):
        digest = hashlib.sha256(article["text"].encode()).hexdigest()
        rows.append((digest[:16], article["story"], article["source"], article["url"], article["title"],
                     article["byline"], article["published"], article["text"], digest))
    return rows


def copy_rate(conn, rows: list[tuple], *, staged: bool) -> float:
    """COPY the rows into `articles` in one transaction; rows per second. PostgreSQL refuses
    COPY FROM into a table under row-level security, so `staged` COPYs into a temporary
    table and moves the rows with one INSERT ... SELECT (the policies checked per row)."""
    columns = ", ".join(COLUMNS)
    started = time.perf_counter()
    with conn.transaction():
        if staged:
            conn.execute("CREATE TEMP TABLE staged_articles (LIKE articles INCLUDING DEFAULTS INCLUDING IDENTITY) ON COMMIT DROP")
        target = "staged_articles" if staged else "articles"
        with conn.cursor().copy(f"COPY {target} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        if staged:
            conn.execute(f"INSERT INTO articles ({columns}) SELECT {columns} FROM staged_articles ORDER BY seq")
    return len(rows) / (time.perf_counter() - started)


def label_latencies(execute_commit, count: int) -> list[float]:
    """Seconds from each single-row INSERT to its COMMIT's return, `count` times."""
    latencies = []
    for index in range(count):
        started = time.perf_counter()
        execute_commit(index)
        latencies.append(time.perf_counter() - started)
    return latencies


def pg_labels(conn, annotator: str, count: int) -> list[float]:
    def one(index: int) -> None:
        with conn.transaction():
            conn.execute(
                "INSERT INTO labels (article_id, story_id, annotator, field, value, updated_at) "
                "VALUES (%s, '', %s, 'reliability', 'B', '2026-01-01T00:00:00Z')",
                (f"a{index:08d}", annotator),
            )

    return label_latencies(one, count)


def sqlite_labels(folder: Path, count: int) -> list[float]:
    conn = sqlite3.connect(folder / "bare.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("CREATE TABLE labels (article_id TEXT, story_id TEXT, annotator TEXT, field TEXT, value TEXT, "
                 "updated_at TEXT, PRIMARY KEY (article_id, story_id, annotator, field)) WITHOUT ROWID")

    def one(index: int) -> None:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO labels VALUES (?, '', 'alice', 'reliability', 'B', '2026-01-01T00:00:00Z')",
                     (f"a{index:08d}",))
        conn.execute("COMMIT")

    try:
        return label_latencies(one, count)
    finally:
        conn.close()


def sqlite_copy_rate(folder: Path, rows: list[tuple]) -> float:
    """The rows into a bare SQLite `articles` table (its keys and index) by one executemany
    in one transaction; rows per second."""
    conn = sqlite3.connect(folder / "bare.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute(f"CREATE TABLE articles (seq INTEGER PRIMARY KEY, {', '.join(COLUMNS)}, "
                 "UNIQUE (id))")
    conn.execute("CREATE INDEX articles_story ON articles (story_id, id)")
    marks = ", ".join("?" * len(COLUMNS))
    started = time.perf_counter()
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany(f"INSERT INTO articles ({', '.join(COLUMNS)}) VALUES ({marks})", rows)
    conn.execute("COMMIT")
    elapsed = time.perf_counter() - started
    conn.close()
    return len(rows) / elapsed


def percentiles(latencies: list[float]) -> dict[str, float]:
    ordered = sorted(latencies)
    cut = statistics.quantiles(ordered, n=100, method="inclusive")
    return {"p50_ms": round(cut[49] * 1000, 3), "p99_ms": round(cut[98] * 1000, 3),
            "max_ms": round(ordered[-1] * 1000, 3)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--labels", type=int, default=2_000)
    parser.add_argument("--json", action="store_true", help="end with one JSON line of the figures")
    args = parser.parse_args()
    try:
        server = start_server(durable=True)
    except Unavailable as exc:
        print(f"no PostgreSQL server: {exc}", file=sys.stderr)
        return 1
    try:
        print(f"generating {args.articles:,} articles ...", flush=True)
        rows = article_rows(args.articles)
        with server.database() as database:
            owner = database.connect()
            create_schema(owner, database.role_prefix)
            role = add_member(owner, "alice", PASSWORD).member.role
            analyst = database.connect(role, PASSWORD)
            version = owner.execute("SHOW server_version").fetchone()[0]
            print(f"PostgreSQL {version}; {len(rows):,} article rows of "
                  f"{sum(len(r[7]) for r in rows) / len(rows):,.0f} characters on average", flush=True)
            figures: dict = {"articles": len(rows), "labels": args.labels, "server_version": version}
            figures["copy_owner_rows_per_s"] = round(copy_rate(owner, rows, staged=False))
            owner.execute("TRUNCATE articles")
            figures["copy_analyst_rows_per_s"] = round(copy_rate(analyst, rows, staged=True))
            figures["label_owner"] = percentiles(pg_labels(owner, "alice", args.labels))
            owner.execute("TRUNCATE labels")
            figures["label_analyst"] = percentiles(pg_labels(analyst, "alice", args.labels))
            analyst.close()
            owner.close()
        with tempfile.TemporaryDirectory() as folder:
            figures["insert_sqlite_rows_per_s"] = round(sqlite_copy_rate(Path(folder), rows))
            figures["label_sqlite"] = percentiles(sqlite_labels(Path(folder), args.labels))
    finally:
        server.stop()
    figures["copy_rls_ratio"] = round(figures["copy_analyst_rows_per_s"] / figures["copy_owner_rows_per_s"], 3)
    figures["label_rls_p99_ratio"] = round(figures["label_analyst"]["p99_ms"] / figures["label_owner"]["p99_ms"], 3)
    figures["copy_vs_sqlite_ratio"] = round(figures["copy_owner_rows_per_s"] / figures["insert_sqlite_rows_per_s"], 3)
    print(f"COPY {len(rows):,} articles, owner (bare)               {figures['copy_owner_rows_per_s']:>8,} rows/s"
          f"   ratio to bare SQLite {figures['copy_vs_sqlite_ratio']:.3f}")
    print(f"COPY+INSERT {len(rows):,} articles, analyst (RLS)       {figures['copy_analyst_rows_per_s']:>8,} rows/s"
          f"   ratio to the owner's {figures['copy_rls_ratio']:.3f}")
    print(f"bare SQLite executemany {len(rows):,} articles            {figures['insert_sqlite_rows_per_s']:>8,} rows/s")
    for name, key in (("owner (bare)", "label_owner"), ("analyst (RLS)", "label_analyst"),
                      ("bare SQLite, FULL", "label_sqlite")):
        p = figures[key]
        print(f"label INSERT+COMMIT, {name:<17} p50 {p['p50_ms']:.3f} ms  p99 {p['p99_ms']:.3f} ms  "
              f"max {p['max_ms']:.3f} ms")
    print(f"label p99 ratio analyst / owner: {figures['label_rls_p99_ratio']:.3f}")
    if args.json:
        print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
