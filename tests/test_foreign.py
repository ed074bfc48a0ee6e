"""Annotations from Prodigy, doccano and Label Studio: files written by hand from each
tool's documented format (non-ASCII text, an emoji before a span, CRLF line ends, an
escape sequence and a decomposed accent before a span) become newsmark records whose
every span quotes the same words, with the article id `newsmark import` gives the text."""

from __future__ import annotations

import pytest

from newsmark.schema.importing import LabelMap, MappingError, reader_for
from newsmark.schema.importing.records import to_records
from newsmark.schema.models import AnnotationRecord
from newsmark.schema.sanitize import sanitize_with_offsets, utf16_to_code_points
from newsmark.schema.scheme import default_scheme
from tests.conftest import ROOT
from tests.engines import assert_intact

ON_BOTH_ENGINES = True  # every test here runs on SQLite and on PostgreSQL (conftest)

FOREIGN = ROOT / "tests" / "fixtures" / "foreign"
STORY = {"id": "kabul", "title": "Kabul talks", "proposition": "The Taliban will meet the envoy."}
NOW = "2026-12-02T08:00:00.000Z"


def mapping() -> LabelMap:
    return LabelMap.from_sources(default_scheme(), FOREIGN / "labels.toml", [])


def lines(path):
    with path.open("rb") as handle:
        yield from enumerate(handle, 1)


def convert(fmt: str, path, **options):
    read = reader_for(fmt)
    items = read(path.read_bytes(), **options) if fmt == "labelstudio" else read(lines(path), **options)
    return list(to_records(items, mapping(), story=STORY, annotator="importer", now=NOW))


def claims_by_text(record) -> dict[str, dict]:
    return {claim["exact"]: claim["labels"] for claim in record["claims"]}


def test_prodigy(tmp_path):
    converted = convert("prodigy", FOREIGN / "prodigy.jsonl")
    # line 2 was rejected in Prodigy: no label; line 4's label is not mapped.
    assert [c.line for c in converted] == [1, 3, 4]
    alice, bob, other = converted
    record = AnnotationRecord.model_validate(alice.record).model_dump()
    assert record["annotator"] == "news-alice" and record["labels"] == {"stance": "agree"}
    assert record["updated_at"] == "2026-01-01T00:00:00.000Z"
    assert record["article"]["source"] == "Kabul Times"
    assert claims_by_text(record) == {"the Taliban": {}, "owners disagreed": {"checkworthy": "yes"}}
    assert bob.record["labels"] == {"stance": "discuss"} and bob.record["annotator"] == "news-bob"
    assert other.unmapped == ["SARCASM"] and other.record["labels"] == {}


def test_doccano():
    spans, categories = convert("doccano", FOREIGN / "doccano.jsonl")
    assert spans.record["annotator"] == "importer" and spans.record["updated_at"] == NOW
    assert claims_by_text(spans.record) == {"the Taliban": {}, "owners disagreed": {"checkworthy": "yes"}}
    assert categories.record["labels"] == {"stance": "agree"} and categories.record["claims"] == []
    assert spans.record["article"]["id"] == categories.record["article"]["id"]


def test_labelstudio_counts_utf16_units():
    converted = convert("labelstudio", FOREIGN / "labelstudio.json", text_key="article")
    assert len(converted) == 1  # the cancelled annotation is skipped
    record = AnnotationRecord.model_validate(converted[0].record).model_dump()
    assert record["annotator"] == "carol@desk.example"
    assert record["updated_at"] == "2026-01-02T10:00:00.123Z"
    assert record["labels"] == {"stance": "agree"}
    assert claims_by_text(record) == {"the Taliban": {}, "owners disagreed": {"checkworthy": "yes"}}


def test_labelstudio_without_the_text_key_says_which_keys_there_are():
    converted = convert("labelstudio", FOREIGN / "labelstudio.json")
    assert converted[0].record is None
    assert converted[0].error == "no text under data.text (keys: article); name it with --text-key"


@pytest.mark.parametrize("fmt,path,options", [
    ("prodigy", "prodigy.jsonl", {}), ("doccano", "doccano.jsonl", {}),
    ("labelstudio", "labelstudio.json", {"text_key": "article"}),
])
def test_the_article_id_is_the_one_import_gives(fmt, path, options, store, tmp_path):
    from newsmark.schema.ingest import import_paths

    record = convert(fmt, FOREIGN / path, **options)[0].record
    raw = next(reader_for("doccano")(lines(FOREIGN / "doccano.jsonl"))).text
    (tmp_path / "same.txt").write_bytes(raw.encode("utf-8"))
    import_paths(store, [tmp_path / "same.txt"], story="kabul")
    assert store.article_ids("kabul") == [record["article"]["id"]]
    assert store.get_article(record["article"]["id"]).text == record["article"]["text"]


def test_offsets_move_with_sanitising():
    raw = "a\r\nb\x1b]0;x\x07c e\u0301 d\x00e"
    clean, offsets = sanitize_with_offsets(raw)
    assert clean == "a\nbc é de"
    for word in ("b", "c", "d", "e\u0301"):
        start = raw.index(word)
        assert clean[offsets.start(start):offsets.end(start + len(word))] in (word, "é")
    # a span ending inside a decomposed character takes the whole character
    accent = raw.index("e\u0301")
    assert clean[offsets.start(accent):offsets.end(accent + 1)] == "é"


def test_utf16_offsets():
    table = utf16_to_code_points("😀ab")
    assert table == [0, 0, 1, 2, 3]


def test_mapping_errors_name_the_entry():
    scheme = default_scheme()
    with pytest.raises(MappingError, match="'X': the scheme has no article-level field 'colour'"):
        LabelMap.parse({"X": "colour=red"}, scheme)
    with pytest.raises(MappingError, match="'X': 'maybe' is not a label of stance"):
        LabelMap.parse({"X": "stance=maybe"}, scheme)
    with pytest.raises(MappingError, match="claim-level field 'reliability'"):
        LabelMap.parse({"X": "claim reliability=A"}, scheme)
    with pytest.raises(MappingError, match=r"--label '\\x1b': give NAME=MEANING"):
        LabelMap.from_sources(scheme, None, ["\x1b"])


def test_a_category_mapped_to_a_claim_and_conflicting_labels_are_refused():
    scheme = default_scheme()
    label_map = LabelMap.parse({"AGREE": "stance=agree", "NO": "stance=disagree", "CLAIM": "claim"}, scheme)
    items = list(reader_for("doccano")(iter([
        (1, b'{"text": "x y", "label": ["AGREE", "NO"]}'),
        (2, b'{"text": "x y", "label": ["CLAIM"]}'),
        (3, b'{"text": "x y", "label": [[0, 9, "CLAIM"]]}'),
        (4, b'[' * 100 + b']' * 100),
        (5, b'{"text": 12}'),
    ])))
    converted = list(to_records(items, label_map, story=STORY, annotator="a", now=NOW))
    assert [(c.line, c.error) for c in converted] == [
        (1, "the text's labels gives stance both 'agree' and 'disagree'"),
        (2, "label 'CLAIM' of the whole text is mapped to a claim; only spans can be claims"),
        (3, "span 0-9 lies outside the text (3 characters)"),
        (4, "nested more than 32 levels deep"),
        (5, "text: Input should be a valid string"),
    ]


# --- through `newsmark load-annotations --from` -------------------------------------------

from click.testing import CliRunner  # noqa: E402

from newsmark.schema.store import Store  # noqa: E402
from newsmark.tui.cli import cli  # noqa: E402


def load(db, *args):
    return CliRunner().invoke(cli, ["--db", str(db), "load-annotations", *args])


@pytest.mark.parametrize("fmt,path,extra,annotator", [
    ("prodigy", "prodigy.jsonl", [], "news-alice"),
    ("doccano", "doccano.jsonl", [], "doccano"),
    ("labelstudio", "labelstudio.json", ["--text-key", "article"], "carol@desk.example"),
])
def test_each_format_loads_with_every_span_in_place(fmt, path, extra, annotator, db_path):
    result = load(db_path, "--from", fmt, "--labels", str(FOREIGN / "labels.toml"), "--story", "kabul",
                  *extra, str(FOREIGN / path))
    # Prodigy's fourth line carries a label the mapping does not name: reported, exit 1.
    assert result.exit_code == (1 if fmt == "prodigy" else 0), result.output
    assert result.stderr.count("rejected:") == (1 if fmt == "prodigy" else 0)
    with Store.open(db_path) as store:
        articles = [store.get_article(i) for i in store.article_ids("kabul")]
        (article,) = [a for a in articles if a.text.startswith("Zoë")]
        article_id = article.id
        assert article.text.startswith("Zoë’s report 😀\nOfficials in Kabul said the Taliban will meet")
        assert store.labels(article_id, annotator) == {"stance": "agree"}
        claims = store.claims(article_id, annotator)
        assert [(c.exact, c.labels) for c in claims] == [
            ("the Taliban", {}), ("owners disagreed", {"checkworthy": "yes"})]
        for claim in claims:
            assert article.text[claim.start:claim.end] == claim.exact
        assert_intact(store)
    again = load(db_path, "--from", fmt, "--labels", str(FOREIGN / "labels.toml"), "--story", "kabul",
                 *extra, str(FOREIGN / path))
    assert "0 loaded, 0 replaced" in again.output  # idempotent


def test_unmapped_labels_are_reported_not_guessed(db_path):
    result = load(db_path, "--from", "prodigy", "--label", "AGREE=stance=agree", "--label", "CLAIM=claim",
                  str(FOREIGN / "prodigy.jsonl"))
    assert result.exit_code == 1
    assert result.stdout == ("Read 3 records: 1 loaded, 0 replaced, 2 unchanged, 0 kept (local newer), "
                             "3 rejected; created 1 story, 2 articles\n")
    path = FOREIGN / "prodigy.jsonl"
    assert result.stderr.splitlines() == [
        f"rejected: {path}:1: label 'CHECKWORTHY' is not mapped: map it with --label or a [labels] file "
        "(the item's other labels were taken)",
        f"rejected: {path}:3: label 'DISCUSS' is not mapped: map it with --label or a [labels] file "
        "(the item's other labels were taken)",
        f"rejected: {path}:4: label 'SARCASM' is not mapped: map it with --label or a [labels] file "
        "(the item's other labels were taken)",
    ]


def test_foreign_options_are_checked_before_anything_is_written(db_path):
    assert load(db_path, "--from", "prodigy", str(FOREIGN / "prodigy.jsonl")).stderr == (
        "Error: --from needs a mapping of the tool's labels: --labels FILE or --label NAME=MEANING\n")
    result = load(db_path, "--story", "x", str(FOREIGN / "prodigy.jsonl"))
    assert result.exit_code == 2 and "--story: only with --from prodigy|doccano|labelstudio" in result.stderr
    result = load(db_path, "--from", "doccano", "--label", "X=stance=maybe", "--annotator", "a\u202eb",
                  str(FOREIGN / "doccano.jsonl"))
    assert result.stderr == ("Error: label 'X': 'maybe' is not a label of stance "
                             "(agree, disagree, discuss, unrelated)\n")
    result = load(db_path, "--from", "doccano", "--label", "X=stance=agree", "--annotator", "a\u202eb",
                  str(FOREIGN / "doccano.jsonl"))
    assert result.exit_code == 1 and "\u202e" not in result.stderr and "U+202E" in result.stderr
    with Store.open(db_path) as store:
        assert store.article_count() == 0
