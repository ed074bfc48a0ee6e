"""Parquet export with one fixed Arrow schema, and a Hugging Face dataset folder.

Every file newsmark writes from one database has the same schema, whatever its rows hold:
annotation and gold records share it (`annotator` null for gold, `gold` null for
annotations), a column that is null throughout one file still has its type, so
`datasets`, polars, pandas and DuckDB read several files together with no options. The
schema follows the export record (README, "The export record"):

    schema_version int32, article struct<id, source, url, title, byline, published
    (date32), text_sha256, text>, story struct<id, title, proposition>, annotator string,
    labels struct<one string per article-level field of the scheme>, claims
    list<struct<id, start int64, end int64, exact, prefix, suffix, labels struct<one
    string per claim-level field>, cluster, cluster_wording>>, note string,
    flagged bool, updated_at timestamp[ms, UTC],
    gold list<struct<field, source, by, reason, at timestamp[ms, UTC], agreed int32, of
    int32>> (the JSONL record's gold map as a list; the key "claims" is the entry whose
    field is "claims"; by, reason and at are null for derived values, agreed and of for
    adjudicated ones)

and in gold records each claim's `gold`: struct<source, by, reason, at, agreed, of,
labels list<struct<field, source, by, reason, at, agreed, of>>> (null in annotation records).

pyarrow is an optional extra: `pip install 'newsmark[parquet]'`.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from newsmark.analysis.gold import Policy, database_policy
from newsmark.exports.jsonl import gold_records, iter_records
from newsmark.schema.scheme import Scheme
from newsmark.schema.store import Store

if TYPE_CHECKING:
    import pyarrow as pa

BATCH_RECORDS = 2_000
EXTRA_HINT = "install the parquet extra: pip install 'newsmark[parquet]'"


def _pyarrow():
    try:
        import pyarrow
        import pyarrow.parquet  # noqa: F401 - the writer
    except ImportError as exc:
        raise RuntimeError(f"--format parquet and hf need pyarrow ({EXTRA_HINT})") from exc
    return pyarrow


def record_schema(scheme: Scheme) -> pa.Schema:
    """The Arrow schema of every record of a database with this scheme."""
    pa = _pyarrow()
    text = pa.string()
    article_labels = pa.struct([(f.name, text) for f in scheme.fields_at("article")] or [("_none", text)])
    claim_labels = pa.struct([(f.name, text) for f in scheme.fields_at("claim")] or [("_none", text)])
    stamp = pa.timestamp("ms", tz="UTC")
    # A gold value's source (analysis.gold.GoldValue.provenance), one shape everywhere.
    source = [("source", text), ("by", text), ("reason", text), ("at", stamp), ("agreed", pa.int32()), ("of", pa.int32())]
    return pa.schema([
        ("schema_version", pa.int32()),
        ("article", pa.struct([
            ("id", text), ("source", text), ("url", text), ("title", text),
            ("byline", text), ("published", pa.date32()), ("text_sha256", text), ("text", text),
        ])),
        ("story", pa.struct([("id", text), ("title", text), ("proposition", text)])),
        ("annotator", text),
        ("labels", article_labels),
        ("claims", pa.list_(pa.struct([
            ("id", text), ("start", pa.int64()), ("end", pa.int64()), ("exact", text), ("prefix", text),
            ("suffix", text), ("labels", claim_labels), ("cluster", text), ("cluster_wording", text),
            ("gold", pa.struct([*source, ("labels", pa.list_(pa.struct([("field", text), *source])))])),
        ]))),
        ("note", text),
        ("flagged", pa.bool_()),
        ("updated_at", stamp),
        ("gold", pa.list_(pa.struct([("field", text), *source]))),
    ])


def _instant(stamp: str) -> dt.datetime:
    return dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def _row(record: dict[str, Any]) -> dict[str, Any]:
    """A JSONL record in the Arrow schema's shape."""
    article = dict(record["article"])
    if article.get("published"):
        article["published"] = dt.date.fromisoformat(article["published"])
    gold = record.get("gold")
    claims = record["claims"]
    if gold is not None:
        claims = [{**claim, "gold": {**_source(claim["gold"]), "labels": [
            {"field": name, **_source(p)} for name, p in claim["gold"]["labels"].items()]}} for claim in claims]
    return {
        **record,
        "article": article,
        "claims": claims,
        "updated_at": _instant(record["updated_at"]),
        "gold": None if gold is None else [{"field": name, **_source(p)} for name, p in gold.items()],
    }


def _source(provenance: dict[str, Any]) -> dict[str, Any]:
    """A gold entry's source in the Arrow shape: every key, null where it does not apply."""
    return {"source": provenance["source"], "by": provenance.get("by"), "reason": provenance.get("reason"),
            "at": _instant(provenance["at"]) if provenance.get("at") else None,
            "agreed": provenance.get("agreed"), "of": provenance.get("of")}


def record_batches(store: Store, schema: pa.Schema, **filters: Any) -> Iterator[pa.RecordBatch]:
    """The records as Arrow batches of BATCH_RECORDS rows (memory stays bounded)."""
    pa = _pyarrow()
    batch: list[dict[str, Any]] = []
    for record in iter_records(store, **filters):
        batch.append(_row(record))
        if len(batch) == BATCH_RECORDS:
            yield pa.RecordBatch.from_pylist(batch, schema=schema)
            batch = []
    if batch:
        yield pa.RecordBatch.from_pylist(batch, schema=schema)


def write_parquet(
    store: Store,
    out: BinaryIO,
    *,
    annotators: Sequence[str] | None = None,
    story: str | None = None,
    gold: bool = False,
    text: bool = True,
    policy: Policy | None = None,
) -> int:
    """Write the records as one Parquet file to a binary stream; return how many."""
    pq = _pyarrow().parquet
    schema = record_schema(store.scheme).with_metadata(_hf_metadata(store.scheme))
    count = 0
    with pq.ParquetWriter(out, schema, compression="zstd") as writer:
        for batch in record_batches(store, schema, annotators=annotators, story=story, gold=gold, text=text,
                                    policy=policy):
            writer.write_batch(batch)
            count += batch.num_rows
    return count


# --- Hugging Face `datasets` -------------------------------------------------------------


def hf_features(schema: pa.Schema) -> dict[str, Any]:
    """The `datasets` Features of the schema, in the JSON form of `Features.to_dict()`
    (so that `datasets` need not be installed to write them)."""
    return {field.name: _feature(field.type) for field in schema}


def _feature(kind: Any) -> Any:
    pa = _pyarrow()
    if pa.types.is_struct(kind):
        return {kind.field(i).name: _feature(kind.field(i).type) for i in range(kind.num_fields)}
    if pa.types.is_list(kind):
        return {"feature": _feature(kind.value_type), "_type": "List"}
    names = {pa.string(): "string", pa.int32(): "int32", pa.int64(): "int64", pa.bool_(): "bool",
             pa.date32(): "date32", pa.timestamp("ms", tz="UTC"): "timestamp[ms, tz=UTC]"}
    return {"dtype": names[kind], "_type": "Value"}


def _hf_metadata(scheme: Scheme) -> dict[bytes, bytes]:
    import orjson

    features = hf_features(record_schema(scheme))
    return {b"huggingface": orjson.dumps({"info": {"features": features}})}


def write_hf(
    store: Store,
    folder: Path,
    *,
    annotators: Sequence[str] | None = None,
    story: str | None = None,
    text: bool = True,
    agreement: dict[str, Any] | None = None,
    policy: Policy | None = None,
) -> dict[str, int]:
    """Write a Hugging Face dataset folder: `data/annotations.parquet`, `data/gold.parquet`
    (when there is any gold under the gold `policy`, the database's when None) and a
    dataset card `README.md` whose YAML names the two configs (`annotations`, the default,
    and `gold`). `agreement` is the `agreement --json` document to print in the card
    (computed by the caller). Returns rows per config."""
    policy = policy or database_policy(store)
    data = folder / "data"
    data.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    for config, gold in (("annotations", False), ("gold", True)):
        target = data / f"{config}.parquet"
        if gold and annotators:
            continue
        with target.open("wb") as out:
            counts[config] = write_parquet(store, out, annotators=annotators, story=story, gold=gold, text=text,
                                           policy=policy)
        if counts[config] == 0 and gold:
            target.unlink()
            del counts[config]
    (folder / "README.md").write_text(dataset_card(store, counts, story=story, agreement=agreement, policy=policy), encoding="utf-8")
    return counts


def dataset_card(store: Store, counts: dict[str, int], *, story: str | None,
                 agreement: dict[str, Any] | None, policy: Policy) -> str:
    """The dataset card: YAML configs, then the fields and what their labels mean (the
    scheme's wording, Admiralty grades included), who annotated, how far they agreed,
    how gold was decided, and where the articles came from."""
    # The articles of the export's stories, each once (an article may be in several).
    articles, stories, outlets, people = store.export_summary(story)
    lines = ["---", "configs:"]
    for config in counts:
        default = "\n  default: true" if config == "annotations" else ""
        lines += [f"- config_name: {config}{default}", "  data_files:", "  - split: train",
                  f"    path: data/{config}.parquet"]
    lines += ["---", "", "# newsmark annotations", "",
              f"{counts.get('annotations', 0)} annotation records and {counts.get('gold', 0)} gold records "
              f"over {articles} articles in {stories} stories, exported by newsmark "
              f"(export record schema_version 2: one record per story, article and annotator; "
              "one fixed Arrow schema for both configs).", "",
              "## Fields and what their labels mean", ""]
    for fld in store.scheme.fields:
        levels = " and ".join(fld.level)
        lines.append(f"- **{fld.name}** ({levels} level, {fld.kind}): " + "; ".join(
            f"`{label.value}` {label.description}".rstrip() + (" (counted as missing)" if label.missing else "")
            for label in fld.labels))
    lines += ["", "Claims are spans of the article text in Unicode code points, end exclusive "
              "(`start`, `end`), with the quoted `exact` text, up to 32 characters of `prefix` and "
              "`suffix`, a `cluster` linking the same claim across articles and the cluster's "
              "`cluster_wording`. An article in several stories has a record in each: story-scoped "
              "fields (stance) hold that story's value, article-scoped ones the same everywhere.", "",
              "## Annotators", ""]
    lines += [f"- {_md(name)}: {n} articles" for name, n in people] or ["- none"]
    lines += ["", "## Agreement", ""]
    if agreement:
        bootstrap = agreement.get("bootstrap") or {}
        lines += [f"Krippendorff's α per field with its bootstrap 95% confidence interval (Hayes & "
                  f"Krippendorff 2007; {bootstrap.get('resamples', '?')} resamples, seed {bootstrap.get('seed', '?')}), "
                  "as `newsmark agreement --json` gives them.", "",
                  "| field | Krippendorff's α | 95% interval | level | units | annotators |",
                  "|---|---|---|---|---|---|"]
        for name, figures in agreement.get("fields", {}).items():
            alpha = "undefined" if figures["alpha"] is None else f"{figures['alpha']:.3f}"
            interval = figures.get("alpha_ci")
            ci = "undefined" if interval is None else f"[{interval[0]:.3f}, {interval[1]:.3f}]"
            lines.append(f"| {name} | {alpha} | {ci} | {figures['level']} | {figures['units']} "
                         f"| {len(figures['annotators'])} |")
    else:
        lines.append("Not computed for this export.")
    lines += ["", "## Gold", "", f"Gold policy: **{policy}** ({POLICY_WORDING[policy]}).", "",
              "A reviewer's adjudication in `newsmark review` always decides. Every gold value says "
              "where it came from in the `gold` column (one entry per field; the entry `claims` is "
              "the latest adjudication of the gold claims) and every gold claim in its own `gold` "
              "(with one entry per claim label): `source` is `adjudicated` (with `by`, `reason` and "
              "`at`), `agreed` (all `of` annotators who gave the field a value gave this one) or "
              "`majority` (`agreed` of `of`).", "",
              *_gold_sources(store, policy, story), "",
              "## Where the articles come from", ""]
    lines += [f"- {_md(source)}: {n}" for source, n in outlets] or ["- none"]
    return "\n".join(lines) + "\n"


def _gold_sources(store: Store, policy: Policy, story: str | None) -> list[str]:
    """How many gold values and claims came from each source, as card lines."""
    values: Counter[str] = Counter()
    claims: Counter[str] = Counter()
    undecided = 0
    for record in gold_records(store, policy=policy, story=story, text=False):
        values.update(p["source"] for name, p in record["gold"].items() if name in record["labels"])
        claims.update(claim["gold"]["source"] for claim in record["claims"])
        undecided += sum(p["source"] == "undecided" for p in record["gold"].values())
    return [f"- {what} by source: " + (", ".join(f"{counts[source]} {source}" for source in
                                                  ("adjudicated", "agreed", "majority") if counts[source]) or "none")
            for what, counts in (("Gold values", values), ("Gold claims", claims))] + [
        f"- Fields labelled but not decided yet (`\"source\": \"undecided\"`, no value): {undecided}"]


POLICY_WORDING = {
    "adjudicated": "only values a reviewer adjudicated are gold",
    "unanimous": "a value is gold when a reviewer adjudicated it, or when every annotator who gave "
                 "the field a value gave it, at least two of them",
    "majority": "a value is gold when a reviewer adjudicated it, or when more than half of the "
                "annotators who gave the field a value, at least two of them, gave it",
}


def _md(value: str) -> str:
    """A name as Markdown text: no markup, no line breaks."""
    return " ".join(str(value).split()).replace("|", "\\|").replace("*", "\\*").replace("_", "\\_").replace("`", "'")
