"""Curating stories from the annotate screen (issue 13): a stance key in a story without
a proposition asks for it first; the command palette moves or adds the focused article to
another story. Each is one action, undone by u."""

from __future__ import annotations

from textual.widgets import OptionList

from newsmark.schema.models import Story
from newsmark.tui.screens.proposition import PropositionScreen
from newsmark.tui.widgets.story_list_view import StoryListView
from tests.test_background import notifications
from tests.test_tui_annotate import STORY, SIZE, make_app, ready, reopen, saved, screen_text, seeded, until

__all__ = ["seeded"]  # the fixture, imported for pytest


async def test_a_stance_key_without_a_proposition_asks_for_it_then_sets_the_stance(seeded):
    db_path, ids = seeded
    with reopen(db_path) as store:
        store.edit_story(STORY, "lead", proposition="")
    app = make_app(db_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await ready(app, pilot)
        assert "Proposition: (none)" in screen_text(app)
        await pilot.press("B")  # reliability is not judged toward a proposition: no question
        await saved(app, pilot)
        assert not isinstance(app.screen, PropositionScreen)
        await pilot.press("a")
        await until(pilot, lambda: isinstance(app.screen, PropositionScreen))
        await pilot.press("escape")  # cancelled: nothing set
        await until(pilot, lambda: app.screen is screen)
        assert "No proposition given: stance was not set." in notifications(app)
        await pilot.press("a")
        await until(pilot, lambda: isinstance(app.screen, PropositionScreen))
        await pilot.press(*"Kabul talks \x1b", "enter")
        await until(pilot, lambda: app.screen is screen)
        await saved(app, pilot)
        assert "Proposition: Kabul talks" in screen_text(app)
        with reopen(db_path) as store:
            assert store.get_story(STORY).proposition == "Kabul talks"
            assert store.labels(ids[0], "alice", story_id=STORY) == {"stance": "agree", "reliability": "B"}
        await pilot.press("u")  # the stance
        await saved(app, pilot)
        await pilot.press("u")  # the proposition
        await saved(app, pilot)
        await until(pilot, lambda: "Proposition: (none)" in screen_text(app))
    app.close_stores()
    with reopen(db_path) as store:
        assert store.get_story(STORY).proposition == ""
        assert store.labels(ids[0], "alice", story_id=STORY) == {"reliability": "B"}


async def pick_story(app, pilot, command: str, story_id: str) -> None:
    """Run a command palette entry, then choose a story in the story list by filter."""
    await pilot.press("ctrl+p")
    await until(pilot, lambda: type(app.screen).__name__ == "CommandPalette")
    await pilot.press(*command)
    # The palette searches in a worker: wait for the entry.
    options = app.screen.query_one(OptionList)
    await until(pilot, lambda: options.option_count > 0
                and str(options.get_option_at_index(0).prompt).startswith(command))
    await pilot.press("enter")
    await until(pilot, lambda: bool(app.screen.query(StoryListView)) and app.screen.query_one(StoryListView).loaded)
    await pilot.press("slash", *story_id)
    await until(pilot, lambda: app.screen.query_one(StoryListView).loaded and app.screen.query_one(StoryListView).total == 1)
    await pilot.press("enter", "enter")


async def test_palette_moves_and_adds_the_article_to_another_story(seeded):
    db_path, ids = seeded
    with reopen(db_path) as store:
        store.upsert_story(Story(id="zz-other", title="Other story", proposition="P"))
    app = make_app(db_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        await pick_story(app, pilot, "Move this article to story", "zz-other")
        await until(pilot, lambda: app.screen is screen and screen.story is not None
                    and len(screen.story.article_ids) == 4)
        await until(pilot, lambda: all(p.view for p in screen.panes) and screen.panes[0].article_id == ids[1])
        with reopen(db_path) as store:
            assert store.article_ids("zz-other") == [ids[0]]
            assert ids[0] not in store.article_ids(STORY)
        await pick_story(app, pilot, "Add this article to story", "zz-other")
        await until(pilot, lambda: app.screen is screen)
        await saved(app, pilot)
        await until(pilot, lambda: "also in: Other story" in str(screen.panes[0].label_bar.render()))
        await pilot.press("u")  # the add
        await saved(app, pilot)
    app.close_stores()
    with reopen(db_path) as store:
        assert store.article_ids("zz-other") == [ids[0]]
        assert store.article_ids(STORY) == ids[1:]
