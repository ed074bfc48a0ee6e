"""`newsmark import`: exact output on stdout and stderr, exit codes, then the database reopened."""

from __future__ import annotations

import contextlib
import json
import os
import signal
from pathlib import Path

import orjson
from click.testing import CliRunner

from newsmark.schema.ingest import import_paths
from newsmark.schema.store import Store
from tests.conftest import SEEDS
from tests.hostile import HOSTILE_CASES, broken_jsonl, write
from newsmark.tui.cli import cli
from tests.engines import assert_intact
from tests.engines import database_exists

ON_BOTH_ENGINES = True  # every test here runs on SQLite and on PostgreSQL (conftest)


def run(db_path: Path, *args: str):
    return CliRunner().invoke(cli, ["--db", str(db_path), "import", *args])


def test_import_seeds_prints_counts_and_stores_the_story(db_path):
    result = run(db_path, str(SEEDS))
    assert result.exit_code == 0
    assert result.stdout == "Imported 5 articles (0 duplicates, 0 rejected) into 1 story\n"
    assert result.stderr == ""
    with Store.open(db_path, create=False) as store:
        story = store.get_story("us-taliban-isisk")
        assert story.title == "US–Taliban cooperation against ISIS-K"
        assert story.proposition.startswith("The United States is cooperating")
        titles = [store.get_article(a).title for a in store.article_ids("us-taliban-isisk")]
        assert titles[0] == "Pentagon Explores Unlikely Partnership with Taliban to Fight ISIS-K in Afghanistan"
        assert len(titles) == 5
        assert store.status()["stories"] == 1


def test_reimport_reports_duplicates(db_path):
    run(db_path, str(SEEDS))
    result = run(db_path, str(SEEDS))
    assert result.exit_code == 0
    assert result.stdout == "Imported 0 articles (5 duplicates, 0 rejected) into 1 story\n"
    with Store.open(db_path, create=False) as store:
        assert store.article_count() == 5


def test_hostile_files_are_named_on_stderr_and_exit_1(db_path, tmp_path):
    folder = tmp_path / "h"
    for case in HOSTILE_CASES:
        case.make(folder)
    broken_jsonl(folder)  # line 4 is not UTF-8: the whole file is rejected, naming that line
    result = run(db_path, str(folder))
    assert result.exit_code == 1
    assert result.stdout == "Imported 3 articles (0 duplicates, 5 rejected) into 1 story\n"
    assert result.stderr == "".join(f"rejected: {folder}/{line}\n" for line in [
        "blank.txt: no text left after sanitising (only blank space or control characters)",
        "broken.jsonl:4: not valid UTF-8 (byte 149: b'\\xe9'); file not imported",
        "empty.txt: empty",
        "image.txt: binary file (NUL bytes), not text",
        "latin1.txt:2: not valid UTF-8 (byte 19: b'\\xe9')",
    ])
    with Store.open(db_path, create=False) as store:
        assert_intact(store)
        assert store.article_count() == 3
        assert sorted(store.conn.execute("SELECT id FROM stories").fetchall()) == [("h",)]


def test_json_report(db_path, tmp_path):
    empty = write(tmp_path / "empty.txt", b"")
    result = run(db_path, str(SEEDS), str(empty), "--json")
    assert result.exit_code == 1
    assert result.stderr == ""
    assert json.loads(result.stdout) == {
        "imported": 5, "duplicates": 0,
        "rejected": [{"file": str(empty), "line": None, "reason": "empty"}],
        "stories": ["us-taliban-isisk"], "warnings": [], "skipped": [], "empty": [],
    }


def test_story_source_and_map_options(db_path, tmp_path):
    csv_path = write(tmp_path / "bodies.csv", "Body ID,articleBody\n1,First body\n2,Second body\n")
    result = run(db_path, str(csv_path), "--story", "fnc-bodies", "--source", "FNC-1", "--map", "text=articleBody")
    assert result.exit_code == 0, result.output
    assert result.stdout == "Imported 2 articles (0 duplicates, 0 rejected) into 1 story\n"
    with Store.open(db_path, create=False) as store:
        got = store.conn.execute("SELECT story_id, source, text, meta FROM articles ORDER BY seq").fetchall()
        assert got == [("fnc-bodies", "FNC-1", "First body", '{"Body ID":"1"}'),
                       ("fnc-bodies", "FNC-1", "Second body", '{"Body ID":"2"}')]


def test_bad_options_are_usage_errors(db_path):
    result = run(db_path, str(SEEDS), "--map", "text")
    assert result.exit_code == 2
    assert "Invalid value for '--map': 'text' is not DEST=SRC (e.g. text=articleBody)" in result.stderr
    result = run(db_path, str(SEEDS), "--map", "body=articleBody")
    assert result.exit_code == 2
    assert "'body' is not a field; fields: title, text, source, url, published, byline, story" in result.stderr
    result = run(db_path, str(SEEDS), "--story", "not a slug")
    assert result.exit_code == 2
    assert "Invalid value for '--story': invalid story id 'not a slug'" in result.stderr
    assert not database_exists(db_path) or Store.open(db_path).article_count() == 0


def test_missing_path_is_rejected_and_the_rest_imported(db_path, tmp_path):
    missing = tmp_path / "missing.txt"
    result = run(db_path, str(missing), str(SEEDS))
    assert result.exit_code == 1
    assert result.stdout == "Imported 5 articles (0 duplicates, 1 rejected) into 1 story\n"
    assert result.stderr == f"rejected: {missing}: no such file or folder\n"


def test_skipped_files_and_story_toml_warnings(db_path, tmp_path):
    folder = tmp_path / "s"
    write(folder / "story.toml", '[story]\nid = "s"\n[articles."gone.txt"]\ntitle = "x"\n')
    write(folder / "a.txt", "A\nbody")
    write(folder / "b.pdf", b"%PDF")
    write(folder / "c.docx", b"PK")
    result = run(db_path, str(folder))
    assert result.exit_code == 0
    assert result.stdout == "Imported 1 article (0 duplicates, 0 rejected) into 1 story\n"
    assert result.stderr == (
        f"warning: {folder}/story.toml: [articles.'gone.txt'] names a file that is not in the folder\n"
        "skipped 2 files of other types (.docx 1, .pdf 1)\n"
    )


def test_news_articles_corpus_from_the_cli(db_path, shared_data):
    path = shared_data / "news-articles" / "NewsArticles.csv"
    result = run(db_path, str(path), "--map", "url=article_source_link", "--map", "published=publish_date")
    assert result.exit_code == 0  # 36 rows have no text: skipped and counted, not failures
    assert result.stdout == "Imported 3781 articles (7 duplicates, 0 rejected, 36 skipped with empty text) into 1 story\n"
    assert result.stderr.splitlines()[0] == f"skipped: {path}:23: empty text"
    assert len(result.stderr.splitlines()) == 36
    with Store.open(db_path, create=False) as store:
        assert store.article_count("newsarticles") == 3781


def test_fnc1_folder_from_the_cli(db_path, shared_data):
    result = run(db_path, str(shared_data / "fnc1"), "--map", "text=articleBody", "--story", "fnc1")
    assert result.exit_code == 1  # the stances file has no text column
    assert result.stdout == "Imported 900 articles (4 duplicates, 1 rejected) into 1 story\n"
    assert result.stderr == (
        f"rejected: {shared_data / 'fnc1' / 'competition_test_stances.csv'}:1: "
        "no text column (columns: Headline, Body ID, Stance); name one with --map text=COLUMN\n"
    )
    with Store.open(db_path, create=False) as store:
        assert store.article_count("fnc1") == 900


def test_progress_bar_starts_only_on_a_terminal_after_a_moment(monkeypatch):
    from newsmark.tui.commands import import_ as command_module

    monkeypatch.setattr(command_module.sys.stderr, "isatty", lambda: False, raising=False)
    quiet = command_module._LazyBar()
    quiet.started_at -= 10
    quiet(1, 100)
    assert quiet.progress is None

    monkeypatch.setattr(command_module.sys.stderr, "isatty", lambda: True, raising=False)
    bar = command_module._LazyBar()
    bar(1, 100)
    assert bar.progress is None  # too early: quick imports show no bar
    bar.started_at -= 10
    bar(40, 100)
    assert bar.progress is not None
    bar(100, 100)
    assert bar.progress.tasks[0].completed == 100
    bar.stop()


def test_import_does_not_load_textual(tmp_path):
    import subprocess
    import sys

    from tests.conftest import ROOT

    code = (
        "import sys\nfrom click.testing import CliRunner\nfrom newsmark.tui.cli import cli\n"
        f"result = CliRunner().invoke(cli, ['--db', r'{tmp_path / 'h.db'}', 'import', r'{SEEDS}'])\n"
        "assert result.exit_code == 0, result.output\n"
        "print(any(m == 'textual' or m.startswith('textual.') for m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "False"


def test_rejections_are_listed_in_argument_order(db_path, tmp_path):
    empty = write(tmp_path / "empty.txt", b"")
    result = run(db_path, str(tmp_path / "first.txt"), str(empty), str(SEEDS), str(tmp_path / "last.txt"))
    assert result.stderr == (
        f"rejected: {tmp_path / 'first.txt'}: no such file or folder\n"
        f"rejected: {empty}: empty\n"
        f"rejected: {tmp_path / 'last.txt'}: no such file or folder\n"
    )


# --- trust at every edge: special files, nesting, broken CSV, typed JSONL, stdin -----------


@contextlib.contextmanager
def deadline(seconds: int):
    """Fail (instead of hanging the suite) if the block takes longer than `seconds`."""
    def expired(signum, frame):
        raise TimeoutError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def assert_database(db_path: Path, articles: int) -> list[tuple]:
    """Reopen the database: it is whole and holds `articles` articles; their (story, origin, text)."""
    with Store.open(db_path, create=False) as store:
        assert_intact(store)
        assert store.article_count() == articles
        return store.conn.execute("SELECT story_id, origin, text FROM articles ORDER BY seq").fetchall()


def test_special_files_in_folders_and_arguments_are_named_and_the_rest_imported(db_path, tmp_path):
    folder = tmp_path / "f"
    write(tmp_path / "real.txt", "Real title\nbody of the real file")
    write(folder / "a.txt", "A title\nbody a")
    os.mkfifo(folder / "feed.jsonl")  # read, it would hang the import
    os.mkfifo(folder / "pipe")  # no supported suffix: named all the same
    (folder / "zero.txt").symlink_to("/dev/zero")  # read, it would fill memory
    (folder / "gone.csv").symlink_to(tmp_path / "nowhere.csv")
    (folder / "loop.md").symlink_to(folder / "loop.md")
    (folder / "link.txt").symlink_to(tmp_path / "real.txt")  # a symlink to a regular file is read
    (folder / "elsewhere").symlink_to(tmp_path, target_is_directory=True)
    with deadline(30):
        result = run(db_path, str(folder), str(folder / "feed.jsonl"), "/dev/null", str(folder / "zero.txt"))
    assert result.exit_code == 1
    assert result.stdout == "Imported 2 articles (0 duplicates, 9 rejected) into 1 story\n"
    assert result.stderr == (
        f"rejected: {folder}/elsewhere: symbolic link to a folder, not followed\n"
        f"rejected: {folder}/feed.jsonl: not a regular file (named pipe)\n"
        f"rejected: {folder}/gone.csv: broken symbolic link\n"
        f"rejected: {folder}/loop.md: symbolic link loop\n"
        f"rejected: {folder}/pipe: not a regular file (named pipe)\n"
        f"rejected: {folder}/zero.txt: not a regular file (character device)\n"
        f"rejected: {folder}/feed.jsonl: not a regular file (named pipe)\n"
        "rejected: /dev/null: not a regular file (character device)\n"
        f"rejected: {folder}/zero.txt: not a regular file (character device)\n"
    )
    assert [(story, text) for story, _, text in assert_database(db_path, 2)] == [
        ("f", "A title\nbody a"), ("f", "Real title\nbody of the real file")]


def test_a_fifo_swapped_in_after_the_folder_was_walked_is_refused_without_hanging(store, tmp_path):
    first = write(tmp_path / "a-empty.txt", b"")
    second = write(tmp_path / "b-feed.jsonl", b'{"text": "would be read"}\n')
    swapped: list[Path] = []

    def swap_in_a_fifo(done: int, total: int) -> None:
        if not swapped:  # after the first file, before the second is opened
            second.unlink()
            os.mkfifo(second)
            swapped.append(second)

    with deadline(30):
        report = import_paths(store, [first, second], progress=swap_in_a_fifo)
    assert swapped == [second]
    assert [str(r) for r in report.rejected] == [
        f"{first}: empty", f"{second}: not a regular file (named pipe)"]
    assert store.article_count() == 0
    assert_intact(store)


def test_a_special_story_toml_breaks_its_story_and_the_run_goes_on(db_path, tmp_path):
    story = tmp_path / "s"
    write(story / "a.txt", "A\nbody")
    os.mkfifo(story / "story.toml")
    with deadline(30):
        result = run(db_path, str(story), str(SEEDS))
    assert result.exit_code == 1
    assert result.stdout == "Imported 5 articles (0 duplicates, 1 rejected) into 1 story\n"
    assert result.stderr == (
        f"rejected: {story}/story.toml: story.toml: not a regular file (named pipe); "
        "its folder's 1 file was not imported\n")
    assert_database(db_path, 5)


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def test_deeply_nested_records_and_story_toml_are_rejected_and_the_run_goes_on(db_path, tmp_path):
    lines = [
        '{"text": "fine, nested 32 deep", "meta": %s}' % nested(31),
        '{"text": "nested 300 deep", "meta": %s}' % nested(299),
        '{"text": "nested 1000 deep", "meta": {"a": %s}}' % nested(998),
        '{"text": "nested past orjson", "meta": %s}' % nested(1100),
        nested(1000),
        '{"text": "after them"}',
    ]
    feed = write(tmp_path / "deep.jsonl", "\n".join(lines) + "\n")
    story = tmp_path / "story"
    write(story / "story.toml", '[story]\nid = "deep"\n[articles."a.txt"]\nx = %s\n' % nested(500))
    write(story / "a.txt", "A\nbody")
    other = write(tmp_path / "other.txt", "Other\nbody")
    result = run(db_path, str(feed), str(story), str(other))
    assert result.exit_code == 1
    assert result.stdout == "Imported 3 articles (0 duplicates, 5 rejected) into 2 stories\n"
    assert result.stderr == (
        f"rejected: {feed}:2: nested more than 32 levels deep\n"
        f"rejected: {feed}:3: nested more than 32 levels deep\n"
        f"rejected: {feed}:4: nested more than 32 levels deep\n"
        f"rejected: {feed}:5: not a JSON object (found list)\n"
        f"rejected: {story}/story.toml: story.toml is nested more than 32 levels deep; "
        "its folder's 1 file was not imported\n"
    )
    assert [text for _, _, text in assert_database(db_path, 3)] == [
        "fine, nested 32 deep", "after them", "Other\nbody"]


def test_a_csv_quote_never_closed_rejects_the_file_naming_the_line_it_opened(db_path, tmp_path):
    # Line 2-3: a quoted field over two lines, closed; line 5: a quote opened, never closed.
    broken = write(tmp_path / "f.csv", 'title,text\na,"one\nmore"\nb,two\nc,"three\nd,four\ne,five\n')
    crlf = write(tmp_path / "g.csv", 'title,text\r\na,one\r\n"b\r\n,two\r\n')
    at_the_end = write(tmp_path / "h.csv", 'title,text\na,one\nb,"')
    good = write(tmp_path / "good.csv", 'title,text\nz,"a quoted ""field"", closed"\n')
    result = run(db_path, str(broken), str(crlf), str(at_the_end), str(good))
    assert result.exit_code == 1
    assert result.stdout == "Imported 1 article (0 duplicates, 3 rejected) into 1 story\n"
    assert result.stderr == (
        f"rejected: {broken}:5: a quoted field opened here is never closed; file not imported\n"
        f"rejected: {crlf}:3: a quoted field opened here is never closed; file not imported\n"
        f"rejected: {at_the_end}:3: a quoted field opened here is never closed; file not imported\n"
    )
    assert assert_database(db_path, 1) == [("good", f"{good}:2", 'a quoted "field", closed')]


def test_jsonl_fields_of_other_types_than_text_are_rejected_per_line(db_path, tmp_path):
    lines = [
        {"text": 123456789012345678901234567890},
        {"text": "t1", "title": 1.5},
        {"text": "t2", "source": True},
        {"text": "t3", "url": ["https://a.example"]},
        {"text": "t4", "byline": {"name": "x"}},
        {"text": "t5", "story": 7},
        {"text": "t6", "published": 20170207},
        {"text": "kept", "title": None, "score": 1.5, "flags": [True, None], "nested": {"n": 123456789012345678901234567890}},
    ]
    path = write(tmp_path / "typed.jsonl", "\n".join(json.dumps(line) for line in lines))
    result = run(db_path, str(path))
    assert result.exit_code == 1
    assert result.stdout == "Imported 1 article (0 duplicates, 7 rejected) into 1 story\n"
    assert result.stderr == "".join(f"rejected: {path}:{line}\n" for line in [
        "1: 'text' must be a string, not a number",
        "2: 'title' must be a string, not a number",
        "3: 'source' must be a string, not a boolean",
        "4: 'url' must be a string, not a list",
        "5: 'byline' must be a string, not an object",
        "6: 'story' must be a string, not a number",
        "7: 'published' must be a string, not a number",
    ])
    assert_database(db_path, 1)
    with Store.open(db_path, create=False) as store:
        meta = json.loads(store.conn.execute("SELECT meta FROM articles").fetchone()[0])
    assert meta == {"score": 1.5, "flags": [True, None], "nested": {"n": 1.2345678901234568e+29}}


def test_stdin_is_read_with_its_format_sniffed_or_given(db_path):
    runner = CliRunner()
    jsonl = runner.invoke(cli, ["--db", str(db_path), "import", "-"],
                          input='{"text": "from a pipe", "title": "T"}\n\n{"text": 5}\n')
    assert jsonl.exit_code == 1
    assert jsonl.stdout == "Imported 1 article (0 duplicates, 1 rejected) into 1 story\n"
    assert jsonl.stderr == "rejected: <stdin>:3: 'text' must be a string, not a number\n"
    csv_input = runner.invoke(cli, ["--db", str(db_path), "import", "-", "-", "--story", "piped"],
                              input="headline,articleBody\nH,csv from a pipe\n")
    assert (csv_input.exit_code, csv_input.stderr) == (0, "")
    assert csv_input.stdout == "Imported 1 article (0 duplicates, 0 rejected) into 1 story\n"
    text = runner.invoke(cli, ["--db", str(db_path), "import", "-", "--format", "txt"],
                         input="title,text\nread as plain text, as asked\n")
    assert (text.exit_code, text.stderr) == (0, "")
    empty = runner.invoke(cli, ["--db", str(db_path), "import", "-"], input="")
    assert (empty.exit_code, empty.stdout, empty.stderr) == (
        1, "Imported 0 articles (0 duplicates, 1 rejected) into 0 stories\n", "rejected: <stdin>: empty\n")
    bad = runner.invoke(cli, ["--db", str(db_path), "import", "-", "--format", "xml"], input="")
    assert bad.exit_code == 2 and "Invalid value for '--format'" in bad.stderr
    assert assert_database(db_path, 3) == [
        ("stdin", "<stdin>:1", "from a pipe"),
        ("piped", "<stdin>:2", "csv from a pipe"),
        ("stdin", "<stdin>", "title,text\nread as plain text, as asked"),
    ]


def test_format_reads_named_files_whatever_their_suffix(db_path, tmp_path):
    dump = write(tmp_path / "dump.json", '{"text": "a JSONL file named .json"}\n')
    result = run(db_path, str(dump), "--format", "jsonl")
    assert (result.exit_code, result.stderr) == (0, "")
    assert assert_database(db_path, 1) == [("dump", f"{dump}:1", "a JSONL file named .json")]


def test_hostile_file_names_reach_stderr_written_out(db_path, tmp_path):
    name = "evil\x1b]0;title\x07\u202eexe.txt"
    path = write(tmp_path / name, b"")
    result = run(db_path, str(path))
    assert result.exit_code == 1
    assert result.stderr == f"rejected: {tmp_path}/evil\\x1b]0;title\\x07\\u202eexe.txt: empty\n"
    assert "\x1b" not in result.output and "\u202e" not in result.output
    assert_database(db_path, 0)


def test_the_same_text_under_another_story_joins_it(db_path, tmp_path):
    """An article may be in several stories: re-imported under another story it is a
    duplicate (stored once) that joins that story, in every import path."""
    assert run(db_path, str(SEEDS)).exit_code == 0
    with Store.open(db_path) as store:
        first = store.get_article(store.article_ids("us-taliban-isisk")[0])
    line = orjson.dumps({"text": first.text, "title": first.title}).decode()
    write(tmp_path / "again.jsonl", line + "\n")
    result = run(db_path, str(tmp_path / "again.jsonl"), "--story", "second")
    assert result.output == "Imported 0 articles (1 duplicate, 0 rejected) into 1 story\n"
    big = tmp_path / "big.jsonl"  # the staged path of big files
    big.write_text(line + "\n" + "\n".join(orjson.dumps({"text": f"Filler {k}. " * 40}).decode()
                                           for k in range(20)) + "\n", encoding="utf-8")
    import newsmark.schema.ingest as ingest

    saved = ingest.PIPELINE_BYTES
    ingest.PIPELINE_BYTES = 1
    try:
        result = run(db_path, str(big), "--story", "third")
    finally:
        ingest.PIPELINE_BYTES = saved
    assert result.output == "Imported 20 articles (1 duplicate, 0 rejected) into 1 story\n"
    with Store.open(db_path) as store:
        assert store.article_stories(first.id) == ["second", "third", "us-taliban-isisk"]
        assert store.article_count() == 25 and store.article_count("third") == 21
