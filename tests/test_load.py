"""load-annotations: hand-written records, the byte-identical round trip, conflicts
(newer wins, the replaced value kept in the event log), idempotence, rejections, and the
`newsmark load-annotations` command."""

from __future__ import annotations

import copy
import csv
import json
import os
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import jsonschema
import orjson
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsmark.schema import jsonschema as generator
from newsmark.exports.jsonl import iter_records
from newsmark.schema.load import MAX_RECORD_BYTES, anchor, load_annotations
from newsmark.schema.names import InvalidName, check_name
from newsmark.schema.sanitize import article_id_for, sanitize_text, text_sha256
from newsmark.schema.store import Store
from tests.engines import assert_intact
from tests.test_export import TEXTS, add_article, build_rich_store, export_bytes
from newsmark.tui.cli import cli

ON_BOTH_ENGINES = True  # every test here runs on SQLite and on PostgreSQL (conftest)

NEWSMARK = Path(sys.executable).with_name("newsmark")
TEXT = "Officials met on Monday. They agreed 🤝 to share intelligence. Critics objected loudly."
AID = article_id_for(TEXT)


def article(text: str = TEXT, *, with_text: bool = True) -> dict:
    fields = {"id": article_id_for(text), "source": "Wire", "url": None, "title": "Talks",
              "byline": None, "published": "2025-08-01", "text_sha256": text_sha256(text)}
    if with_text:
        fields["text"] = text
    return fields


def claim(start: int, end: int, *, text: str = TEXT, cid: str = "c1", labels=None, cluster=None,
          wording=None) -> dict:
    return {"id": cid, "start": start, "end": end, "exact": text[start:end],
            "prefix": text[max(0, start - 32):start], "suffix": text[end:end + 32],
            "labels": labels or {}, "cluster": cluster, "cluster_wording": wording}


def record(annotator: str = "alice", *, labels=None, claims=(), note=None, flagged=False,
           updated_at: str = "2026-11-21T10:00:00Z", text: str = TEXT, story: str = "talks",
           with_text: bool = True) -> dict:
    """An annotation record in the documented format (schema_version 2), keys in the documented order."""
    return {
        "schema_version": 2,
        "article": article(text, with_text=with_text),
        "story": {"id": story, "title": "Talks", "proposition": "They cooperate."},
        "annotator": annotator,
        "labels": labels if labels is not None else {"stance": "agree"},
        "claims": list(claims),
        "note": note,
        "flagged": flagged,
        "updated_at": updated_at,
    }


def version_1(record: dict) -> dict:
    """The same record as a version-1 file has it: the article names its story, claims
    carry no cluster wording."""
    article = record["article"]
    old = {**record, "schema_version": 1,
           "article": {"id": article["id"], "story_id": record["story"]["id"],
                       **{k: v for k, v in article.items() if k != "id"}},
           "claims": [{k: v for k, v in c.items() if k != "cluster_wording"} for c in record["claims"]]}
    return old


def gold_record(*, labels, gold, claims=(), updated_at="2026-11-21T12:00:00Z") -> dict:
    base = record(labels=labels, claims=claims, updated_at=updated_at)
    return {**base, "annotator": None, "note": None, "flagged": False, "gold": gold}


def write_lines(path: Path, *items) -> Path:
    """A JSONL file of records (dicts) and raw lines (str), one per line."""
    with path.open("wb") as handle:
        for item in items:
            handle.write((item.encode() if isinstance(item, str) else orjson.dumps(item)) + b"\n")
    return path


def counts(report) -> dict:
    data = report.as_dict()
    found = {k: data[k] for k in ("read", "loaded", "replaced", "unchanged", "kept_newer_local",
                                  "stories_created", "articles_created")}
    return {**found, "rejected": len(data["rejected"])}


def event_rows(store: Store) -> list[tuple]:
    return store.conn.execute("SELECT op, tbl, key, before, after, at, annotator, undoable FROM events ORDER BY id").fetchall()


# --- hand-written records -------------------------------------------------------------


def test_hand_written_records_load_then_export_the_same_bytes(store: Store, tmp_path):
    lines = [
        record("alice", labels={"stance": "agree", "reliability": "B", "credibility": "2"},
               claims=[claim(25, 61, labels={"credibility": "3", "checkworthy": "yes"}, cluster="k1")],
               note="quotes officials 🤝"),
        record("bob", labels={"stance": "discuss"}, flagged=True, updated_at="2026-11-21T10:05:00.123Z"),
    ]
    path = write_lines(tmp_path / "team.jsonl", *lines)
    report = load_annotations(store, [path])
    assert counts(report) == {"read": 2, "loaded": 2, "replaced": 0, "unchanged": 0, "kept_newer_local": 0,
                              "rejected": 0, "stories_created": 1, "articles_created": 1}
    assert store.get_story("talks").proposition == "They cooperate."
    assert store.get_article(AID).origin == str(path)
    assert store.labels(AID, "alice") == {"stance": "agree", "reliability": "B", "credibility": "2"}
    (loaded,) = store.claims(AID, "alice")
    assert (loaded.id, loaded.start, loaded.end, loaded.cluster) == ("c1", 25, 61, "k1")
    assert loaded.labels == {"credibility": "3", "checkworthy": "yes"}
    assert store.annotation(AID, "alice") == ("quotes officials 🤝", False, "2026-11-21T10:00:00Z")
    assert store.annotation(AID, "bob") == (None, True, "2026-11-21T10:05:00.123Z")
    assert store.conn.execute("SELECT created_by FROM clusters WHERE id = 'k1'").fetchone() == ("alice",)
    assert export_bytes(store) == path.read_bytes()
    schema = json.loads((generator.DIRECTORY / "annotation_record.schema.json").read_text(encoding="utf-8"))
    for line in export_bytes(store).splitlines():
        jsonschema.validate(orjson.loads(line), schema)


def test_load_events_are_stamped_with_the_record_time_and_not_undoable(store: Store, tmp_path):
    path = write_lines(tmp_path / "a.jsonl", record("alice", labels={"stance": "agree"}))
    load_annotations(store, [path])
    rows = event_rows(store)
    assert ("load", "labels", '{"article_id":"%s","story_id":"talks","annotator":"alice","field":"stance"}' % AID, None,
            '{"value":"agree"}', "2026-11-21T10:00:00Z", "alice", 0) in rows
    assert {row[0] for row in rows} == {"load"}
    assert store.undo("alice") is None  # a teammate's record is not yours to undo


# --- the round trip -------------------------------------------------------------------


def test_export_load_into_an_empty_database_export_gives_identical_bytes(tmp_path):
    with Store.open(tmp_path / "mine.db") as mine:
        ids = build_rich_store(mine)
        first = export_bytes(mine)
        first_gold = export_bytes(mine, gold=True)
    (tmp_path / "team.jsonl").write_bytes(first)
    (tmp_path / "gold.jsonl").write_bytes(first_gold)
    with Store.open(tmp_path / "theirs.db") as theirs:
        report = load_annotations(theirs, [tmp_path / "team.jsonl", tmp_path / "gold.jsonl"])
        assert counts(report) == {"read": 6, "loaded": 6, "replaced": 0, "unchanged": 0, "kept_newer_local": 0,
                                  "rejected": 0, "stories_created": 2, "articles_created": 3}
    # Reopen: what was written is on disk.
    with Store.open(tmp_path / "theirs.db", create=False) as theirs:
        assert export_bytes(theirs) == first
        assert export_bytes(theirs, gold=True) == first_gold
        assert theirs.annotators() == ["alice", "bob", "carol"]
        assert theirs.gold(ids["alpha"])["stance"]["reason"] == "two of three"
        assert theirs.get_article(ids["beta"]).text == TEXTS["beta"]
        clusters = theirs.conn.execute("SELECT count(*) FROM clusters").fetchone()[0]
        assert clusters == 1


def test_loading_the_same_file_twice_changes_nothing(tmp_path):
    with Store.open(tmp_path / "mine.db") as mine:
        build_rich_store(mine)
        (tmp_path / "all.jsonl").write_bytes(export_bytes(mine) + export_bytes(mine, gold=True))
    with Store.open(tmp_path / "theirs.db") as theirs:
        load_annotations(theirs, [tmp_path / "all.jsonl"])
        events = event_rows(theirs)
        before = export_bytes(theirs)
        report = load_annotations(theirs, [tmp_path / "all.jsonl"])
        assert counts(report) == {"read": 6, "loaded": 0, "replaced": 0, "unchanged": 6, "kept_newer_local": 0,
                                  "rejected": 0, "stories_created": 0, "articles_created": 0}
        assert event_rows(theirs) == events
        assert export_bytes(theirs) == before


def test_no_text_records_load_only_where_the_article_is(tmp_path):
    with Store.open(tmp_path / "mine.db") as mine:
        build_rich_store(mine)
        (tmp_path / "full.jsonl").write_bytes(export_bytes(mine))
        (tmp_path / "bare.jsonl").write_bytes(export_bytes(mine, text=False))
    with Store.open(tmp_path / "empty.db") as empty:
        report = load_annotations(empty, [tmp_path / "bare.jsonl"])
        assert (report.read, report.loaded, len(report.rejected)) == (5, 0, 5)
        assert report.rejected[0].reason.endswith(
            "is not in the database and the record has no text (exported with --no-text)"
        )
        assert empty.article_count() == 0
    with Store.open(tmp_path / "theirs.db") as theirs:
        load_annotations(theirs, [tmp_path / "full.jsonl"])
        report = load_annotations(theirs, [tmp_path / "bare.jsonl"])
        assert (report.unchanged, len(report.rejected)) == (5, 0)


# --- conflicts ------------------------------------------------------------------------


def test_a_newer_record_replaces_and_the_replaced_value_stays_in_the_event_log(store: Store, tmp_path):
    load_annotations(store, [write_lines(tmp_path / "v1.jsonl", record(
        labels={"stance": "agree", "reliability": "C"}, claims=[claim(0, 23)], note="first",
        updated_at="2026-11-21T10:00:00Z"))])
    newer = record(labels={"stance": "disagree"}, claims=[claim(25, 61, cid="c2")], note=None, flagged=True,
                   updated_at="2026-11-21T11:00:00.5Z")
    report = load_annotations(store, [write_lines(tmp_path / "v2.jsonl", newer)])
    assert (report.replaced, report.loaded, report.unchanged) == (1, 0, 0)
    assert store.labels(AID, "alice") == {"stance": "disagree"}
    assert [c.id for c in store.claims(AID, "alice")] == ["c2"]
    assert store.annotation(AID, "alice") == (None, True, "2026-11-21T11:00:00.5Z")
    replaced = [(tbl, before, after) for op, tbl, key, before, after, at, who, undoable in event_rows(store)
                if at == "2026-11-21T11:00:00.5Z"]
    assert ("labels", '{"value":"agree"}', '{"value":"disagree"}') in replaced
    assert ("labels", '{"value":"C"}', None) in replaced
    assert any(tbl == "claims" and before and '"exact":"Officials met on Monday"' in before and after is None
               for tbl, before, after in replaced)
    assert ("annotations", '{"note":"first","flagged":false}', '{"note":null,"flagged":true}') in replaced
    assert export_bytes(store) == orjson.dumps(newer) + b"\n"


def test_an_older_or_equally_old_record_keeps_the_local_one(store: Store, tmp_path):
    local = record(labels={"stance": "agree"}, updated_at="2026-11-21T10:00:00.000Z")
    load_annotations(store, [write_lines(tmp_path / "v1.jsonl", local)])
    events = event_rows(store)
    older = record(labels={"stance": "disagree"}, updated_at="2026-11-21T09:59:59.999Z")
    same_time = record(labels={"stance": "discuss"}, updated_at="2026-11-21T10:00:00Z")
    report = load_annotations(store, [write_lines(tmp_path / "old.jsonl", older, same_time)])
    assert (report.kept_newer_local, report.replaced, report.unchanged) == (2, 0, 0)
    assert store.labels(AID, "alice") == {"stance": "agree"}
    assert event_rows(store) == events


def test_a_local_edit_after_a_load_wins_over_the_loaded_file(store: Store, tmp_path):
    path = write_lines(tmp_path / "a.jsonl", record(labels={"stance": "agree"}, updated_at="2020-01-01T00:00:00Z"))
    load_annotations(store, [path])
    store.set_label(AID, "alice", "stance", "unrelated")
    report = load_annotations(store, [path])
    assert report.kept_newer_local == 1
    assert store.labels(AID, "alice") == {"stance": "unrelated"}


def test_gold_records_newer_wins_too(store: Store, tmp_path):
    first = gold_record(labels={"stance": "agree"},
                        gold={"stance": {"by": "lead", "reason": "majority", "at": "2026-11-21T12:00:00Z"}})
    chief = {"source": "adjudicated", "by": "chief", "reason": "", "at": "2026-11-22T08:00:00Z"}
    key_claim = {**chief, "reason": "the key claim"}
    second = gold_record(
        labels={"stance": "disagree", "reliability": "A"},
        claims=[{**claim(25, 61, cid="g1", labels={"checkworthy": "yes"}),
                 "gold": {**key_claim, "labels": {"checkworthy": key_claim}}}],
        gold={"stance": chief, "reliability": chief, "claims": key_claim},
        updated_at="2026-11-22T08:00:00Z",
    )
    assert load_annotations(store, [write_lines(tmp_path / "g1.jsonl", first)]).loaded == 1
    assert store.gold(AID) == {"stance": {"value": "agree", "by": "lead", "reason": "majority",
                                          "at": "2026-11-21T12:00:00Z"}}
    assert store.annotators() == []  # gold never touches anyone's annotation
    report = load_annotations(store, [write_lines(tmp_path / "g2.jsonl", second, first)])
    assert (report.replaced, report.kept_newer_local) == (1, 1)
    assert {name: g["value"] for name, g in store.gold(AID).items()} == {"stance": "disagree", "reliability": "A"}
    row = store.conn.execute("SELECT id, start, \"end\", labels, by, reason FROM gold_claims").fetchone()
    assert row == ("g1", 25, 61, '{"checkworthy":"yes"}', "chief", "the key claim")
    replaced = [(before, who) for op, tbl, key, before, after, at, who, undoable in event_rows(store)
                if tbl == "gold" and before is not None]
    assert replaced == [('{"value":"agree","by":"lead","reason":"majority","at":"2026-11-21T12:00:00Z"}', "chief")]
    assert export_bytes(store, gold=True) == orjson.dumps(second) + b"\n"


# --- claims ---------------------------------------------------------------------------


def test_a_claim_whose_offsets_moved_is_re_anchored_by_its_text(store: Store, tmp_path):
    moved = claim(25, 61)
    moved["start"], moved["end"] = 20, 56  # offsets from a differently cleaned copy
    report = load_annotations(store, [write_lines(tmp_path / "a.jsonl", record(claims=[moved]))])
    assert report.loaded == 1
    (loaded,) = store.claims(AID, "alice")
    assert (loaded.start, loaded.end, loaded.exact) == (25, 61, TEXT[25:61])


def test_anchor_prefers_the_occurrence_whose_context_matches():
    text = "agreed. Then X said they agreed. Later Y said they agreed."
    first, second = text.index("they agreed"), text.rindex("they agreed")
    assert anchor(text, 0, 11, "they agreed", prefix="Y said ", suffix=".") == (second, second + 11)
    assert anchor(text, 0, 11, "they agreed", prefix="X said ", suffix=".") == (first, first + 11)
    assert anchor(text, 0, 11, "they agreed") == (first, first + 11)  # nearest to the old start
    assert anchor(text, 0, 5, "nowhere") is None


# --- rejections -----------------------------------------------------------------------


def test_bad_lines_are_rejected_with_file_line_and_reason_and_the_rest_loads(store: Store, tmp_path):
    wrong_hash = record()
    wrong_hash["article"]["text_sha256"] = "0" * 64
    other = "Another article, entirely different text."
    wrong_id = record(text=other)
    wrong_id["article"]["id"] = "0123456789abcdef"
    lost = claim(25, 61)
    lost["exact"] = "words that are not in the article"
    path = write_lines(
        tmp_path / "mixed.jsonl",
        record("alice"),
        "{not json",
        "",
        record("bob", labels={"stance": "maybe"}),
        record("carol", labels={"mood": "glum"}),
        record("dave", labels={"checkworthy": "yes"}),
        wrong_hash,
        wrong_id,
        record("erin", claims=[lost]),
        record("frank", claims=[claim(0, 8, labels={"stance": "agree"})]),
        {**record("gina"), "extra": 1},
        "[1, 2]",
        record("hal", labels={"credibility": "5"}),
    )
    report = load_annotations(store, [path])
    assert (report.read, report.loaded) == (12, 2)
    name = str(path)
    reasons = [(r.file, r.line, r.reason) for r in report.rejected]
    assert reasons[0][:2] == (name, 2) and reasons[0][2].startswith("not valid JSON: ")
    assert reasons[1:] == [
        (name, 4, "labels: 'maybe' is not a label of 'stance' (expected one of agree, disagree, discuss, unrelated)"),
        (name, 5, "labels: unknown field 'mood'"),
        (name, 6, "labels: field 'checkworthy' is not a article-level field"),
        (name, 7, "article.text_sha256 is not the SHA-256 of article.text"),
        (name, 8, "article.id is not the first 16 hex digits of the SHA-256 of article.text"),
        (name, 9, "claims[0]: text[25:61] is not 'words that are not in the article' "
                  "and that text is nowhere else in the article"),
        (name, 10, "claims[0].labels: field 'stance' is not a claim-level field"),
        (name, 11, "not a valid annotation record: extra: Extra inputs are not permitted"),
        (name, 12, "not a JSON object"),
    ]
    assert store.annotators() == ["alice", "hal"]
    assert store.claims(AID) == []
    assert store.article_count() == 1  # the rejected line 8 created no article


def test_a_missing_file_is_a_rejection_not_a_crash(store: Store, tmp_path):
    good = write_lines(tmp_path / "good.jsonl", record())
    report = load_annotations(store, [tmp_path / "missing.jsonl", good])
    assert report.loaded == 1
    assert [str(r) for r in report.rejected] == [
        f"{tmp_path / 'missing.jsonl'}: cannot read: No such file or directory"
    ]


# --- the command ----------------------------------------------------------------------


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_load_annotations_prints_exact_counts_and_reopens(db_path, tmp_path):
    path = write_lines(tmp_path / "team.jsonl", record("alice"), record("bob", labels={"stance": "disagree"}))
    result = run("--db", str(db_path), "load-annotations", str(path))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (
        "Read 2 records: 2 loaded, 0 replaced, 0 unchanged, 0 kept (local newer), 0 rejected; "
        "created 1 story, 1 article\n"
    )
    assert result.stderr == ""
    with Store.open(db_path, create=False) as store:
        assert store.labels(AID, "bob") == {"stance": "disagree"}
        assert store.annotators() == ["alice", "bob"]
    result = run("--db", str(db_path), "load-annotations", str(path), "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {
        "read": 2, "loaded": 0, "replaced": 0, "unchanged": 2, "kept_newer_local": 0, "rejected": [],
        "stories_created": 0, "articles_created": 0, "derived": 0, "derived_values": 0,
    }


def test_load_annotations_lists_rejections_on_stderr_and_exits_1(db_path, tmp_path):
    path = write_lines(tmp_path / "bad.jsonl", record("alice"), "oops", record("bob", labels={"stance": "maybe"}))
    result = run("--db", str(db_path), "load-annotations", str(path))
    assert result.exit_code == 1
    assert result.stdout == (
        "Read 3 records: 1 loaded, 0 replaced, 0 unchanged, 0 kept (local newer), 2 rejected; "
        "created 1 story, 1 article\n"
    )
    lines = result.stderr.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f"rejected: {path}:2: not valid JSON: ")
    assert lines[1] == (
        f"rejected: {path}:3: labels: 'maybe' is not a label of 'stance' "
        "(expected one of agree, disagree, discuss, unrelated)"
    )
    with Store.open(db_path, create=False) as store:
        assert store.annotators() == ["alice"]


def test_load_annotations_needs_a_file(db_path):
    result = run("--db", str(db_path), "load-annotations")
    assert result.exit_code == 2


@pytest.mark.parametrize("hostile,shown", [
    ("\x1b]0;pwned\x07", "name '\\x1b]0;pwned\\x07' contains U+001B"),
    ("a\x00b", "name 'a\\x00b' contains U+0000"),
    ("[@click=app.quit]", None),
])
def test_control_characters_in_annotator_names_are_refused(store: Store, tmp_path, hostile, shown):
    report = load_annotations(store, [write_lines(tmp_path / "h.jsonl", record(hostile))])
    if shown:
        assert [r.reason for r in report.rejected] == [
            f"not a valid annotation record: annotator: {shown}: names are letters, digits, punctuation, "
            "symbols and single spaces"
        ]
        assert store.annotators() == []
    else:  # markup-looking names are just text: stored as they are, never parsed
        assert store.annotators() == [hostile]


# --- any text, any note ---------------------------------------------------------------

@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    body=st.text(min_size=1, max_size=300).map(sanitize_text).filter(bool),
    note=st.one_of(st.none(), st.text(min_size=1, max_size=80).map(sanitize_text).filter(bool)),
    span=st.tuples(st.floats(0, 1), st.floats(0, 1)),
    flagged=st.booleans(),
)
def test_any_text_and_note_round_trip_byte_for_byte(tmp_path_factory, body, note, span, flagged):
    folder = tmp_path_factory.mktemp("rt")
    with Store.open(":memory:") as mine:
        aid = add_article(mine, body, "s1")
        mine.set_label(aid, "ann", "stance", "discuss")
        mine.set_note(aid, "ann", note)
        mine.set_flag(aid, "ann", flagged)
        start = min(int(span[0] * len(body)), len(body) - 1)
        end = max(start + 1, int(span[1] * len(body)))
        mine.add_claim(aid, "ann", start, end, {"checkworthy": "no"})
        first = export_bytes(mine)
    (folder / "f.jsonl").write_bytes(first)
    with Store.open(":memory:") as theirs:
        report = load_annotations(theirs, [folder / "f.jsonl"])
        assert report.rejected == [] and report.loaded == 1
        assert export_bytes(theirs) == first


# --- hostile and faulty input: every case through the command, then the database reopened


def database_state(db_path: Path) -> dict:
    """Row counts of what a load writes, read afresh from a database found whole (see
    tests/engines.py)."""
    with Store.open(db_path, create=False) as store:
        assert_intact(store)
        return {table: store.conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                for table in ("stories", "articles", "annotations", "labels", "claims", "gold", "gold_claims")}


def rows(**counts) -> dict:
    """The expected database_state: zero everywhere but `counts`."""
    tables = ("stories", "articles", "annotations", "labels", "claims", "gold", "gold_claims")
    return {**{t: 0 for t in tables}, **counts}


def summary(read, loaded, rejected, *, stories=1, articles=1, unchanged=0) -> str:
    return (f"Read {read} record{'s' if read != 1 else ''}: {loaded} loaded, 0 replaced, {unchanged} unchanged, "
            f"0 kept (local newer), {rejected} rejected; created {stories} "
            f"{'story' if stories == 1 else 'stories'}, {articles} article{'s' if articles != 1 else ''}\n")


def json_error(line: str) -> str:
    """orjson's own message for an invalid line (its wording varies between versions)."""
    with pytest.raises(orjson.JSONDecodeError) as caught:
        orjson.loads(line)
    return str(caught.value)


def with_claim(rec: dict, **changes) -> dict:
    rec = copy.deepcopy(rec)
    rec["claims"] = [{**claim(25, 61), **changes}]
    return rec


def changed(rec: dict, path: str, value) -> dict:
    """A deep copy of `rec` with the value at a dotted path replaced."""
    rec = copy.deepcopy(rec)
    *parents, last = path.split(".")
    target = rec
    for part in parents:
        target = target[part]
    target[last] = value
    return rec


def test_values_of_the_wrong_type_or_time_are_rejected_each_with_its_reason(db_path, tmp_path):
    good = record("alice")
    gold = gold_record(labels={"stance": "agree"},
                       gold={"stance": {"by": "lead", "reason": "", "at": "2026-11-21T12:00:00Z"}})
    path = write_lines(
        tmp_path / "types.jsonl",
        good,
        '{"schema_version": 1, "article": {"id": "%s"}, "note": 123456789012345678901234567890}' % AID,
        json.dumps(changed(record("bob"), "note", 123456789012345678901234567890)),
        changed(record("bob"), "article.title", 42),
        with_claim(record("bob"), start=True),
        with_claim(record("bob"), end=61.0),
        with_claim(record("bob"), end="61"),
        record("bob", updated_at="9999-01-01T00:00:00Z"),
        record("bob", updated_at="1999-12-31T23:59:59Z"),
        record("bob", updated_at="2026-02-30T10:00:00Z"),
        changed(record("bob"), "schema_version", True),
        changed(gold, "gold.stance.at", "9999-01-01T00:00:00Z"),
        changed(gold, "flagged", 0),
        record("carol", labels={"stance": "disagree"}),
    )
    result = run("--db", str(db_path), "load-annotations", str(path))
    assert result.exit_code == 1
    assert result.stdout == summary(14, 2, 12)
    record_errors = "not a valid annotation record: "
    future = "is in the future (later than this machine's clock plus one day); it would win every conflict"
    assert result.stderr.splitlines() == [f"rejected: {path}:{n}: {reason}" for n, reason in [
        (2, record_errors + "article.source: Field required; article.url: Field required; "
                            "article.title: Field required (and 11 more)"),  # a version-1 line
        (3, record_errors + "note: Input should be a valid string (not 1.2345678901234568e+29)"),
        (4, record_errors + "article.title: Input should be a valid string (not 42)"),
        (5, record_errors + "claims.0.start: Input should be a valid integer (not true)"),
        (6, record_errors + "claims.0.end: Input should be a valid integer (not 61.0)"),
        (7, record_errors + 'claims.0.end: Input should be a valid integer (not "61")'),
        (8, record_errors + f"updated_at: '9999-01-01T00:00:00Z' {future}"),
        (9, record_errors + "updated_at: '1999-12-31T23:59:59Z' is before 2000-01-01"),
        (10, record_errors + "updated_at: '2026-02-30T10:00:00Z' is not a real date and time "
                             "(day is out of range for month)"),
        (11, record_errors + "schema_version: must be a JSON integer, not true"),
        (12, f"not a valid gold record: gold.stance.at: '9999-01-01T00:00:00Z' {future}"),
        (13, "not a valid gold record: flagged: must be a JSON boolean, not 0"),
    ]]
    assert database_state(db_path) == rows(stories=1, articles=1, annotations=2, labels=2)
    with Store.open(db_path, create=False) as store:
        assert store.annotators() == ["alice", "carol"]


def test_annotator_and_gold_names_follow_the_one_name_rule(db_path, tmp_path):
    gold_by = lambda by: gold_record(labels={"stance": "agree"},  # noqa: E731
                                     gold={"stance": {"by": by, "reason": "", "at": "2026-11-21T12:00:00Z"}})
    path = write_lines(
        tmp_path / "names.jsonl",
        record(" alice "), record("al\tice"), record("a" * 300), record("\u202eevil"), record("a\u200bb"),
        record("two  spaces"), record("\x1b]0;pwned\x07"), gold_by(" lead "), gold_by(""),
        record("Zoe\u0301 O'Brien-Smith"), record("[/]"), gold_by("lead"),
    )
    result = run("--db", str(db_path), "load-annotations", str(path))
    assert result.exit_code == 1
    assert result.stdout == summary(12, 3, 9)
    rule = "names are letters, digits, punctuation, symbols and single spaces"
    annotation, gold = "not a valid annotation record: annotator: name", "not a valid gold record: gold.stance.by: name"
    assert result.stderr.splitlines() == [f"rejected: {path}:{n}: {reason}" for n, reason in [
        (1, f"{annotation} ' alice ' begins or ends with a space"),
        (2, f"{annotation} 'al\\x09ice' contains U+0009: {rule}"),
        (3, f"{annotation} {'a' * 40}… is 300 characters long (at most 64)"),
        (4, f"{annotation} '\\u202eevil' contains U+202E RIGHT-TO-LEFT OVERRIDE: {rule}"),
        (5, f"{annotation} 'a\\u200bb' contains U+200B ZERO WIDTH SPACE: {rule}"),
        (6, f"{annotation} 'two  spaces' has two spaces in a row"),
        (7, f"{annotation} '\\x1b]0;pwned\\x07' contains U+001B: {rule}"),
        (8, f"{gold} ' lead ' begins or ends with a space"),
        (9, f"{gold} is empty"),
    ]]
    assert "\x1b" not in result.output and "\u202e" not in result.output
    assert database_state(db_path) == rows(stories=1, articles=1, annotations=2, labels=2, gold=1)
    with Store.open(db_path, create=False) as store:
        assert store.annotators() == ["Zo\u00e9 O'Brien-Smith", "[/]"]  # NFC, as every other command stores it
        assert store.gold(AID)["stance"]["by"] == "lead"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.text(max_size=70) | st.sampled_from([" a", "a ", "a\tb", "a\u00a0b", "a\u2028b", "x" * 65, "e\u0301"]))
def test_a_name_loads_exactly_when_the_name_rule_accepts_it(name):
    try:
        expected = check_name(name)
    except InvalidName:
        expected = None
    with tempfile.TemporaryDirectory() as folder, Store.open(":memory:") as store:
        report = load_annotations(store, [write_lines(Path(folder) / "n.jsonl", record(name))])
        assert store.annotators() == ([expected] if expected is not None else [])
        assert len(report.rejected) == (expected is None)


def test_deeply_nested_lines_are_rejected_and_the_other_lines_load(db_path, tmp_path):
    def nested(depth: int) -> str:
        return "[" * depth + "]" * depth

    deep_labels = orjson.dumps(record("bob")).decode().replace('"labels":{"stance":"agree"}',
                                                               f'"labels":{{"stance":{nested(300)}}}')
    deep_extra = orjson.dumps(record("carol")).decode()[:-1] + f',"extra":{nested(1000)}}}'
    past_orjson = orjson.dumps(record("dave")).decode()[:-1] + f',"extra":{nested(5000)}}}'
    first = write_lines(tmp_path / "deep.jsonl", record("alice"), deep_labels, deep_extra, past_orjson,
                        record("erin"), '{"a":' * 400 + "1" + "}" * 400)
    second = write_lines(tmp_path / "next.jsonl", record("frank"))
    result = run("--db", str(db_path), "load-annotations", str(first), str(second))
    assert result.exit_code == 1
    assert result.stdout == summary(7, 3, 4)
    too_deep = "not a valid record: nested more than 32 levels deep"
    assert result.stderr.splitlines() == [f"rejected: {first}:{n}: {too_deep}" for n in (2, 3, 4, 6)]
    assert database_state(db_path) == rows(stories=1, articles=1, annotations=3, labels=3)


@pytest.mark.parametrize("kind", ["FIFO", "character device", "directory", "symlink to /dev/zero", "socket"])
def test_only_regular_files_are_read_others_are_named_and_skipped(db_path, tmp_path, kind):
    special = tmp_path / "special.jsonl"
    if kind == "FIFO":
        os.mkfifo(special)  # no writer: opening it for reading without O_NONBLOCK would hang
    elif kind == "character device":
        special = Path("/dev/zero")  # would read until MemoryError
    elif kind == "directory":
        special.mkdir()
    elif kind == "symlink to /dev/zero":
        special.symlink_to("/dev/zero")
    else:
        listener = socket.socket(socket.AF_UNIX)
        listener.bind(str(special))
    good = write_lines(tmp_path / "good.jsonl", record("alice"))
    with Store.open(db_path):
        pass
    # A subprocess with a timeout: a hang fails the test instead of stalling the suite.
    done = subprocess.run([str(NEWSMARK), "--db", str(db_path), "load-annotations", str(special), str(good)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert done.stdout == summary(1, 1, 1)
    shown = kind if kind != "symlink to /dev/zero" else "character device"
    assert done.stderr == f"rejected: {special}: not a regular file ({shown})\n"
    assert database_state(db_path) == rows(stories=1, articles=1, annotations=1, labels=1)


def test_a_line_longer_than_a_record_may_be_is_rejected_without_reading_it_whole(db_path, tmp_path):
    huge = tmp_path / "zeros.jsonl"
    with huge.open("wb") as handle:
        handle.write(orjson.dumps(record("alice")) + b"\n")
        handle.truncate(handle.tell() + MAX_RECORD_BYTES + 10)  # a sparse run of NUL bytes, no newline
        handle.seek(0, os.SEEK_END)
        handle.write(b"\n" + orjson.dumps(record("bob")) + b"\n")
    result = run("--db", str(db_path), "load-annotations", str(huge))
    assert result.exit_code == 1
    assert result.stdout == summary(3, 2, 1)
    assert result.stderr == f"rejected: {huge}:2: line longer than 128 MiB; not read\n"
    assert database_state(db_path) == rows(stories=1, articles=1, annotations=2, labels=2)


def test_dash_reads_standard_input(db_path, tmp_path):
    piped = orjson.dumps(record("alice")) + b"\n{oops\n" + orjson.dumps(record("bob")) + b"\n"
    other = write_lines(tmp_path / "carol.jsonl", record("carol"))
    result = CliRunner().invoke(cli, ["--db", str(db_path), "load-annotations", "-", str(other)], input=piped)
    assert result.exit_code == 1
    assert result.stdout == summary(4, 3, 1)
    assert result.stderr == f"rejected: <stdin>:2: not valid JSON: {json_error('{oops')}\n"
    assert database_state(db_path) == rows(stories=1, articles=1, annotations=3, labels=3)
    with Store.open(db_path, create=False) as store:
        assert store.get_article(AID).origin == "<stdin>"
    # The same through a real pipe.
    done = subprocess.run([str(NEWSMARK), "--db", str(db_path), "load-annotations", "-"], input=piped,
                          capture_output=True, timeout=60)
    assert done.returncode == 1
    assert done.stdout.decode() == summary(3, 0, 1, stories=0, articles=0, unchanged=2)


def test_an_article_read_in_several_stories_joins_each_with_its_own_stance(db_path, tmp_path):
    """FNC-1: one body, several headlines (stories). Each record's story gains the article;
    stance is judged per story, reliability once for the article; gold the same way."""
    path = write_lines(
        tmp_path / "fnc.jsonl",
        record("alice", labels={"stance": "agree", "reliability": "B"}, story="headline-1"),
        record("alice", labels={"stance": "unrelated", "reliability": "B"}, story="headline-2"),
        record("bob", labels={"stance": "discuss"}, story="headline-2"),
        gold_record(labels={"stance": "agree"},
                    gold={"stance": {"by": "lead", "reason": "", "at": "2026-11-21T12:00:00Z"}}),
    )
    result = run("--db", str(db_path), "load-annotations", str(path))
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == summary(4, 4, 0, stories=3, articles=1)
    assert database_state(db_path) == rows(stories=3, articles=1, annotations=3, labels=4, gold=1)
    with Store.open(db_path, create=False) as store:
        assert store.article_stories(AID) == ["headline-1", "headline-2", "talks"]
        assert store.home_story(AID) == "headline-1"
        assert store.labels(AID, "alice", story_id="headline-1") == {"stance": "agree", "reliability": "B"}
        assert store.labels(AID, "alice", story_id="headline-2") == {"stance": "unrelated", "reliability": "B"}
        assert store.labels(AID, "bob", story_id="headline-2") == {"stance": "discuss"}
        assert store.gold(AID, story_id="talks")["stance"]["value"] == "agree"
        assert store.gold(AID, story_id="headline-1") == {}
    again = run("--db", str(db_path), "load-annotations", str(path))
    assert (again.exit_code, again.stdout) == (0, summary(4, 0, 0, stories=0, articles=0, unchanged=4))


def test_json_lists_rejections_as_import_does(db_path, tmp_path):
    path = write_lines(tmp_path / "mixed.jsonl", record("alice"), "oops", record(" bob "))
    result = run("--db", str(db_path), "load-annotations", str(path), str(tmp_path), "--json")
    assert result.exit_code == 1
    assert result.stderr == ""
    assert json.loads(result.stdout) == {
        "read": 3, "loaded": 1, "replaced": 0, "unchanged": 0, "kept_newer_local": 0,
        "stories_created": 1, "articles_created": 1, "derived": 0, "derived_values": 0,
        "rejected": [
            {"file": str(path), "line": 2, "reason": f"not valid JSON: {json_error('oops')}"},
            {"file": str(path), "line": 3,
             "reason": "not a valid annotation record: annotator: name ' bob ' begins or ends with a space"},
            {"file": str(tmp_path), "line": None, "reason": "not a regular file (directory)"},
        ],
    }
    imported = run("--db", str(db_path), "import", str(tmp_path / "missing.txt"), "--json")
    assert isinstance(json.loads(imported.stdout)["rejected"], list)


def test_hostile_ids_and_file_names_are_rejected_and_shown_escaped(db_path, tmp_path):
    path = write_lines(
        tmp_path / "ids\x1b[2J.jsonl",
        with_claim(record("alice"), id="c\u202e1"), with_claim(record("bob"), cluster="k 1"),
        with_claim(record("carol"), id="\x1b]0;pwned\x07"), with_claim(record("dave"), cluster="k1"),
    )
    missing = tmp_path / "gone\x1b]0;pwned\x07.jsonl"
    result = run("--db", str(db_path), "load-annotations", str(path), str(missing))
    assert result.exit_code == 1
    assert result.stdout == summary(4, 1, 4)  # three lines and the missing file
    shown = str(path).replace("\x1b", "\\x1b")
    gone = str(missing).replace("\x1b", "\\x1b").replace("\x07", "\\x07")
    assert result.stderr.splitlines() == [
        f"rejected: {shown}:1: not a valid annotation record: claims.0.id: id 'c\\u202e1' holds spaces, "
        "control or format characters",
        f"rejected: {shown}:2: not a valid annotation record: claims.0.cluster: id 'k 1' holds spaces, "
        "control or format characters",
        f"rejected: {shown}:3: not a valid annotation record: claims.0.id: id '\\x1b]0;pwned\\x07' holds spaces, "
        "control or format characters",
        f"rejected: {gone}: cannot read: "
        "No such file or directory",
    ]
    assert "\x1b" not in result.output and "\u202e" not in result.output
    assert database_state(db_path) == rows(stories=1, articles=1, annotations=1, labels=1, claims=1)


def test_fnc1_stances_load_into_every_story_of_their_body(db_path, tmp_path, shared_data):
    """FNC-1's first 80 headline/body pairs as records (a story per headline, annotator
    `fnc1`): every pair loads, each body joins the story of every headline that names it
    with that headline's stance, and the export gives one record per pair; loaded after
    `import` filed the bodies under one story, the same."""
    fnc1 = shared_data / "fnc1"
    with (fnc1 / "competition_test_stances.csv").open(encoding="utf-8", newline="") as handle:
        pairs = list(csv.DictReader(handle))[:80]
    with (fnc1 / "competition_test_bodies.csv").open(encoding="utf-8", newline="") as handle:
        bodies = {row["Body ID"]: row["articleBody"] for row in csv.DictReader(handle)}
    headlines = {title: f"h{n}" for n, title in enumerate(dict.fromkeys(p["Headline"] for p in pairs))}
    records, stances = [], {}
    for pair in pairs:
        text = sanitize_text(bodies[pair["Body ID"]])
        story = headlines[pair["Headline"]]
        rec = record("fnc1", labels={"stance": pair["Stance"]}, text=text, story=story)
        rec["story"]["title"] = pair["Headline"]
        records.append(rec)
        stances[(story, article_id_for(text))] = pair["Stance"]
    path = write_lines(tmp_path / "fnc1.jsonl", *records)
    articles = len({aid for _, aid in stances})
    assert articles < len(stances)  # bodies shared by several headlines
    result = run("--db", str(db_path), "load-annotations", str(path))
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == summary(80, 80, 0, stories=len(headlines), articles=articles)
    assert database_state(db_path) == rows(stories=len(headlines), articles=articles, annotations=80, labels=80)

    def exported(db: Path) -> dict:
        with Store.open(db, create=False) as store:
            return {(r["story"]["id"], r["article"]["id"]): r["labels"]["stance"]
                    for r in iter_records(store)}

    assert exported(db_path) == stances

    # The bodies imported first, into one story: every pair still loads, into its story.
    subset = tmp_path / "bodies.csv"
    with subset.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Body ID", "articleBody"])
        writer.writerows([body, bodies[body]] for body in dict.fromkeys(p["Body ID"] for p in pairs))
    other_db = tmp_path / "imported.db"
    imported = run("--db", str(other_db), "import", str(subset), "--story", "fnc1", "--map", "text=articleBody")
    assert imported.exit_code == 0, imported.output
    result = run("--db", str(other_db), "load-annotations", str(path))
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == summary(80, 80, 0, stories=len(headlines), articles=0)
    assert exported(other_db) == stances


# --- version 1 records and cluster wording ----------------------------------------------


def test_version_1_records_still_load_their_labels_split_by_scope(store: Store, tmp_path):
    v2 = record("alice", labels={"stance": "agree", "reliability": "B"},
                claims=[claim(25, 61, cluster="k1", wording=TEXT[25:61])])
    path = write_lines(tmp_path / "old.jsonl", version_1(v2))
    report = load_annotations(store, [path])
    assert (report.loaded, report.rejected) == (1, [])
    rows_ = store.conn.execute("SELECT story_id, field, value FROM labels ORDER BY field").fetchall()
    assert rows_ == [("", "reliability", "B"), ("talks", "stance", "agree")]
    # A new cluster named by a version-1 claim is worded by the claim's text.
    assert export_bytes(store) == orjson.dumps(v2) + b"\n"
    mismatch = version_1(v2)
    mismatch["article"]["story_id"] = "elsewhere"
    report = load_annotations(store, [write_lines(tmp_path / "bad.jsonl", mismatch)])
    assert [r.reason for r in report.rejected] == ["article.story_id 'elsewhere' differs from story.id 'talks'"]


def test_cluster_wording_survives_the_round_trip_and_a_newer_record_rewords(store: Store, tmp_path):
    worded = record("alice", claims=[claim(25, 61, cluster="k1", wording="They share intelligence")])
    load_annotations(store, [write_lines(tmp_path / "a.jsonl", worded)])
    assert store.cluster_label("k1") == "They share intelligence"
    assert export_bytes(store) == orjson.dumps(worded) + b"\n"
    newer = record("alice", claims=[claim(25, 61, cluster="k1", wording="Intelligence sharing agreed")],
                   updated_at="2026-11-22T10:00:00Z")
    report = load_annotations(store, [write_lines(tmp_path / "b.jsonl", newer, worded)])
    assert (report.replaced, report.kept_newer_local) == (1, 1)
    assert store.cluster_label("k1") == "Intelligence sharing agreed"
    # A version-1 record (no wording) leaves the cluster's wording alone.
    load_annotations(store, [write_lines(tmp_path / "c.jsonl", version_1(record(
        "alice", claims=[claim(25, 61, cluster="k1")], updated_at="2026-11-23T10:00:00Z")))])
    assert store.cluster_label("k1") == "Intelligence sharing agreed"
    orphan = record("bob", claims=[claim(25, 61, cid="c9", wording="no cluster")])
    report = load_annotations(store, [write_lines(tmp_path / "d.jsonl", orphan)])
    assert "cluster_wording is given but the claim has no cluster" in report.rejected[0].reason
