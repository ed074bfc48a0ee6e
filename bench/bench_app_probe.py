"""How bench_tui.py drives the annotate app (tui/app.py): build it, know when it has
painted, press a label key and wait for the commit. Kept apart so the bench's timing code
does not change when the app's internals do."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path


def first_story_markers(db: Path) -> list[str]:
    """Texts the annotate screen shows once the first story's first two articles painted
    (make_big_db.py starts article i's text with "Article i on story k")."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        story = conn.execute("SELECT id FROM stories ORDER BY id LIMIT 1").fetchone()[0]
        texts = [row[0] for row in conn.execute(
            "SELECT text FROM articles WHERE story_id = ? ORDER BY seq LIMIT 2", (story,)
        )]
    finally:
        conn.close()
    return [text[:20] for text in texts]


def make_app(db: str, annotator: str):
    """The annotate app on `db`."""
    from newsmark.tui.app import NewsmarkApp

    return NewsmarkApp(db, annotator)


def app_ready(app) -> bool:
    """The annotate screen has filled its panes with the first story's articles."""
    return app.loaded.is_set()


async def app_keystroke_latency(db: str, annotator: str, count: int) -> dict[str, list[float]]:
    """Seconds from a stance key reaching the app (posted as the terminal driver posts it)
    until the writer has committed it ("committed"; the writer also reads back what the
    panes show), and until the pane no longer says "saving" ("shown saved"), `count` times.
    The keys alternate between agree and disagree, so each is a real change.

    Keys are posted like the driver does rather than through `Pilot.press`, which also
    waits for the screen to go idle (44 ms on an empty app here) and would measure that.
    """
    import asyncio

    from textual import events

    app = make_app(db, annotator)
    committed: list[float] = []
    shown: list[float] = []
    async with app.run_test(size=(160, 48)) as pilot:
        deadline = time.monotonic() + 60
        while not app_ready(app):
            if time.monotonic() > deadline:
                raise RuntimeError("the annotate screen never loaded")
            await pilot.pause(0.005)
        await pilot.pause()
        await app.writer.idle()
        screen = app.screen
        for n in range(count):
            key = "a" if n % 2 == 0 else "d"
            before = app.writer.commits
            started = time.perf_counter()
            app.post_message(events.Key(key, key))
            while app.writer.commits == before:
                if time.perf_counter() - started > 30:
                    raise RuntimeError("a keystroke was never committed")
                await asyncio.sleep(0.0001)
            committed.append(time.perf_counter() - started)
            while any(getattr(pane, "pending", 0) for pane in screen.panes):
                await asyncio.sleep(0.0001)
            shown.append(time.perf_counter() - started)
        await app.writer.idle()
    return {"committed": committed, "shown saved": shown}
