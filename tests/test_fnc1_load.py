"""`load-annotations --from fnc1`: FNC-1's bodies and stances CSVs become headline stories,
body articles in every story of their headlines, and one stance per (story, article), an
annotator's or gold; checked by the exact output and by reopening the database."""

from __future__ import annotations

import hashlib
import json

import pytest
from click.testing import CliRunner

from newsmark.schema.importing.fnc1 import META_BODY_IDS, META_ROWS, story_id_for
from newsmark.schema.sanitize import article_id_for
from newsmark.schema.store import Store
from newsmark.tui.cli import cli

ON_BOTH_ENGINES = True  # every test here runs on SQLite and on PostgreSQL (conftest)

BODIES = (
    'Body ID,articleBody\n'
    '1,"Police say the man was \x1b[31mfreed\x1b[0m on Monday.\r\nHe was held for a week."\n'
    '2,The minister denied the report on Tuesday.\n'
    '3,"Police say the man was freed on Monday.\nHe was held for a week."\n'
)
FREED = "Police say the man was freed on Monday.\nHe was held for a week."  # bodies 1 and 3, sanitised
DENIED = "The minister denied the report on Tuesday."
STANCES = (
    "Headline,Body ID,Stance\n"
    "Man freed after a week,1,agree\n"
    "Man freed after a week,2,unrelated\n"
    "Minister  denies  report,2,agree\n"  # blank space collapsed, as import does for titles
    "Minister  denies  report,3,unrelated\n"
    "Minister  denies  report,3,unrelated\n"  # FNC-1 repeats some rows
    "Man freed after a week,3,agree\n"  # body 3 is body 1's text: the same pair again
)


def write_files(tmp_path, bodies=BODIES, stances=STANCES):
    (tmp_path / "bodies.csv").write_bytes(bodies.encode())
    (tmp_path / "stances.csv").write_bytes(stances.encode())
    return str(tmp_path / "bodies.csv"), str(tmp_path / "stances.csv")


def run(db_path, *args):
    return CliRunner().invoke(cli, ["--db", str(db_path), *args])


FREED_STORY = story_id_for("Man freed after a week")
DENIES_STORY = story_id_for("Minister denies report")


def test_story_ids_are_the_headline_digest():
    digest = hashlib.sha256("Man freed after a week".encode()).hexdigest()
    assert FREED_STORY == "fnc1-" + digest[:12]


def test_headlines_become_stories_and_a_body_is_in_each_of_its_stories(tmp_path, db_path):
    bodies, stances = write_files(tmp_path)
    # The stances file first: the files are told apart by their headers.
    result = run(db_path, "load-annotations", "--from", "fnc1", stances, bodies, "--annotator", "emergent")
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "FNC-1: 3 bodies (2 articles), 6 stance rows (2 headlines, 4 headline-body pairs)\n"
        "Read 4 records: 4 loaded, 0 replaced, 0 unchanged, 0 kept (local newer), 0 rejected; "
        "created 2 stories, 2 articles\n"
    )
    freed, denied = article_id_for(FREED), article_id_for(DENIED)
    with Store.open(db_path) as store:
        story = store.get_story(DENIES_STORY)
        assert story.title == story.proposition == "Minister denies report"
        assert store.article_ids(FREED_STORY) == [freed, denied]
        assert store.article_stories(denied) == sorted([FREED_STORY, DENIES_STORY])
        assert store.get_article(freed).text == FREED
        assert store.get_article(freed).meta == {META_BODY_IDS: ["1", "3"]}
        assert store.get_story(FREED_STORY).meta[META_ROWS] == {freed: ["1", "3"], denied: ["2"]}
        assert store.get_story(DENIES_STORY).meta[META_ROWS] == {denied: ["2"], freed: ["3", "3"]}
        # One body, two stories, a stance in each.
        assert store.labels(denied, "emergent", story_id=FREED_STORY) == {"stance": "unrelated"}
        assert store.labels(denied, "emergent", story_id=DENIES_STORY) == {"stance": "agree"}
        assert store.labels(freed, "emergent", story_id=FREED_STORY) == {"stance": "agree"}
        assert store.gold(freed, story_id=FREED_STORY) == {}


def test_as_gold_and_loading_again_changes_nothing(tmp_path, db_path):
    files = write_files(tmp_path)
    first = run(db_path, "load-annotations", "--from", "fnc1", *files, "--as-gold", "--json")
    assert first.exit_code == 0, first.output
    report = json.loads(first.stdout)
    assert report["loaded"] == 4 and report["stories_created"] == 2 and report["articles_created"] == 2
    assert report["fnc1"] == {"body_rows": 3, "articles": 2, "stance_rows": 6, "headlines": 2, "pairs": 4,
                              "unpaired_bodies": 0}
    with Store.open(db_path) as store:
        gold = store.gold(article_id_for(DENIED), story_id=DENIES_STORY)
        assert gold["stance"]["value"] == "agree" and gold["stance"]["by"] == "fnc1"
        assert store.gold(article_id_for(DENIED), story_id=FREED_STORY)["stance"]["value"] == "unrelated"
        assert store.annotators() == []
    again = run(db_path, "load-annotations", "--from", "fnc1", *files, "--as-gold")
    assert again.exit_code == 0, again.output
    assert again.stdout.splitlines()[1] == (
        "Read 4 records: 0 loaded, 0 replaced, 4 unchanged, 0 kept (local newer), 0 rejected; "
        "created 0 stories, 0 articles")


def test_rows_that_cannot_be_taken_are_named_by_file_and_line(tmp_path, db_path):
    stances = STANCES + "Man freed after a week,9,agree\nMan freed after a week,2,agree\n,1,agree\n"
    stances += "Man freed after a week,1,maybe\n"
    bodies, stances_path = write_files(tmp_path, stances=stances)
    result = run(db_path, "load-annotations", "--from", "fnc1", bodies, stances_path)
    assert result.exit_code == 1
    assert result.stdout.splitlines()[1].startswith("Read 4 records: 4 loaded")
    rejected = [line for line in result.stderr.splitlines()]
    assert rejected[:3] == [
        f"rejected: {stances_path}:8: Body ID 9 is not in {bodies}",
        f"rejected: {stances_path}:9: gives stance 'agree' where line 3 gave 'unrelated' for the same "
        "headline and body text; the first is kept",
        f"rejected: {stances_path}:10: empty headline",
    ]
    assert rejected[3].startswith(f"rejected: {stances_path}:11: gives stance 'maybe' where line 2")


@pytest.mark.parametrize(("files", "message"), [
    (("bodies.csv", "bodies.csv"), "both files are FNC-1 bodies files; give one bodies and one stances file"),
    (("bodies.csv",), "takes two files, the bodies and the stances, not 1"),
])
def test_the_two_files_are_needed(tmp_path, db_path, files, message):
    write_files(tmp_path)
    result = run(db_path, "load-annotations", "--from", "fnc1", *(str(tmp_path / f) for f in files))
    assert result.exit_code == 1
    assert result.stderr == f"rejected: fnc1: {message}\n"


def test_a_file_of_another_shape_is_named(tmp_path, db_path):
    bodies, _ = write_files(tmp_path)
    other = tmp_path / "other.csv"
    other.write_text("Headline,Stance\nx,agree\n")
    result = run(db_path, "load-annotations", "--from", "fnc1", bodies, str(other))
    assert result.exit_code == 1
    assert result.stderr == (f"rejected: {other}: neither an FNC-1 bodies file (Body ID,articleBody) nor a "
                             "stances file (Headline,Body ID,Stance) by its header\n")
    with Store.open(db_path) as store:
        assert store.story_count() == 0 and store.article_count() == 0


def test_a_body_file_broken_half_way_loads_nothing(tmp_path, db_path):
    bodies, stances = write_files(tmp_path)
    (tmp_path / "bodies.csv").write_bytes(BODIES.encode() + b"4,caf\xe9\n")
    result = run(db_path, "load-annotations", "--from", "fnc1", bodies, stances)
    assert result.exit_code == 1
    assert result.stderr == f"rejected: {bodies}: not valid UTF-8 (line 7)\n"
    with Store.open(db_path) as store:
        assert store.story_count() == 0 and store.article_count() == 0
    result = run(db_path, "load-annotations", "--from", "fnc1", bodies, "-")
    assert result.stderr.endswith("rejected: <stdin>: --from fnc1 reads two files, not standard input\n")


def test_a_scheme_without_a_story_scoped_stance_is_refused_before_anything_is_written(tmp_path, db_path):
    from newsmark.schema.scheme import default_scheme_text

    scheme = tmp_path / "scheme.toml"
    scheme.write_text(default_scheme_text().replace('scope = "story"', 'scope = "article"'))
    assert run(db_path, "init", "--scheme", str(scheme)).exit_code == 0
    result = run(db_path, "load-annotations", "--from", "fnc1", *write_files(tmp_path))
    assert result.exit_code == 1
    assert result.stderr == ("rejected: fnc1: the database's scheme has no story-scoped article field 'stance' "
                             "to hold FNC-1's stances (one per headline and body)\n")
    with Store.open(db_path) as store:
        assert store.story_count() == 0 and store.article_count() == 0


def test_options_of_other_formats_are_usage_errors(tmp_path, db_path):
    files = write_files(tmp_path)
    result = run(db_path, "load-annotations", "--from", "fnc1", *files, "--story", "s")
    assert result.exit_code == 2 and "--story: not with --from fnc1" in result.output
    result = run(db_path, "load-annotations", *files, "--as-gold")
    assert result.exit_code == 2 and "--as-gold: only with --from fnc1" in result.output


@pytest.mark.slow
def test_the_whole_test_split_loads(shared_data, db_path):
    folder = shared_data / "fnc1"
    result = run(db_path, "load-annotations", "--from", "fnc1", str(folder / "competition_test_bodies.csv"),
                 str(folder / "competition_test_stances.csv"), "--as-gold")
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "FNC-1: 904 bodies (900 articles), 25413 stance rows (894 headlines, 25148 headline-body pairs)\n"
        "Read 25148 records: 25148 loaded, 0 replaced, 0 unchanged, 0 kept (local newer), 0 rejected; "
        "created 894 stories, 900 articles\n"
    )
