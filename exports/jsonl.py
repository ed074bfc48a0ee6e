"""The JSONL export (schema_version 2): one record per (story, article, annotator) with an
annotations row, or with `gold=True` one gold record per (story, article) where any gold
applies. See README, "The export record".

Records stream in a deterministic order (story id, article import order, annotator) from
one SQL pass: only the keys (story, seq) are sorted, in a subquery; each article row is
then found by its seq and each record's labels and claims come from correlated
subqueries as JSON, so memory stays constant and there is no Python query per record.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, BinaryIO

import orjson

from newsmark.schema.models import SCHEMA_VERSION
from newsmark.schema.scheme import Scheme
from newsmark.schema.store import Store, StoreError

_ARTICLE_COLUMNS = "a.id, a.source, a.url, a.title, a.byline, a.published, a.text_sha256"

# Claims as [id, start, end, exact, prefix, suffix, cluster, {field: value}, cluster wording] arrays.
_CLAIMS_SUBQUERY = """
    (SELECT json_group_array(json_array(c.id, c.start, c."end", c.exact, c.prefix, c.suffix, c.cluster,
            json((SELECT json_group_object(cl.field, cl.value) FROM claim_labels cl WHERE cl.claim_id = c.id)),
            (SELECT k.label FROM clusters k WHERE k.id = c.cluster)))
       FROM claims c WHERE c.article_id = an.article_id AND c.annotator = an.annotator)
"""
# The story's story-scoped labels and the article-scoped ones (story_id '').
_LABELS_SUBQUERY = """
    (SELECT json_group_object(l.field, l.value) FROM labels l
      WHERE l.article_id = an.article_id AND l.story_id IN ('', an.story_id) AND l.annotator = an.annotator)
"""
# Gold claims as [id, start, end, exact, prefix, suffix, {labels}, cluster, by, reason, at, cluster wording].
_GOLD_CLAIMS_SUBQUERY = """
    (SELECT json_group_array(json_array(g.id, g.start, g."end", g.exact, g.prefix, g.suffix, json(g.labels),
            g.cluster, g.by, g.reason, g.at, (SELECT k.label FROM clusters k WHERE k.id = g.cluster)))
       FROM gold_claims g WHERE g.article_id = a.id)
"""
_GOLD_SUBQUERY = """
    (SELECT json_group_array(json_array(g.field, g.value, g.by, g.reason, g.at))
       FROM gold g WHERE g.article_id = a.id AND g.story_id IN ('', k.story_id))
"""


def check_filters(store: Store, *, annotators: Sequence[str] | None = None, story: str | None = None) -> None:
    """Raise StoreError naming an unknown story or an annotator with no annotations."""
    if story is not None and store.get_story(story) is None:
        raise StoreError(f"no story {story!r}")
    for name in annotators or ():
        found = store.conn.execute("SELECT 1 FROM annotations WHERE annotator = ? LIMIT 1", (name,)).fetchone()
        if found is None:
            raise StoreError(f"no annotations by {name!r}")


def iter_records(
    store: Store,
    *,
    annotators: Sequence[str] | None = None,
    story: str | None = None,
    gold: bool = False,
    text: bool = True,
) -> Iterator[dict[str, Any]]:
    """The export records (schema_version 2), as dicts in the documented key order,
    streamed in (story id, article import order, annotator) order. Filters are checked at once (StoreError on an unknown
    story or annotator, ValueError for annotators with gold); annotation rows with nothing
    in them are skipped."""
    if gold and annotators:
        raise ValueError("gold records have no annotator: do not pass annotators with gold=True")
    check_filters(store, annotators=annotators, story=story)
    if gold:
        return _gold_records(store, story=story, text=text)
    return _annotation_records(store, annotators=list(annotators or ()), story=story, text=text)


def write_jsonl(
    store: Store,
    out: BinaryIO,
    *,
    annotators: Sequence[str] | None = None,
    story: str | None = None,
    gold: bool = False,
    text: bool = True,
) -> int:
    """Write the records to a binary stream, one orjson line each with `\\n` endings;
    return how many were written."""
    records = iter_records(store, annotators=annotators, story=story, gold=gold, text=text)
    dumps = orjson.dumps
    option = orjson.OPT_APPEND_NEWLINE
    write = out.write
    count = 0
    for record in records:
        write(dumps(record, option=option))
        count += 1
    return count


# --- annotation records ---------------------------------------------------------------


def annotation_query(
    *, annotators: Sequence[str] = (), story: str | None = None, text: bool = True
) -> tuple[str, list[Any]]:
    """The one SQL statement (and its parameters) behind the annotation records."""
    where: list[str] = []
    params: list[Any] = []
    if story is not None:
        where.append("n.story_id = ?")
        params.append(story)
    if annotators:
        where.append(f"n.annotator IN ({', '.join('?' * len(annotators))})")
        params.extend(annotators)
    params += params  # the filters apply to the keys and to the rows they lead to
    # Only the (story, seq) keys of annotated articles are sorted (a few bytes each, never
    # the texts); CROSS JOIN keeps them the outer loop, in that order, each article found
    # by its seq (the rowid) and its annotators by the annotations primary key, whose
    # (article_id, story_id, annotator) order gives annotator order. The LIMIT keeps
    # SQLite (3.41+) from dropping the subquery's ORDER BY, as the outer query has none.
    sql = f"""
        SELECT k.story_id, {_ARTICLE_COLUMNS}, {"a.text" if text else "NULL"}, s.title, s.proposition,
               an.annotator, an.note, an.flagged, an.updated_at, {_LABELS_SUBQUERY}, {_CLAIMS_SUBQUERY}
          FROM (SELECT DISTINCT n.story_id, b.seq FROM annotations n
                  JOIN articles b ON b.id = n.article_id
                 {"WHERE " + " AND ".join(where) if where else ""}
                 ORDER BY n.story_id, b.seq LIMIT -1) k
          CROSS JOIN articles a ON a.seq = k.seq
          CROSS JOIN annotations an ON an.article_id = a.id AND an.story_id = k.story_id
          LEFT JOIN stories s ON s.id = k.story_id
         {"WHERE " + " AND ".join(w.replace("n.", "an.") for w in where) if where else ""}
    """
    return sql, params


def _annotation_records(
    store: Store, *, annotators: list[str], story: str | None, text: bool
) -> Iterator[dict[str, Any]]:
    sql, params = annotation_query(annotators=annotators, story=story, text=text)
    order = _field_order(store.scheme)
    loads = orjson.loads
    for row in store.conn.execute(sql, params):
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


def gold_query(*, story: str | None = None, text: bool = True) -> tuple[str, list[Any]]:
    """The one SQL statement (and its parameters) behind the gold records: a (story,
    article) has one when the story holds a story-scoped gold value of the article, or
    the article has an article-scoped gold value or a gold claim (then in each of its
    stories)."""
    where, params = ("WHERE u.story_id = ?", [story]) if story is not None else ("", [])
    sql = f"""
        SELECT k.story_id, {_ARTICLE_COLUMNS}, {"a.text" if text else "NULL"}, s.title, s.proposition,
               {_GOLD_SUBQUERY}, {_GOLD_CLAIMS_SUBQUERY}
          FROM (SELECT u.story_id, b.seq FROM (
                    SELECT story_id, article_id FROM gold WHERE story_id != ''
                    UNION
                    SELECT m.story_id, m.article_id FROM story_articles m
                     WHERE m.article_id IN (SELECT article_id FROM gold WHERE story_id = ''
                                            UNION SELECT article_id FROM gold_claims)) u
                  JOIN articles b ON b.id = u.article_id
                 {where}
                 ORDER BY u.story_id, b.seq LIMIT -1) k
          CROSS JOIN articles a ON a.seq = k.seq
          LEFT JOIN stories s ON s.id = k.story_id
    """
    return sql, params


def _gold_records(store: Store, *, story: str | None, text: bool) -> Iterator[dict[str, Any]]:
    sql, params = gold_query(story=story, text=text)
    order = _field_order(store.scheme)
    loads = orjson.loads
    for row in store.conn.execute(sql, params):
        story_id, (s_title, s_prop, gold_json, claims_json) = row[0], row[9:]
        gold_rows = sorted(loads(gold_json), key=lambda r: _rank(r[0], order))
        claim_rows = loads(claims_json)
        labels = {r[0]: r[1] for r in gold_rows}
        provenance = {r[0]: {"by": r[2], "reason": r[3], "at": r[4]} for r in gold_rows}
        stamps = [r[4] for r in gold_rows]
        claims = []
        if claim_rows:
            claim_rows.sort(key=lambda r: (r[1], r[2], r[0]))
            claims = [_claim(*r[:8], r[11], order) for r in claim_rows]
            # One provenance for all gold claims: that of the latest decision about them.
            latest = max(claim_rows, key=lambda r: (r[10], r[8], r[9]))
            provenance["claims"] = {"by": latest[8], "reason": latest[9], "at": latest[10]}
            stamps.append(latest[10])
        yield {
            "schema_version": SCHEMA_VERSION,
            "article": _article(row[1:9], text),
            "story": {"id": story_id, "title": s_title or "", "proposition": s_prop or ""},
            "annotator": None,
            "labels": labels,
            "claims": claims,
            "note": None,
            "flagged": False,
            "updated_at": max(stamps, key=_timestamp_key),
            "gold": provenance,
        }


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
