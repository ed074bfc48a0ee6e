"""Background work is bounded and cancellable; q always quits; a failed background read
shows a message and leaves the app running.

The stories are generated (no ../shared): BIG_STORY has BIG_ARTICLES short articles
after LONG_ARTICLES long ones, so its first overview window takes far longer than its
time budget to compare (the work is surely running when a test leaves or quits) while
later windows finish in about a second.
"""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest
from textual.worker import WorkerState

from newsmark.analysis.align import PairMatrix, bounded_story_matrix, prepare
from newsmark.analysis.budget import Budget, Cancelled
from newsmark.analysis.clusters import PREFILTER_FROM, search_matches, suggest_matches
from newsmark.analysis.overview import OVERVIEW_ARTICLES, story_window, window_shared
from newsmark.analysis.sentences import split_sentences
from newsmark.schema.models import Story
from newsmark.schema.sanitize import article_id_for, text_sha256
from newsmark.schema.store import Store
from newsmark.tui.screens import annotate as annotate_screen
from newsmark.tui.screens.annotate import AnnotateScreen
from newsmark.tui.screens.overview import OverviewScreen
from tests.test_tui_annotate import make_app, ready, screen_text, until
from tests.test_tui_compare import add_story

BIG_STORY = "big"
BIG_ARTICLES = 3_000
LONG_ARTICLES = OVERVIEW_ARTICLES  # the first window: long articles
LONG_SENTENCES = 200  # sentences of a long article (780 pairs of them: far over the budget)
SIZE = (160, 50)
PROMPT = 1.0  # seconds within which cancelled work must have stopped

WORDS = [f"{a}{b}" for a in ("ka", "lo", "mi", "ne", "su", "ta", "vo", "ri") for b in
         ("ran", "mel", "dos", "pit", "gul", "sen", "bor", "fam", "tek", "wix")]


def sentence(rng: random.Random) -> str:
    """A made-up sentence of 8-14 words."""
    words = [rng.choice(WORDS) for _ in range(rng.randint(8, 14))]
    return " ".join(words).capitalize() + "."


def big_story_texts(seed: int = 7) -> list[str]:
    """LONG_ARTICLES long articles, then short ones; every fifth short article repeats
    its predecessor's first sentences (shared passages for the overview)."""
    rng = random.Random(seed)
    texts = [" ".join(sentence(rng) for _ in range(LONG_SENTENCES)) for _ in range(LONG_ARTICLES)]
    while len(texts) < BIG_ARTICLES:
        own = [sentence(rng) for _ in range(4)]
        if len(texts) % 5 == 0:
            own = texts[-1].split(". ")[0].split(".")[:1] + own[1:]
            own[0] = own[0].rstrip(".") + "."
        texts.append(" ".join(own) + f" Number {len(texts)}.")
    return texts


def add_big_story(db_path: Path) -> list[str]:
    """Store BIG_STORY (one transaction); returns its article ids in order."""
    texts = big_story_texts()
    with Store.open(db_path) as store:
        store.upsert_story(Story(id=BIG_STORY, title="A very large story", proposition="Big."))
        rows = [(article_id_for(text), BIG_STORY, f"Outlet {k % 97}", None, f"Article {k + 1}", None, "2025-08-01",
                 text, text_sha256(text), "{}", None) for k, text in enumerate(texts)]
        with store.transaction() as conn:
            store.insert_articles(conn, rows)
        return store.article_ids(BIG_STORY)


@pytest.fixture(scope="module")
def big_db(tmp_path_factory) -> Path:
    """A database holding BIG_STORY, made once for the module (a test that marks claims
    does so as its own annotator)."""
    db_path = tmp_path_factory.mktemp("big") / "big.db"
    add_big_story(db_path)
    return db_path


def notifications(app) -> list[str]:
    """The messages of the app's notifications so far."""
    return [n.message for n in app._notifications]


def overview_worker(app):
    return next(w for w in app.workers if w.group == "overview")


async def open_overview(app, pilot) -> OverviewScreen:
    """Press o and wait until the overview shows its window (the first result)."""
    await pilot.press("o")
    await until(pilot, lambda: isinstance(app.screen, OverviewScreen) and app.screen.window is not None)
    return app.screen  # type: ignore[return-value]


# --- the analyses: bounded and cancellable ----------------------------------------------------


def medium_texts(count: int, sentences: int = 40) -> list[str]:
    """`count` made-up articles of `sentences` sentences (a few ms per pair)."""
    rng = random.Random(count)
    return [" ".join(sentence(rng) for _ in range(sentences)) for _ in range(count)]


def test_pairs_stop_when_the_time_budget_is_spent_and_say_how_many_were_compared():
    texts = [prepare(t) for t in medium_texts(12, LONG_SENTENCES)]  # about 0.1 s a pair: 66 take seconds
    partial = bounded_story_matrix(texts, Budget(0.3))
    assert 0 < partial.compared < partial.total == 66  # the first pair always; then until the time is up
    assert not partial.complete
    missing = sum(value is None for row in partial.matrix for value in row)
    assert missing == 2 * (partial.total - partial.compared)
    whole = bounded_story_matrix([prepare(t) for t in medium_texts(6)])
    assert whole.complete and all(value is not None for row in whole.matrix for value in row)


def test_a_cancelled_budget_stops_every_analysis_at_once():
    text = medium_texts(1, 8_000)[0]  # seconds of work for any of the analyses
    prepared = [prepare(t) for t in medium_texts(10, LONG_SENTENCES)]
    candidates = [(str(k), text) for k in range(PREFILTER_FROM + 1)]
    flag = {"cancelled": False}
    budget = Budget(cancelled=lambda: flag["cancelled"])
    calls = {"n": 0}

    def progress(_: PairMatrix) -> None:
        calls["n"] += 1
        flag["cancelled"] = True  # cancelled while the pairs are being compared

    started = time.monotonic()
    with pytest.raises(Cancelled):
        bounded_story_matrix(prepared, budget, progress, progress_every=0)
    assert calls["n"] == 1 and time.monotonic() - started < PROMPT
    for work in (lambda: prepare(text, budget), lambda: split_sentences(text, budget),
                 lambda: search_matches("Karan melo dosit", candidates, budget=budget)):
        started = time.monotonic()
        with pytest.raises(Cancelled):
            work()
        assert time.monotonic() - started < PROMPT


def test_suggestions_in_a_huge_story_search_every_article_within_seconds(big_db):
    with Store.open(big_db) as store:
        window = story_window(store, BIG_STORY, None, 100, None)
    candidates = [(head.id, text) for head, text in zip(window.articles, window.texts)]
    target = next(k for k, (_, text) in enumerate(candidates) if k > 2_000 and k % 5 == 0)
    claim_text = candidates[target][1].split(". ")[1] + "."
    started = time.monotonic()
    search = search_matches(claim_text, candidates, 5, budget=Budget(30))
    elapsed = time.monotonic() - started
    assert search.prefiltered and search.complete and search.total == len(candidates)
    assert search.suggestions[0].article_id == candidates[target][0] and search.suggestions[0].score == 1.0
    assert elapsed < 10, elapsed
    # The same best match as the exhaustive search over the article's neighbourhood.
    exhaustive = suggest_matches(claim_text, candidates[target - 30 : target + 30], 1)
    assert exhaustive[0].article_id == search.suggestions[0].article_id


def test_out_of_time_suggestions_say_how_much_was_searched():
    texts = medium_texts(30)
    search = search_matches(texts[3].split(". ")[2], [(str(k), t) for k, t in enumerate(texts)], 5,
                            budget=Budget(0.0))
    assert not search.complete and search.searched < search.total == 30


def test_the_overview_of_a_window_is_partial_when_out_of_time(big_db):
    with Store.open(big_db) as store:
        window = story_window(store, BIG_STORY, "alice")
    assert window.partial and len(window.articles) == OVERVIEW_ARTICLES and window.total == BIG_ARTICLES
    shared = window_shared(window, Budget(3.0))  # its long articles take about 0.1 s a pair
    assert not shared.complete and 0 < shared.compared < shared.total == 780


# --- the overview screen ------------------------------------------------------------------------


async def test_the_overview_of_a_huge_story_is_bounded_and_says_so(big_db):
    app = make_app(big_db, story_id=BIG_STORY)
    async with app.run_test(size=SIZE) as pilot:
        await ready(app, pilot)
        screen = await open_overview(app, pilot)
        assert screen.first_result_at is not None and screen.first_result_at - screen.opened_at < 3.0
        text = screen_text(app)
        assert "Story too large for one overview: 3,000 articles; showing articles 1–40" in text
        assert "comparing… " in text
        assert len(screen.query_one("#shared-table").columns) == OVERVIEW_ARTICLES + 1
        # The next window: short articles, compared in full.
        await pilot.press("right_square_bracket")
        await until(pilot, lambda: screen.window is not None and screen.window.first == 40 and screen.complete, 30)
        await pilot.pause()
        text = screen_text(app)
        assert "showing articles 41–80" in text and "compared all 780 pairs" in text
        assert "41 O" in text  # numbered as on the annotate screen
        assert screen.shared is not None and any(most is not None for most in screen.shared.most)
    app.close_stores()


async def test_leaving_the_overview_cancels_its_work(big_db):
    app = make_app(big_db, story_id=BIG_STORY)
    async with app.run_test(size=SIZE) as pilot:
        await ready(app, pilot)
        screen = await open_overview(app, pilot)
        worker = overview_worker(app)
        assert worker.state == WorkerState.RUNNING and not screen.complete
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, AnnotateScreen))
        assert screen.running.idle.wait(PROMPT), "the overview's thread still runs"
        assert worker.state == WorkerState.CANCELLED and not screen.complete
        await pilot.press("j")  # the annotate screen still answers
        await until(pilot, lambda: app.screen.panes[0].text.cursor is not None)
    app.close_stores()


async def test_q_on_the_overview_quits_while_it_computes(big_db):
    app = make_app(big_db, story_id=BIG_STORY)
    async with app.run_test(size=SIZE) as pilot:
        await ready(app, pilot)
        screen = await open_overview(app, pilot)
        assert not screen.complete
        await pilot.press("q")
        started = time.monotonic()
        await until(pilot, lambda: not app.is_running or app._exit)
    assert screen.running.idle.wait(PROMPT), "the overview's thread still runs after q"
    assert time.monotonic() - started < PROMPT + 1
    app.close_stores()


async def test_app_exit_while_suggestions_and_shared_passages_compute_returns_promptly(big_db):
    app = make_app(big_db, "exiting", story_id=BIG_STORY)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        # Shared passages, then a claim: its matches. The actions the keys h, j, c run,
        # called directly: Pilot's press waits for the app to be idle, i.e. for the search.
        screen.action_toggle_shared()
        screen.action_cursor(1)
        screen.action_toggle_claim()
        await until(pilot, lambda: any(w.group.startswith("suggest") for w in app.workers))
        await until(pilot, lambda: all(pane.pending == 0 for pane in screen.panes))  # the claim is saved
        running = [w for w in app.workers if w.group.startswith("suggest") or w.group == "shared"]
        started = time.monotonic()
        app.exit()
    elapsed = time.monotonic() - started
    assert all(w.is_cancelled or w.is_finished for w in running), [(w.group, w.state) for w in running]
    assert elapsed < PROMPT + 1, elapsed
    assert screen.analyses.idle.wait(PROMPT), "an analysis thread still runs after exit"
    app.close_stores()


async def test_leaving_claim_mode_cancels_the_search_for_matches(big_db):
    app = make_app(big_db, "leaving", story_id=BIG_STORY)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        screen.action_cursor(1)  # j, c (see above)
        screen.action_toggle_claim()
        search = next(w for w in app.workers if w.group.startswith("suggest"))
        pane = screen.panes[0]
        assert pane.suggestions_pending is not None
        await pilot.press("escape")
        await until(pilot, lambda: search.state == WorkerState.CANCELLED or search.is_finished)
        assert pane.suggestions_pending is None
        assert screen.analyses.idle.wait(PROMPT)
        # Back on the claim: the search starts again and finds the copies' sentences.
        await pilot.press("j")
        await until(pilot, lambda: pane.suggestions is not None, 30)
    app.close_stores()


# --- failed background reads: a message, the app keeps running ---------------------------------


def close_connection(reader) -> None:
    """Close a reader's SQLite connection under it (what a vanished database does)."""
    reader.submit(lambda store: store.close()).result()


async def test_a_failed_background_read_shows_a_message_and_the_app_keeps_running(db_path):
    add_story(db_path)
    app = make_app(db_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await ready(app, pilot)
        close_connection(app.slow_reader)
        await pilot.press("o")
        await until(pilot, lambda: isinstance(app.screen, OverviewScreen) and app.screen.complete)
        await pilot.pause()
        assert any(m.startswith("Cannot compute the overview: ProgrammingError") for m in notifications(app))
        assert "Cannot compute the overview" in screen_text(app)
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is screen)

        await pilot.press("h")  # shared passages read the texts on the slow reader too
        await until(pilot, lambda: any(m.startswith("Cannot compute the shared passages") for m in notifications(app)))
        await pilot.press("j", "c")  # a claim: its matches are searched on the slow reader
        await until(pilot, lambda: any(m.startswith("Cannot find matching sentences") for m in notifications(app)))
        await until(pilot, lambda: screen.panes[0].suggestions is not None)
        assert screen.panes[0].suggestions.note == "search failed"

        close_connection(app.reader)
        await pilot.press("right_square_bracket")  # another article: read on the reader
        await until(pilot, lambda: any(m.startswith("Cannot read the article") for m in notifications(app)))
        assert app.is_running and app.return_code is None
    app.close_stores()


async def test_a_database_replaced_by_garbage_shows_a_message(db_path, monkeypatch):
    # The overview reads through the slow reader. Opened before the damage (the grade book
    # reads through it 0.3 s after the first paint, which a loaded machine can reach before
    # the damage below), its connection may go on serving consistent pages from its cache,
    # and then there is nothing to report: the test would pass or fail with the machine's
    # speed. With the grade book later than the test, the connection meets the damage.
    monkeypatch.setattr(annotate_screen, "GRADE_BOOK_DELAY", 3600)
    add_story(db_path)
    app = make_app(db_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await ready(app, pilot)
        assert app.slow_reader._store is None
        for suffix in ("", "-wal", "-shm"):
            path = Path(f"{db_path}{suffix}")
            if path.exists():
                with open(path, "r+b") as damaged:  # in place: open connections see it
                    damaged.write(b"\x1b[31mnot a database\x1b[0m" * 512)
        await pilot.press("o")
        await until(pilot, lambda: isinstance(app.screen, OverviewScreen) and app.screen.complete)
        await pilot.pause()
        failures = [m for m in notifications(app) if m.startswith("Cannot compute the overview")]
        assert failures and "\x1b" not in "".join(failures)
        assert app.is_running and app.return_code is None
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, AnnotateScreen))
    app.close_stores()


async def test_ctrl_c_quits_while_the_overview_computes(big_db):
    app = make_app(big_db, story_id=BIG_STORY)
    async with app.run_test(size=SIZE) as pilot:
        await ready(app, pilot)
        screen = await open_overview(app, pilot)
        assert not screen.complete
        await pilot.press("ctrl+c")
        started = time.monotonic()
        await until(pilot, lambda: not app.is_running or app._exit)
    assert screen.running.idle.wait(PROMPT), "the overview's thread still runs after ctrl+c"
    assert time.monotonic() - started < PROMPT + 1
    app.close_stores()


async def test_quitting_stops_the_reader_splitting_a_1_mb_article(db_path):
    """Opening a story of 900 KB articles splits each into sentences on the reader thread
    (seconds); quitting then must not wait for it."""
    from newsmark.tui import text as tui_text

    paragraph = " ".join(medium_texts(1, 12)[0] for _ in range(2))
    huge = "\n".join([paragraph] * (900_000 // (len(paragraph) + 1)))
    with Store.open(db_path) as store:
        store.upsert_story(Story(id="huge", title="Huge articles"))
        rows = [(article_id_for(t), "huge", name, None, name, None, "2025-08-01", t, text_sha256(t), "{}", None)
                for name, t in (("One", huge), ("Two", huge + "\nTwo."))]
        with store.transaction() as conn:
            store.insert_articles(conn, rows)
        first = store.article_ids("huge")[0]
    app = make_app(db_path, story_id="huge")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, AnnotateScreen))
        assert not app.loaded.is_set()  # the reader is splitting the first article
        started = time.monotonic()
        app.exit()
    assert time.monotonic() - started < PROMPT + 1
    assert first not in tui_text._CACHE._items  # stopped, not finished
    app.close_stores()
