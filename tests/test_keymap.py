"""The keymap: defaults as data, binding ids, user overrides, scheme label keys, and the
`annotate` command's handling of bad keymap files."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from newsmark.schema.scheme import default_scheme, parse_scheme
from newsmark.schema.store import Store
from newsmark.tui.cli import cli
from newsmark.tui.keymap import (
    ACTION_IDS,
    ACTIONS,
    FOOTER_ORDER,
    KeymapError,
    default_keymap,
    effective_keys,
    label_description,
    label_keys,
    load_keymap,
    user_keymap_path,
)


def test_every_action_has_a_default_key_and_every_default_an_action():
    keys = default_keymap()
    assert set(keys) == ACTION_IDS
    assert set(FOOTER_ORDER) <= ACTION_IDS
    assert len({a.action for a in ACTIONS}) == len(ACTIONS)


def test_default_keys_follow_the_design_table():
    keys = default_keymap()
    assert keys["pane.next"] == "tab" and keys["pane.previous"] == "shift+tab"
    assert (keys["article.previous"], keys["article.next"]) == ("[", "]")
    assert (keys["story.next"], keys["story.previous"]) == ("n", "p")
    assert (keys["cursor.down"], keys["cursor.up"]) == ("j", "k")
    assert keys["claim.toggle"] == "c" and keys["span.refine"] == "v" and keys["claim.link"] == "l"
    assert keys["flag"] == "f" and keys["note"] == "e"
    assert keys["undo"] == "u,ctrl+z" and keys["redo"] == "ctrl+y"
    assert keys["blind"] == "b" and keys["search"] == "/" and keys["story.list"] == "g"
    assert keys["help"] == "?" and keys["quit"] == "q"


def test_label_keys_come_from_the_scheme():
    scheme = default_scheme()
    by_key = {key: (binding_id, owners) for key, binding_id, owners in label_keys(scheme)}
    assert by_key["a"] == ("label.stance.agree", [("article", "stance", "agree")])
    assert by_key["B"][0] == "label.reliability.B"
    # credibility is filled in at both levels: one key, one binding, two owners
    assert by_key["3"] == ("label.credibility.3", [("article", "credibility", "3"), ("claim", "credibility", "3")])
    assert by_key["+"] == ("label.checkworthy.yes", [("claim", "checkworthy", "yes")])
    assert label_description(scheme, by_key["B"][1]) == "reliability B usually reliable"
    assert label_description(scheme, by_key["6"][1]) == "credibility 6 truth cannot be judged (article or claim)"


def test_a_custom_scheme_brings_its_own_keys():
    scheme = parse_scheme(
        'name = "t"\n[[fields]]\nname = "tone"\nlevel = "article"\nkind = "nominal"\n'
        'labels = [{ value = "calm", key = "z" }, { value = "angry", key = "y" }]\n'
    )
    keys = effective_keys({}, scheme)
    assert keys["label.tone.calm"] == "z" and keys["label.tone.angry"] == "y"
    assert "label.stance.agree" not in keys


def test_user_file_overrides_only_what_it_names(tmp_path: Path):
    path = tmp_path / "keymap.toml"
    path.write_text('[keys]\n"undo" = "ctrl+u"\n"label.stance.agree" = "0, ctrl+a"\n', encoding="utf-8")
    overrides = load_keymap(path, default_scheme())
    assert overrides == {"undo": "ctrl+u", "label.stance.agree": "0,ctrl+a"}
    keys = effective_keys(overrides, default_scheme())
    assert keys["undo"] == "ctrl+u" and keys["redo"] == "ctrl+y"


def test_default_user_file_is_read_from_xdg_config_home(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert user_keymap_path() == tmp_path / "newsmark" / "keymap.toml"
    assert load_keymap(None) == {}  # no file: no overrides
    user_keymap_path().parent.mkdir(parents=True)
    user_keymap_path().write_text('[keys]\n"quit" = "ctrl+q"\n', encoding="utf-8")
    assert load_keymap(None) == {"quit": "ctrl+q"}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('[keys]\n"no.such" = "x"\n', "unknown binding id(s): no.such"),
        ('[keys]\n"undo" = 3\n', "undo: expected a key or comma-separated keys, got 3"),
        ('[keys]\n"undo" = "u,,x"\n', "undo: expected a key or comma-separated keys"),
        ("[keys\n", "invalid TOML"),
        ('[bindings]\n"undo" = "u"\n', "unknown table(s) bindings (expected [keys])"),
        ('[keys]\n"label.stance.maybe" = "m"\n', "unknown binding id(s): label.stance.maybe"),
    ],
)
def test_bad_keymap_files_are_refused_with_the_reason(tmp_path: Path, content: str, message: str):
    path = tmp_path / "keymap.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(KeymapError) as raised:
        load_keymap(path, default_scheme())
    assert str(raised.value).startswith(str(path))
    assert message in str(raised.value)


def test_missing_explicit_keymap_file_is_an_error(tmp_path: Path):
    with pytest.raises(KeymapError, match="no such keymap file"):
        load_keymap(tmp_path / "nope.toml")


def test_annotate_command_reports_a_bad_keymap_file(tmp_path: Path):
    db = tmp_path / "n.db"
    Store.open(db).close()
    keymap = tmp_path / "k.toml"
    keymap.write_text('[keys]\n"nope" = "x"\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["--db", str(db), "annotate", "--keymap", str(keymap)])
    assert result.exit_code == 1
    assert result.stderr == f"Error: {keymap}: unknown binding id(s): nope\n"


def test_annotate_command_reports_an_unknown_story(tmp_path: Path):
    db = tmp_path / "n.db"
    Store.open(db).close()
    result = CliRunner().invoke(cli, ["--db", str(db), "annotate", "--story", "nope"])
    assert result.exit_code == 1
    assert result.stderr == "Error: no story 'nope' (see `newsmark status`)\n"


def test_the_annotate_command_module_does_not_import_textual():
    code = "import sys, newsmark.tui.commands.annotate, newsmark.tui.keymap; print('textual' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# --- key names: ours mirror Textual's ---------------------------------------------------------

import sqlite3  # noqa: E402
import unicodedata  # noqa: E402

from newsmark.schema.keynames import (  # noqa: E402
    NAMED_KEYS,
    SAME_BYTE_AS,
    SPECIAL_COMBINATIONS,
    canonical_key,
    character_key,
    key_problem,
)
from newsmark.tui.keymap import RESERVED_KEYS, check_scheme_keys, key_clashes  # noqa: E402

ESC_TITLE = "\x1b]0;pwned\x07"
TOML_ESC_TITLE = "\\u001b]0;pwned\\u0007"
RAW_BYTES = ("\x1b", "\x07", "\x9b", "\x9d", "\u202e", "\u200b")


def textual_key_names() -> set[str]:
    from textual._keyboard_protocol import FUNCTIONAL_KEYS, MODIFIER_FUNCTIONAL_KEYS
    from textual.keys import Keys

    names = {key.value for key in Keys} | set(FUNCTIONAL_KEYS.values())
    # never reported: placeholders, a legacy name ("return": Textual says "enter"), a typo
    # of ctrl+@ ("ctrl-at"), and the modifier keys pressed on their own
    return {n for n in names if not n.startswith("<") and n not in ("return", "ctrl-at") and n not in MODIFIER_FUNCTIONAL_KEYS}


def test_named_keys_are_textuals():
    textual = textual_key_names()
    assert NAMED_KEYS == {n for n in textual if "+" not in n and len(n) > 1}
    assert SPECIAL_COMBINATIONS <= textual
    assert [n for n in sorted(textual) if key_problem(n)] == sorted(SAME_BYTE_AS)
    assert all(key_problem(n) == f"arrives as {same} in most terminals (they send the same byte)" for n, same in SAME_BYTE_AS.items())


def test_character_keys_are_named_as_textual_names_them():
    from textual.keys import _character_to_key

    for code in range(0x20, 0x3000):
        character = chr(code)
        if not character.isprintable():
            continue
        assert character_key(character) == _character_to_key(character), hex(code)
        assert key_problem(character) is None
        name = _character_to_key(character)
        if name != character:  # its name is a key too, the same key
            assert key_problem(name) is None, name
            assert canonical_key(name) == canonical_key(character)


def test_reserved_keys_are_those_textual_and_the_article_text_take_first():
    from textual.app import App
    from textual.binding import Binding

    from newsmark.tui.widgets.article_text import ArticleText

    app_priority = {b.key for b in Binding.make_bindings(App.BINDINGS) if b.priority} | {App.COMMAND_PALETTE_BINDING}
    article_text = {b.key for b in Binding.make_bindings(ArticleText.BINDINGS)}
    assert set(RESERVED_KEYS) == app_priority | article_text
    assert {k for k, (who, _) in RESERVED_KEYS.items() if who == "the article text"} == article_text


def test_default_keys_and_scheme_have_no_clash():
    assert key_clashes(default_scheme(), {}, None) == []
    assert all(key_problem(k) is None for keys in default_keymap().values() for k in keys.split(","))
    check_scheme_keys(default_scheme(), "default")  # no SchemeError


# --- keymap files: hostile, malformed, nested, clashing -------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('[keys]\n"undo" = "escpae"\n', "undo: key 'escpae' is not a key name"),
        ('[keys]\n"undo" = "shift+u"\n', "undo: key 'shift+u' never arrives"),
        ('[keys]\n"undo" = "ctrl+,"\n', "undo: expected a key or comma-separated keys, got 'ctrl+,' (the , key is 'comma')"),
        (f'[keys]\n"undo" = "{TOML_ESC_TITLE}"\n', "undo: key '\\x1b]0;pwned\\x07' holds a control or format character"),
        (f'[keys]\n"{TOML_ESC_TITLE}" = "x"\n', "unknown binding id(s): \\x1b]0;pwned\\x07"),
        (f'[keys]\n"undo" = "z"\n[keys."{TOML_ESC_TITLE}"]\n', "\\x1b]0;pwned\\x07: expected a key or comma-separated keys, got a table"),
        (f'["{TOML_ESC_TITLE}"]\nx = 1\n', "unknown table(s) \\x1b]0;pwned\\x07 (expected [keys])"),
        ('[keys]\nundo = ["u"]\n', "undo: expected a key or comma-separated keys, got a list"),
        ('[keys]\nundo = true\n', "undo: expected a key or comma-separated keys, got true (a boolean)"),
        ('[keys]\nundo = { a = 1 }\n', "undo: expected a key or comma-separated keys, got a table"),
        ("keys = " + "[" * 400 + "]" * 400 + "\n", "nested more than 32 levels deep"),
        ("[keys]\nundo = " + "[" * 40 + "]" * 40 + "\n", "nested more than 32 levels deep"),
    ],
)
def test_hostile_keymap_files_are_refused_and_shown_escaped(tmp_path: Path, content: str, message: str):
    path = tmp_path / "keymap.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(KeymapError) as raised:
        load_keymap(path, default_scheme())
    assert str(raised.value).startswith(f"{path}: ")
    assert message in str(raised.value)
    assert not any(raw in str(raised.value) for raw in RAW_BYTES)


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        ('"undo" = "z"\n"quit" = "z"\n', "key 'z' is bound to both undo and quit; give one of them another key"),
        ('"overview" = "a"\n', "key 'a' is bound to both overview and scheme label stance=agree; give one of them another key"),
        ('"label.stance.agree" = "q"\n', "key 'q' is bound to both quit and scheme label stance=agree; give one of them another key"),
        ('"label.stance.agree" = "1"\n', "key '1' is bound to both scheme label stance=agree and scheme label credibility=1; give one of them another key"),
        ('"flag" = "question_mark"\n', "key 'question_mark' is bound to both flag and help; give one of them another key"),
        ('"undo" = "u,n"\n', "key 'n' is bound to both story.next and undo; give one of them another key"),
    ],
)
def test_two_bindings_on_one_key_are_refused_naming_file_ids_and_key(tmp_path: Path, keys: str, message: str):
    path = tmp_path / "keymap.toml"
    path.write_text("[keys]\n" + keys, encoding="utf-8")
    with pytest.raises(KeymapError) as raised:
        load_keymap(path, default_scheme())
    assert str(raised.value) == f"{path}: {message}"


@pytest.mark.parametrize(
    ("binding_id", "key", "taken_by"),
    [
        ("cursor.down", "down", "the article text takes first (for scroll down)"),
        ("story.next", "pagedown", "the article text takes first (for page down)"),
        ("flag", "space", "the article text takes first (for page down)"),
        ("help", "ctrl+p", "the app takes first (for the command palette)"),
        ("quit", "ctrl+q", "the app takes first (for quit)"),
    ],
)
def test_keys_the_app_takes_first_are_refused(tmp_path: Path, binding_id: str, key: str, taken_by: str):
    path = tmp_path / "keymap.toml"
    path.write_text(f'[keys]\n"{binding_id}" = "{key}"\n', encoding="utf-8")
    with pytest.raises(KeymapError) as raised:
        load_keymap(path, default_scheme())
    assert str(raised.value) == (
        f"{path}: {binding_id} = '{key}': the action {binding_id} uses key '{key}', which {taken_by}, "
        "so it would never work; choose another key"
    )


def test_keymap_files_are_read_only_when_regular(tmp_path: Path):
    with pytest.raises(KeymapError) as raised:
        load_keymap("/dev/null", default_scheme())
    assert str(raised.value) == "/dev/null: cannot read: not a regular file (a character device); a keymap must be a regular file"
    fifo = tmp_path / "fifo.toml"
    os.mkfifo(fifo)
    with pytest.raises(KeymapError, match="not a regular file \\(a FIFO\\)"):
        load_keymap(fifo, default_scheme())
    folder = tmp_path / "folder"
    folder.mkdir()
    with pytest.raises(KeymapError, match="not a regular file \\(a directory\\)"):
        load_keymap(folder, default_scheme())


# --- annotate: refused before the app starts ------------------------------------------------


def annotate(db: Path, tmp_path: Path, *args: str):
    """`newsmark annotate` with the user's config folder in tmp_path (no keymap there)."""
    return CliRunner(env={"XDG_CONFIG_HOME": str(tmp_path / "config")}).invoke(cli, ["--db", str(db), "annotate", *args])


def set_stored_scheme(db: Path, text: str) -> None:
    """Write a scheme into the database directly, as a database from before these checks
    (or a teammate's older newsmark) may hold it."""
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("UPDATE settings SET value = ? WHERE key = 'scheme'", (text,))
    conn.close()


FRAMES_CLASHING = (
    'name = "frames"\n[[fields]]\nname = "frame"\nlevel = "article"\nkind = "nominal"\n'
    'labels = [{ value = "conflict", key = "c" }, { value = "economic", key = "e" }]\n'
)


def test_annotate_refuses_a_stored_scheme_whose_labels_clash_with_the_keymap(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    db = tmp_path / "n.db"
    Store.open(db).close()
    set_stored_scheme(db, FRAMES_CLASHING)
    result = annotate(db, tmp_path)
    user_file = tmp_path / "config" / "newsmark" / "keymap.toml"
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        "Error: scheme label frame=conflict uses key 'c', which the keymap gives to claim.toggle; choose another key "
        f"in the scheme or remap claim.toggle in {user_file}; scheme label frame=economic uses key 'e', which the "
        f"keymap gives to note; choose another key in the scheme or remap note in {user_file}\n"
    )
    # the remedy it names works: the user's keymap moves both actions away
    user_file.parent.mkdir(parents=True)
    user_file.write_text('[keys]\n"claim.toggle" = "m"\n"note" = "ctrl+n"\n', encoding="utf-8")
    with Store.open(db) as store:
        assert load_keymap(None, store.scheme) == {"claim.toggle": "m", "note": "ctrl+n"}


def test_annotate_refuses_a_keymap_binding_two_actions_to_one_key(tmp_path: Path):
    db = tmp_path / "n.db"
    Store.open(db).close()
    keymap = tmp_path / "k.toml"
    keymap.write_text('[keys]\n"undo" = "x"\n', encoding="utf-8")
    result = annotate(db, tmp_path, "--keymap", str(keymap))
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == f"Error: {keymap}: key 'x' is bound to both undo and scheme label stance=unrelated; give one of them another key\n"


def test_annotate_refuses_a_key_name_that_does_not_exist(tmp_path: Path):
    db = tmp_path / "n.db"
    Store.open(db).close()
    keymap = tmp_path / "k.toml"
    keymap.write_text('[keys]\n"quit" = "ctrl+Q"\n', encoding="utf-8")
    result = annotate(db, tmp_path, "--keymap", str(keymap))
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        f"Error: {keymap}: quit: key 'ctrl+Q' never arrives: with a modifier a letter is lower case (ctrl+shift+q)\n"
    )


def test_annotate_shows_a_hostile_keymap_escaped(tmp_path: Path):
    db = tmp_path / "n.db"
    Store.open(db).close()
    keymap = tmp_path / "k\x1b[2J.toml"
    keymap.write_text(f'[keys]\n"{TOML_ESC_TITLE}" = "x"\n"undo" = "{TOML_ESC_TITLE}"\n', encoding="utf-8")
    result = annotate(db, tmp_path, "--keymap", str(keymap))
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == f"Error: {tmp_path}/k\\x1b[2J.toml: undo: key '\\x1b]0;pwned\\x07' holds a control or format character\n"


def test_annotate_refuses_a_deeply_nested_keymap(tmp_path: Path):
    db = tmp_path / "n.db"
    Store.open(db).close()
    keymap = tmp_path / "k.toml"
    keymap.write_text("[keys]\nundo = " + "[" * 600 + "]" * 600 + "\n", encoding="utf-8")
    result = annotate(db, tmp_path, "--keymap", str(keymap))
    assert (result.exit_code, result.stdout, result.stderr) == (1, "", f"Error: {keymap}: nested more than 32 levels deep\n")


# --- why the reserved keys are refused: in the app they never reach a label ----------------


@pytest.mark.parametrize("reserved", ["space", "down"])
async def test_a_label_on_a_reserved_key_would_never_be_set(db_path: Path, reserved: str):
    """A database whose scheme predates the checks (set directly, as an older newsmark
    did): the label on a key the article text takes is dead, the one beside it works. This
    is why init and annotate refuse such keys."""
    from tests.test_tui_annotate import make_app, ready, reopen, saved
    from newsmark.schema.ingest import import_paths
    from tests.conftest import SEEDS

    scheme = (
        '[[fields]]\nname = "tone"\nlevel = "article"\nkind = "nominal"\n'
        f'labels = [{{ value = "calm", key = "{reserved}" }}]\n'
        '[[fields]]\nname = "pace"\nlevel = "article"\nkind = "nominal"\nlabels = [{ value = "fast", key = "z" }]\n'
    )
    with Store.open(db_path) as store:
        import_paths(store, [SEEDS])
        store.set_scheme(scheme, "old.toml")
        first = store.article_ids(store.stories()[0].id)[0]
        assert key_clashes(store.scheme, {}, None)[0].startswith(f"scheme label tone=calm uses key '{reserved}'")
    app = make_app(db_path)
    async with app.run_test(size=(160, 50)) as pilot:
        await ready(app, pilot)
        await pilot.press(reserved, "z")  # in order: a label set by the first is saved first
        await saved(app, pilot)
    app.close_stores()
    with reopen(db_path) as store:
        assert store.labels(first, "alice") == {"pace": "fast"}
