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

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from contextlib import contextmanager
from pathlib import Path

import orjson
import pytest

from newsmark.schema.models import Story
from newsmark.schema.sanitize import article_id_for, text_sha256
from newsmark.schema.store import Store, visible
from tests.e2e.driving import children_of, wait_until
from tests.engines import assert_intact

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
        assert_intact(store)
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


# --- bulk writers and an analyst's keystrokes (issue 9) --------------------------------------

BULK_STORY = "bulk"
LOAD_ARTICLES = 4000  # articles in the loaded file's database; 2 annotators: twice as many records
WORDS = "minister council harbour storm bridge court ruling vote budget energy grid talks".split()




def write_big_csv(path: Path, rows: int) -> None:
    """A CSV of `rows` articles of about 3 KB each (read by a forked reader: >= 16 MB)."""
    lines = ["title,text,source"]
    for k in range(rows):
        body = " ".join(WORDS[(k * 7 + i) % len(WORDS)] for i in range(420))
        lines.append(f"Bulk {k},Bulk article {k}. {body},Wire {k % 5}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def build_load_case(tmp_path: Path) -> tuple[Path, Path, int]:
    """A database of LOAD_ARTICLES articles and a teammate's export of labels by carol and
    dave on each of them (a claim on every fifth, its offsets stale on every other one, so
    loading re-anchors it); returns (database, file, records)."""
    db = tmp_path / "team.db"
    texts = [f"Team article {k}. " + " ".join(WORDS[(k + i) % len(WORDS)] for i in range(40))
             for k in range(LOAD_ARTICLES)]
    with Store.open(db) as store, store.transaction() as conn:
        store.ensure_story(conn, Story(id="team", title="Team", proposition="It happened."))
        store.insert_articles(conn, [
            (article_id_for(t), "team", "Wire", None, f"T{k}", None, None, t, text_sha256(t), "{}", None)
            for k, t in enumerate(texts)
        ])
    lines = []
    for who in ("carol", "dave"):
        for k, text in enumerate(texts):
            claims = []
            if k % 5 == 0:
                start = text.index(".") + 2
                exact = text[start:start + 20]
                shift = 2 if k % 10 == 0 else 0  # stale: found again by its quote
                claims.append({"id": f"{who}-{k}", "start": start + shift, "end": start + 20 + shift, "exact": exact,
                               "prefix": text[max(0, start - 32):start], "suffix": text[start + 20:start + 52],
                               "labels": {"checkworthy": "yes"}, "cluster": None})
            lines.append(orjson.dumps({
                "schema_version": 1,
                "article": {"id": article_id_for(text), "story_id": "team", "source": "Wire", "url": None,
                            "title": f"T{k}", "byline": None, "published": None, "text_sha256": text_sha256(text)},
                "story": {"id": "team", "title": "Team", "proposition": "It happened."},
                "annotator": who, "labels": expected_labels(k, who), "claims": claims, "note": None,
                "flagged": False, "updated_at": "2026-11-21T10:00:00.000Z",
            }))
    path = tmp_path / "team.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    return db, path, len(lines)


def keystrokes_while(process: subprocess.Popen, db: Path, ids: list[str], visible: str) -> tuple[list[float], list[int]]:
    """Label articles as "alice" through the annotate screen's writer, one keystroke every
    50 ms, while `process` runs; return each keystroke's seconds to commit and what the
    `visible` count query returned after each."""
    from newsmark.tui.writer import Writer

    writer = Writer(db)
    writer.start().result(timeout=30)
    reader = sqlite3.connect(db, timeout=30)
    latencies: list[float] = []
    seen: list[int] = []
    try:
        k = 0
        while process.poll() is None:
            article_id, value = ids[k % len(ids)], STANCES[k % len(STANCES)]
            pressed = time.monotonic()
            writer.submit(lambda store, a=article_id, v=value: store.set_label(a, "alice", "stance", v)).result(120)
            latencies.append(time.monotonic() - pressed)
            seen.append(reader.execute(visible).fetchone()[0])
            k += 1
            time.sleep(max(0.0, pressed + 0.05 - time.monotonic()))  # the typing rhythm
    finally:
        writer.stop()
        reader.close()
    return latencies, seen


def integrity(db: Path) -> str:
    conn = sqlite3.connect(db, timeout=30)
    try:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()


@pytest.mark.slow
def test_keystrokes_commit_while_a_big_import_runs(tmp_path: Path) -> None:
    """A 60 MB CSV import (a forked reader, rows staged out of the lock): the analyst's
    keystrokes commit throughout, waiting at most for the file's publishing, and the file
    shows up all at once."""
    db = tmp_path / "desk.db"
    ids = build(db)
    rows = 20_000
    path = tmp_path / "big.csv"
    write_big_csv(path, rows)
    started = time.monotonic()
    process = subprocess.Popen([str(NEWSMARK), "--db", str(db), "import", str(path), "--story", BULK_STORY],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    latencies, seen = keystrokes_while(
        process, db, ids, f"SELECT count(*) FROM articles WHERE story_id = '{BULK_STORY}' AND {visible()}")
    out, err = process.communicate(timeout=300)
    elapsed = time.monotonic() - started
    assert process.returncode == 0, err
    assert out.startswith(f"Imported {rows} articles (0 duplicates, 0 rejected)"), out
    assert len(latencies) >= 10, "the import ended before the keystrokes could overlap it"
    assert set(seen) <= {0, rows}, "part of the file was visible"
    assert seen[0] == 0  # keystrokes committed while the import ran, before its rows were published
    # The write lock is held for one chunk of the file at a time, a small part of the whole job
    # (the 1 s target itself is measured by bench/bench_contention.py, not on a shared test machine).
    assert max(latencies) < 0.4 * elapsed, f"a keystroke waited {max(latencies):.2f} s of the job's {elapsed:.1f} s"
    with Store.open(db, create=False) as store:
        assert store.article_count(BULK_STORY) == rows
        assert store.conn.execute("SELECT count(*) FROM events WHERE annotator = 'alice'").fetchone()[0] == len(latencies)
    assert integrity(db) == "ok"


@pytest.mark.slow
def test_keystrokes_commit_while_a_big_load_runs(tmp_path: Path) -> None:
    """load-annotations of 8,000 records (claims to re-anchor among them): the analyst's
    keystrokes commit throughout, waiting at most for the file's publishing, and the file's
    records show up all at once, with the event log a completed load writes."""
    db, path, records = build_load_case(tmp_path)
    with Store.open(db, create=False) as store:
        ids = [row[0] for row in store.conn.execute("SELECT id FROM articles ORDER BY seq LIMIT 200")]
    started = time.monotonic()
    process = subprocess.Popen([str(NEWSMARK), "--db", str(db), "load-annotations", str(path)],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    latencies, seen = keystrokes_while(process, db, ids,
                                       "SELECT count(*) FROM labels WHERE annotator IN ('carol', 'dave')")
    out, err = process.communicate(timeout=300)
    elapsed = time.monotonic() - started
    assert process.returncode == 0, err
    assert out.startswith(f"Read {records} records: {records} loaded"), out
    assert len(latencies) >= 10, "the load ended before the keystrokes could overlap it"
    assert set(seen) <= {0, 3 * records}, "part of the file was visible"
    assert seen[0] == 0
    # The write lock is held only to publish the file, a small part of the whole job (the
    # 1 s target itself is measured by bench/bench_contention.py, not on a shared test machine).
    assert max(latencies) < 0.4 * elapsed, f"a keystroke waited {max(latencies):.2f} s of the job's {elapsed:.1f} s"
    with Store.open(db, create=False) as store:
        counts = dict(store.conn.execute(
            "SELECT annotator, count(*) FROM events WHERE op = 'load' GROUP BY annotator").fetchall())
        claims = LOAD_ARTICLES // 5
        # Per record: 3 labels and its annotations row; per claim: the claim and its label.
        assert counts == {who: 4 * LOAD_ARTICLES + 2 * claims for who in ("carol", "dave")}
        assert store.conn.execute("SELECT count(*) FROM claims").fetchone()[0] == 2 * claims
        # Each file's events are one run of ids, its actions numbered from its own events.
        for who in ("carol", "dave"):
            first, last = store.conn.execute(
                "SELECT min(id), max(id) FROM events WHERE annotator = ?", (who,)).fetchone()
            assert last - first + 1 == counts[who]
            assert store.conn.execute(
                "SELECT count(*) FROM events WHERE annotator = ? AND action NOT BETWEEN ? AND ?",
                (who, first, last)).fetchone()[0] == 0
    assert integrity(db) == "ok"




def file_position(pid: int, path: Path) -> int:
    """How far process `pid` has read the file `path` (0 if it has not opened it)."""
    for fd in Path(f"/proc/{pid}/fd").glob("*"):
        try:
            if Path(os.readlink(fd)) == path:
                fields = dict(line.split(":", 1) for line in (Path(f"/proc/{pid}/fdinfo") / fd.name).read_text().splitlines())
                return int(fields["pos"])
        except (OSError, ValueError, KeyError):
            continue
    return 0


def resident_bytes(pid: int) -> int:
    """The resident memory of process `pid` (0 once it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def test_a_load_killed_part_way_applies_nothing_of_the_file_and_a_rerun_completes_it(tmp_path: Path) -> None:
    db, path, records = build_load_case(tmp_path)
    size = path.stat().st_size
    process = subprocess.Popen([str(NEWSMARK), "--db", str(db), "load-annotations", str(path)],
                               cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: file_position(process.pid, path) > size // 3 or process.poll() is not None,
                   "the load to have read a third of its file")
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == -signal.SIGKILL, "the load finished before it could be killed"
    assert integrity(db) == "ok"
    with Store.open(db, create=False) as store:
        for table in ("labels", "annotations", "claims", "claim_labels", "events"):
            assert store.conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0, table
    rerun = subprocess.run([str(NEWSMARK), "--db", str(db), "load-annotations", str(path)],
                           cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert rerun.stdout.startswith(f"Read {records} records: {records} loaded"), rerun.stdout
    with Store.open(db, create=False) as store:
        assert store.conn.execute("SELECT count(*) FROM labels").fetchone()[0] == 3 * records


@pytest.mark.slow
def test_an_import_killed_while_staging_leaves_nothing_and_a_rerun_completes_it(tmp_path: Path) -> None:
    """While its rows are published chunk by chunk (hidden), an import leaves the write lock
    free between chunks and nothing of the file visible; killed then, it leaves no visible
    row and no lock behind, and the re-run imports every row."""
    db = tmp_path / "desk.db"
    build(db)
    rows = 20_000
    path = tmp_path / "big.csv"
    write_big_csv(path, rows)
    process = subprocess.Popen([str(NEWSMARK), "--db", str(db), "import", str(path), "--story", BULK_STORY],
                               cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: children_of(process.pid) or process.poll() is not None, "the import's reader process", 120)
        wait_until(lambda: hidden_rows(db) or process.poll() is not None, "the import to publish a chunk", 120)
        with Store.open(db, create=False) as store:
            store.set_label(store.article_ids("border")[0], "alice", "stance", "agree")
            assert process.poll() is None, "the keystroke waited for the whole import"
            assert store.article_count(BULK_STORY) == 0
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == -signal.SIGKILL, "the import finished before it could be killed"
    assert integrity(db) == "ok"
    with Store.open(db, create=False) as store:
        assert store.article_count(BULK_STORY) == 0
        store.set_label(store.article_ids("border")[0], "alice", "stance", "discuss")  # no lock left behind
    rerun = subprocess.run([str(NEWSMARK), "--db", str(db), "import", str(path), "--story", BULK_STORY],
                           cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    with Store.open(db, create=False) as store:
        assert store.article_count(BULK_STORY) == rows


def test_a_load_tried_again_when_a_row_it_read_changed_meanwhile(tmp_path: Path, monkeypatch) -> None:
    """Another process changes a row the file read after the file was applied (out of the
    lock) and before it is published: the load applies the file again, so the newer local
    change is kept (as if it had come first; newer wins per part, so the record's part the
    database had nothing of still loads) and the event log holds both."""
    import newsmark.schema.load as load_module
    from newsmark.schema.load import load_annotations

    db, path, records = build_load_case(tmp_path)
    lines = path.read_bytes().splitlines()[:300]
    path.write_bytes(b"\n".join(lines) + b"\n")
    first = orjson.loads(lines[0])
    article_id, who = first["article"]["id"], first["annotator"]
    publish = load_module._Shadow.publish
    tries: list[bool] = []

    def publish_after_a_change(self) -> bool:
        if not tries:
            with Store.open(db, create=False) as other:  # another analyst's process
                other.set_label(article_id, who, "stance", "unrelated")
        tries.append(publish(self))
        return tries[-1]

    monkeypatch.setattr(load_module._Shadow, "publish", publish_after_a_change)
    with Store.open(db, create=False) as store:
        report = load_annotations(store, [path])
        assert tries == [False, True]
        # Newer wins per part: the local stance (the story's part) is kept; the record's
        # article-wide labels, of which the database had none, load.
        assert (report.read, report.loaded, report.kept_newer_local) == (300, 300, 0)
        assert store.labels(article_id, who) == {"stance": "unrelated", "reliability": "B", "credibility": "2"}
        ops = [row[0] for row in store.conn.execute("SELECT op FROM events WHERE annotator = ? ORDER BY id", (who,))]
        # The local label; 299 whole records of 4 rows; every fifth record's claim and its
        # label (60, the first record's among them); the first record's two shared labels.
        assert ops[0] == "label" and ops.count("label") == 1 and len(ops) == 1 + 299 * 4 + 60 * 2 + 2


def test_a_write_that_would_escape_the_files_shadow_fails_and_applies_nothing(tmp_path: Path, monkeypatch) -> None:
    """While a file is applied into its shadow tables, a write to a table of the store the
    shadow does not cover (here: settings) is refused, loudly, instead of being committed
    on its own outside the file's all-or-nothing."""
    import newsmark.schema.load as load_module
    from newsmark.schema.load import load_annotations

    db, path, records = build_load_case(tmp_path)
    path.write_bytes(b"\n".join(path.read_bytes().splitlines()[:50]) + b"\n")
    apply = load_module._Loader._apply_annotation

    def apply_and_write_a_setting(self, conn, record, origin):
        conn.execute("INSERT INTO settings (key, value) VALUES ('escaped', 'yes')")
        return apply(self, conn, record, origin)

    monkeypatch.setattr(load_module._Loader, "_apply_annotation", apply_and_write_a_setting)
    with Store.open(db, create=False) as store:
        with pytest.raises(sqlite3.DatabaseError, match="not authorized"):
            load_annotations(store, [path])
        assert store.get_setting("escaped") is None
        assert store.conn.execute("SELECT count(*) FROM labels").fetchone()[0] == 0
        assert store.conn.execute("SELECT count(*) FROM temp.sqlite_master WHERE name = 'labels'").fetchone()[0] == 0


# --- a big file published in short hidden chunks ---------------------------------------------

PUBLISHED_ROWS = 60


def small_chunks(monkeypatch) -> None:
    """Every CSV goes through the forked reader, published PUBLISH_CHUNK_ROWS = 7 rows at a time."""
    from newsmark.schema import ingest

    monkeypatch.setattr(ingest, "PIPELINE_BYTES", 0)
    monkeypatch.setattr(ingest, "BATCH_ROWS", 10)
    monkeypatch.setattr(Store, "PUBLISH_CHUNK_ROWS", 7)


def write_csv(path: Path, rows: int, tag: str) -> list[str]:
    """A CSV of `rows` articles; return their ids."""
    texts = [text_of(k, tag) for k in range(rows)]
    path.write_text("title,text\n" + "".join(f"T{k},{t}\n" for k, t in enumerate(texts)), encoding="utf-8")
    return [article_id_for(t) for t in texts]


def hidden_rows(db: Path) -> int:
    conn = sqlite3.connect(db, timeout=30)
    try:
        return conn.execute(f"SELECT count(*) FROM articles WHERE NOT {visible()}").fetchone()[0]
    finally:
        conn.close()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="big files are read by a forked process only where fork exists")
def test_a_reader_never_sees_part_of_a_file_published_in_chunks(tmp_path: Path, monkeypatch) -> None:
    """Between the chunks of a big import, another connection's story count, total count,
    story list, article by id and id prefix show none of the file or all of it; a
    keystroke commits between two chunks."""
    from newsmark.schema.ingest import import_paths

    small_chunks(monkeypatch)
    db = tmp_path / "desk.db"
    ids = build(db)
    new_ids = write_csv(tmp_path / "big.csv", PUBLISHED_ROWS, "bulk")
    seen: list[tuple] = []
    keystrokes: list[str] = []
    other = Store.open(db, create=False)
    real = Store.transaction

    @contextmanager
    def observed(self, *, bulk: bool = False):
        with real(self, bulk=bulk) as conn:
            yield conn
        if bulk and self is not other:  # after each of the importer's commits, from another connection
            hidden = hidden_rows(db)
            story = [p.articles for p in other.story_page(0, 100, "alice") if p.id == BULK_STORY]
            seen.append((hidden, other.article_count(BULK_STORY), other.status()["articles"], story,
                         other.get_article(new_ids[0]) is not None, len(other.article_ids(BULK_STORY))))
            if hidden and not keystrokes:
                other.set_label(ids[0], "alice", "stance", "agree")  # the write lock is free between chunks
                keystrokes.append(ids[0])

    monkeypatch.setattr(Store, "transaction", observed)
    try:
        with Store.open(db, create=False) as store:
            report = import_paths(store, [tmp_path / "big.csv"], story=BULK_STORY)
    finally:
        monkeypatch.setattr(Store, "transaction", real)
    assert (report.imported, report.duplicates, report.rejected) == (PUBLISHED_ROWS, 0, [])
    during = [row for row in seen if row[0]]
    assert len(during) >= PUBLISHED_ROWS // 7 - 1, seen  # published in chunks, hidden meanwhile
    for hidden, count, total, story, by_id, listed in during:
        assert (count, total, story, by_id, listed) == (0, SHARED_ARTICLES, [], False, 0)
    assert seen[-1] == (0, PUBLISHED_ROWS, SHARED_ARTICLES + PUBLISHED_ROWS, [PUBLISHED_ROWS], True, PUBLISHED_ROWS)
    assert keystrokes
    assert other.labels(ids[0], "alice")["stance"] == "agree"
    other.close()
    assert integrity(db) == "ok"
    assert not list(tmp_path.glob("desk.db.importing-*"))  # the lock file is gone


def test_a_chunk_refused_part_way_leaves_nothing_of_the_file(tmp_path: Path, monkeypatch) -> None:
    """The database refuses the third chunk: the file is reported not imported and none of
    its rows stays, hidden or not."""
    from newsmark.schema.ingest import import_paths

    small_chunks(monkeypatch)
    db = tmp_path / "desk.db"
    build(db)
    write_csv(tmp_path / "big.csv", PUBLISHED_ROWS, "bulk")
    real = Store.transaction
    commits: list[int] = []

    @contextmanager
    def refusing(self, *, bulk: bool = False):
        with real(self, bulk=bulk) as conn:
            if bulk and hidden_rows(db):
                commits.append(1)
                if len(commits) == 2:
                    raise sqlite3.OperationalError("database or disk is full")
            yield conn

    monkeypatch.setattr(Store, "transaction", refusing)
    with Store.open(db, create=False) as store:
        report = import_paths(store, [tmp_path / "big.csv"], story=BULK_STORY)
    monkeypatch.setattr(Store, "transaction", real)
    assert report.imported == 0
    assert [r.reason for r in report.rejected] == ["not imported, the database refused it: database or disk is full"]
    with Store.open(db, create=False) as store:
        assert store.conn.execute("SELECT count(*) FROM articles").fetchone()[0] == SHARED_ARTICLES
        assert store.conn.execute("SELECT count(*) FROM settings WHERE key LIKE 'importing:%'").fetchone()[0] == 0
    assert not list(tmp_path.glob("desk.db.importing-*"))


@pytest.mark.slow
def test_an_import_killed_while_publishing_is_cleared_and_a_rerun_imports_every_row(tmp_path: Path) -> None:
    """kill -9 between two chunks of the publishing: the hidden rows are never seen, the
    next open clears them (its importer's lock is gone), and the re-run imports every row
    (none counted as a duplicate of the dead import's)."""
    db = tmp_path / "desk.db"
    build(db)
    rows = 20_000
    path = tmp_path / "big.csv"
    write_big_csv(path, rows)
    process = subprocess.Popen([str(NEWSMARK), "--db", str(db), "import", str(path), "--story", BULK_STORY],
                               cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: hidden_rows(db) or process.poll() is not None, "the import to publish a chunk", timeout=300)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == -signal.SIGKILL, "the import finished before it could be killed"
    assert 0 < hidden_rows(db) < rows + 1
    assert integrity(db) == "ok"
    with Store.open(db, create=False) as store:  # opening clears the dead import's rows
        assert store.article_count() == SHARED_ARTICLES
        assert store.conn.execute("SELECT count(*) FROM articles").fetchone()[0] == SHARED_ARTICLES
        assert store.conn.execute("SELECT count(*) FROM settings WHERE key LIKE 'importing:%'").fetchone()[0] == 0
    assert not list(tmp_path.glob("desk.db.importing-*"))
    assert integrity(db) == "ok"
    rerun = subprocess.run([str(NEWSMARK), "--db", str(db), "import", str(path), "--story", BULK_STORY],
                           cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert rerun.stdout.startswith(f"Imported {rows} articles (0 duplicates, 0 rejected)"), rerun.stdout
    with Store.open(db, create=False) as store:
        assert store.article_count(BULK_STORY) == rows
    assert hidden_rows(db) == 0


def test_an_import_still_running_is_not_cleared(tmp_path: Path) -> None:
    """A hidden batch whose importer holds its lock file is left alone by another process's
    open; once the lock is free, it is cleared."""
    import fcntl

    db = tmp_path / "desk.db"
    build(db)
    batch = "ab" * 16
    with Store.open(db, create=False) as store, store.transaction() as conn:
        first = conn.execute("SELECT max(seq) + 1 FROM articles").fetchone()[0]
        conn.execute("INSERT INTO settings (key, value) VALUES (?, ?)", (f"importing:{batch}", f"[{first}, {first + 1}]"))
        text = text_of(1, "hidden")
        store.insert_articles(conn, [(article_id_for(text), BULK_STORY, None, None, None, None, None,
                                      text, text_sha256(text), "{}", None)])
    lock_path = tmp_path / f"desk.db.importing-{batch}.lock"
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        probe = subprocess.run([sys.executable, "-c", textwrap.dedent(f"""
            from newsmark.schema.store import Store
            with Store.open({str(db)!r}, create=False) as store:
                print(store.article_count(), store.conn.execute("SELECT count(*) FROM articles").fetchone()[0])
        """)], capture_output=True, text=True, timeout=60)
        assert probe.stdout.split() == [str(SHARED_ARTICLES), str(SHARED_ARTICLES + 1)], probe.stderr
    finally:
        os.close(fd)
    with Store.open(db, create=False) as store:
        assert store.conn.execute("SELECT count(*) FROM articles").fetchone()[0] == SHARED_ARTICLES
    assert not lock_path.exists()
