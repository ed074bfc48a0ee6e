"""The story list screen: a virtual list over SQLite, its filters, choosing and closing."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.app import App
from textual.pilot import Pilot

from newsmark.schema.models import Story
from newsmark.schema.sanitize import article_id_for, text_sha256
from newsmark.schema.store import Store
from newsmark.tui.screens.story_list import StoryListScreen
from newsmark.tui.widgets.story_list_view import PAGE_SIZE, StoryListView

HOSTILE_TITLE = "[@click=app.quit]Quit[/] [bold]not bold[/bold] [/"
UNSET = object()


def make_db(path: Path, stories: int, per_story: int = 3) -> None:
    """Stories `s000`… with `per_story` articles each (story k: 1 + k % 3 outlets, published
    from Feb 10+k); alice labels all of s001 and one
    article of s002; s003's title is hostile markup."""
    with Store.open(path) as store:
        with store.transaction() as conn:
            for k in range(stories):
                title = HOSTILE_TITLE if k == 3 else f"{'Harbor' if k % 2 else 'Budget'} story number {k}"
                store.ensure_story(conn, Story.model_construct(id=f"s{k:03d}", title=title, proposition="p", meta={}))
                rows = []
                for j in range(per_story):
                    text = f"Article {j} of story {k}."
                    # story k has 1 + k % 3 outlets; its articles are published on Feb 10+k, 10+k+j
                    rows.append((article_id_for(text), f"s{k:03d}", f"Outlet {j % (1 + k % 3)}", None, f"t{j}", None,
                                 f"2017-02-{10 + k + j:02d}T08:00:00Z", text,
                                 text_sha256(text), "{}", None))
                store.insert_articles(conn, rows)
        for article_id in store.article_ids("s001"):
            store.set_label(article_id, "alice", "stance", "agree")
        store.set_label(store.article_ids("s002")[0], "alice", "reliability", "B")
        store.set_label(store.article_ids("s004")[0], "bob", "stance", "agree")


def test_store_story_page_counts_progress_and_filters(small_db: Path) -> None:
    with Store.open(small_db) as store:
        page = store.story_page(0, 3, "alice")
        assert [(r.id, r.articles, r.labelled, r.finished) for r in page] == [
            ("s000", 3, 0, False), ("s001", 3, 3, True), ("s002", 3, 1, False),
        ]
        assert [r.id for r in store.story_page(6, 100, "alice")] == ["s006", "s007"]
        assert store.finished_story_ids("alice") == ["s001"]
        assert store.finished_story_ids("bob") == []
        assert store.story_list_count("alice") == 8
        assert store.story_list_count("alice", unfinished_only=True) == 7
        assert store.story_list_count("bob", unfinished_only=True) == 8
        assert [r.id for r in store.story_page(0, 3, "alice", unfinished_only=True)] == ["s000", "s002", "s003"]
        assert store.story_list_count("alice", text_filter="HARBOR") == 3  # s001, s005, s007
        assert store.story_list_count("alice", text_filter="s00") == 8
        assert store.story_list_count("alice", text_filter="s0%") == 0  # % and _ are literal
        assert store.story_list_count("alice", text_filter="[@click") == 1
        assert store.story_list_index("s005", "alice") == 5
        assert store.story_list_index("s005", "alice", unfinished_only=True) == 4
        assert store.story_list_index("s001", "alice", unfinished_only=True) is None
        assert store.story_list_index("s005", "alice", text_filter="harbor") == 1


def test_store_story_columns_and_sorting(small_db: Path) -> None:
    with Store.open(small_db) as store:
        rows = store.story_rows(["s002", "s001", "nope"], "alice")
        assert [(r.id, r.articles, r.outlets, r.first_published, r.last_published, r.labelled) for r in rows] == [
            ("s002", 3, 3, "2017-02-12T08:00:00Z", "2017-02-14T08:00:00Z", 1),
            ("s001", 3, 2, "2017-02-11T08:00:00Z", "2017-02-13T08:00:00Z", 3),
        ]
        assert store.story_page(0, 2, "alice")[1] == rows[1]  # a page has the same columns
        assert store.story_order("alice", "outlets") == ["s000", "s003", "s006", "s001", "s004", "s007",
                                                         "s002", "s005"]
        assert store.story_order("alice", "progress", descending=True)[:2] == ["s001", "s002"]
        assert store.story_order("alice", "dates", descending=True)[:2] == ["s007", "s006"]
        assert store.story_order("alice", "id", descending=True, among=["s003", "s001"]) == ["s003", "s001"]
        assert store.story_order("alice", "articles", unfinished_only=True, text_filter="harbor") == [
            "s005", "s007"]
        # an article moved out no longer counts in its old story
        store.move_articles([store.article_ids("s002")[0]], "s002", "s001", "alice")
        assert [(r.articles, r.labelled) for r in store.story_rows(["s001", "s002"], "alice")] == [(4, 4), (2, 0)]


class StoryListApp(App[None]):
    """A tiny app that opens the story list and keeps what it dismissed with."""

    def __init__(self, path: Path, annotator: str = "alice", current: str | None = None) -> None:
        super().__init__()
        self.path = path
        self.annotator = annotator
        self.current = current
        self.result: object = UNSET

    def on_mount(self) -> None:
        self.push_screen(StoryListScreen(str(self.path), self.annotator, self.current), self._story_chosen)

    def _story_chosen(self, value: str | None) -> None:
        self.result = value


async def wait_for(pilot: Pilot, condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Let the app run until `condition()` holds (worker results are messages)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the app")
        await pilot.pause(0.01)


def view(app: App) -> StoryListView:
    return app.screen.query_one(StoryListView)


def visible_ids(app: App) -> list[str]:
    """Story ids drawn in the list right now (from the cached pages)."""
    lv = view(app)
    first = int(lv.scroll_y)
    height = lv.scrollable_content_region.height - 1
    rows = [lv._row(i) for i in range(first, min(lv.total or 0, first + height))]
    return [row.id for row in rows if row is not None]


def screen_text(app: App) -> str:
    """The text of the list as drawn."""
    lv = view(app)
    return "\n".join(lv.render_line(y).text for y in range(lv.scrollable_content_region.height))


@pytest.fixture
def small_db(tmp_path: Path) -> Path:
    path = tmp_path / "stories.db"
    make_db(path, 8)
    return path


async def test_lists_stories_with_counts_and_progress(small_db: Path) -> None:
    app = StoryListApp(small_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: view(app).loaded)
        lv = view(app)
        assert lv.total == 8
        assert visible_ids(app) == [f"s{k:03d}" for k in range(8)]
        lines = screen_text(app).splitlines()
        assert "story" in lines[0] and "articles" in lines[0] and "labelled" in lines[0]
        s001 = next(line for line in lines if "s001" in line)
        assert "3/3 ✓" in s001
        s002 = next(line for line in lines if "s002" in line)
        assert "1/3" in s002
        s004 = next(line for line in lines if "s004" in line)
        assert "0/3" in s004  # bob's label is not alice's progress
        # Hostile titles are drawn literally, never as markup, and the app is still running.
        assert "[@click=app.quit]Quit[/]" in screen_text(app)
        assert "Stories · annotator alice · 8 shown" in str(app.screen.query_one("#story-list-title").render())


async def test_enter_chooses_the_story_under_the_cursor(small_db: Path) -> None:
    app = StoryListApp(small_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: view(app).loaded)
        lv = view(app)
        await pilot.press("down", "down", "enter")
        await wait_for(pilot, lambda: app.result is not UNSET)
        assert app.result == "s002"
        await wait_for(pilot, lambda: lv._store is None)  # the list's connection is closed


async def test_click_moves_the_cursor_and_double_click_chooses(small_db: Path) -> None:
    app = StoryListApp(small_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: view(app).loaded)
        await pilot.click(StoryListView, offset=(10, 5))  # line 5 = row 4 (line 0 is the header)
        assert view(app).cursor == 4
        assert app.result is UNSET
        await pilot.click(StoryListView, offset=(10, 3), times=2)
        await wait_for(pilot, lambda: app.result is not UNSET)
        assert app.result == "s002"


async def test_escape_and_q_dismiss_with_none(small_db: Path) -> None:
    for key in ("escape", "q"):
        app = StoryListApp(small_db)
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_for(pilot, lambda: view(app).loaded)
            await pilot.press(key)
            await wait_for(pilot, lambda: app.result is not UNSET)
            assert app.result is None


async def test_cursor_starts_on_the_current_story(small_db: Path) -> None:
    app = StoryListApp(small_db, current="s005")
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: view(app).loaded)
        assert view(app).cursor == 5
        assert "▶ s005" in screen_text(app)
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.result is not UNSET)
        assert app.result == "s005"


async def test_unfinished_filter_hides_finished_stories(small_db: Path) -> None:
    app = StoryListApp(small_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: view(app).loaded)
        await pilot.press("U")
        await wait_for(pilot, lambda: view(app).loaded and view(app).total == 7)
        assert "s001" not in visible_ids(app)
        assert "unfinished only" in str(app.screen.query_one("#story-list-title").render())
        await pilot.press("U")
        await wait_for(pilot, lambda: view(app).loaded and view(app).total == 8)
        assert "s001" in visible_ids(app)


async def test_text_filter_by_id_or_title_prefix(small_db: Path) -> None:
    app = StoryListApp(small_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: view(app).loaded)
        await pilot.press("slash", *"harb")  # case-insensitive title prefix
        await wait_for(pilot, lambda: view(app).loaded and view(app).total == 3)
        assert visible_ids(app) == ["s001", "s005", "s007"]
        await pilot.press("tab")  # to the list, filter kept
        assert view(app).has_focus
        await pilot.press("down", "enter")
        await wait_for(pilot, lambda: app.result is not UNSET)
        assert app.result == "s005"


def post_keys(app: App, *keys: str) -> None:
    """Keys arriving all at once, before the app has handled any (a fast typist, tmux
    send-keys): each is routed to whatever has focus when the app takes it."""
    from textual import events

    for key in keys:
        app.post_message(events.Key(key, {"slash": "/", "enter": "\r"}.get(key, key if len(key) == 1 else None)))


async def test_text_typed_right_after_slash_reaches_the_filter(small_db: Path) -> None:
    app = StoryListApp(small_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: view(app).loaded)
        post_keys(app, "slash", "h", "a", "r", "b", "slash")
        await wait_for(pilot, lambda: app.screen.filter_input.value == "harb/")
        await pilot.press("backspace")
        await wait_for(pilot, lambda: view(app).loaded and view(app).total == 3)
        assert visible_ids(app) == ["s001", "s005", "s007"]


async def test_keys_typed_during_a_recount_act_on_its_result(small_db: Path) -> None:
    app = StoryListApp(small_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: view(app).loaded)
        post_keys(app, "U", "down", "enter")  # unfinished only: s000, s002, s003, ...
        await wait_for(pilot, lambda: app.result is not UNSET)
        assert app.result == "s002"


async def test_filter_box_takes_q_and_escape_clears_it(small_db: Path) -> None:
    app = StoryListApp(small_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: view(app).loaded)
        await pilot.press("slash", "s", "0", "0", "q")
        await wait_for(pilot, lambda: view(app).loaded and view(app).total == 0)
        assert app.result is UNSET  # q went into the box
        assert "No stories match." in screen_text(app)
        await pilot.press("escape")  # clears the filter, back to the list
        await wait_for(pilot, lambda: view(app).loaded and view(app).total == 8)
        assert app.result is UNSET
        assert view(app).has_focus
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.result is not UNSET)
        assert app.result is None


async def test_paging_loads_only_the_pages_shown(tmp_path: Path) -> None:
    path = tmp_path / "many.db"
    make_db(path, 3 * PAGE_SIZE + 17, per_story=1)
    app = StoryListApp(path)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: view(app).loaded)
        lv = view(app)
        assert lv.total == 3 * PAGE_SIZE + 17
        assert set(lv._pages) == {0}
        await pilot.press("end")
        await wait_for(pilot, lambda: lv.loaded and lv.cursor_story_id is not None)
        assert lv.cursor == lv.total - 1
        assert lv.cursor_story_id == f"s{lv.total - 1:03d}"
        assert 1 not in lv._pages  # the pages in between were never read
        await pilot.press("home", "pagedown")
        await wait_for(pilot, lambda: lv.loaded)
        assert lv.cursor == lv.scrollable_content_region.height - 1
        await pilot.press("pageup", "up")
        assert lv.cursor == 0
        await pilot.press("end", "enter")  # chosen as soon as the last page is there
        await wait_for(pilot, lambda: app.result is not UNSET)
        assert app.result == f"s{3 * PAGE_SIZE + 16:03d}"


async def test_empty_database(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    Store.open(path).close()
    app = StoryListApp(path)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: view(app).total == 0)
        assert "No stories yet." in screen_text(app)
        await pilot.press("enter", "escape")
        await wait_for(pilot, lambda: app.result is not UNSET)
        assert app.result is None


def test_snapshot_story_list(snap_compare, small_db: Path) -> None:
    async def loaded(pilot: Pilot) -> None:
        await wait_for(pilot, lambda: view(pilot.app).loaded)
        await pilot.press("down")

    app = StoryListApp(small_db, current="s002")
    assert snap_compare(app, terminal_size=(100, 30), run_before=loaded)


def figures_from_articles(store: Store, story_id: str) -> tuple[int, int, str | None]:
    """A story's articles, outlets and first date, read article by article."""
    articles = [store.get_article(aid) for aid in store.article_ids(story_id)]
    dates = [a.published for a in articles if a.published]
    return len(articles), len({a.source for a in articles}), min(dates) if dates else None


def test_sorting_reads_a_summary_that_curating_and_undo_keep_up(small_db: Path) -> None:
    with Store.open(small_db) as store:
        assert store.story_order("alice", "articles")[0] == "s000"  # all 3: ties by id
        store.move_articles(store.article_ids("s003")[:2], "s003", "s005", "alice")
        store.merge_stories("s006", ["s007"], "alice")
        assert store.story_order("alice", "articles", descending=True)[:2] == ["s006", "s005"]
        assert store.story_order("alice", "articles")[0] == "s003"
        rows = store.story_rows([s.id for s in store.stories()], "alice")
        assert [(r.articles, r.outlets, r.first_published) for r in rows] == [
            figures_from_articles(store, r.id) for r in rows]
        assert store.conn.execute("SELECT count(*) FROM story_stats_dirty").fetchone()[0] == 0
        store.undo("alice")  # the merge
        store.undo("alice")  # the move
        assert store.story_order("alice", "articles") == [f"s{k:03d}" for k in range(8)]
        assert [(r.id, r.articles) for r in store.story_rows(["s003", "s005", "s007"], "alice")] == [
            ("s003", 3), ("s005", 3), ("s007", 3)]


def test_a_story_changed_while_its_summary_is_stale_shows_its_live_figures(small_db: Path) -> None:
    # A second connection changes a story: the first one's page reads it from its articles
    # (it is marked dirty) until a sort or an import refreshes the summary.
    with Store.open(small_db) as store, Store.open(small_db) as other:
        store.story_order("alice", "articles")
        other.remove_articles_from_story("s004", store.article_ids("s004")[:1], "bob")
        assert [r.articles for r in store.story_rows(["s004"], "alice")] == [2]
        assert store.conn.execute("SELECT story_id FROM story_stats WHERE articles = 3 AND story_id = 's004'"
                                  ).fetchone() == ("s004",)  # still stale, not read
        assert store.refresh_story_stats() == 1
        assert store.story_order("alice", "articles")[0] == "s004"
