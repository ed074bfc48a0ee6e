"""End to end: the real `newsmark` in a real terminal (tmux), driven by keys.

The commands are the README's: `.venv/bin/newsmark --db DB import seeds`, then the app
(`newsmark --db DB annotate --annotator NAME`). Keys go in with `tmux send-keys`; what the
screen shows comes back with `tmux capture-pane -p`; every wait polls the pane or the
database until a deadline (no fixed sleeps). A hostile article (markup, ESC and OSC
sequences in its title and text) must show literally and leave the terminal title alone.
Skipped where tmux is not installed.
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.e2e.driving import NEWSMARK, ROOT, TIMEOUT, foreground_after, needs_tmux, wait_until

ANNOTATOR = "e2e"
HOSTILE_STORY = "zz-hostile"

pytestmark = [
    pytest.mark.e2e,
    needs_tmux,
]

# First line (the title of a .txt) and body, with markup, ESC (CSI colour) and OSC (set
# the terminal title) sequences. Import strips the escape sequences; markup must stay text.
HOSTILE = (
    "Hostile [@click=app.quit]click me[/] \x1b]0;PWNED\x07 title [/\n"
    "Body with [bold]no bold[/bold] and \x1b[31mRED\x1b[0m and [@click=app.quit]quit[/] and [/ end.\n"
)






class Terminal:
    """A private tmux server (own socket, no user config) running one command."""

    def __init__(self, workdir: Path, command: list[str]) -> None:
        self.socket = str(workdir / "tmux.sock")
        self.config = workdir / "tmux.conf"
        # Keep the pane after the app exits, for the failure messages.
        self.config.write_text("set -g remain-on-exit on\n")
        self.env = {**os.environ, "TERM": "xterm-256color"}
        self.env.pop("TMUX", None)
        # The command's exit status goes to a file: tmux 3.3 sometimes marks a pane dead
        # without ever filling in #{pane_dead_status}.
        self.status_file = workdir / "exit-status"
        self.command = ["sh", "-c", '"$@"; echo $? > "$0"', str(self.status_file), *command]

    def tmux(self, *args: str) -> str:
        done = subprocess.run(["tmux", "-S", self.socket, *args], capture_output=True, text=True, env=self.env,
                              timeout=TIMEOUT)
        return done.stdout

    def start(self) -> None:
        subprocess.run(
            ["tmux", "-S", self.socket, "-f", str(self.config), "new-session", "-d", "-x", "160", "-y", "48",
             "--", *self.command],
            check=True, env=self.env, cwd=ROOT, timeout=TIMEOUT,
        )

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p")

    def show(self, key: str, what: str | None = None) -> None:
        self.tmux("send-keys", key)
        if what is not None:
            self.wait_for(what)

    def wait_for(self, text: str) -> str:
        def shown() -> str | None:
            screen = self.screen()
            return screen if text in screen else None

        try:
            return wait_until(shown, f"{text!r} on screen")
        except AssertionError:
            raise AssertionError(f"{text!r} never appeared; the pane shows:\n{self.screen()}") from None

    def corner_colours(self) -> list[str]:
        """The foreground colour at each pane's top-left corner (the focused pane's border
        is drawn in another colour), from the pane's escape sequences."""
        for line in self.tmux("capture-pane", "-p", "-e").splitlines():
            if "╭" not in line:
                continue
            colours: list[str] = []
            foreground = ""
            for token in re.findall(r"\x1b\[([0-9;]*)m|(.)", line):
                params, char = token
                if char == "╭":
                    colours.append(foreground)
                elif not char:
                    foreground = foreground_after(params, foreground)
            return colours
        return []

    def value(self, fmt: str) -> str:
        return self.tmux("display-message", "-p", fmt).strip()

    def exit_status(self) -> str | None:
        """The command's exit status once it has exited, else None."""
        try:
            return self.status_file.read_text().strip() or None
        except FileNotFoundError:
            return None

    def stop(self) -> None:
        self.tmux("kill-server")


def newsmark(db: Path | str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the README's command line, failing loudly."""
    done = subprocess.run([str(NEWSMARK), "--db", str(db), *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return done


def labels(db: Path) -> dict[tuple[str, str], str]:
    """{(article title, field): value} of the e2e annotator, read from a fresh connection."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        rows = conn.execute(
            "SELECT a.title, l.field, l.value FROM labels l JOIN articles a ON a.id = l.article_id "
            "WHERE l.annotator = ?", (ANNOTATOR,),
        ).fetchall()
    finally:
        conn.close()
    return {(title, field): value for title, field, value in rows}


def article_titles(db: Path, story: str) -> list[str]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return [r[0] for r in conn.execute(
            "SELECT a.title FROM story_articles m JOIN articles a ON a.id = m.article_id WHERE m.story_id = ? "
            "ORDER BY a.seq", (story,))]
    finally:
        conn.close()


@pytest.fixture
def app_db(tmp_path: Path) -> Path:
    """The seeds and one hostile article, imported the README's way."""
    db = tmp_path / "e2e.db"
    out = newsmark(db, "import", "seeds")
    assert "Imported 5 articles" in out.stdout
    hostile = tmp_path / "hostile.txt"
    hostile.write_bytes(HOSTILE.encode("utf-8"))
    newsmark(db, "import", str(hostile), "--story", HOSTILE_STORY)
    return db


@pytest.fixture
def terminals(tmp_path: Path) -> Iterator[list[Terminal]]:
    started: list[Terminal] = []
    yield started
    for terminal in started:
        terminal.stop()


def open_app(tmp_path: Path, db: Path, terminals: list[Terminal], name: str) -> Terminal:
    workdir = tmp_path / name
    workdir.mkdir()
    terminal = Terminal(workdir, [str(NEWSMARK), "--db", str(db), "annotate", "--annotator", ANNOTATOR])
    terminals.append(terminal)
    terminal.start()
    return terminal


def quit_app(terminal: Terminal) -> None:
    terminal.show("q")
    status = wait_until(terminal.exit_status, "the app to exit after q", context=terminal.screen)
    assert status == "0", terminal.screen()


def committed(terminal: Terminal, db: Path, condition: Callable[[], object], what: str) -> None:
    """Wait until the database shows a change (failing with the labels and the screen)."""
    wait_until(condition, f"{what} committed", context=lambda: f"labels {labels(db)}\n{terminal.screen()}")


def test_label_in_tmux_hostile_text_and_restart(tmp_path: Path, app_db: Path, terminals: list[Terminal]) -> None:
    seeds = article_titles(app_db, "us-taliban-isisk")
    terminal = open_app(tmp_path, app_db, terminals, "first")
    title_before = terminal.value("#{pane_title}")
    terminal.wait_for("Proposition:")
    terminal.wait_for("stance –")
    # The left pane has focus at start: its border colour is the focus colour.
    def first_highlighted() -> list[str] | None:
        found = terminal.corner_colours()
        return found if len(found) >= 2 and found[0] != found[1] else None

    colours = wait_until(first_highlighted, "two panes, the first highlighted", context=terminal.screen)
    focus_colour = colours[0]

    # Stance of the first article (left pane), then the second pane: stance, reliability,
    # credibility. Each is in the database once committed.
    terminal.show("a")
    committed(terminal, app_db, lambda: labels(app_db).get((seeds[0], "stance")) == "agree", "stance=agree")
    terminal.show("Tab")
    # Focus moves after the key is handled; keys typed before the screen shows it would go
    # to the old pane (a real typist waits for the highlight too).
    wait_until(lambda: terminal.corner_colours()[:2] == [colours[1], focus_colour], "the second pane focused",
               context=terminal.screen)
    terminal.show("d")
    committed(terminal, app_db, lambda: labels(app_db).get((seeds[1], "stance")) == "disagree", "stance=disagree")
    terminal.show("B")
    terminal.show("3")
    committed(terminal, app_db, lambda: len(labels(app_db)) == 4, "four labels")
    terminal.wait_for("reliability B usually reliable")
    assert labels(app_db) == {
        (seeds[0], "stance"): "agree",
        (seeds[1], "stance"): "disagree",
        (seeds[1], "reliability"): "B",
        (seeds[1], "credibility"): "3",
    }

    # The story list (g): the hostile story is last; open it.
    terminal.show("g", "Stories · annotator e2e")
    terminal.wait_for(HOSTILE_STORY)
    terminal.show("End")
    terminal.show("Enter", "[@click=app.quit]click me[/]")
    # (The story has one article: the second pane stays empty, so the text wraps at half width.)
    screen = terminal.wait_for("[@click=app.quit]quit[/] and [/")
    # Markup is shown as text, the escape sequences were stripped (their words stay), and
    # nothing set the terminal title.
    assert "Hostile [@click=app.quit]click me[/]" in screen
    assert "[bold]no bold[/bold]" in screen
    assert "and RED and" in screen
    assert "PWNED" not in screen
    assert "\x1b" not in screen
    # The story has no proposition: the stance key asks for one first.
    terminal.show("x", "This story has no proposition yet")
    terminal.show("Something happened")
    terminal.show("Enter")
    hostile_title = article_titles(app_db, HOSTILE_STORY)[0]
    committed(terminal, app_db, lambda: labels(app_db).get((hostile_title, "stance")) == "unrelated",
              "the hostile article's stance")
    assert terminal.value("#{pane_title}") == title_before
    assert "PWNED" not in terminal.value("#{pane_title}")
    quit_app(terminal)

    # Restart: the labels are still there, in the database and on screen.
    assert len(labels(app_db)) == 5
    terminal = open_app(tmp_path, app_db, terminals, "second")
    terminal.wait_for("Proposition:")
    terminal.wait_for("stance agree")
    screen = terminal.wait_for("reliability B usually reliable")
    assert "stance disagree" in screen
    quit_app(terminal)
    assert len(labels(app_db)) == 5


def three_terminals_see_each_others_work_live(tmp_path: Path, terminals: list[Terminal], db: dict[str, str]) -> None:
    """alice and bob annotate the seed story in two terminals and the lead reviews it in a
    third, each with `db[name]` as --db: what alice keys appears in the lead's review without
    a key pressed there, and bob's header names alice as working on the story."""

    def start(name: str, *command: str) -> Terminal:
        workdir = tmp_path / name
        workdir.mkdir()
        terminal = Terminal(workdir, [str(NEWSMARK), "--db", db[name], *command])
        terminals.append(terminal)
        terminal.start()
        return terminal

    bob = start("bob", "annotate", "--annotator", "bob", "--story", "us-taliban-isisk")
    lead = start("lead", "review", "--annotator", "lead", "--story", "us-taliban-isisk")
    alice = start("alice", "annotate", "--annotator", "alice", "--story", "us-taliban-isisk")
    bob.wait_for("stance –")
    lead.wait_for("annotator")
    assert "alice" not in lead.screen()
    alice.wait_for("stance –")
    alice.show("a", "stance agree")  # alice's first pane: the story's first article, as in review
    review = lead.wait_for("alice")
    assert "agree" in review
    bob.wait_for("also here: alice")
    for terminal in (alice, bob, lead):
        quit_app(terminal)


def test_three_terminals_see_each_others_work_live(tmp_path: Path, app_db: Path, terminals: list[Terminal]) -> None:
    three_terminals_see_each_others_work_live(tmp_path, terminals, dict.fromkeys(("alice", "bob", "lead"), str(app_db)))


def test_three_roles_on_a_server_see_each_others_work_live(tmp_path: Path, pg_database, terminals: list[Terminal]) -> None:
    """The same on PostgreSQL, each member connected as their own role (`team add`)."""
    owner = pg_database.url()
    prefix = pg_database.role_prefix
    for name, extra in (("alice", []), ("bob", []), ("lead", ["--reviewer"])):
        done = subprocess.run([str(NEWSMARK), "--db", owner, "team", "add", name, "--role-prefix", prefix, *extra,
                               "--password-stdin"], input=f"{name}-pw\n", capture_output=True, text=True, cwd=ROOT,
                              timeout=120)
        assert done.returncode == 0, done.stderr
    newsmark(owner, "import", "seeds")
    three_terminals_see_each_others_work_live(
        tmp_path, terminals, {name: pg_database.url(f"{prefix}{name}", f"{name}-pw") for name in ("alice", "bob", "lead")})
