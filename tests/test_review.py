"""The review screen through the Pilot: gold rows in the database, annotators' own labels
and claims untouched, blind mode, progress, navigation, hostile text; one snapshot."""

from __future__ import annotations

import time
from pathlib import Path

from click.testing import CliRunner

from newsmark.schema.models import Story
from newsmark.schema.sanitize import article_id_for, text_sha256
from newsmark.schema.store import Store
from newsmark.tui.cli import cli
from newsmark.tui.review.app import ReviewApp
from newsmark.tui.review.article_view import claims_text
from newsmark.tui.review.claims_table import ClaimsTable
from newsmark.tui.review.labels_table import LabelsTable

ON_BOTH_ENGINES = True  # every test here runs on SQLite and on PostgreSQL (conftest)

TEXTS = [
    "The minister said on Monday that the border would reopen within a week. Critics doubted it. "
    "Officials at the crossing had not been told.",
    "Border to reopen, minister says. The announcement came after talks in the capital on Monday.",
    "Traders at the crossing [@click=app.quit] say [bold]nothing[/bold] has changed. \x1b is gone.",
]


def build(db_path: Path) -> list[str]:
    """One story, three articles; ann, bob and cat disagree on article 0 (stance) and
    article 2 (reliability); article 1 has full agreement."""
    texts = [TEXTS[0], TEXTS[1], TEXTS[2].replace("\x1b", "")]
    with Store.open(db_path) as store:
        with store.transaction() as conn:
            store.ensure_story(conn, Story(id="border", title="Border reopening", proposition="The border reopens."))
            store.insert_articles(conn, [
                (article_id_for(t), "border", f"Outlet {i}", None, f"Title {i}", None, None, t, text_sha256(t), "{}", None)
                for i, t in enumerate(texts)
            ])
        ids = [article_id_for(t) for t in texts]
        for name, stance in (("ann", "agree"), ("bob", "disagree"), ("cat", "agree")):
            store.set_label(ids[0], name, "stance", stance)
            store.set_label(ids[0], name, "reliability", "B")
            store.set_label(ids[1], name, "stance", "agree")
        store.set_label(ids[2], "ann", "reliability", "B")
        store.set_label(ids[2], "bob", "reliability", "F")
        store.add_claim(ids[0], "ann", 0, 71, {"checkworthy": "yes"})
        store.add_claim(ids[0], "bob", 0, 71)
        store.add_claim(ids[0], "cat", 72, 91)
    return ids


def own_rows(db_path: Path) -> tuple[list, list, list]:
    """Everything annotators own: labels, claims and claim labels (gold excluded)."""
    with Store.open(db_path, create=False) as store:
        labels = store.conn.execute("SELECT article_id, annotator, field, value FROM labels ORDER BY 1, 2, 3").fetchall()
        claims = store.conn.execute('SELECT id, annotator, start, "end" FROM claims ORDER BY 1').fetchall()
        claim_labels = store.conn.execute("SELECT * FROM claim_labels ORDER BY 1, 2").fetchall()
    return labels, claims, claim_labels


def make_app(db_path: Path, reviewer: str = "lead", **kwargs) -> ReviewApp:
    """A review app with animations and cursor blink off."""
    app = ReviewApp(db_path, reviewer, **kwargs)
    app.animation_level = "none"
    app.cursor_blink = False
    return app


async def wait_for(pilot, predicate, timeout: float = 10.0) -> None:
    """Let the app run until predicate() holds (thread workers report back by messages)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the screen's state")
        await pilot.pause(0.02)


def loaded(app: ReviewApp, index: int | None = None):
    def check() -> bool:
        state = getattr(app.screen, "state", None)
        return state is not None and (index is None or state.index == index)
    return check


async def test_taking_an_annotators_value_as_gold(db_path):
    ids = build(db_path)
    before = own_rows(db_path)
    app = make_app(db_path, story_id="border")
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, loaded(app, 0))
        screen = app.screen
        assert screen.state.review.disagreements == ["stance"]
        table = screen.query_one(LabelsTable)
        assert table.cursor_coordinate == (0, 1)  # ann's stance
        await pilot.press("down", "enter")  # bob's stance: disagree
        await wait_for(pilot, lambda: app.screen is not screen)
        await pilot.press(*"headline says so", "enter")
        await wait_for(pilot, lambda: "stance" in screen.state.review.gold)
        assert screen.state.progress.done == 1
    with Store.open(db_path, create=False) as store:
        rows = store.conn.execute("SELECT article_id, field, value, by, reason FROM gold").fetchall()
        assert rows == [(ids[0], "stance", "disagree", "lead", "headline says so")]
        assert "lead" not in store.annotators()  # adjudicating does not make one an annotator
    assert own_rows(db_path) == before


async def test_typing_another_value_and_progress(db_path):
    ids = build(db_path)
    before = own_rows(db_path)
    app = make_app(db_path, story_id="border")
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, loaded(app, 0))
        screen = app.screen
        assert (screen.state.progress.done, screen.state.progress.with_disagreement) == (0, 2)
        await pilot.press("N")  # the next disagreement after article 0 is article 2
        await wait_for(pilot, loaded(app, 2))
        assert screen.state.review.disagreements == ["reliability"]
        await pilot.press("right", "o")
        await wait_for(pilot, lambda: app.screen is not screen)
        await pilot.press("x", "enter")  # not a reliability label: the modal stays
        assert app.screen is not screen
        await pilot.press("backspace", "C", "enter", *"both wrong", "enter")
        await wait_for(pilot, lambda: "reliability" in screen.state.review.gold)
        assert (screen.state.progress.done, screen.state.progress.with_disagreement) == (1, 2)
        await pilot.press("N")  # the one left: article 0
        await wait_for(pilot, loaded(app, 0))
        await pilot.press("]")
        await wait_for(pilot, loaded(app, 1))
        assert screen.state.review.disagreements == []
    with Store.open(db_path, create=False) as store:
        assert store.gold(ids[2])["reliability"]["value"] == "C"
        assert store.gold(ids[2])["reliability"]["reason"] == "both wrong"
        assert store.gold(ids[0]) == {}
    assert own_rows(db_path) == before


async def test_removing_gold(db_path):
    ids = build(db_path)
    with Store.open(db_path) as store:
        store.set_gold(ids[0], "stance", "agree", "lead", "first look")
    app = make_app(db_path, story_id="border")
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, loaded(app, 0))
        screen = app.screen
        assert screen.state.review.gold["stance"]["value"] == "agree"
        await pilot.press("delete")
        await wait_for(pilot, lambda: "stance" not in screen.state.review.gold)
    with Store.open(db_path, create=False) as store:
        assert store.gold(ids[0]) == {}


async def test_blind_mode_hides_names(db_path):
    build(db_path)
    app = make_app(db_path, story_id="border", blind=True)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, loaded(app, 0))
        screen = app.screen
        table = screen.query_one(LabelsTable)
        who = [str(table.get_cell_at((row, 0))) for row in range(table.row_count)]
        assert who == ["annotator 1", "annotator 2", "annotator 3", "gold"]
        claims = screen.query_one(ClaimsTable)
        shown = " ".join(str(claims.get_cell_at((row, 0))) for row in range(claims.row_count))
        assert "ann" not in shown.replace("annotator", "") and "bob" not in shown
        text = claims_text(screen.state, blind=True).plain
        assert "annotator 2" in text and "bob" not in text
        await pilot.press("b")
        assert [str(table.get_cell_at((row, 0))) for row in range(table.row_count)] == ["ann", "bob", "cat", "gold"]


async def test_accepting_a_claim_as_gold(db_path):
    ids = build(db_path)
    before = own_rows(db_path)
    app = make_app(db_path, story_id="border")
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, loaded(app, 0))
        screen = app.screen
        claims = screen.query_one(ClaimsTable)
        claims.focus()
        await pilot.pause()
        assert claims.cursor_key().startswith("c:")
        await pilot.press("G")
        await wait_for(pilot, lambda: app.screen is not screen)
        await pilot.press(*"clear claim", "enter")
        await wait_for(pilot, lambda: len(screen.state.review.gold_claims) == 1)
    with Store.open(db_path, create=False) as store:
        [gold] = store.gold_claims(ids[0])
        assert (gold["start"], gold["end"], gold["by"], gold["reason"]) == (0, 71, "lead", "clear claim")
        assert gold["labels"] == {"checkworthy": "yes"}
        assert gold["exact"] == TEXTS[0][:71]
    assert own_rows(db_path) == before


async def test_hostile_text_and_names_are_not_markup(db_path):
    ids = build(db_path)
    with Store.open(db_path) as store:
        store.set_label(ids[2], "[@click=app.quit]", "stance", "agree")
    app = make_app(db_path, story_id="border")
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, loaded(app, 0))
        await pilot.press("]", "]")
        await wait_for(pilot, loaded(app, 2))
        screen = app.screen
        assert "[@click=app.quit]" in screen.state.annotators
        text = claims_text(screen.state, blind=False).plain
        assert "[@click=app.quit] say [bold]nothing[/bold]" in text
        table = screen.query_one(LabelsTable)
        assert str(table.get_cell_at((0, 0))) == "[@click=app.quit]"
        await pilot.click(LabelsTable, offset=(2, 1))  # clicking the name must not quit
        await pilot.pause()
        assert app.is_running


def test_review_command_errors(db_path, tmp_path):
    runner = CliRunner()
    missing = runner.invoke(cli, ["--db", str(tmp_path / "none.db"), "review"])
    assert missing.exit_code == 1 and missing.output.startswith("Error: no database at ")
    build(db_path)
    result = runner.invoke(cli, ["--db", str(db_path), "review", "--story", "nope"])
    assert (result.exit_code, result.output) == (1, "Error: no story 'nope' (see `newsmark status`)\n")


def test_review_screen_snapshot(db_path, snap_compare):
    build(db_path)
    app = make_app(db_path, story_id="border")

    async def settle(pilot) -> None:
        await wait_for(pilot, loaded(app, 0))
        await pilot.pause()

    assert snap_compare(app, terminal_size=(120, 36), run_before=settle)


def test_a_huge_article_is_capped_on_screen(db_path):
    from newsmark.tui.review.article_view import MAX_CHARS
    from newsmark.tui.review.data import ReviewData

    text = "word " * 60_000  # 300,000 characters on one line
    with Store.open(db_path) as store:
        with store.transaction() as conn:
            store.ensure_story(conn, Story(id="big", title="Big", proposition="p"))
            store.insert_articles(conn, [
                (article_id_for(text), "big", "Outlet", None, None, None, None, text, text_sha256(text), "{}", None)
            ])
        store.add_claim(article_id_for(text), "ann", 250_000, 250_010)
    data = ReviewData(db_path)
    try:
        state = data.state("big")
    finally:
        data.close()
    rendered = claims_text(state, blind=False).plain
    assert f"({len(text) - MAX_CHARS:,} more characters not shown here)" in rendered
    assert len(rendered) < MAX_CHARS + 500


async def test_story_navigation_help_and_reload(db_path):
    ids = build(db_path)
    with Store.open(db_path) as store:
        with store.transaction() as conn:
            store.ensure_story(conn, Story(id="zeta", title="Second story", proposition="q"))
            store.insert_articles(conn, [
                (article_id_for("Zeta text."), "zeta", "Z", None, None, None, None, "Zeta text.",
                 text_sha256("Zeta text."), "{}", None)
            ])
    app = make_app(db_path)  # no --story: the first story
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, loaded(app, 0))
        screen = app.screen
        assert screen.state.story.id == "border"
        await pilot.press("n")
        await wait_for(pilot, lambda: screen.state.story.id == "zeta")
        assert screen.state.progress.with_disagreement == 0
        await pilot.press("p")
        await wait_for(pilot, lambda: screen.state.story.id == "border")
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: app.screen is not screen)
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen)
        with Store.open(db_path) as store:  # a teammate labels meanwhile (shared database)
            store.set_label(ids[0], "dan", "stance", "discuss")
        await pilot.press("r")
        await wait_for(pilot, lambda: "dan" in screen.state.annotators)
