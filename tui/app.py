"""NewsmarkApp: the Textual app around the annotate screen, its writer and its reader."""

from __future__ import annotations

import asyncio
import atexit
import gc
import threading
from pathlib import Path

from textual.app import App

from newsmark.analysis.budget import Budget
from newsmark.schema.engines import database_location
from newsmark.schema.scheme import Scheme
from newsmark.schema.store import Store
from newsmark.schema.models import Event
from newsmark.tui.live import Watcher, post_to_screens
from newsmark.tui.writer import Reader, Writer

# At exit, the interpreter's last garbage collections walk every object left (a large
# story's texts, units and alignments: up to a second after q). Nothing is left to write
# by then (the stores are closed), so freeze them instead: the process ends at once.
atexit.register(gc.freeze)


class NewsmarkApp(App):
    """The newsmark annotate app for one annotator on one database."""

    CSS_PATH = "newsmark.tcss"
    TITLE = "newsmark"

    def __init__(
        self,
        db_path: str | Path,
        annotator: str,
        *,
        story_id: str | None = None,
        scheme: Scheme | None = None,
        keymap_overrides: dict[str, str] | None = None,
    ) -> None:
        super().__init__()
        self.db_path = database_location(db_path)
        self.annotator = annotator
        self.story_id = story_id
        if scheme is None:
            # Read once before the app runs (no event loop to block yet).
            with Store.open(self.db_path) as store:
                scheme = store.scheme
        self.scheme = scheme
        self.keymap_overrides = dict(keymap_overrides or {})
        self.writer = Writer(self.db_path)
        self.reader = Reader(self.db_path)
        self.slow_reader = Reader(self.db_path)  # reads that may take long (outlet grades)
        # Teammates' changes, reported to the screen (see tui/live.py).
        self.watcher = Watcher(self.db_path, self._teammates_changed, busy=lambda: self.writer.pending > 0)
        self.writer.after_commit = self.watcher.ignore
        self.loaded = asyncio.Event()  # set when the first story's panes are filled
        # Set when the app closes: long work on the reader threads (splitting a 1 MB
        # article into sentences) stops then instead of holding up the exit.
        self.closing = threading.Event()
        self.reader_budget = Budget(cancelled=self.closing.is_set)
        self._stores_closed = False
        self._heap_frozen = False  # see _freeze_heap_when_loaded

    def on_mount(self) -> None:
        """Start the writer, apply the user's keymap and open the annotate screen."""
        from newsmark.tui.screens.annotate import AnnotateScreen

        self.writer.start()
        try:
            self.watcher.start()
        except Exception:  # noqa: BLE001 - the screens work without live updates
            pass
        if self.keymap_overrides:
            self.set_keymap(self.keymap_overrides)
        self.push_screen(AnnotateScreen(self.scheme, self.story_id))
        self.run_worker(self._freeze_heap_when_loaded(), group="gc", exit_on_error=False)

    async def _freeze_heap_when_loaded(self) -> None:
        """Once the first story is shown, take every object so far (modules, Textual's
        widgets and caches, the story) out of the garbage collector's sight. A full
        collection walked them all, 45-90 ms with nothing to free, on whichever thread
        allocated: a key waited, and so did the writer's commit (it needs the GIL back
        after each statement). Those collections were the slowest 1% of keystrokes
        (bench/bench_tui.py); after the freeze one takes well under a millisecond."""
        await self.loaded.wait()
        self.call_after_refresh(self._freeze_heap)  # the first paint's caches too

    def _freeze_heap(self) -> None:
        gc.freeze()
        self._heap_frozen = True

    def _teammates_changed(self, events: list[Event]) -> None:
        """(On the watcher's thread) hand a teammate's events to the open screens."""
        post_to_screens(self, events)

    async def action_help_quit(self) -> None:
        """ctrl+c with no text selected to copy: quit, as in any terminal program (Textual
        would only say to press ctrl+q), once the writer has committed what is queued."""
        await self.writer.idle()
        self.exit()

    async def on_unmount(self) -> None:
        """Let the writer finish what is queued, then close both connections."""
        await asyncio.to_thread(self.close_stores)
        if self._heap_frozen:
            # The app's objects may be collected again (another app may run in this
            # process, as under tests); at exit, the atexit freeze above still applies.
            gc.unfreeze()
            self._heap_frozen = False

    def close_stores(self) -> None:
        """Drain the writer and close the writer's and reader's connections (idempotent)."""
        if self._stores_closed:
            return
        self._stores_closed = True
        self.closing.set()
        # A long read under way (the outlet grades of a prolific annotator) would hold
        # the exit up: interrupt the readers' queries (reads only: nothing is lost).
        for reader in (self.reader, self.slow_reader):
            store = getattr(reader, "_store", None)
            if store is not None:
                try:
                    store.conn.interrupt()
                except Exception:  # already closed
                    pass
        self.watcher.stop()
        self.writer.stop()
        self.reader.stop()
        self.slow_reader.stop()
