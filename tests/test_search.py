"""The search index: words anywhere in titles and texts, in any script; never the rows of an
import still running; rebuilt when its file belongs to another database."""

from __future__ import annotations

import shutil

import pytest

from newsmark.schema.search import fts_query, open_search_index, query_words
from newsmark.schema.store import Store
from tests.test_store import add_article


def fill(store: Store) -> Store:
    add_article(store, "Officials in München met on Monday. Kimberley objected.", story="bavaria")
    add_article(store, "Москва ответила в понедельник. Переговоры продолжаются.", story="moscow")
    add_article(store, "Kim Jong-nam died at the airport. Malaysia asked for DNA.", story="kim")
    add_article(store, "Kim Jong-nam died at the airport. Malaysia asked for DNA.", story="airport")
    return store


@pytest.fixture
def corpus(store: Store) -> Store:
    return fill(store)


def found(store: Store, text: str) -> list[tuple[str, int]]:
    index = open_search_index(store)
    try:
        index.catch_up_all(chunk=2)
        return [(hit.story_id, hit.articles) for hit in index.search(text)]
    finally:
        index.close()


def test_words_anywhere_in_any_script(corpus: Store):
    assert found(corpus, "munchen") == [("bavaria", 1)]  # diacritics folded
    assert found(corpus, "МОСКВА") == [("moscow", 1)]
    assert found(corpus, "kim") == [("airport", 1), ("bavaria", 1), ("kim", 1)]  # prefixes: Kimberley
    assert found(corpus, "kim airport") == [("airport", 1), ("kim", 1)]  # an article in two stories
    assert found(corpus, "nowhere") == []


@pytest.mark.parametrize("text", ['NEAR("x" *', '"', "kim OR *", "-kim", "^kim", "kim:", "a\x00b", ""])
def test_a_query_is_words_never_fts_syntax(corpus: Store, text: str):
    assert fts_query(query_words(text)).count('"') == 2 * len(query_words(text))
    found(corpus, text)  # no error


def test_titles_and_propositions_match_too(corpus: Store):
    corpus.edit_story("moscow", "lead", title="Talks in Moscow")
    index = open_search_index(corpus)
    try:
        hits = index.search("moscow")  # nothing indexed yet: the title alone
        assert [(h.story_id, h.articles, h.in_title) for h in hits] == [("moscow", 0, True)]
    finally:
        index.close()


def test_an_import_still_running_is_not_indexed_until_it_is_shown(corpus: Store):
    from newsmark.schema.sanitize import article_id_for, text_sha256

    corpus.PUBLISH_CHUNK_ROWS = 1  # each row published (hidden) as it comes
    corpus.stage_open()
    text = "Kim's brother arrived later."
    corpus.stage_articles([(article_id_for(text), "kim", None, None, None, None, None, text, text_sha256(text), "{}", "t")])
    assert found(corpus, "brother") == []
    add_article(corpus, "A later report mentions the brother.", story="later")  # above the hidden block
    # SQLite: the index waits before the hidden rows. PostgreSQL: an import's rows are
    # invisible until its one transaction commits, so there is nothing to wait for.
    assert found(corpus, "brother") == ([("later", 1)] if corpus.postgres else [])
    corpus.publish_staged_chunked(lambda conn: None)
    corpus.stage_close()
    assert found(corpus, "brother") == [("kim", 1), ("later", 1)]


def test_a_stale_or_missing_index_file_is_rebuilt(sqlite_store: Store, tmp_path):
    corpus = fill(sqlite_store)
    assert found(corpus, "kim") != []
    side = corpus.path.with_name(corpus.path.name + ".search")
    other = Store.open(tmp_path / "other.db")
    add_article(other, "Nothing about that man.", story="other")
    shutil.copy(side, other.path.with_name(other.path.name + ".search"))
    assert found(other, "kim") == []  # the copied index was another database's
    assert found(other, "nothing") == [("other", 1)]
    other.close()
    side.unlink()
    assert found(corpus, "malaysia") == [("airport", 1), ("kim", 1)]


def test_a_title_in_another_script_matches_whatever_its_case(corpus: Store):
    corpus.edit_story("bavaria", "lead", title="МОСКВА И МЮНХЕН")
    index = open_search_index(corpus)
    try:
        assert [(h.story_id, h.in_title) for h in index.search("мюнхен")] == [("bavaria", True)]
    finally:
        index.close()


def test_a_common_word_returns_the_stories_of_the_best_ranked_articles_only(store: Store, monkeypatch):
    from newsmark.schema import search

    # Ten stories share a word; a story whose articles repeat it outranks them, and with room for 2 articles only its story comes back.
    for k in range(10):
        add_article(store, f"A harbor report number {k} about tides and boats.", story=f"s{k}")
    add_article(store, "Harbor harbor harbor: the harbor board met about the harbor.", story="best")
    add_article(store, "The harbor board's harbor plan: harbor fees rise.", story="best")
    index = open_search_index(store)
    try:
        index.catch_up_all()
        assert len(index.search("harbor")) == 11
        assert [(h.story_id, h.articles) for h in index.search("harbor", limit=2)] == [("best", 2)]
        monkeypatch.setattr(search, "RANK_WINDOW", 3)  # ranks only the 3 newest matches
        assert {h.story_id for h in index.search("harbor", limit=3)} == {"best", "s9"}
    finally:
        index.close()


def test_whole_words_fill_the_limit_before_prefixes_are_read(corpus: Store):
    index = open_search_index(corpus)
    try:
        index.catch_up_all()
        # One article has the whole word "Kim" (in two stories): with room for one
        # article, "Kimberley" (bavaria) is not read; with room for more, it is.
        assert [h.story_id for h in index.search("kim", limit=1)] == ["airport", "kim"]
        assert [h.story_id for h in index.search("kim", limit=10)] == ["airport", "bavaria", "kim"]
    finally:
        index.close()


def test_on_a_server_an_article_committed_late_below_the_indexed_ones_is_still_indexed(pg_store: Store):
    corpus = fill(pg_store)
    assert found(corpus, "malaysia") == [("airport", 1), ("kim", 1)]
    # As if the transactions that took the lowest seqs had committed after the others were
    # indexed: within the look-back window, and far below it.
    corpus.conn.execute("DELETE FROM search_words WHERE seq = (SELECT min(seq) FROM search_words)")
    assert found(corpus, "munchen") == [("bavaria", 1)]
    corpus.conn.execute("UPDATE articles SET seq = seq + 10000 WHERE seq = (SELECT max(seq) FROM articles)")
    corpus.conn.execute("DELETE FROM search_words WHERE seq = (SELECT min(seq) FROM search_words)")
    assert found(corpus, "munchen") == [("bavaria", 1)]


def test_the_index_folds_words_as_a_query_does(corpus: Store):
    from newsmark.schema.search import ts_vector

    assert query_words("MÜNCHEN Straße Ǆ") == ["munchen", "strasse", "dz"]
    vector = ts_vector("Kim and KIM", "kim " * 300 + "x" * 3000)
    assert vector.startswith("'kim':1A,3A,4,5,") and vector.count(",") == 255  # 256 positions at most
    assert "xxx" not in vector  # a word longer than a lexeme may be is not indexed
