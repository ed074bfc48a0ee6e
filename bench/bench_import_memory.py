"""Benchmark: peak memory of `newsmark import` on big files (target: < 300 MB for 1 GB).

Generates, once, in bench/out/ (kept for later runs of the same size):
  - memory_articles.jsonl: ~SIZE MB of ordinary articles (2-4 KB of text each, a title,
    an outlet, a URL, a date, a byline and a meta column), one JSON object a line;
  - memory_articles.csv: the same articles as a CSV;
  - memory_big_field.csv: a few ordinary rows and one row whose text is FIELD MB.
Then imports each into a fresh database with `newsmark import` in a subprocess of its own
and reports that process's peak RSS (getrusage RUSAGE_SELF) and the peak RSS of the
reader process it forks for big files (RUSAGE_CHILDREN), and their sum: the most the
import can have held at once. The target applies to the two files of ordinary articles.

Usage: .venv/bin/python bench/bench_import_memory.py [--size-mb 1024] [--field-mb 100] [--json]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
TARGET_MB = 300
WORDS = (
    "minister council report officials said budget city harbor storm flood bridge court ruling election "
    "vote police protest market prices energy grid water supply hospital school teachers union strike "
    "talks agreement deal company shares investors analysts warned expected increase decrease week month "
    "year according statement spokesperson residents local national regional government opposition party "
    "leader former new plan proposal law bill committee hearing evidence witnesses claimed denied café "
    "“quoted” naïve façade"
).split()
OUTLETS = ("Daily Ledger", "The Courier", "Metro Wire", "Northern Post", "Global Dispatch", "Harbor Times")

# Runs in the import's own process: import the file, then print the peak RSS of this
# process (VmHWM: getrusage's maxrss would carry over the peak of the process that
# started it, from before exec) and of its reader child (forked, waited for, so in
# RUSAGE_CHILDREN; it counts the pages it shares with this process too), in KiB.
IMPORTER = """
import json, resource, sys, time
from newsmark.schema.ingest import import_paths
from newsmark.schema.store import Store

def peak_kib():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])

before = peak_kib()
started = time.perf_counter()
with Store.open(sys.argv[1]) as store:
    report = import_paths(store, [sys.argv[2]])
    count = store.article_count()
    check = store.conn.execute("PRAGMA integrity_check").fetchone()[0]
print(json.dumps({
    "seconds": time.perf_counter() - started, "imported": report.imported, "rejected": len(report.rejected),
    "articles": count, "integrity": check, "baseline_kib": before,
    "self_kib": peak_kib(),
    "children_kib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
}))
"""


def paragraphs(rng: random.Random, count: int) -> list[str]:
    """A pool of paragraphs (about 400-800 bytes each) that articles are made of."""
    return [" ".join(rng.choice(WORDS) for _ in range(rng.randint(60, 120))).capitalize() + "." for _ in range(count)]


def articles(rng: random.Random) -> object:
    """Endless ordinary articles as dicts: 2-4 KB of text from shuffled paragraphs."""
    pool = paragraphs(rng, 500)
    number = 0
    while True:
        number += 1
        text = "\n\n".join(rng.sample(pool, rng.randint(4, 6))) + f" ({number})"
        yield {
            "title": " ".join(rng.choice(WORDS) for _ in range(8)).capitalize(),
            "text": text,
            "source": OUTLETS[number % len(OUTLETS)],
            "url": f"https://www.example{number % 50}.com/news/{number}",
            "published": f"20{10 + number % 14}-0{1 + number % 9}-1{number % 10}",
            "byline": f"Reporter {number % 300}",
            "section": ("world", "politics", "business", "science")[number % 4],
        }


def write_jsonl(path: Path, size: int) -> int:
    """Write ~size bytes of articles as JSONL; return the number of lines."""
    rows = 0
    with path.open("wb") as handle:
        for article in articles(random.Random(7)):
            if handle.tell() >= size:
                break
            handle.write(orjson.dumps(article) + b"\n")
            rows += 1
    return rows


def write_csv(path: Path, size: int) -> int:
    """Write ~size bytes of articles as CSV; return the number of rows."""
    rows = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        fields = list(next(articles(random.Random(7))))
        writer.writerow(fields)
        for article in articles(random.Random(7)):
            if handle.tell() >= size:
                break
            writer.writerow(article.values())
            rows += 1
    return rows


def write_big_field(path: Path, field_size: int) -> int:
    """A CSV of 10 ordinary rows and one row with a field_size-byte text; its row count."""
    rng = random.Random(11)
    pool = paragraphs(rng, 200)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["title", "text"])
        for number in range(5):
            writer.writerow([f"Row {number}", "\n\n".join(rng.sample(pool, 5))])
        big: list[str] = []
        size = 0
        while size < field_size:
            paragraph = rng.choice(pool)
            big.append(paragraph)
            size += len(paragraph) + 2
        writer.writerow(["The big one", "\n\n".join(big)])
        for number in range(5, 10):
            writer.writerow([f"Row {number}", "\n\n".join(rng.sample(pool, 5))])
    return 11


def ensure(path: Path, size: int, writer) -> int:
    """Generate `path` unless a file of about that size is there from an earlier run."""
    marker = path.with_suffix(path.suffix + ".rows")
    if path.exists() and marker.exists() and abs(path.stat().st_size - size) < size * 0.05 + 1_000_000:
        return int(marker.read_text())
    started = time.perf_counter()
    rows = writer(path, size)
    marker.write_text(str(rows))
    print(f"generated {path.relative_to(ROOT)}: {path.stat().st_size / 1e6:,.0f} MB, {rows:,} rows "
          f"in {time.perf_counter() - started:.0f} s", flush=True)
    return rows


def measure(path: Path, rows: int) -> dict:
    """Import `path` into a fresh database in a subprocess; its figures in MB."""
    db = OUT / "memory.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    done = subprocess.run([sys.executable, "-c", IMPORTER, str(db), str(path)], capture_output=True, text=True,
                          cwd=ROOT, check=False)
    if done.returncode != 0:
        raise SystemExit(f"import of {path} failed ({done.returncode}):\n{done.stderr}")
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    parent = figures["self_kib"] / 1024
    reader = figures["children_kib"] / 1024
    result = {
        "file": path.name, "file_mb": round(path.stat().st_size / 1e6, 1), "rows": rows,
        "imported": figures["imported"], "rejected": figures["rejected"], "integrity": figures["integrity"],
        "seconds": round(figures["seconds"], 1), "rows_per_s": round(figures["imported"] / figures["seconds"]),
        "baseline_mb": round(figures["baseline_kib"] / 1024, 1), "import_peak_mb": round(parent, 1),
        "reader_peak_mb": round(reader, 1), "sum_mb": round(parent + reader, 1),
    }
    print(f"{path.name:24} {result['file_mb']:>8,.0f} MB  {rows:>9,} rows  {result['seconds']:>6.1f} s  "
          f"import process {parent:6.0f} MB  reader {reader:6.0f} MB  sum {parent + reader:6.0f} MB", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mb", type=int, default=1024, help="size of the files of ordinary articles")
    parser.add_argument("--field-mb", type=int, default=100, help="size of the one big CSV field")
    parser.add_argument("--json", action="store_true", help="end with one JSON line of the figures")
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    size = args.size_mb * 1024 * 1024
    files = [
        (OUT / "memory_articles.jsonl", ensure(OUT / "memory_articles.jsonl", size, write_jsonl), True),
        (OUT / "memory_articles.csv", ensure(OUT / "memory_articles.csv", size, write_csv), True),
        (OUT / "memory_big_field.csv",
         ensure(OUT / "memory_big_field.csv", args.field_mb * 1024 * 1024, write_big_field), False),
    ]
    results = []
    for path, rows, counted in files:
        result = measure(path, rows)
        result["target"] = counted
        results.append(result)
    ordinary = [r for r in results if r["target"]]
    passed = all(r["sum_mb"] < TARGET_MB and r["imported"] == r["rows"] for r in ordinary)
    print(f"RESULT peak (import + reader) on {args.size_mb} MB files: "
          + ", ".join(f"{r['file']} {r['sum_mb']:.0f} MB" for r in results)
          + f" (target < {TARGET_MB} MB for the ordinary files) {'PASS' if passed else 'FAIL'}", flush=True)
    if args.json:
        print(json.dumps({"size_mb": args.size_mb, "target_mb": TARGET_MB, "pass": passed, "files": results,
                          "cpus": os.cpu_count()}))


if __name__ == "__main__":
    main()
