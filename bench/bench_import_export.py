"""Benchmark: import and export of 100,000 articles, as ratios against bare baselines
run in the same process (targets: >= 0.5 each).

1. Builds N synthetic articles (2-4 KB of text each, a few stories, a few outlets) and
   writes them to a temporary folder as a CSV (columns title, text, source, url,
   published, byline, story) or, with --input jsonl, as JSONL.
2. (a) bare import: one `sqlite3.executemany` of the same article rows (id, hash and all,
   precomputed) into a table shaped like newsmark's `articles`, same pragmas (WAL,
   synchronous FULL), one transaction.
   (b) newsmark import: `schema.ingest.import_paths(store, [file])` into a fresh store.
3. Adds labels (stance, reliability, credibility) by 2 annotators to every article and a
   claim (with claim labels, in a cluster) to a share of them, straight into the tables.
4. (c) bare export: a bare SQLite -> orjson loop over the same records (article, its
   annotator's labels as JSON from one correlated subquery), one line each, to a file.
   (d) newsmark export: `exports.jsonl.write_jsonl` (sorted, claims, story, scheme
   order...) to a file.
5. Optionally (--with-load): (e) `load_annotations` of that export into an empty store,
   records per second against (b)'s rows per second in the same run (target >= 0.5; each
   article is in as many records as it has annotators), best of --repeat runs. CPU
   seconds are printed too (a big file is read by a child process: its CPU counts).

Ratios are rows (records) per second of newsmark over the baseline, best of --repeat
runs (3) each, baseline and newsmark alternating. Wall-clock and CPU seconds are both
printed (and the CPU ratio), since a busy disk or machine stretches the wall clock.

Usage: .venv/bin/python bench/bench_import_export.py [--articles N] [--input csv|jsonl]
       [--annotators K] [--claims-share F] [--repeat R] [--with-load] [--keep] [--json]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from newsmark.exports.jsonl import write_jsonl  # noqa: E402
from newsmark.schema.migrations import V1  # noqa: E402
from newsmark.schema.sanitize import text_sha256  # noqa: E402
from newsmark.schema.store import Store, claim_context, claim_id_for  # noqa: E402

TARGET = 0.5
OUTLETS = ("Daily Ledger", "The Courier", "Metro Wire", "Northern Post", "Global Dispatch", "Harbor Times",
           "Capital Review", "Rural Gazette")
WORDS = (
    "minister council report officials said budget city harbor storm flood bridge court ruling election "
    "vote police protest market prices energy grid water supply hospital school teachers union strike "
    "talks agreement deal company shares investors analysts warned expected increase decrease week month "
    "year according statement spokesperson residents local national regional government opposition party "
    "leader former new plan proposal law bill committee hearing evidence witnesses claimed denied "
    "confirmed sources familiar matter investigation arrested charged suspect fire crews emergency "
    "services damage roads closed traffic delays airport flights cancelled weather forecast rain wind "
    "coast river levels rising farmers crops harvest exports café naïve façade déjà — «quoted» “said”"
).split()
COLUMNS = ("title", "text", "source", "url", "published", "byline", "story")
LABELS = {
    "stance": ["agree", "disagree", "discuss", "unrelated"],
    "reliability": ["A", "B", "C", "D", "E", "F"],
    "credibility": ["1", "2", "3", "4", "5", "6"],
}


def _cpu_seconds() -> float:
    """CPU seconds of this process and of its finished children (a big file's reader)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


class Clock:
    """Wall-clock and CPU seconds of a block, child processes' CPU included."""

    def __enter__(self) -> Clock:
        self.wall, self.cpu = time.perf_counter(), _cpu_seconds()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.wall
        self.cpu = _cpu_seconds() - self.cpu


def make_articles(count: int, stories: int, seed: int = 7) -> list[dict[str, str]]:
    """Synthetic articles: sentences of common words, 2,000-4,000 characters, unique."""
    rng = random.Random(seed)
    articles = []
    for index in range(count):
        target = rng.randint(2000, 4000)
        parts: list[str] = [f"Report {index}."]
        size = len(parts[0])
        while size < target:
            words = rng.choices(WORDS, k=rng.randint(8, 22))
            sentence = " ".join(words).capitalize() + "."
            parts.append(sentence)
            size += len(sentence) + 1
        text = " ".join(parts)
        # Paragraphs, as real articles have.
        text = text.replace(". ", ".\n\n", 3)
        articles.append({
            "title": " ".join(rng.choices(WORDS, k=8)).capitalize(),
            "text": text,
            "source": rng.choice(OUTLETS),
            "url": f"https://news.example/{index}",
            "published": f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
            "byline": rng.choice(["", "Mia Garcia", "Sam Lee", "Ana Ruiz"]),
            "story": f"story-{index % stories}",
        })
    return articles


def write_inputs(articles: list[dict[str, str]], folder: Path, kind: str) -> Path:
    if kind == "csv":
        path = folder / "articles.csv"
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=COLUMNS)
            writer.writeheader()
            writer.writerows(articles)
    else:
        path = folder / "articles.jsonl"
        with path.open("wb") as handle:
            for article in articles:
                handle.write(orjson.dumps(article) + b"\n")
    return path


def article_rows(articles: list[dict[str, str]], origin: str) -> list[tuple]:
    """The rows newsmark stores for these articles, in ARTICLE_INSERT's column order."""
    rows = []
    for a in articles:
        digest = text_sha256(a["text"])
        rows.append((digest[:16], a["story"], a["source"], a["url"], a["title"], a["byline"] or None,
                     a["published"], a["text"], digest, "{}", origin))
    return rows


def articles_ddl() -> list[str]:
    """newsmark's own `articles` table and its index, from the migration script."""
    statements = [s.strip() for s in V1.split(";") if s.strip()]
    return [s for s in statements if "TABLE articles" in s or "ON articles" in s]


def parse_only(source: Path) -> Clock:
    """Reading the input file alone (csv module or orjson), for scale: any import pays it."""
    with Clock() as clock:
        if source.suffix == ".csv":
            with source.open(encoding="utf-8", newline="") as handle:
                for _ in csv.reader(handle):
                    pass
        else:
            with source.open("rb") as handle:
                for line in handle:
                    orjson.loads(line)
    return clock


def bare_import(db: Path, rows: list[tuple]) -> Clock:
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    for statement in articles_ddl():
        conn.execute(statement)
    insert = ("INSERT OR IGNORE INTO articles (id, story_id, source, url, title, byline, published, text, "
              "text_sha256, meta, origin) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
    with Clock() as clock:
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(insert, rows)
        conn.execute("COMMIT")
    count = conn.execute("SELECT count(*) FROM articles").fetchone()[0]
    conn.close()
    assert count == len(rows), (count, len(rows))
    return clock


def add_annotations(store: Store, annotators: list[str], claims_share: float, seed: int = 11) -> tuple[int, int]:
    """Labels by every annotator on every article, a claim on a share of them (first
    annotator), written straight into the tables; returns (annotation records, claims)."""
    rng = random.Random(seed)
    stamp = "2026-11-21T10:00:00.000Z"
    conn = store.conn
    ids = conn.execute("SELECT id, story_id, text FROM articles").fetchall()
    annotations, labels, claims, claim_labels, clusters = [], [], [], [], {}
    for article_id, story_id, text in ids:
        for annotator in annotators:
            annotations.append((article_id, story_id, annotator, None, 0, stamp))
            for field, values in LABELS.items():
                # Story-scoped fields (stance) are kept per story, the others under ''.
                scope = story_id if field in store.scheme.story_fields() else ""
                labels.append((article_id, scope, annotator, field, rng.choice(values), stamp))
        if rng.random() < claims_share:
            annotator = annotators[0]
            start = rng.randint(0, 500)
            end = start + rng.randint(40, 200)
            exact, prefix, suffix = claim_context(text, start, end)
            claim_id = claim_id_for(article_id, annotator, start, end)
            cluster = clusters.setdefault(story_id, f"cluster-{story_id}")
            claims.append((claim_id, article_id, annotator, start, end, exact, prefix, suffix, cluster, stamp))
            claim_labels.append((claim_id, "credibility", rng.choice(LABELS["credibility"])))
            claim_labels.append((claim_id, "checkworthy", rng.choice(["yes", "no"])))
    with store.transaction() as tx:
        tx.executemany("INSERT INTO annotations VALUES (?, ?, ?, ?, ?, ?)", annotations)
        tx.executemany("INSERT INTO labels VALUES (?, ?, ?, ?, ?, ?)", labels)
        tx.executemany('INSERT INTO claims (id, article_id, annotator, start, "end", exact, prefix, suffix, '
                       "cluster, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", claims)
        tx.executemany("INSERT INTO claim_labels VALUES (?, ?, ?)", claim_labels)
        tx.executemany("INSERT INTO clusters (id, story_id, label, created_by, created_at) VALUES (?, ?, ?, ?, ?)",
                       [(c, s, "a claim", annotators[0], stamp) for s, c in clusters.items()])
    return len(annotations), len(claims)


def bare_export(db: Path, out: Path) -> tuple[Clock, int]:
    """A bare SQLite -> orjson loop over the same records."""
    conn = sqlite3.connect(db)
    sql = """
        SELECT a.id, a.story_id, a.source, a.url, a.title, a.byline, a.published, a.text_sha256, a.text,
               an.annotator, an.note, an.flagged, an.updated_at,
               (SELECT json_group_object(field, value) FROM labels l
                 WHERE l.article_id = an.article_id AND l.story_id IN ('', an.story_id) AND l.annotator = an.annotator)
          FROM annotations an JOIN articles a ON a.id = an.article_id
    """
    clock, count = write_bare_records(conn.execute(sql), out)
    conn.close()
    return clock, count


def write_bare_records(rows, out: Path) -> tuple[Clock, int]:
    """The bare export's loop: each (article columns, annotator, note, flagged, updated_at,
    labels JSON) row as one orjson line, timed; returns the clock and the count."""
    count = 0
    dumps, loads = orjson.dumps, orjson.loads
    with Clock() as clock, out.open("wb") as handle:
        write = handle.write
        for row in rows:
            write(dumps({
                "id": row[0], "story_id": row[1], "source": row[2], "url": row[3], "title": row[4],
                "byline": row[5], "published": row[6], "text_sha256": row[7], "text": row[8],
                "annotator": row[9], "note": row[10], "flagged": bool(row[11]), "updated_at": row[12],
                "labels": loads(row[13]),
            }, option=orjson.OPT_APPEND_NEWLINE))
            count += 1
    return clock, count


def best(clocks: list[Clock]) -> Clock:
    """The fastest run by wall clock."""
    return min(clocks, key=lambda c: c.wall)


def spread(clocks: list[Clock]) -> str:
    if len(clocks) < 2:
        return ""
    return f"  [runs: {', '.join(f'{c.wall:.2f}' for c in clocks)} s]"


def rate(count: int, clock: Clock) -> str:
    return f"{count / clock.wall:>10,.0f} rows/s  ({clock.wall:6.2f} s wall, {clock.cpu:6.2f} s CPU)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--stories", type=int, default=5)
    parser.add_argument("--annotators", type=int, default=2)
    parser.add_argument("--claims-share", type=float, default=0.05)
    parser.add_argument("--input", choices=("csv", "jsonl"), default="csv")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each timing; the best counts")
    parser.add_argument("--with-load", action="store_true", help="also time load-annotations of the export")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--json", action="store_true", help="end with one JSON line of the figures (for run_all.py)")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="newsmark-bench-io-"))
    try:
        started = time.perf_counter()
        articles = make_articles(args.articles, args.stories)
        source = write_inputs(articles, folder, args.input)
        rows = article_rows(articles, str(source))
        mean = sum(len(a["text"]) for a in articles) / len(articles)
        print(f"{len(articles):,} articles (mean {mean:,.0f} characters), {args.stories} stories, "
              f"{args.input.upper()} {source.stat().st_size / 1e6:,.0f} MB; built in {time.perf_counter() - started:.1f} s")
        del articles

        from newsmark.schema.ingest import import_paths

        # Baseline and newsmark alternate, each on a fresh database, and the best of
        # --repeat runs counts: the disk's hiccups then hit both sides alike.
        bare_runs, our_runs = [], []
        for run in range(args.repeat):
            for name in ("bare.db", "newsmark.db"):
                for path in folder.glob(name + "*"):
                    path.unlink()
            bare_runs.append(bare_import(folder / "bare.db", rows))
            store = Store.open(folder / "newsmark.db")
            with Clock() as clock:
                report = import_paths(store, [source])
            our_runs.append(clock)
            assert not report.rejected, report.rejected[:3]
            assert report.imported == args.articles, (report.imported, report.duplicates)
            if run < args.repeat - 1:
                store.close()
        del rows
        bare, ours = best(bare_runs), best(our_runs)
        import_runs = our_runs
        imported = args.articles
        print(f"(a) bare sqlite3.executemany:  {rate(args.articles, bare)}{spread(bare_runs)}")
        print(f"(b) newsmark import:           {rate(imported, ours)}{spread(our_runs)}")
        import_ratio = bare.wall / ours.wall
        ours_import = ours
        print(f"    import ratio b/a = {import_ratio:.2f} (target >= {TARGET}); "
              f"by CPU seconds {bare.cpu / ours.cpu:.2f}")
        parsing = best([parse_only(source) for _ in range(args.repeat)])
        print(f"    (for scale: reading the {args.input.upper()} file alone takes {parsing.wall:.2f} s wall, "
              f"{parsing.cpu:.2f} s CPU)")

        annotators = ["alice", "bob", "carol", "dave", "erin"][: args.annotators]
        records, claims = add_annotations(store, annotators, args.claims_share)
        print(f"added {records:,} annotation records ({len(annotators)} annotators x 3 labels) and {claims:,} claims")
        store.close()

        bare_out = folder / "bare.jsonl"
        out = folder / "export.jsonl"
        bare_runs, our_runs = [], []
        for _ in range(args.repeat):
            clock, bare_count = bare_export(folder / "newsmark.db", bare_out)
            bare_runs.append(clock)
            bare_size = bare_out.stat().st_size
            bare_out.unlink()
            with Store.open(folder / "newsmark.db", create=False) as store:
                with Clock() as clock, out.open("wb") as handle:
                    count = write_jsonl(store, handle)
            our_runs.append(clock)
            assert count == bare_count == records, (count, bare_count, records)
        bare_clock, ours = best(bare_runs), best(our_runs)
        print(f"(c) bare SQLite -> orjson:     {rate(bare_count, bare_clock)}{spread(bare_runs)}  "
              f"{bare_size / 1e6:,.0f} MB")
        print(f"(d) newsmark export:           {rate(count, ours)}{spread(our_runs)}  "
              f"{out.stat().st_size / 1e6:,.0f} MB")
        export_ratio = bare_clock.wall / ours.wall
        print(f"    export ratio d/c = {export_ratio:.2f} (target >= {TARGET}); "
              f"by CPU seconds {bare_clock.cpu / ours.cpu:.2f}")

        if args.with_load:
            from newsmark.schema.load import load_annotations

            # Import and load alternate (each into an empty database), so that a machine
            # whose speed drifts meanwhile slows both alike; the best of each counts, the
            # import's best over these runs and (b)'s.
            load_runs = []
            for _ in range(args.repeat):
                for name in ("loaded.db", "again.db"):
                    for path in folder.glob(name + "*"):
                        path.unlink()
                with Store.open(folder / "again.db") as again, Clock() as clock:
                    import_paths(again, [source])
                import_runs.append(clock)
                with Store.open(folder / "loaded.db") as target, Clock() as clock:
                    loaded = load_annotations(target, [out])
                assert loaded.loaded == count and not loaded.rejected, loaded.as_dict()
                load_runs.append(clock)
            load_clock, ours_import = best(load_runs), best(import_runs)
            print(f"    (import again between loads: {spread(import_runs).strip()}; best {ours_import.wall:.2f} s)")
            # Records per second against import's rows per second, in this run.
            load_ratio = (loaded.loaded / load_clock.wall) / (imported / ours_import.wall)
            load_cpu_ratio = (loaded.loaded / load_clock.cpu) / (imported / ours_import.cpu)
            print(f"(e) newsmark load-annotations: {rate(loaded.loaded, load_clock)}{spread(load_runs)}")
            print(f"    load ratio e/b = {load_ratio:.2f} (target >= {TARGET}); by CPU seconds {load_cpu_ratio:.2f}")
        verdict = "PASS" if import_ratio >= TARGET and export_ratio >= TARGET else "SHORT"
        print(f"RESULT import_ratio={import_ratio:.2f} export_ratio={export_ratio:.2f} {verdict}")
        if args.json:
            print(json.dumps({
                "articles": args.articles, "records": count, "target_ratio": TARGET,
                "import_bare_rows_per_s": args.articles / bare.wall, "import_rows_per_s": imported / ours_import.wall,
                "import_ratio": import_ratio,
                "export_bare_records_per_s": bare_count / bare_clock.wall, "export_records_per_s": count / ours.wall,
                "export_ratio": export_ratio,
                **({"load_records_per_s": loaded.loaded / load_clock.wall, "load_ratio": load_ratio}
                   if args.with_load else {}),
            }))
    finally:
        if args.keep:
            print(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
