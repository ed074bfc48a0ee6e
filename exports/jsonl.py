"""The JSONL export (schema_version 2): one record per (story, article, annotator) with an
annotations row, or with `gold=True` one gold record per (story, article) with any gold
under the gold policy (`gold_records`, which every format's --gold reads). See README,
"The export record" and "The gold record".

Annotation records stream in a deterministic order (story id, article import order,
annotator) from one SQL pass: only the keys (story, seq) are sorted, in a subquery; each
article row is then found by its seq and each record's labels and claims come from
correlated subqueries as JSON, so memory stays constant and there is no Python query per
record. Gold records come from analysis.gold's decisions (one small entry per labelled
unit held), then one article query per record.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, BinaryIO

import orjson

from newsmark.analysis.gold import POLICIES, GoldValue, Policy, database_policy, gold_claims, gold_units
from newsmark.schema.models import SCHEMA_VERSION
from newsmark.schema.scheme import Scheme
from newsmark.schema.store import Store, StoreError

def check_filters(store: Store, *, annotators: Sequence[str] | None = None, story: str | None = None) -> None:
    """Raise StoreError naming an unknown story or an annotator with no annotations."""
    if story is not None and store.get_story(story) is None:
        raise StoreError(f"no story {story!r}")
    for name in annotators or ():
        if not store.has_annotations(name):
            raise StoreError(f"no annotations by {name!r}")


def iter_records(
    store: Store,
    *,
    annotators: Sequence[str] | None = None,
    story: str | None = None,
    gold: bool = False,
    text: bool = True,
    policy: Policy | None = None,
) -> Iterator[dict[str, Any]]:
    """The export records (schema_version 2), as dicts in the documented key order,
    streamed in (story id, article import order, annotator) order. Filters are checked at once (StoreError on an unknown
    story or annotator, ValueError for annotators with gold); annotation rows with nothing
    in them are skipped."""
    if gold and annotators:
        raise ValueError("gold records have no annotator: do not pass annotators with gold=True")
    check_filters(store, annotators=annotators, story=story)
    if gold:
        return gold_records(store, policy=policy, story=story, text=text)
    return _annotation_records(store, annotators=list(annotators or ()), story=story, text=text)


def write_jsonl(
    store: Store,
    out: BinaryIO,
    *,
    annotators: Sequence[str] | None = None,
    story: str | None = None,
    gold: bool = False,
    text: bool = True,
    policy: Policy | None = None,
) -> int:
    """Write the records to a binary stream, one orjson line each with `\\n` endings;
    return how many were written."""
    records = iter_records(store, annotators=annotators, story=story, gold=gold, text=text, policy=policy)
    dumps = orjson.dumps
    option = orjson.OPT_APPEND_NEWLINE
    write = out.write
    count = 0
    for record in records:
        write(dumps(record, option=option))
        count += 1
    return count


# --- annotation records ---------------------------------------------------------------


def _annotation_records(
    store: Store, *, annotators: list[str], story: str | None, text: bool
) -> Iterator[dict[str, Any]]:
    order = _field_order(store.scheme)
    loads = orjson.loads
    for row in store.annotation_export_rows(annotators=annotators, story=story, text=text):
        story_id, (s_title, s_prop, annotator, note, flagged, updated_at, labels_json, claims_json) = row[0], row[9:]
        labels = _in_scheme_order(loads(labels_json), order) if labels_json != "{}" else {}
        claims = _claims(loads(claims_json), order) if claims_json != "[]" else []
        if not labels and not claims and note is None and not flagged:
            continue
        yield {
            "schema_version": SCHEMA_VERSION,
            "article": _article(row[1:9], text),
            "story": {"id": story_id, "title": s_title or "", "proposition": s_prop or ""},
            "annotator": annotator,
            "labels": labels,
            "claims": claims,
            "note": note,
            "flagged": bool(flagged),
            "updated_at": updated_at,
        }


def _article(columns: Sequence[Any], text: bool) -> dict[str, Any]:
    """The record's article from the query's eight article columns (id ... text)."""
    aid, source, url, title, byline, published, sha, body = columns
    article = {"id": aid, "source": source, "url": url, "title": title,
               "byline": byline, "published": published, "text_sha256": sha}
    if text:
        article["text"] = body
    return article


def _claim(claim_id: str, start: int, end: int, exact: str, prefix: str, suffix: str,
           labels: dict[str, str] | None, cluster: str | None, wording: str | None,
           order: dict[str, int]) -> dict[str, Any]:
    """One claim of a record, its labels in scheme order."""
    return {"id": claim_id, "start": start, "end": end, "exact": exact, "prefix": prefix, "suffix": suffix,
            "labels": _in_scheme_order(labels, order) if labels else {}, "cluster": cluster,
            "cluster_wording": wording}


def _claims(rows: list[list[Any]], order: dict[str, int]) -> list[dict[str, Any]]:
    rows.sort(key=lambda r: (r[1], r[2], r[0]))
    return [_claim(*r[:6], r[7], r[6], r[8], order) for r in rows]


# --- gold records ---------------------------------------------------------------------


def gold_records(store: Store, *, policy: Policy | None = None, story: str | None = None,
                 text: bool = True) -> Iterator[dict[str, Any]]:
    """The gold records (schema_version 2) under a gold policy (the database's when None;
    ValueError at once for an unknown one): one per (story, article) with any label, gold
    value or gold claim, in (story id, article import order) order; a field annotators
    labelled that nothing decided is in `gold` as undecided, with no value in `labels`. The values and claims
    are what analysis.gold decides; each carries its source (README, "The gold record").
    Every format's --gold comes from here."""
    policy = policy or database_policy(store)
    if policy not in POLICIES:
        raise ValueError(f"unknown gold policy {policy!r} (known: {', '.join(POLICIES)})")
    return _gold_records(store, policy, story, text)


def _gold_records(store: Store, policy: Policy, story: str | None, text: bool) -> Iterator[dict[str, Any]]:
    order = _field_order(store.scheme)
    # Units are keyed, not streamed: gold_units yields them by article id, the export goes
    # by import order. A unit is a few short strings, so memory stays small.
    units = {(unit.story_id, unit.article_id): unit for unit in gold_units(store, policy, story)}
    with_claims = store.articles_with_claims()
    claims_of: dict[str, tuple[list[dict[str, Any]], GoldValue | None]] = {}  # the last article's, reused
    for story_id, article_id in store.story_article_keys(story):
        unit = units.get((story_id, article_id))
        values = unit.values if unit is not None else {}
        # Fields annotators labelled that nothing decided: named, with how many gave a value.
        undecided = {name: unit.given[name] for name in unit.undecided} if unit is not None else {}
        if article_id in with_claims:
            if article_id not in claims_of:
                claims_of = {article_id: _gold_claim_entries(store, article_id, policy, order)}
            claims, latest = claims_of[article_id]
        else:
            claims, latest = [], None
        if not values and not claims and not undecided:
            continue
        row = store.export_article_row(story_id, article_id, text)
        names = sorted(values, key=lambda name: _rank(name, order))
        provenance = {name: values[name].provenance() if name in values else {"source": "undecided", "of": undecided[name]}
                      for name in sorted([*values, *undecided], key=lambda name: _rank(name, order))}
        stamps = [values[name].at for name in names if values[name].source == "adjudicated"]
        if latest is not None:
            provenance["claims"] = latest.provenance()
            stamps.append(latest.at)
        if not stamps or any(p["source"] in ("agreed", "majority") for p in provenance.values()) or any(
                c["gold"]["source"] != "adjudicated" for c in claims):
            # Derived gold is as new as the annotations it was derived from (and a record of
            # undecided fields alone, as its annotations).
            stamps.append(store.annotations_updated(article_id))
        yield {
            "schema_version": SCHEMA_VERSION,
            "article": _article(row[:8], text),
            "story": {"id": story_id, "title": row[8] or "", "proposition": row[9] or ""},
            "annotator": None,
            "labels": {name: values[name].value for name in names},
            "claims": claims,
            "note": None,
            "flagged": False,
            "updated_at": max((stamp for stamp in stamps if stamp), key=_timestamp_key),
            "gold": provenance,
        }


def gold_deciders(sources: Iterable[dict[str, Any]]) -> tuple[list[str], bool]:
    """Who decided gold values, given their sources (a gold record's `gold` entries, a gold
    claim's `gold`): the reviewers who adjudicated any, sorted, and whether any was derived
    by the gold policy from the annotators' agreement (undecided fields decide nothing)."""
    sources = list(sources)
    reviewers = sorted({p["by"] for p in sources if p["source"] == "adjudicated"})
    return reviewers, any(p["source"] in ("agreed", "majority") for p in sources)


def _gold_claim_entries(store: Store, article_id: str, policy: Policy,
                        order: dict[str, int]) -> tuple[list[dict[str, Any]], GoldValue | None]:
    """An article's gold claims as export claims, each with its source and its labels'
    sources under "gold"; and the source of the latest adjudicated one (None if none)."""
    decided = gold_claims(store, article_id, policy)
    if not decided:
        return [], None
    adjudicated = {(row["start"], row["end"]): row for row in store.gold_claims(article_id)}
    marks: dict[tuple[int, int], list[Any]] = {}
    if any(claim.source.source != "adjudicated" for claim in decided):
        for mark in store.claims(article_id):
            marks.setdefault((mark.start, mark.end), []).append(mark)
    entries = []
    for claim in decided:
        span = (claim.start, claim.end)
        if span in adjudicated:
            row = adjudicated[span]
            claim_id, prefix, suffix, cluster = row["id"], row["prefix"], row["suffix"], row["cluster"]
        else:
            # A claim by agreement: the id an adjudication of the span would get, and the
            # cluster its markers share (none when they linked it differently).
            first = marks[span][0]
            clusters = {mark.cluster for mark in marks[span]}
            claim_id, prefix, suffix = store.gold_claim_id_for(article_id, *span), first.prefix, first.suffix
            cluster = first.cluster if len(clusters) == 1 else None
        names = sorted(claim.labels, key=lambda name: _rank(name, order))
        entries.append({
            **_claim(claim_id, claim.start, claim.end, claim.exact, prefix, suffix,
                     {name: claim.labels[name].value for name in names}, cluster,
                     store.cluster_wording(cluster) if cluster else None, order),
            "gold": {**claim.source.provenance(), "labels": {name: claim.labels[name].provenance() for name in names}},
        })
    entries.sort(key=lambda entry: (entry["start"], entry["end"], entry["id"]))
    # The record's "claims" entry: the latest adjudication of its claims.
    latest = max((claim.source for claim in decided if claim.source.source == "adjudicated"),
                 key=lambda source: (_timestamp_key(source.at), source.by, source.reason), default=None)
    return entries, latest


# --- ordering helpers -----------------------------------------------------------------


def _field_order(scheme: Scheme) -> dict[str, int]:
    return {fld.name: index for index, fld in enumerate(scheme.fields)}


def _rank(name: str, order: dict[str, int]) -> tuple[int, str]:
    # Fields the scheme no longer names (should not happen) go last, by name.
    return (order.get(name, len(order)), name)


def _in_scheme_order(values: dict[str, str], order: dict[str, int]) -> dict[str, str]:
    if len(values) < 2:
        return values
    return {name: values[name] for name in sorted(values, key=lambda n: _rank(n, order))}


def _timestamp_key(stamp: str) -> tuple[str, str]:
    # "…:00Z" and "…:00.123Z" must compare by time: split off the fraction.
    head, _, frac = stamp.rstrip("Z").partition(".")
    return head, frac.ljust(6, "0")
