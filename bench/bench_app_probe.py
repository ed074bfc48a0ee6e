"""How bench_tui.py drives the annotate app (tui/app.py): build it, know when it has
painted, press a label key and wait for the commit. Kept apart so the bench's timing code
does not change when the app's internals do."""

from __future__ import annotations

import gc
import os
import sqlite3
import threading
import time
from collections.abc import Callable
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


class KeystrokeTracer:
    """Timing instrumentation for the tail breakdown (bench only, nothing in the product).

    Per keystroke it records, on one clock (perf_counter): when the key was posted, when
    the screen handed the request to the writer (`submit`), when the writer thread picked
    it up, when each SQL statement of the writer's connection started (its trace
    callback), when the request returned (committed), whether the commit ran a WAL
    checkpoint (the database file itself changed: in WAL mode only a checkpoint writes
    it), the writer thread's CPU time, and every garbage collection in the process."""

    def __init__(self, db: str) -> None:
        self.db = db
        self.records: list[dict] = []
        self.current: dict | None = None
        # start, end, generation, thread, its CPU seconds
        self.gc_pauses: list[tuple[float, float, int, str, float]] = []
        self._gc_started = (0.0, 0.0)
        self._traced: set[int] = set()
        self.main_cpu = 0.0  # the event loop thread's CPU seconds per keystroke (rendering)

    def start(self) -> None:
        """Begin recording garbage collections."""
        gc.callbacks.append(self._gc)

    def stop(self) -> None:
        """Stop recording garbage collections."""
        gc.callbacks.remove(self._gc)

    def _gc(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._gc_started = (time.perf_counter(), time.thread_time())
        else:
            started, cpu = self._gc_started
            self.gc_pauses.append((started, time.perf_counter(), info["generation"],
                                   threading.current_thread().name, time.thread_time() - cpu))

    def begin(self) -> dict:
        """A new keystroke record, its key posted now."""
        self.current = {"posted": time.perf_counter(), "statements": []}
        self.records.append(self.current)
        return self.current

    def wrap(self, request: Callable) -> Callable:
        """The writer request `request`, timed on the writer thread."""
        record = self.current

        def traced(store):
            if record is not None:
                record["pickup"] = time.perf_counter()
            if id(store.conn) not in self._traced:
                self._traced.add(id(store.conn))
                store.conn.set_trace_callback(self._statement)
            before = os.stat(self.db).st_mtime_ns
            cpu = time.thread_time()
            try:
                return request(store)
            finally:
                if record is not None:
                    record["committed"] = time.perf_counter()
                    record["writer_cpu"] = time.thread_time() - cpu
                    record["checkpoint"] = os.stat(self.db).st_mtime_ns != before

        return traced

    def _statement(self, sql: str) -> None:
        if self.current is not None and "pickup" in self.current and "committed" not in self.current:
            self.current["statements"].append((time.perf_counter(), sql))

    def install(self, writer) -> None:
        """Time every request the app submits to `writer` (wraps this instance's submit)."""
        submit = writer.submit

        def traced_submit(request):
            if self.current is not None:
                self.current["submit"] = time.perf_counter()
            return submit(self.wrap(request))

        writer.submit = traced_submit


async def app_keystroke_latency(db: str, annotator: str, count: int,
                                tracer: KeystrokeTracer | None = None) -> dict[str, list[float]]:
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
        if tracer is not None:
            tracer.install(app.writer)
            tracer.start()
        main_cpu = time.thread_time()
        for n in range(count):
            key = "a" if n % 2 == 0 else "d"
            before = app.writer.commits
            record = tracer.begin() if tracer is not None else None
            started = record["posted"] if record is not None else time.perf_counter()
            app.post_message(events.Key(key, key))
            while app.writer.commits == before:
                if time.perf_counter() - started > 30:
                    raise RuntimeError("a keystroke was never committed")
                await asyncio.sleep(0.0001)
            committed.append(time.perf_counter() - started)
            if record is not None:
                record["seen"] = started + committed[-1]
            while any(getattr(pane, "pending", 0) for pane in screen.panes):
                if time.perf_counter() - started > 30:
                    raise RuntimeError("a pane never showed its keystroke saved")
                await asyncio.sleep(0.0001)
            shown.append(time.perf_counter() - started)
        await app.writer.idle()
        if tracer is not None:
            tracer.stop()
            tracer.main_cpu = (time.thread_time() - main_cpu) / max(1, count)
    return {"committed": committed, "shown saved": shown}
