"""The screens on the many-to-many model, through the Pilot: one article in two stories,
read in each. Stance (scope "story") differs per story, reliability (scope "article")
holds in both, notes and flags belong to the article within a story, the pane names the
other story and a key (or the command palette) opens it; review and overview show the
values of the story being read. Every test reopens the database and checks its rows."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import NamedTuple

import pytest
from textual.command import CommandPalette
from textual.widgets import OptionList

from newsmark.schema.ingest import import_paths
from newsmark.schema.models import Story
from newsmark.schema.sanitize import article_id_for, sanitize_text, text_sha256
from newsmark.schema.store import Store
from newsmark.tui.review.article_view import claims_text
from newsmark.tui.review.labels_table import GOLD_ROW, LabelsTable
from newsmark.tui.screens.annotate import AnnotateScreen
from newsmark.tui.screens.overview import OverviewScreen
from newsmark.tui.text import display_inline
from tests.conftest import SEEDS
from tests.test_review import loaded as review_loaded
from tests.test_review import make_app as make_review_app
from tests.test_review import wait_for
from tests.test_tui_annotate import SIZE, STORY, make_app, ready, saved, screen_text, until

SEED_TITLE = "US–Taliban cooperation against ISIS-K"
OTHER = "aftermath"
OTHER_TITLE = "Aftermath [bold]of\x1b the raid"  # markup and an escape: shown as text
OTHER_SHOWN = "Aftermath [bold]of\\x1b the raid"


@pytest.fixture
def two_stories(db_path: Path) -> tuple[Path, list[str]]:
    """The seed story, and a second story holding its articles 1 and 4 (in that order)."""
    with Store.open(db_path) as store:
        import_paths(store, [SEEDS])
        ids = store.article_ids(STORY)
        store.upsert_story(Story(id=OTHER, title=OTHER_TITLE, proposition="The raid changed nothing."))
        with store.transaction() as conn:
            store.add_to_stories(conn, [(OTHER, ids[3]), (OTHER, ids[0])])
    return db_path, ids


def label_rows(db_path: Path, article_id: str) -> list[tuple]:
    with Store.open(db_path, create=False) as store:
        return store.conn.execute(
            "SELECT story_id, annotator, field, value FROM labels WHERE article_id = ? ORDER BY 1, 2, 3",
            (article_id,)).fetchall()


def bar(screen: AnnotateScreen, index: int = 0) -> str:
    """The plain text of a pane's label bar."""
    return screen.panes[index].label_bar.render().plain


async def open_other(app, pilot, screen: AnnotateScreen, story_id: str, article_id: str) -> None:
    """Wait until the screen reads `story_id` with `article_id` in the first pane."""
    await until(pilot, lambda: screen.story_id == story_id and screen.panes and screen.panes[0].article_id == article_id
                and all(p.view for p in screen.panes))
    await pilot.pause()


async def test_stance_per_story_reliability_everywhere_and_the_jump_between(two_stories):
    db_path, ids = two_stories
    app = make_app(db_path, story_id=STORY)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        assert screen.panes[0].article_id == ids[0]
        assert f"also in: {OTHER_SHOWN}  (t: open)" in bar(screen)
        assert "also in" not in bar(screen, 1)  # the seed's second article is in one story
        await pilot.press("a", "B")
        await saved(app, pilot)
        await pilot.press("t")  # to the article's other story, the article in the first pane
        await open_other(app, pilot, screen, OTHER, ids[0])
        assert [p.article_id for p in screen.panes] == [ids[0], ids[3]]
        assert screen.panes[0].position == "1/2"
        assert f"also in: {SEED_TITLE}  (t: open)" in bar(screen)
        assert bar(screen).startswith("stance – · reliability B usually reliable · credibility –")
        assert "The raid changed nothing." in screen_text(app)
        await pilot.press("d")
        await saved(app, pilot)
        assert bar(screen).startswith("stance disagree · reliability B")
        await pilot.press("t")  # and back
        await open_other(app, pilot, screen, STORY, ids[0])
        assert bar(screen).startswith("stance agree · reliability B")
    app.close_stores()
    assert label_rows(db_path, ids[0]) == [
        ("", "alice", "reliability", "B"), (OTHER, "alice", "stance", "disagree"), (STORY, "alice", "stance", "agree"),
    ]
    with Store.open(db_path, create=False) as store:
        assert store.labels(ids[0], "alice", story_id=OTHER) == {"stance": "disagree", "reliability": "B"}
        assert store.labels(ids[0], "alice", story_id=STORY) == {"stance": "agree", "reliability": "B"}
        rows = store.conn.execute(
            "SELECT story_id FROM annotations WHERE article_id = ? AND annotator = 'alice' ORDER BY 1", (ids[0],))
        assert [row[0] for row in rows] == [OTHER, STORY]  # each story's work stamps its own row


async def test_notes_and_flags_belong_to_the_article_within_a_story(two_stories):
    db_path, ids = two_stories
    app = make_app(db_path, story_id=OTHER)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        assert [p.article_id for p in screen.panes] == [ids[0], ids[3]]
        await pilot.press("f", "e")
        await until(pilot, lambda: type(app.screen).__name__ == "NoteScreen")
        await pilot.press(*"seen here", "ctrl+s")
        await until(pilot, lambda: app.screen is screen)
        await saved(app, pilot)
        assert "⚑ flagged" in bar(screen) and "✎ note" in bar(screen)
        await pilot.press("t")
        await open_other(app, pilot, screen, STORY, ids[0])
        assert "flagged" not in bar(screen) and "note" not in bar(screen)
        await pilot.press("e")
        await until(pilot, lambda: type(app.screen).__name__ == "NoteScreen")
        await pilot.press(*"and here", "ctrl+s")
        await until(pilot, lambda: app.screen is screen)
        await saved(app, pilot)
        assert "✎ note" in bar(screen) and "flagged" not in bar(screen)
    app.close_stores()
    with Store.open(db_path, create=False) as store:
        assert store.annotation(ids[0], "alice", story_id=OTHER)[:2] == ("seen here", True)
        assert store.annotation(ids[0], "alice", story_id=STORY)[:2] == ("and here", False)


async def test_a_second_annotator_gives_stances_by_keys_in_each_story(two_stories):
    db_path, ids = two_stories
    with Store.open(db_path) as store:
        store.set_label(ids[0], "alice", "stance", "agree", story_id=STORY)
    app = make_app(db_path, "bob", story_id=OTHER)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        await pilot.press("s", "tab", "x")  # discuss for article 1, unrelated for article 4
        await saved(app, pilot)
        await pilot.press("shift+tab", "t")
        await open_other(app, pilot, screen, STORY, ids[0])
        assert bar(screen).startswith("stance – ")  # alice's agree is hers, not bob's
        await pilot.press("d")
        await saved(app, pilot)
    app.close_stores()
    assert label_rows(db_path, ids[0]) == [
        (OTHER, "bob", "stance", "discuss"), (STORY, "alice", "stance", "agree"), (STORY, "bob", "stance", "disagree"),
    ]
    assert label_rows(db_path, ids[3]) == [(OTHER, "bob", "stance", "unrelated")]


async def test_the_command_palette_opens_an_other_story(two_stories):
    db_path, ids = two_stories
    app = make_app(db_path, story_id=STORY)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        entries = [title for title, _, _ in screen.command_entries()]
        assert f"Read this article in the story {OTHER_SHOWN}" in entries
        await pilot.press("ctrl+p")
        await until(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"Read this article in the story")
        # The palette searches in a worker: wait for its first result.
        await until(pilot, lambda: app.screen.query_one(OptionList).option_count > 0)
        options = app.screen.query_one(OptionList)
        if options.highlighted is None:
            await pilot.press("down")
        assert str(options.get_option_at_index(options.highlighted).prompt).startswith(
            f"Read this article in the story {OTHER_SHOWN}")
        await pilot.press("enter")
        await open_other(app, pilot, screen, OTHER, ids[0])
        await pilot.press("A")
        await saved(app, pilot)
    app.close_stores()
    assert label_rows(db_path, ids[0]) == [("", "alice", "reliability", "A")]


async def test_the_key_says_so_when_the_article_is_in_no_other_story(two_stories):
    db_path, ids = two_stories
    app = make_app(db_path, story_id=STORY)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        await pilot.press("tab", "t")
        await until(pilot, lambda: "This article is in no other story." in [n.message for n in app._notifications])
        assert screen.story_id == STORY


# --- review ------------------------------------------------------------------------------


def two_story_review(db_path: Path, ids: list[str]) -> None:
    """ann and bob disagree on article 1's stance in the seed story and agree in the other."""
    with Store.open(db_path) as store:
        store.set_label(ids[0], "ann", "stance", "agree", story_id=STORY)
        store.set_label(ids[0], "bob", "stance", "disagree", story_id=STORY)
        store.set_label(ids[0], "ann", "stance", "discuss", story_id=OTHER)
        store.set_label(ids[0], "bob", "stance", "discuss", story_id=OTHER)
        store.set_label(ids[0], "ann", "reliability", "B", story_id=OTHER)
        store.set_label(ids[0], "bob", "reliability", "C", story_id=STORY)


async def test_review_shows_and_adjudicates_the_stance_of_the_story_being_read(two_stories):
    db_path, ids = two_stories
    two_story_review(db_path, ids)
    app = make_review_app(db_path, story_id=STORY)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, review_loaded(app, 0))
        screen = app.screen
        review = screen.state.review
        assert review.labels == {"ann": {"stance": "agree", "reliability": "B"},
                                 "bob": {"stance": "disagree", "reliability": "C"}}
        assert review.disagreements == ["stance", "reliability"]
        assert review.other_stories == [(OTHER, OTHER_TITLE)]
        assert f"also in: {OTHER_SHOWN}\n" in claims_text(screen.state, False).plain
        table = screen.query_one(LabelsTable)
        assert [str(table.get_cell(name, "stance")) for name in ("ann", "bob")] == ["agree", "disagree"]
        await pilot.press("down", "enter")  # bob's stance, as gold in this story
        await wait_for(pilot, lambda: app.screen is not screen)
        await pilot.press("enter")
        await wait_for(pilot, lambda: "stance" in screen.state.review.gold)
        await pilot.press("right", "enter")  # bob's reliability: gold wherever the article is
        await wait_for(pilot, lambda: app.screen is not screen)
        await pilot.press("enter")
        await wait_for(pilot, lambda: "reliability" in screen.state.review.gold)
        assert str(table.get_cell(GOLD_ROW, "stance")) == "disagree"
        assert (screen.state.progress.done, screen.state.progress.with_disagreement) == (1, 1)
        await pilot.press("p")  # the story before: "aftermath", whose first article is the same one
        await wait_for(pilot, lambda: screen.state.story.id == OTHER)
        review = screen.state.review
        assert review.article.id == ids[0]
        assert review.other_stories == [(STORY, SEED_TITLE)]
        assert review.labels == {"ann": {"stance": "discuss", "reliability": "B"},
                                 "bob": {"stance": "discuss", "reliability": "C"}}
        assert review.disagreements == ["reliability"]
        assert {name: gold["value"] for name, gold in review.gold.items()} == {"reliability": "C"}
        assert screen.state.progress.with_disagreement == 1 and screen.state.progress.done == 1
    with Store.open(db_path, create=False) as store:
        rows = store.conn.execute("SELECT story_id, field, value, by FROM gold WHERE article_id = ? ORDER BY 1",
                                  (ids[0],)).fetchall()
        assert rows == [("", "reliability", "C", "lead"), (STORY, "stance", "disagree", "lead")]
        assert store.gold(ids[0], story_id=OTHER) == {"reliability": store.gold(ids[0], story_id=STORY)["reliability"]}


# --- overview ----------------------------------------------------------------------------


async def test_the_overview_shows_the_stance_given_in_the_story_being_read(two_stories):
    db_path, ids = two_stories
    with Store.open(db_path) as store:
        store.set_label(ids[0], "alice", "stance", "agree", story_id=STORY)
        store.set_label(ids[0], "alice", "stance", "disagree", story_id=OTHER)
        store.set_label(ids[0], "alice", "credibility", "2", story_id=OTHER)
    app = make_app(db_path, story_id=STORY)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        shown = []
        for story_id in (STORY, OTHER):
            if story_id != screen.story_id:
                await pilot.press("t")
                await open_other(app, pilot, screen, story_id, ids[0])
            await pilot.press("o")
            await until(pilot, lambda: isinstance(app.screen, OverviewScreen) and app.screen.window is not None)
            overview = app.screen
            table = overview.query_one("#claims-table")
            shown.append((overview.story_id, [h.id for h in overview.window.articles],
                          [str(cell) for cell in table.get_row("stance")][1:],
                          [str(cell) for cell in table.get_row("credibility")][1:]))
            await pilot.press("escape")
            await until(pilot, lambda: app.screen is screen)
    assert shown == [
        (STORY, ids, ["agree", "–", "–", "–", "–"], ["2", "–", "–", "–", "–"]),
        (OTHER, [ids[0], ids[3]], ["disagree", "–"], ["2", "–"]),
    ]


# --- the acceptance: FNC-1 headlines as stories, bodies as their articles ----------------


class Fnc1Pair(NamedTuple):
    """Two FNC-1 headlines sharing a body judged differently under each: the headlines'
    bodies (the shared one first, then up to two more), the texts, the gold stances."""

    first: str
    second: str
    bodies: dict[str, list[str]]  # headline -> body ids
    shared: str
    texts: dict[str, str]  # body id -> text
    gold: dict[tuple[str, str], str]  # (headline, body id) -> stance


def fnc1_pair(folder: Path) -> Fnc1Pair:
    """The first such pair, headlines in sorted order (the data is fixed: so is the pair)."""
    with (folder / "competition_test_bodies.csv").open(encoding="utf-8", newline="") as f:
        texts = {row["Body ID"]: row["articleBody"] for row in csv.DictReader(f)}
    gold: dict[tuple[str, str], str] = {}
    by_headline: dict[str, list[str]] = {}
    with (folder / "competition_test_stances.csv").open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            gold[(row["Headline"], row["Body ID"])] = row["Stance"]
            by_headline.setdefault(row["Headline"], []).append(row["Body ID"])
    several = sorted(h for h in by_headline if len(set(by_headline[h])) >= 2)
    for first in several:
        for body in by_headline[first]:
            others = [h for h in several if (h, body) in gold and gold[(h, body)] != gold[(first, body)]]
            if others:
                bodies = {h: [body] + [b for b in dict.fromkeys(by_headline[h]) if b != body][:2] for h in (first, others[0])}
                return Fnc1Pair(first, others[0], bodies, body,
                                {b: texts[b] for ids in bodies.values() for b in ids}, gold)
    raise AssertionError("FNC-1 holds no body judged differently under two headlines")


async def test_fnc1_headline_stories_with_a_body_in_two_of_them(db_path, shared_data):
    pair = fnc1_pair(shared_data / "fnc1")
    story_of = {pair.first: "fnc1-first", pair.second: "fnc1-second"}
    text_of = {b: sanitize_text(text) for b, text in pair.texts.items()}
    article_of = {b: article_id_for(text) for b, text in text_of.items()}
    with Store.open(db_path) as store:
        with store.transaction() as conn:
            for headline, story_id in story_of.items():
                store.ensure_story(conn, Story(id=story_id, title=headline, proposition=headline))
                store.insert_articles(conn, [
                    (article_of[b], story_id, "FNC-1", None, f"Body {b}", None, None, text_of[b],
                     text_sha256(text_of[b]), "{}", None) for b in pair.bodies[headline]])
    key = {"agree": "a", "disagree": "d", "discuss": "s", "unrelated": "x"}
    shared, neighbour = article_of[pair.shared], pair.bodies[pair.first][1]
    for annotator in ("alice", "bob"):
        app = make_app(db_path, annotator, story_id="fnc1-first")
        async with app.run_test(size=SIZE) as pilot:
            screen = await ready(app, pilot)
            # The headline's bodies side by side, the shared one first, naming its other story.
            assert [p.article_id for p in screen.panes] == [shared, article_of[neighbour]]
            assert f"also in: {display_inline(pair.second)}" in bar(screen)
            await pilot.press(key[pair.gold[(pair.first, pair.shared)]], "tab", key[pair.gold[(pair.first, neighbour)]])
            await saved(app, pilot)
            await pilot.press("shift+tab", "t")
            await open_other(app, pilot, screen, "fnc1-second", shared)
            await pilot.press(key[pair.gold[(pair.second, pair.shared)]])
            await saved(app, pilot)
        app.close_stores()
    with Store.open(db_path, create=False) as store:
        for annotator in ("alice", "bob"):
            assert store.labels(shared, annotator, story_id="fnc1-first") == {"stance": pair.gold[(pair.first, pair.shared)]}
            assert store.labels(shared, annotator, story_id="fnc1-second") == {"stance": pair.gold[(pair.second, pair.shared)]}
            assert store.labels(article_of[neighbour], annotator, story_id="fnc1-first") == {
                "stance": pair.gold[(pair.first, neighbour)]}
