"""The annotate screen's rough edges at 80x24 (issue 13): claim mode keeps its suggested
matches on screen, J and L act on what is shown, the list shows no row twice, undo names
what it undid in words, and `n` with one story says so."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsmark.schema.store import Store
from tests.test_tui_annotate import make_app, ready, reopen, saved, screen_text, seeded, until  # noqa: F401
from tests.test_tui_compare import add_articles, put_cursor_on

SMALL = (80, 24)
# Sentences of the first seed article: three claims already marked, then the fourth (which
# has matches in the other articles) is marked on screen.
MARKED = ("Pentagon has announced", "Recent attacks attributed", "The possible normalization")
MARK_ON_SCREEN = "has initiated discussions"


def _mark_claims(db_path: Path, article_id: str) -> None:
    with Store.open(db_path) as store:
        text = store.get_article(article_id).text
        for words in MARKED:
            start = text.index(words)
            store.add_claim(article_id, "alice", start, text.index(".", start) + 1)


def _selected_line(app, pane) -> str:
    """The line of the pane's suggestion panel that shows the selected match, as drawn."""
    item = pane.suggestions.current
    shown = [line for line in screen_text(app).splitlines() if f"▶ {item.score:.2f} " in line]
    assert shown, "the selected match is not on the screen"
    return shown[0]


async def test_claim_mode_at_80x24_shows_the_matches_J_moves_and_L_links_the_one_shown(seeded):
    db_path, ids = seeded
    _mark_claims(db_path, ids[0])
    app = make_app(db_path)
    async with app.run_test(size=SMALL) as pilot:
        screen = await ready(app, pilot)
        left = screen.panes[0]
        await put_cursor_on(pilot, left, MARK_ON_SCREEN)
        await pilot.press("c")
        await until(pilot, lambda: left.suggestions is not None and len(left.suggestions.items) >= 2)
        await saved(app, pilot)
        assert left.suggestion_list.region.bottom <= left.content_region.bottom
        first = left.suggestions.current
        assert "match 1/" in screen_text(app)
        _selected_line(app, left)
        await pilot.press("J")
        await pilot.pause()
        second = left.suggestions.current
        assert second is not first and "match 2/" in screen_text(app)
        assert f"{second.score:.2f}" in _selected_line(app, left)
        await pilot.press("L")
        await saved(app, pilot)
    app.close_stores()
    with reopen(db_path) as store:
        linked = [c for c in store.claims(second.article_id, "alice") if (c.start, c.end) == (second.start, second.end)]
        assert len(linked) == 1 and linked[0].cluster is not None


REPEATED = "The Taliban sees ISIS-K as a menace to its rule."


async def test_a_sentence_an_article_repeats_is_suggested_once(db_path: Path):
    claim_article = f"Officials met on Monday.\n\n{REPEATED} Talks went on for hours."
    # The other article repeats the sentence: once as a summary line, once in its body.
    repeating = f"{REPEATED}\n\nIn Kabul, officials spoke. {REPEATED} Nobody else commented on it."
    ids = add_articles(db_path, [("Capital Cities", "Report", claim_article), ("Echo Daily", "Copy", repeating)])
    app = make_app(db_path)
    async with app.run_test(size=SMALL) as pilot:
        screen = await ready(app, pilot)
        left = screen.panes[0]
        await put_cursor_on(pilot, left, "menace to its rule")
        await pilot.press("c")
        await until(pilot, lambda: left.suggestions is not None)
        await saved(app, pilot)
        items = left.suggestions.items
        assert [(item.article_id, item.start) for item in items if item.text == REPEATED] == [(ids[1], 0)]
        assert "match 1/1" in screen_text(app)
        assert sum(line.count("2 Echo Daily: The Taliban") for line in screen_text(app).splitlines()) == 1
    app.close_stores()


def _messages(app) -> list[str]:
    return [note.message for note in app._notifications]


async def test_undo_and_redo_say_in_words_what_they_took_back(seeded):
    db_path, ids = seeded
    app = make_app(db_path)
    async with app.run_test(size=SMALL) as pilot:
        screen = await ready(app, pilot)
        left = screen.panes[0]
        await put_cursor_on(pilot, left, MARK_ON_SCREEN)
        await pilot.press("c")
        await until(pilot, lambda: left.suggestions is not None and bool(left.suggestions.items))
        await saved(app, pilot)
        await pilot.press("L")
        await saved(app, pilot)
        await pilot.press("u")
        await until(pilot, lambda: "Undid linking a suggested match into the claim's cluster." in _messages(app))
        await pilot.press("ctrl+y")
        await until(pilot, lambda: "Redid linking a suggested match into the claim's cluster." in _messages(app))
        await pilot.press("escape", "a")  # article mode: the stance
        await saved(app, pilot)
        await pilot.press("u")
        await until(pilot, lambda: "Undid the stance label." in _messages(app))
        assert not any("claim.add_linked" in message for message in _messages(app))
    app.close_stores()


async def test_n_with_a_single_story_says_so_and_keeps_the_panes(seeded):
    db_path, ids = seeded
    app = make_app(db_path)
    async with app.run_test(size=SMALL) as pilot:
        screen = await ready(app, pilot)
        first = screen.panes[0]
        await pilot.press("j", "j")
        cursor = first.text.cursor
        for key in ("n", "p"):
            app._notifications.clear()
            await pilot.press(key)
            await until(pilot, lambda: "This is the only story in the database: n and p stay on it." in _messages(app))
            assert screen.panes[0] is first and first.text.cursor == cursor
    app.close_stores()


@pytest.mark.parametrize("size", [SMALL, (160, 50)])
async def test_the_claim_banner_shows_whole_words_of_the_wording_and_all_its_keys(seeded, size):
    db_path, ids = seeded
    app = make_app(db_path)
    async with app.run_test(size=size) as pilot:
        screen = await ready(app, pilot)
        left = screen.panes[0]
        await put_cursor_on(pilot, left, "ongoing security situation in Afghanistan")
        await pilot.press("c")
        await until(pilot, lambda: left.suggestions is not None and bool(left.suggestions.items))
        await saved(app, pilot)
        await pilot.press("L")  # the cluster is made, worded by the claim's own text
        await saved(app, pilot)
        await until(pilot, lambda: "linked: 2 articles" in screen_text(app))
        region = left.banner.region
        lines = screen_text(app).splitlines()[region.y : region.bottom]
        shown = " ".join(line[region.x : region.right].strip() for line in lines)
    app.close_stores()
    assert "act on THIS claim · esc · linked: 2 articles" in shown  # nothing cut off the banner
    assert "Afghani" not in shown
    if size == SMALL:  # no room for the wording in three lines of 36
        assert shown.endswith("linked: 2 articles")
    else:
        assert shown.endswith("linked: 2 articles “In a significant development regarding the ongoing security situation in…”")
