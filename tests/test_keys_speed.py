"""Speed at the keyboard on the annotate screen (issue 13): the next unfinished article,
auto-advance, arrow keys for the sentence cursor, the annotator's name, the note's first
line, one article per pane, and a border that says nothing before a change."""

from __future__ import annotations

from newsmark.schema.ingest import import_paths
from newsmark.schema.models import Story
from newsmark.tui.widgets.article_pane import ArticlePane
from tests.test_background import notifications
from tests.test_tui_annotate import SEEDS, STORY, SIZE, make_app, ready, reopen, saved, screen_text, seeded, until

__all__ = ["seeded"]  # the fixture, imported for pytest

FULL = {"stance": "agree", "reliability": "B", "credibility": "2"}


def label_all(store, article_ids, annotator="alice"):
    for article_id in article_ids:
        for field, value in FULL.items():
            store.set_label(article_id, annotator, field, value, story_id=STORY)


async def test_next_unfinished_skips_finished_and_shown_articles_and_wraps(seeded):
    db_path, ids = seeded
    with reopen(db_path) as store:
        label_all(store, [ids[2]])
        store.set_label(ids[3], "alice", "stance", "agree", story_id=STORY)  # not finished
    app = make_app(db_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        await pilot.press("N")  # pane 1 shows ids[0]; ids[1] is in pane 2, ids[2] finished
        await until(pilot, lambda: screen.panes[0].article_id == ids[3])
        await pilot.press("N")
        await until(pilot, lambda: screen.panes[0].article_id == ids[4])
        await pilot.press("N")  # wraps round to the first
        await until(pilot, lambda: screen.panes[0].article_id == ids[0])
        assert screen.panes[1].article_id == ids[1]


async def test_next_unfinished_says_when_all_are_finished(seeded):
    db_path, ids = seeded
    with reopen(db_path) as store:
        label_all(store, ids)
    app = make_app(db_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await ready(app, pilot)
        await pilot.press("N")
        await until(pilot, lambda: "All 5 articles of this story are finished." in notifications(app))
        assert screen.panes[0].article_id == ids[0]


async def test_next_unfinished_focuses_the_pane_showing_the_last_one(seeded):
    db_path, ids = seeded
    with reopen(db_path) as store:
        label_all(store, [ids[0], ids[2], ids[3], ids[4]])
    app = make_app(db_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        await pilot.press("N")
        await until(pilot, lambda: screen.focused_pane is screen.panes[1])
        await pilot.press("d", "A", "1")
        await saved(app, pilot)
    app.close_stores()
    with reopen(db_path) as store:
        assert store.labels(ids[1], "alice", story_id=STORY) == {"stance": "disagree", "reliability": "A", "credibility": "1"}
        assert store.labels(ids[0], "alice", story_id=STORY) == FULL


async def test_auto_advance_moves_a_finished_pane_to_the_next_unfinished(seeded):
    db_path, ids = seeded
    app = make_app(db_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        await pilot.press("a", "B", "2")
        await saved(app, pilot)
        assert screen.panes[0].article_id == ids[0]  # off: the pane stays
        await pilot.press("ctrl+t")
        await until(pilot, lambda: "AUTO-ADVANCE" in screen_text(app))
        await pilot.press("s")  # ids[0] was finished already: changing it does not advance
        await saved(app, pilot)
        assert screen.panes[0].article_id == ids[0]
        await pilot.press("N")
        await until(pilot, lambda: screen.panes[0].article_id == ids[2])
        await pilot.press("a", "B")
        await saved(app, pilot)
        assert screen.panes[0].article_id == ids[2]  # not finished yet
        await pilot.press("2")
        await until(pilot, lambda: screen.panes[0].article_id == ids[3])
        await pilot.press("ctrl+t", "x", "C", "4")
        await saved(app, pilot)
        assert screen.panes[0].article_id == ids[3]  # off again
    app.close_stores()
    with reopen(db_path) as store:
        assert store.labels(ids[2], "alice", story_id=STORY) == FULL
        assert store.labels(ids[3], "alice", story_id=STORY) == {"stance": "unrelated", "reliability": "C", "credibility": "4"}


async def test_arrow_keys_move_the_sentence_cursor_and_up_down_still_scroll(seeded):
    db_path, ids = seeded
    app = make_app(db_path)
    async with app.run_test(size=(160, 30)) as pilot:
        screen = await ready(app, pilot)
        text = screen.panes[0].text
        assert text.cursor is None
        await pilot.press("right")
        await until(pilot, lambda: text.cursor is not None)
        first = text.cursor
        await pilot.press("right", "right")
        await until(pilot, lambda: text.cursor == first + 2)
        await pilot.press("left")
        await until(pilot, lambda: text.cursor == first + 1)
        await pilot.press("c")  # the cursor's sentence becomes a claim
        await saved(app, pilot)
        await pilot.press("escape")
        await until(pilot, lambda: text.cursor is None)
        await pilot.press("down", "down")
        await until(pilot, lambda: text.scroll_y > 0)
    app.close_stores()
    with reopen(db_path) as store:
        [claim] = store.claims(ids[0], "alice")
        assert (claim.start, claim.end) == text.sentences[first + 1]


async def test_the_annotators_name_is_on_screen(seeded):
    db_path, _ = seeded
    app = make_app(db_path, annotator="bob\x1b[31m")
    async with app.run_test(size=SIZE) as pilot:
        await ready(app, pilot)
        shown = screen_text(app)
        assert "annotator: bob" in shown
        assert "\x1b" not in shown


async def test_the_label_bar_shows_the_notes_first_line(seeded):
    db_path, ids = seeded
    long_line = "Check the casualty figure against the Pentagon briefing " + "and the embassy statement " * 5
    with reopen(db_path) as store:
        store.set_note(ids[0], "alice", "\n" + long_line + "\x1b[2J\nsecond line never shown", story_id=STORY)
    app = make_app(db_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        bar = str(screen.panes[0].label_bar.render())
        assert "✎ note: Check the casualty figure against the Pentagon briefing" in bar
        assert "…" in bar and "second line" not in bar and "\x1b" not in bar
        assert "✎ note" not in str(screen.panes[1].label_bar.render())


async def test_the_border_says_nothing_about_saving_before_a_change(seeded):
    db_path, _ = seeded
    app = make_app(db_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        shown = screen_text(app)
        assert "saved" not in shown and "saving" not in shown
        await pilot.press("a")
        await saved(app, pilot)
        assert "✓ saved" in str(screen.panes[0].border_subtitle)
        assert str(screen.panes[1].border_subtitle) == ""
        await pilot.press("right_square_bracket")  # another article: nothing changed in it yet
        await until(pilot, lambda: screen.panes[0].position.startswith("3/"))
        assert str(screen.panes[0].border_subtitle) == ""


async def test_no_two_panes_show_the_same_article(seeded):
    db_path, ids = seeded
    app = make_app(db_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        for key in ["right_square_bracket"] * 6 + ["tab"] + ["left_square_bracket"] * 6:
            await pilot.press(key)
            await until(pilot, lambda: all(p.view is not None for p in screen.query(ArticlePane)))
            await app.workers.wait_for_complete()
            shown = [p.article_id for p in screen.panes]
            assert len(set(shown)) == len(shown), shown


async def test_a_story_with_fewer_articles_than_panes_leaves_a_pane_empty(db_path):
    from newsmark.tui.widgets.article_pane import EmptyPane

    with reopen(db_path) as store:
        import_paths(store, [SEEDS])
        store.upsert_story(Story(id="aa-single", title="Single", proposition="P"))
        store.add_articles_to_story("aa-single", [store.article_ids(STORY)[0]], "lead")
    app = make_app(db_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        await until(pilot, lambda: len(screen.query(EmptyPane)) == 1)
        assert len(screen.panes) == 1
        assert "No other article in this story." in screen_text(app)
        await pilot.press("right_square_bracket")  # nothing else to show: the pane keeps its article
        await pilot.press("n")  # the five-article story: two article panes, no empty one
        await until(pilot, lambda: screen.story_id == STORY and len(screen.panes) == 2)
        await until(pilot, lambda: len(screen.query(EmptyPane)) == 0)
