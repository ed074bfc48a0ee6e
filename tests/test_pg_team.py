"""A team on one PostgreSQL server, each member through newsmark's own store as their own
role: three analysts label one story at once and each sees the others' labels arrive live,
a reviewer adjudicates, the server refuses what a member may not do (even through the
store), and the gold export is the one the same work gives on an SQLite file."""

from __future__ import annotations

import re
import sqlite3
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from newsmark.schema.store import Store
from newsmark.tui.cli import cli
from newsmark.tui.live import Watcher
from tests.conftest import SEEDS

ANALYSTS = ("alice", "bob", "carol")
STANCES = {"alice": ["agree", "agree", "discuss", "unrelated", "agree"],
           "bob": ["agree", "disagree", "discuss", "unrelated", "agree"],
           "carol": ["agree", "disagree", "discuss", "discuss", "agree"]}
_INSTANT = re.compile(r'"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"')


def cli_run(db: str, *args: str, stdin: str | None = None) -> str:
    result = CliRunner().invoke(cli, ["--db", db, *args], input=stdin)
    assert result.exit_code == 0, result.output
    return result.output


def gold_export(db: str) -> str:
    """`export --gold`, with the instants (when each value was set) left out: the same work
    done twice differs in its clock only."""
    return _INSTANT.sub('"T"', cli_run(db, "export", "--gold", "-o", "-"))


def do_the_work(stores: dict[str, Store], story: str) -> list[str]:
    """Every analyst's stances, then the reviewer's adjudication of each disagreement."""
    ids = stores["lead"].article_ids(story)
    for position, article_id in enumerate(ids):
        for name in ANALYSTS:
            stores[name].set_label(article_id, name, "stance", STANCES[name][position], story_id=story)
    for position, article_id in enumerate(ids):
        values = {STANCES[name][position] for name in ANALYSTS}
        if len(values) > 1:
            stores["lead"].set_gold(article_id, "stance", STANCES["bob"][position], "lead", "read it twice",
                                    story_id=story)
    return ids


def test_three_analysts_and_a_reviewer_on_one_server(pg_database, tmp_path: Path):
    owner = pg_database.url()
    prefix = pg_database.role_prefix
    for name in (*ANALYSTS, "lead"):
        extra = ["--reviewer"] if name == "lead" else []
        cli_run(owner, "team", "add", name, "--role-prefix", prefix, *extra, "--password-stdin", stdin=f"{name}-pw\n")
    cli_run(owner, "import", str(SEEDS))
    url = {name: pg_database.url(f"{prefix}{name}", f"{name}-pw") for name in (*ANALYSTS, "lead")}
    stores = {name: Store.open(url[name], create=False) for name in url}
    heard: list = []
    everyone_in = threading.Event()

    def on_events(events: list) -> None:  # the reviewer's screen's watcher
        heard.extend(events)
        if sum(event.annotator in ANALYSTS and event.tbl == "labels" for event in heard) == 15:
            everyone_in.set()

    watcher = Watcher(url["lead"], on_events, interval=0.02)
    watcher.start()
    try:
        (story,) = [s.id for s in stores["lead"].stories()]
        ids = do_the_work(stores, story)
        assert everyone_in.wait(5), heard  # all 15 of the analysts' labels reached the reviewer's connection

        # What the app promises, the server enforces, through newsmark's own store too.
        with pytest.raises(sqlite3.DatabaseError, match="permission denied|row-level security"):
            stores["bob"].set_label(ids[0], "alice", "stance", "disagree", story_id=story)
        with pytest.raises(sqlite3.DatabaseError, match="permission denied|row-level security"):
            stores["bob"].set_gold(ids[0], "stance", "agree", "bob", story_id=story)
        assert stores["lead"].labels(ids[0], "alice", story_id=story)["stance"] == "agree"
        # ... and through a command, which says so in one line, without the password.
        refused = CliRunner().invoke(cli, ["--db", url["bob"], "init", "--gold-policy", "majority"])
        shown = url["bob"].replace(":bob-pw@", "@")
        assert (refused.exit_code, refused.stdout) == (1, "")
        assert refused.stderr.startswith(f"Error: the server refused: your role may not do this on {shown} "
                                         "(permission denied: ")
        assert refused.stderr.endswith("; nothing was saved\n") and "bob-pw" not in refused.stderr
        # Undo through the log: the reviewer's last adjudication, and only theirs.
        stores["lead"].undo("lead")
    finally:
        watcher.stop()
        for store in stores.values():
            store.close()
    on_server = gold_export(owner)

    # The same work on an SQLite file (the undo included) gives the same gold export.
    file = str(tmp_path / "same.db")
    cli_run(file, "import", str(SEEDS))
    with Store.open(file) as alone:
        (story,) = [s.id for s in alone.stories()]
        do_the_work({name: alone for name in (*ANALYSTS, "lead")}, story)
        alone.undo("lead")
    assert gold_export(file) == on_server
    assert '"read it twice"' in on_server
