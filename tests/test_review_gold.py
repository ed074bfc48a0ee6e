"""Review fit for a day's work, through the Pilot: the accept-agreed keys, progress counted
by what needs a decision, notes and flags, undo and redo of gold, and the layout at 80x24
and 160x48. Every write is checked in the database reopened."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from newsmark.analysis.gold import POLICY_SETTING
from newsmark.schema.models import Story
from newsmark.schema.sanitize import article_id_for, text_sha256
from newsmark.schema.store import Store
from newsmark.tui.review.article_view import claims_text
from newsmark.tui.review.claims_table import ClaimsTable
from newsmark.tui.cli import cli
from newsmark.tui.review.labels_table import GOLD_ROW, LabelsTable
from tests.test_review import TEXTS, build, loaded, make_app, own_rows, wait_for

ON_BOTH_ENGINES = True  # every test here runs on SQLite and on PostgreSQL (conftest)


def messages(app) -> list[str]:
    """The notifications shown so far."""
    return [note.message for note in app._notifications]


def gold_rows(db_path: Path) -> list[tuple]:
    """Every gold value in the database: (article, story, field, value, by, reason)."""
    with Store.open(db_path, create=False) as store:
        return store.conn.execute(
            "SELECT article_id, story_id, field, value, by, reason FROM gold ORDER BY 1, 2, 3").fetchall()


def gold_claim_rows(db_path: Path) -> list[tuple]:
    """Every gold claim: (article, start, end, labels, by, reason)."""
    with Store.open(db_path, create=False) as store:
        return store.conn.execute(
            'SELECT article_id, start, "end", labels, by, reason FROM gold_claims ORDER BY 1, 2').fetchall()


def lines(widget) -> list[str]:
    """What a widget shows, line by line."""
    return [widget.render_line(y).text for y in range(widget.size.height)]


async def test_accept_agreed_for_one_article_and_its_undo(db_path):
    ids = build(db_path)  # article 0: stance 2 agree / 1 disagree, reliability B by all three
    before = own_rows(db_path)
    app = make_app(db_path, story_id="border")
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, loaded(app, 0))
        screen = app.screen
        progress = screen.state.progress
        assert (progress.to_decide, progress.labelled, progress.policy) == (2, 3, "unanimous")
        assert screen.state.review.undecided == ("stance",)
        assert screen.state.review.agreed["reliability"].value == "B"
        assert "to decide 2 of 3 labelled (unanimous)" in lines(screen.query_one("#review-header"))[2]
        await pilot.press("a")
        await wait_for(pilot, lambda: "reliability" in screen.state.review.gold)
        assert "Accepted 1 agreed value and 0 agreed claims as gold in this article (u undoes)." in messages(app)
        assert gold_rows(db_path) == [(ids[0], "", "reliability", "B", "lead", "agreed by 3 of 3")]
        # Stance still needs a decision: the reviewer takes bob's value.
        await pilot.press("down", "enter")
        await wait_for(pilot, lambda: app.screen is not screen)
        await pilot.press(*"headline", "enter")
        await wait_for(pilot, lambda: "stance" in screen.state.review.gold)
        assert screen.state.progress.to_decide == 1
        assert screen.state.review.undecided == ()
        await pilot.press("u")  # the adjudication
        await wait_for(pilot, lambda: "stance" not in screen.state.review.gold)
        await pilot.press("u")  # the accepted values, in one undo
        await wait_for(pilot, lambda: "Undid accepting the agreed values as gold." in messages(app))
        await wait_for(pilot, lambda: screen.state.review.gold == {})
        assert gold_rows(db_path) == []
        await pilot.press("ctrl+y")
        await wait_for(pilot, lambda: "reliability" in screen.state.review.gold)
        assert "Redid accepting the agreed values as gold." in messages(app)
    assert gold_rows(db_path) == [(ids[0], "", "reliability", "B", "lead", "agreed by 3 of 3")]
    assert own_rows(db_path) == before


async def test_accept_agreed_for_the_story_under_majority_keeps_a_reviewers_value(db_path):
    ids = build(db_path)
    with Store.open(db_path) as store:
        store.set_setting(POLICY_SETTING, "majority")
        store.set_gold(ids[0], "stance", "disagree", "lead", "read the body")
    before = own_rows(db_path)
    app = make_app(db_path, reviewer="rev", story_id="border")
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, loaded(app, 0))
        screen = app.screen
        assert (screen.state.progress.to_decide, screen.state.progress.policy) == (1, "majority")  # article 2: B / F
        claims = screen.query_one(ClaimsTable)
        assert sorted(str(claims.get_cell_at((row, 0))) for row in range(claims.row_count)) == ["ann ≈", "bob ≈", "cat"]
        await pilot.press("A")
        await wait_for(pilot, lambda: screen.state.review.gold_claims)
        assert sorted(str(claims.get_cell_at((row, 0))) for row in range(claims.row_count)) == [
            "ann ✓", "bob ✓", "cat", "gold"]
        assert "Accepted 2 agreed values and 1 agreed claim as gold in this story (u undoes)." in messages(app)
        assert screen.state.review.gold["stance"]["value"] == "disagree"  # the reviewer's value stays
        assert screen.state.progress.to_decide == 1
        await pilot.press("A")  # nothing left to accept
        await wait_for(pilot, lambda: "Nothing agreed is left without gold in this story." in messages(app))
    assert gold_rows(db_path) == sorted([
        (ids[0], "", "reliability", "B", "rev", "agreed by 3 of 3"),
        (ids[0], "border", "stance", "disagree", "lead", "read the body"),
        (ids[1], "border", "stance", "agree", "rev", "agreed by 3 of 3"),
    ])
    # ann and bob marked 0-71 (2 of the 3 who worked on it); only ann labelled it, so no label is agreed.
    assert gold_claim_rows(db_path) == [(ids[0], 0, 71, "{}", "rev", "majority 2 of 3")]
    with Store.open(db_path, create=False) as store:
        assert store.conn.execute("SELECT count(DISTINCT action) FROM events WHERE op = 'gold.agreed'").fetchone() == (1,)
    assert own_rows(db_path) == before


async def test_next_to_decide_walks_what_needs_a_decision(db_path):
    ids = build(db_path)
    with Store.open(db_path) as store:
        store.set_label(ids[1], "ann", "reliability", "A")  # one value alone needs a decision
    app = make_app(db_path, story_id="border")
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, loaded(app, 0))
        screen = app.screen
        assert screen.state.progress.undecided == ids
        await pilot.press("N")
        await wait_for(pilot, loaded(app, 1))
        assert screen.state.review.undecided == ("reliability",)
        assert screen.state.review.disagreements == []
        await pilot.press("P")
        await wait_for(pilot, loaded(app, 0))


async def test_notes_and_flags_of_every_annotator_in_the_story_being_read(db_path):
    ids = build(db_path)
    with Store.open(db_path) as store:
        with store.transaction() as conn:
            store.ensure_story(conn, Story(id="other", title="Other", proposition="q"))
            store.add_to_stories(conn, [("other", ids[0])])
        store.set_note(ids[0], "bob", "headline [bold]contradicts[/bold]\nthe body")
        store.set_flag(ids[0], "cat", True)
        store.set_note(ids[0], "ann", "a note in the other story", story_id="other")
    app = make_app(db_path, story_id="border")
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, loaded(app, 0))
        screen = app.screen
        text = claims_text(screen.state, blind=False).plain
        assert " bob : headline [bold]contradicts[/bold] the body\n" in text
        assert " cat  ⚑ flagged\n" in text
        assert "other story" not in text
        table = screen.query_one(LabelsTable)
        assert [str(table.get_cell_at((row, 0))) for row in range(table.row_count)] == ["ann", "bob", "cat ⚑", "gold"]
        await pilot.press("b")
        assert " annotator 2 : headline" in claims_text(screen.state, blind=True).plain
        await pilot.press("n")
        await wait_for(pilot, lambda: screen.state.story.id == "other")
        assert " ann : a note in the other story\n" in claims_text(screen.state, blind=False).plain


async def test_removing_gold_values_and_claims_is_undoable(db_path):
    ids = build(db_path)
    with Store.open(db_path) as store:
        store.set_gold(ids[0], "stance", "agree", "lead", "first look")
        store.set_gold_claim(ids[0], 72, 91, "lead", "clear")
    app = make_app(db_path, story_id="border")
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, loaded(app, 0))
        screen = app.screen
        claims = screen.query_one(ClaimsTable)
        claims.focus()
        await pilot.pause()
        while not claims.cursor_key().startswith("g:"):
            await pilot.press("down")
        await pilot.press("delete")
        await wait_for(pilot, lambda: not screen.state.review.gold_claims)
        assert gold_claim_rows(db_path) == []
        await pilot.press("u")
        await wait_for(pilot, lambda: screen.state.review.gold_claims)
        assert "Undid removing a gold claim." in messages(app)
        await pilot.press("ctrl+y")
        await wait_for(pilot, lambda: not screen.state.review.gold_claims)
        assert "Redid removing a gold claim." in messages(app)
        await pilot.press("u")
        await wait_for(pilot, lambda: screen.state.review.gold_claims)
        screen.query_one(LabelsTable).focus()
        await pilot.press("delete")  # on the stance column
        await wait_for(pilot, lambda: "stance" not in screen.state.review.gold)
        assert gold_rows(db_path) == []
        await pilot.press("u")
        await wait_for(pilot, lambda: "stance" in screen.state.review.gold)
        assert "Undid the gold stance label." in messages(app)
    assert gold_rows(db_path) == [(ids[0], "border", "stance", "agree", "lead", "first look")]
    assert gold_claim_rows(db_path) == [(ids[0], 72, 91, "{}", "lead", "clear")]


def long_story(db_path: Path) -> list[str]:
    """The test story with a long first article (its text scrolls) and a claim with two labels."""
    ids = build(db_path)
    text = " ".join(f"Sentence {i} of a long report on the border." for i in range(80))
    with Store.open(db_path) as store:
        with store.transaction() as conn:
            store.insert_articles(conn, [(article_id_for(text), "border", "Outlet L", None, "Long", None, None, text,
                                          text_sha256(text), "{}", None)])
        store.add_claim(ids[0], "cat", 0, 71, {"checkworthy": "yes", "credibility": "2"})
        store.set_flag(ids[0], "cat", True)
        store.set_label(article_id_for(text), "ann", "stance", "unrelated")
    return ids


async def test_layout_at_80_by_24_keeps_45_columns_for_the_text(db_path):
    long_story(db_path)
    app = make_app(db_path, story_id="border")
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, loaded(app, 0))
        await pilot.pause()
        screen = app.screen
        labels, claims = screen.query_one(LabelsTable), screen.query_one(ClaimsTable)
        for table in (labels, claims):  # nothing hidden off the table's right edge
            assert table.virtual_size.width <= table.scrollable_content_region.width
        assert lines(labels)[0].split() == ["who", "stance", "≠", "rel.", "cre."]
        assert [line.split()[:2] for line in lines(labels)[1:5]] == [["ann", "agree"], ["bob", "disagree"],
                                                                     ["cat", "⚑"], ["gold", "—"]]
        assert lines(claims)[0].split() == ["who", "text", "labels"]
        assert "yes 2" in "\n".join(lines(claims))
        await pilot.press("[")  # the long article: its text scrolls, with a scrollbar
        await pilot.press("]", "]", "]")
        await wait_for(pilot, loaded(app, 3))
        await pilot.pause()
        body = screen.query_one("#article-body")
        assert screen.query_one("#article").max_scroll_y > 0
        assert body.content_region.width >= 45
        assert max(len(line.rstrip()) for line in lines(body)) >= 45 - len("border.")


async def test_layout_at_160_by_48_shows_claim_labels_in_full(db_path):
    long_story(db_path)
    app = make_app(db_path, story_id="border")
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, loaded(app, 0))
        await pilot.pause()
        screen = app.screen
        claims = screen.query_one(ClaimsTable)
        assert claims.virtual_size.width <= claims.scrollable_content_region.width
        shown = "\n".join(lines(claims))
        assert lines(claims)[0].split() == ["who", "span", "text", "labels"]
        assert "checkworthy=yes, credibility=2" in shown
        assert "The minister said on Monday" in shown
        labels = screen.query_one(LabelsTable)
        assert lines(labels)[0].split() == ["annotator", "stance", "≠", "reliability", "credibility"]
        assert str(labels.get_cell(GOLD_ROW, "reliability")) == "B"  # agreed, not yet accepted
        assert screen.query_one("#article-body").content_region.width >= 70


def test_review_screen_snapshot_at_80_by_24(db_path, snap_compare):
    long_story(db_path)
    app = make_app(db_path, story_id="border")

    async def settle(pilot) -> None:
        await wait_for(pilot, loaded(app, 0))
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=settle)


async def test_a_day_of_review_from_three_files_to_a_hugging_face_dataset(db_path, tmp_path):
    """As a new user would: three annotators' files loaded into a new database, the story
    finished in review with the accept-agreed key and a few adjudications, the gold
    exported as a Hugging Face folder and read back with `datasets`."""
    from datasets import load_dataset  # a dev dependency, as pyarrow is (tests/test_parquet.py)
    ids = build(tmp_path / "work.db")
    run = CliRunner().invoke
    files = []
    for name in ("ann", "bob", "cat"):
        files.append(tmp_path / f"{name}.jsonl")
        exported = run(cli, ["--db", str(tmp_path / "work.db"), "export", "--annotator", name, "-o", str(files[-1])])
        assert exported.exit_code == 0, exported.output
    assert run(cli, ["--db", str(db_path), "init"]).exit_code == 0
    loaded_files = run(cli, ["--db", str(db_path), "load-annotations", *map(str, files)])
    assert loaded_files.exit_code == 0, loaded_files.output
    with Store.open(db_path, create=False) as store:
        assert store.annotators() == ["ann", "bob", "cat"]
    app = make_app(db_path, story_id="border")
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, loaded(app, 0))
        screen = app.screen
        assert screen.state.progress.to_decide == 2
        await pilot.press("A")
        await wait_for(pilot, lambda: screen.writes == 1)
        # What agreement left: article 0's stance, article 2's reliability, and one claim.
        await pilot.press("down", "enter")  # bob's stance
        await wait_for(pilot, lambda: app.screen is not screen)
        await pilot.press(*"body says so", "enter")
        await wait_for(pilot, lambda: screen.writes == 2)
        claims = screen.query_one(ClaimsTable)
        claims.focus()
        await pilot.press("enter")  # ann's claim 0-71
        await wait_for(pilot, lambda: app.screen is not screen)
        await pilot.press(*"both marked it", "enter")
        await wait_for(pilot, lambda: screen.writes == 3)
        await pilot.press("N")
        await wait_for(pilot, loaded(app, 2))
        screen.query_one(LabelsTable).focus()
        await pilot.press("up", "right", "enter")  # ann's reliability
        await wait_for(pilot, lambda: app.screen is not screen)
        await pilot.press(*"F is too harsh", "enter")
        await wait_for(pilot, lambda: screen.state.progress.to_decide == 0)
        assert "to decide 0 of 3 labelled" in lines(screen.query_one("#review-header"))[2]
    status = run(cli, ["--db", str(db_path), "status"])
    assert "Gold (unanimous policy): 3 of 3 labelled articles decided, 0 need a decision" in status.output
    out = tmp_path / "ds"
    exported = run(cli, ["--db", str(db_path), "export", "--format", "hf", "-o", str(out)])
    assert exported.exit_code == 0, exported.output
    # A cache of its own: `datasets` keys a local folder's cache by the folder's name and card,
    # so another test's "ds" folder would be read back instead of this one.
    gold = load_dataset(str(out), "gold", split="train", cache_dir=str(tmp_path / "hf-cache"))
    records = {row["article"]["id"]: row for row in gold}
    assert sorted(records) == sorted(ids)
    for row in gold:
        given = {fld for fld, value in row["labels"].items() if value is not None}
        sources = {entry["field"]: (entry["by"], entry["reason"]) for entry in row["gold"]}
        assert given and given <= sources.keys()
        # The story was finished in review: every value was accepted or decided by the lead.
        assert {entry["source"] for entry in row["gold"]} == {"adjudicated"}
    assert {fld: sources for fld, sources in
            ((e["field"], (e["by"], e["reason"])) for e in records[ids[0]]["gold"])} == {
        "stance": ("lead", "body says so"), "reliability": ("lead", "agreed by 3 of 3"),
        "claims": ("lead", "both marked it")}
    assert records[ids[1]]["labels"]["stance"] == "agree"
    assert records[ids[2]]["labels"]["reliability"] == "B"
    assert [claim["exact"] for claim in records[ids[0]]["claims"]] == [TEXTS[0][:71]]
