"""W3C Web Annotation export (JSON-LD, https://www.w3.org/TR/annotation-model/).

One AnnotationCollection document whose single AnnotationPage lists, for every export
record (story x article x annotator, or story x article for gold): one annotation of the
whole article carrying the record's article-level labels (the story's stance and the
article-scoped fields) with a "tagging" body `story=<id>` naming the story they were
given in, and one annotation per claim whose target pins the claim's span with a
TextQuoteSelector (exact, prefix, suffix) and a TextPositionSelector (start, end in code
points, as the W3C model counts them). A claim is a span of the article whatever the
story, so an article in several stories gets each claim's annotation once. Every label
is its own body, a TextualBody with purpose "classifying" and value `field=value`; a
claim's cluster, the flag and the word "claim" are "tagging" bodies, the note a
"commenting" body. The
article is named `urn:newsmark:article:<id>` (its URL, when known, is the target's
`scope`), so annotations from different databases agree on what they annotate. The
collection and its one page have ids derived from their content (see `write_w3c`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from typing import Any, BinaryIO

import orjson

from newsmark.analysis.gold import Policy
from newsmark.exports.jsonl import gold_deciders, iter_records
from newsmark.schema.store import Store

CONTEXT = "http://www.w3.org/ns/anno.jsonld"
# The creator of gold the policy derived from the annotators' agreement (no one reviewed it).
AGREEMENT_AGENT = {"type": "Software", "name": "newsmark gold policy (annotators' agreement)"}


def article_iri(article_id: str) -> str:
    """The IRI an annotation's target uses for an article."""
    return f"urn:newsmark:article:{article_id}"


def _body(purpose: str, value: str) -> dict[str, str]:
    return {"type": "TextualBody", "purpose": purpose, "value": value, "format": "text/plain"}


def _creator(record: dict[str, Any], claim: dict[str, Any] | None = None) -> dict[str, str] | list[dict[str, str]]:
    """The annotator; for gold, who decided the record's labels (or the claim): the
    reviewers, and the gold policy for what it derived."""
    if record["annotator"] is not None:
        return {"type": "Person", "name": record["annotator"]}
    if claim is not None:
        sources = [claim["gold"]]
    else:
        sources = [p for name, p in record["gold"].items() if name in record["labels"]]
    reviewers, derived = gold_deciders(sources)
    agents = [{"type": "Person", "name": name} for name in reviewers]
    if derived:
        agents.append(AGREEMENT_AGENT)
    return agents[0] if len(agents) == 1 else agents


def _annotation_id(*parts: str) -> str:
    return "urn:newsmark:annotation:" + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:24]


def annotations(record: dict[str, Any], seen_claims: set[str] | None = None) -> Iterator[dict[str, Any]]:
    """The W3C annotations of one export record (see the module docstring); claims whose
    annotation id is in `seen_claims` were written with another story's record, and are
    not again (the ids written are added to it)."""
    article = record["article"]
    story_id = record["story"]["id"]
    who = record["annotator"] if record["annotator"] is not None else "gold"
    target: dict[str, Any] = {"source": article_iri(article["id"])}
    if article.get("url"):
        target["scope"] = article["url"]
    stamps = {"created": record["updated_at"], "modified": record["updated_at"]}
    common = {"creator": _creator(record), **stamps}
    bodies = [_body("classifying", f"{name}={value}") for name, value in record["labels"].items()]
    if bodies or record["flagged"] or record["note"]:
        bodies.append(_body("tagging", f"story={story_id}"))
    if record["flagged"]:
        bodies.append(_body("tagging", "flagged"))
    if record["note"]:
        bodies.append(_body("commenting", record["note"]))
    if bodies:
        yield {
            "@context": CONTEXT, "id": _annotation_id(story_id, article["id"], who, "article"), "type": "Annotation",
            "motivation": "classifying", **common, "body": bodies, "target": dict(target),
        }
    for claim in record["claims"]:
        claim_annotation = _annotation_id(article["id"], who, "claim", claim["id"])
        if seen_claims is not None:
            if claim_annotation in seen_claims:
                continue
            seen_claims.add(claim_annotation)
        claim_bodies = [_body("tagging", "claim")]
        claim_bodies += [_body("classifying", f"{name}={value}") for name, value in claim["labels"].items()]
        if claim["cluster"]:
            claim_bodies.append(_body("tagging", f"cluster={claim['cluster']}"))
        yield {
            "@context": CONTEXT, "id": claim_annotation,
            "type": "Annotation", "motivation": "highlighting",
            "creator": _creator(record, claim) if "gold" in claim else common["creator"], **stamps,
            "body": claim_bodies,
            "target": {
                **target,
                "selector": [
                    {"type": "TextQuoteSelector", "exact": claim["exact"], "prefix": claim["prefix"],
                     "suffix": claim["suffix"]},
                    {"type": "TextPositionSelector", "start": claim["start"], "end": claim["end"]},
                ],
            },
        }


def write_w3c(
    store: Store,
    out: BinaryIO,
    *,
    annotators: Sequence[str] | None = None,
    story: str | None = None,
    gold: bool = False,
    text: bool = True,
    policy: Policy | None = None,
) -> int:
    """Write one AnnotationCollection (JSON-LD) to a binary stream, streaming its items;
    return how many annotations were written. `text` is accepted for the common writer
    signature: W3C annotations carry quotes, not the article text.

    The collection and its page have ids (a MUST of model §5.1 and §5.2): they name the
    content, a digest of every annotation's id and modification time, so the same
    annotations exported twice give the same ids and different ones different ids. Keys
    of a JSON object are unordered, so the ids follow the items they are computed from.
    """
    records = iter_records(store, annotators=annotators, story=story, gold=gold, text=False, policy=policy)
    out.write(b'{"@context":"' + CONTEXT.encode() + b'","type":"AnnotationCollection",'
              b'"label":"newsmark annotations","first":{"type":"AnnotationPage","startIndex":0,"items":[')
    digest = hashlib.sha256()
    count = 0
    seen_claims: set[str] = set()  # claims' annotations written (memory: one id per claim)
    for record in records:
        for annotation in annotations(record, seen_claims):
            if count:
                out.write(b",\n")
            else:
                out.write(b"\n")
            out.write(orjson.dumps(annotation))
            digest.update(f"{annotation['id']}\x1f{annotation['modified']}\x1e".encode())
            count += 1
    collection = f"urn:newsmark:collection:{digest.hexdigest()[:32]}"
    page = f"{collection}:page:1"
    out.write(b"\n],\"id\":" + orjson.dumps(page) + b',"partOf":' + orjson.dumps(collection)
              + b'},"total":' + str(count).encode() + b',"id":' + orjson.dumps(collection) + b"}\n")
    return count
