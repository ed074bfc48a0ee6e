"""`export --format fnc1 -o DIR`: stances.csv and bodies.csv as FNC-1 writes them, for one
annotator or the gold; FNC-1 loaded and exported again gives the same multiset of rows."""

from __future__ import annotations

import collections
import csv

import pytest

from newsmark.schema.sanitize import article_id_for, sanitize_inline, sanitize_text
from newsmark.schema.store import Store
from tests.test_fnc1_load import DENIED, DENIES_STORY, FREED, FREED_STORY, run, write_files

ON_BOTH_ENGINES = True  # every test here runs on SQLite and on PostgreSQL (conftest)


def rows(path) -> list[tuple[str, ...]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return [tuple(row) for row in csv.reader(handle)]


def test_gold_is_written_back_row_for_row(tmp_path, db_path):
    files = write_files(tmp_path)
    assert run(db_path, "load-annotations", "--from", "fnc1", *files, "--as-gold").exit_code == 0
    result = run(db_path, "export", "--format", "fnc1", "--gold", "-o", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    assert result.stderr == f"Exported 6 stances and 3 bodies to {tmp_path / 'out'}\n"
    stances = (tmp_path / "out" / "stances.csv").read_bytes().decode()
    story_rows = sorted([FREED_STORY, DENIES_STORY])
    expected = {
        FREED_STORY: "Man freed after a week,1,agree\nMan freed after a week,3,agree\nMan freed after a week,2,unrelated\n",
        DENIES_STORY: "Minister denies report,3,unrelated\nMinister denies report,3,unrelated\nMinister denies report,2,agree\n",
    }
    assert stances == "Headline,Body ID,Stance\n" + "".join(expected[s] for s in story_rows)
    assert (tmp_path / "out" / "bodies.csv").read_bytes().decode() == (
        f'Body ID,articleBody\n1,"{FREED}"\n3,"{FREED}"\n2,{DENIED}\n')


def test_a_second_annotator_and_articles_not_from_fnc1(tmp_path, db_path):
    files = write_files(tmp_path)
    assert run(db_path, "load-annotations", "--from", "fnc1", *files, "--as-gold").exit_code == 0
    denied = article_id_for(DENIED)
    with Store.open(db_path) as store:
        store.set_label(denied, "bob", "stance", "disagree", story_id=DENIES_STORY)
        store.set_label(denied, "bob", "stance", "discuss", story_id=FREED_STORY)
        store.set_label(denied, "bob", "reliability", "B", story_id=FREED_STORY)
    (tmp_path / "new.txt").write_text("A new article on the minister.\n")
    assert run(db_path, "import", str(tmp_path / "new.txt"), "--story", DENIES_STORY).exit_code == 0
    new = article_id_for("A new article on the minister.")
    with Store.open(db_path) as store:
        store.set_label(new, "bob", "stance", "agree", story_id=DENIES_STORY)
    result = run(db_path, "export", "--format", "fnc1", "--annotator", "bob", "--story", DENIES_STORY,
                 "-o", str(tmp_path / "bob"))
    assert result.exit_code == 0, result.output
    assert rows(tmp_path / "bob" / "stances.csv") == [
        ("Headline", "Body ID", "Stance"), ("Minister denies report", "2", "disagree"),
        ("Minister denies report", new, "agree"),
    ]
    assert rows(tmp_path / "bob" / "bodies.csv") == [
        ("Body ID", "articleBody"), ("2", DENIED), (new, "A new article on the minister.")]


@pytest.mark.parametrize(("options", "message"), [
    ([], "give --annotator NAME or --gold"),
    (["--gold", "--annotator", "bob"], "--gold exports the gold labels"),
    (["--annotator", "a", "--annotator", "b"], "give --annotator NAME or --gold"),
    (["--gold", "--no-text"], "--format fnc1 writes the bodies' text; leave out --no-text"),
])
def test_usage_errors(tmp_path, db_path, options, message):
    assert run(db_path, "load-annotations", "--from", "fnc1", *write_files(tmp_path), "--as-gold").exit_code == 0
    result = run(db_path, "export", "--format", "fnc1", *options, "-o", str(tmp_path / "out"))
    assert result.exit_code == 2 and message in result.output
    assert not (tmp_path / "out").exists()


def test_a_folder_with_files_is_not_replaced(tmp_path, db_path):
    assert run(db_path, "load-annotations", "--from", "fnc1", *write_files(tmp_path), "--as-gold").exit_code == 0
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep").write_text("mine")
    result = run(db_path, "export", "--format", "fnc1", "--gold", "-o", str(tmp_path / "out"))
    assert result.exit_code == 1
    assert result.stderr == f"Error: {tmp_path / 'out'} exists; --format fnc1 writes a new folder (or an empty one)\n"
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["keep"]


@pytest.mark.slow
def test_the_test_split_round_trips(shared_data, tmp_path, db_path):
    """Loaded as gold and exported: the same multiset of stance rows and of bodies as
    FNC-1's files, once their headlines and bodies are sanitised as import sanitises them
    (4 headlines hold doubled or trailing blank space, 8 bodies leading or trailing
    blanks: their 65 stance rows and 8 bodies differ from the raw files only there)."""
    folder = shared_data / "fnc1"
    bodies, stances = folder / "competition_test_bodies.csv", folder / "competition_test_stances.csv"
    assert run(db_path, "load-annotations", "--from", "fnc1", str(bodies), str(stances), "--as-gold").exit_code == 0
    result = run(db_path, "export", "--format", "fnc1", "--gold", "-o", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    assert result.stderr == f"Exported 25413 stances and 904 bodies to {tmp_path / 'out'}\n"
    original = rows(stances)
    exported = rows(tmp_path / "out" / "stances.csv")
    assert exported[0] == original[0] == ("Headline", "Body ID", "Stance")
    cleaned = collections.Counter((sanitize_inline(h), b, s) for h, b, s in original[1:])
    assert collections.Counter(exported[1:]) == cleaned
    assert sum((collections.Counter(original[1:]) - collections.Counter(exported[1:])).values()) == 65
    original_bodies = collections.Counter((b, sanitize_text(t).strip()) for b, t in rows(bodies)[1:])
    assert collections.Counter(rows(tmp_path / "out" / "bodies.csv")[1:]) == original_bodies
    assert sum((collections.Counter(rows(bodies)[1:]) - original_bodies).values()) == 8
