"""schema.org ClaimReview export (JSON-LD, https://schema.org/ClaimReview).

One ClaimReview per claim cluster per reviewer (an annotator, or the adjudicated gold):
`claimReviewed` is the cluster's short canonical wording (the records' `cluster_wording`,
else the claim's own text), `itemReviewed` the Claim with one `appearance` per article
carrying it and `about` the story (or, for claims of articles in several stories, each
story) they were read in, and `reviewRating`
the Admiralty information credibility the reviewer gave the cluster's claims (the most
frequent grade; a tie goes to the more doubtful one; 6 only when no claim got a grade from
1 to 5). A claim linked to no cluster is a cluster of its own.

schema.org's Rating has its best value highest, so the Admiralty scale is turned over:
1 confirmed → ratingValue 5 … 5 improbable → 1 (bestRating 5, worstRating 1), and the
Admiralty grade and wording stay in `alternateName` ("2 probably true"), the textual
rating fact-check readers show. Grade 6 ("truth cannot be judged") is on no scale: its
Rating has only the alternateName. A cluster whose claims have no credibility grade at
all has no verdict, so it gets no ClaimReview (a review without a rating is invalid).
Every review has a `url` when a base URL is given (`--url-base`; fact-check markup
requires one), and its `@id` is built from percent-encoded parts, so any annotator name
makes a valid IRI.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Any, BinaryIO
from urllib.parse import quote

import orjson

from newsmark.analysis.gold import Policy
from newsmark.exports.jsonl import gold_deciders, iter_records
from newsmark.exports.w3c import AGREEMENT_AGENT, article_iri
from newsmark.schema.store import Store

CREDIBILITY_FIELD = "credibility"
CANNOT_BE_JUDGED = "6"


def _rating(store: Store, grades: list[str]) -> dict[str, Any] | None:
    if not grades:
        return None
    # "Cannot be judged" counts only when nobody judged: it is no point on the scale.
    judged = [g for g in grades if g != CANNOT_BE_JUDGED] or grades
    counts = Counter(judged)
    grade = max(counts, key=lambda g: (counts[g], g))
    field = store.scheme.field(CREDIBILITY_FIELD)
    label = field.label(grade) if field else None
    wording = label.description if label and label.description else grade
    rating: dict[str, Any] = {"@type": "Rating",
                              "alternateName": f"{grade} {wording}" if wording != grade else grade}
    if grade != CANNOT_BE_JUDGED and grade.isdigit() and 1 <= int(grade) <= 5:
        rating.update(ratingValue=6 - int(grade), bestRating=5, worstRating=1)
    return rating


def review_id(cluster: str, reviewer: str) -> str:
    """The review's IRI: its parts percent-encoded, so spaces or any other character in a
    name keep it a valid IRI."""
    return f"urn:newsmark:claimreview:{quote(cluster, safe='')}:{quote(reviewer or 'gold', safe='')}"


def review_url(url_base: str, cluster: str, reviewer: str) -> str:
    """Where the review is published: `url_base` joined with the review's own path."""
    return f"{url_base.rstrip('/')}/{quote(cluster, safe='')}/{quote(reviewer or 'gold', safe='')}"


def _appearance(article: dict[str, Any]) -> dict[str, Any]:
    work: dict[str, Any] = {"@type": "CreativeWork", "@id": article_iri(article["id"])}
    if article.get("url"):
        work["url"] = article["url"]
    if article.get("title"):
        work["headline"] = article["title"]
    if article.get("source"):
        work["publisher"] = {"@type": "Organization", "name": article["source"]}
    if article.get("published"):
        work["datePublished"] = article["published"]
    return work


def reviews(store: Store, records: Iterator[dict[str, Any]], url_base: str | None = None) -> Iterator[dict[str, Any]]:
    """ClaimReviews from export records, in (cluster, reviewer) order. A cluster may hold
    claims of articles in different stories, and a claim comes with each story's record
    of its article (graded once): the reviews are gathered over all records first (memory:
    one entry per claim, not per record)."""
    pending: dict[tuple[str, str], dict[str, Any]] = {}
    graded: set[tuple[str, str]] = set()
    for record in records:
        reviewer = record["annotator"] if record["annotator"] is not None else ""
        for claim in record["claims"]:
            cluster = claim["cluster"] or f"claim-{claim['id']}"
            entry = pending.setdefault((cluster, reviewer), {
                "label": claim.get("cluster_wording") or claim["exact"], "articles": {},
                "grades": [], "at": record["updated_at"], "stories": {}, "sources": [],
            })
            if "gold" in claim:
                entry["sources"].append(claim["gold"])
            entry["articles"].setdefault(record["article"]["id"], record["article"])
            entry["stories"].setdefault(record["story"]["id"], record["story"])
            entry["at"] = max(entry["at"], record["updated_at"])
            grade = claim["labels"].get(CREDIBILITY_FIELD)
            if grade is not None and (reviewer, claim["id"]) not in graded:
                graded.add((reviewer, claim["id"]))
                entry["grades"].append(grade)
    yield from _flush(store, pending, url_base)


def _flush(store: Store, pending: dict[tuple[str, str], dict[str, Any]],
           url_base: str | None) -> Iterator[dict[str, Any]]:
    for (cluster, reviewer), entry in sorted(pending.items()):
        rating = _rating(store, entry["grades"])
        if rating is None:
            continue
        about = [{"@type": "Event", "identifier": s["id"], "name": s["title"]} for s in entry["stories"].values()]
        if reviewer:
            author: Any = {"@type": "Person", "name": reviewer}
        else:
            reviewers, derived = gold_deciders(entry["sources"])
            author = [{"@type": "Person", "name": n} for n in reviewers]
            if derived or not author:
                author.append({"@type": "Organization", "name": AGREEMENT_AGENT["name"]})
            author = author[0] if len(author) == 1 else author
        review: dict[str, Any] = {
            "@type": "ClaimReview",
            "@id": review_id(cluster, reviewer),
            "claimReviewed": entry["label"],
            "itemReviewed": {
                "@type": "Claim",
                "identifier": cluster,
                "appearance": [_appearance(a) for a in entry["articles"].values()],
                "about": about[0] if len(about) == 1 else about,
            },
            "author": author,
            "datePublished": entry["at"][:10],
            "reviewRating": rating,
        }
        if url_base:
            review["url"] = review_url(url_base, cluster, reviewer)
        yield review


def write_claimreview(
    store: Store,
    out: BinaryIO,
    *,
    annotators: Sequence[str] | None = None,
    story: str | None = None,
    gold: bool = False,
    text: bool = True,
    policy: Policy | None = None,
    url_base: str | None = None,
) -> int:
    """Write one JSON-LD document (`@graph` of ClaimReviews); return how many reviews.
    With `url_base` every review gets a `url` under it."""
    records = iter_records(store, annotators=annotators, story=story, gold=gold, text=False, policy=policy)
    out.write(b'{"@context":"https://schema.org","@graph":[')
    count = 0
    for review in reviews(store, records, url_base):
        out.write(b",\n" if count else b"\n")
        out.write(orjson.dumps(review))
        count += 1
    out.write(b"\n]}\n")
    return count
