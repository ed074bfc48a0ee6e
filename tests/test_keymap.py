"""The keymap: defaults as data, binding ids, user overrides, scheme label keys, and the
`annotate` command's handling of bad keymap files."""

from __future__ import annotations

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
