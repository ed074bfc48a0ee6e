"""Background analyses on a 3,000-article story: the overview's first result and its
complete window, a claim's matches over every other article (first claim: the articles'
terms not indexed yet; next claim: indexed), the same in the app (from `c` to the matches
on screen), and how soon the app's threads stop after `q`.

The story is made of the seed articles' sentences, 25 to an article, every fifth article
repeating half of the one before (shared passages to find). Targets (issue 9, item 8;
issue 13, point 5): first overview result < 3 s; a claim's first matches on screen < 3 s,
first and next claim; the app's threads stopped < 1 s after q.

Run: .venv/bin/python bench/bench_overview.py [--articles N] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import tempfile
import time
from pathlib import Path

from newsmark.analysis.budget import Budget
from newsmark.analysis.clusters import index_article, search_matches
from newsmark.analysis.overview import OVERVIEW_ARTICLES, claim_matrix, story_window, window_shared
from newsmark.analysis.sentences import split_sentences
from newsmark.schema.models import Story
from newsmark.schema.sanitize import article_id_for, text_sha256
from newsmark.schema.store import Store

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
STORY = "bench-big"


def story_texts(count: int) -> list[str]:
    """`count` articles of 25 seed sentences each; every fifth repeats half of the previous."""
    sentences = []
    for path in sorted(SEEDS.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        sentences += [text[s:e] for s, e in split_sentences(text) if len(text[s:e].split()) >= 6]
    rng = random.Random(3)
    texts: list[str] = []
    for k in range(count):
        own = rng.sample(sentences, 25)
        if k % 5 == 4:
            own = texts[-1].split("\n")[:12] + own[12:]
        texts.append("\n".join(own) + f"\nArticle number {k}.")
    return texts


def build(db_path: Path, count: int) -> list[str]:
    """The story in a fresh database; returns its texts in order."""
    texts = story_texts(count)
    with Store.open(db_path) as store:
        store.upsert_story(Story(id=STORY, title="Benchmark story"))
        rows = [(article_id_for(t), STORY, f"Outlet {k % 50}", None, f"Article {k}", None, "2025-08-01", t,
                 text_sha256(t), "{}", None) for k, t in enumerate(texts)]
        with store.transaction() as conn:
            store.insert_articles(conn, rows)
    return texts


async def app_quit_seconds(db_path: Path) -> tuple[float, float]:
    """In the real app (headless): seconds from `o` to the overview's first result, and
    from q (pressed while the overview and a claim's matches compute) until every
    analysis thread has stopped."""
    from newsmark.tui.app import NewsmarkApp
    from newsmark.tui.screens.overview import OverviewScreen

    app = NewsmarkApp(db_path, "bench", story_id=STORY)
    async with app.run_test(size=(160, 50)) as pilot:
        await asyncio.wait_for(app.loaded.wait(), 30)
        annotate = app.screen
        annotate.action_cursor(1)
        annotate.action_toggle_claim()  # its matches: a search over every other article
        annotate.action_overview()
        while not (isinstance(app.screen, OverviewScreen) and app.screen.first_result_at):
            await asyncio.sleep(0.01)
        overview = app.screen
        first = overview.first_result_at - overview.opened_at
        started = time.monotonic()
        await pilot.press("q")
    stopped = overview.running.idle.wait(10) and annotate.analyses.idle.wait(10)
    quit_s = time.monotonic() - started if stopped else float("inf")
    app.close_stores()
    return first, quit_s


async def app_suggestion_seconds(db_path: Path) -> tuple[float, float, int]:
    """In the real app (headless): seconds from marking a claim (c) to its suggestions on
    screen, for a first claim (texts read and indexed now) and for the next sentence's
    claim (cached); and how many suggestions the first one shows."""
    from newsmark.tui.app import NewsmarkApp

    app = NewsmarkApp(db_path, "bench", story_id=STORY)
    seconds = []
    shown = 0
    async with app.run_test(size=(160, 50)):
        await asyncio.wait_for(app.loaded.wait(), 30)
        annotate = app.screen
        pane = annotate.panes[0]
        annotate.action_cursor(1)  # the first sentence (app_quit_seconds marked it)
        for step in (5, 1):  # sentences 6 and 7: claims nobody marked yet
            annotate.action_cursor(step)
            started = time.monotonic()
            annotate.action_toggle_claim()
            assert pane.current_claim() is not None
            while pane.suggestions is None or pane.suggestions_pending is not None:
                await asyncio.sleep(0.005)
            seconds.append(time.monotonic() - started)
            shown = shown or len(pane.suggestions.items)
    app.close_stores()
    return seconds[0], seconds[1], shown


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--articles", type=int, default=3000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db_path = Path(tmp) / "bench.db"
        texts = build(db_path, args.articles)
        with Store.open(db_path) as store:
            started = time.perf_counter()
            window = story_window(store, STORY, "bench")
            claim_matrix(store, STORY, "bench", window.articles)
            first_s = time.perf_counter() - started
        started = time.perf_counter()
        shared = window_shared(window, Budget(60))
        window_s = time.perf_counter() - started
        # A line of seed text with words (some are "$ $ $" separators, which match nothing).
        claim = next(line for line in texts[len(texts) // 2].split("\n") if len(line.split()) >= 8)
        candidates = [(str(k), t) for k, t in enumerate(texts) if k != len(texts) // 2]
        cache: dict[str, object] = {}

        def indexed(article_id: str, text: str):
            if article_id not in cache:
                cache[article_id] = index_article(text)
            return cache[article_id]

        started = time.perf_counter()
        found = search_matches(claim, candidates, 8, per_article=2, budget=Budget(60), indexed=indexed)
        cold_s = time.perf_counter() - started
        started = time.perf_counter()
        search_matches(texts[7].split("\n")[5], candidates, 8, per_article=2, budget=Budget(60), indexed=indexed)
        warm_s = time.perf_counter() - started
        app_first_s, quit_s = asyncio.run(app_quit_seconds(db_path))
        app_cold_s, app_warm_s, app_shown = asyncio.run(app_suggestion_seconds(db_path))

    print(f"story: {len(texts):,} articles; overview window: {OVERVIEW_ARTICLES} articles, {shared.total} pairs")
    print(f"overview first result (reads):        {first_s * 1000:8.1f} ms")
    print(f"overview first result (in the app):   {app_first_s * 1000:8.1f} ms   target < 3000 ms: "
          f"{'PASS' if app_first_s < 3 else 'FAIL'}")
    print(f"overview window compared in full:     {window_s * 1000:8.1f} ms   ({shared.compared} of {shared.total} pairs)")
    print(f"claim matches, first claim (cold):    {cold_s * 1000:8.1f} ms   ({found.searched:,} of {found.total:,} "
          f"articles, {len(found.suggestions)} matches)")
    print(f"claim matches, next claim (cached):   {warm_s * 1000:8.1f} ms")
    print(f"suggestions in the app, first claim:  {app_cold_s * 1000:8.1f} ms   ({app_shown} shown) target < 3000 ms: "
          f"{'PASS' if app_cold_s < 3 else 'FAIL'}")
    print(f"suggestions in the app, next claim:   {app_warm_s * 1000:8.1f} ms   target < 3000 ms: "
          f"{'PASS' if app_warm_s < 3 else 'FAIL'}")
    print(f"threads stopped after q:              {quit_s * 1000:8.1f} ms   target < 1000 ms: "
          f"{'PASS' if quit_s < 1 else 'FAIL'}")
    if args.json:
        print(json.dumps({"articles": len(texts), "first_result_s": app_first_s, "first_read_s": first_s,
                          "window_s": window_s, "suggest_cold_s": cold_s, "suggest_warm_s": warm_s,
                          "app_suggest_cold_s": app_cold_s, "app_suggest_warm_s": app_warm_s,
                          "quit_s": quit_s}))


if __name__ == "__main__":
    main()
