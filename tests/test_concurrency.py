"""Several processes writing one database at once (analysts on a shared server).

Four writers start together on one database: two annotators labelling through the Store
API (one committed transaction per keystroke, as the TUI's writer does) and two
`newsmark load-annotations` runs of teammates' export files (half of whose articles the
database lacks, so the loads create articles and stories too). At the end every record
of every writer is in the database, every process exited 0, and none of them printed
"database is locked" (or any traceback). And the review app shows another analyst's new
labels, written by another process while it is open, after `r`.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import orjson
import pytest

from newsmark.schema.models import Story
from newsmark.schema.sanitize import article_id_for, text_sha256
from newsmark.schema.store import Store

NEWSMARK = Path(sys.executable).with_name("newsmark")
ROOT = Path(__file__).resolve().parent.parent
SHARED_ARTICLES = 1000  # in the database before the writers start
NEW_ARTICLES = 400  # only in the loaded files (one set per file)
STANCES = ("agree", "disagree", "discuss", "unrelated")
GRADES = ("A", "B", "C", "D", "E", "F")



def text_of(k: int, tag: str = "shared") -> str:
    return f"Article {k} ({tag}). The minister said the border would reopen within {k % 13 + 1} weeks."


def build(db_path: Path) -> list[str]:
    """A story with SHARED_ARTICLES articles; return their ids in order."""
    texts = [text_of(k) for k in range(SHARED_ARTICLES)]
    with Store.open(db_path) as store, store.transaction() as conn:
        store.ensure_story(conn, Story(id="border", title="Border", proposition="The border reopens."))
        store.insert_articles(conn, [
            (article_id_for(t), "border", f"Outlet {k % 5}", None, f"Title {k}", None, None, t, text_sha256(t), "{}", None)
            for k, t in enumerate(texts)
        ])
    return [article_id_for(t) for t in texts]


def expected_labels(k: int, who: str) -> dict[str, str]:
    seed = sum(map(ord, who))
    return {
        "stance": STANCES[(k + seed) % 4],
        "reliability": GRADES[(k * 7 + seed) % 6],
        "credibility": str((k * 5 + seed) % 6 + 1),
    }


def export_file(path: Path, who: str, shared_ids: list[str]) -> dict[str, dict[str, str]]:
    """A teammate's export: records for every shared article and NEW_ARTICLES new ones
    (in a story of their own); return {article_id: labels}."""
    lines = []
    wanted: dict[str, dict[str, str]] = {}
    articles = [(aid, None, "border", "Border", "The border reopens.") for aid in shared_ids]
    for k in range(NEW_ARTICLES):
        text = text_of(k, who)
        articles.append((article_id_for(text), text, f"{who}-story", f"{who}'s story", "Something happened."))
    for k, (aid, text, story_id, title, proposition) in enumerate(articles):
        labels = expected_labels(k, who)
        wanted[aid] = labels
        if text is None:
            shared_text = text_of(k)
            sha = text_sha256(shared_text)
        else:
            sha = text_sha256(text)
        lines.append(orjson.dumps({
            "schema_version": 1,
            "article": {"id": aid, "story_id": story_id, "source": "Wire", "url": None, "title": f"T{k}",
                        "byline": None, "published": None, "text_sha256": sha, **({"text": text} if text else {})},
            "story": {"id": story_id, "title": title, "proposition": proposition},
            "annotator": who, "labels": labels, "claims": [], "note": f"note {k} by {who}", "flagged": k % 7 == 0,
            "updated_at": "2026-11-21T10:00:00.000Z",
        }))
    path.write_bytes(b"\n".join(lines) + b"\n")
    return wanted


# Labels every shared article, one committed transaction per label (as a keystroke).
LABELLER = textwrap.dedent("""
    import sys
    from newsmark.schema.store import Store
    db, who, ids = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
    sys.path.insert(0, sys.argv[4])
    from test_concurrency import expected_labels
    with Store.open(db) as store:
        for k, article_id in enumerate(ids):
            for field, value in expected_labels(k, who).items():
                store.set_label(article_id, who, field, value)
            if k % 50 == 0:
                store.set_note(article_id, who, f"note {k}")
    print("done", who)
""")


def db_labels(db_path: Path, who: str) -> dict[str, dict[str, str]]:
    with Store.open(db_path, create=False) as store:
        found: dict[str, dict[str, str]] = {}
        for aid, field, value in store.conn.execute(
            "SELECT article_id, field, value FROM labels WHERE annotator = ?", (who,)
        ):
            found.setdefault(aid, {})[field] = value
    return found


@pytest.mark.slow
def test_four_writers_at_once_lose_nothing(tmp_path: Path) -> None:
    db = tmp_path / "shared.db"
    ids = build(db)
    wanted = {
        "carol": export_file(tmp_path / "carol.jsonl", "carol", ids),
        "dave": export_file(tmp_path / "dave.jsonl", "dave", ids),
    }
    commands = {
        "alice": [sys.executable, "-c", LABELLER, str(db), "alice", ",".join(ids), str(Path(__file__).parent)],
        "bob": [sys.executable, "-c", LABELLER, str(db), "bob", ",".join(ids), str(Path(__file__).parent)],
        "carol": [str(NEWSMARK), "--db", str(db), "load-annotations", str(tmp_path / "carol.jsonl")],
        "dave": [str(NEWSMARK), "--db", str(db), "load-annotations", str(tmp_path / "dave.jsonl")],
    }
    started = time.monotonic()
    processes = {
        who: subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for who, command in commands.items()
    }
    outputs = {who: process.communicate(timeout=300) for who, process in processes.items()}
    elapsed = time.monotonic() - started
    for who, process in processes.items():
        out, err = outputs[who]
        assert process.returncode == 0, f"{who} exited {process.returncode}: {err}"
        assert "locked" not in err.lower() and "Traceback" not in err, f"{who}: {err}"
    total = 2 * len(ids) + 2 * (len(ids) + NEW_ARTICLES)  # annotation records written
    assert outputs["carol"][0].startswith(f"Read {len(ids) + NEW_ARTICLES} records: {len(ids) + NEW_ARTICLES} loaded")
    assert outputs["dave"][0].startswith(f"Read {len(ids) + NEW_ARTICLES} records: {len(ids) + NEW_ARTICLES} loaded")

    for who in ("alice", "bob"):
        assert db_labels(db, who) == {aid: expected_labels(k, who) for k, aid in enumerate(ids)}
    for who, labels in wanted.items():
        assert db_labels(db, who) == labels
    with Store.open(db, create=False) as store:
        assert store.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert store.article_count() == len(ids) + 2 * NEW_ARTICLES
        assert store.story_count() == 3
        assert store.annotators() == ["alice", "bob", "carol", "dave"]
        notes = dict(store.conn.execute(
            "SELECT annotator, count(note) FROM annotations GROUP BY annotator").fetchall())
        assert notes == {"alice": len(range(0, len(ids), 50)), "bob": len(range(0, len(ids), 50)),
                         "carol": len(ids) + NEW_ARTICLES, "dave": len(ids) + NEW_ARTICLES}
        # One event per label written by the labellers (3 per article), none lost.
        events = dict(store.conn.execute(
            "SELECT annotator, count(*) FROM events WHERE op = 'label' GROUP BY annotator").fetchall())
        assert events == {"alice": 3 * len(ids), "bob": 3 * len(ids)}
        # They did run at once: the event log interleaves all four writers.
        order = [row[0] for row in store.conn.execute("SELECT annotator FROM events ORDER BY id")]
    switches = sum(1 for a, b in zip(order, order[1:]) if a != b)
    assert switches >= 3, f"the writers did not overlap ({order[:1]}...)"
    print(f"four writers, {3 * total:,} labels, {switches} interleavings: {elapsed:.1f} s")


def test_a_write_waits_out_a_lock_held_past_the_busy_timeout(tmp_path: Path, monkeypatch) -> None:
    """A big import or load keeps the write lock for longer than SQLite's busy timeout:
    a keystroke's write meanwhile waits on (polling, see Store._begin_immediate) instead
    of failing with "database is locked", and takes the lock at its next poll after the
    other writer lets go."""
    import newsmark.schema.store as store_module

    db = tmp_path / "locked.db"
    ids = build(db)
    holder = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    polls = []
    real_poll = store_module._poll
    busy_seconds = 0.02

    def poll(attempt: int) -> None:
        polls.append(time.monotonic())
        if holder.in_transaction and polls[-1] - polls[0] > 3 * busy_seconds:
            holder.execute("COMMIT")  # three busy timeouts later the other writer commits
            polls.append(-1.0)
        real_poll(attempt)

    monkeypatch.setattr(store_module, "_poll", poll)
    with Store.open(db, create=False) as store:
        store.conn.execute(f"PRAGMA busy_timeout = {int(busy_seconds * 1000)}")
        store.set_label(ids[0], "alice", "stance", "agree")
        assert store.labels(ids[0], "alice") == {"stance": "agree"}
        assert store.conn.execute("PRAGMA busy_timeout").fetchone()[0] == 20  # restored
    holder.close()
    released = polls.index(-1.0)
    assert released == len(polls) - 1  # the write went through at the first try after the commit
    assert max(b - a for a, b in zip(polls[:released], polls[1:released])) <= store_module.POLL_SECONDS + 0.02


def test_a_lock_held_past_the_whole_wait_fails(tmp_path: Path) -> None:
    """WRITE_WAIT_ROUNDS busy timeouts later the write gives up (the CLI turns this into
    an `Error:` line, the TUI into "Not saved")."""
    db = tmp_path / "locked.db"
    ids = build(db)
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with Store.open(db, create=False) as store:
            store.conn.execute("PRAGMA busy_timeout = 5")
            started = time.monotonic()
            with pytest.raises(sqlite3.OperationalError, match="database is locked"):
                store.set_label(ids[0], "alice", "stance", "agree")
            assert time.monotonic() - started >= 30 * 0.005
    finally:
        holder.close()


async def test_review_shows_another_analysts_new_labels_after_reload(tmp_path: Path) -> None:
    from tests.test_review import make_app, wait_for
    from newsmark.tui.review.labels_table import LabelsTable

    db = tmp_path / "review.db"
    ids = build(db)
    with Store.open(db) as store:
        store.set_label(ids[0], "alice", "stance", "agree")
    app = make_app(db, story_id="border")
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: getattr(app.screen, "state", None) is not None)
        screen = app.screen
        assert screen.state.annotators == ["alice"]
        # Another analyst, in another process, labels the article on screen.
        done = subprocess.run(
            [sys.executable, "-c", LABELLER, str(db), "erin", ids[0], str(Path(__file__).parent)],
            cwd=ROOT, capture_output=True, text=True, timeout=60,
        )
        assert done.returncode == 0, done.stderr
        assert "erin" not in screen.state.annotators  # not before a reload
        await pilot.press("r")
        await wait_for(pilot, lambda: "erin" in screen.state.annotators)
        table = screen.query_one(LabelsTable)
        row = [str(table.get_cell_at((1, column))) for column in range(len(table.columns))]
        erin = expected_labels(0, "erin")
        assert row == ["erin", *(erin[name] for name in screen.state.fields)]
