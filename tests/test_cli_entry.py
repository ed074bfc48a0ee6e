"""The `newsmark` entry point: the default command with its options, shell completion,
`--help` without importing the commands, the screens refusing to run without a terminal,
and the installed command working from any folder."""

from __future__ import annotations

import fcntl
import os
import pty
import sqlite3
import struct
import subprocess
import sys
import termios
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from newsmark.schema.store import Store
from newsmark.tui.cli import COMMANDS, cli
from tests.conftest import ROOT, SEEDS
from tests.e2e.driving import wait_until

NEWSMARK = Path(sys.executable).with_name("newsmark")
NEEDS_A_TERMINAL = "Error: needs a terminal (stdin and stdout must be a terminal; for scripts use export/status)\n"
TIMEOUT = 60.0


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def imported_db(tmp_path: Path) -> Path:
    db = tmp_path / "team.db"
    result = run("--db", str(db), "import", str(SEEDS))
    assert result.exit_code == 0, result.output
    return db


def complete(words: str, cword: int) -> str:
    """What bash completion gets from the installed command for COMP_WORDS, COMP_CWORD."""
    env = {**os.environ, "_NEWSMARK_COMPLETE": "bash_complete", "COMP_WORDS": words, "COMP_CWORD": str(cword)}
    result = subprocess.run([str(NEWSMARK)], env=env, capture_output=True, text=True, timeout=TIMEOUT)
    assert result.returncode == 0 and result.stderr == "", result.stderr
    return result.stdout


# --- shell completion -------------------------------------------------------------------


def test_shell_completion_completes_command_names():
    assert complete("newsmark ex", 1) == "plain,export\n"
    assert complete("newsmark --db team.db lo", 3) == "plain,load-annotations\n"
    assert complete("newsmark ", 1) == "".join(f"plain,{name}\n" for name in COMMANDS)


def test_shell_completion_completes_options_of_commands_and_of_the_default():
    assert complete("newsmark export --for", 2) == "plain,--format\n"
    assert complete("newsmark --annotator alice --st", 3) == "plain,--story\n"


# --- --help -------------------------------------------------------------------------------


def test_help_lists_every_command_without_importing_them():
    code = (
        "import sys\n"
        "sys.argv = ['newsmark', '--help']\n"
        "from newsmark.tui.cli import main\n"
        "try:\n"
        "    main()\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = ('pydantic', 'textual', 'newsmark.schema', 'newsmark.tui.commands.', 'orjson', 'numpy')\n"
        "print(sorted(m for m in sys.modules if m.startswith(heavy)), file=sys.stderr)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=TIMEOUT,
                            env={**os.environ, "COLUMNS": "80"})
    assert result.returncode == 0
    assert result.stderr == "[]\n"
    listing = result.stdout.split("Commands:\n", 1)[1]
    assert listing == "".join(f"  {name:<16}  {line}\n" for name, (_, line) in COMMANDS.items())
    assert "With no command, runs `annotate`" in result.stdout


def test_every_command_in_the_table_exists_and_has_help():
    for name, (module, line) in COMMANDS.items():
        command = cli.get_command(None, name)
        assert command is not None and command.name == name, module
        assert line.endswith(".") and len(line) <= 60, name
        result = run(name, "--help")
        assert result.exit_code == 0 and result.output.startswith(f"Usage: cli {name} "), name


# --- the default command and its options --------------------------------------------------


@pytest.mark.parametrize("options", [
    ["--annotator", "alice"],
    ["--annotator=alice"],
    ["--story", "us-taliban-isisk"],
    ["--keymap", "{keymap}"],
    [],
])
def test_the_default_commands_options_work_without_naming_it(tmp_path, options):
    db = imported_db(tmp_path)
    keymap = tmp_path / "keys.toml"
    keymap.write_text('[keys]\n"undo" = "ctrl+u"\n', encoding="utf-8")
    args = [option.format(keymap=keymap) for option in options]
    result = run("--db", str(db), *args)
    # Parsed, checked, and refused only because a CliRunner is no terminal.
    assert (result.exit_code, result.stdout, result.stderr) == (1, "", NEEDS_A_TERMINAL)


def test_the_default_commands_options_are_checked(tmp_path):
    db = imported_db(tmp_path)
    result = run("--db", str(db), "--story", "nope")
    assert (result.exit_code, result.stderr) == (1, "Error: no story 'nope' (see `newsmark status`)\n")
    missing = tmp_path / "missing.toml"
    result = run("--db", str(db), "--keymap", str(missing))
    assert (result.exit_code, result.stderr) == (1, f"Error: {missing}: no such keymap file\n")


def test_an_unknown_option_or_command_is_the_groups_usage_error(tmp_path):
    db = imported_db(tmp_path)
    result = run("--db", str(db), "--bogus")
    assert result.exit_code == 2
    assert result.stderr.startswith("Usage: cli [OPTIONS] ")  # the group's usage, not annotate's
    # (click 8.2 words it "No such option: --bogus", later releases "No such option '--bogus'.")
    assert result.stderr.splitlines()[-1] in ("Error: No such option '--bogus'.", "Error: No such option: --bogus")
    result = run("--db", str(db), "exprot")
    assert result.exit_code == 2 and result.stderr.endswith("Error: No such command 'exprot'.\n")


class Terminal:
    """The installed `newsmark` on a pseudo-terminal of 100x30 (stdin, stdout and stderr),
    its output drained."""

    def __init__(self, args: list[str], cwd: Path):
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
        env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "100", "LINES": "30"}
        self.process = subprocess.Popen(
            [str(NEWSMARK), *args], stdin=slave, stdout=slave, stderr=slave, cwd=cwd, env=env,
            close_fds=True,
        )
        os.close(slave)
        self.master = master
        self.screen = bytearray()
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    def _drain(self) -> None:
        while True:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                return
            if not chunk:
                return
            self.screen.extend(chunk)

    def send(self, keys: str) -> None:
        os.write(self.master, keys.encode())

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=TIMEOUT)
        os.close(self.master)




def test_the_default_command_with_annotator_labels_as_that_annotator(tmp_path):
    """`newsmark --db P --annotator bob` on a real terminal: a key labels as bob."""
    db = imported_db(tmp_path)
    terminal = Terminal(["--db", str(db), "--annotator", "bob"], tmp_path)

    def labels() -> list[tuple[str, str, str]]:
        with sqlite3.connect(db) as conn:
            return conn.execute("SELECT annotator, field, value FROM labels").fetchall()

    try:
        wait_until(lambda: b"help" in terminal.screen, "the annotate screen")
        terminal.send("a")
        assert wait_until(labels, "the label saved") == [("bob", "stance", "agree")]
        terminal.send("q")
        assert terminal.process.wait(timeout=TIMEOUT) == 0
    finally:
        terminal.close()
    assert b"Error" not in terminal.screen and b"Traceback" not in terminal.screen
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)


# --- the screens need a terminal ----------------------------------------------------------


@pytest.mark.parametrize("command", ["annotate", "review"])
def test_the_screens_refuse_without_a_terminal(tmp_path, command):
    db = imported_db(tmp_path)
    with Store.open(db) as store:
        store.set_label(store.article_ids("us-taliban-isisk")[0], "alice", "stance", "agree")
    with sqlite3.connect(db) as conn:
        before = conn.execute("SELECT count(*) FROM events").fetchone()
    result = run("--db", str(db), command, "--annotator", "alice")
    assert (result.exit_code, result.stdout, result.stderr) == (1, "", NEEDS_A_TERMINAL)
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM events").fetchone() == before
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_annotate_without_a_terminal_creates_no_database(tmp_path):
    db = tmp_path / "fresh.db"
    for args in (["annotate"], []):
        result = run("--db", str(db), *args)
        assert (result.exit_code, result.stdout, result.stderr) == (1, "", NEEDS_A_TERMINAL)
        assert not db.exists()


@pytest.mark.parametrize("command", [["annotate"], ["review"], []])
def test_the_screens_with_stdout_to_a_file_write_nothing_and_do_not_block(tmp_path, command):
    db = imported_db(tmp_path)
    if command == ["review"]:
        with Store.open(db) as store:
            store.set_label(store.article_ids("us-taliban-isisk")[0], "alice", "stance", "agree")
    out = tmp_path / "screen.txt"
    with open(out, "wb") as stdout, open(os.devnull, "rb") as stdin:
        # stdin stays a terminal where the test runner has one; stdout is a file.
        result = subprocess.run([str(NEWSMARK), "--db", str(db), *command], stdout=stdout,
                                stderr=subprocess.PIPE, text=True, timeout=TIMEOUT, cwd=tmp_path,
                                stdin=None if sys.stdin.isatty() else stdin)
    assert (result.returncode, result.stderr) == (1, NEEDS_A_TERMINAL)
    assert out.read_bytes() == b""


@pytest.mark.parametrize("command", ["annotate", "review"])
def test_the_screens_with_stderr_to_a_file_refuse(tmp_path, command):
    """Textual draws on stderr: a log file there would receive the screen."""
    db = imported_db(tmp_path)
    with Store.open(db) as store:
        store.set_label(store.article_ids("us-taliban-isisk")[0], "alice", "stance", "agree")
    log = tmp_path / "log.txt"
    master, slave = pty.openpty()
    try:
        with open(log, "wb") as stderr:
            result = subprocess.run([str(NEWSMARK), "--db", str(db), command], stdin=slave, stdout=slave,
                                    stderr=stderr, timeout=TIMEOUT, cwd=tmp_path)
    finally:
        os.close(slave)
        os.close(master)
    assert result.returncode == 1
    assert log.read_text() == (
        "Error: needs a terminal (stderr must be a terminal too: the screen is drawn there; "
        "for scripts use export/status)\n"
    )


# --- the install ---------------------------------------------------------------------------


def test_the_installed_command_works_from_any_folder(tmp_path):
    """The packaged files (the default scheme and keymap) are found through the
    `newsmark` namespace, not through a checkout in the current folder."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert not (elsewhere / "schema").exists() and elsewhere.resolve() != ROOT
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    result = subprocess.run([str(NEWSMARK), "--db", "n.db", "init"], cwd=elsewhere, env=env,
                            capture_output=True, text=True, timeout=TIMEOUT)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == (
        "Database n.db ready; scheme 'newsmark-default': stance, reliability, credibility, checkworthy\n"
    )
    code = "from newsmark.tui.keymap import default_keymap_text; print(len(default_keymap_text()) > 0)"
    result = subprocess.run([sys.executable, "-c", code], cwd=elsewhere, env=env, capture_output=True,
                            text=True, timeout=TIMEOUT)
    assert (result.returncode, result.stdout) == (0, "True\n"), result.stderr


@pytest.mark.parametrize("command", [["annotate"], ["review"], []])
def test_the_screens_show_hostile_story_ids_and_keymap_paths_written_out(tmp_path, command):
    db = imported_db(tmp_path)
    with Store.open(db) as store:
        store.set_label(store.article_ids("us-taliban-isisk")[0], "alice", "stance", "agree")
    hostile = "\x1b]0;pwned\x07\u202e"
    result = run("--db", str(db), *command, "--story", hostile)
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == "Error: no story '\\x1b]0;pwned\\x07\\u202e' (see `newsmark status`)\n"
    if command != ["review"]:
        keymap = tmp_path / f"k{hostile}.toml"
        result = run("--db", str(db), *command, "--keymap", str(keymap))
        assert result.stderr == f"Error: {tmp_path}/k\\x1b]0;pwned\\x07\\u202e.toml: no such keymap file\n"
