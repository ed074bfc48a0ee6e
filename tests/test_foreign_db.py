"""A file that is not ours: every command refuses another application's SQLite file (or a
file that is not a database, or not a regular file) and changes nothing in it, not a byte,
not its mtime, no WAL or journal beside it. An empty file or a new path becomes ours."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from newsmark.schema.migrations import APPLICATION_ID, CURRENT_VERSION
from newsmark.schema.store import Store, StoreError
from newsmark.tui.cli import cli

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "fixtures"
NEWSMARK = Path(sys.executable).with_name("newsmark")
REFUSAL = "Error: other.db is not a newsmark database (it holds tables: x, y); newsmark changes nothing in it\n"

# Every command that opens the database (annotate and review need a terminal: see below).
COMMANDS = [
    ["status"],
    ["status", "--json"],
    ["export"],
    ["export", "--gold", "-o", "gold.jsonl"],
    ["agreement"],
    ["agreement", "--json"],
    ["import", str(ROOT / "seeds")],
    ["init"],
    ["init", "--scheme", str(ROOT / "schema" / "default_scheme.toml")],
    ["load-annotations", str(FIXTURES / "v1.export.jsonl")],
    ["compare", "a", "b"],
]


def make_other_app_db(path: Path, *, wal: bool = False) -> None:
    """Another application's SQLite database: its own tables, rows and user_version."""
    conn = sqlite3.connect(path)
    if wal:
        conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("CREATE TABLE x (id INTEGER PRIMARY KEY, name TEXT)")
    conn.execute("CREATE TABLE y (k TEXT, v BLOB)")
    conn.executemany("INSERT INTO x (name) VALUES (?)", [("one",), ("two",)])
    conn.execute("PRAGMA user_version = 7")
    conn.commit()
    conn.close()  # the last connection: a WAL database is checkpointed and its -wal removed


def state(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file in the folder: its bytes and mtime."""
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(folder.iterdir()) if p.is_file()}


def run(args: list[str]) -> Result:
    return CliRunner().invoke(cli, ["--db", "other.db", *args])


@pytest.mark.parametrize("args", COMMANDS, ids=lambda args: " ".join(args[:2]).replace(str(ROOT), ""))
def test_every_command_refuses_another_applications_database(tmp_path, monkeypatch, args):
    monkeypatch.chdir(tmp_path)
    make_other_app_db(tmp_path / "other.db")
    before = state(tmp_path)
    result = run(args)
    assert (result.exit_code, result.stdout, result.stderr) == (1, "", REFUSAL)
    assert state(tmp_path) == before  # not a byte, not the mtime; no -wal, -shm, -journal


def test_a_wal_mode_database_of_another_application_gets_no_wal_files_either(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    make_other_app_db(tmp_path / "other.db", wal=True)
    before = state(tmp_path)
    assert list(before) == ["other.db"]
    result = run(["status"])
    assert (result.exit_code, result.stderr) == (1, REFUSAL)
    assert state(tmp_path) == before


@pytest.mark.parametrize("command", ["annotate", "review"])
def test_the_screens_refuse_it_too_from_a_terminal(tmp_path, command):
    """Through the console script with a terminal on stdin and stdout, as a user starts them."""
    make_other_app_db(tmp_path / "other.db")
    before = state(tmp_path)
    controller, terminal = os.openpty()
    try:
        proc = subprocess.Popen(
            [str(NEWSMARK), "--db", "other.db", command, "--annotator", "alice"],
            stdin=terminal, stdout=terminal, stderr=subprocess.PIPE, cwd=tmp_path,
            env={**os.environ, "TERM": "xterm-256color"},
        )
        os.close(terminal)
        # Drain the terminal so a screen that wrongly started cannot block on its output.
        threading.Thread(target=_drain, args=(controller,), daemon=True).start()
        try:
            _, err = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    finally:
        os.close(controller)
    assert (proc.returncode, err.decode()) == (1, REFUSAL)
    assert state(tmp_path) == before


def _drain(fd: int) -> None:
    try:
        while os.read(fd, 65536):
            pass
    except OSError:
        pass


def test_hostile_table_names_are_shown_visibly(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    conn = sqlite3.connect(tmp_path / "other.db")
    conn.execute('CREATE TABLE "t\x1b]0;pwned\x07" (a)')
    conn.execute('CREATE TABLE "\u202egnp.exe" (a)')
    conn.commit()
    conn.close()
    before = state(tmp_path)
    result = run(["status"])
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: other.db is not a newsmark database (it holds tables: t\\x1b]0;pwned\\x07, \\u202egnp.exe); "
        "newsmark changes nothing in it\n"
    )
    assert state(tmp_path) == before


def test_many_tables_are_summed_up(tmp_path):
    path = tmp_path / "many.db"
    conn = sqlite3.connect(path)
    for number in range(25):
        conn.execute(f"CREATE TABLE t{number:02d} (a)")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError) as refused:
        Store.open(path)
    names = ", ".join(f"t{n:02d}" for n in range(10))
    assert str(refused.value) == f"{path} is not a newsmark database (it holds tables: {names} and 15 more); newsmark changes nothing in it"


def test_a_marked_database_without_tables_is_not_ours(tmp_path):
    path = tmp_path / "marked.db"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA application_id = 1234")
    conn.close()
    before = path.read_bytes()
    with pytest.raises(StoreError, match=r"holds no tables but is marked by another application: application_id 1234"):
        Store.open(path)
    assert path.read_bytes() == before


def test_a_file_that_is_not_sqlite_is_refused_untouched(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "other.db").write_text("id,name\n1,one\n")
    before = state(tmp_path)
    result = run(["init"])
    assert (result.exit_code, result.stderr) == (
        1, "Error: other.db is not a newsmark database (not an SQLite database); newsmark changes nothing in it\n"
    )
    assert state(tmp_path) == before


def test_special_files_are_refused_without_blocking(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    os.mkfifo(tmp_path / "fifo.db")
    for name, message in (
        ("fifo.db", "Error: fifo.db is not a newsmark database (not a regular file); newsmark changes nothing in it\n"),
        ("/dev/null", "Error: /dev/null is not a newsmark database (not a regular file); newsmark changes nothing in it\n"),
    ):
        result = CliRunner().invoke(cli, ["--db", name, "init"])
        assert (result.exit_code, result.stderr) == (1, message)
    (tmp_path / "folder.db").mkdir()  # the command line refuses a folder itself; Store.open too
    with pytest.raises(StoreError, match="folder.db is a directory, not a newsmark database"):
        Store.open(tmp_path / "folder.db")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fifo.db", "folder.db"]
    assert list((tmp_path / "folder.db").iterdir()) == []
    assert Path("/dev/null").is_char_device()


def test_an_empty_file_and_a_new_path_become_newsmark_databases(tmp_path):
    (tmp_path / "empty.db").touch()
    conn = sqlite3.connect(tmp_path / "blank.db")  # an SQLite database with nothing in it
    conn.execute("VACUUM")
    conn.close()
    for name in ("empty.db", "blank.db", "new.db"):
        with Store.open(tmp_path / name) as store:
            assert store.conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
            assert store.conn.execute("PRAGMA user_version").fetchone()[0] == CURRENT_VERSION
        with Store.open(tmp_path / name) as store:  # and it opens again as ours
            assert store.story_count() == 0


def test_a_newsmark_database_from_before_the_application_id_still_opens(tmp_path):
    path = tmp_path / "old.db"
    with Store.open(path) as store:
        store.set_setting("marker", "kept")
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA application_id = 0")  # as every database made before this change
    conn.close()
    with Store.open(path) as store:
        assert store.get_setting("marker") == "kept"


def test_a_hostile_database_path_is_shown_visibly(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    name = "ev\x1b]0;pwned\x07il\u202e.db"
    make_other_app_db(tmp_path / name)
    (tmp_path / "junk\x1b[2J.db").write_text("not a database")
    before = state(tmp_path)
    for db, why in ((name, "it holds tables: x, y"), ("junk\x1b[2J.db", "not an SQLite database")):
        result = CliRunner().invoke(cli, ["--db", db, "status"])
        shown = db.replace("\x1b", "\\x1b").replace("\x07", "\\x07").replace("\u202e", "\\u202e")
        assert (result.exit_code, result.stderr) == (
            1, f"Error: {shown} is not a newsmark database ({why}); newsmark changes nothing in it\n"
        )
    result = CliRunner().invoke(cli, ["--db", "gone\x1b[31m.db", "status"])
    assert (result.exit_code, result.stderr) == (
        1, "Error: no database at gone\\x1b[31m.db (create one with `newsmark init`)\n"
    )
    assert state(tmp_path) == before
