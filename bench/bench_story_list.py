"""The story list at scale: search by words and sort by every column on a big database.

Run: .venv/bin/python bench/bench_story_list.py [--articles N] [--repeat R] [--json]

The database is make_big_db.py's (N articles of ~2 KB, 10 per story; cached in bench/out).
Measured, each the median of R runs, on the list's own code path (`ordered_story_ids`, then
`Store.story_rows` for the first page of 100 rows, as the list shows it):
- search: a word found in almost every article ("police"), two common words, a word of
  one story ("12345": "Article 12345 on story 1234"), a word found nowhere; target < 200 ms;
- sort: every column of the list, no search, ascending and descending; target < 200 ms.
Once, before them: building the search index (`SearchIndex.catch_up_all`) and the per-story
summary (`Store.refresh_story_stats`, every story dirty) when the database has none yet,
what the first opening of the list after an import pays. The bare baseline: one
`SELECT id FROM stories ORDER BY id` (what listing the stories costs at all).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.make_big_db import ensure_big_db  # noqa: E402
from newsmark.schema.search import SearchIndex, open_search_index, ordered_story_ids  # noqa: E402
from newsmark.schema.store import STORY_SORTS, Store  # noqa: E402

ANNOTATOR = "bench"
SEARCHES = ("police", "minister council", "12345", "zzzyzzx")
TARGET_MS = 200


def timed(action, repeat: int) -> tuple[float, object]:
    """Median seconds of `repeat` runs of action(), and its last result."""
    times = []
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = action()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def shown(store: Store, index: SearchIndex | None, text: str, sort: str, descending: bool = False):
    """What the list does for a filter: the ordered ids, then its first page of rows."""
    ids = ordered_story_ids(store, index, ANNOTATOR, text, sort, descending)
    return ids, store.story_rows(ids[:100], ANNOTATOR)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="also print one JSON line")
    args = parser.parse_args()
    path = ensure_big_db(args.articles)
    report: dict = {"articles": args.articles, "target_ms": TARGET_MS}
    with Store.open(path, create=False) as store:
        start = time.perf_counter()
        refreshed = store.refresh_story_stats()
        report["summary_s"] = time.perf_counter() - start
        print(f"database: {path} ({args.articles:,} articles, {store.story_count():,} stories)")
        print(f"per-story summary: {refreshed:,} stories computed in {report['summary_s']:.2f} s (once)")
        index = open_search_index(store)
        start = time.perf_counter()
        indexed = index.catch_up_all(chunk=20_000)
        report["index_s"] = time.perf_counter() - start
        print(f"search index: {indexed:,} articles indexed in {report['index_s']:.2f} s (once)")
        baseline, _ = timed(lambda: store.conn.execute("SELECT id FROM stories ORDER BY id").fetchall(), args.repeat)
        report["baseline_ms"] = baseline * 1000
        print(f"baseline (every story id, in order): {baseline * 1000:7.1f} ms")
        report["search_ms"] = {}
        for text in SEARCHES:
            seconds, (ids, rows) = timed(lambda: shown(store, index, text, "id"), args.repeat)
            report["search_ms"][text] = seconds * 1000
            print(f"search {text!r:22} {seconds * 1000:7.1f} ms  {len(ids):,} stories")
        report["sort_ms"] = {}
        for sort in STORY_SORTS:
            for descending in (False, True):
                seconds, (ids, rows) = timed(lambda: shown(store, None, "", sort, descending), args.repeat)
                name = f"{sort} {'desc' if descending else 'asc'}"
                report["sort_ms"][name] = seconds * 1000
                print(f"sort {name:24} {seconds * 1000:7.1f} ms  {len(ids):,} stories, first {rows[0].id}")
        seconds, _ = timed(lambda: shown(store, index, "police", "articles", True), args.repeat)
        report["search_ms"]["police, sorted by articles"] = seconds * 1000
        print(f"search 'police' sorted by articles {seconds * 1000:7.1f} ms")
        index.close()
    worst_search = max(report["search_ms"].values())
    worst_sort = max(report["sort_ms"].values())
    report.update(worst_search_ms=worst_search, worst_sort_ms=worst_sort,
                  search_pass=worst_search < TARGET_MS, sort_pass=worst_sort < TARGET_MS)
    print(f"slowest search {worst_search:.1f} ms, slowest sort {worst_sort:.1f} ms (target < {TARGET_MS} ms): "
          f"{'PASS' if report['search_pass'] and report['sort_pass'] else 'FAIL'}")
    if args.json:
        print(json.dumps(report))


if __name__ == "__main__":
    main()
