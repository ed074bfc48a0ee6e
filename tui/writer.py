"""The single writer, and the reader: the TUI's only ways to the database.

The writer is one thread that owns its own `Store` connection and takes change requests
from a queue, in order. Each request is a function of the store that makes one store
call (one committed `BEGIN IMMEDIATE` transaction, see schema/store.py) and may then
read back what the screen needs; its result or exception resolves a
`concurrent.futures.Future`. The screen awaits that future off the event loop and only
then shows the change as saved, so nothing shown as saved can be lost by a crash.

The writer's commits never run a WAL checkpoint (copying the log's pages into the
database file and syncing it): that ran inside whichever commit took the log past 1,000
pages, one keystroke in about 125, and added two or more fsyncs to it. The writer's
`Checkpointer`, a thread with a connection of its own, runs them beside the writer
instead (SQLite lets a checkpoint run while another connection writes), when the typing
pauses or after CHECKPOINT_COMMITS commits.

The reader is a second connection behind a one-thread executor, for loading articles
and stories without ever blocking the event loop or waiting behind writes.
"""

from __future__ import annotations

import asyncio
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from newsmark.schema.store import Store

T = TypeVar("T")

_STOP = object()

# The checkpointer runs once the writer has been quiet this long after a commit, or at once
# after this many commits (about the 1,000 WAL pages at which SQLite's own automatic
# checkpoint runs: a label change writes some 8 pages).
CHECKPOINT_QUIET_SECONDS = 0.25
CHECKPOINT_COMMITS = 120


class Checkpointer:
    """A thread with its own connection that runs `PRAGMA wal_checkpoint(PASSIVE)` for a
    writer whose connection has automatic checkpoints off."""

    def __init__(self, db_path: str | Path) -> None:
        self.db_path = str(db_path)
        self._changed = threading.Condition()
        self._commits = 0  # since the last checkpoint
        self._last_commit = 0.0
        self._stopping = False
        self._store: Store | None = None
        self._thread = threading.Thread(target=self._run, name="newsmark-checkpointer", daemon=True)
        self.checkpoints = 0  # checkpoints run, for tests and benchmarks

    def start(self) -> None:
        """Open the connection (raising what `Store.open` raises) and start the thread."""
        self._store = Store.open(self.db_path)
        self._thread.start()

    def committed(self) -> None:
        """Called after each commit of the writer."""
        with self._changed:
            self._commits += 1
            self._last_commit = time.monotonic()
            self._changed.notify()

    def stop(self, timeout: float = 10.0) -> None:
        """End the thread and close its connection (the last connection to close checkpoints
        what is left)."""
        with self._changed:
            self._stopping = True
            self._changed.notify()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _wait(self) -> float | None:
        """Seconds until the next checkpoint is due: None with nothing to checkpoint, 0 now."""
        if self._commits == 0:
            return None
        if self._commits >= CHECKPOINT_COMMITS:
            return 0.0
        return max(0.0, self._last_commit + CHECKPOINT_QUIET_SECONDS - time.monotonic())

    def _run(self) -> None:
        assert self._store is not None
        try:
            with self._changed:
                while not self._stopping:
                    wait = self._wait()
                    if wait is None or wait > 0:
                        self._changed.wait(wait)
                        continue
                    self._commits = 0
                    self._changed.release()
                    try:
                        # PASSIVE: never waits for a lock, so it never holds up the writer;
                        # what a reader still uses is copied by the next one.
                        self._store.checkpoint()
                        self.checkpoints += 1
                    except sqlite3.Error:
                        pass  # busy or interrupted: the next commit brings another try
                    finally:
                        self._changed.acquire()
        finally:
            self._store.close()


class Writer:
    """One thread, one connection, one queue of change requests committed in order."""

    def __init__(self, db_path: str | Path) -> None:
        self.db_path = str(db_path)
        self._queue: queue.Queue = queue.Queue()
        self._pending = 0
        self._lock = threading.Lock()
        self._idle = threading.Event()
        self._idle.set()
        self._opened: Future[None] = Future()
        self._thread = threading.Thread(target=self._run, name="newsmark-writer", daemon=True)
        self.commits = 0  # requests completed, for tests and benchmarks
        self.checkpointer = Checkpointer(db_path)
        # Called on the writer thread with each request's result, before the request
        # counts as finished (the live watcher notes the app's own events with it).
        self.after_commit: Callable[[Any], None] | None = None

    def start(self) -> Future[None]:
        """Start the thread; the future resolves once its connection is open."""
        self._thread.start()
        return self._opened

    def submit(self, request: Callable[[Store], T]) -> Future[T]:
        """Queue one change request; its future resolves after it has committed."""
        future: Future[T] = Future()
        with self._lock:
            self._pending += 1
            self._idle.clear()
        self._queue.put((request, future))
        return future

    @property
    def pending(self) -> int:
        """Requests queued or running."""
        return self._pending

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until every submitted request has finished (True) or timeout (False)."""
        return self._idle.wait(timeout)

    async def idle(self, timeout: float = 10.0) -> bool:
        """Await, off the event loop, until every submitted request has finished."""
        if self._idle.is_set():
            return True
        return await asyncio.to_thread(self._idle.wait, timeout)

    def stop(self, timeout: float = 10.0) -> None:
        """Finish the queued requests, close the connection and end the thread."""
        if self._thread.is_alive():
            self._queue.put(_STOP)
            self._thread.join(timeout)
        self.checkpointer.stop(timeout)

    def _run(self) -> None:
        checkpointing = False
        try:
            store = Store.open(self.db_path)
        except BaseException as exc:  # reported to whoever awaits start()
            self._opened.set_exception(exc)
            # Fail every request from now on instead of leaving them pending.
            store = None
        else:
            if not store.postgres:  # (a server checkpoints its own log)
                try:
                    self.checkpointer.start()
                except Exception:
                    pass  # then the commits checkpoint, as SQLite does by default
                else:
                    checkpointing = True
                    store.defer_checkpoints()
            self._opened.set_result(None)
        try:
            while True:
                item = self._queue.get()
                if item is _STOP:
                    break
                request, future = item
                if future.set_running_or_notify_cancel():
                    try:
                        if store is None:
                            raise RuntimeError("the database could not be opened for writing")
                        result = request(store)
                        if self.after_commit is not None:
                            self.after_commit(result)
                        future.set_result(result)
                    except BaseException as exc:  # the screen shows it; the thread lives on
                        future.set_exception(exc)
                    if checkpointing:
                        self.checkpointer.committed()
                self.commits += 1
                with self._lock:
                    self._pending -= 1
                    if self._pending == 0:
                        self._idle.set()
        finally:
            if store is not None:
                store.close()


class Reader:
    """A read connection behind one worker thread (SQLite reads never block the loop)."""

    def __init__(self, db_path: str | Path) -> None:
        self.db_path = str(db_path)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="newsmark-reader")
        self._store: Store | None = None

    def _store_for_thread(self) -> Store:
        if self._store is None:
            self._store = Store.open(self.db_path)
        return self._store

    def submit(self, request: Callable[[Store], T]) -> Future[T]:
        """Run a read on the reader thread."""
        return self._executor.submit(lambda: request(self._store_for_thread()))

    async def run(self, request: Callable[[Store], T]) -> T:
        """Await a read run on the reader thread."""
        return await asyncio.wrap_future(self.submit(request))

    def stop(self) -> None:
        """Close the connection and end the thread."""

        def close() -> Any:
            if self._store is not None:
                self._store.close()
                self._store = None

        self._executor.submit(close)
        self._executor.shutdown(wait=True)
