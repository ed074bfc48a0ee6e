"""Keystrokes and seconds to fully label the five seed articles on the annotate screen
(stance, reliability, credibility on each), before and after issue 13's keys.

Run: .venv/bin/python bench/bench_keystrokes.py [--repeat R] [--json]

Both runs drive the real app with Textual's Pilot on a fresh database of seeds/ in the
same process, pressing keys one at a time and waiting (for the state, no sleeps) where a
person would wait: for an article to appear before labelling it.
- before (the baseline): the keys the screen had before, two panes: label, tab, label,
  then `]` and label for each remaining article.
- after: `ctrl+t` (auto-advance on), then only the label keys: each finished article
  makes way for the next unfinished one, and the last one (in the other pane) gets the
  focus.
Seconds are the app's time from the first key until every label is committed (machine
time, no human think-time); the ratio after/before is what to read.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from newsmark.schema.ingest import import_paths  # noqa: E402
from newsmark.schema.store import Store  # noqa: E402
from newsmark.tui.app import NewsmarkApp  # noqa: E402
from newsmark.tui.screens.annotate import AnnotateScreen  # noqa: E402

SEEDS = ROOT / "seeds"
STORY = "us-taliban-isisk"
LABELS = ("a", "B", "3")  # stance, reliability, credibility
SIZE = (160, 50)


async def until(pilot, condition, timeout: float = 20.0) -> None:
    """Let the app run until condition holds (bounded)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError("the app did not reach the expected state")
        await pilot.pause(0.001)


def pane_ids(screen: AnnotateScreen) -> list[str | None]:
    return [pane.article_id for pane in screen.panes]


async def run(strategy: str) -> tuple[int, float, int]:
    """(keystrokes, seconds, articles fully labelled) for one strategy on a fresh database."""
    with tempfile.TemporaryDirectory() as tmp:
        db_path = Path(tmp) / "bench.db"
        with Store.open(db_path) as store:
            import_paths(store, [SEEDS])
            ids = store.article_ids(STORY)
        app = NewsmarkApp(db_path, "bench")
        app.animation_level = "none"
        keystrokes = 0
        async with app.run_test(size=SIZE) as pilot:
            await asyncio.wait_for(app.loaded.wait(), 20)
            await until(pilot, lambda: isinstance(app.screen, AnnotateScreen) and all(p.view for p in app.screen.panes))
            screen: AnnotateScreen = app.screen  # type: ignore[assignment]

            async def press(*keys: str) -> None:
                nonlocal keystrokes
                for key in keys:
                    await pilot.press(key)
                    keystrokes += 1

            async def shows(article_id: str) -> None:
                await until(pilot, lambda: screen.focused_pane is not None and screen.focused_pane.article_id == article_id)

            started = time.perf_counter()
            if strategy == "before":
                await press(*LABELS)
                await press("tab", *LABELS)
                for article_id in ids[2:]:
                    await press("right_square_bracket")
                    await shows(article_id)
                    await press(*LABELS)
            else:
                await press("ctrl+t")
                await until(pilot, lambda: screen.auto_advance)
                for article_id in [ids[0], *ids[2:], ids[1]]:
                    await shows(article_id)
                    await press(*LABELS)
            assert await app.writer.idle(20)
            seconds = time.perf_counter() - started
        app.close_stores()
        with Store.open(db_path) as store:
            done = sum(len(store.labels(aid, "bench", story_id=STORY)) == len(LABELS) for aid in ids)
        return keystrokes, seconds, done


def main() -> None:
    """Run both strategies, print keystrokes and seconds for each and the ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs of each strategy (the best time is kept)")
    parser.add_argument("--json", action="store_true", help="also print one JSON line")
    args = parser.parse_args()
    results = {}
    for strategy in ("before", "after"):
        runs = [asyncio.run(run(strategy)) for _ in range(args.repeat)]
        keystrokes, _, done = runs[0]
        if done != 5:
            raise SystemExit(f"{strategy}: only {done} of 5 articles fully labelled")
        results[strategy] = {"keystrokes": keystrokes, "seconds": min(s for _, s, _ in runs)}
        print(f"{strategy:>6}: {keystrokes} keystrokes, {results[strategy]['seconds']:.3f} s (best of {args.repeat})")
    before, after = results["before"], results["after"]
    print(f" ratio: keystrokes {after['keystrokes'] / before['keystrokes']:.2f}, "
          f"seconds {after['seconds'] / before['seconds']:.2f} (after / before)")
    if args.json:
        print(json.dumps(results))


if __name__ == "__main__":
    main()
