"""Grouping articles that arrived without a story into stories (MinHash LSH)."""

from __future__ import annotations

import csv
from collections import Counter

from newsmark.analysis import grouping
from newsmark.analysis.grouping import (
    EDGE_FLOOR, apply_grouping, candidate_pairs, group_articles, group_texts, pairwise_scores, ungrouped_story_ids,
)
from newsmark.schema.models import Story
from newsmark.schema.sanitize import article_id_for, text_sha256
from tests.conftest import SEEDS
from tests.test_align import UNRELATED, make_copy


def seed_texts() -> list[tuple[str, str]]:
    return [(p.name, p.read_text(encoding="utf-8")) for p in sorted(SEEDS.glob("*.txt"))]


def add_articles(store, story_id: str, texts: list[tuple[str | None, str]]) -> list[str]:
    """Insert (title, text) articles into a story; return their ids in order."""
    store.upsert_story(Story(id=story_id, title=story_id))
    rows = []
    for title, text in texts:
        rows.append((article_id_for(text), story_id, None, None, title, None, None, text, text_sha256(text), "{}", None))
    with store.transaction() as conn:
        store.insert_articles(conn, rows)
    return [row[0] for row in rows]


def test_near_duplicates_group_and_unrelated_stay_alone():
    seeds = seed_texts()
    items = [(name, None, text) for name, text in seeds]
    items += [("copy-of-000", None, make_copy(seeds[0][1])[0]), ("fete", None, UNRELATED),
              ("copy-of-003", None, make_copy(seeds[3][1], 3)[0])]
    groups = group_texts(items)
    home = {article: k for k, group in enumerate(groups) for article in group}
    # The seeds are five outlets on one event: a copy must be with its original, and
    # other seeds may join them; the village fete shares nothing with any.
    assert home[seeds[0][0]] == home["copy-of-000"]
    assert home[seeds[3][0]] == home["copy-of-003"]
    assert ["fete"] in groups
    assert sorted(a for g in groups for a in g) == sorted(i[0] for i in items)  # each once
    assert group_texts([]) == []


def test_candidate_pairs_rank_copies_first_and_leave_unrelated_out():
    seeds = seed_texts()
    texts = [(None, text) for _, text in seeds]
    texts += [(None, seeds[0][1]), (None, make_copy(seeds[3][1], 3)[0]), (None, UNRELATED)]
    pairs = candidate_pairs(texts)
    assert pairs[0][:2] == (0, 5) and abs(pairs[0][2] - 1.0) < 1e-6  # the verbatim copy
    similarity = {(i, j): value for i, j, value in pairs}
    assert similarity[(3, 6)] > max(value for (i, j), value in similarity.items() if 3 in (i, j) and j != 6)
    assert all(i < j and EDGE_FLOOR <= value <= 1.0 for i, j, value in pairs)
    assert [value for _, _, value in pairs] == sorted((value for _, _, value in pairs), reverse=True)
    assert not [pair for pair in pairs if 7 in pair[:2]]  # the village fete is like none of them
    assert candidate_pairs(texts[:1]) == [] and candidate_pairs([]) == []


def test_a_small_pair_budget_sums_only_part_of_common_words(monkeypatch):
    # A word held by many articles pairs each only with its heaviest holders once the
    # budget is short: similarities then are partial sums, never above the full ones.
    seeds = seed_texts()
    texts = [(None, text) for _, text in seeds] + [(None, make_copy(text, 5)[0]) for _, text in seeds]
    full = {(i, j): value for i, j, value in candidate_pairs(texts, floor=0.0)}
    monkeypatch.setattr(grouping, "PAIR_BUDGET", 60)
    capped = {(i, j): value for i, j, value in candidate_pairs(texts, floor=0.0)}
    assert set(capped) < set(full)
    assert all(value <= full[pair] + 1e-6 for pair, value in capped.items())
    assert all((k, k + 5) in capped for k in range(5))  # each copy still meets its original


def test_pairwise_scores_count_pairs_put_and_belonging_together():
    # Put together: ab, ac, bc; belonging together: ab, cd. One pair in both.
    assert pairwise_scores([["a", "b", "c"], ["d"]], [["a", "b"], ["c", "d"]]) == (1 / 3, 1 / 2)
    assert pairwise_scores([["a"], ["b"]], [["a", "b"]]) == (1.0, 0.0)
    # An id the truth does not know is alone there: pairing it is a false pair.
    assert pairwise_scores([["a", "b", "x"]], [["a", "b"]]) == (1 / 3, 1.0)


def test_apply_grouping_moves_articles_and_drops_the_emptied_story(store):
    seeds = seed_texts()
    texts = [(None, seeds[0][1]), (None, make_copy(seeds[0][1])[0]), (None, UNRELATED)]
    original, copy, fete = add_articles(store, "ungrouped-import", texts)
    assert ungrouped_story_ids(store) == ["ungrouped-import"]
    groups = group_articles(store)
    assert groups == [[original, copy], [fete]]
    created = apply_grouping(store, groups)
    assert created == [f"group-{original[:8]}"]
    assert store.article_ids(created[0]) == [original, copy]
    assert store.article_ids("ungrouped-import") == [fete]  # singletons stay
    # Grouping the rest again moves nothing; moving the last one empties the old story.
    assert apply_grouping(store, [[fete]]) == []
    assert apply_grouping(store, [[fete]], min_size=1) == [f"group-{fete[:8]}"]
    assert store.get_story("ungrouped-import") is None
    assert store.get_story(created[0]).meta == {"grouped": True, "size": 2}


def test_group_articles_by_ids_and_by_story(store):
    # Word weights come from the articles being grouped, so give it a few (two alone
    # share every word they have in common with each other and nothing else).
    seeds = seed_texts()
    ids = add_articles(store, "flat", [(None, text) for _, text in seeds]
                       + [(None, make_copy(seeds[3][1], 3)[0]), (None, UNRELATED)])
    for groups in (group_articles(store, ids), group_articles(store, story="flat")):
        (home,) = [group for group in groups if ids[3] in group]
        assert ids[5] in home and ids[6] not in home  # the copy with its report, the fete apart
        assert sorted(a for group in groups for a in group) == sorted(ids)
    assert group_articles(store, ["0000000000000000"]) == []


def test_real_corpus_outlets_reporting_one_event_land_together(shared_data):
    csv.field_size_limit(10**9)
    with (shared_data / "news-articles" / "NewsArticles.csv").open(encoding="utf-8", errors="replace") as handle:
        rows = list(csv.DictReader(handle))
    outlet = {r["article_id"]: r["article_source_link"].split("/")[2].removeprefix("www.") for r in rows}
    title = {r["article_id"]: r["title"] for r in rows}
    groups = group_texts([(r["article_id"], r["title"], r["text"]) for r in rows])
    where = {a: k for k, group in enumerate(groups) for a in group}

    def check(event: list[str], together: float, words: tuple[str, ...], min_outlets: int) -> None:
        homes = Counter(where[a] for a in event)
        home, count = homes.most_common(1)[0]
        group = groups[home]
        assert count >= together * len(event), [title[a] for a in event]
        assert len({outlet[a] for a in group}) >= min_outlets
        on_topic = sum(any(w in title[a].lower() for w in words) for a in group)
        assert on_topic >= 0.7 * len(group), [title[a] for a in group]

    # The killing of Kim Jong-nam with VX nerve agent (Feb 2017).
    kim = [a for a in title if "kim jong" in title[a].lower() and "nerve agent" in title[a].lower()]
    check(kim, 0.8, ("kim", "malaysia", "north korea", "n korea", "vx"), 6)
    # Hawaii's suit against the revised travel ban (Mar 2017).
    hawaii = [a for a in title if "hawaii" in title[a].lower() and "travel ban" in title[a].lower()]
    check(hawaii, 0.7, ("travel ban", "immigration", "executive order", "hawaii", "appeal", "judge", "court"), 4)
    # Paris Orly airport shooting (Mar 2017).
    orly = [a for a in title if "orly" in title[a].lower()]
    check(orly, 0.8, ("orly", "paris", "airport"), 4)


def test_a_grouped_story_is_titled_after_its_most_central_article(store):
    # Two halves of a report and the whole: the whole shares words with each half, the
    # halves fewer with each other, so the whole (imported second) is the centre.
    report = seed_texts()[3][1]
    paragraphs = [p for p in report.split("\n") if p.strip()]
    head, tail = "\n".join(paragraphs[: len(paragraphs) // 2]), "\n".join(paragraphs[len(paragraphs) // 2:])
    texts = [("First half", head), ("The whole report", report), ("Second half", tail), ("A fete", UNRELATED)]
    ids = add_articles(store, "ungrouped", texts)
    sums = Counter()
    for i, j, value in candidate_pairs(texts[:3]):
        sums[i] += value
        sums[j] += value
    assert sums.most_common(1)[0][0] == 1  # the rule, by the pairs' own similarities
    found, created = grouping.group_into_stories(store)
    assert [(g.ids, g.central) for g in found.groups] == [(ids[:3], ids[1]), ([ids[3]], ids[3])]
    assert [store.get_story(s).title for s in created] == ["The whole report"]


def test_ties_go_to_the_earliest_and_untitled_articles_lend_their_text(store):
    report = seed_texts()[3][1]
    ids = add_articles(store, "ungrouped", [(None, report), (None, make_copy(report)[0])])
    (group,) = grouping.group_new(store.article_texts(article_ids=ids)).groups
    assert group.central == ids[0]  # two articles: equal sums
    (created,) = apply_grouping(store, [group])
    title = store.get_story(created).title
    first_line = " ".join(report.split())
    assert title.endswith("…") and first_line.startswith(title[:-1]) and len(title) <= 200
    assert "\n" not in title
