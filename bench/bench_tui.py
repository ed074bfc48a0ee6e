"""TUI speed with a big database: first paint and keystroke-to-commit latency.

Run: .venv/bin/python bench/bench_tui.py [--articles N] [--keystrokes K] [--no-terminal] [--keys-only]

(a) First paint with N articles (default 1,000,000; built once by make_big_db.py):
    - headless: a fresh process runs the app under `App.run_test()` and reports the time
      from process launch to its first screen painted with data, and its peak RSS. The
      baseline is an empty Textual app measured the same way in the same run.
    - real terminal (if tmux is installed): `newsmark --db BIG annotate` in a 160x48 tmux
      pane, timed from launch until the pane shows the story; then `g` and the time until
      the story list shows its rows; peak RSS from /proc (VmHWM). The baseline is the same
      empty app in the same pane size.
    Targets: < 1 s and < 300 MB.
(b) Keystroke-to-commit latency over K label changes (default 1,000), each a real change,
    against a bare `sqlite3` single-row INSERT + COMMIT (WAL, synchronous=FULL) in the same
    run: through `Store.set_label`, through the TUI's writer thread (tui/writer.py), and
    through the app itself (a key pressed in the annotate screen until the writer has
    committed it). Target: p99 < 20 ms.
    The app's keystrokes are timed in detail (bench_app_probe.KeystrokeTracer: timing
    instrumentation in the bench, none in the product) and the slowest 1% printed phase by
    phase against the median keystroke: the event loop before the request was submitted,
    the writer's queue, each SQL statement, COMMIT, a WAL checkpoint, the loop noticing the
    commit, and the garbage collections that overlapped it, with their CPU time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

PYTHON = sys.executable
NEWSMARK = str(Path(PYTHON).with_name("newsmark"))
SIZE = (160, 48)
ANNOTATOR = "bench"


# --- helpers -------------------------------------------------------------------------------


def percentiles(samples: list[float]) -> dict[str, float]:
    """p50/p95/p99/max of samples, in milliseconds."""
    ordered = sorted(samples)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] * 1000

    return {"p50": at(0.50), "p95": at(0.95), "p99": at(0.99), "max": ordered[-1] * 1000}


def show_latency(name: str, stats: dict[str, float], baseline: dict[str, float] | None) -> None:
    ratio = ""
    if baseline:
        ratio = f"   ({stats['p50'] / baseline['p50']:.2f}x / {stats['p99'] / baseline['p99']:.2f}x bare at p50 / p99)"
    print(f"  {name:<34} p50 {stats['p50']:6.2f}  p95 {stats['p95']:6.2f}  p99 {stats['p99']:6.2f}  "
          f"max {stats['max']:7.2f} ms{ratio}")


def app_available() -> bool:
    """The annotate app exists in this checkout (tui/app.py with NewsmarkApp)."""
    try:
        from newsmark.tui.app import NewsmarkApp  # noqa: F401
    except ImportError:
        return False
    return True


# --- (a) first paint, headless: child processes ---------------------------------------------


def child_main(kind: str, db: str) -> None:
    """Run in a fresh process: paint `kind` under run_test and print seconds since launch
    (the parent's clock, passed in BENCH_LAUNCH) and peak RSS in MB."""
    launched = float(os.environ["BENCH_LAUNCH"])

    async def run() -> None:
        from textual.app import App

        if kind == "empty":
            from textual.widgets import Static

            class Empty(App[None]):
                def compose(self):
                    yield Static("ready")

            app = Empty()

            def ready(_app) -> bool:
                return True
        elif kind == "storylist":
            from newsmark.tui.screens.story_list import StoryListScreen
            from newsmark.tui.widgets.story_list_view import StoryListView

            class ListApp(App[None]):
                def on_mount(self) -> None:
                    self.push_screen(StoryListScreen(db, ANNOTATOR))

            app = ListApp()

            def ready(_app) -> bool:
                views = _app.screen.query(StoryListView)
                return bool(views) and views.first().loaded
        else:
            from bench_app_probe import make_app, app_ready

            app = make_app(db, ANNOTATOR)
            ready = app_ready
        async with app.run_test(size=SIZE) as pilot:
            deadline = time.monotonic() + 60
            while not ready(app):
                if time.monotonic() > deadline:
                    raise SystemExit("timed out waiting for the first paint")
                await pilot.pause(0.002)
            await pilot.pause()  # the refresh that paints it
            painted = time.time() - launched
            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(f"{painted:.4f} {rss:.1f}", flush=True)

    asyncio.run(run())


def headless_first_paint(kind: str, db: Path, runs: int = 3) -> tuple[float, float]:
    """Best-of-`runs` (seconds, peak MB) of a child painting `kind` (warm OS cache)."""
    results = []
    for _ in range(runs):
        env = {**os.environ, "BENCH_LAUNCH": repr(time.time())}
        out = subprocess.run(
            [PYTHON, __file__, "--child", kind, "--db", str(db)], env=env, capture_output=True, text=True, timeout=120,
        )
        if out.returncode != 0:
            raise RuntimeError(f"{kind} child failed: {out.stderr.strip()[-2000:]}")
        seconds, mb = out.stdout.split()[-2:]
        results.append((float(seconds), float(mb)))
    return min(results)


def story_list_query_times(db: Path) -> dict[str, float]:
    """Seconds the story list's worker spends per filter (median of 3, warm cache)."""
    from newsmark.schema.store import Store

    def timed(func) -> float:
        times = []
        for _ in range(3):
            started = time.perf_counter()
            func()
            times.append(time.perf_counter() - started)
        return statistics.median(times)

    out: dict[str, float] = {}
    with Store.open(db) as store:
        def first(unfinished: bool = False, text: str = "", annotator: str = ANNOTATOR) -> None:
            finished = store.finished_story_ids(annotator) if unfinished else None
            store.story_list_count(annotator, unfinished, text, finished)
            store.story_page(0, 100, annotator, unfinished, text, finished)

        out["open: count + first page"] = timed(first)
        total = store.story_list_count(ANNOTATOR)
        out["end: last page"] = timed(lambda: store.story_page(total - 100, 100, ANNOTATOR))
        out[f"u: finished set ({ANNOTATOR}, 22k labelled) + count + page"] = timed(lambda: first(True))
        out["u: finished set (alice, 143k labelled) + count + page"] = timed(lambda: first(True, annotator="alice"))
        out["/ 'story-00999': count + page"] = timed(lambda: first(False, "story-00999"))
    return out


# --- (a) first paint in a real terminal (tmux) -------------------------------------------------


class Tmux:
    """A private tmux server (its own socket) with one pane running a command."""

    def __init__(self, command: list[str], env: dict[str, str]) -> None:
        self.socket = tempfile.mktemp(prefix="newsmark-bench-tmux-")
        self.env = env
        self.command = command

    def tmux(self, *args: str) -> str:
        return subprocess.run(["tmux", "-S", self.socket, *args], capture_output=True, text=True, env=self.env).stdout

    def start(self) -> float:
        launched = time.perf_counter()
        subprocess.run(
            ["tmux", "-S", self.socket, "-f", "/dev/null", "new-session", "-d", "-x", str(SIZE[0]), "-y", str(SIZE[1]),
             "--", *self.command],
            check=True, env=self.env,
        )
        return launched

    def capture(self) -> str:
        return self.tmux("capture-pane", "-p")

    def wait_for(self, needle: str, timeout: float = 60) -> float:
        deadline = time.monotonic() + timeout
        while needle not in self.capture():
            if time.monotonic() > deadline:
                raise RuntimeError(f"tmux pane never showed {needle!r}:\n{self.capture()}")
            time.sleep(0.002)
        return time.perf_counter()

    def pid(self) -> int:
        return int(self.tmux("display-message", "-p", "#{pane_pid}").strip())

    def stop(self) -> None:
        self.tmux("kill-server")
        Path(self.socket).unlink(missing_ok=True)


def peak_rss_mb(pid: int) -> float:
    """VmHWM of a process and its descendants' largest (the app may run under a shell)."""
    best = 0.0
    for candidate in [pid, *_children(pid)]:
        try:
            for line in Path(f"/proc/{candidate}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    best = max(best, int(line.split()[1]) / 1024)
        except OSError:
            pass
    return best


def _children(pid: int) -> list[int]:
    try:
        kids = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []
    found = [int(k) for k in kids]
    for kid in list(found):
        found += _children(kid)
    return found


def terminal_first_paint(db: Path, markers: list[str], runs: int = 3) -> dict[str, float] | None:
    """Real terminal: app paint, story list paint after `g`, and their peak RSS; plus an
    empty Textual app's paint as the baseline. None without tmux or the annotate command."""
    if shutil.which("tmux") is None or not app_available():
        return None
    env = {**os.environ, "TERM": "xterm-256color", "NEWSMARK_ANNOTATOR": ANNOTATOR}
    empty_script = (
        "from textual.app import App\nfrom textual.widgets import Static\n"
        "class E(App):\n    def compose(self):\n        yield Static('EMPTY-READY')\nE().run()\n"
    )
    best: dict[str, float] = {}
    for _ in range(runs):
        pane = Tmux([PYTHON, "-c", empty_script], env)
        try:
            start = pane.start()
            empty = pane.wait_for("EMPTY-READY") - start
        finally:
            pane.stop()
        pane = Tmux([NEWSMARK, "--db", str(db), "annotate", "--annotator", ANNOTATOR], env)
        try:
            start = pane.start()
            for marker in markers:
                pane.wait_for(marker)
            painted = time.perf_counter() - start
            pane.tmux("send-keys", "g")
            before = time.perf_counter()
            listed = pane.wait_for("shown") - before
            rss = peak_rss_mb(pane.pid())
        finally:
            pane.stop()
        if not best or painted < best["app"]:
            best = {"empty": empty, "app": painted, "story_list": listed, "rss": rss}
    return best


# --- (b) keystroke-to-commit latency -----------------------------------------------------------


def bare_insert_latency(count: int, directory: Path) -> list[float]:
    """A bare sqlite3 single-row INSERT + COMMIT per keystroke, WAL, synchronous=FULL."""
    path = directory / "bare-latency.db"
    for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        leftover.unlink(missing_ok=True)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("CREATE TABLE labels (article_id TEXT, annotator TEXT, field TEXT, value TEXT, "
                 "PRIMARY KEY (article_id, annotator, field)) WITHOUT ROWID")
    samples = []
    for n in range(count):
        started = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT OR REPLACE INTO labels VALUES (?, ?, 'stance', ?)", (f"a{n % 50}", ANNOTATOR, str(n)))
        conn.execute("COMMIT")
        samples.append(time.perf_counter() - started)
    conn.close()
    return samples


def keystrokes(article_ids: list[str], count: int) -> list[tuple[str, str]]:
    """`count` (article, stance) pairs, each changing the stored value."""
    values = ("agree", "disagree", "discuss", "unrelated")
    return [(article_ids[n % len(article_ids)], values[(n // len(article_ids)) % len(values)]) for n in range(count)]


def store_latency(db: Path, article_ids: list[str], count: int, annotator: str) -> list[float]:
    """`Store.set_label`, one committed action (with its event) per keystroke."""
    from newsmark.schema.store import Store

    samples = []
    with Store.open(db) as store:
        for article_id, value in keystrokes(article_ids, count):
            started = time.perf_counter()
            store.set_label(article_id, annotator, "stance", value)
            samples.append(time.perf_counter() - started)
    return samples


def writer_latency(db: Path, article_ids: list[str], count: int, annotator: str) -> list[float] | None:
    """Through the TUI's writer thread: submit, then wait for the committed future."""
    try:
        from newsmark.tui.writer import Writer
    except ImportError:
        return None
    writer = Writer(db)
    writer.start().result(30)
    samples = []
    try:
        for article_id, value in keystrokes(article_ids, count):
            started = time.perf_counter()
            writer.submit(lambda store, a=article_id, v=value: store.set_label(a, annotator, "stance", v)).result(30)
            samples.append(time.perf_counter() - started)
    finally:
        writer.stop()
    return samples


def app_latency(db: Path, count: int, tracer=None) -> dict[str, list[float]] | None:
    """Through the annotate app: a stance key until the writer committed it, and until the
    pane shows it saved (timed in detail by `tracer`, a KeystrokeTracer, if given)."""
    if not app_available():
        return None
    from bench_app_probe import app_keystroke_latency

    return asyncio.run(app_keystroke_latency(str(db), ANNOTATOR + "-app", count, tracer))


# Where a keystroke's time goes, in order: the columns of the tail breakdown.
PHASES = ("dispatch", "queue", "py", "begin", "reads", "writes", "commit", "notice")


def keystroke_phases(record: dict, gc_pauses: list[tuple[float, float, int, str, float]]) -> dict[str, float]:
    """Seconds of one traced keystroke in each phase:
    dispatch: key posted -> the screen submits the request (the event loop);
    queue: submitted -> the writer thread starts it;
    py: Python in the store between SQL statements and before the first;
    begin: PRAGMA busy_timeout and BEGIN IMMEDIATE (the write lock);
    reads / writes: SELECT / INSERT, UPDATE, DELETE statements;
    commit: COMMIT (the WAL's fsync, and a checkpoint when `checkpoint` is set);
    notice: committed -> the loop sees the commit;
    plus gc (collections overlapping the keystroke, any thread), and total."""
    phases = dict.fromkeys(PHASES, 0.0)
    phases["dispatch"] = record["submit"] - record["posted"]
    phases["queue"] = record["pickup"] - record["submit"]
    statements = record["statements"]
    phases["py"] = (statements[0][0] if statements else record["committed"]) - record["pickup"]
    for (started, sql), ended in zip(statements, [s[0] for s in statements[1:]] + [record["committed"]]):
        verb = sql.lstrip().split(None, 1)[0].upper()
        if verb in ("PRAGMA", "BEGIN"):
            phases["begin"] += ended - started
        elif verb == "SELECT":
            phases["reads"] += ended - started
        elif verb == "COMMIT":
            phases["commit"] += ended - started
        else:
            phases["writes"] += ended - started
    phases["notice"] = record["seen"] - record["committed"]
    phases["gc"] = sum(max(0.0, min(end, record["seen"]) - max(start, record["posted"]))
                       for start, end, *_ in gc_pauses)
    phases["total"] = record["seen"] - record["posted"]
    return phases


def show_tail_breakdown(records: list[dict], gc_pauses: list[tuple[float, float, int, str, float]],
                        main_cpu: float) -> None:
    """Print what the slowest 1% of keystrokes waited on, against the median keystroke."""
    rows = [(keystroke_phases(r, gc_pauses), r) for r in records]
    rows.sort(key=lambda row: row[0]["total"])
    tail = rows[-max(1, len(rows) // 100):]
    checkpoints = sum(1 for _, r in rows if r["checkpoint"])
    print(f"  tail breakdown (ms) of the slowest {len(tail)} of {len(rows)} app keystrokes; "
          f"{checkpoints} commits ran or overlapped a WAL checkpoint, {len(gc_pauses)} collections ran")
    header = "".join(f"{name:>9}" for name in (*PHASES, "gc", "total")) + "  ckpt  gc generations (thread)"
    print(f"    {'':<8}{header}")

    def line(label: str, phases: dict[str, float], record: dict | None) -> str:
        cells = "".join(f"{phases[name] * 1000:9.2f}" for name in (*PHASES, "gc", "total"))
        extra = ""
        if record is not None:
            gens = [f"{gen}({thread})" for start, end, gen, thread, _ in gc_pauses
                    if end > record["posted"] and start < record["seen"]]
            extra = f"  {'yes' if record['checkpoint'] else 'no':>4}  {' '.join(gens)}"
        return f"    {label:<8}{cells}{extra}"

    median = {name: statistics.median(p[name] for p, _ in rows) for name in (*PHASES, "gc", "total")}
    print(line("median", median, None))
    for phases, record in tail:
        print(line("", phases, record))
    in_tail = [r for _, r in tail]
    print(f"    of the tail: {sum(r['checkpoint'] for r in in_tail)} ran or overlapped a checkpoint; "
          f"{sum(1 for p, _ in tail if p['gc'] > 0.001)} overlapped a collection > 1 ms")
    for generation in range(3):
        pauses = [(end - start, cpu) for start, end, gen, _, cpu in gc_pauses if gen == generation]
        if pauses:
            print(f"    collections of generation {generation}: {len(pauses)}, wall median "
                  f"{statistics.median(p[0] for p in pauses) * 1000:.2f} max {max(p[0] for p in pauses) * 1000:.2f} ms, "
                  f"CPU median {statistics.median(p[1] for p in pauses) * 1000:.2f} max {max(p[1] for p in pauses) * 1000:.2f} ms")
    cpu = [r["writer_cpu"] for r in records]
    print(f"    writer thread CPU per keystroke: median {statistics.median(cpu) * 1000:.2f} ms, max {max(cpu) * 1000:.2f} ms; "
          f"event loop thread CPU per keystroke (handling, rendering; bench loop included): {main_cpu * 1000:.2f} ms")


# --- main -------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description="first paint and keystroke latency with a big database")
    parser.add_argument("--articles", type=int, default=1_000_000)
    parser.add_argument("--keystrokes", type=int, default=1000)
    parser.add_argument("--no-terminal", action="store_true", help="skip the tmux (real terminal) runs")
    parser.add_argument("--keys-only", action="store_true", help="only (b), the keystroke latency")
    parser.add_argument("--switch-interval", type=float, help="sys.setswitchinterval(SECONDS) first (an experiment)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_main(args.child, args.db)
        return

    if args.switch_interval:
        sys.setswitchinterval(args.switch_interval)
    from make_big_db import ensure_big_db

    db = ensure_big_db(args.articles)
    print(f"database: {db} ({args.articles:,} articles, {db.stat().st_size / 1e9:.2f} GB)")
    if not args.keys_only:
        first_paint(db, terminal=not args.no_terminal)
    keystroke_latency(db, args.keystrokes)


def first_paint(db: Path, *, terminal: bool) -> None:
    """Part (a): first paint headless and in tmux, and the story list's queries."""
    # Warm the OS cache the way a second start would find it (the numbers are best-of-3).
    headless_first_paint("storylist", db, runs=1)

    print("\n(a) first paint (best of 3, warm OS cache; target < 1 s and < 300 MB)")
    empty_s, empty_mb = headless_first_paint("empty", db)
    print(f"  headless, empty Textual app (bare)  {empty_s * 1000:7.0f} ms  {empty_mb:6.1f} MB")
    list_s, list_mb = headless_first_paint("storylist", db)
    print(f"  headless, story list                {list_s * 1000:7.0f} ms  {list_mb:6.1f} MB   "
          f"({list_s / empty_s:.2f}x bare)")
    if app_available():
        app_s, app_mb = headless_first_paint("annotate", db)
        print(f"  headless, annotate app              {app_s * 1000:7.0f} ms  {app_mb:6.1f} MB   "
              f"({app_s / empty_s:.2f}x bare)")
    else:
        print("  headless, annotate app              (tui/app.py not there yet: skipped)")
    print("  story list worker queries (what a filter change costs, off the event loop):")
    for label, seconds in story_list_query_times(db).items():
        print(f"    {label:<46} {seconds * 1000:7.1f} ms")
    if terminal:
        from bench_app_probe import first_story_markers

        tmux = terminal_first_paint(db, first_story_markers(db))
        if tmux is None:
            print("  real terminal                       (tmux or the annotate app missing: skipped)")
        else:
            print(f"  tmux, empty Textual app (bare)      {tmux['empty'] * 1000:7.0f} ms")
            print(f"  tmux, newsmark annotate             {tmux['app'] * 1000:7.0f} ms  {tmux['rss']:6.1f} MB   "
                  f"({tmux['app'] / tmux['empty']:.2f}x bare)")
            print(f"  tmux, g -> story list rows shown    {tmux['story_list'] * 1000:7.0f} ms")


def keystroke_latency(db: Path, count: int) -> None:
    """Part (b): keystroke-to-commit latency, bare sqlite3 against the store, the writer
    thread and the app."""
    print(f"\n(b) keystroke-to-commit latency, {count:,} label changes (target p99 < 20 ms)")
    from newsmark.schema.store import Store

    with Store.open(db) as store:
        article_ids = store.article_ids("story-0000003") + store.article_ids("story-0000004")
    with tempfile.TemporaryDirectory(dir=db.parent) as tmp:
        bare = percentiles(bare_insert_latency(count, Path(tmp)))
    show_latency("bare sqlite3 INSERT+COMMIT", bare, None)
    show_latency("Store.set_label", percentiles(store_latency(db, article_ids, count, ANNOTATOR + "-store")), bare)
    samples = writer_latency(db, article_ids, count, ANNOTATOR + "-writer")
    if samples is None:
        print("  writer thread (tui/writer.py)      (not there yet: skipped)")
    else:
        show_latency("writer thread (tui/writer.py)", percentiles(samples), bare)
    from bench_app_probe import KeystrokeTracer

    tracer = KeystrokeTracer(str(db))
    app_samples = app_latency(db, count, tracer)
    if app_samples is None:
        print("  annotate app keystroke             (tui/app.py not there yet: skipped)")
    else:
        on_disk = [r["committed"] - r["posted"] for r in tracer.records]
        show_latency("annotate app: key -> on disk", percentiles(on_disk), bare)
        for what, samples in app_samples.items():
            show_latency(f"annotate app: key -> {what}", percentiles(samples), bare)
        show_tail_breakdown(tracer.records, tracer.gc_pauses, tracer.main_cpu)


if __name__ == "__main__":
    main()
