"""Live updates: teammates' changes reach the open screens without a key being pressed.

A `Watcher` is a thread with a connection of its own that asks the store, every
POLL_SECONDS, whether another connection has committed (`Store.data_version`: SQLite's
`PRAGMA data_version`, a read of one number from shared memory, no disk; on PostgreSQL the
notifications the event log's trigger sends, heard by LISTEN). When one has, it
reads the events logged since it last looked and hands those of other connections to its
callback. The app's own writes are among them (its writer is another connection): the
writer tells the watcher their event ids (`ignore`), so a keystroke never makes the
screen read itself back twice.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

from textual.app import App
from textual.message import Message

from newsmark.schema.models import Event, utc_now
from newsmark.schema.store import ActionResult, Store

POLL_SECONDS = 0.25  # a teammate's change shows within this plus a read
EVENTS_PER_ROUND = 10_000
LATE_EVENTS = 1_000  # PostgreSQL: how far back a round looks for events committed late
ACTIVE_MINUTES = 10  # a teammate with a change in the story this recent is "working on it"


def active_since() -> str:
    """The timestamp after which a teammate's change in a story counts as working on it."""
    return utc_now(minus=dt.timedelta(minutes=ACTIVE_MINUTES))


class Watcher:
    """Reports the events other connections commit to `on_events` (called on the watcher's
    thread: hand over to the event loop from there). `busy` says whether one of the app's
    own writes is under way; the app passes each write's result to `ignore` before it is
    no longer busy."""

    def __init__(self, db_path: str | Path, on_events: Callable[[list[Event]], None], *,
                 busy: Callable[[], bool] = lambda: False, interval: float = POLL_SECONDS) -> None:
        self.db_path = str(db_path)
        self.on_events = on_events
        self.busy = busy  # whether one of the app's own writes is under way
        self.interval = interval
        self._stop = threading.Event()
        self._ignored: set[int] = set()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="newsmark-watcher", daemon=True)
        self._store: Store | None = None
        self._last_id = 0
        self._reported: set[int] = set()  # PostgreSQL: ids reported within the look-back

    def start(self) -> None:
        """Open the connection (raising what `Store.open` raises) and start watching from
        the newest event on."""
        self._store = Store.open(self.db_path)
        self._store.listen_for_changes()
        self._last_id = self._store.last_event_id()
        if self._store.postgres:  # what is there already is not news (see _run's look-back)
            self._reported = {event.id for event in self._store.events_since(self._last_id - LATE_EVENTS)}
        self._thread.start()

    def ignore(self, result: object) -> None:
        """Note the events of one of the app's own writes (an ActionResult; anything else is
        passed over), so they are not reported as a teammate's."""
        if isinstance(result, ActionResult):
            self.ignore_ids(event.id for event in result.events)

    def ignore_ids(self, event_ids: Iterable[int]) -> None:
        """Note event ids that are the app's own."""
        with self._lock:
            self._ignored.update(event_ids)

    def stop(self, timeout: float = 5.0) -> None:
        """End the thread and close its connection."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        elif self._store is not None:
            self._store.close()
            self._store = None

    def _run(self) -> None:
        store = self._store
        assert store is not None
        # PostgreSQL numbers events when they are written, not when they commit: a short
        # transaction may commit after a later-numbered one. The last LATE_EVENTS ids are read
        # again each round, and those already reported passed over.
        look_back = LATE_EVENTS if store.postgres else 0
        reported = self._reported
        try:
            version = store.data_version()
            while not self._stop.wait(self.interval):
                try:
                    now = store.data_version()
                    if now == version:
                        continue
                    events = store.events_since(self._last_id - look_back, limit=EVENTS_PER_ROUND)
                except Exception:  # noqa: BLE001 - a busy or vanished file: try again next round
                    continue
                if self.busy():
                    # One of the app's writes may be between its commit and `ignore`: look
                    # again next round, when it has finished.
                    continue
                if len(events) < EVENTS_PER_ROUND:
                    version = now  # caught up; else the next round reads on
                events = [event for event in events if event.id not in reported]
                if not events:
                    continue
                self._last_id = max(self._last_id, events[-1].id)
                if look_back:
                    reported.update(event.id for event in events)
                    reported.difference_update([i for i in reported if i <= self._last_id - look_back])
                with self._lock:
                    theirs = [event for event in events if event.id not in self._ignored]
                    self._ignored.difference_update(event.id for event in events)
                if theirs:
                    self.on_events(theirs)
        finally:
            store.close()
            self._store = None


def touches(events: Iterable[Event], story_id: str | None, article_ids: Iterable[str]) -> bool:
    """Whether any of these events changed something of the story or of these articles (an
    undo or redo, whose rows are those of an earlier action, always counts)."""
    articles = set(article_ids)
    for event in events:
        key = event.key
        if event.tbl == "events":
            return True
        if story_id is not None and (key.get("story_id") == story_id
                                     or (event.tbl == "stories" and key.get("id") == story_id)):
            return True
        if key.get("article_id") in articles:
            return True
        if event.tbl in ("clusters", "claims", "claim_labels"):
            return True  # a claim's cluster spans articles: its counts may change here
    return False


class TeammatesChanged(Message):
    """Teammates (other connections) committed these events."""

    def __init__(self, events: list[Event]) -> None:
        super().__init__()
        self.events = events


def post_to_screens(app: App, events: list[Event]) -> None:
    """(From the watcher's thread) post TeammatesChanged to every screen of the app's stack:
    a modal on top must not keep the screen under it from catching up."""

    def post() -> None:
        for screen in app.screen_stack:
            screen.post_message(TeammatesChanged(events))

    try:
        app.call_from_thread(post)
    except RuntimeError:  # the app is closing
        pass
