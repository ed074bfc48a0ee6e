"""Scheme parsing and validation: clear errors for every kind of mistake."""

from __future__ import annotations

import pytest

from newsmark.schema.scheme import SchemeError, default_scheme, parse_scheme


def field(name="f", level='"article"', kind='"nominal"', labels='[{ value = "a", key = "a" }]'):
    return f"[[fields]]\nname = \"{name}\"\nlevel = {level}\nkind = {kind}\nlabels = {labels}\n"


def test_default_scheme_has_the_admiralty_wording():
    scheme = default_scheme()
    reliability = scheme.field("reliability")
    assert [(lab.key, lab.description) for lab in reliability.labels][:2] == [
        ("A", "completely reliable"),
        ("B", "usually reliable"),
    ]
    assert reliability.label("F").missing and scheme.field("credibility").label("6").missing
    assert scheme.field("credibility").level == ["article", "claim"]
    assert scheme.by_key("claim", "+")[1].value == "yes"
    assert scheme.by_key("article", "+") is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (field(labels="[]"), "fields.0: Value error, field 'f': the list of labels is empty".replace("Value error, ", "")),
        (field(level='"sentence"'), "fields.0.level.0: Input should be 'article' or 'claim'"),
        (field(kind='"ratio"'), "fields.0.kind: Input should be 'nominal', 'ordinal' or 'interval'"),
        (field(labels='[{ value = "a", key = "k" }, { value = "b", key = "k" }]'), "duplicate field 'f': key 'k'"),
        (field() + field(name="g"), "duplicate key 'a' at the article level: f=a and g=a"),
        (field() + field(), "duplicate field name 'f'"),
        ("fields = []", "the scheme has no fields"),
        ("fields = [", "invalid TOML"),
    ],
)
def test_bad_schemes_get_clear_errors(text, message):
    with pytest.raises(SchemeError) as caught:
        parse_scheme(text, "my.toml")
    assert str(caught.value).startswith("my.toml: ")
    assert message in str(caught.value)


def test_same_key_at_different_levels_is_allowed():
    scheme = parse_scheme(field() + field(name="g", level='"claim"'))
    assert scheme.by_key("claim", "a")[0].name == "g"


def test_interval_fields_need_numeric_labels():
    labels = '[{ value = "1", key = "1" }, { value = "2.5", key = "2" }, { value = "n/a", key = "n", missing = true }]'
    assert parse_scheme(field(kind='"interval"', labels=labels)).field("f").kind == "interval"
    with pytest.raises(SchemeError, match="interval labels must be finite numbers such as 1, 2.5 or -3 \\(.high. is not\\)"):
        parse_scheme(field(kind='"interval"', labels='[{ value = "high", key = "h" }]'))


# --- hostile and malformed values: refused at the edge, shown only through for_terminal ---

ESC_TITLE = "\x1b]0;pwned\x07"
RAW_BYTES = ("\x1b", "\x07", "\x9b", "\x9d", "\u202e", "\u200b")


def assert_terminal_safe(text: str) -> None:
    assert not any(raw in text for raw in RAW_BYTES), repr(text)
    assert "Traceback" not in text


def label(value="a", key="a", description=""):
    return f'{{ value = "{value}", key = "{key}", description = "{description}" }}'


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (field(labels=f"[{label(value='x' + ESC_TITLE)}]"),
         "fields.0.labels.0.value: label value 'x\\x1b]0;pwned\\x07' holds a control or format character"),
        (field(labels=f"[{label(value='safe' + chr(0x202e) + 'txt')}]"),
         "label value 'safe\\u202etxt' holds a control or format character"),
        (field(labels=f"[{label(description='fine' + ESC_TITLE)}]"),
         "fields.0.labels.0.description: description 'fine\\x1b]0;pwned\\x07' holds a control or format character"),
        (field(labels=f"[{label(description='two' + chr(10) + 'lines')}]".replace(chr(10), "\\n")),
         "description 'two\\x0alines' holds a control or format character (or a line break)"),
        (field(labels=f"[{label(key=ESC_TITLE)}]"),
         "fields.0.labels.0.key: key '\\x1b]0;pwned\\x07' holds a control or format character"),
        (field(labels=f"[{label(value='x' * 65)}]"), "label value is longer than 64 characters"),
        (field(labels=f"[{label(value='  ')}]"), "label value '  ' must be non-empty, with no spaces at either end"),
        (field(labels=f"[{label(value=' agree')}]"), "label value ' agree' must be non-empty"),
        (field(labels=f"[{label(description='d' * 201)}]"), "description is longer than 200 characters"),
        (f'name = "n{ESC_TITLE}"\n' + field(), "name: scheme name 'n\\x1b]0;pwned\\x07' holds a control"),
        (field(name=f"f{ESC_TITLE}"), "field name 'f\\x1b]0;pwned\\x07' must be a lower-case letter"),
        (field(name="f\\n"), "field name 'f\\x0a' must be a lower-case letter"),
        (field().replace('kind = "nominal"', f'kind = "nominal"\ndescription = "{ESC_TITLE}"'),
         "fields.0.description: description '\\x1b]0;pwned\\x07' holds a control"),
        # an unknown key is named by the error's location: the file's own (hostile) text
        (f'"k{ESC_TITLE}" = 1\n' + field(), "k\\x1b]0;pwned\\x07: Extra inputs are not permitted"),
    ],
)
def test_hostile_strings_are_refused_and_shown_escaped(text, message):
    with pytest.raises(SchemeError) as caught:
        parse_scheme(text.replace(ESC_TITLE, ESC_TITLE.replace("\x1b", "\\u001b").replace("\x07", "\\u0007")), "my.toml")
    assert message in str(caught.value)
    assert_terminal_safe(str(caught.value))


def test_the_origin_of_an_error_is_shown_escaped():
    with pytest.raises(SchemeError) as caught:
        parse_scheme("fields = []", f"evil{ESC_TITLE}.toml")
    assert str(caught.value) == "evil\\x1b]0;pwned\\x07.toml: the scheme has no fields"


@pytest.mark.parametrize("value", ["nan", "NaN", "inf", "-inf", "+Infinity", "1e999", "-1e400", "1_000", " 1", "0x10", "", "\u0663"])
def test_interval_labels_must_be_finite_plain_numbers(value):
    labels = f'[{{ value = "1", key = "1" }}, {{ value = "{value}", key = "2" }}]'
    with pytest.raises(SchemeError) as caught:
        parse_scheme(field(kind='"interval"', labels=labels), "my.toml")
    assert "interval labels must be finite numbers" in str(caught.value) or "label value" in str(caught.value)


@pytest.mark.parametrize("value", ["0", "-3", "2.5", ".5", "7.", "1e2", "+4"])
def test_interval_labels_take_ordinary_numbers(value):
    labels = f'[{{ value = "{value}", key = "1" }}]'
    assert parse_scheme(field(kind='"interval"', labels=labels)).field("f").values == [value]


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        ("escpae", "'escpae' is not a key name"),
        ("shift+a", "'shift+a' never arrives: shift with a character is reported as the character it types"),
        ("ctrl+A", "'ctrl+A' never arrives: with a modifier a letter is lower case (ctrl+shift+a)"),
        ("shift+ctrl+x", "'shift+ctrl+x' is spelled ctrl+shift+x by Textual"),
        ("ctrl+/", "'ctrl+/' is spelled ctrl+slash by Textual"),
        ("super+ctrl+ctrl+x", "'super+ctrl+ctrl+x' repeats a modifier"),
        ("cmd+x", "'cmd+x' has an unknown modifier"),
        ("ab", "'ab' is not a key name"),
        ("a b", "'a b' holds white space"),
        ("\\t", "'\\x09' holds a control or format character"),
        ("f99", "'f99' is not a key name"),
        ("ctrl+i", "'ctrl+i' arrives as tab in most terminals (they send the same byte)"),
    ],
)
def test_label_keys_must_be_keys_textual_reports(key, reason):
    with pytest.raises(SchemeError) as caught:
        parse_scheme(field(labels=f"[{label(key=key)}]"), "my.toml")
    assert f"fields.0.labels.0.key: key {reason}" in str(caught.value)


@pytest.mark.parametrize("key", ["a", "A", "?", "question_mark", "+", "plus", "é", "ctrl+x", "alt+shift+a", "f5", "tab", "ctrl+shift+up", "comma"])
def test_label_keys_textual_reports_are_taken(key):
    assert parse_scheme(field(labels=f"[{label(key=key)}]")).field("f").labels[0].key == key


def test_two_spellings_of_one_key_are_one_key():
    labels = f"[{label(value='a', key='?')}, {label(value='b', key='question_mark')}]"
    with pytest.raises(SchemeError, match="duplicate field 'f': key 'question_mark' \\(the same key as '\\?'\\)"):
        parse_scheme(field(labels=labels))
    with pytest.raises(SchemeError, match="duplicate key 'plus' at the article level: f=a and g=a"):
        parse_scheme(field(labels=f"[{label(key='+')}]") + field(name="g", labels=f"[{label(key='plus')}]"))
    scheme = parse_scheme(field(labels=f"[{label(key='+')}]") + field(name="g", level='"claim"', labels=f"[{label(key='plus')}]"))
    assert scheme.by_key("claim", "+")[0].name == "g" and scheme.by_key("article", "plus")[0].name == "f"


def nested(depth: int) -> str:
    return "x = " + "[" * depth + "1" + "]" * depth + "\n"


@pytest.mark.parametrize("depth", [33, 300, 5000])
def test_deeply_nested_schemes_are_refused_with_a_reason(depth):
    with pytest.raises(SchemeError) as caught:
        parse_scheme(nested(depth) + field(), "deep.toml")
    assert str(caught.value) == "deep.toml: nested more than 32 levels deep"


# --- through the CLI: `newsmark init --scheme` ---------------------------------------------

import os  # noqa: E402
from contextlib import contextmanager  # noqa: E402
import re  # noqa: E402
import sqlite3  # noqa: E402
import threading  # noqa: E402
from pathlib import Path  # noqa: E402

from click.testing import CliRunner  # noqa: E402

from newsmark.schema.models import Story  # noqa: E402
from newsmark.schema.sanitize import article_id_for, text_sha256  # noqa: E402
from newsmark.schema.store import Store  # noqa: E402
from newsmark.tui.cli import cli  # noqa: E402
from tests.conftest import ROOT  # noqa: E402

TEXT = "Officials met on Monday. They agreed to share intelligence. Critics objected."
FRAMES_CLASHING = (  # the README's example scheme before this change
    'name = "frames"\n\n[[fields]]\nname = "frame"\nlevel = "article"\nkind = "nominal"\nlabels = [\n'
    '  { value = "conflict", key = "c", description = "conflict between actors" },\n'
    '  { value = "economic", key = "e", description = "costs and benefits" },\n]\n'
)


def database_in_use(db_path: Path) -> Path:
    """A database with a story, an article and a stance label (the default scheme)."""
    with Store.open(db_path) as store:
        with store.transaction() as conn:
            store.ensure_story(conn, Story(id="s1", title="A story", proposition="Something happened."))
            store.insert_articles(
                conn, [(article_id_for(TEXT), "s1", "Outlet", None, "Title", None, None, TEXT, text_sha256(TEXT), "{}", "t")]
            )
        store.set_label(article_id_for(TEXT), "alice", "stance", "agree")
    return db_path


def snapshot(db_path: Path) -> tuple:
    """Everything a refused init must leave as it was: the scheme, the row counts, integrity."""
    conn = sqlite3.connect(db_path)
    try:
        scheme = conn.execute("SELECT value FROM settings WHERE key = 'scheme'").fetchone()
        tables = [name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        counts = {table: conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0] for table in tables}
        integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()
    return scheme, counts, integrity


def init(db_path: Path, scheme_path: Path | str):
    return CliRunner().invoke(cli, ["--db", str(db_path), "init", "--scheme", str(scheme_path)])


def refused(db_path: Path, scheme_path: Path | str, stderr: str) -> None:
    """init --scheme exits 1 with exactly `stderr`, nothing raw, and the database unchanged."""
    before = snapshot(db_path)
    result = init(db_path, scheme_path)
    assert (result.exit_code, result.stdout, result.stderr) == (1, "", stderr)
    assert_terminal_safe(result.output)
    after = snapshot(db_path)
    assert after == before and after[2] == "ok" and after[1]["labels"] == 1


def test_init_refuses_the_old_readme_example_naming_each_clash(tmp_path):
    db = database_in_use(tmp_path / "n.db")
    scheme = tmp_path / "frames.toml"
    scheme.write_text(FRAMES_CLASHING, encoding="utf-8")
    refused(db, scheme, (
        f"Error: {scheme}: scheme label frame=conflict uses key 'c', which the default keymap gives to claim.toggle; "
        "choose another key in the scheme; scheme label frame=economic uses key 'e', which the default keymap gives "
        "to note; choose another key in the scheme\n"
    ))


@pytest.mark.parametrize(
    ("key", "clash"),
    [
        ("q", "which the default keymap gives to quit; choose another key in the scheme"),
        ("?", "which the default keymap gives to help; choose another key in the scheme"),
        ("question_mark", "which the default keymap gives to help; choose another key in the scheme"),
        ("escape", "which the default keymap gives to cancel; choose another key in the scheme"),
        ("ctrl+z", "which the default keymap gives to undo; choose another key in the scheme"),
        (" ", "which the article text takes first (for page down), so it would never work; choose another key"),
        ("down", "which the article text takes first (for scroll down), so it would never work; choose another key"),
        ("ctrl+q", "which the app takes first (for quit), so it would never work; choose another key"),
        ("ctrl+p", "which the app takes first (for the command palette), so it would never work; choose another key"),
    ],
)
def test_init_refuses_label_keys_the_app_uses(tmp_path, key, clash):
    db = database_in_use(tmp_path / "n.db")
    scheme = tmp_path / "s.toml"
    scheme.write_text(field(name="tone", labels=f"[{label(value='calm', key=key)}]"), encoding="utf-8")
    refused(db, scheme, f"Error: {scheme}: scheme label tone=calm uses key '{key}', {clash}\n")


def test_a_label_key_takes_an_optional_action_key(tmp_path):
    """Keys of actions that yield (overview o, shared h, suggestions J/K/L, wording w) go to
    a label that wants them: not a clash (the action keeps its palette entry)."""
    db = tmp_path / "n.db"
    scheme = tmp_path / "s.toml"
    scheme.write_text(field(name="tone", labels=f"[{label(value='calm', key='o')}, {label(value='wry', key='h')}]"), encoding="utf-8")
    result = init(db, scheme)
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == f"Database {db} ready; scheme 'custom': tone\n"


def test_init_refuses_a_hostile_scheme_and_leaves_the_database_as_it_was(tmp_path):
    db = database_in_use(tmp_path / "n.db")
    scheme = tmp_path / "s.toml"
    # every string of the scheme hostile at once: each problem is named, each escaped
    scheme.write_text(
        'name = "x\\u001b]0;pwned\\u0007"\n"\\u001b[31mred" = 1\n'
        + field(labels='[{ value = "v\\u202e", key = "\\u001b[A", description = "\\u009b2J" }]'),
        encoding="utf-8",
    )
    result = init(db, scheme)
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and result.stderr.startswith(f"Error: {scheme}: ")
    for shown in ("name: scheme name 'x\\x1b]0;pwned\\x07'", "\\x1b[31mred: Extra inputs are not permitted",
                  "label value 'v\\u202e'", "key '\\x1b[A'", "description '\\x9b2J'"):
        assert shown in result.stderr
    refused(db, scheme, result.stderr)


def test_init_refuses_nan_in_an_interval_scheme(tmp_path):
    db = database_in_use(tmp_path / "n.db")
    scheme = tmp_path / "s.toml"
    scheme.write_text(field(name="scale", kind='"interval"', labels='[{ value = "1", key = "1" }, { value = "nan", key = "2" }]'))
    refused(db, scheme, (
        f"Error: {scheme}: fields.0: field 'scale': interval labels must be finite numbers such as 1, 2.5 or -3 "
        "('nan' is not)\n"
    ))


def test_init_refuses_a_deeply_nested_scheme(tmp_path):
    db = database_in_use(tmp_path / "n.db")
    scheme = tmp_path / "deep.toml"
    scheme.write_text(nested(500) + field(), encoding="utf-8")
    refused(db, scheme, f"Error: {scheme}: nested more than 32 levels deep\n")


def test_init_names_a_hostile_file_name_escaped(tmp_path):
    db = database_in_use(tmp_path / "n.db")
    scheme = tmp_path / "evil\x1b]0;pwned\x07.toml"
    scheme.write_text("fields = []\n", encoding="utf-8")
    refused(db, scheme, f"Error: {tmp_path}/evil\\x1b]0;pwned\\x07.toml: the scheme has no fields\n")


@contextmanager
def unblocking(fifo: Path, after: float = 10.0):
    """Within the block, a reader blocked on `fifo` is released after `after` seconds."""
    done = threading.Event()

    def release() -> None:
        if not done.wait(after):
            try:
                os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
            except OSError:  # no reader waiting: nothing to release
                pass

    thread = threading.Thread(target=release, daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()


def test_init_reads_only_a_regular_scheme_file(tmp_path):
    db = database_in_use(tmp_path / "n.db")
    refused(db, "/dev/null", "Error: /dev/null: cannot read: not a regular file (a character device); a scheme must be a regular file\n")
    fifo = tmp_path / "fifo.toml"
    os.mkfifo(fifo)
    # No writer: a blocking open would wait for one. So that a reader that does wait fails
    # this test instead of hanging it, a writer comes after 10 s and closes at once.
    with unblocking(fifo):
        refused(db, fifo, f"Error: {fifo}: cannot read: not a regular file (a FIFO); a scheme must be a regular file\n")
    big = tmp_path / "big.toml"
    big.write_text("# " + "x" * (1 << 20) + "\n" + field(), encoding="utf-8")
    refused(db, big, f"Error: {big}: cannot read: larger than 1024 KiB; a scheme file is a few kilobytes\n")
    latin = tmp_path / "latin.toml"
    latin.write_bytes(b'name = "caf\xe9"\n' + field().encode())
    refused(db, latin, f"Error: {latin}: cannot read: not valid UTF-8 (byte 11)\n")
    refused(db, tmp_path / "nope.toml", f"Error: {tmp_path}/nope.toml: cannot read: No such file or directory\n")
    link = tmp_path / "link.toml"
    link.symlink_to("/dev/null")
    refused(db, link, f"Error: {link}: cannot read: not a regular file (a character device); a scheme must be a regular file\n")


def readme_scheme_example() -> str:
    """The example scheme of README.md's "The annotation scheme" section."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## The annotation scheme"):]
    return re.search(r"```toml\n(.*?)```", section, re.S).group(1)


def test_the_readme_example_scheme_is_accepted(tmp_path):
    db = tmp_path / "n.db"
    scheme = tmp_path / "frames.toml"
    scheme.write_text(readme_scheme_example(), encoding="utf-8")
    result = init(db, scheme)
    assert (result.exit_code, result.stderr) == (0, ""), result.stderr
    assert result.stdout == f"Database {db} ready; scheme 'frames': frame\n"
    with Store.open(db) as store:
        assert [lab.key for lab in store.scheme.field("frame").labels] == ["1", "2", "3"]


def test_a_huge_hostile_value_is_not_echoed_whole():
    with pytest.raises(SchemeError) as caught:
        parse_scheme(field(labels=f"[{label(key='k' * 100_000)}, {label(value='b', key=chr(0x1b) * 100_000)}]".replace(chr(0x1b), "\\u001b")), "my.toml")
    assert len(str(caught.value)) < 500
    assert "fields.0.labels.0.key: key 'kkk" in str(caught.value) and "…' is longer than 120 characters" in str(caught.value)
    assert "fields.0.labels.1.key: key '\\x1b\\x1b" in str(caught.value)


def test_many_problems_are_counted_not_all_listed():
    labels = ", ".join(label(value=f"v{i}", key=f"bad key {i}") for i in range(50))
    with pytest.raises(SchemeError) as caught:
        parse_scheme(field(labels=f"[{labels}]"), "my.toml")
    assert str(caught.value).count("holds white space") == 10
    assert str(caught.value).endswith("; and 40 more")


# --- the scheme's wording on screen: shown as written, never parsed as markup ----------------


async def test_markup_in_a_schemes_wording_is_shown_as_text_in_the_command_palette(db_path):
    """Values and descriptions may hold brackets ("[/]" is a fine label): the command
    palette, which parses markup, must show them as written and keep running."""
    from newsmark.schema.ingest import import_paths
    from tests.conftest import SEEDS
    from tests.test_tui_annotate import make_app, ready, reopen, saved, screen_text, until

    wording = "[link=http://evil.example]click[/link] [/]"
    with Store.open(db_path) as store:
        import_paths(store, [SEEDS])
        store.set_scheme(field(name="tone", labels=f"[{label(value='[/]', key='z', description=wording)}]"), "s.toml")
        first = store.article_ids(store.stories()[0].id)[0]
    app = make_app(db_path)
    async with app.run_test(size=(200, 50)) as pilot:
        await ready(app, pilot)
        await pilot.press("ctrl+p")
        await until(pilot, lambda: type(app.screen).__name__ == "CommandPalette")
        await pilot.press(*"set tone")
        await until(pilot, lambda: wording in screen_text(app))
        await pilot.press("enter")
        await until(pilot, lambda: type(app.screen).__name__ == "AnnotateScreen")
        await saved(app, pilot)
    app.close_stores()
    with reopen(db_path) as store:
        assert store.labels(first, "alice") == {"tone": "[/]"}


# --- scope ---------------------------------------------------------------------------------


def test_default_scheme_judges_stance_per_story_and_the_rest_per_article():
    scheme = default_scheme()
    assert {f.name: f.scope for f in scheme.fields} == {
        "stance": "story", "reliability": "article", "credibility": "article", "checkworthy": "article",
    }
    assert scheme.story_fields() == frozenset({"stance"})


def test_scope_defaults_by_name_and_may_be_given():
    scheme = parse_scheme(field(name="stance") + field(name="frame", labels='[{ value = "x", key = "x" }]')
                          + field(name="topic", labels='[{ value = "t", key = "t" }]').replace(
                              'kind = "nominal"', 'kind = "nominal"\nscope = "story"'))
    assert [(f.name, f.scope) for f in scheme.fields] == [("stance", "story"), ("frame", "article"), ("topic", "story")]
    assert scheme.story_fields() == frozenset({"stance", "topic"})


def test_an_unknown_scope_is_refused():
    with pytest.raises(SchemeError) as caught:
        parse_scheme(field().replace('kind = "nominal"', 'kind = "nominal"\nscope = "outlet"'), "my.toml")
    assert "fields.0.scope: Input should be 'story' or 'article'" in str(caught.value)
