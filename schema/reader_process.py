"""Reading a big file in a forked child process while this process stores what it read.

`batches_from_child(produce)` forks a child that runs `produce(send)`: each `send(batch)`
pickles a batch (builtins: tuples, str, bytes) and a writer thread of the child sends it
down a pipe, up to DEPTH batches ahead, so the child reads on while the parent is busy
storing. The parent iterates the batches; an exception raised in the child (OSError
included) is raised in the parent, in order; a child that stops without a word raises
ReaderDied. Where forking is not the norm (not Linux), or the fork fails, there is no
child: the caller reads in-process.

The child inherits what it reads (an open file, the caller's state) by the fork, so
nothing but its results is pickled.
"""

from __future__ import annotations

import contextlib
import gc
import os
import pickle
import queue
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

DEPTH = 4  # batches the child may have ready ahead of the one being stored


class ReaderDied(Exception):
    """The child stopped without finishing or saying why (killed, out of memory)."""

    def __init__(self, exitcode: int | None) -> None:
        super().__init__(f"the reading process stopped unexpectedly (exit code {exitcode})")
        self.exitcode = exitcode


def fork_context() -> Any:
    """The 'fork' multiprocessing context where forking is the norm (Linux), else None."""
    if not sys.platform.startswith("linux"):
        return None
    import multiprocessing  # here: small files never need it

    if "fork" not in multiprocessing.get_all_start_methods():
        return None
    return multiprocessing.get_context("fork")


def _run_child(receiver: Any, sender: Any, produce: Callable[[Callable[[Any], None]], None]) -> None:
    # The receiving end is the parent's alone: with a copy open here, a parent killed
    # outright would leave this process blocked on a full pipe for ever.
    receiver.close()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # ^C is the parent's to handle; it ends this process
    gc.freeze()  # the parent's objects: collections here must not touch (and so copy) their pages
    ready: queue.Queue[bytes | None] = queue.Queue(maxsize=DEPTH)
    broken: list[BaseException] = []

    def write() -> None:
        while (blob := ready.get()) is not None:
            if broken:
                continue  # the parent is gone: drain, so the reader never blocks on a full queue
            try:
                sender.send_bytes(blob)
            except BaseException as exc:  # noqa: BLE001 - the reader stops at its next batch
                broken.append(exc)

    writer = threading.Thread(target=write, name="newsmark-reader-writer", daemon=True)
    writer.start()

    def send(batch: Any) -> None:
        if broken:
            raise broken[0]
        ready.put(pickle.dumps(("batch", batch), pickle.HIGHEST_PROTOCOL))

    try:
        produce(send)
        ready.put(pickle.dumps(("done", None)))
    except BaseException as exc:  # noqa: BLE001 - everything is reported to the parent
        try:
            message = pickle.dumps(("error", exc))
        except Exception:  # an exception that cannot be pickled
            message = pickle.dumps(("error", RuntimeError(f"{type(exc).__name__}: {exc}")))
        ready.put(message)
    finally:
        ready.put(None)
        writer.join()
        sender.close()
        # Straight out: no atexit handlers, no flushing of streams inherited from the parent.
        os._exit(0)


@contextlib.contextmanager
def batches_from_child(produce: Callable[[Callable[[Any], None]], None]) -> Iterator[Iterator[Any] | None]:
    """The batches `produce` sends from a forked child (None: no child here; read in-process).
    The child is ended and waited for however the block is left."""
    context = fork_context()
    if context is None:
        yield None
        return
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_run_child, args=(receiver, sender, produce), name="newsmark-reader", daemon=True)
    # Collections here would touch every old object while the child shares their pages,
    # copying them; frozen, they are left alone until the child is gone.
    frozen = gc.get_freeze_count() == 0
    if frozen:
        gc.freeze()
    try:
        try:
            child.start()
        except OSError:  # cannot fork now (out of memory or processes): read in-process
            yield None
            return
        sender.close()

        def batches() -> Iterator[Any]:
            while True:
                try:
                    kind, payload = pickle.loads(receiver.recv_bytes())
                except (EOFError, OSError):
                    child.join(timeout=5)
                    raise ReaderDied(child.exitcode) from None
                if kind == "done":
                    return
                if kind == "error":
                    raise payload
                yield payload

        yield batches()
    finally:
        if child.pid is not None:
            if child.is_alive():
                child.terminate()
            child.join()
        receiver.close()
        sender.close()
        if frozen:
            gc.unfreeze()
