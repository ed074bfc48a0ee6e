"""Big stories stay fast (issue 13, point 5): claim suggestions in a story past the
prefilter's size find a paraphrase, directly and on the annotate screen (the timing on
3,000 articles is bench/bench_overview.py's), and the overview aligns the grouping's
candidate pairs first."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from bench.bench_overview import story_texts
from bench.bench_paraphrase import SUGGESTIONS, load
from newsmark.analysis.align import bounded_story_matrix, prepare
from newsmark.analysis.budget import Budget, Cancelled
from newsmark.analysis.clusters import PREFILTER_FROM, index_article, search_matches
from newsmark.analysis.grouping import candidate_pairs
from newsmark.analysis.overview import ArticleHead, StoryWindow, window_shared
from newsmark.schema.models import Story
from newsmark.schema.sanitize import article_id_for, text_sha256
from newsmark.schema.store import Store
from tests.test_paraphrase import DNA, DNA_CLAIM
from tests.test_tui_annotate import make_app, ready, until


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


def test_the_overview_aligns_candidate_pairs_first():
    texts = story_texts(12)
    rng = random.Random(5)
    texts[9] = "\n".join(rng.sample(texts[2].split("\n"), 20))  # 9 repeats most of 2
    prepared = [prepare(text) for text in texts]
    seen = []

    def progress(matrix) -> None:
        seen.append(matrix)
        raise Cancelled  # stop after the first pair

    with pytest.raises(Cancelled):
        bounded_story_matrix(prepared, progress=progress, progress_every=0, first=[(2, 9)])
    assert seen[0].compared == 1 and seen[0].matrix[9][2] > 0.5
    # The overview's window puts that pair first, and the order changes no figure.
    assert candidate_pairs([(None, text) for text in texts])[0][:2] == (2, 9)
    heads = [ArticleHead(str(k), f"Outlet {k}", number=k + 1) for k in range(len(texts))]
    window = window_shared(StoryWindow(heads, texts, 0, len(texts)), Budget(60))
    assert window.complete and window.matrix == bounded_story_matrix(prepared).matrix
    assert window.most[9][0] == 2
