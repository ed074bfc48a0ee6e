"""`newsmark story …`, `newsmark undo` and `newsmark redo`: exact output, then the database
reopened; every change one action that undo reverses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from newsmark.schema.store import Store
from newsmark.tui.cli import cli

ON_BOTH_ENGINES = True  # every test here runs on SQLite and on PostgreSQL (conftest)

ROOT = Path(__file__).resolve().parent.parent
STORY = "us-taliban-isisk"


def run(db: Path, *args: str):
    return CliRunner().invoke(cli, ["--db", str(db), *args])


@pytest.fixture
def seeded(db_path: Path) -> tuple[Path, list[str]]:
    assert run(db_path, "import", str(ROOT / "seeds")).exit_code == 0
    with Store.open(db_path) as store:
        return db_path, store.article_ids(STORY)


def test_story_list_and_edit(seeded):
    db, _ = seeded
    assert run(db, "story", "list").output == (
        f"{STORY}\t5 articles\tUS–Taliban cooperation against ISIS-K\tThe United States is cooperating, "
        "or is moving to cooperate, with the Taliban against ISIS-K.\n"
    )
    result = run(db, "story", "edit", STORY, "--proposition", "The US \x1b[2Jworks with\nthe Taliban.", "--annotator", "lead")
    assert result.output == f'Story {STORY}: title "US–Taliban cooperation against ISIS-K", proposition "The US works with the Taliban."\n'
    assert json.loads(run(db, "story", "list", "--json").output)[0]["proposition"] == "The US works with the Taliban."
    assert run(db, "undo", "--annotator", "lead").output == "Undid editing the story.\n"
    with Store.open(db) as store:
        assert store.get_story(STORY).proposition.startswith("The United States")
    assert run(db, "undo", "--annotator", "lead").output == "Nothing to undo for lead\n"


def test_a_split_without_a_title_is_named_after_its_first_article(seeded):
    db, ids = seeded
    with Store.open(db) as store:
        title = store.get_article(ids[2]).title
    assert run(db, "story", "split", STORY, ids[2], ids[3], "--into", "aside").output == (
        f"Split 2 articles of {STORY} into aside\n")
    with Store.open(db) as store:
        assert store.get_story("aside").title == title != ""


def test_split_move_add_remove_merge_and_undo(seeded):
    db, ids = seeded
    lead = ("--annotator", "lead")
    assert run(db, "story", "split", STORY, ids[3], ids[4], "--into", "strays", "--title", "Strays", *lead).output == (
        f"Split 2 articles of {STORY} into strays\n")
    assert run(db, "story", "move", "strays", STORY, ids[4], *lead).output == f"Moved 1 article from strays to {STORY}\n"
    assert run(db, "story", "add", "strays", ids[0], *lead).output == "Added 1 article to strays (2 articles now)\n"
    assert run(db, "story", "remove", "strays", ids[0], *lead).output == "Removed 1 article from strays (1 article left)\n"
    assert run(db, "story", "merge", STORY, "strays", *lead).output == f"Merged 1 story into {STORY} (5 articles now)\n"
    with Store.open(db) as store:
        assert [s.id for s in store.stories()] == [STORY]
    assert run(db, "undo", *lead).output == "Undid merging stories.\n"
    with Store.open(db) as store:
        assert store.article_ids("strays") == [ids[3]]
        assert store.article_ids(STORY) == [ids[0], ids[1], ids[2], ids[4]]
    assert run(db, "redo", *lead).output == "Redid merging stories.\n"
    with Store.open(db) as store:
        assert store.get_story("strays") is None and store.article_count(STORY) == 5


def test_bad_ids_are_errors_and_change_nothing(seeded):
    db, ids = seeded
    result = run(db, "story", "merge", STORY, "bad id")
    assert result.exit_code == 2 and "invalid story id 'bad id'" in result.output
    result = run(db, "story", "remove", STORY, "ffffffffffffffff")
    assert (result.exit_code, result.output) == (1, "Error: no article 'ffffffffffffffff'\n")
    result = run(db, "story", "move", STORY, "nowhere", ids[0])
    assert (result.exit_code, result.output) == (1, "Error: no story 'nowhere'\n")
    result = run(db, "story", "edit", STORY)
    assert result.exit_code == 2 and "give --title, --proposition or both" in result.output
    with Store.open(db) as store:
        assert store.events() == [] and store.article_count(STORY) == 5
