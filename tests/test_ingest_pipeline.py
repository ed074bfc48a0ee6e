"""schema/ingest.py, big files: read in a child process while this one stores the batches.

The size threshold (PIPELINE_BYTES) and the batch size (BATCH_ROWS) are lowered so small
files take that path; every result is compared with the same file imported in-process.
"""

from __future__ import annotations

import csv
import gc
import io
import json
import multiprocessing
import sqlite3
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from newsmark.schema import ingest
from newsmark.schema.ingest import ImportReport, import_paths
from newsmark.schema.store import Store
from tests.engines import assert_intact
from tests.hostile import write
from tests.test_ingest import reasons, skipped

pytestmark = pytest.mark.skipif(ingest._fork_context() is None, reason="big files are read in-process here")

COLUMNS = "id, story_id, source, url, title, byline, published, text, text_sha256, meta, origin"


def rows(store: Store) -> list[tuple]:
    return store.conn.execute(f"SELECT {COLUMNS} FROM articles ORDER BY seq").fetchall()


def stories(store: Store) -> list[tuple]:
    return store.conn.execute("SELECT id, title, proposition FROM stories ORDER BY id").fetchall()


@pytest.fixture
def pipelined(monkeypatch):
    """Every CSV/TSV/JSONL file goes through the child process, in batches of 3 rows."""
    monkeypatch.setattr(ingest, "PIPELINE_BYTES", 0)
    monkeypatch.setattr(ingest, "BATCH_ROWS", 3)
    monkeypatch.setattr(ingest, "CHUNK_BYTES", 1000)  # files are read in many chunks
    calls: list[int] = []
    real = ingest._import_pipelined

    def counted(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(ingest, "_import_pipelined", counted)
    return calls


def in_process(tmp_path: Path, paths: list[Path], **options) -> tuple[ImportReport, list[tuple], list[tuple]]:
    """The same import through the ordinary path, for comparison."""
    with Store.open(tmp_path / "reference.db") as reference:
        saved = ingest.PIPELINE_BYTES
        ingest.PIPELINE_BYTES = sys.maxsize
        try:
            report = import_paths(reference, paths, **options)
        finally:
            ingest.PIPELINE_BYTES = saved
        return report, rows(reference), stories(reference)


def assert_no_children() -> None:
    """The reader process is gone, and the objects frozen while it ran are not any more."""
    assert multiprocessing.active_children() == []
    assert gc.get_freeze_count() == 0


def test_a_big_csv_imports_exactly_as_in_process(store, tmp_path, pipelined):
    body = "".join(f'T{i},"text {i} café “q” cafe\u0301\nsecond line",Outlet {i % 2},2024-0{1 + i % 9}-01,x{i}\n'
                   for i in range(20))
    path = write(tmp_path / "big.csv", "title,text,source,published,extra\n" + body)
    seen: list[int] = []
    report = import_paths(store, [path], progress=lambda done, total: seen.append(done))
    assert pipelined == [1]
    assert (report.imported, report.duplicates, report.rejected, report.stories) == (20, 0, [], ["big"])
    expected, expected_rows, expected_stories = in_process(tmp_path, [path])
    assert report == expected
    assert rows(store) == expected_rows and stories(store) == expected_stories
    if not store.postgres:  # (PostgreSQL's columns have one type)
        assert store.conn.execute("SELECT DISTINCT typeof(text) FROM articles").fetchall() == [("text",)]
    assert "café “q” café\nsecond line" in rows(store)[0][7]  # NFC, stored as TEXT from UTF-8 bytes
    assert seen == sorted(seen) and seen[-1] == path.stat().st_size
    assert_no_children()


def test_a_big_jsonl_with_two_stories_creates_each_before_its_articles(store, tmp_path, pipelined):
    folder = tmp_path / "corpus"
    write(folder / "story.toml", '[story]\nid = "main"\ntitle = "Main story"\nproposition = "P"\n')
    records = [{"text": f"article {i}", "title": f"T{i}"} for i in range(7)]
    records += [{"text": f"other {i}", "story": "second"} for i in range(5)]  # first met in a later batch
    records += [{"text": "last one"}]
    path = write(folder / "feed.jsonl", b"".join(orjson.dumps(r) + b"\n" for r in records))
    if not store.postgres:  # (no foreign keys there to check)
        store.conn.execute("PRAGMA foreign_keys = ON")
    report = import_paths(store, [path])
    assert pipelined == [1]
    assert (report.imported, report.rejected, report.stories) == (13, [], ["main", "second"])
    assert stories(store) == [("main", "Main story", "P"), ("second", "second", "")]
    expected, expected_rows, expected_stories = in_process(tmp_path, [path])
    assert report == expected and rows(store) == expected_rows and stories(store) == expected_stories


def test_bad_utf8_late_in_a_big_csv_leaves_nothing(store, tmp_path, pipelined, monkeypatch):
    monkeypatch.setattr(ingest, "BATCH_ROWS", 50)
    good = "".join(f"t{i},text number {i}\n" for i in range(3000)).replace("t5,text number 5", "t5,")
    path = write(tmp_path / "late.csv", ("title,text\n" + good).encode() + b"bad,caf\xe9\n")
    batches: list[int] = []
    real = Store.stage_articles

    def spy(self, batch, **kwargs):
        batches.append(len(batch))
        return real(self, batch, **kwargs)

    monkeypatch.setattr(Store, "stage_articles", spy)
    report = import_paths(store, [path])
    assert len(batches) > 10  # batches were staged before the bad byte was met, then dropped
    offset = len(("title,text\n" + good).encode()) + 7
    assert reasons(report) == [("late.csv", 3002, f"not valid UTF-8 (byte {offset}: b'\\xe9'); file not imported")]
    assert (report.imported, report.stories) == (0, [])
    assert rows(store) == [] and stories(store) == []
    assert_no_children()


def test_line_rejections_and_duplicates_across_batches(store, tmp_path, pipelined):
    lines = ["title,text,story"]
    for i in range(30):
        if i % 7 == 3:
            lines.append(f"t{i},,")  # empty text
        elif i % 11 == 5:
            lines.append(f"t{i},text {i},Bad Story!")  # invalid story id
        elif i % 5 == 4:
            lines.append(f"t{i},text 0,")  # the same text as row 0: a duplicate
        else:
            lines.append(f"t{i},text {i},")
    lines.append("a,b,c,d")  # too many fields
    path = write(tmp_path / "mixed.csv", "\n".join(lines) + "\n")
    before = write(tmp_path / "before.jsonl", b'{"text": "text 1"}\n')
    import_paths(store, [before])
    report = import_paths(store, [path])
    expected, _, _ = in_process(tmp_path, [before, path])
    assert pipelined == [1, 1]  # before.jsonl too
    assert [r.line for r in report.rejected] == sorted(r.line for r in report.rejected)
    assert reasons(report) == reasons(expected) and skipped(report) == skipped(expected)
    assert ("mixed.csv", 5, "empty text") in skipped(report)
    assert ("mixed.csv", 32, "4 fields where the header has 3") in reasons(report)
    # "text 0" five times again, and "text 1" was stored before. The reference imported
    # before.jsonl in the same run: one more new article, same duplicates.
    assert (report.imported, report.duplicates) == (expected.imported - 1, expected.duplicates) == (17, 6)


def test_a_database_refusal_mid_file_undoes_it_and_keeps_its_line_rejections(store, tmp_path, pipelined,
                                                                             monkeypatch):
    body = "".join(f"t{i},{'' if i == 13 else f'text {i}'}\n" for i in range(20))
    path = write(tmp_path / "refused.csv", "title,text\n" + body)
    small = write(tmp_path / "small.txt", "Small\n\nfile")
    real = Store.stage_articles
    calls = {"n": 0}

    def flaky(self, batch, **kwargs):
        calls["n"] += 1
        real(self, batch, **kwargs)
        if calls["n"] == 3:
            raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(Store, "stage_articles", flaky)
    report = import_paths(store, [path, small])
    assert reasons(report) == [("refused.csv", None, "not imported, the database refused it: disk I/O error")]
    assert skipped(report) == [("refused.csv", 15, "empty text")]
    assert [r[4] for r in rows(store)] == ["Small"]
    assert report.stories == [tmp_path.name]
    assert store.get_story("refused") is None
    assert_no_children()


def test_keyboard_interrupt_while_storing_leaves_no_child_and_no_rows(store, tmp_path, pipelined, monkeypatch):
    path = write(tmp_path / "big.csv", "title,text\n" + "".join(f"t{i},text {i}\n" for i in range(50)))

    def interrupted(self, batch, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(Store, "stage_articles", interrupted)
    with pytest.raises(KeyboardInterrupt):
        import_paths(store, [path])
    assert_no_children()
    assert rows(store) == [] and stories(store) == []
    monkeypatch.undo()
    assert import_paths(store, [path]).imported == 50  # the database is not left locked


def test_an_error_in_the_reader_is_raised_here(store, tmp_path, pipelined, monkeypatch):
    path = write(tmp_path / "feed.jsonl", b'{"text": "a"}\n')

    def broken(*args, **kwargs):
        raise ValueError("reader bug")

    monkeypatch.setattr(ingest, "_read_jsonl", broken)
    with pytest.raises(ValueError, match="reader bug"):
        import_paths(store, [path])
    assert_no_children()
    assert rows(store) == []


def test_a_file_of_one_batch_is_stored_with_the_small_files(store, tmp_path, pipelined):
    one = write(tmp_path / "one.jsonl", b'{"text": "a"}\n{"text": ""}\n')
    two = write(tmp_path / "two.txt", "Two\n\nbody")
    report = import_paths(store, [one, two])
    expected, expected_rows, _ = in_process(tmp_path, [one, two])
    assert report == expected and rows(store) == expected_rows
    assert reasons(report) == [] and skipped(report) == [("one.jsonl", 2, "empty text")]


def test_without_fork_big_files_are_read_in_process(store, tmp_path, pipelined, monkeypatch):
    monkeypatch.setattr(ingest, "_fork_context", lambda: None)
    path = write(tmp_path / "big.csv", "title,text\n" + "".join(f"t{i},text {i}\n" for i in range(10)))
    assert import_paths(store, [path]).imported == 10
    assert pipelined == []


# --- standard input and memory, in processes of their own ---------------------------------

IMPORT_AND_MEASURE = """
import json, os, resource, sys
from click.testing import CliRunner
from newsmark.schema.ingest import import_paths
from newsmark.schema.store import Store
from tests.engines import assert_intact

def peak_kib():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])

def resident_kib():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])

before = peak_kib()
at_fork = []  # the parent's resident size when the reader forks: the pages the child starts with
os.register_at_fork(before=lambda: at_fork.append(resident_kib()))
with Store.open(sys.argv[1]) as store:
    report = import_paths(store, [sys.argv[2]])
print(json.dumps({"imported": report.imported, "rejected": [str(r) for r in report.rejected],
                  "before_kib": before, "self_kib": peak_kib(), "at_fork_kib": at_fork,
                  "reader_kib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))
"""


def article_lines(count: int, start: int = 0) -> list[bytes]:
    """Ordinary articles (about 3 KB of text each) as JSONL lines."""
    words = ("minister said the council report on harbor flood prices would follow after the vote; "
             "officials denied the claim “in full” ").split()
    return [orjson.dumps({"title": f"Article {i}", "text": " ".join(words[(i + k) % len(words)] for k in range(450))
                          + f" ({i})", "source": f"Outlet {i % 7}", "published": "2024-05-01", "section": "world"})
            for i in range(start, start + count)]


def csv_line(record: dict) -> bytes:
    """One CSV line of an article_lines record (title, text, source, published, section)."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow(
        [record[k] for k in ("title", "text", "source", "published", "section")])
    return buffer.getvalue().encode()


def test_a_big_stdin_is_read_by_the_child_in_chunks(tmp_path):
    from tests.conftest import ROOT

    lines = article_lines(1500)  # about 4.5 MB: more than one chunk, so the reader streams it
    lines[700] = b'{"text": 7}'
    data = b"\n".join(lines) + b"\n"
    assert len(data) > 3 * ingest.CHUNK_BYTES
    db = tmp_path / "stdin.db"
    code = ("import sys\nfrom newsmark.tui.cli import main\n"
            f"sys.argv = ['newsmark', '--db', {str(db)!r}, 'import', '-']\nmain()\n")
    done = subprocess.run([sys.executable, "-c", code], input=data, capture_output=True, cwd=ROOT, timeout=300)
    assert done.returncode == 1, done.stderr
    assert done.stdout.decode() == "Imported 1499 articles (0 duplicates, 1 rejected) into 1 story\n"
    assert done.stderr.decode() == "rejected: <stdin>:701: 'text' must be a string, not a number\n"
    with Store.open(db, create=False) as store:
        assert_intact(store)
        origins = [o for (o,) in store.conn.execute("SELECT origin FROM articles ORDER BY seq")]
        assert origins == [f"<stdin>:{n}" for n in range(1, 1501) if n != 701]


@pytest.mark.parametrize("kind", ["jsonl", "csv"])
def test_peak_memory_of_a_big_import_is_far_below_the_file_size(tmp_path, kind):
    from tests.conftest import ROOT

    path = tmp_path / f"big.{kind}"
    with path.open("wb") as handle:
        if kind == "csv":
            handle.write(b"title,text,source,published,section\n")
        for start in range(0, 20_000, 2000):
            lines = article_lines(2000, start)
            if kind == "csv":
                lines = [csv_line(orjson.loads(line)) for line in lines]
            handle.write(b"\n".join(lines) + b"\n")
    size_mb = path.stat().st_size / 2**20
    assert size_mb > 50
    done = subprocess.run([sys.executable, "-c", IMPORT_AND_MEASURE, str(tmp_path / "m.db"), str(path)],
                          capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)
    assert (figures["imported"], figures["rejected"]) == (20_000, [])
    # The reader's peak counts the pages it shares with its parent (the parent's resident size
    # when it forked); what it adds is a chunk and a few batches, not the file.
    assert len(figures["at_fork_kib"]) == 1, figures
    reader_extra = (figures["reader_kib"] - figures["at_fork_kib"][0]) / 1024
    importer_extra = (figures["self_kib"] - figures["before_kib"]) / 1024
    # A chunk being read, the batch being built and those queued or in the pipe: each batch
    # ends after BATCH_BYTES of the file, whatever the length of its articles.
    in_flight_mb = (ingest.CHUNK_BYTES + (ingest.PIPELINE_DEPTH + 3) * ingest.BATCH_BYTES) / 2**20
    assert 0 < reader_extra < in_flight_mb < size_mb / 3, figures
    assert reader_extra + importer_extra < 150, figures
