"""CSV export: one row per article per annotator (or per article with --gold), for
spreadsheets and pandas. Columns: story_id, article_id, source, title, annotator, one
column per article-level field of the scheme, n_claims, note, flagged (true/false),
updated_at. Cells are written as they are (no formula escaping): a spreadsheet user
opening exported article titles should keep formula evaluation off.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import BinaryIO

from newsmark.exports.jsonl import iter_records
from newsmark.schema.store import Store


def columns(store: Store) -> list[str]:
    """The header row."""
    fields = [f.name for f in store.scheme.fields_at("article")]
    return ["story_id", "article_id", "source", "title", "annotator", *fields, "n_claims", "note", "flagged", "updated_at"]


def write_csv(
    store: Store,
    out: BinaryIO,
    *,
    annotators: Sequence[str] | None = None,
    story: str | None = None,
    gold: bool = False,
    text: bool = True,
) -> int:
    """Write the CSV (UTF-8, `\\r\\n` rows as RFC 4180 says) and return how many data rows."""
    fields = [f.name for f in store.scheme.fields_at("article")]
    records = iter_records(store, annotators=annotators, story=story, gold=gold, text=False)
    stream = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
    try:
        writer = csv.writer(stream)
        writer.writerow(columns(store))
        count = 0
        for record in records:
            article = record["article"]
            writer.writerow([
                article["story_id"], article["id"], article["source"] or "", article["title"] or "",
                record["annotator"] or "",
                *(record["labels"].get(name, "") for name in fields),
                len(record["claims"]), record["note"] or "",
                "true" if record["flagged"] else "false", record["updated_at"],
            ])
            count += 1
        stream.flush()
    finally:
        stream.detach()  # leave `out` open for the caller
    return count
