"""The shape of the W3C Web Annotation, ClaimReview and CSV exports."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from click.testing import CliRunner

from newsmark.exports import FORMATS, writer_for
from newsmark.exports.claimreview import write_claimreview
from newsmark.exports.csv_export import columns, write_csv
from newsmark.exports.w3c import AGREEMENT_AGENT, write_w3c
from tests.test_align import UNRELATED, make_copy, read_seed
from tests.test_clusters import claim_span
from tests.test_grouping import add_articles
from newsmark.schema.models import Story
from newsmark.tui.cli import cli

NOTE = 'Says "officials", plural,\nand cites nobody'


@pytest.fixture
def annotated(store):
    """Three articles, two annotators, claims in a cluster, a lone claim, a note, a flag, gold."""
    real = read_seed("003")
    copy = make_copy(real)[0]
    ids = add_articles(store, "s", [("Original", real), ("Copy", copy), ("Fete", UNRELATED)])
    original, copy_id, fete = ids
    texts = {original: real, copy_id: copy, fete: UNRELATED}
    for who, stance, grade in (("alice", "agree", "2"), ("bob", "discuss", "3")):
        store.set_label(original, who, "stance", stance)
        store.set_label(original, who, "credibility", grade)
        first, _ = store.add_claim(original, who, *claim_span(real, "menace to its rule"), {"credibility": grade})
        second, _ = store.add_claim(copy_id, who, *claim_span(copy, "menace to its rule"), {"credibility": "6"})
        store.link_claims(first.id, second.id, who)
    lone, _ = store.add_claim(fete, "alice", *claim_span(UNRELATED, "marrow contest"), {"credibility": "6"})
    store.set_label(fete, "alice", "stance", "unrelated")
    store.set_note(fete, "alice", NOTE)
    store.set_flag(fete, "alice", True)
    cluster = store.get_claim(first.id).cluster
    store.set_cluster_label(cluster, "bob", "Taliban fight ISIS-K")
    store.set_gold(original, "stance", "agree", "carol", "both read it as support")
    return store, ids, texts, lone


def export(store, writer, **filters) -> tuple[bytes, int]:
    out = io.BytesIO()
    count = writer(store, out, **filters)
    return out.getvalue(), count


def test_formats_are_registered():
    assert writer_for("w3c") is write_w3c and writer_for("claimreview") is write_claimreview
    assert writer_for("csv") is write_csv and "jsonl" in FORMATS


def test_w3c_annotations_and_selectors_match_the_text(annotated):
    store, (original, copy_id, fete), texts, lone = annotated
    data, count = export(store, write_w3c)
    document = json.loads(data)
    assert document["@context"] == "http://www.w3.org/ns/anno.jsonld"
    assert document["type"] == "AnnotationCollection" and document["total"] == count
    items = document["first"]["items"]
    assert document["first"]["type"] == "AnnotationPage" and len(items) == count
    # alice: 2 labelled articles + 3 claims; bob: 1 labelled article + 2 claims
    assert count == 8
    assert len({a["id"] for a in items}) == count
    fields = {f.name for f in store.scheme.fields}
    for annotation in items:
        assert annotation["@context"] == "http://www.w3.org/ns/anno.jsonld" and annotation["type"] == "Annotation"
        assert annotation["creator"]["type"] == "Person" and annotation["creator"]["name"] in ("alice", "bob")
        assert annotation["created"].endswith("Z") and annotation["motivation"] in ("classifying", "highlighting")
        assert annotation["body"]
        for body in annotation["body"]:
            assert body["type"] == "TextualBody" and body["purpose"] in ("classifying", "tagging", "commenting")
            if body["purpose"] == "classifying":
                name, _, value = body["value"].partition("=")
                assert name in fields and value
        article_id = annotation["target"]["source"].removeprefix("urn:newsmark:article:")
        text = texts[article_id]
        selectors = annotation["target"].get("selector")
        if selectors is None:
            continue
        quote, position = selectors
        assert quote["type"] == "TextQuoteSelector" and position["type"] == "TextPositionSelector"
        assert text[position["start"] : position["end"]] == quote["exact"]
        assert text[: position["start"]].endswith(quote["prefix"])
        assert text[position["end"] :].startswith(quote["suffix"])
        assert {"type": "TextualBody", "purpose": "tagging", "value": "claim", "format": "text/plain"} in annotation["body"]
    fete_note = next(a for a in items if a["target"]["source"].endswith(fete) and "selector" not in a["target"])
    values = [b["value"] for b in fete_note["body"]]
    assert values == ["stance=unrelated", "story=s", "flagged", NOTE]


def test_w3c_filters_and_gold(annotated):
    store = annotated[0]
    document = json.loads(export(store, write_w3c, annotators=["bob"])[0])
    assert {a["creator"]["name"] for a in document["first"]["items"]} == {"bob"}
    gold = json.loads(export(store, write_w3c, gold=True)[0])["first"]["items"]
    # carol's stance of the original; the claim both annotators marked in the original and
    # in the copy, gold by their agreement (unanimous, the default policy).
    assert [(a["motivation"], a["creator"]) for a in gold] == [
        ("classifying", {"type": "Person", "name": "carol"}),
        ("highlighting", AGREEMENT_AGENT), ("highlighting", AGREEMENT_AGENT)]
    assert gold[0]["body"][0]["value"] == "stance=agree"
    only_adjudicated = json.loads(export(store, write_w3c, gold=True, policy="adjudicated")[0])["first"]["items"]
    assert [(a["id"], a["creator"], a["body"]) for a in only_adjudicated] == [
        (gold[0]["id"], gold[0]["creator"], gold[0]["body"])]


def test_claimreview_per_cluster_with_admiralty_rating(annotated):
    store, (original, copy_id, fete), texts, lone = annotated
    data, count = export(store, write_claimreview)
    document = json.loads(data)
    assert document["@context"] == "https://schema.org"
    reviews = document["@graph"]
    assert count == len(reviews) == 3  # alice's cluster, bob's cluster, alice's lone claim
    by_author = {(r["author"]["name"], r["itemReviewed"]["identifier"]): r for r in reviews}
    for review in reviews:
        assert review["@type"] == "ClaimReview" and review["claimReviewed"]
        assert review["itemReviewed"]["@type"] == "Claim"
        assert review["datePublished"][:2] == "20"
        rating = review["reviewRating"]
        assert rating["@type"] == "Rating" and rating["alternateName"]
        if "ratingValue" in rating:  # schema.org: the best value is the highest
            assert rating["bestRating"] == 5 and rating["worstRating"] == 1
    alice = next(r for (who, _), r in by_author.items() if who == "alice" and r["itemReviewed"]["identifier"] != f"claim-{lone.id}")
    appearances = sorted(a["@id"] for a in alice["itemReviewed"]["appearance"])
    assert appearances == sorted(f"urn:newsmark:article:{i}" for i in (original, copy_id))
    assert {a["headline"] for a in alice["itemReviewed"]["appearance"]} == {"Original", "Copy"}
    # Claims graded 2 and 6: "cannot be judged" gives way to the real grade; Admiralty 2 is
    # schema.org 4 of 5, its wording kept.
    assert alice["reviewRating"]["ratingValue"] == 4 and alice["reviewRating"]["alternateName"] == "2 probably true"
    bob = next(r for (who, _), r in by_author.items() if who == "bob")
    assert bob["claimReviewed"] == "Taliban fight ISIS-K" and bob["reviewRating"]["ratingValue"] == 3
    assert "url" not in bob  # no --url-base given
    lone_review = by_author[("alice", f"claim-{lone.id}")]
    assert "ratingValue" not in lone_review["reviewRating"]
    assert lone_review["reviewRating"]["alternateName"] == "6 truth cannot be judged"
    assert lone_review["claimReviewed"] == texts[fete][lone.start : lone.end]


# Characters RFC 3987 never allows in an IRI.
_NOT_IN_IRI = re.compile(r'[\s<>"{}|\\^`\x00-\x1f\x7f]')


def test_claimreview_ratings_urls_and_ids_for_any_name(store):
    ids = add_articles(store, "s", [("One", read_seed("003")), ("Two", UNRELATED)])
    texts = {ids[0]: read_seed("003"), ids[1]: UNRELATED}
    for grade, who in (("1", "Mary Ann"), ("5", "Zoë/ü?#x"), ("6", "bob")):
        store.add_claim(ids[0], who, *claim_span(texts[ids[0]], "menace to its rule"), {"credibility": grade})
    store.add_claim(ids[1], "carol", *claim_span(UNRELATED, "marrow contest"), {})  # no grade: no verdict
    data, count = export(store, write_claimreview, url_base="https://checks.example/reviews/")
    reviews = json.loads(data)["@graph"]
    assert count == len(reviews) == 3
    by_name = {r["author"]["name"]: r for r in reviews}
    assert set(by_name) == {"Mary Ann", "Zoë/ü?#x", "bob"}  # carol's ungraded claim is no review
    assert by_name["Mary Ann"]["reviewRating"] == {
        "@type": "Rating", "alternateName": "1 confirmed by other sources",
        "ratingValue": 5, "bestRating": 5, "worstRating": 1,
    }
    assert by_name["Zoë/ü?#x"]["reviewRating"]["ratingValue"] == 1
    assert by_name["bob"]["reviewRating"] == {"@type": "Rating", "alternateName": "6 truth cannot be judged"}
    for review in reviews:
        assert not _NOT_IN_IRI.search(review["@id"]) and not _NOT_IN_IRI.search(review["url"])
        assert review["url"].startswith("https://checks.example/reviews/")
    assert by_name["Mary Ann"]["@id"].endswith(":Mary%20Ann")
    assert by_name["Zoë/ü?#x"]["url"].endswith("/Zo%C3%AB%2F%C3%BC%3F%23x")
    assert len({r["@id"] for r in reviews}) == len({r["url"] for r in reviews}) == 3


def test_csv_for_spreadsheets_has_a_bom_and_inert_formulas(store):
    hostile = ["=HYPERLINK(\"http://evil\",\"x\")", "+1+1", "-2+3", "@SUM(A1)", "björn"]
    ids = add_articles(store, "s", [(title, f"{UNRELATED} {n}") for n, title in enumerate(hostile)])
    for article_id in ids:
        store.set_note(article_id, "alice", "=1+1 in a note")
    plain, _ = export(store, write_csv)
    assert not plain.startswith(b"\xef\xbb\xbf") and b"\r\n=HYPERLINK" not in plain
    data, count = export(store, write_csv, spreadsheet=True)
    assert count == len(ids)
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert sorted(r["title"] for r in rows) == sorted(["'" + t if t[0] in "=+-@" else t for t in hostile])
    assert {r["note"] for r in rows} == {"'=1+1 in a note"}
    assert "björn" in data.decode("utf-8-sig")


def test_csv_one_row_per_article_per_annotator(annotated):
    store, (original, copy_id, fete), texts, lone = annotated
    data, count = export(store, write_csv)
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    assert rows[0] == columns(store) == [
        "story_id", "article_id", "source", "title", "annotator", "stance", "reliability", "credibility",
        "n_claims", "note", "flagged", "updated_at",
    ]
    body = rows[1:]
    assert count == len(body) == 5
    keys = [(r[1], r[4]) for r in body]
    assert keys == sorted(keys, key=lambda k: ([original, copy_id, fete].index(k[0]), k[1]))  # import order
    row = next(r for r in body if r[1] == fete)
    assert row[:9] == ["s", fete, "", "Fete", "alice", "unrelated", "", "", "1"]
    assert row[9] == NOTE and row[10] == "true" and row[11].endswith("Z")
    alice_original = next(r for r in body if r[1] == original and r[4] == "alice")
    assert alice_original[5:11] == ["agree", "", "2", "1", "", "false"]
    assert data.count(b"\r\n") == len(rows)  # rows end in CRLF (RFC 4180); the note keeps its LF
    gold = list(csv.reader(io.StringIO(export(store, write_csv, gold=True)[0].decode(), newline="")))
    assert gold[1][1] == original and gold[1][4] == "" and gold[1][5] == "agree"


@pytest.mark.parametrize("fmt", ["w3c", "claimreview", "csv"])
def test_export_command_writes_each_format(annotated, database, fmt):
    store = annotated[0]
    expected = export(store, FORMATS[fmt])[0]
    result = CliRunner().invoke(cli, ["--db", database, "export", "--format", fmt, "-o", "-"])
    assert result.exit_code == 0, result.output
    assert result.stdout_bytes == expected


@pytest.fixture
def two_stories(annotated):
    """The annotated story's original article is also in story "t", where alice reads it
    as disagreeing: one stance per story, one reliability grade, the same claims."""
    store, (original, copy_id, fete), texts, lone = annotated
    store.upsert_story(Story(id="t", title="T", proposition="Nothing happened."))
    with store.transaction() as conn:
        store.add_to_stories(conn, [("t", original)])
    store.set_label(original, "alice", "stance", "disagree", story_id="t")
    store.set_label(original, "alice", "reliability", "B", story_id="t")
    return store, original


def test_an_article_in_two_stories_has_a_row_in_each(two_stories):
    store, original = two_stories
    rows = [r for r in csv.DictReader(io.StringIO(export(store, write_csv)[0].decode()))
            if r["article_id"] == original and r["annotator"] == "alice"]
    assert [(r["story_id"], r["stance"], r["reliability"], r["n_claims"]) for r in rows] == [
        ("s", "agree", "B", "1"), ("t", "disagree", "B", "1")]


def test_w3c_tags_each_story_and_writes_a_claim_once(two_stories):
    store, original = two_stories
    items = json.loads(export(store, write_w3c, annotators=["alice"])[0])["first"]["items"]
    assert len({a["id"] for a in items}) == len(items)
    whole = [[b["value"] for b in a["body"]] for a in items
             if a["target"]["source"].endswith(original) and "selector" not in a["target"]]
    assert whole == [["stance=agree", "reliability=B", "credibility=2", "story=s"],
                     ["stance=disagree", "reliability=B", "credibility=2", "story=t"]]
    claims = [a for a in items if a["target"]["source"].endswith(original) and "selector" in a["target"]]
    assert len(claims) == 1


def test_claimreview_of_a_claim_read_in_two_stories_is_one_review(two_stories):
    store, original = two_stories
    reviews = json.loads(export(store, write_claimreview, annotators=["alice"])[0])["@graph"]
    assert len({r["@id"] for r in reviews}) == len(reviews) == 2
    cluster = next(r for r in reviews if len(r["itemReviewed"]["appearance"]) == 2)
    assert [e["identifier"] for e in cluster["itemReviewed"]["about"]] == ["s", "t"]
    assert cluster["reviewRating"]["alternateName"] == "2 probably true"
