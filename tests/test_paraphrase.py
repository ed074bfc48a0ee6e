"""Claim suggestions that find paraphrases (issue 13, point 5): the known pairs of
tests/fixtures/paraphrases.jsonl (bench/make_paraphrases.py says where each came from),
the issue's own example, and a story past the prefilter's size, searched directly and on
the annotate screen."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.bench_overview import story_texts
from bench.bench_paraphrase import BEFORE, SUGGESTIONS, found, load, recall
from newsmark.analysis.budget import Budget
from newsmark.analysis.clusters import PREFILTER_FROM, index_article, search_matches
from newsmark.analysis.wording import names, terms
from newsmark.schema.models import Story
from newsmark.schema.sanitize import article_id_for, text_sha256
from newsmark.schema.store import Store
from tests.test_tui_annotate import make_app, ready, until

# recall@8 of the pairs: 0.810 with the fuzzy scores alone (before), 0.929 measured with
# the term overlap (bench/bench_paraphrase.py); a change that loses more than two pairs fails.
RECALL_FLOOR = 0.88
# The issue's example: the adjacent pane said this, and it was not among the suggestions.
DNA = "without DNA from a next of kin, they won't hand over Kim Jong Nam's body"
DNA_CLAIM = "Malaysia police will not release the body of the half-brother of North Korea's leader"


@pytest.fixture(scope="module")
def known():
    return load()


def test_terms_fold_inflections_synonyms_numbers_and_typography():
    assert terms("The officials deliberated over cooperation") == terms("An official's deliberation on cooperating")
    assert terms("Police are seeking seven suspects") == terms("police sought 7 suspect")
    assert terms("won’t hand over the body") == terms("will not release the bodies")
    assert terms("a menace to its rule") & terms("a direct threat to its rule") == {"threat", "rule"}
    assert terms("the of and") == frozenset()
    assert terms("München Straße") == {"münchen", "strasse"}
    assert names("Selangor Police Chief Abdul Samah Mat said so") >= {"abdul", "samah", "mat"}


@pytest.mark.parametrize("scope", ["article", "story"])
def test_recall_of_known_paraphrase_pairs_stays_above_the_floor(known, scope):
    pairs, stories = known
    assert len(pairs) >= 30 and {pair.story for pair in pairs} == {"seeds", "kim-jong-nam"}
    value, missed = recall(pairs, stories, scope)
    assert value >= RECALL_FLOOR, [pair.source for pair in missed]
    before, _ = recall(pairs, stories, scope, BEFORE)  # characters alone, as before issue 13
    assert value > before


def test_suggestions_are_distinct_and_ranked(known):
    pairs, stories = known
    for pair in pairs[::5]:
        candidates = [(key, text) for key, text in stories[pair.story].items() if key != pair.claim_article]
        suggestions = search_matches(pair.claim, candidates, SUGGESTIONS, per_article=2).suggestions
        assert len({(s.article_id, s.text) for s in suggestions}) == len(suggestions)
        assert len({(s.article_id, s.start) for s in suggestions}) == len(suggestions)
        assert [s.score for s in suggestions] == sorted((s.score for s in suggestions), reverse=True)


def test_the_issues_dna_sentence_is_suggested_for_its_claim(known):
    pairs, stories = known
    pair = next(p for p in pairs if DNA in p.partner and DNA_CLAIM in p.claim)
    assert found(pair, stories, "story")


def big_story(count: int) -> tuple[list[tuple[str, str]], str, str]:
    """`count` generated articles (seed sentences) plus the Kim story's DNA pair planted
    in two of them: (candidates, the claim, the partner's article id)."""
    pairs, stories = load()
    pair = next(p for p in pairs if DNA in p.partner and DNA_CLAIM in p.claim)
    texts = story_texts(count)
    texts[count // 3] += "\n" + pair.partner
    return [(str(k), text) for k, text in enumerate(texts)], pair.claim, str(count // 3)


def test_a_big_story_is_prefiltered_by_its_terms_and_the_paraphrase_found():
    candidates, claim, partner = big_story(PREFILTER_FROM * 3)
    cache: dict[str, object] = {}

    def indexed(article_id: str, text: str):
        if article_id not in cache:
            cache[article_id] = index_article(text)
        return cache[article_id]

    for _ in range(2):  # indexing, then from the cache
        search = search_matches(claim, candidates, SUGGESTIONS, per_article=2, budget=Budget(60), indexed=indexed)
        assert search.prefiltered and search.complete and search.total == len(candidates)
        assert any(s.article_id == partner and DNA in s.text for s in search.suggestions)
    assert len(cache) == len(candidates)


async def test_the_annotate_screen_suggests_the_paraphrase_in_a_big_story(db_path: Path):
    candidates, claim, partner = big_story(PREFILTER_FROM + 20)
    texts = [claim + "\nThe claim's article goes on about something else entirely, for a while."]
    texts += [text for _, text in candidates]
    with Store.open(db_path) as store:
        store.upsert_story(Story(id="big", title="Big", proposition="Big."))
        rows = [(article_id_for(text), "big", f"Outlet {k}", None, f"Article {k}", None, "2025-08-01", text,
                 text_sha256(text), "{}", None) for k, text in enumerate(texts)]
        with store.transaction() as conn:
            store.insert_articles(conn, rows)
    partner_id = article_id_for(texts[int(partner) + 1])
    app = make_app(db_path)
    async with app.run_test(size=(160, 50)) as pilot:
        screen = await ready(app, pilot)
        pane = screen.panes[0]
        await pilot.press("j", "c")  # the first sentence, the claim, marked
        await until(pilot, lambda: pane.suggestions is not None and pane.suggestions_pending is None, 30)
        items = pane.suggestions.items
        assert any(item.article_id == partner_id and DNA in item.text for item in items)
        assert len({(item.article_id, item.text) for item in items}) == len(items) <= SUGGESTIONS
    app.close_stores()
