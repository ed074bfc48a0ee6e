"""Parquet and Hugging Face exports: one fixed Arrow schema, so files of different content
(a story without bylines, annotations beside gold) are read together by `datasets`,
polars, pandas and DuckDB with no options, and every value is the JSONL record's."""

from __future__ import annotations

import io
import json

import duckdb
import polars as pl
import pyarrow.parquet as pq
from datasets import load_dataset

from newsmark.exports.arrow import record_schema, write_hf, write_parquet
from newsmark.exports.jsonl import write_jsonl
from tests.test_formats import annotated, two_stories  # noqa: F401 - the fixtures


def parquet_file(store, path, **filters) -> int:
    with path.open("wb") as out:
        return write_parquet(store, out, **filters)


def test_every_file_has_the_one_schema(annotated, tmp_path):
    store = annotated[0]
    files = {"all": {}, "gold": {"gold": True}, "bob": {"annotators": ["bob"]}, "no-text": {"text": False}}
    schemas = set()
    for name, filters in files.items():
        assert parquet_file(store, tmp_path / f"{name}.parquet", **filters) > 0
        schemas.add(pq.read_schema(tmp_path / f"{name}.parquet").remove_metadata())
    assert len(schemas) == 1
    (schema,) = schemas
    expected = record_schema(store.scheme)
    assert schema.names == expected.names
    # Parquet names list items "element" where Arrow says "item": compare the types' shapes.
    assert [str(t).replace("element:", "item:") for t in schema.types] == [str(t) for t in expected.types]


def test_values_are_the_jsonl_records(annotated, tmp_path):
    store = annotated[0]
    parquet_file(store, tmp_path / "a.parquet")
    out = io.BytesIO()
    write_jsonl(store, out)
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    rows = pq.read_table(tmp_path / "a.parquet").to_pylist()
    assert len(rows) == len(records)
    for row, record in zip(rows, records):
        assert row["annotator"] == record["annotator"] and row["note"] == record["note"]
        assert {k: v for k, v in row["labels"].items() if v is not None} == record["labels"]
        assert [(c["start"], c["end"], c["exact"], c["cluster"], c["cluster_wording"]) for c in row["claims"]] == [
            (c["start"], c["end"], c["exact"], c["cluster"], c["cluster_wording"]) for c in record["claims"]]
        assert row["story"] == record["story"] and "story_id" not in row["article"]
        assert row["article"]["text"] == record["article"]["text"]
        assert row["updated_at"].isoformat(timespec="milliseconds").replace("+00:00", "Z") == record["updated_at"]


def test_mixed_files_read_together_everywhere(annotated, tmp_path):
    """An annotation file whose story has no bylines beside a gold file: the columns that
    are null throughout one file keep their type, so nothing needs an option."""
    store = annotated[0]
    store.conn.execute("UPDATE articles SET byline = NULL, published = NULL")
    annotations, gold = tmp_path / "annotations.parquet", tmp_path / "gold.parquet"
    n_annotations = parquet_file(store, annotations)
    n_gold = parquet_file(store, gold, gold=True)
    both = [str(annotations), str(gold)]
    assert len(load_dataset("parquet", data_files=both, split="train", cache_dir=str(tmp_path / "hf-cache"))) == n_annotations + n_gold
    frame = pl.read_parquet(both)
    assert frame.height == n_annotations + n_gold
    assert frame.filter(pl.col("annotator").is_null()).height == n_gold
    assert len(pl.concat([pl.read_parquet(annotations), pl.read_parquet(gold)])) == frame.height
    assert len(pl.read_parquet(gold).to_pandas()) == n_gold
    rows = duckdb.sql(f"SELECT labels.stance, len(gold) FROM read_parquet({both!r}) WHERE annotator IS NULL").fetchall()
    # The original's adjudicated stance (its credibility undecided, 2 vs 3); the copy's gold
    # is its claim, agreed by both; the fete's stance, alice's alone, is undecided.
    assert rows == [("agree", 2), (None, 0), (None, 1)]


def test_hf_folder_loads_with_its_card(annotated, tmp_path):
    store = annotated[0]
    agreement = {"fields": {"stance": {"alpha": 0.5, "alpha_ci": [-0.25, 1.0], "level": "nominal", "units": 1,
                                       "annotators": ["alice", "bob"]}},
                 "bootstrap": {"resamples": 1000, "seed": 0, "confidence": 0.95}}
    counts = write_hf(store, tmp_path / "ds", agreement=agreement)
    # The original's (carol's stance, the claim both marked), the copy's (that claim) and the
    # fete's (alice's stance alone: undecided).
    assert counts == {"annotations": 5, "gold": 3}
    train = load_dataset(str(tmp_path / "ds"), split="train", cache_dir=str(tmp_path / "hf-cache"))
    assert len(train) == 5 and set(train["annotator"]) == {"alice", "bob"}
    gold = load_dataset(str(tmp_path / "ds"), "gold", split="train", cache_dir=str(tmp_path / "hf-cache"))
    assert gold[0]["annotator"] is None and gold[0]["gold"][0]["by"] == "carol"
    assert gold[0]["gold"][0]["source"] == "adjudicated" and gold[0]["gold"][0]["agreed"] is None
    assert [(c["gold"]["source"], c["gold"]["agreed"], c["gold"]["of"], c["gold"]["by"])
            for row in gold for c in row["claims"]] == [("agreed", 2, 2, None)] * 2
    card = (tmp_path / "ds" / "README.md").read_text(encoding="utf-8")
    assert "`B` usually reliable" in card and "`6` truth cannot be judged (counted as missing)" in card
    assert "| stance | 0.500 | [-0.250, 1.000] | nominal | 1 | 2 |" in card
    assert "1000 resamples, seed 0" in card
    assert "Gold policy: **unanimous**" in card and "are not in the gold config" not in card
    # The original's credibility (2 against 3) and the fete's stance (alice's alone).
    assert '- Fields labelled but not decided yet (`"source": "undecided"`, no value): 2\n' in card
    assert "- alice: 3 articles" in card and "- bob: 2 articles" in card


def test_an_article_in_two_stories_is_counted_once_in_the_card(two_stories, tmp_path):
    store, original = two_stories
    counts = write_hf(store, tmp_path / "ds")
    # alice's record of the original in story t too; gold: the original's in both stories
    # (carol's stance in s; the claim both marked, an article's claims show in each story)
    # the copy's (that claim) and the fete's (undecided)
    assert counts == {"annotations": 6, "gold": 4}
    rows = pq.read_table(tmp_path / "ds" / "data" / "annotations.parquet").to_pylist()
    assert [(r["story"]["id"], r["labels"]["stance"]) for r in rows
            if r["article"]["id"] == original and r["annotator"] == "alice"] == [("s", "agree"), ("t", "disagree")]
    card = (tmp_path / "ds" / "README.md").read_text(encoding="utf-8")
    assert "6 annotation records and 4 gold records over 3 articles in 2 stories" in card
    assert "- alice: 3 articles" in card


def test_export_command_writes_parquet_and_an_hf_folder(annotated, database, tmp_path):
    from click.testing import CliRunner

    from newsmark.tui.cli import cli

    def run(*args):
        return CliRunner().invoke(cli, ["--db", database, "export", *args])

    result = run("--format", "parquet", "-o", str(tmp_path / "a.parquet"))
    assert result.exit_code == 0 and result.stderr == f"Exported 5 records to {tmp_path / 'a.parquet'}\n"
    assert pq.read_table(tmp_path / "a.parquet").num_rows == 5
    result = run("--format", "hf", "-o", str(tmp_path / "ds"))
    assert result.exit_code == 0, result.output
    assert result.stderr == f"Exported 5 annotations, 3 gold records to {tmp_path / 'ds'}\n"
    assert len(load_dataset(str(tmp_path / "ds"), "gold", split="train", cache_dir=str(tmp_path / "hf-cache"))) == 3
    assert "| stance |" in (tmp_path / "ds" / "README.md").read_text(encoding="utf-8")
    again = run("--format", "hf", "-o", str(tmp_path / "ds"))
    assert again.exit_code == 1
    assert again.stderr == f"Error: {tmp_path / 'ds'} exists; --format hf writes a new folder (or an empty one)\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".ds.")] == []  # no staging left
    assert run("--format", "hf").exit_code == 2
    assert run("--format", "csv", "--url-base", "https://x.example").exit_code == 2
    assert run("--format", "claimreview", "--url-base", "ftp://x").exit_code == 2
    assert run("--format", "jsonl", "--spreadsheet").exit_code == 2
