"""Hostile input everywhere it enters, by property (hypothesis).

Every importer (.txt, .md, .html, .jsonl, .csv through `import_paths`) and
`load_annotations` are fed random bytes, random JSON, wrong types, huge values, labels
the scheme does not know and claim offsets outside the text. Whatever comes in: no
exception escapes, everything not taken is named with a clear reason (one printable
line), the counts add up, and the database stays whole (`PRAGMA integrity_check`, and
every stored label fits the scheme, every claim lies inside its article's text).
"""

from __future__ import annotations

import copy
import itertools
import json
import math
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsmark.schema.ingest import import_paths
from newsmark.schema.load import load_annotations
from newsmark.schema.sanitize import article_id_for, for_terminal, text_sha256
from newsmark.schema.store import Store

SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
_names = itertools.count()

TEXT = "Officials met on Monday. They agreed 🤝 to share intelligence. Critics objected loudly."

# --- what "the database stays whole" means ------------------------------------------


def assert_whole(store: Store) -> None:
    """Integrity, and nothing stored that the scheme or the texts would refuse."""
    conn = store.conn
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    scheme = store.scheme
    for fld, value in conn.execute("SELECT DISTINCT field, value FROM labels"):
        assert scheme.check_value(fld, value, "article") is None, (fld, value)
    for fld, value in conn.execute("SELECT DISTINCT field, value FROM claim_labels"):
        assert scheme.check_value(fld, value, "claim") is None, (fld, value)
    outside = conn.execute(
        'SELECT count(*) FROM claims c JOIN articles a ON a.id = c.article_id '
        'WHERE c.start < 0 OR c."end" <= c.start OR c."end" > length(a.text) '
        "OR substr(a.text, c.start + 1, c.\"end\" - c.start) != c.exact"
    ).fetchone()[0]
    assert outside == 0
    orphans = conn.execute("SELECT count(*) FROM claims WHERE article_id NOT IN (SELECT id FROM articles)").fetchone()[0]
    assert orphans == 0
    # Every article's id is the hash of its text, as everywhere else.
    for aid, sha, text in conn.execute("SELECT id, text_sha256, text FROM articles"):
        assert sha == text_sha256(text) and aid == sha[:16]


def assert_clear(reason: str) -> None:
    """A reason fit for one line on a terminal: not empty, printable, no traceback."""
    assert reason.strip()
    assert "Traceback" not in reason
    assert "\n" not in reason and "\x1b" not in reason
    assert for_terminal(reason) == reason, repr(reason)  # the one rule for terminal text


@pytest.fixture(scope="module")
def shared_store(tmp_path_factory):
    """One database for all examples of a test module (examples add to it)."""
    folder = tmp_path_factory.mktemp("props")
    with Store.open(folder / "props.db") as store:
        yield store, folder


def fresh_file(folder: Path, suffix: str, data: bytes) -> Path:
    path = folder / f"f{next(_names)}{suffix}"
    path.write_bytes(data)
    return path


def import_and_check(store: Store, path: Path, records: int | None) -> None:
    """Import one file; nothing escapes; counts add up; the database stays whole."""
    before = store.article_count()
    report = import_paths(store, [path], story="props")
    after = store.article_count()
    assert after - before == report.imported
    for rejection in report.rejected + report.warnings:
        assert_clear(rejection.reason)
    if records is not None:  # a single-article file: one outcome
        assert report.imported + report.duplicates + len(report.rejected) + len(report.empty) == records
    assert_whole(store)


# --- importers: bytes ------------------------------------------------------------------

ARTICLE_SUFFIXES = [".txt", ".md", ".html", ".jsonl", ".csv"]


@SETTINGS
@given(suffix=st.sampled_from(ARTICLE_SUFFIXES), data=st.binary(max_size=2000))
def test_any_bytes_into_any_importer(shared_store, suffix, data):
    store, folder = shared_store
    path = fresh_file(folder, suffix, data)
    import_and_check(store, path, 1 if suffix in (".txt", ".md") else None)


@SETTINGS
@given(suffix=st.sampled_from(ARTICLE_SUFFIXES), text=st.text(max_size=1500))
def test_any_text_into_any_importer(shared_store, suffix, text):
    store, folder = shared_store
    path = fresh_file(folder, suffix, text.encode("utf-8", "surrogatepass"))
    import_and_check(store, path, 1 if suffix in (".txt", ".md") else None)


HTML_PIECES = st.sampled_from([
    "<html>", "</html>", "<head>", "<title>", "</title>", "<body>", "<p>", "</p>", "<article>", "</article>",
    "<script>alert(1)</script>", "<!--", "-->", "<![CDATA[", "]]>", "&amp;", "&#0;", "&#x1b;", "&#xD800;",
    "&bogus;", "<meta charset=latin1>", '<meta name="author" content="\x1b]0;x\x07">', "<div", ">", "\x00",
    "[@click=app.quit]x[/]", "Words of a paragraph that is long enough to count as text. " * 3,
])


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(pieces=st.lists(HTML_PIECES | st.text(max_size=40), max_size=40))
def test_html_soup(shared_store, pieces):
    store, folder = shared_store
    path = fresh_file(folder, ".html", "".join(pieces).encode("utf-8", "surrogatepass"))
    import_and_check(store, path, 1)


# --- importers: records of the wrong shape ---------------------------------------------

HUGE_INT = 2**80
JSON_SCALARS = (
    st.none() | st.booleans() | st.integers(min_value=-HUGE_INT, max_value=HUGE_INT)
    | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=50)
)
JSON_VALUES = st.recursive(
    JSON_SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
KEYS = st.sampled_from(["title", "text", "source", "url", "published", "byline", "story", "articleBody",
                        "date", "author", "link", "headline", "meta", "x"]) | st.text(max_size=8)


def dump_json(value: Any) -> str:
    """JSON as Python writes it: huge ints, NaN and Infinity included (hostile as such)."""
    return json.dumps(value, ensure_ascii=False)


@SETTINGS
@given(records=st.lists(st.dictionaries(KEYS, JSON_VALUES, max_size=8) | JSON_VALUES, max_size=12))
def test_jsonl_records_of_any_shape(shared_store, records):
    store, folder = shared_store
    lines = [dump_json(record) for record in records]
    path = fresh_file(folder, ".jsonl", "\n".join(lines).encode("utf-8", "surrogatepass"))
    before = store.article_count()
    report = import_paths(store, [path], story="props")
    assert store.article_count() - before == report.imported
    if lines and not any(r.line is None for r in report.rejected):
        # Every non-blank line is one outcome: imported, duplicate, rejected or skipped as empty.
        non_blank = sum(1 for line in lines if line.strip())
        assert report.imported + report.duplicates + len(report.rejected) + len(report.empty) == non_blank
    for rejection in report.rejected:
        assert_clear(rejection.reason)
    assert_whole(store)


CSV_CELLS = st.text(max_size=30) | st.sampled_from(['"', '""', '"a,b"', "\r", "\n", "\x00", ",", "\ufeff",
                                                      "9" * 400, "2017-02-30", "x" * 5000])


@SETTINGS
@given(header=st.lists(KEYS, max_size=8), rows=st.lists(st.lists(CSV_CELLS, max_size=9), max_size=10),
       delimiter=st.sampled_from([",", "\t", ";"]))
def test_csv_of_any_shape(shared_store, header, rows, delimiter):
    store, folder = shared_store
    lines = [delimiter.join(header)] + [delimiter.join(row) for row in rows]
    path = fresh_file(folder, ".csv", "\n".join(lines).encode("utf-8", "surrogatepass"))
    import_and_check(store, path, None)


def test_huge_values_in_records(shared_store):
    """A 5 MB title, a number too big for SQLite, NaN and a date far out of range."""
    store, folder = shared_store
    records = [
        {"title": "T" * 5_000_000, "text": "A text with a five megabyte title."},
        {"title": HUGE_INT, "text": "A title too big for any integer column.", "published": HUGE_INT},
        {"text": "Not a number as a title.", "title": math.nan, "published": "99999-99-99"},
        {"text": "Infinity as an outlet.", "source": math.inf, "meta": {"deep": [[[[[[[[[[1]]]]]]]]]]}},
        {"text": 12345678901234567890123},
    ]
    path = fresh_file(folder, ".jsonl", "\n".join(map(dump_json, records)).encode())
    before = store.article_count()
    report = import_paths(store, [path], story="props")
    assert store.article_count() - before == report.imported
    assert report.imported + report.duplicates + len(report.rejected) + len(report.empty) == len(records)
    for rejection in report.rejected:
        assert_clear(rejection.reason)
    assert_whole(store)


# --- load-annotations ------------------------------------------------------------------


def valid_record() -> dict:
    """A correct annotation record with labels, a claim in a cluster, a note and a flag."""
    start, end = 25, 60
    return {
        "schema_version": 1,
        "article": {"id": article_id_for(TEXT), "story_id": "talks", "source": "Wire", "url": None,
                    "title": "Talks", "byline": None, "published": "2025-08-01", "text_sha256": text_sha256(TEXT),
                    "text": TEXT},
        "story": {"id": "talks", "title": "Talks", "proposition": "They cooperate."},
        "annotator": "alice",
        "labels": {"stance": "agree", "reliability": "B", "credibility": "2"},
        "claims": [{"id": "c1", "start": start, "end": end, "exact": TEXT[start:end], "prefix": TEXT[:start][-32:],
                    "suffix": TEXT[end:end + 32], "labels": {"credibility": "3", "checkworthy": "yes"},
                    "cluster": "k1"}],
        "note": "a note", "flagged": True, "updated_at": "2026-11-21T10:00:00Z",
    }


def valid_gold() -> dict:
    record = valid_record()
    return {**record, "annotator": None, "note": None, "flagged": False,
            "gold": {"stance": {"by": "lead", "reason": "r", "at": "2026-11-21T11:00:00Z"},
                     "reliability": {"by": "lead", "reason": "", "at": "2026-11-21T11:00:00Z"},
                     "credibility": {"by": "lead", "reason": "", "at": "2026-11-21T11:00:00Z"},
                     "claims": {"by": "lead", "reason": "", "at": "2026-11-21T11:00:00Z"}}}


def paths_of(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path to a value inside a JSON document."""
    found = [prefix]
    if isinstance(value, dict):
        for key, inner in value.items():
            found += paths_of(inner, prefix + (key,))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found += paths_of(inner, prefix + (index,))
    return found


# Values that hit the checks: wrong types, huge and negative numbers, unknown labels,
# offsets outside the text, bad dates and timestamps, control characters, long strings.
NASTY = (
    JSON_VALUES
    | st.sampled_from([
        -1, 0, 10**6, 2**63, 2**64, HUGE_INT, -HUGE_INT, 1e308, "", " ", "maybe", "Z", "7", "0", "agree ",
        "AGREE", "x" * 100_000, "\x1b]0;pwned\x07", "[@click=app.quit]", "\u0000", "2026-13-45T99:99:99Z",
        "0000-01-01T00:00:00Z", "9999-12-31T23:59:59.999999Z", "2026-02-30T10:00:00Z", "2025-02-30",
        "0000-00-00", "0" * 16, "f" * 64, [], {}, {"stance": "maybe"}, {"credibility": 7}, {"": ""},
    ])
)


@st.composite
def mutated_records(draw) -> str:
    """A valid record (annotation or gold) with a few values replaced, deleted or added."""
    record = draw(st.sampled_from([valid_record, valid_gold]))()
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(paths_of(record)))
        if not path:
            continue
        parent = record
        for part in path[:-1]:
            parent = parent[part]
        action = draw(st.sampled_from(["replace", "replace", "delete", "add"]))
        if action == "replace":
            parent[path[-1]] = draw(NASTY)
        elif action == "delete" and isinstance(parent, dict):
            del parent[path[-1]]
        elif action == "add" and isinstance(parent, dict):
            parent[draw(st.text(max_size=10))] = draw(NASTY)
    return dump_json(record)


def load_and_check(store: Store, folder: Path, lines: list[bytes]) -> None:
    path = fresh_file(folder, ".jsonl", b"\n".join(lines))
    report = load_annotations(store, [path])
    counted = report.loaded + report.replaced + report.unchanged + report.kept_newer_local
    file_level = [r for r in report.rejected if r.line is None]
    assert not file_level, file_level
    assert counted + len(report.rejected) == report.read
    # (A BOM opening the file is not part of its first line.)
    assert report.read == sum(1 for line in b"\n".join(lines).removeprefix(b"\xef\xbb\xbf").split(b"\n") if line.strip())
    for rejection in report.rejected:
        assert_clear(rejection.reason)
    assert_whole(store)


@SETTINGS
@given(lines=st.lists(st.binary(max_size=300), max_size=8))
def test_load_any_bytes(shared_store, lines):
    store, folder = shared_store
    lines = [line.replace(b"\n", b" ") for line in lines]
    load_and_check(store, folder, lines)


@SETTINGS
@given(values=st.lists(JSON_VALUES, max_size=8))
def test_load_any_json(shared_store, values):
    store, folder = shared_store
    load_and_check(store, folder, [dump_json(v).encode("utf-8", "surrogatepass") for v in values])


@settings(SETTINGS, max_examples=300)  # a busy machine must not fail the too_slow health check
@given(records=st.lists(mutated_records(), min_size=1, max_size=4))
def test_load_mutated_records(shared_store, records):
    """Valid records with a few hostile values: each loads or is rejected with a reason."""
    store, folder = shared_store
    # A valid record first, so later ones meet an existing annotation (conflict paths).
    lines = [dump_json(valid_record()).encode()] + [r.encode("utf-8", "surrogatepass") for r in records]
    load_and_check(store, folder, lines)


@pytest.mark.parametrize("stamp", ["2026-13-45T99:99:99Z", "0000-01-01T00:00:00Z", "2026-02-30T10:00:00Z"])
@pytest.mark.parametrize("kind", ["annotation", "gold"])
def test_impossible_timestamps_are_rejected_not_crashing(tmp_path, stamp, kind):
    """Timestamps of the right shape but no real instant, against an existing record (the
    newer-wins comparison reads them)."""
    with Store.open(tmp_path / "t.db") as store:
        first = valid_record() if kind == "annotation" else valid_gold()
        second = copy.deepcopy(first)
        second["labels"]["stance"] = "disagree"
        second["updated_at"] = stamp
        if kind == "gold":
            second["gold"]["stance"]["at"] = stamp
        path = tmp_path / "in.jsonl"
        path.write_bytes(orjson.dumps(first) + b"\n" + orjson.dumps(second) + b"\n")
        report = load_annotations(store, [path])
        assert report.loaded == 1
        [rejection] = report.rejected
        assert rejection.line == 2
        assert_clear(rejection.reason)
        assert "updated_at" in rejection.reason or ".at" in rejection.reason
        assert_whole(store)


@pytest.mark.parametrize("start,end", [(-5, 3), (0, 10**6), (2**63, 2**63 + 1), (2**80, 2**80 + 1), (50, 40)])
def test_claim_offsets_outside_the_text(tmp_path, start, end):
    with Store.open(tmp_path / "t.db") as store:
        record = valid_record()
        record["claims"][0].update(start=start, end=end, exact="not in the text at all")
        path = tmp_path / "in.jsonl"
        path.write_text(dump_json(record) + "\n")
        report = load_annotations(store, [path])
        assert report.loaded == 0
        [rejection] = report.rejected
        assert_clear(rejection.reason)
        assert "claims" in rejection.reason
        assert_whole(store)
        assert store.conn.execute("SELECT count(*) FROM claims").fetchone()[0] == 0


def test_unknown_labels_for_the_scheme(tmp_path):
    with Store.open(tmp_path / "t.db") as store:
        lines = []
        for labels in ({"stance": "maybe"}, {"mood": "happy"}, {"credibility": "7"}, {"reliability": "b"},
                       {"checkworthy": "yes"}):  # checkworthy is a claim-level field only
            record = valid_record()
            record["labels"] = labels
            lines.append(dump_json(record))
        record = valid_record()
        record["claims"][0]["labels"] = {"stance": "agree"}  # an article-level field on a claim
        lines.append(dump_json(record))
        path = tmp_path / "in.jsonl"
        path.write_text("\n".join(lines) + "\n")
        report = load_annotations(store, [path])
        assert report.loaded == 0
        assert [r.line for r in report.rejected] == [1, 2, 3, 4, 5, 6]
        for rejection in report.rejected:
            assert_clear(rejection.reason)
        assert_whole(store)
        assert store.conn.execute("SELECT count(*) FROM labels").fetchone()[0] == 0


def test_valid_records_still_load(tmp_path):
    """The baseline the mutations start from is itself accepted (else the property tests
    would only ever test rejection)."""
    with Store.open(tmp_path / "t.db") as store:
        path = tmp_path / "in.jsonl"
        path.write_bytes(orjson.dumps(valid_record()) + b"\n" + orjson.dumps(valid_gold()) + b"\n")
        report = load_annotations(store, [path])
        assert (report.loaded, report.rejected) == (2, [])
        assert_whole(store)
