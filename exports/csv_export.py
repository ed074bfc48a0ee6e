"""CSV export: one row per export record, that is per (story, article, annotator) (or per
(story, article) with --gold), for spreadsheets and pandas; an article in two stories has
a row in each, with that story's story-scoped labels (stance) and its article-scoped ones.
Columns: story_id, article_id, source, title, annotator, one column per article-level
field of the scheme, n_claims, note, flagged (true/false), updated_at. By default cells are written as they are, for programs that read data.

`spreadsheet=True` (`export --format csv --spreadsheet`) writes for Excel, LibreOffice and
Google Sheets instead: a UTF-8 byte-order mark, so Excel reads "björn" as UTF-8, and every
cell that a spreadsheet would take for a formula (beginning with `=`, `+`, `-`, `@`, a
tab or a carriage return, as OWASP lists them) is prefixed with `'`, so a hostile title
such as `=HYPERLINK(...)` shows as text and never runs.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import BinaryIO

from newsmark.analysis.gold import Policy
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
    policy: Policy | None = None,
    spreadsheet: bool = False,
) -> int:
    """Write the CSV (UTF-8, `\\r\\n` rows as RFC 4180 says) and return how many data rows;
    `spreadsheet` adds the BOM and escapes formula cells (see the module docstring)."""
    fields = [f.name for f in store.scheme.fields_at("article")]
    records = iter_records(store, annotators=annotators, story=story, gold=gold, text=False, policy=policy)
    stream = io.TextIOWrapper(out, encoding="utf-8-sig" if spreadsheet else "utf-8", newline="", write_through=True)
    try:
        writer = csv.writer(stream)
        writerow = (lambda row: writer.writerow([_inert(cell) for cell in row])) if spreadsheet else writer.writerow
        writerow(columns(store))
        count = 0
        for record in records:
            article = record["article"]
            writerow([
                record["story"]["id"], article["id"], article["source"] or "", article["title"] or "",
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


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _inert(cell: object) -> object:
    """A cell a spreadsheet shows as text: a leading `'` before what would start a formula."""
    if isinstance(cell, str) and cell.startswith(_FORMULA_START):
        return "'" + cell
    return cell
