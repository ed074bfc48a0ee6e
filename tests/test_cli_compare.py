"""`newsmark compare A B [--json]`: exact output, errors, and the database untouched."""

from __future__ import annotations

import json

import orjson
from click.testing import CliRunner

from newsmark.analysis.align import align
from newsmark.schema.store import Store
from tests.test_align import UNRELATED, make_copy, read_seed
from tests.test_grouping import add_articles
from newsmark.tui.cli import cli

ON_BOTH_ENGINES = True  # every test here runs on SQLite and on PostgreSQL (conftest)

HOSTILE = "Markup [bold]must[/bold] stay text [@click=app.quit] and [/ closes nothing, the report said today."


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def make_db(db_path):
    real = read_seed("003") + "\n\n" + HOSTILE
    copy = make_copy(real)[0] + "\n\n" + HOSTILE
    with Store.open(db_path) as store:
        ids = add_articles(store, "story", [("Original", real), ("Copy", copy), ("Fete", UNRELATED)])
    return ids, real, copy


def test_compare_json_is_the_documented_document(db_path):
    (original, copy_id, _), real, copy = make_db(db_path)
    result = run("--db", str(db_path), "compare", original, copy_id, "--json")
    assert result.exit_code == 0, result.output
    expected = align(real, copy)
    document = {"a": original, "b": copy_id, "similarity": expected.similarity,
                "shared": [p.as_dict() for p in expected.shared]}
    assert result.stdout == orjson.dumps(document, option=orjson.OPT_INDENT_2).decode() + "\n"
    parsed = json.loads(result.stdout)
    assert list(parsed) == ["a", "b", "similarity", "shared"]
    assert parsed["similarity"] > 0.6
    for passage in parsed["shared"]:
        assert list(passage) == ["a_start", "a_end", "b_start", "b_end", "score"]
        assert real[passage["a_start"] : passage["a_end"]].strip() and copy[passage["b_start"] : passage["b_end"]].strip()
    assert parsed["shared"][-1]["score"] == 1.0  # the hostile line, copied verbatim
    with Store.open(db_path, create=False) as store:  # read-only: nothing changed
        assert store.article_ids("story") == [original, copy_id, store.article_ids("story")[2]]
        assert store.events() == []


def test_compare_accepts_unique_prefixes(db_path):
    (original, _, fete), _, _ = make_db(db_path)
    result = run("--db", str(db_path), "compare", original[:6], fete[:6], "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"a": original, "b": fete, "similarity": 0.0, "shared": []}


def test_compare_unknown_and_ambiguous_ids_are_one_error_line(db_path, tmp_path):
    ids, _, _ = make_db(db_path)
    result = run("--db", str(db_path), "compare", "zzzz", ids[0])
    assert result.exit_code == 1
    assert result.stdout == "" and result.stderr == "Error: no article zzzz\n"
    with Store.open(db_path) as store:  # add articles until two ids share a first digit
        extra = 0
        while len({row[0][0] for row in store.conn.execute("SELECT id FROM articles")}) == store.article_count():
            add_articles(store, "story", [(None, f"Filler article number {extra}.")])
            extra += 1
        digit = next(d for d in "0123456789abcdef"
                     if store.conn.execute("SELECT count(*) FROM articles WHERE id LIKE ?", (d + "%",)).fetchone()[0] > 1)
    result = run("--db", str(db_path), "compare", digit, ids[0])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: article id prefix {digit} matches more than one article (")
    missing = tmp_path / "missing.db"
    result = run("--db", str(missing), "compare", ids[0], ids[1])
    assert result.exit_code == 1 and result.stderr.startswith("Error: no database at")
    assert not missing.exists()
    assert run("--db", str(db_path), "compare", ids[0]).exit_code == 2  # usage error


def test_compare_view_shows_passages_side_by_side_as_plain_text(db_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "140")
    (original, copy_id, fete), _, _ = make_db(db_path)
    result = run("--db", str(db_path), "compare", original, copy_id)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == f"A  {original}  (outlet unknown) — Original"
    assert lines[1] == f"B  {copy_id}  (outlet unknown) — Copy"
    expected = align(read_seed("003") + "\n\n" + HOSTILE, make_copy(read_seed("003") + "\n\n" + HOSTILE)[0] + "\n\n" + HOSTILE)
    count = len(expected.shared)
    assert lines[2] == (f"similarity {expected.similarity:.2f} · {count} shared passages · "
                        f"{round(100 * expected.a_shared)}% of A, {round(100 * expected.b_shared)}% of B")
    assert "[bold]must[/bold]" in result.stdout and "[@click=app.quit]" in result.stdout
    assert "A: Original" in result.stdout and "B: Copy" in result.stdout
    result = run("--db", str(db_path), "compare", original, fete)
    assert result.exit_code == 0
    assert result.stdout.splitlines()[2:] == [
        "similarity 0.00 · 0 shared passages · 0% of A, 0% of B",
        "No passage of B repeats or closely paraphrases A.",
    ]


def test_compare_semantic_without_the_extra_is_one_error_line(db_path, monkeypatch):
    import newsmark.analysis.semantic

    monkeypatch.setattr(newsmark.analysis.semantic, "available", lambda: False)
    ids, _, _ = make_db(db_path)
    result = run("--db", str(db_path), "compare", ids[0], ids[1], "--semantic")
    assert result.exit_code == 1
    assert result.stderr == "Error: --semantic needs the optional extra: pip install torch==2.13.0 'newsmark[semantic]'\n"
