"""`make bench`: run every benchmark in bench/ and print one summary table.

Each script runs in its own process (one after another, so they do not compete for the
machine), its output shown as it comes and kept in bench/out/<script>.log. The figures
are read from the JSON line the script prints with `--json` (bench_tui.py: from its text
output). The table: measure, newsmark's figure, the bare baseline's figure from the same
run, their ratio, the target, and PASS/FAIL.

The 1,000,000-article database for bench_tui.py is built once by make_big_db.py and
cached under bench/out/.

Usage: .venv/bin/python bench/run_all.py [--quick] [--only NAME]...
    --quick  small sizes (a smoke run of the runner; its figures are not the targets')
    --only pg  the store on PostgreSQL (bench_pg.py): opt-in, it needs a server (tests/pg_server.py)
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
OUT = BENCH / "out"


@dataclass
class Row:
    """One line of the summary table."""

    measure: str
    newsmark: str
    baseline: str
    ratio: str
    target: str
    verdict: str  # PASS, FAIL or "" (for information)


# name -> (script, arguments for the full run, arguments for --quick)
SCRIPTS: dict[str, tuple[str, list[str], list[str]]] = {
    "import_export": ("bench_import_export.py", ["--json"], ["--articles", "5000", "--repeat", "1", "--json"]),
    "tui": ("bench_tui.py", [], ["--articles", "20000", "--keystrokes", "100", "--no-terminal"]),
    "agreement": ("bench_agreement.py", ["--json"], ["--articles", "5000", "--json"]),
    "align": ("bench_align.py", ["--json"], ["--json"]),
    "grouping": ("bench_grouping.py", ["--json"], ["5000", "--json"]),
    "import_memory": ("bench_import_memory.py", ["--json"], ["--size-mb", "64", "--field-mb", "20", "--json"]),
    "overview": ("bench_overview.py", ["--json"], ["--articles", "1000", "--json"]),
    "paraphrase": ("bench_paraphrase.py", ["--json"], ["--json"]),
    "live": ("bench_live.py", ["--json"], ["--changes", "20", "--articles", "2000", "--json"]),
    "fnc1": ("bench_fnc1.py", ["--json"], ["--json"]),
    "story_list": ("bench_story_list.py", ["--articles", "1000000", "--json"],
                   ["--articles", "20000", "--repeat", "3", "--json"]),
    "keystrokes": ("bench_keystrokes.py", ["--json"], ["--repeat", "1", "--json"]),
    "contention": ("bench_contention.py", ["--json"],
                   ["--import-mb", "20", "--records", "4000", "--baseline-seconds", "3", "--json"]),
    "pg": ("bench_pg.py", ["--json"], ["--articles", "5000", "--labels", "500", "--per-writer", "100", "--repeat", "1",
                                       "--json"]),
}
# Run only when named with --only: they need a PostgreSQL server (tests/pg_server.py).
OPT_IN = {"pg"}


def run(name: str, script: str, args: list[str]) -> tuple[int, str]:
    """Run one script, echoing and logging its output; return (exit code, stdout)."""
    OUT.mkdir(exist_ok=True)
    log = OUT / f"{Path(script).stem}.log"
    print(f"\n=== {script} {' '.join(args)}", flush=True)
    started = time.perf_counter()
    lines: list[str] = []
    with log.open("w", encoding="utf-8") as handle, subprocess.Popen(
        [sys.executable, str(BENCH / script), *args], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, bufsize=1,
    ) as process:
        assert process.stdout is not None
        for line in process.stdout:
            sys.stdout.write(line)
            sys.stdout.flush()
            handle.write(line)
            lines.append(line)
        code = process.wait()
    print(f"=== {script}: exit {code} after {time.perf_counter() - started:.0f} s (log: {log.relative_to(ROOT)})",
          flush=True)
    return code, "".join(lines)


def last_json(output: str) -> dict | None:
    """The last line of the output that is a JSON object."""
    for line in reversed(output.splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                return json.loads(line)
            except ValueError:
                continue
    return None


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def seconds(value: float) -> str:
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


def rows_import_export(data: dict) -> list[Row]:
    target = data["target_ratio"]
    return [
        Row(f"import rows/s ({data['articles']:,} CSV rows)", f"{data['import_rows_per_s']:,.0f}", f"{data['import_bare_rows_per_s']:,.0f}",
            f"{data['import_ratio']:.3f}", f">= {target}", verdict(data["import_ratio"] >= target)),
        Row(f"export records/s ({data['records']:,} JSONL records)", f"{data['export_records_per_s']:,.0f}",
            f"{data['export_bare_records_per_s']:,.0f}", f"{data['export_ratio']:.3f}", f">= {target}",
            verdict(data["export_ratio"] >= target)),
    ]


def rows_agreement(data: dict) -> list[Row]:
    return [Row(f"agreement {data['articles']:,} x {data['annotators']} annotators", seconds(data["agreement_s"]),
                seconds(data["baseline_s"]), f"{data['agreement_s'] / data['baseline_s']:.1f}x",
                f"< {data['target_s']:.0f} s", verdict(data["pass"]))]


def rows_align(data: dict) -> list[Row]:
    return [Row("align two 20k-char articles", seconds(data["align_s"]), seconds(data["baseline_s"]),
                f"{data['align_s'] / data['baseline_s']:.1f}x", f"< {data['target_s'] * 1000:.0f} ms",
                verdict(data["pass"]))]


def rows_grouping(data: dict) -> list[Row]:
    return [Row(f"group {data['articles']:,} articles into stories", seconds(data["grouping_s"]),
                seconds(data["baseline_s"]), f"{data['grouping_s'] / data['baseline_s']:.1f}x",
                f"< {data['target_s']} s", verdict(data["pass"]))]


def rows_fnc1(data: dict) -> list[Row]:
    return [Row("load FNC-1's test split (25,413 pairs) as gold", seconds(data["load_seconds"]),
                seconds(data["bare_seconds"]), f"{data['load_ratio']:.2f}", f"< {data['target_seconds']:.0f} s",
                verdict(data["ok"]))]


def rows_story_list(data: dict) -> list[Row]:
    """The story list on a big database: the slowest search and the slowest sort."""
    target = data["target_ms"]
    baseline = f"{data['baseline_ms']:.0f} ms"
    return [
        Row(f"story list search, slowest of {len(data['search_ms'])} ({data['articles']:,} articles)",
            f"{data['worst_search_ms']:.0f} ms", baseline, f"{data['worst_search_ms'] / data['baseline_ms']:.1f}x",
            f"< {target} ms", verdict(data["search_pass"])),
        Row(f"story list sort, slowest of {len(data['sort_ms'])} ({data['articles']:,} articles)",
            f"{data['worst_sort_ms']:.0f} ms", baseline, f"{data['worst_sort_ms'] / data['baseline_ms']:.1f}x",
            f"< {target} ms", verdict(data["sort_pass"])),
    ]


def rows_keystrokes(data: dict) -> list[Row]:
    """Keys and seconds to label the five seeds, after issue 13's keys against before."""
    before, after = data["before"], data["after"]
    return [
        Row("keystrokes to label the 5 seeds", str(after["keystrokes"]), str(before["keystrokes"]),
            f"{after['keystrokes'] / before['keystrokes']:.2f}", "(info)", ""),
        Row("seconds to label the 5 seeds", seconds(after["seconds"]), seconds(before["seconds"]),
            f"{after['seconds'] / before['seconds']:.2f}", "(info)", ""),
    ]


_PAINT = re.compile(r"^\s*(headless|tmux), (.+?)\s{2,}(\d+) ms(?:\s+([\d.]+) MB)?", re.M)
_LATENCY = re.compile(r"^\s*(.+?)\s+p50\s+([\d.]+)\s+p95\s+([\d.]+)\s+p99\s+([\d.]+)", re.M)
_DATABASE = re.compile(r"^database: .*\(([\d,]+) articles", re.M)


def rows_tui(output: str) -> list[Row]:
    """bench_tui.py's text output: first paint (ms, MB) and p99 keystroke latencies."""
    rows: list[Row] = []
    found = _DATABASE.search(output)
    articles = found.group(1) if found else "?"
    paints = {(where, what.strip()): (float(ms) / 1000, float(mb) if mb else None)
              for where, what, ms, mb in _PAINT.findall(output)}
    for where in ("headless", "tmux"):
        bare = paints.get((where, "empty Textual app (bare)"))
        for what in ("annotate app", "newsmark annotate", "story list"):
            figure = paints.get((where, what))
            if figure is None:
                continue
            paint_s, mb = figure
            ratio = f"{paint_s / bare[0]:.2f}x" if bare else ""
            rows.append(Row(f"first paint, {where}, {what} ({articles} articles)", seconds(paint_s),
                            seconds(bare[0]) if bare else "", ratio, "< 1 s", verdict(paint_s < 1)))
            if mb is not None:
                rows.append(Row(f"memory, {where}, {what}", f"{mb:.0f} MB",
                                f"{bare[1]:.0f} MB" if bare and bare[1] else "", "", "< 300 MB", verdict(mb < 300)))
    story_list = paints.get(("tmux", "g -> story list rows shown"))
    if story_list is not None:
        rows.append(Row("tmux, g -> story list rows shown", seconds(story_list[0]), "", "", "(info)", ""))
    latencies = {name.strip(): float(p99) for name, _p50, _p95, p99 in _LATENCY.findall(output)}
    bare_p99 = latencies.pop("bare sqlite3 INSERT+COMMIT", None)
    for name, p99 in latencies.items():
        rows.append(Row(f"keystroke p99, {name}", f"{p99:.2f} ms", f"{bare_p99:.2f} ms" if bare_p99 else "",
                        f"{p99 / bare_p99:.1f}x" if bare_p99 else "", "< 20 ms", verdict(p99 < 20)))
    return rows


def rows_import_memory(data: dict) -> list[Row]:
    """Peak RSS of the import process plus its reader child, per generated file."""
    rows = []
    for item in data["files"]:
        rows.append(Row(f"import peak RSS, {item['file_mb']:,.0f} MB {item['file']}",
                        f"{item['sum_mb']:.0f} MB", f"import {item['import_peak_mb']:.0f} + reader "
                        f"{item['reader_peak_mb']:.0f} MB", "",
                        f"< {data['target_mb']} MB" if item["target"] else "(info)",
                        verdict(item["sum_mb"] < data["target_mb"]) if item["target"] else ""))
    return rows


def rows_overview(data: dict) -> list[Row]:
    """A big story's overview, claim matches and quitting while they compute."""
    n = f"{data['articles']:,}-article story"
    return [
        Row(f"overview first result, {n}", f"{data['first_result_s'] * 1000:,.0f} ms", "", "", "< 3000 ms",
            verdict(data["first_result_s"] < 3)),
        Row(f"claim matches, first claim, {n}", f"{data['suggest_cold_s'] * 1000:,.0f} ms", "", "", "(info)", ""),
        Row(f"suggestions on screen, first claim, {n}", f"{data['app_suggest_cold_s'] * 1000:,.0f} ms", "", "",
            "< 3000 ms", verdict(data["app_suggest_cold_s"] < 3)),
        Row(f"suggestions on screen, next claim, {n}", f"{data['app_suggest_warm_s'] * 1000:,.0f} ms", "", "",
            "< 3000 ms", verdict(data["app_suggest_warm_s"] < 3)),
        Row(f"threads stopped after q, {n}", f"{data['quit_s'] * 1000:,.0f} ms", "", "", "< 1000 ms",
            verdict(data["quit_s"] < 1)),
    ]


def rows_paraphrase(data: dict) -> list[Row]:
    """recall@8 of the known paraphrase pairs, now against characters alone (before)."""
    rows = []
    for scope in ("article", "story"):
        now, before = data[f"recall_{scope}_now"], data[f"recall_{scope}_before"]
        rows.append(Row(f"paraphrase recall@8 in the partner's {scope} ({data['pairs']} pairs)", f"{now:.3f}",
                        f"{before:.3f}", f"{now / before:.2f}x" if before else "", "> before",
                        verdict(now > before)))
    return rows


def rows_live(data: dict) -> list[Row]:
    """A teammate's commit reaching an open app, against bare data_version polling."""
    return [Row(f"teammate's change reported to the app, {data['changes']} commits (p99; polling every {data['poll_seconds']} s)",
                f"{data['watcher_p99_s'] * 1000:,.0f} ms", f"{data['bare_p99_s'] * 1000:,.0f} ms",
                f"{data['watcher_p99_s'] / data['bare_p99_s']:.2f}x" if data["bare_p99_s"] else "",
                f"< {data['target_seconds'] * 1000:,.0f} ms", verdict(data["watcher_max_s"] < data["target_seconds"]))]


def rows_contention(data: dict) -> list[Row]:
    """Keystroke -> committed p99 during each bulk job, against the keystrokes alone."""
    results = {r["scenario"]: r for r in data["results"]}
    alone = results["baseline"]["p99_ms"]
    target = data["target_p99_ms"]
    return [Row(f"keystroke p99 during {name} ({r['rows']:,} rows, {r['rows_per_s']:,} rows/s)",
                f"{r['p99_ms']:,.0f} ms", f"{alone:,.0f} ms", f"{r['p99_ms'] / alone:.0f}x", f"< {target:.0f} ms",
                verdict(r["p99_ms"] < target and r["failed"] == 0 and r["bulk_exit"] == 0))
            for name, r in results.items() if name != "baseline"]


def rows_pg(data: dict) -> list[Row]:
    """The store on PostgreSQL (SQLite's figures beside it, for information)."""
    rows = []
    n = f"{data['articles']:,} articles"
    for engine, name in (("postgresql", "PostgreSQL"), ("sqlite", "SQLite")):
        figures = data[engine]
        pg = engine == "postgresql"
        keys = figures["keystroke"]
        rows.append(Row(f"{name}: set_label p99 ({data['labels']:,} calls, {n})", f"{keys['newsmark']['p99_ms']:.2f} ms",
                        f"{keys['bare']['p99_ms']:.2f} ms", f"{keys['p99_ratio']:.1f}x", "< 20 ms" if pg else "(info)",
                        verdict(keys["newsmark"]["p99_ms"] < 20) if pg else ""))
        imp = figures["import"]
        rows.append(Row(f"{name}: import rows/s ({n}, CSV)", f"{imp['rows_per_s']:,}", f"{imp['bare_rows_per_s']:,}",
                        f"{imp['ratio']:.3f}", ">= 0.3" if pg else "(info)", verdict(imp["ratio"] >= 0.3) if pg else ""))
        exp = figures["export"]
        rows.append(Row(f"{name}: export records/s ({exp['records']:,} JSONL records)", f"{exp['records_per_s']:,}",
                        f"{exp['bare_records_per_s']:,}", f"{exp['ratio']:.3f}", ">= 0.5" if pg else "(info)",
                        verdict(exp["ratio"] >= 0.5) if pg else ""))
        w = figures["writers"]
        rows.append(Row(f"{name}: {w['writers']} writers x {w['per_writer']} set_label, events found/expected",
                        f"{w['found_events']:,} ({w['writes_per_s']:,} writes/s)", f"{w['expected_events']:,}", "",
                        "nothing lost", verdict(w["nothing_lost"])))
    return rows


PARSERS = {
    "import_export": rows_import_export,
    "agreement": rows_agreement,
    "align": rows_align,
    "grouping": rows_grouping,
    "fnc1": rows_fnc1,
    "import_memory": rows_import_memory,
    "contention": rows_contention,
    "story_list": rows_story_list,
    "keystrokes": rows_keystrokes,
    "overview": rows_overview,
    "paraphrase": rows_paraphrase,
    "live": rows_live,
    "pg": rows_pg,
}


def machine() -> str:
    """Cores, memory and CPU model, for the table's caption."""
    import os

    memory = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f", {int(line.split()[1]) / 1024 / 1024:.0f} GB RAM"
    except OSError:
        pass
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = ", " + line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores{memory}{model}; Python {platform.python_version()}, SQLite {sqlite_version()}"


def sqlite_version() -> str:
    import sqlite3

    return sqlite3.sqlite_version


def table(rows: list[Row]) -> str:
    """The rows as a Markdown table (readable in a terminal, pasteable into README)."""
    header = Row("measure", "newsmark", "baseline", "ratio", "target", "verdict")
    cells = [header] + rows
    widths = [max(len(getattr(row, col)) for row in cells) for col in Row.__dataclass_fields__]

    def line(row: Row) -> str:
        return "| " + " | ".join(getattr(row, col).ljust(w) for col, w in zip(Row.__dataclass_fields__, widths)) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(header), rule, *(line(row) for row in rows)])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: check the runner, not the targets")
    parser.add_argument("--only", action="append", choices=sorted(SCRIPTS), help="run only these (repeatable)")
    args = parser.parse_args()
    rows: list[Row] = []
    failures: list[str] = []
    started = time.perf_counter()
    for name, (script, full_args, quick_args) in SCRIPTS.items():
        if (args.only and name not in args.only) or (not args.only and name in OPT_IN):
            continue
        code, output = run(name, script, quick_args if args.quick else full_args)
        try:
            found = rows_tui(output) if name == "tui" else PARSERS[name](last_json(output) or {})
        except (KeyError, TypeError, ZeroDivisionError) as exc:
            found = []
            failures.append(f"{script}: could not read its figures ({type(exc).__name__}: {exc})")
        if code != 0:
            failures.append(f"{script}: exit code {code} (see bench/out/{Path(script).stem}.log)")
        elif not found:
            failures.append(f"{script}: printed no figures")
        rows += found
    summary = table(rows)
    caption = f"Machine: {machine()}. Total {time.perf_counter() - started:.0f} s."
    if args.quick:
        caption += " (--quick: small sizes, not the targets' sizes)"
    print("\n" + summary + "\n\n" + caption)
    for failure in failures:
        print(f"problem: {failure}")
    (OUT / "summary.md").write_text(summary + "\n\n" + caption + "\n", encoding="utf-8")
    failed = [row for row in rows if row.verdict == "FAIL"]
    return 1 if failures or failed else 0


if __name__ == "__main__":
    sys.exit(main())
