"""`newsmark import`: records with empty text are skipped and counted, not failures (the
exit code stays 0, so `import ... && next-step` goes on); `--map` reads a dotted path into
nested JSONL objects. Exact output, then the database reopened."""

from __future__ import annotations

import json
from pathlib import Path

import orjson

from newsmark.schema.store import Store
from tests.hostile import write
from tests.test_cli_import import run


def _articles(db_path: Path) -> list[tuple[str, str | None, dict]]:
    with Store.open(db_path, create=False) as store:
        rows = store.conn.execute("SELECT text, title, meta FROM articles ORDER BY origin").fetchall()
    return [(text, title, orjson.loads(meta)) for text, title, meta in rows]


def test_rows_with_empty_text_are_skipped_and_counted_and_the_import_succeeds(db_path: Path, tmp_path: Path):
    path = write(tmp_path / "corpus.csv", "title,text\nOne,First body.\nTwo,\nThree,  \t \nFour,Fourth body.\n")
    result = run(db_path, str(path), "--story", "corpus")
    assert result.exit_code == 0
    assert result.stdout == "Imported 2 articles (0 duplicates, 0 rejected, 2 skipped with empty text) into 1 story\n"
    assert result.stderr == f"skipped: {path}:3: empty text\nskipped: {path}:4: empty text\n"
    assert [(text, title) for text, title, _ in _articles(db_path)] == [("First body.", "One"), ("Fourth body.", "Four")]


def test_a_bad_row_still_fails_the_import_beside_skipped_empty_ones(db_path: Path, tmp_path: Path):
    path = write(tmp_path / "mixed.jsonl", b'{"text": "Kept."}\n{"text": ""}\n{"text": 5}\n')
    result = run(db_path, str(path), "--story", "mixed")
    assert result.exit_code == 1
    assert result.stdout == "Imported 1 article (0 duplicates, 1 rejected, 1 skipped with empty text) into 1 story\n"
    assert result.stderr == (f"rejected: {path}:3: 'text' must be a string, not a number\n"
                             f"skipped: {path}:2: empty text\n")
    result = run(db_path, "--json", str(path), "--story", "mixed")
    report = json.loads(result.stdout)
    assert (report["imported"], report["duplicates"]) == (0, 1)
    assert report["empty"] == [{"file": str(path), "line": 2, "reason": "empty text"}]


def test_map_reads_a_dotted_path_into_nested_objects(db_path: Path, tmp_path: Path):
    records = [
        {"id": 1, "data": {"text": "Nested body one.", "lang": "en"}, "meta": {"headline": "First"}},
        {"id": 2, "data": {"text": "Nested body two."}, "meta": {"headline": "Second"}},
        {"id": 3, "data": {"body": "No text at the path."}},
        {"id": 4, "data.text": "A key named data.text wins.", "data": {"text": "not read"}},
    ]
    path = write(tmp_path / "nested.jsonl", b"\n".join(orjson.dumps(r) for r in records) + b"\n")
    result = run(db_path, str(path), "--story", "nested", "--map", "text=data.text", "--map", "title=meta.headline")
    assert result.exit_code == 1
    assert result.stdout == "Imported 3 articles (0 duplicates, 1 rejected) into 1 story\n"
    assert result.stderr == f"rejected: {path}:3: no text\n"
    # The values read leave their objects; what else the objects hold stays in meta.
    assert _articles(db_path) == [
        ("Nested body one.", "First", {"id": 1, "data": {"lang": "en"}}),
        ("Nested body two.", "Second", {"id": 2}),
        ("A key named data.text wins.", None, {"id": 4, "data": {"text": "not read"}}),
    ]
