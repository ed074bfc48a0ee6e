"""FNC-1 out: a folder of `stances.csv` (`Headline,Body ID,Stance`) and `bodies.csv`
(`Body ID,articleBody`), the two files of the Fake News Challenge's stage 1, so a dataset
made in newsmark drops into any FNC-1 pipeline.

One stance row per (story, article) whose stance one annotator (or the gold) gave: the
headline is the story's proposition (its title when it has none), the stance the story's
stance label. A story loaded from FNC-1 (`load-annotations --from fnc1`) writes back the
rows it came from (its meta `fnc1_rows`: a Body ID per row, repeats included), an article
from FNC-1 its first Body ID, any other article its id. `bodies.csv` holds every Body ID
of the articles written, once, with the article's text. Rows are written in story order
and, within a story, in import order; both files end lines with `\\n` as FNC-1's do.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from newsmark.analysis.gold import Policy
from newsmark.exports.jsonl import gold_records
from newsmark.schema.importing.fnc1 import BODIES_HEADER, META_BODY_IDS, META_ROWS, STANCE_FIELD, STANCES_HEADER
from newsmark.schema.store import Store

STANCES_FILE = "stances.csv"
BODIES_FILE = "bodies.csv"


def stance_rows(store: Store, *, annotator: str | None = None, story: str | None = None,
                policy: Policy | None = None) -> Iterator[tuple[str, str, str, str]]:
    """(headline, Body ID, stance, article id) for each FNC-1 stance row: `annotator`'s
    stances, or when `annotator` is None the gold ones under the gold policy (the
    database's when None), as every --gold export has them (see the module docstring)."""
    if annotator is None:
        rows = _gold_stances(store, story, policy)
    else:
        rows = _annotator_stances(store, annotator, story)
    current, story_rows = None, {}
    for story_id, headline, story_meta, article_id, article_meta, stance in rows:
        if story_id != current:
            current, story_rows = story_id, story_meta().get(META_ROWS, {})
        body_ids = story_rows.get(article_id)
        if not body_ids:
            body_ids = article_meta.get(META_BODY_IDS, [article_id])[:1]
        for body_id in body_ids:
            yield headline, body_id, stance, article_id


def _annotator_stances(store: Store, annotator: str, story: str | None) -> Iterator[tuple]:
    """(story id, headline, story meta reader, article id, article meta, stance) of an annotator."""
    rows = store.annotator_stance_rows(STANCE_FIELD, annotator, story)
    for story_id, headline, story_meta, article_id, article_meta, stance in rows:
        yield story_id, headline, (lambda text=story_meta: orjson.loads(text)), article_id, orjson.loads(article_meta), stance


def _gold_stances(store: Store, story: str | None, policy: Policy | None) -> Iterator[tuple]:
    """The same for the gold stances, taken from the gold records (one source of gold)."""
    for record in gold_records(store, policy=policy, story=story, text=False):
        stance = record["labels"].get(STANCE_FIELD)
        article_meta = store.visible_article_meta(record["article"]["id"]) if stance is not None else None
        if article_meta is None:
            continue
        story_id = record["story"]["id"]
        headline = record["story"]["proposition"] or record["story"]["title"]
        yield story_id, headline, (lambda sid=story_id: store.get_story(sid).meta), record["article"]["id"], \
            article_meta, stance


def _writer(out: BinaryIO) -> tuple[io.TextIOWrapper, Any]:
    stream = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
    return stream, csv.writer(stream, lineterminator="\n")


def write_stances(store: Store, out: BinaryIO, *, annotator: str | None = None, story: str | None = None,
                  policy: Policy | None = None) -> tuple[int, dict[str, list[str]]]:
    """Write `stances.csv` to a binary stream; return how many rows, and the Body IDs
    written for each article (for `write_bodies`)."""
    stream, writer = _writer(out)
    written: dict[str, list[str]] = {}
    count = 0
    try:
        writer.writerow(STANCES_HEADER)
        for headline, body_id, stance, article_id in stance_rows(store, annotator=annotator, story=story, policy=policy):
            writer.writerow((headline, body_id, stance))
            count += 1
            ids = written.setdefault(article_id, [])
            if body_id not in ids:
                ids.append(body_id)
        stream.flush()
    finally:
        stream.detach()  # leave `out` open for the caller
    return count, written


def write_bodies(store: Store, out: BinaryIO, written: dict[str, list[str]]) -> int:
    """Write `bodies.csv`: for each article in `written` (in import order), every Body ID
    it has (those of its meta, then any other one the stances used) with its text; return
    how many rows."""
    stream, writer = _writer(out)
    count = 0
    ids = list(written)
    try:
        writer.writerow(BODIES_HEADER)
        for article_id, meta, text in store.article_bodies(ids):
            body_ids = meta.get(META_BODY_IDS, [])
            for body_id in body_ids + [b for b in written[article_id] if b not in body_ids]:
                writer.writerow((body_id, text))
                count += 1
        stream.flush()
    finally:
        stream.detach()
    return count


def write_fnc1(store: Store, folder: Path, *, annotator: str | None = None, story: str | None = None,
               policy: Policy | None = None) -> dict[str, int]:
    """Write `stances.csv` and `bodies.csv` into `folder` (which exists): `annotator`'s
    stances, or the gold (under `policy`) when None. Returns the rows written, {"stances": N, "bodies": N}."""
    with (folder / STANCES_FILE).open("wb") as out:
        stances, written = write_stances(store, out, annotator=annotator, story=story, policy=policy)
    with (folder / BODIES_FILE).open("wb") as out:
        bodies = write_bodies(store, out, written)
    return {"stances": stances, "bodies": bodies}
