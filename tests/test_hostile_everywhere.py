"""Every entry point with hostile values, through the real `newsmark` process: whatever a
person, a file or a teammate's database puts in a name, a path, an id, a config value or
a record, no control or format character and no markup reaches the terminal, no command
ends in a traceback, and the database stays whole.

Each case runs the command as a user would (a process, its stdout and stderr bytes as the
terminal would get them) and checks those bytes; the database is reopened after it.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.test_terminal_safety import run_on_pty

# What must never reach a terminal from data: ESC, BEL, 8-bit CSI/OSC/ST, bidi overrides
# and isolates, zero-width space, BOM, NUL.
FORBIDDEN = [b"\x1b", b"\x07", b"\x00", "\u009b".encode(), "\u009d".encode(), "\u009c".encode(),
             "\u202e".encode(), "\u2066".encode(), "\u200b".encode(), "\ufeff".encode()]
HOSTILE = [
    "\x1b]0;pwned\x07",                       # OSC: sets the terminal title
    "\x1b[2J\x1b[31mred",                     # CSI: clears the screen
    "\x1b]8;;http://evil.example\x1b\\x\x1b]8;;\x1b\\",  # OSC 8 hyperlink
    "\u009b31m\u009d0;t\u009c",               # 8-bit CSI and OSC
    "adm\u202enimda",                         # right-to-left override
    "al\u200bice",                            # zero-width space
    "[/]",                                    # Rich markup that crashes a parser
    "[link=http://evil.example]x[/link]",    # Rich markup hyperlink
    "[@click=app.quit]q[/]",                  # Textual action markup
]
IDS = ["osc-title", "csi", "osc8", "c1", "rlo", "zwsp", "markup-close", "markup-link", "markup-action"]


def newsmark_command() -> str:
    found = shutil.which("newsmark", path=str(Path(sys.executable).parent))
    assert found, "the newsmark console script is not installed beside this Python"
    return found


def run(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None, stdin: bytes | None = None):
    environment = {k: v for k, v in os.environ.items() if not k.startswith("NEWSMARK_")}
    environment.update(env or {})
    return subprocess.run([newsmark_command(), *args], capture_output=True, env=environment, cwd=cwd,
                          input=stdin if stdin is not None else b"", timeout=30)


class TerminalResult:
    """What a command printed on a terminal (a pseudo-terminal: its stdout and stderr)."""

    def __init__(self, args, returncode: int, output: bytes) -> None:
        self.args, self.returncode, self.stdout, self.stderr = args, returncode, output, b""


def run_on_terminal(*args: str) -> TerminalResult:
    """Run with stdout and stderr on a pseudo-terminal, as a person at a terminal would:
    exports to stdout show their data there."""
    command = [newsmark_command(), *args]
    code, shown = run_on_pty(command)
    return TerminalResult(command, code, shown.encode())


def assert_clean(result, *, allowed_exit=(0, 1, 2)) -> None:
    output = result.stdout + result.stderr
    for bad in FORBIDDEN:
        at = output.find(bad)
        assert at < 0, f"{bad!r} reached the terminal in {result.args[1:]!r}: {output[max(0, at - 150):at + 50]!r}"
    assert b"Traceback" not in output, output.decode(errors="replace")[-2000:]
    assert result.returncode in allowed_exit, (result.returncode, output[-600:])


def assert_whole(db: Path) -> None:
    if db.exists():
        with sqlite3.connect(db) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)


@pytest.fixture
def seeded(tmp_path) -> Path:
    db = tmp_path / "seeded.db"
    result = run("--db", str(db), "import", str(ROOT / "seeds"))
    assert result.returncode == 0, result.stderr
    return db


def article_ids(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return [row[0] for row in conn.execute("SELECT id FROM articles ORDER BY seq")]


@pytest.mark.parametrize("value", HOSTILE, ids=IDS)
def test_hostile_names_options_and_paths_on_every_command(value, seeded, tmp_path):
    db = str(seeded)
    ids = article_ids(seeded)
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.txt").write_text("Title\n\nA short article body about nothing in particular.\n")
    calls = [
        ("--db", db, "annotate", "--annotator", value),
        ("--db", db, "review", "--annotator", value),
        ("--db", db, "export", "--annotator", value),
        ("--db", db, "export", "--story", value),
        ("--db", db, "export", "--format", value),
        ("--db", db, "export", "-o", str(tmp_path / f"out{value}.jsonl")),
        ("--db", db, "agreement", "--field", value),
        ("--db", db, "agreement", "--story", value),
        ("--db", db, "compare", value, ids[0]),
        ("--db", db, "compare", ids[0], value),
        ("--db", db, "import", str(folder), "--story", value),
        ("--db", db, "import", str(folder), "--source", value),
        ("--db", db, "import", str(folder), "--map", f"{value}=text"),
        ("--db", db, "import", str(tmp_path / value)),
        ("--db", db, "load-annotations", str(tmp_path / value)),
        ("--db", db, "init", "--scheme", str(tmp_path / value)),
        ("--db", db, "annotate", "--keymap", str(tmp_path / value)),
        ("--db", str(tmp_path / f"new{value}.db"), "status"),
        ("--db", str(tmp_path / "missing" / f"x{value}.db"), "status"),
        ("--db", db, value),  # an unknown command
        ("--db", db, "status", value),  # an unexpected argument
        ("--db", db, "status", f"--{value}"),  # an unknown option
    ]
    for args in calls:
        assert_clean(run(*args))
    assert_clean(run("status", env={"NEWSMARK_DB": str(tmp_path / f"env{value}.db")}))
    assert_clean(run("--db", db, "annotate", env={"NEWSMARK_ANNOTATOR": value}))
    assert_whole(seeded)
    assert len(article_ids(seeded)) >= len(ids)


@pytest.mark.parametrize("value", HOSTILE, ids=IDS)
def test_hostile_data_from_a_teammates_database_on_every_report(value, seeded, tmp_path):
    """Rows as an old or foreign client may have written them: a name, a story, an
    outlet, a note, a cluster wording, a gold reason, all hostile."""
    ids = article_ids(seeded)
    now = "2026-12-01T10:00:00.000Z"
    with sqlite3.connect(seeded) as conn:
        conn.execute("UPDATE stories SET title = ?, proposition = ?", (value, value))
        conn.execute("UPDATE articles SET source = ?, title = ?, byline = ? WHERE id = ?", (value, value, value, ids[0]))
        for who in (value, "bob"):
            for article in ids[:3]:
                # v3 rows: stance and notes belong to the article within its story
                story = "(SELECT story_id FROM articles WHERE id = ?1)"
                conn.execute("INSERT OR REPLACE INTO labels (article_id, story_id, annotator, field, value, updated_at) "
                             f"VALUES (?1, {story}, ?2, 'stance', ?3, ?4)",
                             (article, who, "agree" if who == "bob" else "discuss", now))
                conn.execute("INSERT OR REPLACE INTO annotations (article_id, story_id, annotator, note, flagged, updated_at) "
                             f"VALUES (?1, {story}, ?2, ?3, 0, ?4)", (article, who, value, now))
        conn.execute("INSERT INTO gold (article_id, story_id, field, value, by, reason, at) "
                     "VALUES (?1, (SELECT story_id FROM articles WHERE id = ?1), 'stance', 'agree', ?2, ?3, ?4)",
                     (ids[0], value, value, now))
        conn.execute("INSERT INTO clusters VALUES ('c1', NULL, ?, ?, ?)", (value, value, now))
    db = str(seeded)
    story = sqlite3.connect(seeded).execute("SELECT id FROM stories").fetchone()[0]
    for args in (
        ("status",), ("agreement",), ("agreement", "--pair", value, "bob"), ("agreement", "--pair", "bob", value),
        ("compare", ids[0], ids[1]), ("export", "-o", str(tmp_path / "team.jsonl")),
    ):
        assert_clean(run("--db", db, *args))
    # Exports to stdout are data when piped, and shown safely on a terminal.
    for args in (("export", "--format", "csv"), ("export", "--format", "csv", "--gold"), ("export",),
                 ("export", "--format", "w3c"), ("export", "--format", "claimreview")):
        assert_clean(run_on_terminal("--db", db, *args))
    # Loading that export into a fresh database: the hostile name is refused with a clear
    # line, never stored, never echoed raw.
    fresh = tmp_path / "fresh.db"
    result = run("--db", str(fresh), "load-annotations", str(tmp_path / "team.jsonl"))
    assert_clean(result)
    assert_whole(fresh)
    del story


def test_hostile_config_files(tmp_path, seeded):
    value = HOSTILE[0]
    scheme = tmp_path / "scheme.toml"
    scheme.write_text(
        'name = "x\\u001b]0;pwned\\u0007"\n[[fields]]\nname = "f\\u001b[31m"\nlevel = "article"\nkind = "nominal"\n'
        'labels = [{ value = "v\\u001b]0;t\\u0007", key = "z", description = "d\\u202e" }]\n'
    )
    deep = tmp_path / "deep.toml"
    deep.write_text("a = " + "[" * 500 + "]" * 500 + "\n")
    keymap = tmp_path / "keymap.toml"
    keymap.write_text('[keys]\n"undo\\u001b]0;pwned\\u0007" = "ctrl+u"\n"redo" = "\\u001b]0;pwned\\u0007"\n')
    for args in (
        ("--db", str(tmp_path / "s.db"), "init", "--scheme", str(scheme)),
        ("--db", str(tmp_path / "d.db"), "init", "--scheme", str(deep)),
        ("--db", str(seeded), "annotate", "--keymap", str(keymap)),
        ("--db", str(seeded), "annotate", "--keymap", str(deep)),
    ):
        assert_clean(run(*args))
    story = tmp_path / "story"
    story.mkdir()
    (story / "a.txt").write_text("Title\n\nBody text of a story article.\n")
    (story / "story.toml").write_text(
        f'[story]\nid = "s1"\ntitle = {json.dumps(value)}\nproposition = {json.dumps(value)}\n'
        f'[articles."a.txt"]\nsource = {json.dumps(value)}\nbyline = {json.dumps(HOSTILE[4])}\n'
    )
    assert_clean(run("--db", str(seeded), "import", str(story)))
    assert_clean(run("--db", str(seeded), "status"))
    assert_whole(seeded)


def test_hostile_file_names_in_an_imported_folder(tmp_path, seeded):
    folder = tmp_path / "names"
    folder.mkdir()
    for index, value in enumerate(HOSTILE):
        safe = value.replace("/", "∕")
        (folder / f"{index}{safe}.txt").write_bytes(b"\xff\xfe not utf-8 at all")  # rejected: its name is shown
        (folder / f"{index}{safe}.jsonl").write_text('{"text": 12}\n{"nope"\n')
    result = run("--db", str(seeded), "import", str(folder))
    assert_clean(result, allowed_exit=(1,))
    assert result.stderr.count(b"rejected:") >= len(HOSTILE) * 2
    assert_whole(seeded)
