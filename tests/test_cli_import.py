"""`newsmark import`: exact output on stdout and stderr, exit codes, then the database reopened."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from newsmark.schema.store import Store
from tests.conftest import SEEDS
from tests.hostile import HOSTILE_CASES, broken_jsonl, write
from newsmark.tui.cli import cli


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
    broken_jsonl(folder)
    result = run(db_path, str(folder))
    assert result.exit_code == 1
    assert result.stdout == "Imported 6 articles (0 duplicates, 9 rejected) into 2 stories\n"
    assert result.stderr == "".join(f"rejected: {folder}/{line}\n" for line in [
        "blank.txt: no text left after sanitising (only blank space or control characters)",
        "broken.jsonl:2: not valid JSON: unexpected end of data (column 47)",
        "broken.jsonl:3: not a JSON object (found list)",
        "broken.jsonl:4: not valid UTF-8 (byte 149: b'\\xe9')",
        "broken.jsonl:6: no text",
        "broken.jsonl:7: 'title' must be a string, not list",
        "empty.txt: empty",
        "image.txt: binary file (NUL bytes), not text",
        "latin1.txt:2: not valid UTF-8 (byte 19: b'\\xe9')",
    ])
    with Store.open(db_path, create=False) as store:
        assert store.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert store.article_count() == 6
        assert sorted(store.conn.execute("SELECT id FROM stories").fetchall()) == [("broken",), ("h",)]


def test_json_report(db_path, tmp_path):
    empty = write(tmp_path / "empty.txt", b"")
    result = run(db_path, str(SEEDS), str(empty), "--json")
    assert result.exit_code == 1
    assert result.stderr == ""
    assert json.loads(result.stdout) == {
        "imported": 5, "duplicates": 0,
        "rejected": [{"file": str(empty), "line": None, "reason": "empty"}],
        "stories": ["us-taliban-isisk"], "warnings": [], "skipped": [],
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
    assert not db_path.exists() or Store.open(db_path).article_count() == 0


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
    assert result.exit_code == 1  # 36 rows have no text
    assert result.stdout == "Imported 3781 articles (7 duplicates, 36 rejected) into 1 story\n"
    assert result.stderr.splitlines()[0] == f"rejected: {path}:23: empty text"
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
