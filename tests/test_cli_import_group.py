"""`newsmark import --group`: articles without a story are grouped into stories by
similarity; exact output, then the database reopened."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from newsmark.schema.store import Store
from tests.test_align import UNRELATED, make_copy, read_seed
from newsmark.tui.cli import cli
from tests.engines import database_exists

ON_BOTH_ENGINES = True  # every test here runs on SQLite and on PostgreSQL (conftest)


def flat_folder(tmp_path: Path) -> Path:
    """A folder without story.toml: a report, a word-spun copy of it, an unrelated article."""
    folder = tmp_path / "flat"
    folder.mkdir()
    real = read_seed("003")
    (folder / "report.txt").write_text(real, encoding="utf-8")
    (folder / "copy.txt").write_text(make_copy(real)[0], encoding="utf-8")
    (folder / "fete.txt").write_text("A village fete\n\n" + UNRELATED, encoding="utf-8")
    return folder


def run(db_path: Path, *args: str):
    return CliRunner().invoke(cli, ["--db", str(db_path), "import", *args])


def test_group_puts_the_copy_with_its_report_and_leaves_the_rest_ungrouped(db_path, tmp_path):
    folder = flat_folder(tmp_path)
    result = run(db_path, "--group", str(folder))
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "Imported 3 articles (0 duplicates, 0 rejected) into 1 story\n"
        "Grouped 2 articles into 1 story (1 left in story ungrouped)\n"
    )
    assert result.stderr == ""
    with Store.open(db_path, create=False) as store:
        stories = {story.id: store.article_ids(story.id) for story in store.stories()}
        assert set(stories) == {"ungrouped", next(s for s in stories if s.startswith("group-"))}
        (group_id,) = [s for s in stories if s.startswith("group-")]
        texts = {store.get_article(a).text[:40] for a in stories[group_id]}
        assert read_seed("003")[:40] in texts and len(stories[group_id]) == 2
        (left,) = stories["ungrouped"]
        assert store.get_article(left).title == "A village fete"
        assert store.get_story(group_id).meta == {"grouped": True, "size": 2}


def test_group_json_and_a_second_run(db_path, tmp_path):
    folder = flat_folder(tmp_path)
    run(db_path, "--group", str(folder))
    result = run(db_path, "--group", "--json", str(folder))
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    assert document["imported"] == 0 and document["duplicates"] == 3
    assert document["grouping"] == {"stories": [], "grouped": 0, "ungrouped": 1, "joined": 0, "joined_stories": []}
    with Store.open(db_path, create=False) as store:
        assert store.story_count() == 2


def test_group_leaves_folders_with_a_story_toml_alone(db_path, tmp_path):
    seeds = Path(__file__).resolve().parent.parent / "seeds"
    result = run(db_path, "--group", str(seeds))
    assert result.exit_code == 0
    assert result.stdout == (
        "Imported 5 articles (0 duplicates, 0 rejected) into 1 story\n"
        "Grouped 0 articles into 0 stories (0 left in story ungrouped)\n"
    )
    with Store.open(db_path, create=False) as store:
        assert [s.id for s in store.stories()] == ["us-taliban-isisk"]


def test_group_and_story_exclude_each_other(db_path, tmp_path):
    result = run(db_path, "--group", "--story", "x", str(flat_folder(tmp_path)))
    assert result.exit_code == 2
    assert "Error: --group and --story exclude each other" in result.stderr
    if database_exists(db_path):
        with Store.open(db_path) as store:
            assert store.story_count() == 0


def test_a_second_import_joins_the_stories_its_articles_belong_to(db_path, tmp_path):
    # First import: a report, a copy of it, a village fete (alone). Second import: another
    # copy of the report, which joins the report's story, and a copy of the fete, which
    # groups with the fete left in `ungrouped` into a new story.
    first = flat_folder(tmp_path)
    assert run(db_path, "--group", str(first)).exit_code == 0
    with Store.open(db_path, create=False) as store:
        (story_id,) = [s.id for s in store.stories() if s.id.startswith("group-")]
        before = store.article_ids(story_id)
        (fete,) = store.article_ids("ungrouped")
    second = tmp_path / "second"
    second.mkdir()
    (second / "copy2.txt").write_text(make_copy(read_seed("003"), 11)[0], encoding="utf-8")
    (second / "fete2.txt").write_text("A village fete\n\n" + make_copy(UNRELATED, 5)[0], encoding="utf-8")
    result = run(db_path, "--group", str(second))
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "Imported 2 articles (0 duplicates, 0 rejected) into 1 story\n"
        "Grouped 2 articles into 1 story, 1 article joined existing stories (0 left in story ungrouped)\n"
    )
    with Store.open(db_path, create=False) as store:
        after = store.article_ids(story_id)
        assert after[:2] == before and len(after) == 3
        assert store.get_article(after[2]).text == make_copy(read_seed("003"), 11)[0]
        assert store.get_story("ungrouped") is None  # emptied, so removed
        (new_id,) = [s.id for s in store.stories() if s.id.startswith("group-") and s.id != story_id]
        assert store.article_ids(new_id)[0] == fete and len(store.article_ids(new_id)) == 2
        assert store.get_story(new_id).title == "A village fete"
    again = run(db_path, "--group", "--json", str(second))
    assert json.loads(again.stdout)["grouping"] == {
        "stories": [], "grouped": 0, "ungrouped": 0, "joined": 0, "joined_stories": []}
