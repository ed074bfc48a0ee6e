"""Benchmark: newsmark's store on PostgreSQL beside SQLite, each against a bare baseline
run in the same process.

On a real local server (tests/pg_server.py: $NEWSMARK_TEST_PG, else a throwaway cluster of
Debian's binaries with fsync on, so commits are real) and on SQLite files (WAL,
synchronous=FULL, as the store opens them):

1. import: --articles synthetic articles (bench_import_export's generator) from one CSV
   file through `ingest.import_paths` into an empty store, against a bare COPY (PostgreSQL)
   or one executemany (SQLite) of the same finished rows into a table shaped like
   `articles` (target on PostgreSQL: ratio >= 0.3).
2. keystroke -> committed: `store.set_label` --labels times (alternating values, on
   articles of the imported store); p50/p99 against a bare INSERT+COMMIT of one label row
   on the same engine (target on PostgreSQL: p99 < 20 ms).
3. export: `exports.jsonl.write_jsonl` after labels by 2 annotators on every article (and
   claims on 5% of them), against a bare query -> orjson line loop over the same records
   (target on PostgreSQL: ratio >= 0.5). The peak RSS growth during each export is shown.
4. --writers processes, each with its own Store on the same database, --per-writer
   set_label calls each as its own annotator on shared articles, all started together;
   then the labels and events in the database are compared with what was written
   ("nothing lost"), and the total writes per second. On PostgreSQL, as a diagnostic, the
   same writers again with the event log's NOTIFY trigger disabled (then enabled again).

Timings are best of --repeat runs (imports and exports: a fresh database each time;
writers: new annotators each round, nothing lost in every round); latencies are
percentiles over all calls. Also shown: statements one set_label sends, and the peak RSS
growth of each export.

Usage: .venv/bin/python bench/bench_pg.py [--articles 100000] [--labels 2000] [--writers 8]
       [--per-writer 500] [--repeat 2] [--json]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path


BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(1, str(ROOT))

from bench_import_export import (  # noqa: E402
    Clock,
    add_annotations,
    article_rows,
    bare_export,
    bare_import,
    best,
    make_articles,
    write_bare_records,
    write_inputs,
)
from bench_pg_baseline import percentiles, pg_labels, sqlite_labels  # noqa: E402
from tests.pg_server import Unavailable, start_server  # noqa: E402

from newsmark.exports.jsonl import write_jsonl  # noqa: E402
from newsmark.schema.ingest import import_paths  # noqa: E402
from newsmark.schema.pg_schema import create_schema  # noqa: E402
from newsmark.schema.store import Store  # noqa: E402

ANNOTATORS = ["alice", "bob"]
FIELD = "reliability"  # article-scoped
VALUES = ("A", "B")
IMPORT_TARGET = 0.3
EXPORT_TARGET = 0.5
KEYSTROKE_P99_TARGET_MS = 20.0
COLUMNS = ("id", "story_id", "source", "url", "title", "byline", "published", "text", "text_sha256", "meta", "origin")


# --- memory ---------------------------------------------------------------------------------


def _reset_peak() -> None:
    """Reset this process's peak RSS (VmHWM) so the next reading is the peak of what follows."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def _peak_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


# --- bare PostgreSQL baselines ----------------------------------------------------------------


def pg_bare_copy(conn, rows: list[tuple]) -> Clock:
    """COPY the finished rows into `articles` (newsmark's schema, as its owner) in one
    transaction."""
    conn.execute("TRUNCATE articles")
    with Clock() as clock:
        with conn.transaction():
            with conn.cursor().copy(f"COPY articles ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
    count = conn.execute("SELECT count(*) FROM articles").fetchone()[0]
    assert count == len(rows), (count, len(rows))
    return clock


PG_BARE_EXPORT = """
    SELECT a.id, a.story_id, a.source, a.url, a.title, a.byline, a.published, a.text_sha256, a.text,
           an.annotator, an.note, an.flagged, an.updated_at,
           (SELECT coalesce(json_object_agg(l.field, l.value), '{}')::text FROM labels l
             WHERE l.article_id = an.article_id AND l.story_id IN ('', an.story_id) AND l.annotator = an.annotator)
      FROM annotations an JOIN articles a ON a.id = an.article_id
"""


def pg_bare_export(conn, out: Path) -> tuple[Clock, int]:
    """A bare psycopg query -> orjson loop over the same records, one line each."""
    return write_bare_records(conn.execute(PG_BARE_EXPORT), out)


# --- newsmark -------------------------------------------------------------------------------


def sample_articles(store: Store, count: int) -> list[tuple[str, str]]:
    """(article id, story id) of up to `count` articles spread over the store."""
    rows = store.conn.execute("SELECT id, story_id FROM articles ORDER BY seq").fetchall()
    step = max(1, len(rows) // count)
    return [tuple(row) for row in rows[::step][:count]]


def keystrokes(store: Store, articles: list[tuple[str, str]], count: int, annotator: str) -> list[float]:
    """Seconds of each `set_label`, `count` calls cycling over `articles`, the value
    alternating per round so that every call changes the label."""
    latencies = []
    for index in range(count):
        article_id, story_id = articles[index % len(articles)]
        value = VALUES[(index // len(articles)) % 2]
        started = time.perf_counter()
        result = store.set_label(article_id, annotator, FIELD, value, story_id=story_id)
        latencies.append(time.perf_counter() - started)
        assert result.changed, (index, article_id, value)
    return latencies


def statements_per_call(store: Store, article: tuple[str, str]) -> int:
    """How many statements (round trips on PostgreSQL; executemany counted once) one
    set_label sends once warm, BEGIN and COMMIT included."""
    store.set_label(article[0], "counting", FIELD, VALUES[1], story_id=article[1])  # (warm: the scheme is read once)
    conn = store.conn
    sent: list[str] = []
    if not store.postgres:  # (SQLite's own trace: its PRAGMAs around BEGIN IMMEDIATE included)
        conn.set_trace_callback(sent.append)
        try:
            store.set_label(article[0], "counting", FIELD, VALUES[0], story_id=article[1])
        finally:
            conn.set_trace_callback(None)
        return len(sent)
    execute, executemany = conn.execute, conn.executemany
    conn.execute = lambda sql, *rest: (sent.append(sql), execute(sql, *rest))[1]  # type: ignore[method-assign]
    conn.executemany = lambda sql, *rest: (sent.append(sql), executemany(sql, *rest))[1]  # type: ignore[method-assign]
    try:
        store.set_label(article[0], "counting", FIELD, VALUES[0], story_id=article[1])
    finally:
        del conn.execute, conn.executemany
    return len(sent)


def writer(location: str, name: str, articles: list[tuple[str, str]], count: int, ready, go, results) -> None:
    """One writer process: its own Store, `count` set_label calls as `name`, started with
    the others; reports its final values, latencies and errors."""
    try:
        store = Store.open(location, create=False)
        final: dict[str, str] = {}
        latencies = []
        ready.wait()
        go.wait()
        for index in range(count):
            article_id, story_id = articles[index % len(articles)]
            value = VALUES[(index // len(articles) + sum(map(ord, name))) % 2]
            started = time.perf_counter()
            store.set_label(article_id, name, FIELD, value, story_id=story_id)
            latencies.append(time.perf_counter() - started)
            final[article_id] = value
        finished = time.perf_counter()
        store.close()
        results.put({"name": name, "final": final, "latencies": latencies, "finished": finished, "error": None})
    except BaseException as exc:  # noqa: BLE001 - reported to the parent
        results.put({"name": name, "final": {}, "latencies": [], "finished": time.perf_counter(),
                     "error": f"{type(exc).__name__}: {exc}"})


def concurrent_writers(location: str, articles: list[tuple[str, str]], writers: int, per_writer: int,
                       tag: str) -> dict:
    """`writers` processes at once on one database; then check what is in it."""
    context = multiprocessing.get_context("spawn")
    ready = context.Barrier(writers + 1)
    go = context.Event()
    results = context.Queue()
    names = [f"{tag}writer{index}" for index in range(writers)]
    processes = [context.Process(target=writer, args=(location, name, articles, per_writer, ready, go, results))
                 for name in names]
    for process in processes:
        process.start()
    ready.wait()  # every writer has its store open
    started = time.perf_counter()
    go.set()
    reports = [results.get(timeout=600) for _ in processes]
    for process in processes:
        process.join()
    wall = max(r["finished"] for r in reports) - started
    errors = [f"{r['name']}: {r['error']}" for r in reports if r["error"]]
    latencies = [x for r in reports for x in r["latencies"]]
    expected_labels = {(article, r["name"]): value for r in reports for article, value in r["final"].items()}
    with Store.open(location, create=False) as store:
        marks = ", ".join("?" * len(names))
        found_labels = {(article, annotator): value for article, annotator, value in store.conn.execute(
            f"SELECT article_id, annotator, value FROM labels WHERE field = ? AND annotator IN ({marks})",
            [FIELD, *names]).fetchall()}
        found_events = store.conn.execute(
            f"SELECT count(*) FROM events WHERE op = 'label' AND annotator IN ({marks})", names).fetchone()[0]
    written = sum(len(r["latencies"]) for r in reports)
    wrong = sum(1 for key, value in expected_labels.items() if found_labels.get(key) != value)
    return {
        "writers": writers, "per_writer": per_writer, "writes": written, "wall_s": round(wall, 3),
        "writes_per_s": round(written / wall) if wall > 0 else 0,
        "expected_events": writers * per_writer, "found_events": found_events,
        "expected_labels": len(expected_labels), "found_labels": len(found_labels), "wrong_values": wrong,
        "nothing_lost": not errors and found_events == writers * per_writer == written
        and len(found_labels) == len(expected_labels) and wrong == 0,
        "errors": errors[:5], **({"latency": percentiles(latencies)} if len(latencies) > 1 else {}),
    }


# --- one engine's run -----------------------------------------------------------------------


def run_engine(engine: str, args, source: Path, rows: list[tuple], folder: Path, server=None) -> dict:
    """Import, keystrokes, export and concurrent writers on one engine."""
    figures: dict = {}
    print(f"\n--- {engine}", flush=True)
    bare_runs, our_runs = [], []
    stack = []  # PostgreSQL databases to drop at the end

    def fresh_database() -> tuple[str, object]:
        context = server.database()
        database = context.__enter__()
        stack.append(context)
        # The schema under this database's own role prefix (dropped with it afterwards).
        with database.connect() as conn:
            create_schema(conn, database.role_prefix)
        return database.url(), database

    try:
        store = None
        bare_conn = None
        for run in range(args.repeat):
            if engine == "postgresql":
                if bare_conn is None:
                    _, bare_db = fresh_database()
                    bare_conn = bare_db.connect()
                bare_runs.append(pg_bare_copy(bare_conn, rows))
                if store is not None:
                    store.close()
                    stack.pop().__exit__(None, None, None)
                location, _ = fresh_database()
            else:
                for path in folder.glob("*.db*"):
                    path.unlink()
                bare_runs.append(bare_import(folder / "bare.db", rows))
                if store is not None:
                    store.close()
                location = str(folder / "newsmark.db")
            store = Store.open(location)
            with Clock() as clock:
                report = import_paths(store, [source])
            our_runs.append(clock)
            assert not report.rejected, report.rejected[:3]
            assert report.imported == len(rows), (report.imported, report.duplicates)
            print(f"  import run {run + 1}: bare {bare_runs[-1].wall:.2f} s, newsmark {clock.wall:.2f} s", flush=True)
        bare, ours = best(bare_runs), best(our_runs)
        figures["import"] = {
            "bare_rows_per_s": round(len(rows) / bare.wall), "rows_per_s": round(len(rows) / ours.wall),
            "ratio": round(bare.wall / ours.wall, 3), "cpu_s": round(ours.cpu, 2),
            "runs_s": [round(c.wall, 2) for c in our_runs], "bare_runs_s": [round(c.wall, 2) for c in bare_runs],
        }

        # Keystrokes on the imported store, against a bare INSERT+COMMIT on the same engine.
        articles = sample_articles(store, 200)
        figures["statements_per_set_label"] = statements_per_call(store, articles[0])
        ours_lat = keystrokes(store, articles, args.labels, "keys")
        if engine == "postgresql":
            bare_conn.execute("TRUNCATE labels")
            bare_lat = pg_labels(bare_conn, "alice", args.labels)
        else:
            labels_folder = folder / "labels"
            labels_folder.mkdir(exist_ok=True)
            bare_lat = sqlite_labels(labels_folder, args.labels)
            shutil.rmtree(labels_folder)
        figures["keystroke"] = {"newsmark": percentiles(ours_lat), "bare": percentiles(bare_lat)}
        figures["keystroke"]["p99_ratio"] = round(figures["keystroke"]["newsmark"]["p99_ms"]
                                                  / figures["keystroke"]["bare"]["p99_ms"], 2)
        print(f"  keystrokes: newsmark p99 {figures['keystroke']['newsmark']['p99_ms']:.2f} ms, "
              f"bare p99 {figures['keystroke']['bare']['p99_ms']:.2f} ms", flush=True)

        # Export after labels by two annotators on every article (claims on 5%).
        with Clock() as clock:
            records, claims = add_annotations(store, ANNOTATORS, 0.05)
        print(f"  annotations added: {records:,} records, {claims:,} claims in {clock.wall:.1f} s", flush=True)
        store.close()
        bare_runs, our_runs, peaks, bare_peaks = [], [], [], []
        out, bare_out = folder / "export.jsonl", folder / "bare.jsonl"
        count = bare_count = 0
        for run in range(args.repeat):
            rss = _rss_mb()
            _reset_peak()
            if engine == "postgresql":
                export_conn = server.connect(database_name(location))
                clock, bare_count = pg_bare_export(export_conn, bare_out)
                export_conn.close()
            else:
                clock, bare_count = bare_export(Path(location), bare_out)
            bare_peaks.append(_peak_mb() - rss)
            bare_runs.append(clock)
            bare_out.unlink()
            with Store.open(location, create=False) as reader:
                rss = _rss_mb()
                _reset_peak()
                with Clock() as clock, out.open("wb") as handle:
                    count = write_jsonl(reader, handle)
                peaks.append(_peak_mb() - rss)
            our_runs.append(clock)
            out.unlink()
            # (the keystroke annotator's records, one per article its calls reached, and the
            # one counted call's are in both)
            keyed = min(len(articles), args.labels)
            assert count == bare_count == records + keyed + 1, (count, bare_count, records, keyed)
            print(f"  export run {run + 1}: bare {bare_runs[-1].wall:.2f} s (+{bare_peaks[-1]:,.0f} MB peak RSS), "
                  f"newsmark {clock.wall:.2f} s (+{peaks[-1]:,.0f} MB peak RSS)", flush=True)
        bare, ours = best(bare_runs), best(our_runs)
        figures["export"] = {
            "records": count, "bare_records_per_s": round(bare_count / bare.wall),
            "records_per_s": round(count / ours.wall), "ratio": round(bare.wall / ours.wall, 3),
            "peak_rss_growth_mb": round(max(peaks)), "bare_peak_rss_growth_mb": round(max(bare_peaks)),
            "runs_s": [round(c.wall, 2) for c in our_runs], "bare_runs_s": [round(c.wall, 2) for c in bare_runs],
        }

        # Concurrent writers on shared articles.
        with Store.open(location, create=False) as reader:
            shared = sample_articles(reader, 100)
        # --repeat rounds (new annotators each), the best counts; "nothing lost" must hold in
        # every round. On PostgreSQL each round also runs the same writers with the event
        # log's NOTIFY trigger disabled, as a diagnostic: a transaction that NOTIFYs holds
        # the server's notify-queue lock from before its commit record is flushed until it
        # ends, so such commits cannot share a flush.
        rounds, quiet_rounds = [], []
        for run in range(args.repeat):
            rounds.append(concurrent_writers(location, shared, args.writers, args.per_writer, f"r{run}"))
            w = rounds[-1]
            print(f"  {w['writers']} writers, round {run + 1}: {w['writes']:,} writes in {w['wall_s']:.2f} s "
                  f"({w['writes_per_s']:,}/s); events expected {w['expected_events']:,} found {w['found_events']:,}; "
                  f"labels expected {w['expected_labels']:,} found {w['found_labels']:,}, wrong values "
                  f"{w['wrong_values']}", flush=True)
            if engine != "postgresql":
                continue
            with server.connect(database_name(location)) as owner:
                owner.execute("ALTER TABLE events DISABLE TRIGGER events_notify")
                try:
                    quiet_rounds.append(concurrent_writers(location, shared, args.writers, args.per_writer,
                                                           f"quiet{run}"))
                finally:
                    owner.execute("ALTER TABLE events ENABLE TRIGGER events_notify")
            w = quiet_rounds[-1]
            print(f"  (diagnostic) the same without the NOTIFY trigger: {w['writes']:,} writes in {w['wall_s']:.2f} s "
                  f"({w['writes_per_s']:,}/s), p50 {w['latency']['p50_ms']:.1f} ms", flush=True)
        figures["writers"] = max(rounds, key=lambda r: r["writes_per_s"])
        figures["writers"]["nothing_lost"] = all(r["nothing_lost"] for r in rounds)
        figures["writers"]["rounds_writes_per_s"] = [r["writes_per_s"] for r in rounds]
        if quiet_rounds:
            quiet = max(quiet_rounds, key=lambda r: r["writes_per_s"])
            figures["writers_without_notify"] = {**quiet, "nothing_lost": all(r["nothing_lost"] for r in quiet_rounds),
                                                 "rounds_writes_per_s": [r["writes_per_s"] for r in quiet_rounds]}
        if bare_conn is not None:
            bare_conn.close()
    finally:
        while stack:
            stack.pop().__exit__(None, None, None)
    return figures


def database_name(url: str) -> str:
    from urllib.parse import unquote, urlsplit

    return unquote(urlsplit(url).path.lstrip("/"))


# --- report ---------------------------------------------------------------------------------


def table(figures: dict) -> str:
    pg, lite = figures["postgresql"], figures["sqlite"]
    n = figures["articles"]
    lines = [f"{'measure':<44} {'PostgreSQL':>22} {'SQLite':>22}   target (PostgreSQL)"]

    def line(name: str, pg_text: str, lite_text: str, target: str = "") -> None:
        lines.append(f"{name:<44} {pg_text:>22} {lite_text:>22}   {target}")

    def keys(engine: dict, side: str) -> str:
        p = engine["keystroke"][side]
        return f"{p['p50_ms']:.2f} / {p['p99_ms']:.2f} ms"

    line(f"keystroke set_label p50 / p99 ({figures['labels']:,})", keys(pg, "newsmark"), keys(lite, "newsmark"),
         f"p99 < {KEYSTROKE_P99_TARGET_MS:.0f} ms: "
         + ("PASS" if pg["keystroke"]["newsmark"]["p99_ms"] < KEYSTROKE_P99_TARGET_MS else "FAIL"))
    line("  bare INSERT+COMMIT p50 / p99", keys(pg, "bare"), keys(lite, "bare"))
    line("  statements per set_label", str(pg["statements_per_set_label"]), str(lite["statements_per_set_label"]))
    line("  p99 ratio newsmark / bare", f"{pg['keystroke']['p99_ratio']:.2f}x", f"{lite['keystroke']['p99_ratio']:.2f}x")
    line(f"import {n:,} CSV articles, rows/s", f"{pg['import']['rows_per_s']:,}", f"{lite['import']['rows_per_s']:,}")
    line("  bare COPY / executemany, rows/s", f"{pg['import']['bare_rows_per_s']:,}",
         f"{lite['import']['bare_rows_per_s']:,}")
    line("  ratio newsmark / bare", f"{pg['import']['ratio']:.3f}", f"{lite['import']['ratio']:.3f}",
         f">= {IMPORT_TARGET}: " + ("PASS" if pg["import"]["ratio"] >= IMPORT_TARGET else "FAIL"))
    line(f"export {pg['export']['records']:,} JSONL records, rec/s", f"{pg['export']['records_per_s']:,}",
         f"{lite['export']['records_per_s']:,}")
    line("  bare query -> orjson, rec/s", f"{pg['export']['bare_records_per_s']:,}",
         f"{lite['export']['bare_records_per_s']:,}")
    line("  ratio newsmark / bare", f"{pg['export']['ratio']:.3f}", f"{lite['export']['ratio']:.3f}",
         f">= {EXPORT_TARGET}: " + ("PASS" if pg["export"]["ratio"] >= EXPORT_TARGET else "FAIL"))
    line("  peak RSS growth, write_jsonl / bare",
         f"{pg['export']['peak_rss_growth_mb']:,} / {pg['export']['bare_peak_rss_growth_mb']:,} MB",
         f"{lite['export']['peak_rss_growth_mb']:,} / {lite['export']['bare_peak_rss_growth_mb']:,} MB")
    pw, lw = pg["writers"], lite["writers"]
    line(f"{pw['writers']} writers x {pw['per_writer']} set_label, writes/s (best)", f"{pw['writes_per_s']:,}",
         f"{lw['writes_per_s']:,}")
    line("  events expected / found", f"{pw['expected_events']:,} / {pw['found_events']:,}",
         f"{lw['expected_events']:,} / {lw['found_events']:,}")
    line("  labels expected / found (wrong values)", f"{pw['expected_labels']} / {pw['found_labels']} ({pw['wrong_values']})",
         f"{lw['expected_labels']} / {lw['found_labels']} ({lw['wrong_values']})")
    line("  nothing lost", "yes" if pw["nothing_lost"] else "NO", "yes" if lw["nothing_lost"] else "NO")
    if "writers_without_notify" in figures["postgresql"]:
        q = figures["postgresql"]["writers_without_notify"]
        line("  (diagnostic) without NOTIFY trigger, w/s", f"{q['writes_per_s']:,}", "",
             "nothing lost" if q["nothing_lost"] else "LOST")
    if "latency" in pw:
        line("  set_label p50 / p99 under contention", f"{pw['latency']['p50_ms']:.1f} / {pw['latency']['p99_ms']:.1f} ms",
             f"{lw['latency']['p50_ms']:.1f} / {lw['latency']['p99_ms']:.1f} ms")
    for engine in ("postgresql", "sqlite"):
        for error in figures[engine]["writers"]["errors"]:
            lines.append(f"  {engine} writer error: {error}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--labels", type=int, default=2_000, help="set_label calls timed for keystroke latency")
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--per-writer", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=2, help="runs of each import and export; the best counts")
    parser.add_argument("--json", action="store_true", help="end with one JSON line of the figures (for run_all.py)")
    args = parser.parse_args()
    try:
        server = start_server(durable=True)
    except Unavailable as exc:
        print(f"no PostgreSQL server: {exc}", file=sys.stderr)
        return 1
    folder = Path(tempfile.mkdtemp(prefix="newsmark-bench-pg-"))
    try:
        started = time.perf_counter()
        articles = make_articles(args.articles, stories=max(1, args.articles // 50))
        source = write_inputs(articles, folder, "csv")
        rows = article_rows(articles, str(source))
        del articles
        with server.connect() as admin:
            version = admin.execute("SHOW server_version").fetchone()[0]
            fsync = admin.execute("SHOW fsync").fetchone()[0]
            sync_commit = admin.execute("SHOW synchronous_commit").fetchone()[0]
        print(f"{len(rows):,} articles, CSV {source.stat().st_size / 1e6:,.0f} MB, built in "
              f"{time.perf_counter() - started:.1f} s; PostgreSQL {version} (fsync={fsync}, "
              f"synchronous_commit={sync_commit}){' via $NEWSMARK_TEST_PG' if os.environ.get('NEWSMARK_TEST_PG') else ''}",
              flush=True)
        figures: dict = {"articles": len(rows), "labels": args.labels, "server_version": version, "fsync": fsync,
                         "synchronous_commit": sync_commit, "repeat": args.repeat}
        figures["postgresql"] = run_engine("postgresql", args, source, rows, folder, server)
        figures["sqlite"] = run_engine("sqlite", args, source, rows, folder)
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)
    figures["loadavg"] = Path("/proc/loadavg").read_text().split()[:3]
    print()
    print(table(figures))
    print(f"load average at the end: {' '.join(figures['loadavg'])}")
    if args.json:
        print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
