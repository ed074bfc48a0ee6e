"""`export --gold` under the gold policy, as a team uses it: three annotators' files
loaded, then the gold each policy decides, with each value's source; the same gold in
every format; an hf folder that `datasets` loads with every gold field's source; and
export -> load -> export byte-identical with derived gold in the file."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from datasets import load_dataset

from newsmark.analysis.gold import database_policy
from newsmark.exports.w3c import AGREEMENT_AGENT
from newsmark.schema.sanitize import article_id_for
from newsmark.schema.store import Store
from newsmark.tui.cli import cli
from tests.test_jsonschema import validator
from tests.test_load import TEXT, claim, record, write_lines

ON_BOTH_ENGINES = True  # every test here runs on SQLite and on PostgreSQL (conftest)

OTHER = "Rebels denied the report. The ministry stood by it. Nobody else spoke."
AID, OID = article_id_for(TEXT), article_id_for(OTHER)
SHARE = (TEXT.index("They agreed"), TEXT.index(" Critics"))  # all three mark it
CRITICS = (TEXT.index("Critics"), len(TEXT))  # alice and bob mark it
STAMPS = {"alice": "2026-11-21T10:00:00Z", "bob": "2026-11-21T10:05:00Z", "carol": "2026-11-21T10:10:00Z"}
ADJUDICATED_AT = "2026-11-21T12:00:00Z"
LEAD = {"source": "adjudicated", "by": "lead", "reason": "the ministry is a named source", "at": ADJUDICATED_AT}


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def team_files(folder: Path) -> list[Path]:
    """Three annotators' export files and the lead's gold file (one adjudication).

    The shared article: reliability C by all three; stance agree, agree, discuss; the span
    SHARE marked by all three (checkworthy yes, yes, no; credibility 2 by all), CRITICS by
    alice and bob. The other article: stance disagree by alice and bob; the lead adjudicated
    its reliability B."""
    stances = {"alice": "agree", "bob": "agree", "carol": "discuss"}
    files = []
    for who in ("alice", "bob", "carol"):
        marks = [claim(*SHARE, cid=f"{who}-1", labels={"checkworthy": "no" if who == "carol" else "yes",
                                                       "credibility": "2"})]
        if who != "carol":
            marks.append(claim(*CRITICS, cid=f"{who}-2", labels={"checkworthy": "yes"}))
        lines = [record(who, labels={"stance": stances[who], "reliability": "C"}, claims=marks, updated_at=STAMPS[who])]
        if who != "carol":
            lines.append(record(who, labels={"stance": "disagree"}, text=OTHER, updated_at=STAMPS[who]))
        files.append(write_lines(folder / f"{who}.jsonl", *lines))
    lead = {**record("alice", labels={"reliability": "B"}, text=OTHER, updated_at=ADJUDICATED_AT),
            "annotator": None, "gold": {"reliability": LEAD}}
    files.append(write_lines(folder / "lead-gold.jsonl", lead))
    return files


@pytest.fixture
def team_db(db_path: Path, tmp_path: Path) -> Path:
    """A database with the team's files loaded through `load-annotations`."""
    files = team_files(tmp_path)
    result = run("--db", str(db_path), "load-annotations", *map(str, files))
    assert result.exit_code == 0, result.output
    assert result.stdout == ("Read 6 records: 6 loaded, 0 replaced, 0 unchanged, 0 kept (local newer), 0 rejected; "
                             "created 1 story, 2 articles\n")
    return db_path


def export_gold(db_path: Path, out: Path, *options: str) -> list[dict]:
    result = run("--db", str(db_path), "export", "--gold", "-o", str(out), *options)
    assert result.exit_code == 0, result.output
    lines = out.read_bytes().splitlines()
    assert result.stderr == f"Exported {len(lines)} records to {out}\n"
    records = [json.loads(line) for line in lines]
    schema = validator("gold_record.schema.json")
    for item in records:  # the published JSON Schema of gold records
        schema.validate(item)
    return records


def gold_of(records: list[dict]) -> list[tuple]:
    """(article, labels, gold sources, claims as (span, labels, their sources)) per record."""
    return [(r["article"]["id"], r["labels"], r["gold"],
             [((c["start"], c["end"]), c["labels"], c["gold"]) for c in r["claims"]]) for r in records]


def agreed(n: int, of: int) -> dict:
    return {"source": "agreed", "agreed": n, "of": of}


def majority(n: int, of: int) -> dict:
    return {"source": "majority", "agreed": n, "of": of}


def undecided(of: int) -> dict:
    return {"source": "undecided", "of": of}


def test_unanimous_the_default_gold_holds_what_everyone_agreed_on(team_db, tmp_path):
    records = export_gold(team_db, tmp_path / "gold.jsonl")
    assert gold_of(records) == [
        # Stance: 2 of 3 agree, not all: undecided, named with no value.
        (AID, {"reliability": "C"}, {"stance": undecided(3), "reliability": agreed(3, 3)},
         [(SHARE, {"credibility": "2"}, {**agreed(3, 3), "labels": {"credibility": agreed(3, 3)}})]),
        (OID, {"stance": "disagree", "reliability": "B"}, {"stance": agreed(2, 2), "reliability": LEAD}, []),
    ]
    (share,) = records[0]["claims"]
    assert share["exact"] == TEXT[slice(*SHARE)] and share["cluster"] is None and len(share["id"]) == 16
    # Derived gold is as new as the annotations it came from; adjudicated, as its decision.
    assert [r["updated_at"] for r in records] == [STAMPS["carol"], ADJUDICATED_AT]
    with Store.open(team_db) as store:
        assert database_policy(store) == "unanimous"
        assert store.gold(AID) == {} and store.gold_claims(AID) == []  # export wrote nothing back


def test_majority_and_adjudicated_policies_and_the_per_export_override(team_db, tmp_path):
    result = run("--db", str(team_db), "init", "--gold-policy", "majority")
    assert result.exit_code == 0 and result.stdout.endswith("\nGold policy: majority\n")
    majority_gold = gold_of(export_gold(team_db, tmp_path / "majority.jsonl"))
    assert majority_gold == [
        (AID, {"stance": "agree", "reliability": "C"}, {"stance": majority(2, 3), "reliability": agreed(3, 3)},
         [(SHARE, {"checkworthy": "yes", "credibility": "2"},
           {**agreed(3, 3), "labels": {"checkworthy": majority(2, 3), "credibility": agreed(3, 3)}}),
          (CRITICS, {"checkworthy": "yes"}, {**majority(2, 3), "labels": {"checkworthy": agreed(2, 2)}})]),
        (OID, {"stance": "disagree", "reliability": "B"}, {"stance": agreed(2, 2), "reliability": LEAD}, []),
    ]
    only_adjudicated = export_gold(team_db, tmp_path / "adjudicated.jsonl", "--gold-policy", "adjudicated")
    # Every labelled article has a record: what no reviewer decided is undecided.
    assert gold_of(only_adjudicated) == [
        (AID, {}, {"stance": undecided(3), "reliability": undecided(3)}, []),
        (OID, {"reliability": "B"}, {"stance": undecided(2), "reliability": LEAD}, []),
    ]
    assert only_adjudicated[0]["updated_at"] == STAMPS["carol"]
    unanimous = export_gold(team_db, tmp_path / "unanimous.jsonl", "--gold-policy", "unanimous")
    assert [r["labels"] for r in unanimous] == [{"reliability": "C"}, {"stance": "disagree", "reliability": "B"}]
    with Store.open(team_db) as store:
        assert database_policy(store) == "majority"  # the override was for one export
    result = run("--db", str(team_db), "export", "--gold-policy", "majority")
    assert result.exit_code == 2 and "--gold-policy applies to --gold (and to --format hf)" in result.stderr
    result = run("--db", str(team_db), "export", "--gold", "--gold-policy", "most")
    assert result.exit_code == 2 and "'most' is not one of 'adjudicated', 'unanimous', 'majority'" in result.stderr


def _formats(db_path: Path, folder: Path) -> dict[str, Path]:
    """Every format's --gold export of the database (hf: its folder)."""
    written = {}
    for fmt in ("jsonl", "csv", "parquet", "w3c", "claimreview", "fnc1", "hf"):
        out = folder / fmt
        args = ["--db", str(db_path), "export", "--format", fmt, "-o", str(out), "--gold-policy", "majority"]
        result = run(*args) if fmt == "hf" else run(*args[:-2], "--gold", *args[-2:])
        assert result.exit_code == 0, (fmt, result.output)
        written[fmt] = out
    return written


def test_every_format_gives_the_same_gold(team_db, tmp_path):
    files = _formats(team_db, tmp_path)
    records = [json.loads(line) for line in files["jsonl"].read_bytes().splitlines()]
    labels = {(r["story"]["id"], r["article"]["id"]): r["labels"] for r in records}
    spans = {(r["article"]["id"], c["start"], c["end"]) for r in records for c in r["claims"]}
    assert len(labels) == 2 and len(spans) == 2

    rows = list(csv.DictReader(io.StringIO(files["csv"].read_text(encoding="utf-8"))))
    assert {(row["story_id"], row["article_id"]): {f: row[f] for f in ("stance", "reliability") if row[f]}
            for row in rows} == labels
    assert {row["article_id"]: int(row["n_claims"]) for row in rows} == {AID: 2, OID: 0}

    for table in (pq.read_table(files["parquet"]), pq.read_table(files["hf"] / "data" / "gold.parquet")):
        as_rows = table.to_pylist()
        assert {(r["story"]["id"], r["article"]["id"]): {k: v for k, v in r["labels"].items() if v is not None}
                for r in as_rows} == labels
        assert {(r["article"]["id"], c["start"], c["end"]) for r in as_rows for c in r["claims"]} == spans
        assert [{e["field"]: e["source"] for e in r["gold"]} for r in as_rows] == [
            {name: p["source"] for name, p in r["gold"].items()} for r in records]

    items = json.loads(files["w3c"].read_text(encoding="utf-8"))["first"]["items"]
    w3c_labels = {}
    for item in items:
        values = [b["value"] for b in item["body"]]
        if item["motivation"] == "classifying":
            story = next(v.split("=", 1)[1] for v in values if v.startswith("story="))
            key = (story, item["target"]["source"].rsplit(":", 1)[1])
            w3c_labels[key] = dict(v.split("=", 1) for b, v in zip(item["body"], values) if b["purpose"] == "classifying")
    assert w3c_labels == labels
    assert {(i["target"]["source"].rsplit(":", 1)[1], i["target"]["selector"][1]["start"],
             i["target"]["selector"][1]["end"]) for i in items if i["motivation"] == "highlighting"} == spans
    creators = {i["target"]["source"].rsplit(":", 1)[1] + i["motivation"]: i["creator"] for i in items}
    assert creators[OID + "classifying"] == [{"type": "Person", "name": "lead"}, AGREEMENT_AGENT]
    assert creators[AID + "highlighting"] == AGREEMENT_AGENT

    graph = json.loads(files["claimreview"].read_text(encoding="utf-8"))["@graph"]
    graded = {f"claim-{c['id']}": c["labels"]["credibility"] for r in records for c in r["claims"]
              if "credibility" in c["labels"]}
    assert {review["itemReviewed"]["identifier"]: review["reviewRating"]["alternateName"][0] for review in graph} == graded
    assert all(review["author"]["@type"] == "Organization" for review in graph)

    stances = list(csv.reader(io.StringIO((files["fnc1"] / "stances.csv").read_text(encoding="utf-8"))))
    assert stances[1:] == [["They cooperate.", aid, labels[(story, aid)]["stance"]]
                           for story, aid in labels if "stance" in labels[(story, aid)]]


def test_hf_folder_loads_with_every_gold_field_and_its_source(team_db, tmp_path):
    folder = _formats(team_db, tmp_path)["hf"]
    # A cache of its own: `datasets` keys a local folder's cache by its name and card.
    gold = load_dataset(str(folder), "gold", split="train", cache_dir=str(tmp_path / "hf-cache"))
    assert len(gold) == 2
    for row in gold:
        sources = {entry["field"]: entry for entry in row["gold"]}
        present = {name for name, value in row["labels"].items() if value is not None}
        assert present and set(sources) == present
        for name in present:
            entry = sources[name]
            if entry["source"] == "adjudicated":
                assert entry["by"] == "lead" and entry["agreed"] is None
            else:
                assert entry["source"] in ("agreed", "majority") and entry["by"] is None
                assert 2 <= entry["agreed"] <= entry["of"]
        for item in row["claims"]:
            assert item["gold"]["source"] in ("agreed", "majority")
            assert {label["field"] for label in item["gold"]["labels"]} == {
                name for name, value in item["labels"].items() if value is not None}
    card = (folder / "README.md").read_text(encoding="utf-8")
    assert "Gold policy: **majority**" in card
    # Of the values: the other article's reliability (lead); reliability C, stance disagree
    # (agreed); stance agree (majority). Of the claims: SHARE agreed, CRITICS majority.
    assert "- Gold values by source: 1 adjudicated, 2 agreed, 1 majority\n" in card
    assert "- Gold claims by source: 1 agreed, 1 majority\n" in card
    assert '- Fields labelled but not decided yet (`"source": "undecided"`, no value): 0\n' in card
    assert "| stance |" in card and "95% interval" in card


def test_export_load_export_is_byte_identical_with_policy_gold(team_db, tmp_path):
    result = run("--db", str(team_db), "init", "--gold-policy", "majority")
    assert result.exit_code == 0
    first = {}
    for name, options in (("annotations", []), ("gold", ["--gold"])):
        out = tmp_path / f"{name}.jsonl"
        assert run("--db", str(team_db), "export", *options, "-o", str(out)).exit_code == 0
        first[name] = out.read_bytes()
    fresh = tmp_path / "fresh.db"
    assert run("--db", str(fresh), "init", "--gold-policy", "majority").exit_code == 0
    result = run("--db", str(fresh), "load-annotations", str(tmp_path / "annotations.jsonl"), str(tmp_path / "gold.jsonl"))
    assert result.exit_code == 0, result.output
    # The shared article's gold is all derived (skipped); the other's stance is (skipped),
    # its reliability adjudicated (loaded).
    assert result.stdout == (
        "Read 7 records: 6 loaded, 0 replaced, 0 unchanged, 0 kept (local newer), 0 rejected; "
        "created 1 story, 2 articles; skipped 5 derived gold values (agreed or majority; export derives "
        "them again) and 1 gold record with nothing adjudicated\n")
    with Store.open(fresh) as store:
        assert store.gold(AID) == {} and store.gold_claims(AID) == []
        assert list(store.gold(OID)) == ["reliability"]
    for name, options in (("annotations", []), ("gold", ["--gold"])):
        result = run("--db", str(fresh), "export", *options)
        assert result.exit_code == 0
        assert result.stdout_bytes == first[name]


def test_a_derived_gold_entry_that_names_a_reviewer_is_rejected(db_path, tmp_path):
    bad = {**record("alice", labels={"stance": "agree"}), "annotator": None,
           "gold": {"stance": {"source": "agreed", "agreed": 2, "of": 2, "by": "lead"}}}
    path = write_lines(tmp_path / "bad.jsonl", bad)
    result = run("--db", str(db_path), "load-annotations", str(path))
    assert result.exit_code == 1
    assert result.stderr == (f"rejected: {path}:1: not a valid gold record: gold.stance: an agreed gold value has "
                             "agreed and of (agreed <= of, of >= 2), and no by, reason or at\n")
