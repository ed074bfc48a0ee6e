"""Crash safety: `kill -9` the real app and a real import, then look at the database.

1. The annotate app in tmux (`newsmark --db DB annotate --annotator e2e`): label several
   articles, wait until the screen shows every label and its pane's `✓ saved`, then
   SIGKILL the process at once: every label the screen showed as saved is in the
   database (read by a fresh connection after the kill, never before it).
2. `newsmark import` of 50,000 rows, SIGKILLed part-way (once some rows are committed,
   or, for one big file, while it is busy reading and storing it): the database is
   whole (`PRAGMA integrity_check`, opens, `status` works) and re-running the same
   import completes it (imported + duplicates = rows, and every row is there once).

Every wait polls the pane, the database or the process until a deadline (no fixed
sleeps). Skipped where tmux is missing (the app test only).
"""

from __future__ import annotations

import csv
import os
import re
import signal
import sqlite3
import subprocess
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.e2e.driving import NEWSMARK, ROOT, TIMEOUT, children_of, foreground_after, needs_tmux, wait_until

ANNOTATOR = "e2e"
ROWS = 50_000

pytestmark = [
    pytest.mark.e2e,
]




def read_only(db: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)


def integrity(db: Path) -> str:
    conn = sqlite3.connect(db, timeout=10)  # read-write: lets SQLite recover the WAL as a restart would
    try:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()


def run_newsmark(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(NEWSMARK), "--db", str(db), *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=300)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    state = Path(f"/proc/{pid}/stat")
    if state.exists():
        try:
            return state.read_text().split(")")[-1].split()[0] != "Z"  # a zombie is dead
        except OSError:
            return False
    return True


# --- 1. the annotate app --------------------------------------------------------------------


class Pane:
    """A private tmux server running the app itself (no shell between), so the pane's
    process is newsmark and SIGKILL hits it directly."""

    def __init__(self, workdir: Path, command: list[str]) -> None:
        self.socket = str(workdir / "tmux.sock")
        self.config = workdir / "tmux.conf"
        self.config.write_text("set -g remain-on-exit on\n")
        self.env = {**os.environ, "TERM": "xterm-256color"}
        self.env.pop("TMUX", None)
        subprocess.run(["tmux", "-S", self.socket, "-f", str(self.config), "new-session", "-d", "-x", "160",
                        "-y", "48", "--", *command], check=True, env=self.env, cwd=ROOT, timeout=TIMEOUT)

    def tmux(self, *args: str) -> str:
        return subprocess.run(["tmux", "-S", self.socket, *args], capture_output=True, text=True, env=self.env,
                              timeout=TIMEOUT).stdout

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p")

    def keys(self, *keys: str) -> None:
        for key in keys:
            self.tmux("send-keys", key)

    def wait_for(self, *texts: str, absent: tuple[str, ...] = ()) -> str:
        def shown() -> str | None:
            screen = self.screen()
            ok = all(t in screen for t in texts) and not any(t in screen for t in absent)
            return screen if ok else None

        return wait_until(shown, f"{texts} on screen (and not {absent})", context=self.screen)  # type: ignore[return-value]

    def pid(self) -> int:
        return int(self.tmux("display-message", "-p", "#{pane_pid}").strip())

    def focus_colours(self) -> list[str]:
        """The foreground colour in effect at each pane's top-left corner (the focused
        pane's border is drawn in another colour)."""
        for line in self.tmux("capture-pane", "-p", "-e").splitlines():
            if "╭" not in line:
                continue
            colours: list[str] = []
            foreground = ""
            for params, char in re.findall(r"\x1b\[([0-9;]*)m|(.)", line):
                if char == "╭":
                    colours.append(foreground)
                elif not char:
                    foreground = foreground_after(params, foreground)
            return colours
        return []

    def stop(self) -> None:
        self.tmux("kill-server")




def db_labels(db: Path) -> dict[tuple[str, str], str]:
    conn = read_only(db)
    try:
        rows = conn.execute("SELECT article_id, field, value FROM labels WHERE annotator = ?", (ANNOTATOR,)).fetchall()
    finally:
        conn.close()
    return {(aid, fld): value for aid, fld, value in rows}


def saved_panes(screen: str) -> int:
    return screen.count("✓ saved")


@needs_tmux
def test_kill_9_after_labels_shown_as_saved_loses_none(tmp_path: Path) -> None:
    db = tmp_path / "crash.db"
    done = run_newsmark(db, "import", "seeds")
    assert done.returncode == 0, done.stderr
    conn = read_only(db)
    ids = [row[0] for row in conn.execute("SELECT id FROM articles ORDER BY seq")]
    conn.close()

    pane = Pane(tmp_path, [str(NEWSMARK), "--db", str(db), "annotate", "--annotator", ANNOTATOR])
    try:
        pane.wait_for("Proposition:", "stance –")
        # The panes' corners differ once the first one is focused.
        colours = wait_until(lambda: (c := pane.focus_colours()) and len(c) >= 2 and c[0] != c[1] and c,
                             "the first pane focused", context=pane.screen)
        # A burst of three labels on the first article (typed without waiting).
        pane.keys("a", "B", "3")
        pane.wait_for("stance agree", "reliability B usually reliable", "credibility 3", absent=("saving",))
        pane.keys("Tab")
        wait_until(lambda: pane.focus_colours()[:2] == [colours[1], colours[0]], "the second pane focused",
                   context=pane.screen)
        pane.keys("d", "E", "5")
        pane.wait_for("stance disagree", "reliability E unreliable", "credibility 5", absent=("saving",))
        # The second pane's next article: one more label, and kill right after "saved".
        pane.keys("]")
        pane.wait_for("stance –", absent=("saving",))
        pane.keys("x")
        pane.wait_for("stance unrelated", absent=("saving",))
        # Both panes say saved (waited for: on a loaded machine a pane may be between a
        # re-read and its next paint when the screen is captured).
        wait_until(lambda: saved_panes(pane.screen()) >= 2, "both panes saved", context=pane.screen)
        pid = pane.pid()
        os.kill(pid, signal.SIGKILL)
        wait_until(lambda: not alive(pid), "the app to die")
    finally:
        pane.stop()

    # Only now, after the kill, read the database.
    assert integrity(db) == "ok"
    found = db_labels(db)
    assert {key: found.get(key) for key in
            [(ids[0], "stance"), (ids[0], "reliability"), (ids[0], "credibility"),
             (ids[1], "stance"), (ids[1], "reliability"), (ids[1], "credibility")]} == {
        (ids[0], "stance"): "agree", (ids[0], "reliability"): "B", (ids[0], "credibility"): "3",
        (ids[1], "stance"): "disagree", (ids[1], "reliability"): "E", (ids[1], "credibility"): "5",
    }
    third = [aid for (aid, fld), value in found.items() if fld == "stance" and value == "unrelated"]
    assert len(third) == 1 and third[0] not in ids[:2], found
    assert len(found) == 7, found


# --- 2. a large import --------------------------------------------------------------------


def write_rows(path: Path, start: int, count: int) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["title", "text", "source", "published"])
        for k in range(start, start + count):
            writer.writerow([f"Row {k}", f"Row {k} of the crash test. " + "Words to fill the text. " * 40,
                             f"Outlet {k % 7}", "2025-08-01"])


def article_count(db: Path) -> int:
    try:
        conn = read_only(db)
    except sqlite3.Error:
        return 0
    try:
        return conn.execute("SELECT count(*) FROM articles").fetchone()[0]
    except sqlite3.Error:
        return 0  # not created yet
    finally:
        conn.close()


def check_whole_and_complete(db: Path, paths: list[Path]) -> None:
    assert integrity(db) == "ok"
    status = run_newsmark(db, "status", "--json")
    assert status.returncode == 0, status.stderr
    before = article_count(db)
    again = run_newsmark(db, "import", *map(str, paths), "--story", "crash", "--json")
    assert again.returncode == 0, again.stderr
    import json

    report = json.loads(again.stdout)
    assert report["imported"] + report["duplicates"] == ROWS
    assert report["duplicates"] == before
    assert article_count(db) == ROWS
    conn = read_only(db)
    try:
        titles = Counter(row[0] for row in conn.execute("SELECT title FROM articles"))
    finally:
        conn.close()
    assert len(titles) == ROWS and set(titles.values()) == {1}
    assert integrity(db) == "ok"


def test_kill_9_during_an_import_of_many_files(tmp_path: Path) -> None:
    """Ten files of 5,000 rows: killed once some are committed, the committed files are
    whole and the re-run adds the rest."""
    folder = tmp_path / "rows"
    folder.mkdir()
    paths = []
    for part in range(10):
        paths.append(folder / f"part{part:02}.csv")
        write_rows(paths[-1], part * (ROWS // 10), ROWS // 10)
    db = tmp_path / "import.db"
    assert run_newsmark(db, "init").returncode == 0
    process = subprocess.Popen([str(NEWSMARK), "--db", str(db), "import", *map(str, paths), "--story", "crash"],
                               cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: article_count(db) > 0 or process.poll() is not None, "the first rows committed", 120)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=TIMEOUT)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == -signal.SIGKILL, "the import finished before it could be killed"
    committed = article_count(db)
    assert 0 < committed < ROWS
    assert committed % (ROWS // 10) == 0, f"{committed} rows: a file half stored"  # each file all or nothing
    check_whole_and_complete(db, paths)


def test_kill_9_during_an_import_of_one_big_file(tmp_path: Path) -> None:
    """One CSV of 50,000 rows (read by a forked reader, staged out of the write lock and
    published in one transaction): killed while busy with it, nothing of it is stored,
    the reader exits by itself, the database is whole, and the re-run imports every row."""
    path = tmp_path / "big.csv"
    write_rows(path, 0, ROWS)
    db = tmp_path / "import.db"
    assert run_newsmark(db, "init").returncode == 0
    process = subprocess.Popen([str(NEWSMARK), "--db", str(db), "import", str(path), "--story", "crash"],
                               cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    children: list[int] = []
    try:
        children = wait_until(lambda: children_of(process.pid), "the import's reader process", 120)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=TIMEOUT)
        assert process.returncode == -signal.SIGKILL, "the import finished before it could be killed"
        wait_until(lambda: not any(alive(child) for child in children), "the import's reader to exit", 3)
    finally:
        if process.poll() is None:
            process.kill()
        for child in children:  # ours to clean up, whatever the verdict
            if alive(child):
                os.kill(child, signal.SIGKILL)
    assert article_count(db) in (0, ROWS)
    check_whole_and_complete(db, [path])


