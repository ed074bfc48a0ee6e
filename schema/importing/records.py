"""Foreign items as newsmark export records, ready for `load-annotations`.

The text goes through the same sanitising and id rule as `newsmark import`, and every
span is moved with it (`sanitize_with_offsets`): a CRLF, an escape sequence or a
decomposed accent before a span does not shift it. Labels are mapped by a `LabelMap`;
what is not mapped is reported, not guessed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from newsmark.schema.importing.base import ForeignError, ForeignItem
from newsmark.schema.importing.mapping import LabelMap
from newsmark.schema.models import SCHEMA_VERSION, utc_stamp
from newsmark.schema.names import InvalidName, check_name
from newsmark.schema.sanitize import (
    article_id_for,
    for_terminal,
    sanitize_inline,
    sanitize_with_offsets,
    text_sha256,
)
from newsmark.schema.store import claim_context, claim_id_for


@dataclass
class Converted:
    """One item as a record, or why it is not one; `unmapped` lists its labels that the
    mapping does not name (the rest of the item is still taken)."""

    line: int
    record: dict[str, Any] | None = None
    error: str | None = None
    unmapped: list[str] = field(default_factory=list)


def to_records(
    items: Iterable[ForeignItem | ForeignError],
    mapping: LabelMap,
    *,
    story: dict[str, str],
    annotator: str,
    now: str,
) -> Iterator[Converted]:
    """Records (schema_version 1 export records) for the items of one file, in file order.
    `story` is `{"id", "title", "proposition"}`; `annotator` names items whose tool named
    nobody; `now` stamps items whose tool gave no time."""
    for item in items:
        if isinstance(item, ForeignError):
            yield Converted(line=item.line or 0, error=str(item))
            continue
        try:
            yield _convert(item, mapping, story, annotator, now)
        except ForeignError as exc:
            yield Converted(line=item.line, error=str(exc))


def _convert(item: ForeignItem, mapping: LabelMap, story: dict[str, str], default_annotator: str,
             now: str) -> Converted:
    try:
        text, offsets = sanitize_with_offsets(item.text)
    except ValueError as exc:
        raise ForeignError(str(exc)) from None
    if not text.strip():
        raise ForeignError("the text is empty")
    try:
        annotator = check_name(item.annotator or default_annotator)
    except InvalidName as exc:
        raise ForeignError(str(exc)) from None
    unmapped: list[str] = []
    labels: dict[str, str] = {}

    def take(target: dict[str, str], values: dict[str, str], where: str) -> None:
        for name, value in values.items():
            if target.get(name, value) != value:
                raise ForeignError(f"{where} gives {name} both {target[name]!r} and {value!r}")
            target[name] = value

    for name in item.labels:
        meaning = mapping.meaning(name)
        if meaning is None:
            unmapped.append(name)
        elif meaning.claim:
            raise ForeignError(f"label '{for_terminal(name)}' of the whole text is mapped to a claim; "
                               "only spans can be claims")
        else:
            take(labels, meaning.labels, "the text's labels")
    article_id = article_id_for(text)
    claims: dict[tuple[int, int], dict[str, str]] = {}
    for span in item.spans:
        if not 0 <= span.start < span.end <= len(item.text):
            raise ForeignError(f"span {span.start}-{span.end} lies outside the text ({len(item.text)} characters)")
        meaning = mapping.meaning(span.label)
        if meaning is None:
            unmapped.append(span.label)
            continue
        if not meaning.claim:
            take(labels, meaning.labels, f"span {span.start}-{span.end}")
            continue
        start, end = offsets.start(span.start), offsets.end(span.end)
        if end <= start:
            raise ForeignError(f"span {span.start}-{span.end} holds nothing once control characters are removed")
        take(claims.setdefault((start, end), {}), meaning.labels, f"span {span.start}-{span.end}")
    export_claims = []
    for (start, end), claim_labels in sorted(claims.items()):
        exact, prefix, suffix = claim_context(text, start, end)
        export_claims.append({
            "id": claim_id_for(article_id, annotator, start, end), "start": start, "end": end,
            "exact": exact, "prefix": prefix, "suffix": suffix, "labels": claim_labels, "cluster": None,
            "cluster_wording": None,
        })
    record = {
        "schema_version": SCHEMA_VERSION,
        "article": {
            "id": article_id, "source": sanitize_inline(item.source),
            "url": sanitize_inline(item.url), "title": sanitize_inline(item.title), "byline": None,
            "published": None, "text_sha256": text_sha256(text), "text": text,
        },
        "story": dict(story),
        "annotator": annotator,
        "labels": labels,
        "claims": export_claims,
        "note": None,
        "flagged": False,
        "updated_at": _timestamp(item.at) or now,
    }
    return Converted(line=item.line, record=record, unmapped=sorted(set(unmapped)))


def _timestamp(value: str | None) -> str | None:
    """A foreign time as our UTC stamp with milliseconds, None if it is not one."""
    if not value:
        return None
    try:
        instant = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=dt.UTC)
    return utc_stamp(instant.astimezone(dt.UTC))


def merged(converted: Iterable[Converted]) -> Iterator[Converted]:
    """One record per (article, annotator) of a file: tools write one line per task, and a
    text labelled in two tasks (categories in one, spans in another) is one annotation
    here. Labels and claims are combined; a later item that gives a field another value
    is reported (its other values still join), and the latest time stamps the record."""
    combined: dict[tuple[str, str], Converted] = {}
    reports: list[Converted] = []
    for item in converted:
        if item.record is None:
            reports.append(item)
            continue
        key = (item.record["article"]["id"], item.record["annotator"])
        first = combined.get(key)
        if first is None:
            combined[key] = item
            continue
        first.unmapped = sorted(set(first.unmapped) | set(item.unmapped))
        record, into = item.record, first.record
        for name, value in record["labels"].items():
            if into["labels"].setdefault(name, value) != value:
                reports.append(Converted(line=item.line, error=(
                    f"gives {name} {value!r} where line {first.line} gave {into['labels'][name]!r} "
                    "for the same text and annotator; the first is kept")))
        claims = {(c["start"], c["end"]): c for c in into["claims"]}
        for claim in record["claims"]:
            known = claims.setdefault((claim["start"], claim["end"]), claim)
            if known is not claim:
                for name, value in claim["labels"].items():
                    known["labels"].setdefault(name, value)
        into["claims"] = [claims[span] for span in sorted(claims)]
        into["updated_at"] = max(into["updated_at"], record["updated_at"])
    yield from reports
    yield from combined.values()
