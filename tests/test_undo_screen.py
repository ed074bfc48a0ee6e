"""Undo in the annotate screen never destroys a later change: `u` after a load of the
analyst's own newer export says who changed what, and the database stays as it was."""

from __future__ import annotations

from newsmark.exports.jsonl import write_jsonl
from newsmark.schema.ingest import import_paths
from newsmark.schema.load import load_annotations
from newsmark.schema.models import utc_now
from newsmark.schema.store import Store
from tests.test_tui_annotate import SEEDS, SIZE, make_app, ready, saved, screen_text, seeded, until  # noqa: F401
from tests.engines import assert_intact

ON_BOTH_ENGINES = True  # every test here runs on SQLite and on PostgreSQL (conftest)

TABLES = ("labels", "annotations", "claims", "claim_labels", "clusters", "gold", "gold_claims", "events")


def rows(store: Store) -> dict[str, list[tuple]]:
    return {t: store.conn.execute(f"SELECT * FROM {t} ORDER BY 1, 2").fetchall() for t in TABLES}


def notified(app, text: str) -> list:
    return [n for n in app._notifications if text in n.message]


async def test_u_after_a_later_load_is_refused_with_a_notification(seeded, tmp_path):
    db_path, ids = seeded
    app = make_app(db_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await ready(app, pilot)
        await pilot.press("a")  # stance: agree, on the first article
        await saved(app, pilot)
        with Store.open(db_path) as store:
            assert store.labels(ids[0], "alice") == {"stance": "agree"}
            screen_at = store.annotation(ids[0], "alice")[2]
        # Meanwhile alice labelled the same article on her laptop, later, and loads that export.
        export = tmp_path / "alice-laptop.jsonl"
        with Store.open(tmp_path / "laptop.db") as laptop:
            import_paths(laptop, [SEEDS])
            while utc_now() <= screen_at:  # the laptop's change is the newer one
                pass
            laptop.set_label(ids[0], "alice", "stance", "disagree")
            with export.open("wb") as out:
                write_jsonl(laptop, out)
        with Store.open(db_path) as store:
            assert load_annotations(store, [export]).replaced == 1
            loaded = store.events()[0]
            before = rows(store)

        await pilot.press("u")
        await until(pilot, lambda: bool(notified(app, "cannot undo")))
        (note,) = notified(app, "cannot undo")
        assert note.message == (
            f"cannot undo: load-annotations changed your stance of {ids[0][:8]}… to disagree "
            f"(a record by alice, of {loaded.at[:10]} {loaded.at[11:16]} UTC), after your change. "
            "That change is kept; yours stays in effect and is off the undo list: "
            "undo again to go on with your earlier changes."
        )
        assert (note.title, note.markup) == ("Not undone", False)
        await until(pilot, lambda: "Not undone" in screen_text(app))
        assert "\x1b" not in screen_text(app)
        assert await app.writer.idle(10)
        with Store.open(db_path) as store:
            after = rows(store)
            assert store.labels(ids[0], "alice") == {"stance": "disagree"}
            assert_intact(store)
        # No row changed; the log gained the refusal, and the refused step left the undo list.
        assert {t: after[t] for t in TABLES if t != "events"} == {t: before[t] for t in TABLES if t != "events"}
        old_log, new_log = before["events"], after["events"]
        assert [row[:9] for row in new_log[: len(old_log)]] == [row[:9] for row in old_log]
        assert [row[4] for row in new_log[len(old_log):]] == ["undo.refused"]
        assert [row[9] for row in new_log if row[1] == old_log[0][1]] == [0]  # alice's label: not undoable now

        # The refused step left the undo list: `u` again says there is nothing (else) to undo.
        await pilot.press("u")
        await until(pilot, lambda: bool(notified(app, "Nothing to undo.")))
        with Store.open(db_path) as store:
            assert store.labels(ids[0], "alice") == {"stance": "disagree"}
    app.close_stores()


async def test_u_in_review_undoes_ones_own_gold_but_never_a_teammates_later_one(db_path):
    from tests.test_review import build, loaded, wait_for
    from tests.test_review import make_app as make_review

    ids = build(db_path)
    app = make_review(db_path, "lead1", story_id="border")
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await wait_for(pilot, loaded(app, 0))
        screen = app.screen
        await pilot.press("enter")  # ann's stance, agree, as gold
        await wait_for(pilot, lambda: app.screen is not screen)
        await pilot.press(*"lead paragraph", "enter")
        await wait_for(pilot, lambda: "stance" in screen.state.review.gold)
        # lead2, reviewing the same database, decides otherwise.
        with Store.open(db_path) as store:
            store.set_gold(ids[0], "stance", "disagree", by="lead2", reason="read it again")
            lead2 = store.events(annotator="lead2")[0]
            before = rows(store)

        await pilot.press("u")
        await wait_for(pilot, lambda: bool(notified(app, "cannot undo")))
        (note,) = notified(app, "cannot undo")
        assert note.message == (
            f"cannot undo: lead2 changed gold stance of {ids[0][:8]}… to disagree at "
            f"{lead2.at[:10]} {lead2.at[11:16]} UTC, after your change. That change is kept; yours stays in "
            "effect and is off the undo list: undo again to go on with your earlier changes."
        )
        assert (note.title, note.markup) == ("Not undone", False)
        with Store.open(db_path) as store:
            after = rows(store)
            assert store.gold(ids[0])["stance"]["by"] == "lead2"
            assert_intact(store)
        assert {t: after[t] for t in TABLES if t != "events"} == {t: before[t] for t in TABLES if t != "events"}

        # An own change that nobody touched since undoes as before.
        await pilot.press("right", "o")  # the next field, reliability: type a gold value
        await wait_for(pilot, lambda: app.screen is not screen)
        await pilot.press("A", "tab", *"typed", "enter")
        await wait_for(pilot, lambda: screen.writes == 2)
        with Store.open(db_path) as store:
            assert {f: g["value"] for f, g in store.gold(ids[0]).items()} == {"stance": "disagree", "reliability": "A"}
        await pilot.press("u")
        await wait_for(pilot, lambda: bool(notified(app, "Undid the gold reliability label.")))
        with Store.open(db_path) as store:
            assert {f: (g["value"], g["by"]) for f, g in store.gold(ids[0]).items()} == {"stance": ("disagree", "lead2")}
