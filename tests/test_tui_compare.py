"""Cross-source comparison on screen: shared-passage highlights (h), claim suggestions
linked into a cluster (L), the cluster wording (w), and the story overview (o)."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsmark.analysis.align import align
from newsmark.schema.models import Story
from newsmark.schema.sanitize import article_id_for, text_sha256
from newsmark.schema.scheme import default_scheme
from newsmark.schema.store import Store
from tests.test_align import UNRELATED, make_copy, read_seed
from tests.test_tui_annotate import make_app, ready, reopen, saved, screen_text, until
from newsmark.tui.keymap import default_keymap, effective_keys
from newsmark.tui.screens.annotate import AnnotateScreen
from newsmark.tui.screens.help import help_table
from newsmark.tui.screens.overview import OverviewScreen, abbreviate

STORY = "copies"
SIZE = (160, 50)


def add_story(db_path: Path) -> list[str]:
    """A story of three articles: a real report, a word-spun copy with paragraphs dropped,
    and an unrelated article; returns their ids in import order."""
    real = read_seed("003")
    copy, _ = make_copy(real)
    return add_articles(db_path, [("Capital Cities", "The report", real), ("Echo Daily", "The copy", copy),
                                  ("Fete Gazette", "A village fete", UNRELATED)])


def add_articles(db_path: Path, articles: list[tuple[str, str, str]], story: str = STORY) -> list[str]:
    """A story of (outlet, title, text) articles; returns their ids in import order."""
    with Store.open(db_path) as store:
        store.upsert_story(Story(id=story, title="Copies", proposition="The copy copies the report."))
        rows = [(article_id_for(text), story, source, None, title, None, "2025-08-01", text, text_sha256(text), "{}", None)
                for source, title, text in articles]
        with store.transaction() as conn:
            store.insert_articles(conn, rows)
        return store.article_ids(story)


@pytest.fixture
def story(db_path: Path) -> tuple[Path, list[str]]:
    return db_path, add_story(db_path)


async def put_cursor_on(pilot, pane, words: str) -> None:
    """Move the pane's sentence cursor onto the sentence containing `words`."""
    index = next(k for k, (s, e) in enumerate(pane.text.sentences) if words in pane.text.text[s:e])
    pane.text.focus()
    pane.text.move_cursor(index)
    pane.refresh_modes()
    await pilot.pause()


# --- h: shared passages -------------------------------------------------------------------


async def test_h_highlights_the_passages_the_panes_share_and_names_the_best_match(story):
    db_path, ids = story
    app = make_app(db_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        left, right = screen.panes
        assert left.text.shared == [] and "shared with" not in screen_text(app)
        await pilot.press("h")
        await until(pilot, lambda: left.shared_label is not None and right.shared_label is not None)
        await pilot.pause()
        expected = align(left.text.text, right.text.text)
        assert expected.shared, "the copy must share passages with the report"
        # Highlights are the alignment's own code-point spans, on both sides.
        covered_left = {(p.a_start, p.a_end) for p in expected.shared}
        covered_right = {(p.b_start, p.b_end) for p in expected.shared}
        assert all(any(s <= a and b <= e for s, e in left.text.shared) for a, b in covered_left)
        assert all(any(s <= a and b <= e for s, e in right.text.shared) for a, b in covered_right)
        assert sum(e - s for s, e in left.text.shared) >= sum(b - a for a, b in covered_left) * 0.99
        assert left.shared_label == f"{round(100 * expected.a_shared)}% shared with Echo Daily"
        assert right.shared_label == f"{round(100 * expected.b_shared)}% shared with Capital Cities"
        text = screen_text(app)
        assert left.shared_label in text and right.shared_label in text
        # The highlighted text is what the alignment says is shared.
        s, e = left.text.shared[0]
        assert left.text.text[s:e].strip() == left.text.text[s:e]

        await pilot.press("b")  # blind mode: no outlet names
        await until(pilot, lambda: left.shared_label is not None and "article 2" in left.shared_label)
        assert "Echo Daily" not in screen_text(app) and "Capital Cities" not in screen_text(app)
        await pilot.press("b")
        await until(pilot, lambda: left.shared_label is not None and "Echo Daily" in left.shared_label)

        await pilot.press("tab", "right_square_bracket")  # the unrelated article in the right pane
        await until(pilot, lambda: right.article_id == ids[2])
        await until(pilot, lambda: left.text.shared == [])
        await until(pilot, lambda: right.shared_label is None)
        assert "Echo Daily" in (left.shared_label or "")  # still the best match in the story

        await pilot.press("h")
        await pilot.pause()
        assert left.text.shared == [] and left.shared_label is None
    app.close_stores()


async def test_shared_highlights_are_drawn_in_their_own_style(story):
    db_path, _ = story
    app = make_app(db_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        left = screen.panes[0]
        await pilot.press("h")
        await until(pilot, lambda: bool(left.text.shared))
        shared_style = left.text.get_component_rich_style("article-text--shared", partial=True)
        claim_style = left.text.get_component_rich_style("article-text--claim", partial=True)
        match_style = left.text.get_component_rich_style("article-text--match", partial=True)
        assert shared_style != claim_style and shared_style != match_style
        # A visible line inside a shared passage carries the style.
        start, _ = left.text.shared[0]
        await put_cursor_on(pilot, left, left.text.text[start : start + 20])
        left.text.move_cursor(None)
        row = next(k for k, (a, b) in enumerate(left.text._lines) if a <= start < b) - int(left.text.scroll_y)
        strip = left.text.render_line(row)
        assert any(seg.style is not None and seg.style.italic for seg in strip)
    app.close_stores()


# --- suggestions, L and w ------------------------------------------------------------------


async def test_marking_a_claim_suggests_matches_and_L_links_one_into_the_cluster(story):
    db_path, ids = story
    app = make_app(db_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        left = screen.panes[0]
        await put_cursor_on(pilot, left, "menace to its rule")
        await pilot.press("c")
        await until(pilot, lambda: left.suggestions is not None)
        await saved(app, pilot)
        state = left.suggestions
        assert state.items and state.items[0].article_id == ids[1]
        assert all(item.article_id != ids[2] for item in state.items)  # not the unrelated one
        best = state.items[0]
        assert "menace to its rule" in best.text
        assert "Echo Daily" in screen_text(app) and f"{best.score:.2f}" in screen_text(app)
        await pilot.press("L")
        await saved(app, pilot)
        await until(pilot, lambda: best.linked)
        with reopen(db_path) as store:
            (mine,) = store.claims(ids[0], "alice")
            (linked,) = store.claims(ids[1], "alice")
            copy_text = store.get_article(ids[1]).text
        assert mine.cluster is not None and linked.cluster == mine.cluster
        assert (linked.start, linked.end) == (best.start, best.end)
        assert linked.exact == copy_text[best.start : best.end] == best.text
        # The right pane shows the new claim; the banner says the cluster spans 2 articles.
        assert len(screen.panes[1].annotation.claims) == 1
        assert "linked: 2 articles" in screen_text(app)

        await pilot.press("u")  # one undo takes back the new claim and the link
        await saved(app, pilot)
        with reopen(db_path) as store:
            assert store.claims(ids[1], "alice") == []
            assert store.claims(ids[0], "alice")[0].cluster is None
    app.close_stores()


async def test_w_edits_the_wording_of_the_claims_cluster(story):
    db_path, ids = story
    app = make_app(db_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        left = screen.panes[0]
        await put_cursor_on(pilot, left, "menace to its rule")
        await pilot.press("c")
        await until(pilot, lambda: left.suggestions is not None and bool(left.suggestions.items))
        await saved(app, pilot)
        await pilot.press("w")  # not linked yet: nothing to word
        await pilot.pause()
        assert isinstance(app.screen, AnnotateScreen)
        await pilot.press("L")
        await saved(app, pilot)
        await pilot.press("w")
        await until(pilot, lambda: type(app.screen).__name__ == "ClusterWordingScreen")
        await pilot.press("ctrl+a", "ctrl+k", *"Taliban fights ISIS-K [b]", "enter")
        await until(pilot, lambda: isinstance(app.screen, AnnotateScreen))
        await saved(app, pilot)
        cluster = left.current_claim().cluster
        await until(pilot, lambda: left.annotation.cluster_labels.get(cluster) == "Taliban fights ISIS-K [b]")
        await pilot.pause()
        assert "“Taliban" in screen_text(app)  # the CLAIM banner quotes the wording
    app.close_stores()
    with reopen(db_path) as store:
        (claim,) = store.claims(ids[0], "alice")
        assert store.cluster_label(claim.cluster) == "Taliban fights ISIS-K [b]"


def test_add_linked_claim_is_one_action(store: Store, tmp_path: Path):
    ids = add_story(store.location)
    claim, _ = store.add_claim(ids[0], "al", 0, 20)
    cluster, linked, result = store.add_linked_claim(claim.id, ids[1], 0, 30, "al")
    assert linked.cluster == cluster == store.get_claim(claim.id).cluster
    assert len({event.action for event in result.events}) == 1
    assert store.cluster_label(cluster) == claim.exact
    again_cluster, again, _ = store.add_linked_claim(claim.id, ids[2], 5, 9, "al")
    assert again_cluster == cluster and store.cluster_article_count(cluster) == 3
    store.undo("al")
    assert store.get_claim(again.id) is None and store.cluster_article_count(cluster) == 2
    store.undo("al")
    assert store.get_claim(linked.id) is None and store.get_claim(claim.id).cluster is None
    assert store.cluster_label("nope") is None


# --- o: the story overview -----------------------------------------------------------------


async def _overview(app, pilot) -> OverviewScreen:
    await pilot.press("o")
    await until(pilot, lambda: isinstance(app.screen, OverviewScreen) and app.screen.complete)
    await pilot.pause()
    await pilot.pause()
    return app.screen  # type: ignore[return-value]


def _prepare_overview(db_path: Path, ids: list[str]) -> None:
    with Store.open(db_path) as store:
        store.set_label(ids[0], "alice", "stance", "agree")
        store.set_label(ids[0], "alice", "credibility", "2")
        store.set_label(ids[1], "alice", "stance", "discuss")
        text = store.get_article(ids[0]).text
        start = text.index("menace to its rule")
        claim, _ = store.add_claim(ids[0], "alice", start, start + 18)
        store.set_claim_label(claim.id, "alice", "credibility", "3")
        copy_text = store.get_article(ids[1]).text
        other = copy_text.index("menace to its rule")
        cluster, _, _ = store.add_linked_claim(claim.id, ids[1], other, other + 18, "alice")
        store.set_cluster_label(cluster, "alice", "Taliban sees ISIS-K as a menace")


async def test_overview_reads_at_80_by_24(story):
    db_path, ids = story
    _prepare_overview(db_path, ids)
    app = make_app(db_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(app, pilot)
        screen = await _overview(app, pilot)
        with reopen(db_path) as store:
            expected = align(store.get_article(ids[0]).text, store.get_article(ids[1]).text)
        text = screen_text(app)
        assert "Who copies whom" in text
        assert "1 CC" in text and "2 ED" in text and "3 FG" in text
        assert f"{round(100 * expected.a_shared)}%" in text and f"{round(100 * expected.b_shared)}%" in text
        assert all(len(line.rstrip()) <= 80 for line in text.splitlines())
        table = screen.query_one("#claims-table")
        rows = [[cell.plain for cell in table.get_row_at(k)] for k in range(table.row_count)]
        assert rows[0][1:] == ["agree", "discuss", "–"]
        assert rows[1][1:] == ["2", "–", "–"]
        assert rows[2][0] == "Taliban sees ISIS-K as a menace (2)"
        assert rows[2][1:] == ["● 3", "●", "·"]
        await pilot.press("end")
        await pilot.pause()
        assert "Capital Cities" in screen_text(app)  # the legend, below the tables
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, AnnotateScreen))
    app.close_stores()


async def test_overview_in_blind_mode_names_no_outlet(story):
    db_path, ids = story
    app = make_app(db_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(app, pilot)
        await pilot.press("b")
        await _overview(app, pilot)
        text = screen_text(app)
        assert "Capital Cities" not in text and "Echo Daily" not in text and "CC" not in text
        assert "BLIND MODE" in text
    app.close_stores()


def test_snapshot_overview_screen(db_path, snap_compare):
    ids = add_story(db_path)
    _prepare_overview(db_path, ids)
    app = make_app(db_path)

    async def run_before(pilot) -> None:
        await ready(pilot.app, pilot)
        await _overview(pilot.app, pilot)

    try:
        assert snap_compare(app, terminal_size=(100, 30), run_before=run_before)
    finally:
        app.close_stores()


def test_abbreviations_are_short_and_distinct():
    assert abbreviate(["Capital Cities", "Reuters", "Military Review", "Military Reporter"]) == [
        "CC", "Reute", "MR1", "MR2",
    ]
    assert abbreviate(["[bold]x[/]"]) == ["[bold"]  # plain text, shown as a Text cell


# --- keys -------------------------------------------------------------------------------------


def test_new_keys_are_in_the_keymap_and_the_help():
    keys = default_keymap()
    assert keys["shared.toggle"] == "h" and keys["overview"] == "o" and keys["suggestion.link"] == "L"
    assert keys["cluster.wording"] == "w" and (keys["suggestion.next"], keys["suggestion.previous"]) == ("J", "K")
    from rich.console import Console

    console = Console(width=120, record=True)
    console.print(help_table(default_scheme(), {}))
    shown = console.export_text()
    for wording in ("Highlight passages shared with the other panes", "Story overview",
                    "Link the selected suggestion into the claim's cluster", "Edit the wording of the claim's cluster"):
        assert wording in shown


def test_a_scheme_label_key_wins_over_a_new_default_key():
    from newsmark.schema.scheme import parse_scheme

    scheme = parse_scheme("""
[[fields]]
name = "hedged"
level = "claim"
kind = "nominal"
labels = [{ value = "yes", key = "h" }, { value = "no", key = "o" }]
""")
    keys = effective_keys({}, scheme)
    assert keys["label.hedged.yes"] == "h" and keys["shared.toggle"] == "" and keys["overview"] == ""
    assert effective_keys({"shared.toggle": "H"}, scheme)["shared.toggle"] == "H"
    assert keys["claim.toggle"] == "c"  # the older keys stay as they were


async def test_highlights_wait_for_nothing_on_the_event_loop(story):
    """The alignment runs in a worker thread: the screen answers keys while it runs."""
    db_path, _ = story
    app = make_app(db_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        await pilot.press("h", "j")
        assert screen.panes[0].text.cursor is not None
        await until(pilot, lambda: screen.panes[0].shared_label is not None)
    app.close_stores()
