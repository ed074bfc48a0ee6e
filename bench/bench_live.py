"""Live updates: how soon a teammate's commit reaches an open app (target: within 1 s).

A teammate (another connection, as another process would be) sets a label at a random
moment, N times; the time from their commit to the app's watcher (tui/live.py) handing the
event over is measured. The bare baseline, in the same run, is a loop polling
`PRAGMA data_version` at the same interval and noticing the same kind of commit: the floor
any polling design has (half the interval on average). A database of --articles articles
gives the event log and the tables a realistic size.

Run: .venv/bin/python bench/bench_live.py [--changes N] [--articles N] [--json]
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import statistics
import tempfile
import threading
import time
from pathlib import Path

from newsmark.schema.models import Story
from newsmark.schema.sanitize import article_id_for, text_sha256
from newsmark.schema.store import Store
from newsmark.tui.live import POLL_SECONDS, Watcher

TARGET_SECONDS = 1.0


def build(db: Path, articles: int) -> list[str]:
    """A story of `articles` articles; returns their ids."""
    with Store.open(db) as store:
        with store.transaction() as conn:
            store.ensure_story(conn, Story(id="live", title="Live", proposition="Something happened."))
            texts = [f"Article {i}. It says something about the harbour." for i in range(articles)]
            store.insert_articles(conn, [(article_id_for(t), "live", f"outlet{i % 20}", None, None, None, None, t,
                                          text_sha256(t), "{}", None) for i, t in enumerate(texts)])
        return store.article_ids("live")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def time_commits(commit, arrived: threading.Event, noticed_at: list[float], changes: int,
                 rng: random.Random) -> list[float]:
    """Seconds from each of `changes` commits (made at a random phase against the polling)
    to the moment the watching side noted it (`noticed_at`, signalled by `arrived`)."""
    latencies = []
    for n in range(changes):
        time.sleep(rng.uniform(0, POLL_SECONDS))  # a random phase, not a wait for a state
        arrived.clear()
        commit(n)
        committed = time.perf_counter()
        if not arrived.wait(10):
            raise RuntimeError("the change was never noticed")
        latencies.append(noticed_at[-1] - committed)
    return latencies


def measure_watcher(db: Path, ids: list[str], changes: int, rng: random.Random) -> list[float]:
    """Seconds from each teammate commit to the watcher's report of it."""
    arrived = threading.Event()
    reported_at: list[float] = []

    def on_events(events: list) -> None:
        reported_at.append(time.perf_counter())
        arrived.set()

    watcher = Watcher(db, on_events)
    watcher.start()
    try:
        with Store.open(db) as teammate:
            return time_commits(
                lambda n: teammate.set_label(ids[n % len(ids)], "teammate", "stance", ("agree", "disagree")[n % 2],
                                             story_id="live"),
                arrived, reported_at, changes, rng)
    finally:
        watcher.stop()


def measure_bare(db: Path, changes: int, rng: random.Random) -> list[float]:
    """The same with a bare loop polling PRAGMA data_version (no events read, no filtering)."""
    arrived = threading.Event()
    stop = threading.Event()
    seen_at: list[float] = []

    def poll() -> None:
        conn = sqlite3.connect(db)
        version = conn.execute("PRAGMA data_version").fetchone()[0]
        while not stop.wait(POLL_SECONDS):
            now = conn.execute("PRAGMA data_version").fetchone()[0]
            if now != version:
                version = now
                seen_at.append(time.perf_counter())
                arrived.set()
        conn.close()

    thread = threading.Thread(target=poll, daemon=True)
    thread.start()
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        return time_commits(
            lambda n: conn.execute("INSERT INTO settings (key, value) VALUES ('bench_live', ?) "
                                   "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (str(n),)),
            arrived, seen_at, changes, rng)
    finally:
        stop.set()
        thread.join()
        conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=100)
    parser.add_argument("--articles", type=int, default=20_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "live.db"
        ids = build(db, args.articles)
        ours = measure_watcher(db, ids, args.changes, rng)
        bare = measure_bare(db, args.changes, rng)
    figures = {
        "changes": args.changes, "poll_seconds": POLL_SECONDS, "target_seconds": TARGET_SECONDS,
        "watcher_p50_s": statistics.median(ours), "watcher_p99_s": percentile(ours, 0.99), "watcher_max_s": max(ours),
        "bare_p50_s": statistics.median(bare), "bare_p99_s": percentile(bare, 0.99),
    }
    print(f"{args.changes} teammate commits, polling every {POLL_SECONDS} s, {args.articles:,} articles")
    print(f"watcher (tui/live.py):       p50 {figures['watcher_p50_s'] * 1000:6.0f} ms  "
          f"p99 {figures['watcher_p99_s'] * 1000:6.0f} ms  max {figures['watcher_max_s'] * 1000:6.0f} ms")
    print(f"bare data_version polling:   p50 {figures['bare_p50_s'] * 1000:6.0f} ms  "
          f"p99 {figures['bare_p99_s'] * 1000:6.0f} ms")
    verdict = "PASS" if figures["watcher_max_s"] < TARGET_SECONDS else "FAIL"
    print(f"target: every change reported within {TARGET_SECONDS:.0f} s: {verdict}")
    if args.json:
        print(json.dumps(figures))


if __name__ == "__main__":
    main()
