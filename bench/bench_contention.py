"""Benchmark: an analyst's keystrokes while a bulk writer runs on the same database.

A keystroke loop (its own process, as a second analyst's app would be) sends one label
change every --interval seconds (50 ms) through the annotate screen's own path,
`tui.writer.Writer.submit(lambda store: store.set_label(...))`, and records when each
keystroke was pressed (its scheduled time: the loop never waits for a commit, as typing
does not) and when its transaction committed. Meanwhile, in another process:

1. baseline: nothing (the loop runs for --baseline-seconds alone);
2. import: `newsmark import` of one ~--import-mb MB CSV (synthetic articles of 2-4 KB,
   see bench_import_export.make_articles) into the analyst's database;
3. load: `newsmark load-annotations` of a --records-record JSONL file: the export (without
   texts) of a generated database, 2 annotators with 3 labels each on --records / 2
   articles, a claim on a share of them, a share of those claims stale (their offsets
   shifted, so loading re-anchors them by their quote), into the analyst's database that
   holds the same articles.

For each it prints keystroke -> committed p50 / p99 / max (over the keystrokes pressed
while the bulk job ran), how many keystrokes failed, and the bulk job's duration and
rows (records) per second. Target: p99 < 1 s during the import and the load.

--code DIR runs the keystroke loop and the bulk jobs on another source tree (e.g. an
unpacked `git archive` of an older commit), for before/after figures on one machine.

Usage: .venv/bin/python bench/bench_contention.py [--import-mb 200] [--records 100000]
       [--code DIR] [--only baseline|import|load]... [--keep] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from pathlib import Path

import orjson

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(1, str(ROOT))  # the default scheme is read as a resource of the top-level `schema` folder

TARGET_P99_S = 1.0
ANNOTATOR = "alice"
STANCES = ("agree", "disagree", "discuss", "unrelated")


# --- the keystroke loop (run in its own process: --keystroke-loop) ---------------------------


def keystroke_loop(db: Path, stop_file: Path, out: Path, interval: float, articles: int) -> None:
    """Press one label key every `interval` seconds until `stop_file` exists; write
    [[pressed, committed or null, error or null], ...] (monotonic seconds) to `out`."""
    from newsmark.tui.writer import Writer

    writer = Writer(db)
    writer.start().result(timeout=60)
    with closing(sqlite3.connect(db, timeout=60)) as conn:
        ids = [row[0] for row in conn.execute("SELECT id FROM articles ORDER BY seq LIMIT ?", (articles,))]
    results: list[list] = []
    print("ready", flush=True)
    start = time.monotonic()
    k = 0
    while not stop_file.exists():
        pressed = start + k * interval
        delay = pressed - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        article_id = ids[k % len(ids)]
        value = STANCES[(k // len(ids) + k) % len(STANCES)]
        entry: list = [pressed, None, None]
        results.append(entry)

        def done(future, entry=entry) -> None:
            entry[1] = time.monotonic()
            if future.exception() is not None:
                entry[2] = f"{type(future.exception()).__name__}: {future.exception()}"

        writer.submit(lambda store, a=article_id, v=value: store.set_label(a, ANNOTATOR, "stance", v)).add_done_callback(done)
        k += 1
    writer.wait_idle(600)
    writer.stop()
    out.write_text(json.dumps(results))


# --- building the inputs -----------------------------------------------------------------------


def python_for(code: Path | None, folder: Path) -> tuple[dict[str, str], Path]:
    """The environment and working folder that run newsmark from `code` (None: this tree),
    through a `newsmark` package of links made in `folder`."""
    env = dict(os.environ)
    if code is None:
        return env, ROOT
    shim = folder / "shim" / "newsmark"
    shim.mkdir(parents=True)
    (shim / "__init__.py").write_text("")
    for part in ("schema", "tui", "exports", "analysis"):
        (shim / part).symlink_to(code / part)
    env["PYTHONPATH"] = str(shim.parent)
    return env, code


def newsmark_cmd(*args: str) -> list[str]:
    return [sys.executable, "-c", "import sys; from newsmark.tui.cli import main; sys.exit(main())", *args]


def build_import_input(folder: Path, megabytes: int) -> tuple[Path, int]:
    """A CSV of about `megabytes` MB of synthetic articles; returns (path, rows)."""
    from bench_import_export import make_articles, write_inputs

    count = int(megabytes * 1e6 / 3100)
    articles = make_articles(count, stories=5, seed=17)
    path = write_inputs(articles, folder, "csv")
    return path, count


def build_analyst_db(db: Path, articles: int, seed: int = 3) -> None:
    """A database holding `articles` short articles the analyst labels."""
    from newsmark.schema.models import Story
    from newsmark.schema.sanitize import article_id_for, text_sha256
    from newsmark.schema.store import Store

    rng = random.Random(seed)
    with Store.open(db) as store, store.transaction() as conn:
        store.ensure_story(conn, Story(id="desk", title="Desk", proposition="Something happened."))
        rows = []
        for k in range(articles):
            text = f"Desk article {k}. " + " ".join(rng.choice(STANCES) for _ in range(60))
            rows.append((article_id_for(text), "desk", f"Outlet {k % 7}", None, f"Desk {k}", None, None, text,
                         text_sha256(text), "{}", None))
        store.insert_articles(conn, rows)


def build_load_input(folder: Path, records: int, claims_share: float, stale_share: float) -> tuple[Path, Path, int]:
    """An analyst's database of records / 2 articles and a teammate's export (2 annotators,
    no texts) of annotations on them; returns (database, export file, stale claims)."""
    from bench_import_export import add_annotations, article_rows, make_articles

    from newsmark.exports.jsonl import write_jsonl
    from newsmark.schema.store import Store

    articles = make_articles(records // 2, stories=50, seed=23)
    base = folder / "load-base.db"
    with Store.open(base) as store, store.transaction() as conn:
        for story_id in sorted({a["story"] for a in articles}):
            conn.execute("INSERT INTO stories (id, title) VALUES (?, ?)", (story_id, story_id))
        store.insert_articles(conn, article_rows(articles, "generated.csv"))
    del articles
    team = folder / "load-team.db"
    shutil.copy(base, team)
    export = folder / "team.jsonl"
    with Store.open(team) as store:
        add_annotations(store, ["carol", "dave"], claims_share)
        with export.open("wb") as handle:
            write_jsonl(store, handle, text=False)
    # Stale claims: offsets off by a few characters, as after a teammate's re-import of an
    # edited text; loading finds each one again by its quote and context.
    rng = random.Random(5)
    stale = 0
    lines = export.read_bytes().splitlines()
    with export.open("wb") as handle:
        for line in lines:
            record = orjson.loads(line)
            for claim in record["claims"]:
                if rng.random() < stale_share and claim["start"] >= 3:
                    claim["start"] -= 3
                    claim["end"] -= 3
                    stale += 1
            handle.write(orjson.dumps(record) + b"\n")
    (team).unlink()
    return base, export, stale


# --- running a scenario ------------------------------------------------------------------------


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def run_scenario(name: str, db: Path, folder: Path, env: dict[str, str], cwd: Path, bulk: list[str] | None,
                 seconds: float, interval: float) -> dict:
    """Run the keystroke loop on `db` while `bulk` (a command) runs, or for `seconds`."""
    stop = folder / f"{name}.stop"
    out = folder / f"{name}.keys.json"
    stop.unlink(missing_ok=True)
    loop = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), "--keystroke-loop", str(db), str(stop), str(out),
         str(interval)], env=env, cwd=cwd, stdout=subprocess.PIPE, text=True)
    try:
        assert loop.stdout is not None
        line = loop.stdout.readline()
        if line.strip() != "ready":
            raise SystemExit(f"the keystroke loop did not start: {line!r}")
        time.sleep(1.0)  # the loop settles into its rhythm first
        began = time.monotonic()
        output = ""
        code = 0
        if bulk is None:
            time.sleep(seconds)
        else:
            job = subprocess.run(bulk, env=env, cwd=cwd, capture_output=True, text=True)
            output, code = job.stdout, job.returncode
            if code != 0:
                print(f"{name}: exit code {code}: {job.stderr.strip()[-2000:]}", file=sys.stderr)
        ended = time.monotonic()
        stop.touch()
        loop.wait(timeout=600)
    finally:
        if loop.poll() is None:
            loop.kill()
    keys = json.loads(out.read_text())
    during = [k for k in keys if began <= k[0] <= ended]
    latencies = [k[1] - k[0] for k in during if k[1] is not None and k[2] is None]
    failed = [k[2] for k in during if k[2] is not None]
    result = {
        "scenario": name,
        "seconds": round(ended - began, 2),
        "keystrokes": len(during),
        "failed": len(failed),
        "first_failure": failed[0] if failed else None,
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 1),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
        "max_ms": round(max(latencies, default=float("nan")) * 1000, 1),
        "over_1s": sum(1 for value in latencies if value > 1.0),
        "bulk_exit": code,
    }
    if bulk is not None and output.strip():
        try:
            result["report"] = json.loads(output)
        except ValueError:
            result["report"] = output.strip()[-500:]
    return result


def integrity(db: Path) -> str:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--keystroke-loop":
        db, stop, out, interval = sys.argv[2:6]
        keystroke_loop(Path(db), Path(stop), Path(out), float(interval), 1000)
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--import-mb", type=int, default=200, help="size of the imported CSV")
    parser.add_argument("--records", type=int, default=100_000, help="records in the loaded file")
    parser.add_argument("--claims-share", type=float, default=0.2, help="share of articles with a claim")
    parser.add_argument("--stale-share", type=float, default=0.1, help="share of claims whose offsets are stale")
    parser.add_argument("--interval", type=float, default=0.05, help="seconds between keystrokes")
    parser.add_argument("--baseline-seconds", type=float, default=10.0)
    parser.add_argument("--code", type=Path, help="run newsmark from this source tree instead")
    parser.add_argument("--only", action="append", choices=("baseline", "import", "load"))
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--json", action="store_true", help="end with one JSON line of the figures")
    args = parser.parse_args()
    wanted = args.only or ["baseline", "import", "load"]
    folder = Path(tempfile.mkdtemp(prefix="newsmark-bench-contention-"))
    results: list[dict] = []
    try:
        env, cwd = python_for(args.code.resolve() if args.code else None, folder)
        if "baseline" in wanted:
            db = folder / "baseline.db"
            build_analyst_db(db, 1000)
            results.append(run_scenario("baseline", db, folder, env, cwd, None, args.baseline_seconds, args.interval))
        if "import" in wanted:
            started = time.perf_counter()
            source, rows = build_import_input(folder, args.import_mb)
            print(f"import input: {rows:,} rows, {source.stat().st_size / 1e6:,.0f} MB CSV "
                  f"(built in {time.perf_counter() - started:.0f} s)", flush=True)
            db = folder / "import.db"
            build_analyst_db(db, 1000)
            result = run_scenario("import", db, folder, env, cwd,
                                  newsmark_cmd("--db", str(db), "import", str(source), "--story", "bulk", "--json"),
                                  0, args.interval)
            result["rows"] = rows
            result["rows_per_s"] = round(rows / result["seconds"])
            result["integrity"] = integrity(db)
            with closing(sqlite3.connect(db, timeout=60)) as conn:
                result["articles_after"] = conn.execute("SELECT count(*) FROM articles").fetchone()[0]
            results.append(result)
            source.unlink()
        if "load" in wanted:
            started = time.perf_counter()
            db, export, stale = build_load_input(folder, args.records, args.claims_share, args.stale_share)
            print(f"load input: {args.records:,} records, {export.stat().st_size / 1e6:,.0f} MB JSONL, "
                  f"{stale:,} stale claims (built in {time.perf_counter() - started:.0f} s)", flush=True)
            result = run_scenario("load", db, folder, env, cwd,
                                  newsmark_cmd("--db", str(db), "load-annotations", str(export), "--json"),
                                  0, args.interval)
            result["rows"] = args.records
            result["rows_per_s"] = round(args.records / result["seconds"])
            result["stale_claims"] = stale
            result["integrity"] = integrity(db)
            results.append(result)
    finally:
        if args.keep:
            print(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
    code = f" (code: {args.code})" if args.code else ""
    print(f"\nkeystroke -> committed, one keystroke every {args.interval * 1000:.0f} ms{code}")
    print(f"{'scenario':10} {'keys':>6} {'failed':>6} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'>1 s':>5} "
          f"{'bulk s':>7} {'rows/s':>8}")
    for r in results:
        print(f"{r['scenario']:10} {r['keystrokes']:>6} {r['failed']:>6} {r['p50_ms']:>8} {r['p99_ms']:>8} "
              f"{r['max_ms']:>8} {r['over_1s']:>5} {r['seconds']:>7} {r.get('rows_per_s', ''):>8}")
        if r.get("first_failure"):
            print(f"  first failure: {r['first_failure']}")
    bulk = [r for r in results if r["scenario"] != "baseline"]
    passed = all(r["p99_ms"] < TARGET_P99_S * 1000 and r["failed"] == 0 and r["bulk_exit"] == 0 for r in bulk)
    print(f"target: p99 < {TARGET_P99_S * 1000:.0f} ms during each bulk job, no failed keystroke: "
          f"{'PASS' if passed else 'FAIL'}")
    if args.json:
        print(json.dumps({"results": results, "target_p99_ms": TARGET_P99_S * 1000, "pass": passed}))


if __name__ == "__main__":
    main()
