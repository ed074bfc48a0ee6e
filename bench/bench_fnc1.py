"""Benchmark: load FNC-1's test split (904 bodies, 25,413 stance rows) as gold, target < 30 s,
and export it again.

Times the real commands in subprocesses, Python start-up included:
`newsmark --db DB load-annotations --from fnc1 BODIES STANCES --as-gold` into a fresh
database, then `newsmark --db DB export --format fnc1 --gold -o DIR`. Baseline, in the
same run: a bare load of the same data, `csv.reader` over both files and
`sqlite3.executemany` of the stories, articles, memberships and gold rows into a bare
table set (no sanitising, no validation, no events). Ratios are baseline / newsmark
seconds (1.0: as fast as the bare load). CPU seconds are printed too, since a loaded
machine stretches the wall clock.

Usage: .venv/bin/python bench/bench_fnc1.py [--data DIR] [--json]
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data" / "fnc1"
BODIES, STANCES = "competition_test_bodies.csv", "competition_test_stances.csv"
TARGET_SECONDS = 30.0


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed_command(args: list[str]) -> tuple[float, float, str]:
    """Wall and CPU seconds of one newsmark command in a subprocess, and its stdout."""
    cpu, start = _children_cpu(), time.perf_counter()
    newsmark = str(Path(sys.executable).with_name("newsmark"))  # the installed console script
    done = subprocess.run([newsmark, *args], capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"newsmark {' '.join(args)} failed ({done.returncode}): {done.stderr.strip()}")
    return wall, _children_cpu() - cpu, done.stdout


def bare_load(db: Path, bodies: Path, stances: Path) -> float:
    """Seconds of the baseline: the same rows read with csv.reader and written with
    executemany, in one transaction."""
    start = time.perf_counter()
    conn = sqlite3.connect(db)
    conn.executescript("""
        CREATE TABLE stories (id TEXT PRIMARY KEY, title TEXT);
        CREATE TABLE articles (seq INTEGER PRIMARY KEY, id TEXT UNIQUE, text TEXT);
        CREATE TABLE story_articles (story_id TEXT, article_id TEXT, PRIMARY KEY (story_id, article_id)) WITHOUT ROWID;
        CREATE TABLE gold (article_id TEXT, story_id TEXT, field TEXT, value TEXT,
                           PRIMARY KEY (article_id, story_id, field)) WITHOUT ROWID;
    """)
    with bodies.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        article_of = {body_id: hashlib.sha256(text.encode()).hexdigest()[:16] for body_id, text in reader}
        handle.seek(0)
        next(reader)
        articles = [(article_of[body_id], text) for body_id, text in reader]
    with stances.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        rows = [(headline, article_of[body_id], stance) for headline, body_id, stance in reader]
    with conn:
        conn.executemany("INSERT OR IGNORE INTO articles (id, text) VALUES (?, ?)", articles)
        conn.executemany("INSERT OR IGNORE INTO stories VALUES (?, ?)",
                         [(hashlib.sha256(h.encode()).hexdigest()[:12], h) for h, _, _ in rows])
        conn.executemany("INSERT OR IGNORE INTO story_articles VALUES (?, ?)",
                         [(hashlib.sha256(h.encode()).hexdigest()[:12], a) for h, a, _ in rows])
        conn.executemany("INSERT OR IGNORE INTO gold VALUES (?, ?, 'stance', ?)",
                         [(a, hashlib.sha256(h.encode()).hexdigest()[:12], s) for h, a, s in rows])
    conn.close()
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA, help="the folder of FNC-1's test split")
    parser.add_argument("--json", action="store_true", help="also print one JSON line of the figures")
    options = parser.parse_args()
    bodies, stances = options.data / BODIES, options.data / STANCES
    if not (bodies.is_file() and stances.is_file()):
        print(f"FNC-1 not found in {options.data} (../shared/data/fnc1 in a developer's checkout)")
        return 1
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        baseline = bare_load(work / "bare.db", bodies, stances)
        db = str(work / "fnc1.db")
        load_wall, load_cpu, report = timed_command(
            ["--db", db, "load-annotations", "--from", "fnc1", str(bodies), str(stances), "--as-gold"])
        export_wall, export_cpu, _ = timed_command(
            ["--db", db, "export", "--format", "fnc1", "--gold", "-o", str(work / "out")])
        with (work / "out" / "stances.csv").open(encoding="utf-8") as handle:
            exported = sum(1 for _ in handle) - 1
    figures = {
        "load_seconds": round(load_wall, 2), "load_cpu_seconds": round(load_cpu, 2),
        "export_seconds": round(export_wall, 2), "export_cpu_seconds": round(export_cpu, 2),
        "bare_seconds": round(baseline, 3), "load_ratio": round(baseline / load_wall, 3),
        "exported_rows": exported, "target_seconds": TARGET_SECONDS, "ok": load_wall < TARGET_SECONDS,
    }
    print(report.strip())
    print(f"load-annotations --from fnc1 --as-gold: {load_wall:.2f} s wall, {load_cpu:.2f} s CPU "
          f"(target < {TARGET_SECONDS:.0f} s: {'ok' if figures['ok'] else 'MISSED'})")
    print(f"bare csv + executemany of the same rows: {baseline:.3f} s; ratio {figures['load_ratio']:.3f}")
    print(f"export --format fnc1 --gold: {export_wall:.2f} s wall, {export_cpu:.2f} s CPU, {exported} stance rows")
    if options.json:
        print(json.dumps(figures))
    return 0 if figures["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
