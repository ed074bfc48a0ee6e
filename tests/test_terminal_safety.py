"""Text that reaches a terminal from anything but article bodies: names, story fields,
outlets, notes, wordings, ids, paths and error messages follow one rule (`for_terminal`),
and annotator names one validator (`check_name`) wherever they enter.

Hostile strings (tests/hostile.py) are put where they enter: a database written directly
with sqlite3 (what an old version or a teammate's tool leaves), the command line,
$NEWSMARK_ANNOTATOR, file names. Every command's stdout and stderr, and every screen, is
checked for raw escapes, markup parsed from data and tracebacks; the database is checked
for lost rows and integrity after each command.
"""

from __future__ import annotations

import json
import os
import pty
import select
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from newsmark.schema.ingest import import_paths
from newsmark.schema.sanitize import article_id_for, for_terminal, text_sha256
from newsmark.schema.store import Store
from newsmark.tui.cli import cli
from tests.hostile import FORBIDDEN_ON_TERMINAL, HOSTILE_STRINGS, assert_terminal_safe

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
STORY = "us-taliban-isisk"
NEWSMARK = Path(sys.executable).with_name("newsmark")
# Every hostile string in one line: a story title, an outlet, a note, a wording.
MIX = " ".join(HOSTILE_STRINGS[key] for key in HOSTILE_STRINGS if key != "very-long")
HOSTILE_STORY = "st\x1b]0;pwned\x07\u202ex"
HOSTILE_TEXTS = [
    "Officials said the crossing would reopen on Monday. Traders doubted it.",
    "The crossing reopens Monday, officials said. Traders at the border doubted it.",
]


# --- a database as an old version or a foreign tool would leave it -----------------------


def hostile_db(path: Path) -> dict[str, list[str]]:
    """The seed story plus a story whose id, title, proposition, outlets, titles, bylines,
    URLs and origins are hostile; every hostile string labels articles as an annotator,
    with notes, gold decisions (by, reason) and a cluster wording that are hostile too.
    Returns the article ids of both stories."""
    with Store.open(path) as store:
        import_paths(store, [SEEDS])
        seed_ids = store.article_ids(STORY)
    hostile_ids = [article_id_for(text) for text in HOSTILE_TEXTS]
    now = "2026-11-21T10:00:00Z"
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("UPDATE stories SET title = ?, proposition = ? WHERE id = ?", (f"Seed {MIX}", f"Prop {MIX}", STORY))
        conn.execute("INSERT INTO stories (id, title, proposition) VALUES (?, ?, ?)",
                     (HOSTILE_STORY, f"Title {MIX}", f"Proposition {MIX}"))
        conn.executemany(
            "INSERT INTO articles (id, story_id, source, url, title, byline, published, text, text_sha256, meta, origin)"
            " VALUES (?, ?, ?, ?, ?, ?, NULL, ?, ?, '{}', ?)",
            [(aid, HOSTILE_STORY, f"Outlet {i} {MIX}", f"http://x/{MIX}", f"Headline {i} {MIX}", f"By {MIX}",
              text, text_sha256(text), f"file {MIX}.txt") for i, (aid, text) in enumerate(zip(hostile_ids, HOSTILE_TEXTS))],
        )
        conn.executemany("INSERT INTO story_articles (story_id, article_id) VALUES (?, ?)",
                         [(HOSTILE_STORY, aid) for aid in hostile_ids])
        names = [*HOSTILE_STRINGS.values(), "alice"]
        stances = ["agree", "disagree", "discuss", "unrelated"]
        for number, name in enumerate(names):
            for story, aid in [(STORY, aid) for aid in seed_ids[:3]] + [(HOSTILE_STORY, aid) for aid in hostile_ids]:
                conn.execute("INSERT INTO annotations (article_id, story_id, annotator, note, flagged, updated_at) "
                             "VALUES (?, ?, ?, ?, 1, ?)", (aid, story, name, f"note {MIX}", now))
                # stance is judged per story, reliability wherever the article appears ('')
                conn.execute("INSERT INTO labels (article_id, story_id, annotator, field, value, updated_at) "
                             "VALUES (?, ?, ?, 'stance', ?, ?)", (aid, story, name, stances[number % 4], now))
                conn.execute("INSERT INTO labels (article_id, story_id, annotator, field, value, updated_at) "
                             "VALUES (?, '', ?, 'reliability', ?, ?)", (aid, name, "ABCDEF"[number % 6], now))
        conn.execute("INSERT INTO gold (article_id, story_id, field, value, by, reason, at) "
                     "VALUES (?, ?, 'stance', 'agree', ?, ?, ?)",
                     (seed_ids[0], STORY, HOSTILE_STRINGS["osc-title"], f"reason {MIX}", now))
        conn.execute("INSERT INTO clusters VALUES ('c1', ?, ?, ?, ?)", (STORY, f"wording {MIX}", HOSTILE_STRINGS["csi"], now))
    conn.close()
    return {"seed": seed_ids, "hostile": hostile_ids}


def row_counts(path: Path) -> dict[str, int]:
    """Rows per table, after checking the database's integrity."""
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        tables = [row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {table: conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0] for table in tables}
    finally:
        conn.close()


@pytest.fixture
def hostile(tmp_path: Path):
    """(database path, article ids) of a freshly built hostile database."""
    path = tmp_path / "hostile.db"
    ids = hostile_db(path)
    return path, ids


def run(db: Path, *args: str, env: dict[str, str] | None = None):
    """A command through click's CliRunner, wide enough that tables do not wrap names."""
    runner = CliRunner()
    return runner.invoke(cli, ["--db", str(db), *args], env={"COLUMNS": "400", **(env or {})}, catch_exceptions=False)


def checked(result, code: int = 0) -> str:
    """The command's stdout and stderr, checked for safety; asserts the exit code."""
    out = assert_terminal_safe(result.stdout, "stdout")
    err = assert_terminal_safe(result.stderr, "stderr")
    assert result.exit_code == code, (result.exit_code, out, err)
    return out + err


def flat(text: str) -> str:
    """Output with table borders and line breaks removed (names may sit in table cells)."""
    return "".join(ch for ch in text if ch not in "│┃┏┓┗┛┡┩└┘┌┐├┤─━╇╈╭╮╰╯ \n")


# --- the command line ------------------------------------------------------------------


def test_status_shows_every_stored_name_escaped_and_never_as_markup(hostile):
    db, _ = hostile
    before = row_counts(db)
    out = checked(run(db, "status"))
    shown = flat(out)
    for name in HOSTILE_STRINGS.values():
        assert flat(for_terminal(name)) in shown, name
    assert "\\x1b]0;pwned\\x07" in out and "\\u202e" in out
    assert row_counts(db) == before
    document = json.loads(run(db, "status", "--json").stdout)
    assert set(document["annotators"]) == {*HOSTILE_STRINGS.values(), "alice"}  # --json: the exact names


def test_status_with_only_a_markup_name_does_not_crash(tmp_path):
    """A teammate's record with annotator "[/]" used to make every `status` a MarkupError."""
    db = tmp_path / "one.db"
    with Store.open(db) as store:
        import_paths(store, [SEEDS])
        aid = store.article_ids(STORY)[0]
    conn = sqlite3.connect(db)
    with conn:
        for name in ("[/]", "[link=http://evil]x[/link]"):
            conn.execute("INSERT INTO annotations (article_id, story_id, annotator, updated_at) VALUES (?, ?, ?, 'now')",
                         (aid, STORY, name))
            conn.execute("INSERT INTO labels (article_id, story_id, annotator, field, value, updated_at) "
                         "VALUES (?, ?, ?, 'stance', 'agree', 'now')", (aid, STORY, name))
    conn.close()
    out = checked(run(db, "status"))
    assert "[/]" in out and "[link=http://evil]x[/link]" in out


def test_agreement_tables_show_hostile_names_and_labels_escaped(hostile):
    db, _ = hostile
    before = row_counts(db)
    out = checked(run(db, "agreement"))
    shown = flat(out)
    assert flat(for_terminal(HOSTILE_STRINGS["osc-title"])) in shown
    assert "[link=http://evil]x[/link]" in shown
    out = checked(run(db, "agreement", "--pair", "[/]", "[@click=app.quit]q[/]"))
    assert "Confusion on" in out and "[@click=app.quit]q[/]" in out
    assert row_counts(db) == before


@pytest.mark.parametrize("key", ["osc-title", "bidi-override", "zero-width-space", "very-long", "nul"])
def test_agreement_pair_refuses_a_name_the_rule_refuses(hostile, key):
    db, _ = hostile
    result = run(db, "agreement", "--pair", HOSTILE_STRINGS[key], "alice")
    out = checked(result, 2)
    assert "Invalid value for '--pair'" in out and "annotator name" in out


def test_compare_escapes_ids_outlets_and_titles(hostile):
    db, ids = hostile
    a, b = ids["hostile"]
    out = checked(run(db, "compare", a, b))
    assert "\\x1b]0;pwned\\x07" in out and "[link=http://evil]x[/link]" in out
    out = checked(run(db, "compare", "\x1b]0;pwned\x07" + a, b), 1)
    assert out == f"Error: no article \\x1b]0;pwned\\x07{a}\n"
    out = checked(run(db, "compare", a, "\u202e" + b), 1)
    assert out == f"Error: no article \\u202e{b}\n"


def test_export_annotator_filter_checks_the_name(hostile):
    db, _ = hostile
    out = checked(run(db, "export", "--annotator", HOSTILE_STRINGS["osc-title"]), 2)
    assert "Invalid value for '--annotator'" in out and "\\x1b]0;pwned\\x07" in out
    out = checked(run(db, "export", "--annotator", "[/]x"), 1)
    assert out == "Error: no annotations by '[/]x'\n"
    records = [json.loads(line) for line in run(db, "export", "--annotator", "[/]").stdout.splitlines()]
    assert {r["annotator"] for r in records} == {"[/]"} and len(records) == 5


def test_export_to_a_terminal_writes_no_raw_escape(hostile):
    """`export` to stdout writes the exact data to a pipe or a file, and the escaped form
    to a terminal."""
    db, _ = hostile
    for fmt in ("csv", "jsonl"):
        code, shown = run_on_pty([str(NEWSMARK), "--db", str(db), "export", "--format", fmt])
        assert code == 0, shown
        assert_terminal_safe(shown, f"export --format {fmt} on a terminal")
        assert "\\x1b]0;pwned" in shown or "\\u001b]0;pwned" in shown
    piped = subprocess.run([str(NEWSMARK), "--db", str(db), "export", "--format", "csv"], capture_output=True, check=True)
    assert b"\x1b]0;pwned\x07" in piped.stdout  # the data itself is exact


def run_on_pty(argv: list[str], env: dict[str, str] | None = None, timeout: float = 60.0) -> tuple[int, str]:
    """Run argv with stdout and stderr on a pseudo-terminal; its exit code and what the
    terminal received."""
    master, slave = pty.openpty()
    process = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env={**os.environ, **(env or {})})
    os.close(slave)
    chunks = []
    while True:
        ready, _, _ = select.select([master], [], [], timeout)
        if not ready:
            process.kill()
            process.wait()
            os.close(master)
            raise AssertionError(f"{argv[3:]} still running after {timeout} s; it showed {b''.join(chunks)[-500:]!r}")
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    code = process.wait(timeout)
    return code, b"".join(chunks).decode("utf-8", "replace")


def test_import_names_hostile_files_escaped(tmp_path):
    db = tmp_path / "import.db"
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "good \x1b]0;pwned\x07 \u202e.txt").write_text("A fine title\nA body of text.\n")
    (folder / "empty \x1b[2J\u200b.txt").write_bytes(b"")
    (folder / "other \x9b type.bin").write_bytes(b"x")
    with Store.open(db):
        pass
    out = checked(run(db, "import", str(folder)), 1)
    assert "Imported 1 article" in out
    assert "empty \\x1b[2J\\u200b.txt" in out
    assert row_counts(db)["articles"] == 1


def test_load_annotations_of_hostile_records_prints_no_raw_escape(hostile, tmp_path):
    """A teammate's export holding hostile names, titles and notes, under a hostile file
    name: whatever load decides about each record (the "load" rule refuses the names
    `check_name` refuses), nothing raw reaches the terminal, before or after, and the
    database stays whole."""
    db, _ = hostile
    export = run(db, "export").stdout
    target = tmp_path / "target.db"
    with Store.open(target):
        pass
    export_file = tmp_path / "team \x1b]0;x\x07.jsonl"
    export_file.write_text(export)
    result = run(target, "load-annotations", str(export_file))
    out = checked(result, result.exit_code)
    assert result.exit_code in (0, 1)
    assert f"Read {len(export.splitlines())} records" in out
    row_counts(target)  # integrity
    checked(run(target, "status"))
    checked(run(target, "agreement"))


def test_init_and_status_with_a_hostile_database_path(tmp_path):
    folder = tmp_path / "d\x1b]0;pwned\x07\u202e"
    folder.mkdir()
    db = folder / "n.db"
    with Store.open(db):
        pass
    out = checked(run(db, "init"))
    assert f"Database {for_terminal(db)} ready" in out
    out = checked(run(folder / "missing.db", "status"), 1)
    assert out.startswith("Error: ") and "\\x1b]0;pwned\\x07\\u202e" in out


def test_click_usage_errors_quote_arguments_escaped(tmp_path):
    """Click's own messages (a directory as --db, an unknown command or option) go out
    through the one rule too (the console script's error path)."""
    folder = tmp_path / "dir\x1b]0;pwned\x07"
    folder.mkdir()
    cases = [
        (["--db", str(folder), "status"], "Invalid value for '--db'"),
        (["--db", str(tmp_path / "x.db"), "st\x1b[2Jatus"], "No such command 'st\\x1b[2Jatus'"),
        (["--db", str(tmp_path / "x.db"), "status", "--b\u202eogus"], "No such option"),
        (["--db", str(tmp_path / "x.db"), "import", str(tmp_path), "--story", "bad \x1b]0;t\x07 id"], "--story"),
    ]
    for argv, expected in cases:
        result = subprocess.run([str(NEWSMARK), *argv], capture_output=True)
        assert result.returncode == 2, result
        assert result.stdout == b""
        err = assert_terminal_safe(result.stderr, f"stderr of {argv}")
        assert expected in err and err.rstrip("\n").splitlines()[-1].startswith("Error: ")


# --- annotator names where they enter ----------------------------------------------------


# Names the rule refuses: hostile ones, and the ones `annotate` used to accept while
# `load-annotations` refused them (spaces around, tabs, two spaces, empty, too long).
REFUSED_NAMES = {
    **{key: HOSTILE_STRINGS[key] for key in ("osc-title", "c1-csi", "bidi-override", "zero-width-space", "bom", "nul",
                                             "very-long")},
    "spaces-around": " alice ", "tab": "al\tice", "two-spaces": "a  b", "empty": "", "65-chars": "x" * 65,
}
NAME_SOURCES = ["--annotator", "$NEWSMARK_ANNOTATOR", "your OS user name"]


# An environment variable cannot hold NUL, and an empty one falls through to the next source.
NAME_ENTRIES = [(key, source) for key in REFUSED_NAMES for source in NAME_SOURCES
                if source == "--annotator" or (REFUSED_NAMES[key] and "\x00" not in REFUSED_NAMES[key])]


@pytest.mark.parametrize(("key", "source"), NAME_ENTRIES)
def test_every_entry_of_a_name_refuses_what_the_rule_refuses(key, source, monkeypatch, capsys):
    """--annotator, $NEWSMARK_ANNOTATOR and the OS user all go through `check_name`: one
    `Error:` line naming where the name came from, escaped, exit 1."""
    from newsmark.tui.commands.common import resolve_annotator

    raw = REFUSED_NAMES[key]
    for variable in ("NEWSMARK_ANNOTATOR", "LOGNAME", "USER", "LNAME", "USERNAME"):
        monkeypatch.delenv(variable, raising=False)
    if source == "$NEWSMARK_ANNOTATOR":
        monkeypatch.setenv("NEWSMARK_ANNOTATOR", raw)
    elif source == "your OS user name":
        monkeypatch.setenv("LOGNAME", raw)  # what getpass.getuser() reads first
    with pytest.raises(SystemExit) as exited:
        resolve_annotator(raw if source == "--annotator" else None)
    assert exited.value.code == 1
    captured = capsys.readouterr()
    err = assert_terminal_safe(captured.err, "stderr")
    assert captured.out == ""
    assert err.startswith(f"Error: {source}: annotator name ") and err.count("\n") == 1, err
    assert err.endswith("; give one with --annotator NAME\n") == (source != "--annotator")


REFUSED_AT_THE_COMMAND = [
    ("annotate", ["--annotator", HOSTILE_STRINGS["osc-title"]], {}, "--annotator"),
    ("annotate", [], {"NEWSMARK_ANNOTATOR": HOSTILE_STRINGS["zero-width-space"]}, "$NEWSMARK_ANNOTATOR"),
    ("review", ["--annotator", " alice "], {}, "--annotator"),
    ("review", [], {"NEWSMARK_ANNOTATOR": "", "LOGNAME": "ro\x1b]0;x\x07ot"}, "your OS user name"),
]


@pytest.mark.parametrize(("command", "args", "env", "source"), REFUSED_AT_THE_COMMAND)
def test_annotate_and_review_refuse_a_broken_name_before_starting(hostile, command, args, env, source):
    """On a real terminal (a pty), the screen never starts with a broken name: one line,
    exit 1, nothing written."""
    db, _ = hostile
    before = row_counts(db)
    code, shown = run_on_pty([str(NEWSMARK), "--db", str(db), command, *args], env=env, timeout=30)
    assert_terminal_safe(shown, f"{command}'s terminal")
    assert code == 1 and shown.startswith(f"Error: {source}: annotator name "), shown
    assert row_counts(db) == before


def test_a_keymap_error_quotes_a_hostile_binding_escaped(hostile, tmp_path):
    db, _ = hostile
    keymap = tmp_path / "keymap \u202e.toml"
    keymap.write_text('[keys]\n"bad\\u001b]0;pwned\\u0007" = "z"\n')
    code, shown = run_on_pty([str(NEWSMARK), "--db", str(db), "annotate", "--annotator", "bob", "--keymap", str(keymap)],
                             timeout=30)
    assert_terminal_safe(shown, "annotate's terminal")
    assert code == 1 and shown.startswith("Error: ") and "bad\\x1b]0;pwned\\x07" in shown, shown


def test_a_valid_name_is_normalised_to_nfc(monkeypatch):
    from newsmark.tui.commands.common import resolve_annotator

    monkeypatch.setenv("NEWSMARK_ANNOTATOR", "Zoe\u0301 [b]")
    assert resolve_annotator(None) == "Zo\u00e9 [b]"
    assert resolve_annotator("Ren\u00e9e O'Brien") == "Ren\u00e9e O'Brien"


# --- screens -----------------------------------------------------------------------------


def assert_screen_safe(lines: list[str], where: str) -> str:
    """Rendered lines: no forbidden character, no markup parsed from data."""
    text = "\n".join(lines)
    for ch in FORBIDDEN_ON_TERMINAL:
        assert ch not in text, f"{where} draws a raw {ch!r}"
    return text


def rendered(app) -> list[str]:
    """What the app's screen draws, line by line (the compositor's strips)."""
    return ["".join(segment.text for segment in strip) for strip in app.screen._compositor.render_strips()]


async def until(pilot, condition, timeout: float = 15.0) -> None:
    """Let the app run until condition() holds."""
    import asyncio

    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("the screen did not reach the state in time")
        await pilot.pause(0.02)


async def test_story_list_draws_hostile_ids_titles_and_annotator_escaped(hostile):
    from textual.app import App

    from newsmark.tui.screens.story_list import StoryListScreen
    from newsmark.tui.widgets.story_list_view import StoryListView

    db, _ = hostile

    class ListApp(App[None]):
        def on_mount(self) -> None:
            self.push_screen(StoryListScreen(str(db), "[/]\x1b]0;t\x07"))

    app = ListApp()
    async with app.run_test(size=(200, 20)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, StoryListScreen) and app.screen.query_one(StoryListView).loaded
                    and app.screen.query_one(StoryListView).total == 2)
        await pilot.pause()
        text = assert_screen_safe(rendered(app), "story list")
        assert "st\\x1b]0;pwned\\x07\\u202ex" in text
        assert "annotator [/]\\x1b]0;t\\x07" in text
        assert "Title red\\x1b[31mX" in text


async def test_annotate_screen_draws_hostile_story_outlets_and_titles_escaped(hostile):
    import asyncio

    from newsmark.tui.app import NewsmarkApp
    from newsmark.tui.screens.annotate import AnnotateScreen

    db, _ = hostile
    app = NewsmarkApp(db, "[link=http://evil]x[/link]", story_id=HOSTILE_STORY)
    app.animation_level = "none"
    async with app.run_test(size=(200, 50)) as pilot:
        await asyncio.wait_for(app.loaded.wait(), 15)
        await until(pilot, lambda: isinstance(app.screen, AnnotateScreen) and all(p.view for p in app.screen.panes))
        await pilot.pause()
        await pilot.press("a")  # a label: the bar redraws, a save is reported
        await pilot.pause()
        text = assert_screen_safe(rendered(app), "annotate screen")
        assert "Title red\\x1b[31mX" in text and "Outlet 0 red\\x1b[31mX" in text
        assert "[link=http://evil]x[/link]" in text and "[@click=app.quit]q[/]" in text
        await pilot.press("question_mark")
        await pilot.pause()
        assert_screen_safe(rendered(app), "help screen")
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, AnnotateScreen))
        await pilot.press("e")  # the note editor, holding a teammate tool's hostile note
        await until(pilot, lambda: not isinstance(app.screen, AnnotateScreen))
        await pilot.pause()
        assert "note red" in assert_screen_safe(rendered(app), "note editor")
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, AnnotateScreen))
        app.screen.action_overview()  # outlets, titles and cluster wordings side by side
        await until(pilot, lambda: "Story overview: Title" in "\n".join(rendered(app)))
        assert_screen_safe(rendered(app), "story overview")
    app.close_stores()
    assert row_counts(db)["labels"] > 0


async def test_review_screen_draws_hostile_names_labels_and_story_escaped(hostile):
    from newsmark.tui.review.app import ReviewApp
    from newsmark.tui.review.review_header import header_text
    from newsmark.tui.review.screen import ReviewScreen

    db, _ = hostile
    before = row_counts(db)
    app = ReviewApp(db, "[/]", story_id=STORY)
    app.animation_level = "none"
    app.cursor_blink = False
    async with app.run_test(size=(220, 60)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, ReviewScreen) and app.screen.state is not None)
        await pilot.pause()
        text = assert_screen_safe(rendered(app), "review screen")
        assert "t\\x1b]0;pwned\\x07" in text and "L" * 20 in text  # annotators' names, in the labels table
        assert "Seed red\\x1b[31mX" in text  # the story's title
        header = header_text(app.screen.state, "[/]\x1b]0;t\x07", blind=False).plain  # three lines, cut by the screen
        assert "reviewer [/]\\x1b]0;t\\x07" in assert_screen_safe([header], "review header")
        await pilot.press("b")  # blind: names replaced, nothing raw either
        await pilot.pause()
        text = assert_screen_safe(rendered(app), "review screen, blind")
        assert "L" * 20 not in text and "annotator 1" in text  # the 300-character name is hidden
    assert row_counts(db) == before
