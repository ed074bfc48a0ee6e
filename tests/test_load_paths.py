"""The ways a file's records reach the database give one result.

A big file is read, parsed and checked in a child process (load.PIPELINE_BYTES) and most
of its records come over already checked; fresh records' rows are held apart from the
shadow tables and published from there, moved into the shadow when a later record reads
them (a pair met again, in a later batch). Each way, in batches of any size, must give the
same report (every rejection, by line and reason), the same rows and the same event log
as reading the file here in one batch.
"""

from __future__ import annotations

import os
from pathlib import Path

import orjson
import pytest

from newsmark.schema import load as load_module
from newsmark.schema.load import load_annotations
from newsmark.schema.reader_process import fork_context
from newsmark.schema.sanitize import article_id_for, text_sha256
from newsmark.schema.store import Store
from tests.engines import assert_intact
from tests.test_load import claim, gold_record, record, version_1

TEXTS = [
    "Officials met on Monday. They agreed 🤝 to share intelligence. Critics objected loudly.",
    "The council voted 7 to 2. Residents cheered outside the hall.",
    "Émile said the bridge will reopen in May. Engineers disagree.",
]
NOTE = 'line one\nline two\t"quoted" \\ back ü 🤝 \u2028 end'
TABLES = ("stories", "articles", "story_articles", "labels", "annotations", "claims", "claim_labels", "clusters",
          "gold", "gold_claims", "events")


def lines() -> list[bytes]:
    """A file with every kind of line: fresh records (two annotators per article), a note
    and a flag, a record with claims, gold, a version-1 record, the same pair again in
    another story, a record repeated, and lines to reject (bad JSON, a value outside the
    scheme, a text that does not hash to its id, a text that import would have cleaned,
    an article sent without its text before it is known)."""
    out = []
    no_text_first = record("erin", text=TEXTS[2], with_text=False)
    out.append(no_text_first)  # rejected: not in the database, no text
    for index, text in enumerate(TEXTS):
        for who in ("alice", "bob"):
            out.append(record(who, text=text, labels={"stance": "agree", "reliability": "B", "credibility": "2"},
                              note=NOTE if who == "bob" else None, flagged=index == 1 and who == "alice"))
    out.append(record("carol", text=TEXTS[0], claims=[claim(0, 24, text=TEXTS[0], cid="c1", cluster="k1")]))
    out.append(record("alice", text=TEXTS[0], story="budget", labels={"stance": "disagree"}))  # a pair met again
    out.append(record("alice", text=TEXTS[1], story="budget", labels={}, flagged=False))  # nothing but where it is
    out.append(gold_record(labels={"stance": "agree"},
                           gold={"stance": {"source": "adjudicated", "by": "lead", "reason": "read it",
                                            "at": "2026-11-21T12:00:00Z"}}))
    out.append(version_1(record("dave", text=TEXTS[1], labels={"stance": "discuss"})))
    out.append(record("bob", text=TEXTS[2], labels={"stance": "agree", "reliability": "B", "credibility": "2"},
                      note=NOTE))  # the same record again: unchanged
    out.append(record("erin", text=TEXTS[2], with_text=False, labels={"stance": "unrelated"}))  # known by now
    bad_value = record("frank", text=TEXTS[1], labels={"stance": "maybe"})
    forged = record("gina", text=TEXTS[1])
    forged["article"]["text"] = TEXTS[1] + " Forged."
    unclean = "Text with a bell\x07 in it."
    dirty = record("hal", text=unclean)
    dirty["article"]["id"], dirty["article"]["text_sha256"] = article_id_for(unclean), text_sha256(unclean)
    encoded = [orjson.dumps(r) for r in [*out, bad_value, forged, dirty]]
    return [*encoded[:4], b"{not json", b"", *encoded[4:]]


def dump(store: Store) -> dict[str, list[tuple]]:
    return {table: sorted(tuple(row) for row in store.conn.execute(f"SELECT * FROM {table}")) for table in TABLES}


def load_with(tmp_path: Path, name: str, *, batch: int, child: bool, monkeypatch) -> tuple[dict, dict]:
    source = tmp_path / "file.jsonl"
    if not source.exists():
        source.write_bytes(b"\n".join(lines()) + b"\n")
    monkeypatch.setattr(load_module, "BATCH_RECORDS", batch)
    monkeypatch.setattr(load_module, "PIPELINE_BYTES", 0 if child else 1 << 60)
    with Store.open(tmp_path / f"{name}.db") as store:
        report = load_annotations(store, [source]).as_dict()
        assert_intact(store)
        for rejection in report["rejected"]:
            rejection["file"] = "file.jsonl"
        return report, dump(store)


@pytest.mark.parametrize("child", [False, True], ids=["read-here", "read-in-child"])
@pytest.mark.parametrize("batch", [1, 2, 1000])
def test_every_way_of_reading_and_batching_gives_the_same_database(tmp_path, monkeypatch, batch, child):
    # (Where there is no fork, "read-in-child" reads in-process: the same result is still due.)
    expected_report, expected = load_with(tmp_path, "here", batch=1000, child=False, monkeypatch=monkeypatch)
    assert [(r["line"], r["reason"][:30]) for r in expected_report["rejected"]] == [
        (1, f"article {article_id_for(TEXTS[2])} is no"[:30]), (5, "not valid JSON: unexpected cha"),
        (17, "labels: 'maybe' is not a label"), (18, "article.text_sha256 is not the"),
        (19, "article.text holds control cha")]
    assert [expected_report[k] for k in ("read", "loaded", "unchanged", "kept_newer_local", "articles_created")] == [
        18, 11, 1, 1, 3]
    assert len(expected["events"]) > 20
    report, rows = load_with(tmp_path, f"b{batch}-{child}", batch=batch, child=child, monkeypatch=monkeypatch)
    assert report == expected_report
    assert rows == expected


@pytest.mark.skipif(fork_context() is None, reason="no reading process on this platform (no fork): nothing can die")
def test_a_reading_process_that_dies_is_a_read_error_of_its_file(tmp_path, monkeypatch):
    source = tmp_path / "file.jsonl"
    source.write_bytes(b"\n".join(lines()) + b"\n")
    monkeypatch.setattr(load_module, "PIPELINE_BYTES", 0)
    monkeypatch.setattr(load_module, "BATCH_RECORDS", 4)
    real = load_module._Loader._pre_read

    def dies_at_line_10(self, number, raw, sent):
        if number == 10:
            os._exit(3)  # (in the child)
        return real(self, number, raw, sent)

    monkeypatch.setattr(load_module._Loader, "_pre_read", dies_at_line_10)
    with Store.open(tmp_path / "db.db") as store:
        report = load_annotations(store, [source])
        assert_intact(store)
        assert [(r.line, r.reason) for r in report.rejected if r.line is None] == [
            (None, "cannot read: the reading process stopped unexpectedly (exit code 3)")]
        # What came over before it stopped (whole batches, those its pipe carried before it
        # died) is loaded, as after any read error.
        assert report.read in (0, 4, 8)
