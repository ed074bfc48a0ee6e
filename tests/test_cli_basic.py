"""`newsmark init` and `newsmark status`: exact output, then the database reopened."""

from __future__ import annotations

import json

from click.testing import CliRunner

from newsmark.schema.store import Store
from newsmark.tui.cli import cli
from tests.engines import database_exists

ON_BOTH_ENGINES = True  # every test here runs on SQLite and on PostgreSQL (conftest)


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_init_creates_the_database_with_the_default_scheme(db_path):
    result = run("--db", str(db_path), "init")
    assert result.exit_code == 0
    assert result.output == (
        f"Database {db_path} ready; scheme 'newsmark-default': stance, reliability, credibility, checkworthy\n"
    )
    with Store.open(db_path, create=False) as store:
        assert store.scheme.name == "newsmark-default"


def test_init_with_a_custom_scheme(db_path, tmp_path):
    scheme = tmp_path / "frames.toml"
    scheme.write_text(
        'name = "frames"\n[[fields]]\nname = "frame"\nlevel = "article"\nkind = "nominal"\n'
        'labels = [{ value = "conflict", key = "a" }, { value = "economic", key = "z" }]\n'
    )
    result = run("--db", str(db_path), "init", "--scheme", str(scheme))
    assert result.exit_code == 0, result.output
    assert result.output == f"Database {db_path} ready; scheme 'frames': frame\n"
    with Store.open(db_path) as store:
        assert store.scheme.field("frame").values == ["conflict", "economic"]


def test_init_with_a_bad_scheme_is_one_error_line(db_path, tmp_path):
    scheme = tmp_path / "bad.toml"
    scheme.write_text('[[fields]]\nname = "f"\nlevel = "article"\nkind = "nominal"\nlabels = []\n')
    result = CliRunner().invoke(cli, ["--db", str(db_path), "init", "--scheme", str(scheme)])
    assert result.exit_code == 1
    assert result.output == f"Error: {scheme}: fields.0: field 'f': the list of labels is empty\n"
    assert not database_exists(db_path)


def test_status_json_has_the_documented_keys(db_path):
    run("--db", str(db_path), "init")
    with Store.open(db_path) as store:
        from tests.test_store import add_article

        aid = add_article(store)
        store.set_label(aid, "alice", "stance", "agree")
        store.set_note(aid, "bob", "looks copied")
    result = run("--db", str(db_path), "status", "--json")
    assert result.exit_code == 0
    assert json.loads(result.output) == {
        "stories": 1,
        "articles": 1,
        "annotators": ["alice", "bob"],
        "annotated": {"alice": 1, "bob": 0},
        "gold": {"policy": "unanimous", "units": 1, "decided": 0},
    }


def test_status_of_a_missing_database_is_an_error(tmp_path):
    result = run("--db", str(tmp_path / "nope.db"), "status")
    assert result.exit_code == 1
    assert result.output.startswith("Error: no database at ")


def test_usage_errors_exit_2(db_path):
    assert run("--db", str(db_path), "status", "--bogus").exit_code == 2


def test_init_json_says_what_it_made(db_path, tmp_path):
    result = run("--db", str(db_path), "init", "--json")
    assert (result.exit_code, result.stderr) == (0, "")
    assert json.loads(result.stdout) == {
        "database": str(db_path),
        "scheme": "newsmark-default",
        "fields": ["stance", "reliability", "credibility", "checkworthy"],
        "gold_policy": "unanimous",
        "created": True,
    }
    scheme = tmp_path / "frames.toml"
    scheme.write_text(
        'name = "frames"\n[[fields]]\nname = "frame"\nlevel = "article"\nkind = "nominal"\n'
        'labels = [{ value = "conflict", key = "a" }]\n'
    )
    result = run("--db", str(db_path), "init", "--scheme", str(scheme), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "database": str(db_path), "scheme": "frames", "fields": ["frame"], "gold_policy": "unanimous", "created": False,
    }
    with Store.open(db_path, create=False) as store:
        assert store.scheme.name == "frames"


def test_init_shows_hostile_names_written_out(tmp_path):
    db_path = tmp_path / "evil\x1b[2J\u202e.db"
    result = run("--db", str(db_path), "init")
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        f"Database {tmp_path}/evil\\x1b[2J\\u202e.db ready; scheme 'newsmark-default': "
        "stance, reliability, credibility, checkworthy\n"
    )
    assert json.loads(run("--db", str(db_path), "init", "--json").stdout)["database"] == str(db_path)
    scheme = tmp_path / "s.toml"
    scheme.write_text(
        'name = "x\\u001b]0;pwned\\u0007"\n[[fields]]\nname = "f"\nlevel = "article"\n'
        'kind = "nominal"\nlabels = [{ value = "v", key = "a" }]\n'
    )
    result = run("--db", str(db_path), "init", "--scheme", str(scheme))
    assert "\x1b" not in result.output and "\u202e" not in result.output
    if result.exit_code == 0:  # a scheme check may also refuse such a name: then an error line
        assert result.stdout == f"Database {tmp_path}/evil\\x1b[2J\\u202e.db ready; scheme 'x\\x1b]0;pwned\\x07': f\n"
        result = run("--db", str(db_path), "init", "--json")
        assert json.loads(result.stdout)["scheme"] == "x\x1b]0;pwned\x07"  # data stays data in JSON
        assert "\x1b" not in result.stdout  # (JSON writes it as \u001b)
    else:
        assert (result.exit_code, result.stdout) == (1, "") and result.stderr.startswith("Error: ")


def test_every_json_report_is_one_object_on_stdout(db_path, tmp_path):
    """The --json contract: stdout holds exactly one JSON object, also on exit 1, and a
    rejection is {file, line, reason}."""
    from tests.conftest import SEEDS

    bad = tmp_path / "bad.jsonl"
    bad.write_text("not json\n")
    result = run("--db", str(db_path), "import", str(SEEDS), str(bad), "--json")
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["rejected"] == [{"file": str(bad), "line": 1, "reason": document["rejected"][0]["reason"]}]
    with Store.open(db_path) as store:
        ids = store.article_ids("us-taliban-isisk")
        store.set_label(ids[0], "alice", "stance", "agree")
        store.set_label(ids[0], "bob", "stance", "agree")
    export = tmp_path / "team.jsonl"
    assert run("--db", str(db_path), "export", "-o", str(export)).exit_code == 0
    for args in (
        ["init", "--json"], ["status", "--json"], ["agreement", "--json"],
        ["compare", ids[0], ids[1], "--json"], ["load-annotations", str(export), "--json"],
    ):
        result = run("--db", str(db_path), *args)
        assert result.exit_code == 0, (args, result.output)
        assert isinstance(json.loads(result.stdout), dict), args
        assert result.stdout.count("\n{") == 0 and result.stdout.startswith("{"), args


def test_the_gold_policy_is_set_at_init_and_status_counts_decisions(db_path):
    result = run("--db", str(db_path), "init", "--gold-policy", "majority")
    assert result.output.endswith("checkworthy\nGold policy: majority\n")
    with Store.open(db_path) as store:
        from tests.test_store import add_article

        aid = add_article(store)
        for name, value in (("alice", "agree"), ("bob", "agree"), ("carol", "discuss")):
            store.set_label(aid, name, "stance", value)
    status = run("--db", str(db_path), "status")
    assert status.output.splitlines()[-1] == "Gold (majority policy): 1 of 1 labelled articles decided, 0 need a decision"
    assert json.loads(run("--db", str(db_path), "init", "--json").output)["gold_policy"] == "majority"
    run("--db", str(db_path), "init", "--gold-policy", "unanimous")
    assert run("--db", str(db_path), "status").output.splitlines()[-1] == (
        "Gold (unanimous policy): 0 of 1 labelled articles decided, 1 need a decision")
    assert run("--db", str(db_path), "init", "--gold-policy", "most").exit_code == 2
