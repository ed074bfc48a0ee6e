"""The JSONL export: record shape and key order, ordering, filters, gold records, and the
`newsmark export` command (exact output, files written whole)."""

from __future__ import annotations

import io
import json

import orjson
import pytest
from click.testing import CliRunner

from newsmark.exports import FORMATS
from newsmark.exports.jsonl import iter_records, write_jsonl
from newsmark.schema.models import Story
from newsmark.schema.sanitize import article_id_for, text_sha256
from newsmark.schema.store import Store, StoreError, annotation_query
from newsmark.tui.cli import cli

ON_BOTH_ENGINES = True  # every test here runs on SQLite and on PostgreSQL (conftest)

# Unicode that must survive a round trip untouched: an emoji outside the BMP, a combining
# mark with no precomposed form (so NFC keeps it), right-to-left Arabic and Hebrew.
TEXTS = {
    "alpha": "Officials met on Monday. They agreed 🤝 to share intelligence. Critics objected loudly.",
    "beta": "The q\u0307 mark stays. مرحبا بالعالم said one. שלום said another. Nobody agreed to anything.",
    "gamma": "A third outlet reported the meeting. It quoted officials who agreed to share intelligence.",
}


def add_article(store: Store, text: str, story: str, **extra) -> str:
    """Insert one article (and its story) directly, as an import would."""
    aid = article_id_for(text)
    with store.transaction() as conn:
        store.ensure_story(conn, Story(id=story, title=f"Story {story} ✓", proposition="They agreed to cooperate."))
        store.insert_articles(conn, [(
            aid, story, extra.get("source", "Outlet"), extra.get("url"), extra.get("title", "Title"),
            extra.get("byline"), extra.get("published"), text, text_sha256(text), "{}", "test",
        )])
    return aid


def add_gold_claim(store: Store, article_id: str, start: int, end: int, *, labels: dict[str, str],
                   by: str = "lead", reason: str = "") -> str:
    """A gold claim, as the review screen adjudicates one."""
    gold_id, _ = store.set_gold_claim(article_id, start, end, by, reason, labels=labels)
    return gold_id


def build_rich_store(store: Store) -> dict[str, str]:
    """Two stories, three articles, three annotators, claims in a cluster, a note, a flag,
    gold labels and a gold claim; returns the article ids by name."""
    ids = {
        "alpha": add_article(store, TEXTS["alpha"], "s2", source="Wire", url="https://example.org/a",
                             published="2025-08-01", byline="Mia Garcia"),
        "beta": add_article(store, TEXTS["beta"], "s1", title="בית", source="Daily"),
        "gamma": add_article(store, TEXTS["gamma"], "s2", source="Paper"),
    }
    store.set_label(ids["alpha"], "bob", "credibility", "2")
    store.set_label(ids["alpha"], "bob", "stance", "agree")
    store.set_label(ids["alpha"], "bob", "reliability", "B")
    store.set_label(ids["alpha"], "alice", "stance", "discuss")
    one, _ = store.add_claim(ids["alpha"], "alice", 25, 61, {"checkworthy": "yes", "credibility": "3"})
    two, _ = store.add_claim(ids["gamma"], "alice", 37, 90, {"credibility": "2"})
    store.add_claim(ids["alpha"], "alice", 0, 24)
    store.link_claims(one.id, two.id, "alice")
    store.set_note(ids["beta"], "carol", "RTL quote: مرحبا — check 🤝")
    store.set_flag(ids["gamma"], "bob", True)
    store.set_gold(ids["alpha"], "stance", "agree", "lead", "two of three")
    store.set_gold(ids["alpha"], "reliability", "B", "lead", "")
    add_gold_claim(store, ids["alpha"], 25, 61, labels={"checkworthy": "yes", "credibility": "2"}, reason="clear")
    return ids


def export_bytes(store: Store, **options) -> bytes:
    buffer = io.BytesIO()
    write_jsonl(store, buffer, **options)
    return buffer.getvalue()


def records(store: Store, **options) -> list[dict]:
    return [orjson.loads(line) for line in export_bytes(store, **options).splitlines()]


# --- the record -----------------------------------------------------------------------


def test_record_keys_are_in_the_documented_order(store: Store):
    build_rich_store(store)
    record = records(store)[0]
    assert list(record) == ["schema_version", "article", "story", "annotator", "labels", "claims",
                            "note", "flagged", "updated_at"]
    assert record["schema_version"] == 2
    assert list(record["article"]) == ["id", "source", "url", "title", "byline", "published",
                                       "text_sha256", "text"]
    assert list(record["story"]) == ["id", "title", "proposition"]


def test_records_come_in_story_article_annotator_order(store: Store):
    ids = build_rich_store(store)
    got = [(r["story"]["id"], r["article"]["id"], r["annotator"]) for r in records(store)]
    assert got == sorted(got)
    assert got == sorted([
        ("s2", ids["alpha"], "alice"), ("s2", ids["alpha"], "bob"), ("s1", ids["beta"], "carol"),
        ("s2", ids["gamma"], "alice"), ("s2", ids["gamma"], "bob"),
    ])


def test_labels_follow_the_scheme_and_claims_the_text(store: Store):
    ids = build_rich_store(store)
    by_key = {(r["article"]["id"], r["annotator"]): r for r in records(store)}
    bob = by_key[(ids["alpha"], "bob")]
    assert list(bob["labels"].items()) == [("stance", "agree"), ("reliability", "B"), ("credibility", "2")]
    alice = by_key[(ids["alpha"], "alice")]
    assert [(c["start"], c["end"]) for c in alice["claims"]] == [(0, 24), (25, 61)]
    claim = alice["claims"][1]
    assert list(claim) == ["id", "start", "end", "exact", "prefix", "suffix", "labels", "cluster", "cluster_wording"]
    assert claim["cluster_wording"] == store.cluster_label(claim["cluster"]) == claim["exact"]
    assert claim["exact"] == TEXTS["alpha"][25:61] == "They agreed 🤝 to share intelligence."
    assert list(claim["labels"].items()) == [("credibility", "3"), ("checkworthy", "yes")]
    linked = by_key[(ids["gamma"], "alice")]["claims"][0]
    assert claim["cluster"] is not None and linked["cluster"] == claim["cluster"]
    assert alice["claims"][0]["cluster"] is None and alice["claims"][0]["labels"] == {}
    assert alice["claims"][0]["cluster_wording"] is None


def test_note_flag_and_unicode_are_written_as_utf8(store: Store):
    ids = build_rich_store(store)
    data = export_bytes(store)
    assert "مرحبا — check 🤝".encode() in data and "q\u0307".encode() in data
    by_key = {(r["article"]["id"], r["annotator"]): r for r in records(store)}
    assert by_key[(ids["beta"], "carol")]["note"] == "RTL quote: مرحبا — check 🤝"
    assert by_key[(ids["beta"], "carol")]["labels"] == {}
    assert by_key[(ids["gamma"], "bob")]["flagged"] is True
    assert data.endswith(b"}\n") and b"\r" not in data and data.count(b"\n") == 5


def test_annotation_rows_with_nothing_in_them_are_skipped(store: Store):
    aid = add_article(store, TEXTS["alpha"], "s1")
    store.set_label(aid, "alice", "stance", "agree")
    store.set_label(aid, "alice", "stance", None)  # the annotations row stays, empty
    assert store.annotators() == ["alice"]
    assert export_bytes(store) == b""


def test_no_text_leaves_the_text_out_and_keeps_its_hash(store: Store):
    ids = build_rich_store(store)
    exported = records(store, text=False)
    assert all("text" not in r["article"] for r in exported)
    (record,) = [r for r in exported if r["annotator"] == "bob" and r["article"]["id"] == ids["alpha"]]
    assert record["article"]["text_sha256"] == text_sha256(TEXTS["alpha"])
    assert record["article"]["id"] == ids["alpha"]


def test_filters_by_annotator_and_story(store: Store):
    ids = build_rich_store(store)
    assert {r["annotator"] for r in records(store, annotators=["bob"])} == {"bob"}
    assert len(records(store, annotators=["bob", "carol"])) == 3
    assert {r["article"]["id"] for r in records(store, story="s1")} == {ids["beta"]}
    assert [r["annotator"] for r in records(store, story="s2", annotators=["alice"])] == ["alice", "alice"]
    with pytest.raises(StoreError, match="no story 'nope'"):
        iter_records(store, story="nope")
    with pytest.raises(StoreError, match="no annotations by 'zed'"):
        iter_records(store, annotators=["zed"])
    with pytest.raises(ValueError, match="gold records have no annotator"):
        iter_records(store, gold=True, annotators=["bob"])


def test_gold_records_carry_provenance_and_gold_claims(store: Store):
    ids = build_rich_store(store)
    (record,) = records(store, gold=True)
    assert list(record) == ["schema_version", "article", "story", "annotator", "labels", "claims",
                            "note", "flagged", "updated_at", "gold"]
    assert record["article"]["id"] == ids["alpha"]
    assert record["annotator"] is None and record["note"] is None and record["flagged"] is False
    assert list(record["labels"].items()) == [("stance", "agree"), ("reliability", "B")]
    # credibility: labelled, not adjudicated, no agreement (bob alone): undecided, no value.
    assert list(record["gold"]) == ["stance", "reliability", "credibility", "claims"]
    assert record["gold"]["credibility"] == {"source": "undecided", "of": 1}
    assert record["gold"]["stance"]["by"] == "lead" and record["gold"]["stance"]["reason"] == "two of three"
    (gold_claim,) = store.gold_claims(ids["alpha"])
    assert record["gold"]["claims"] == {"source": "adjudicated", "by": "lead", "reason": "clear", "at": gold_claim["at"]}
    (claim,) = record["claims"]
    assert (claim["start"], claim["end"], claim["labels"]) == (25, 61, {"credibility": "2", "checkworthy": "yes"})
    # The latest adjudication (an undecided field does not date the record).
    stamps = [p["at"] for p in record["gold"].values() if p["source"] == "adjudicated"]
    assert record["updated_at"] == max(stamps)


def test_the_query_streams_without_sorting_the_whole_result(sqlite_store: Store):
    store = sqlite_store
    # Only the (story, seq) keys are sorted, inside the subquery k; a sort after it
    # ("TEMP B-TREE FOR ORDER BY" of the outer query) would gather every record, texts
    # included, before the first one is written.
    for sql, params in (annotation_query(), annotation_query(story="s1"), annotation_query(annotators=["a", "b"])):
        plan = [row[3] for row in store.conn.execute("EXPLAIN QUERY PLAN " + sql, params)]
        outer = plan[plan.index("SCAN k"):]
        assert not any("TEMP B-TREE" in step for step in outer), plan
        assert "SEARCH a USING INTEGER PRIMARY KEY (rowid=?)" in outer


def test_an_article_in_several_stories_has_a_record_in_each(store: Store):
    """Records come in story id, import order, annotator order (not article id order);
    each story's record holds that story's stance and the article-scoped labels; gold the
    same, in every story of an article with article-scoped gold."""
    late = add_article(store, TEXTS["gamma"], "s1")  # imported first, its id sorts last
    early = add_article(store, TEXTS["alpha"], "s2")
    assert late > early
    with store.transaction() as conn:
        store.ensure_story(conn, Story(id="s1", title="", proposition=""))
        store.add_to_stories(conn, [("s1", early)])
    store.set_label(early, "bob", "stance", "agree", story_id="s2")
    store.set_label(early, "bob", "stance", "disagree", story_id="s1")
    store.set_label(early, "bob", "reliability", "C", story_id="s1")
    store.set_label(late, "bob", "stance", "discuss", story_id="s1")
    store.set_label(late, "ann", "stance", "agree", story_id="s1")
    got = [(r["story"]["id"], r["article"]["id"], r["annotator"], r["labels"]) for r in records(store)]
    assert got == [
        ("s1", late, "ann", {"stance": "agree"}),
        ("s1", late, "bob", {"stance": "discuss"}),
        ("s1", early, "bob", {"stance": "disagree", "reliability": "C"}),
        ("s2", early, "bob", {"stance": "agree", "reliability": "C"}),
    ]
    store.set_gold(early, "reliability", "B", "lead", story_id="s2")
    store.set_gold(early, "stance", "agree", "lead", story_id="s2")
    store.set_gold(late, "stance", "discuss", "lead", story_id="s1")
    gold = [(r["story"]["id"], r["article"]["id"], r["labels"]) for r in records(store, gold=True)]
    assert gold == [("s1", late, {"stance": "discuss"}), ("s1", early, {"reliability": "B"}),
                    ("s2", early, {"stance": "agree", "reliability": "B"})]
    assert [r["article"]["id"] for r in records(store, gold=True, story="s2")] == [early]


def test_formats_registry_names_jsonl():
    assert FORMATS["jsonl"] is write_jsonl


# --- the command ----------------------------------------------------------------------


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


@pytest.fixture
def rich_db(db_path):
    with Store.open(db_path) as store:
        ids = build_rich_store(store)
        expected = export_bytes(store)
    return db_path, ids, expected


def test_export_writes_jsonl_to_stdout(rich_db):
    db_path, _, expected = rich_db
    result = run("--db", str(db_path), "export")
    assert result.exit_code == 0, result.stderr
    assert result.stdout_bytes == expected
    assert result.stderr == ""


def test_export_to_a_file_reports_on_stderr(rich_db, tmp_path):
    db_path, _, expected = rich_db
    out = tmp_path / "out.jsonl"
    result = run("--db", str(db_path), "export", "-o", str(out), "--format", "jsonl")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert result.stderr == f"Exported 5 records to {out}\n"
    assert out.read_bytes() == expected
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp file left


def test_export_options_reach_the_writer(rich_db, tmp_path):
    db_path, ids, _ = rich_db
    out = tmp_path / "gold.jsonl"
    result = run("--db", str(db_path), "export", "--gold", "--no-text", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert result.stderr == f"Exported 1 records to {out}\n"
    (record,) = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert record["annotator"] is None and "text" not in record["article"]
    result = run("--db", str(db_path), "export", "--annotator", "carol", "--annotator", "bob", "--story", "s2")
    assert result.exit_code == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["article"]["id"], r["annotator"]) for r in lines] == [(ids["alpha"], "bob"), (ids["gamma"], "bob")]
    # Reopen: exporting changed nothing in the database.
    with Store.open(db_path, create=False) as store:
        assert store.annotators() == ["alice", "bob", "carol"]
        assert store.events(limit=1)[0].op == "gold.claim"


def test_export_errors_are_one_line(rich_db, tmp_path):
    db_path, _, _ = rich_db
    result = run("--db", str(db_path), "export", "--story", "nope")
    assert (result.exit_code, result.stdout, result.stderr) == (1, "", "Error: no story 'nope'\n")
    result = run("--db", str(db_path), "export", "--annotator", "zed", "-o", str(tmp_path / "x.jsonl"))
    assert (result.exit_code, result.stderr) == (1, "Error: no annotations by 'zed'\n")
    assert not (tmp_path / "x.jsonl").exists()
    missing = tmp_path / "missing.db"
    result = run("--db", str(missing), "export")
    assert result.exit_code == 1
    assert result.stderr == f"Error: no database at {missing} (create one with `newsmark init`)\n"
    assert not missing.exists()


def test_export_usage_errors_exit_2(rich_db):
    db_path, _, _ = rich_db
    result = run("--db", str(db_path), "export", "--gold", "--annotator", "bob")
    assert result.exit_code == 2
    assert result.stderr.endswith(
        "Error: --gold exports the gold labels; it cannot be combined with --annotator\n"
    )
    result = run("--db", str(db_path), "export", "--format", "xml")
    assert result.exit_code == 2 and "Invalid value for '--format': 'xml'" in result.stderr


def test_export_and_load_annotations_do_not_import_textual(rich_db, tmp_path):
    import subprocess
    import sys

    from tests.conftest import ROOT

    db_path, _, _ = rich_db
    out = tmp_path / "x.jsonl"
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from newsmark.tui.cli import cli\n"
        f"r = CliRunner().invoke(cli, ['--db', r'{db_path}', 'export', '-o', r'{out}'])\n"
        "assert r.exit_code == 0, r.output\n"
        f"r = CliRunner().invoke(cli, ['--db', r'{tmp_path / 'other.db'}', 'load-annotations', r'{out}'])\n"
        "assert r.exit_code == 0, r.output\n"
        "print(any(m == 'textual' or m.startswith('textual.') for m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "False\n"
