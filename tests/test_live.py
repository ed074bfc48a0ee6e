"""Live updates: a teammate's changes, made through another connection (another process's
worth of writes), reach the open annotate and review screens without a key; the app's own
writes are not reported back to it; the annotate screen names who else is working."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from newsmark.schema.store import Store
from newsmark.tui.live import Watcher, touches
from newsmark.tui.review.labels_table import LabelsTable
from tests.test_review import build, loaded
from tests.test_review import make_app as make_review_app
from tests.test_review import wait_for
from tests.test_tui_annotate import SIZE, make_app, ready, saved, screen_text, seeded, until  # noqa: F401 - fixture

ON_BOTH_ENGINES = True  # every test here runs on SQLite and on PostgreSQL (conftest)

def test_the_watcher_reports_other_connections_events_and_not_the_ones_it_was_told_to_ignore(db_path):
    Store.open(db_path).close()  # a fresh database
    reported: list[list] = []
    arrived = threading.Event()

    def on_events(events: list) -> None:
        reported.append(events)
        arrived.set()

    watcher = Watcher(db_path, on_events, interval=0.02)
    watcher.start()
    try:
        with Store.open(db_path) as own, Store.open(db_path) as teammate:
            mine = own.set_label("a" * 16, "alice", "stance", "agree", story_id="s")
            watcher.ignore(mine)
            theirs = teammate.set_label("a" * 16, "bob", "stance", "disagree", story_id="s")
            assert arrived.wait(5)
        got = [event for batch in reported for event in batch]
        assert [e.id for e in got] == [e.id for e in theirs.events]
        assert {e.annotator for e in got} == {"bob"}
        assert touches(got, "s", []) and not touches(got, "other", ["b" * 16])
    finally:
        watcher.stop()


async def test_a_teammates_label_appears_on_the_review_screen_within_a_second(db_path):
    ids = build(db_path)
    app = make_review_app(db_path, story_id="border")
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, loaded(app, 0))
        screen = app.screen
        assert "dan" not in screen.state.annotators
        with Store.open(db_path) as teammate:
            await asyncio.to_thread(teammate.set_label, ids[0], "dan", "stance", "disagree", story_id="border")
        # No key is pressed: the screen catches up by itself (within POLL_SECONDS and a read;
        # the deadline here is generous, speed is not what this test measures).
        await wait_for(pilot, lambda: "dan" in screen.state.annotators, timeout=10)
        await pilot.pause()
        table = screen.query_one(LabelsTable)
        rows = ["".join(str(cell) for cell in table.get_row_at(i)) for i in range(table.row_count)]
        assert any(row.startswith("dan") and "disagree" in row for row in rows), rows
        assert screen.live_reloads >= 1
        # The reviewer's own gold decision is not reported back as a teammate's change.
        reloads = screen.live_reloads
        await asyncio.to_thread(app.data.set_gold, "border", ids[1], "stance", "agree", "lead", "all agree")
        with Store.open(db_path) as teammate:  # ...while an unrelated story's change is passed over
            await asyncio.to_thread(teammate.set_label, "f" * 16, "dan", "stance", "agree", story_id="elsewhere")
        await until(pilot, lambda: app.watcher._last_id >= teammate_last_event(db_path))
        await pilot.pause()
        assert screen.live_reloads == reloads


def teammate_last_event(db_path: Path) -> int:
    with Store.open(db_path, create=False) as store:
        return store.last_event_id()


async def test_the_annotate_screen_shows_who_else_is_working_and_their_changes_to_my_view(seeded):
    db_path, ids = seeded
    app = make_app(db_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        assert "also here" not in screen_text(app)
        await pilot.press("a")  # alice's own label: not a teammate's change
        await saved(app, pilot)
        with Store.open(db_path) as teammate:
            await asyncio.to_thread(teammate.set_label, ids[1], "bob", "stance", "agree", story_id=screen.story_id)
        await until(pilot, lambda: "also here: bob" in screen_text(app), timeout=10)
        assert screen.teammates == ["bob"]
        assert screen.live_refreshes == 1
        # alice in a second terminal (another connection) changes a label a pane shows.
        pane = screen.panes[0]
        with Store.open(db_path) as second_terminal:
            await asyncio.to_thread(second_terminal.set_label, pane.article_id, "alice", "reliability", "D",
                                    story_id=screen.story_id)
        await until(pilot, lambda: pane.view.annotation.labels.get("reliability") == "D", timeout=10)
        assert pane.view.annotation.labels.get("stance") == "agree"
    app.close_stores()
