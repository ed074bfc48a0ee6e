"""Benchmark: `newsmark agreement` over 100,000 articles x 5 annotators (target < 5 s).

Builds the database with executemany straight into the store's tables (100 stories;
every annotator labels stance, reliability and credibility of every article, with some
disagreement and some "cannot be judged" grades, and marks one claim in a fifth of the
articles), then times the real command in a subprocess (`newsmark --db DB agreement
--json`, Python start-up included, α's bootstrap interval of 1,000 resamples included).
Baseline, in the same run: a bare SQLite read of the same label rows (`SELECT
article_id, annotator, value FROM labels WHERE field = ?` for each field). Also timed,
for what the interval and the per-story figures cost: the command with `--resamples 0`
(no interval) and with `--by-story` (every story's α and interval too).
Wall-clock seconds are the verdict; CPU seconds are printed too, since a loaded machine
stretches the wall clock.

Usage: .venv/bin/python bench/bench_agreement.py [--articles N] [--annotators K] [--json]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from newsmark.schema.models import Story  # noqa: E402
from newsmark.schema.store import Store  # noqa: E402

TARGET_SECONDS = 5.0
STORIES = 100
FIELDS = {
    "stance": ["agree", "disagree", "discuss", "unrelated"],
    "reliability": ["A", "B", "C", "D", "E", "F"],
    "credibility": ["1", "2", "3", "4", "5", "6"],
}


def build(db: Path, articles: int, annotators: int, seed: int = 7) -> None:
    """Fill a fresh database with `articles` articles labelled by `annotators` people."""
    rng = random.Random(seed)
    names = [f"analyst{i}" for i in range(annotators)]
    at = "2026-11-21T10:00:00.000Z"
    with Store.open(db) as store:
        with store.transaction() as conn:
            for story in range(STORIES):
                store.ensure_story(conn, Story(id=f"bench{story}", title="Bench", proposition="Something happened."))
            store.insert_articles(conn, (
                (f"{i:016x}", f"bench{i % STORIES}", f"outlet{i % 50}", None, None, None, None,
                 f"Article {i}. It says something.", f"{i:064x}", "{}", None)
                for i in range(articles)
            ))
            label_rows = []
            for i in range(articles):
                article_id = f"{i:016x}"
                truth = {f: rng.randrange(len(values) - (f != "stance")) for f, values in FIELDS.items()}
                for name in names:
                    for fld, values in FIELDS.items():
                        roll = rng.random()
                        if roll < 0.7:
                            value = values[truth[fld]]
                        elif roll < 0.95:
                            value = rng.choice(values)
                        else:
                            continue  # not labelled
                        # Story-scoped fields in the article's story, the others article-wide ('').
                        scope = f"bench{i % STORIES}" if fld in store.scheme.story_fields() else ""
                        label_rows.append((article_id, scope, name, fld, value, at))
            conn.executemany(
                "INSERT INTO labels (article_id, story_id, annotator, field, value, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                label_rows,
            )
            conn.executemany(
                "INSERT INTO annotations (article_id, story_id, annotator, updated_at) VALUES (?, ?, ?, ?)",
                ((f"{i:016x}", f"bench{i % STORIES}", name, at) for i in range(articles) for name in names),
            )
            claim_rows = []
            for i in range(0, articles, 5):
                for name in names:
                    start = rng.choice((0, 0, 0, 12))
                    end = rng.choice((11, 11, 29))
                    claim_rows.append((f"{i:016x}{name}", f"{i:016x}", name, start, end, "x", "", "", None, at))
            conn.executemany(
                'INSERT INTO claims (id, article_id, annotator, start, "end", exact, prefix, suffix, cluster, '
                "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                claim_rows,
            )
        store.conn.execute("ANALYZE")


def bare_read(db: Path) -> float:
    """Seconds to read every label row of the three fields with plain sqlite3."""
    conn = sqlite3.connect(db)
    started = time.perf_counter()
    for fld in FIELDS:
        conn.execute("SELECT article_id, annotator, value FROM labels WHERE field = ?", (fld,)).fetchall()
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed


def timed(command: list[str]) -> tuple[float, float]:
    """Wall-clock and CPU seconds of one run of `command` (exits if it fails)."""
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.exit(f"{' '.join(command[3:])} failed: {done.stderr.strip()}")
    return elapsed, (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--annotators", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="end with one JSON line of the figures (for run_all.py)")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="newsmark-bench-agreement-"))
    try:
        db = workdir / "bench.db"
        started = time.perf_counter()
        build(db, args.articles, args.annotators)
        print(f"built {args.articles:,} articles x {args.annotators} annotators in {time.perf_counter() - started:.1f} s")
        baseline = bare_read(db)
        newsmark = Path(sys.executable).with_name("newsmark")
        elapsed, cpu = timed([str(newsmark), "--db", str(db), "agreement", "--json"])
        no_interval, _ = timed([str(newsmark), "--db", str(db), "agreement", "--json", "--resamples", "0"])
        by_story, _ = timed([str(newsmark), "--db", str(db), "agreement", "--json", "--by-story"])
        print(f"bare SQLite read of the label rows: {baseline:.2f} s")
        print(f"newsmark agreement --json:          {elapsed:.2f} s "
              f"({elapsed / baseline:.1f}x the bare read; {cpu:.2f} s of CPU)")
        print(f"  with --resamples 0 (no interval): {no_interval:.2f} s (the interval: {elapsed / no_interval:.2f}x that)")
        print(f"  with --by-story ({STORIES} stories):     {by_story:.2f} s ({by_story / elapsed:.2f}x the default)")
        verdict = "PASS" if elapsed < TARGET_SECONDS else "FAIL"
        print(f"target < {TARGET_SECONDS:.0f} s: {elapsed / TARGET_SECONDS:.2f} of the budget used -> {verdict}")
        if args.json:
            print(json.dumps({"articles": args.articles, "annotators": args.annotators, "baseline_s": baseline,
                              "agreement_s": elapsed, "cpu_s": cpu, "no_interval_s": no_interval,
                              "by_story_s": by_story, "stories": STORIES, "target_s": TARGET_SECONDS,
                              "pass": elapsed < TARGET_SECONDS}))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
