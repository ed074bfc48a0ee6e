"""The story list as a finder: columns, sorting, full-text search, and curating stories
from the list (edit, merge, undo), each checked on screen and in the database reopened."""

from __future__ import annotations

from pathlib import Path

import pytest

from rich.console import Console

from newsmark.schema.store import Store
from newsmark.tui.widgets import story_list_view
from newsmark.tui.screens.story_list import STORY_LIST_KEYS
from newsmark.tui.widgets.story_modals import ConfirmModal, KeysModal, StoryEditModal
from tests.test_background import notifications
from tests.test_story_list import UNSET, StoryListApp, make_db, screen_text, view, visible_ids, wait_for


@pytest.fixture
def small_db(tmp_path: Path) -> Path:
    path = tmp_path / "stories.db"
    make_db(path, 8)
    return path


def title_bar(app) -> str:
    return str(app.screen.query_one("#story-list-title").render())


async def test_columns_show_outlets_and_date_range(small_db: Path) -> None:
    app = StoryListApp(small_db)
    async with app.run_test(size=(110, 30)) as pilot:
        await wait_for(pilot, lambda: view(app).loaded)
        lines = screen_text(app).splitlines()
        assert all(name in lines[0] for name in ("articles", "outlets", "published", "labelled"))
        s002 = next(line for line in lines if "s002" in line).split()
        # 3 articles, 3 outlets, Feb 12-14, 1 of 3 labelled
        assert s002[-5:-1] == ["3", "3", "2017-02-12–2017-02-14", "1/3"]


async def test_sort_cycles_columns_and_reverses(small_db: Path) -> None:
    app = StoryListApp(small_db)
    async with app.run_test(size=(110, 30)) as pilot:
        await wait_for(pilot, lambda: view(app).loaded)
        await pilot.press("s", "s")  # articles, then outlets
        await wait_for(pilot, lambda: view(app).loaded and view(app).story_filter.sort == "outlets")
        assert visible_ids(app) == ["s000", "s003", "s006", "s001", "s004", "s007", "s002", "s005"]
        assert "outlets▲" in screen_text(app).splitlines()[0]
        assert "by outlets ▲" in title_bar(app)
        await pilot.press("r")
        await wait_for(pilot, lambda: view(app).loaded and view(app).story_filter.descending)
        assert visible_ids(app)[:2] == ["s005", "s002"]
        assert "outlets▼" in screen_text(app).splitlines()[0]
        await pilot.press("s", "s", "r")  # dates, then progress, most done first
        await wait_for(pilot, lambda: view(app).loaded and view(app).story_filter.sort == "progress"
                       and view(app).story_filter.descending)
        assert visible_ids(app)[:2] == ["s001", "s002"]
        await pilot.press("home", "enter")
        await wait_for(pilot, lambda: app.result is not UNSET)
        assert app.result == "s001"


async def test_search_finds_words_in_article_texts(tmp_path: Path) -> None:
    path = tmp_path / "search.db"
    make_db(path, 8)
    with Store.open(path) as store:  # a word only in the text of one article of s006
        aid = store.article_ids("s006")[1]
        store.conn.execute("UPDATE articles SET text = 'Kim Jong-nam died at the airport.' WHERE id = ?", (aid,))
    app = StoryListApp(path)
    async with app.run_test(size=(110, 30)) as pilot:
        await wait_for(pilot, lambda: view(app).loaded)
        await wait_for(pilot, lambda: view(app).indexing is None and Path(str(path) + ".search").exists())
        await pilot.press("slash", *"jong airp")
        await wait_for(pilot, lambda: view(app).loaded and view(app).total == 1)
        assert visible_ids(app) == ["s006"]
        assert "matching 'jong airp'" in title_bar(app)
        await pilot.press("enter")  # enter in the search box opens the hit
        await wait_for(pilot, lambda: app.result is not UNSET)
        assert app.result == "s006"


async def test_indexing_progress_is_shown_and_a_search_reruns_when_done(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "big.db"
    make_db(path, 40, per_story=30)
    monkeypatch.setattr(story_list_view, "INDEX_CHUNK", 3)  # 400 steps: long enough to be seen
    app = StoryListApp(path)
    async with app.run_test(size=(110, 30)) as pilot:
        await wait_for(pilot, lambda: "indexing " in title_bar(app) and "%" in title_bar(app))
        await pilot.press("slash", *"article 29")  # in every story's texts: found as indexed
        await wait_for(pilot, lambda: view(app).indexing is None and view(app).loaded and view(app).total == 40)
        assert "indexing" not in title_bar(app)


async def test_edit_title_and_proposition_then_undo(small_db: Path) -> None:
    app = StoryListApp(small_db)
    async with app.run_test(size=(110, 30)) as pilot:
        await wait_for(pilot, lambda: view(app).loaded)
        await pilot.press("down", "down", "e")
        await wait_for(pilot, lambda: isinstance(app.screen, StoryEditModal))
        assert app.screen.query_one("#story-edit-title").value == "Budget story number 2"
        await pilot.press("ctrl+u", *"Kim Jong-nam killed", "tab", "ctrl+u", *"North Korea did it", "enter")
        await wait_for(pilot, lambda: "Kim Jong-nam killed" in screen_text(app))
        assert view(app).cursor_story_id == "s002"
        with Store.open(small_db) as store:
            story = store.get_story("s002")
            assert (story.title, story.proposition) == ("Kim Jong-nam killed", "North Korea did it")
        await pilot.press("u")
        await wait_for(pilot, lambda: "Budget story number 2" in screen_text(app))
        with Store.open(small_db) as store:
            story = store.get_story("s002")
            assert (story.title, story.proposition) == ("Budget story number 2", "p")


async def test_escape_leaves_the_story_unedited(small_db: Path) -> None:
    app = StoryListApp(small_db)
    async with app.run_test(size=(110, 30)) as pilot:
        await wait_for(pilot, lambda: view(app).loaded)
        await pilot.press("e")
        await wait_for(pilot, lambda: isinstance(app.screen, StoryEditModal))
        await pilot.press("x", "escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, StoryEditModal))
        with Store.open(small_db) as store:
            assert store.get_story("s000").title == "Budget story number 0"
            assert store.undo("alice") is not None  # the latest action is still make_db's label


async def test_mark_and_merge_then_undo(small_db: Path) -> None:
    app = StoryListApp(small_db)
    async with app.run_test(size=(110, 30)) as pilot:
        await wait_for(pilot, lambda: view(app).loaded)
        await pilot.press("down", "down", "m", "m")  # m marks and moves down: s002, s003
        await wait_for(pilot, lambda: view(app).marked == {"s002", "s003"})
        assert "2 marked" in title_bar(app)
        assert "•s002" in screen_text(app)
        await pilot.press("home", "M")  # into s000
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmModal))
        assert "Merge s002, s003 into s000?" in str(app.screen.query_one("#confirm-question").render())
        await pilot.press("n")  # refused: nothing changes
        await wait_for(pilot, lambda: not isinstance(app.screen, ConfirmModal))
        with Store.open(small_db) as store:
            assert store.article_count("s000") == 3
        await pilot.press("M", "y")
        await wait_for(pilot, lambda: view(app).loaded and view(app).total == 6)
        assert visible_ids(app) == ["s000", "s001", "s004", "s005", "s006", "s007"]
        assert view(app).marked == set()
        s000 = next(line for line in screen_text(app).splitlines() if "s000" in line).split()
        assert s000[-5:-1] == ["9", "3", "2017-02-10–2017-02-15", "1/9"]
        with Store.open(small_db) as store:
            assert store.article_count("s000") == 9 and store.get_story("s002") is None
        await pilot.press("u")
        await wait_for(pilot, lambda: view(app).loaded and view(app).total == 8)
        with Store.open(small_db) as store:
            assert [store.article_count(s) for s in ("s000", "s002", "s003")] == [3, 3, 3]


async def test_merge_without_marks_says_how(small_db: Path) -> None:
    app = StoryListApp(small_db)
    async with app.run_test(size=(110, 30), notifications=True) as pilot:
        await wait_for(pilot, lambda: view(app).loaded)
        await pilot.press("M")
        await wait_for(pilot, lambda: any("Mark stories with m" in m for m in notifications(app)))
        assert not isinstance(app.screen, ConfirmModal)


async def test_undo_with_nothing_to_undo(tmp_path: Path) -> None:
    path = tmp_path / "fresh.db"
    make_db(path, 5)
    app = StoryListApp(path, annotator="carol")  # carol has done nothing
    async with app.run_test(size=(110, 30), notifications=True) as pilot:
        await wait_for(pilot, lambda: view(app).loaded)
        await pilot.press("u")
        await wait_for(pilot, lambda: "Nothing to undo." in notifications(app))


async def test_help_lists_the_keys(small_db: Path) -> None:
    app = StoryListApp(small_db)
    async with app.run_test(size=(110, 40)) as pilot:
        await wait_for(pilot, lambda: view(app).loaded)
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, KeysModal))
        console = Console(width=110, record=True)
        console.print(app.screen.query_one("#keys-table").content)
        shown = console.export_text()
        assert "u, ^z" in shown
        for _id, _keys, _action, description, _show in STORY_LIST_KEYS:
            assert description in shown
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, KeysModal))
        assert app.result is UNSET


@pytest.mark.slow
async def test_new_user_finds_the_kim_jong_nam_story_in_grouped_news_articles(tmp_path: Path, shared_data) -> None:
    """The issue's walk-through: NewsArticles.csv imported with --group, the Kim Jong-nam
    story found by typing "Kim", opened, its proposition set from the list, then undone."""
    from click.testing import CliRunner

    from newsmark.tui.cli import cli

    path = tmp_path / "news.db"
    csv = shared_data / "news-articles" / "NewsArticles.csv"
    result = CliRunner().invoke(cli, ["--db", str(path), "import", "--group", str(csv), "--map",
                                      "url=article_source_link", "--map", "published=publish_date"])
    assert result.exit_code == 0, result.stderr
    with Store.open(path, create=False) as store:
        # The story holding the police's DNA demand, titled after its most central article.
        kim = next(s.id for s in store.stories()
                   if any("Kim family" in (store.get_article(a).title or "") for a in store.article_ids(s.id)))
        kim_title = store.get_story(kim).title
        assert "Kim" in kim_title and not kim_title.startswith("group-")
    app = StoryListApp(path)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: view(app).loaded)
        await pilot.press("slash", *"Kim")
        await wait_for(pilot, lambda: view(app).indexing is None and view(app).loaded
                       and view(app).story_filter.text == "Kim", timeout=60)
        assert kim in visible_ids(app)
        assert kim_title[:40] in screen_text(app)
        await pilot.press("tab")
        while view(app).cursor_story_id != kim:
            await pilot.press("down")
        await pilot.press("e")
        await wait_for(pilot, lambda: isinstance(app.screen, StoryEditModal))
        await pilot.press("tab", *"North Korea killed Kim Jong-nam", "enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, StoryEditModal) and view(app).loaded)
        with Store.open(path, create=False) as store:
            assert store.get_story(kim).proposition == "North Korea killed Kim Jong-nam"
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.result is not UNSET)
        assert app.result == kim


async def test_a_common_word_finds_the_best_ranked_stories_and_sorting_follows_curating(
        tmp_path: Path, monkeypatch) -> None:
    # s006's articles say "harbor" over and over, s002's once each. With room for 3 articles
    # only (SEARCH_ARTICLES), searching "harbor" shows the best-ranked ones' story, not
    # s002 — and the stories titled with it (odd ones: "Harbor story number k").
    from newsmark.schema import search

    path = tmp_path / "ranked.db"
    make_db(path, 8)
    with Store.open(path) as store:
        for aid in store.article_ids("s006"):
            store.conn.execute("UPDATE articles SET text = 'Harbor harbor harbor: harbor fees, harbor board.' "
                               "|| id WHERE id = ?", (aid,))
        for aid in store.article_ids("s002"):  # once each: ranked below s006's
            store.conn.execute("UPDATE articles SET text = 'A report on the harbor. ' || id WHERE id = ?", (aid,))
    monkeypatch.setattr(search, "SEARCH_ARTICLES", 3)
    app = StoryListApp(path)
    async with app.run_test(size=(110, 30)) as pilot:
        await wait_for(pilot, lambda: view(app).loaded)
        await wait_for(pilot, lambda: view(app).indexing is None and Path(str(path) + ".search").exists())
        await pilot.press("slash", *"harbor")
        await wait_for(pilot, lambda: view(app).loaded and view(app).story_filter.text == "harbor"
                       and view(app).total is not None and view(app).total > 0)
        assert visible_ids(app) == ["s001", "s005", "s006", "s007"]
        await pilot.press("escape")
        await wait_for(pilot, lambda: view(app).loaded and not view(app).story_filter.text)
        # Sorted by articles (most first), after two of s000's articles moved to s007.
        with Store.open(path) as store:
            store.move_articles(store.article_ids("s000")[:2], "s000", "s007", "alice")
        await pilot.press("s", "r")
        await wait_for(pilot, lambda: view(app).loaded and view(app).story_filter.sort == "articles"
                       and view(app).story_filter.descending)
        assert visible_ids(app)[0] == "s007" and visible_ids(app)[-1] == "s000"
        lines = screen_text(app).splitlines()
        assert next(line for line in lines if "s007" in line).split()[-5] == "5"
        assert next(line for line in lines if "s000" in line).split()[-5] == "1"
