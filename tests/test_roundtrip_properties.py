"""Round trips by property: for random annotation sets, export -> load into an empty
database -> export gives the same bytes, for the annotation export and the gold export.

Wider than tests/test_load.py's property (one article, one annotator): several stories,
articles and annotators, every label of the scheme, notes and flags, claims with their
own labels linked into clusters, gold labels and gold claims, and text in any script:
combining marks, emoji and ZWJ sequences, right-to-left text and bidi controls, CJK,
astral-plane characters; articles that are in several stories (each story with its own
stance, note and flag, the article-scoped labels and claims shared), and clusters with a
canonical wording of their own. The two exports are loaded in either order.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsmark.exports.jsonl import write_jsonl
from newsmark.schema import load as load_module
from newsmark.schema.load import load_annotations
from newsmark.schema.models import Story
from newsmark.schema.sanitize import article_id_for, sanitize_inline, sanitize_text, text_sha256
from newsmark.schema.store import Store
from tests.gold_records import without_undecided

# Characters that break naive code: combining marks, emoji (astral, with skin tones and
# ZWJ), Hebrew and Arabic (RTL), bidi controls, CJK, a non-BMP letter, odd spaces.
TRICKY = (
    "e\u0301", "\u0301", "\u0327", "a\u0308\u0304", "🤝", "👩🏽‍💻", "🏳️‍🌈", "🇺🇦", "\u05e9\u05dc\u05d5\u05dd",
    "\u0645\u0631\u062d\u0628\u0627", "\u200f", "\u200e", "\u202e", "\u2067", "\u4e2d\u6587", "𝔘𝔫𝔦", "\u00a0",
    "\u3000", "\ufeff", "\u200d", "Ω", "ﬁ", "\u1100\u1161", ". ", "\n", "\t", " ",
)
PIECE = st.sampled_from(TRICKY) | st.text(min_size=1, max_size=12)
RAW_TEXT = st.lists(PIECE, min_size=1, max_size=30).map("".join)
TEXT = RAW_TEXT.map(sanitize_text).filter(lambda t: t.strip() != "")
INLINE = RAW_TEXT.map(sanitize_inline).filter(bool).map(lambda s: s[:60].strip()).filter(bool)
# Names follow the one name rule (schema/names.py): no format characters, single spaces.
NAME = INLINE.map(lambda s: sanitize_inline("".join(c for c in s[:30] if c.isprintable()))).filter(bool)

SETTINGS = settings(max_examples=30, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@contextlib.contextmanager
def batches_of(records: int, *, child: bool = False) -> Iterator[None]:
    """Loads apply files in batches of this many records (small ones cross every path
    between batches: rows held apart by one batch, read or joined by a later one), read in
    a child process with `child` (as big files are)."""
    before = load_module.BATCH_RECORDS, load_module.PIPELINE_BYTES
    load_module.BATCH_RECORDS = records
    if child:
        load_module.PIPELINE_BYTES = 0
    try:
        yield
    finally:
        load_module.BATCH_RECORDS, load_module.PIPELINE_BYTES = before


def export_bytes(store: Store, **options) -> bytes:
    buffer = io.BytesIO()
    write_jsonl(store, buffer, **options)
    return buffer.getvalue()


@st.composite
def annotation_sets(draw):
    """A plan of what to write: stories with articles, and per annotator what they did."""
    story_count = draw(st.integers(1, 3))
    stories = []
    seen_texts: set[str] = set()
    for s in range(story_count):
        articles = []
        for _ in range(draw(st.integers(1, 3))):
            text = draw(TEXT)
            if article_id_for(text) in seen_texts:
                continue
            seen_texts.add(article_id_for(text))
            articles.append({
                "text": text,
                "source": draw(st.none() | INLINE), "title": draw(st.none() | INLINE),
                "byline": draw(st.none() | INLINE), "url": draw(st.none() | INLINE),
                "published": draw(st.none() | st.dates().map(lambda d: d.isoformat())),
            })
        stories.append({"id": f"story-{s}", "title": draw(INLINE), "proposition": draw(INLINE), "articles": articles})
    # Articles also read in other stories: (story, home story, article) memberships.
    for s, story in enumerate(stories):
        story["members"] = [(s, a) for a in range(len(story["articles"]))]
        for home, other in enumerate(stories):
            if home != s:
                story["members"] += [(home, a) for a in range(len(other["articles"])) if draw(st.booleans())]
    annotators = draw(st.lists(NAME, min_size=1, max_size=3, unique=True))
    work = []
    for name in annotators:
        for s, story in enumerate(stories):
            for member in story["members"]:
                if not draw(st.booleans()):
                    continue
                work.append({
                    "annotator": name, "story": s, "member": member,
                    "labels": draw(st.dictionaries(st.sampled_from(["stance", "reliability", "credibility"]),
                                                   st.integers(0, 5), max_size=3)),
                    "note": draw(st.none() | TEXT),
                    "flagged": draw(st.booleans()),
                    "claims": draw(st.lists(st.tuples(st.floats(0, 1), st.floats(0, 1),
                                                      st.dictionaries(st.sampled_from(["credibility", "checkworthy"]),
                                                                      st.integers(0, 5), max_size=2)),
                                            max_size=3)),
                    "link": draw(st.booleans()),
                    "wording": draw(st.none() | INLINE),
                })
    gold = []
    for s, story in enumerate(stories):
        for member in story["members"]:
            if draw(st.booleans()):
                gold.append({
                    "story": s, "member": member, "by": draw(NAME), "reason": draw(st.just("") | TEXT),
                    "labels": draw(st.dictionaries(st.sampled_from(["stance", "reliability", "credibility"]),
                                                   st.integers(0, 5), max_size=3)),
                    "claims": draw(st.lists(st.tuples(st.floats(0, 1), st.floats(0, 1),
                                                      st.dictionaries(st.sampled_from(["credibility", "checkworthy"]),
                                                                      st.integers(0, 5), max_size=2)),
                                            max_size=2)),
                    "cluster": draw(st.booleans()),
                })
    return stories, work, gold


def span_of(text: str, fractions: tuple[float, float]) -> tuple[int, int]:
    start = min(int(fractions[0] * len(text)), len(text) - 1)
    end = max(start + 1, min(len(text), int(fractions[1] * len(text)) + 1))
    return start, end


def value_of(store: Store, field_name: str, pick: int) -> str:
    values = store.scheme.field(field_name).values
    return values[pick % len(values)]


def build(store: Store, plan) -> None:
    """Write the plan through the store's own API (as the app does), each action in the
    story it is made in."""
    stories, work, gold = plan
    ids: list[list[str]] = []
    for story in stories:
        with store.transaction() as conn:
            store.ensure_story(conn, Story(id=story["id"], title=story["title"], proposition=story["proposition"]))
            rows = []
            for art in story["articles"]:
                text = art["text"]
                rows.append((article_id_for(text), story["id"], art["source"], art["url"], art["title"],
                             art["byline"], art["published"], text, text_sha256(text), "{}", "test"))
            store.insert_articles(conn, rows)
        ids.append([row[0] for row in rows])
    with store.transaction() as conn:
        store.add_to_stories(conn, [(story["id"], ids[home][a]) for story in stories for home, a in story["members"]])
    wordings: dict[str, str | None] = {}
    for item in work:
        home, a = item["member"]
        text = stories[home]["articles"][a]["text"]
        aid = ids[home][a]
        story_id = stories[item["story"]]["id"]
        who = item["annotator"]
        for field_name, pick in item["labels"].items():
            store.set_label(aid, who, field_name, value_of(store, field_name, pick), story_id=story_id)
        if item["note"] is not None:
            store.set_note(aid, who, item["note"], story_id=story_id)
        if item["flagged"]:
            store.set_flag(aid, who, True, story_id=story_id)
        claims = []
        for fractions_a, fractions_b, labels in item["claims"]:
            start, end = span_of(text, (fractions_a, fractions_b))
            claim, _ = store.add_claim(aid, who, start, end,
                                       {f: value_of(store, f, pick) for f, pick in labels.items()}, story_id=story_id)
            claims.append(claim.id)
        if not item["labels"] and item["note"] is None and not item["flagged"] and not claims:
            store.set_flag(aid, who, False, story_id=story_id)  # an annotation that is all defaults still exists
        if item["link"]:
            wordings.setdefault(who, item["wording"])
    # Link claims across articles, per annotator (clusters span articles and stories), and
    # give some clusters a wording of their own (`w`).
    by_annotator: dict[str, list[str]] = {}
    for row in store.conn.execute("SELECT annotator, id FROM claims ORDER BY article_id, start, id"):
        by_annotator.setdefault(row[0], []).append(row[1])
    for who, claim_ids in by_annotator.items():
        if who in wordings and len(claim_ids) >= 2:
            cluster, _ = store.link_claims(claim_ids[0], claim_ids[-1], who)
            if wordings[who] is not None:
                store.set_cluster_label(cluster, who, wordings[who])
    for item in gold:
        home, a = item["member"]
        text = stories[home]["articles"][a]["text"]
        aid = ids[home][a]
        story_id = stories[item["story"]]["id"]
        for field_name, pick in item["labels"].items():
            store.set_gold(aid, field_name, value_of(store, field_name, pick), item["by"], item["reason"],
                           story_id=story_id)
        for fractions_a, fractions_b, labels in item["claims"]:
            start, end = span_of(text, (fractions_a, fractions_b))
            store.set_gold_claim(aid, start, end, item["by"], item["reason"],
                                 {f: value_of(store, f, pick) for f, pick in labels.items()},
                                 cluster="gold-cluster" if item["cluster"] else None)


@SETTINGS
@given(plan=annotation_sets(), gold_first=st.booleans(), batch=st.sampled_from([1, 2, 1000]), child=st.booleans())
def test_export_load_export_is_byte_identical(tmp_path_factory, plan, gold_first, batch, child):
    """Each export into an empty database gives its bytes back: the annotations, and the
    gold a reviewer adjudicated (gold the policy derived is not loaded, as it comes from
    annotations: a gold file alone gives back its adjudicated part). Both into one
    database give the same records, the policy's gold included; the order of a story's
    articles is the one the first file naming them gives (an article only the later file
    names comes after the others)."""
    with batches_of(batch, child=child):
        export_load_export(tmp_path_factory, plan, gold_first)


def export_load_export(tmp_path_factory, plan, gold_first) -> None:
    folder: Path = tmp_path_factory.mktemp("roundtrip")
    with Store.open(":memory:") as mine:
        build(mine, plan)
        annotations = export_bytes(mine)
        gold = export_bytes(mine, gold=True)
        adjudicated = export_bytes(mine, gold=True, policy="adjudicated")
    (folder / "annotations.jsonl").write_bytes(annotations)
    (folder / "gold.jsonl").write_bytes(gold)
    files = [folder / "annotations.jsonl", folder / "gold.jsonl"]
    for file, exported, options in ((files[0], annotations, {}),
                                    (files[1], without_undecided(adjudicated), {"gold": True, "policy": "adjudicated"})):
        with Store.open(":memory:") as theirs:
            report = load_annotations(theirs, [file])
            assert report.rejected == [], report.rejected
            # (a gold record that its article's other story's record already settled is
            # unchanged; one holding only derived gold is skipped as derived)
            assert report.loaded + report.unchanged + report.derived == report.read == file.read_bytes().count(b"\n")
            assert export_bytes(theirs, **options) == exported
    with Store.open(":memory:") as theirs:
        report = load_annotations(theirs, files[::-1] if gold_first else files)
        assert report.rejected == [], report.rejected
        assert report.loaded + report.unchanged + report.derived == report.read == (
            annotations.count(b"\n") + gold.count(b"\n"))
        assert sorted(export_bytes(theirs).splitlines()) == sorted(annotations.splitlines())
        assert sorted(export_bytes(theirs, gold=True).splitlines()) == sorted(gold.splitlines())
        if not gold_first:
            assert export_bytes(theirs) == annotations
        # And loading the same files again changes nothing.
        before = (export_bytes(theirs), export_bytes(theirs, gold=True))
        again = load_annotations(theirs, files)
        assert again.unchanged + again.derived == again.read and again.rejected == []
        assert (export_bytes(theirs), export_bytes(theirs, gold=True)) == before


@SETTINGS
@given(plan=annotation_sets(), batch=st.sampled_from([1, 1000]))
def test_no_text_export_loads_where_the_articles_are(tmp_path_factory, plan, batch):
    """`export --no-text` into a database that has the articles (a teammate's copy of the
    same import) gives the same annotation export back."""
    with batches_of(batch):
        no_text_round_trip(tmp_path_factory, plan)


def no_text_round_trip(tmp_path_factory, plan) -> None:
    folder: Path = tmp_path_factory.mktemp("notext")
    with Store.open(":memory:") as mine:
        build(mine, plan)
        annotations = export_bytes(mine)
        no_text = export_bytes(mine, text=False)
    (folder / "no-text.jsonl").write_bytes(no_text)
    stories, _, _ = plan
    with Store.open(":memory:") as theirs:
        build(theirs, (stories, [], []))  # the same articles, no annotations
        report = load_annotations(theirs, [folder / "no-text.jsonl"])
        assert report.rejected == [], report.rejected
        assert export_bytes(theirs) == annotations
        assert export_bytes(theirs, text=False) == no_text
