"""Full-text search of titles and texts: which stories hold articles with these words.

The index is SQLite FTS5 in a file of its own beside the database (`<db>.search`), filled in
the background (`SearchIndex.catch_up`), never by imports: tokenising a text costs several
times what storing it does, so an import keeps its speed, and the index's writes take the
side file's lock, never the database's, so keystrokes never wait for them. It is derived
data: deleting the file loses nothing (it is built again), and a file left from another
database is recognised by the database's id and rebuilt.

The index holds `articles.seq` as its rowid and no text (contentless): it follows the
articles in seq order and stops before the rows of an import still running (`visible`).
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
import unicodedata
import uuid
from dataclasses import dataclass
from pathlib import Path

from newsmark.schema.store import BUSY_TIMEOUT_MS, IMPORTING_KEY, Store, StoreError

DATABASE_ID = "database_id"  # a random id in the database's settings, named by its index
SEARCH_ARTICLES = 500  # best-ranked matching articles whose stories a search returns
RANK_WINDOW = 5_000  # newest matching articles ranked (bounds a common word's cost)
SEARCH_STORIES = 500  # most stories a search finds by their title or proposition
TITLE_WEIGHT = 5.0  # bm25 weight of a title word against a text word
_WORD = re.compile(r"\w+")
_SCHEMA = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS search.fts USING fts5("
    "title, text, content='', tokenize='unicode61 remove_diacritics 2')",
    "CREATE TABLE IF NOT EXISTS search.state (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
)


@dataclass(frozen=True)
class StoryHit:
    """A story that matched: how many of its articles hold every word, and whether its
    title or proposition does."""

    story_id: str
    title: str
    articles: int
    in_title: bool


def query_words(text: str) -> list[str]:
    """The words of a search, as the index folds them (NFKC, case-folded)."""
    return _WORD.findall(unicodedata.normalize("NFKC", text).casefold())


def fts_query(words: list[str], prefix: bool = True) -> str:
    """An FTS5 query matching texts that hold every word, each as a prefix ("kim" finds
    "Kim's" and "Kimberley") unless `prefix` is false; quoting keeps FTS5's operators out
    of a user's words."""
    star = "*" if prefix else ""
    return " AND ".join(f'"{word}"{star}' for word in words)


class SearchIndex:
    """The search index of one database file (see the module's docstring)."""

    def __init__(self, store: Store) -> None:
        if store.path is None:
            raise StoreError("searching texts needs a database file (not :memory:)")
        self.path = Path(str(store.path) + ".search")
        self._lock = threading.Lock()
        database_id = store.get_setting(DATABASE_ID)
        if database_id is None:
            database_id = uuid.uuid4().hex
            store.set_setting(DATABASE_ID, database_id)
        # A connection of its own: the database is read in deferred transactions (a WAL
        # snapshot, no lock), only the side file is written.
        self.conn = sqlite3.connect(str(store.path), isolation_level=None, check_same_thread=False,
                                    timeout=BUSY_TIMEOUT_MS / 1000)
        self.conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        self.conn.execute("ATTACH DATABASE ? AS search", (str(self.path),))
        self.conn.execute("PRAGMA search.journal_mode = WAL")
        for statement in _SCHEMA:
            self.conn.execute(statement)
        if self._state("database") != database_id:
            self._rebuild(database_id)

    def close(self) -> None:
        """Close the index's connection."""
        self.conn.close()

    def _state(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM search.state WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def _rebuild(self, database_id: str) -> None:
        """Empty the index (a new file, or one left from another database)."""
        self.conn.execute("BEGIN")
        self.conn.execute("DELETE FROM search.state")
        self.conn.execute("INSERT INTO search.fts (fts) VALUES ('delete-all')")
        self.conn.execute("INSERT INTO search.state VALUES ('database', ?), ('through', '0')", (database_id,))
        self.conn.execute("COMMIT")

    def pending(self) -> int:
        """How many articles wait to be indexed."""
        through = int(self._state("through") or 0)
        return self.conn.execute("SELECT count(*) FROM main.articles WHERE seq > ?", (through,)).fetchone()[0]

    def catch_up(self, max_rows: int = 200) -> int:
        """Index the next articles (at most max_rows, in seq order) in one short transaction
        of the side file; return how many. Stops before an import still running."""
        with self._lock:
            self.conn.execute("BEGIN")
            try:
                through = int(self._state("through") or 0)
                # The first seq of an import still publishing, above which nothing is indexed
                # yet (its rows are hidden; indexing past them would skip them for good).
                stop = self.conn.execute(
                    "SELECT min(CAST(json_extract(value, '$[0]') AS INTEGER)) FROM main.settings "
                    "WHERE key >= ? AND key < ? AND CAST(json_extract(value, '$[1]') AS INTEGER) > ?",
                    (IMPORTING_KEY, IMPORTING_KEY[:-1] + ";", through),
                ).fetchone()[0]
                bound = "AND seq < ?" if stop is not None else ""
                params = (through, stop, max_rows) if stop is not None else (through, max_rows)
                last = self.conn.execute(
                    f"SELECT max(seq) FROM (SELECT seq FROM main.articles WHERE seq > ? {bound} ORDER BY seq LIMIT ?)",
                    params,
                ).fetchone()[0]
                if last is None:
                    self.conn.execute("COMMIT")
                    return 0
                added = self.conn.execute(
                    "INSERT INTO search.fts (rowid, title, text) "
                    "SELECT seq, coalesce(title, ''), text FROM main.articles WHERE seq > ? AND seq <= ?",
                    (through, last),
                ).rowcount
                self.conn.execute("UPDATE search.state SET value = ? WHERE key = 'through'", (str(last),))
                self.conn.execute("COMMIT")
                return added
            except BaseException:
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                raise

    def catch_up_all(self, chunk: int = 200, progress=None) -> int:
        """Index every article not indexed yet, chunk by chunk (`progress(done, total)` after
        each); return how many."""
        total = self.pending()
        done = 0
        while True:
            added = self.catch_up(chunk)
            if added == 0:
                return done
            done += added
            if progress is not None:
                progress(done, total)

    def _best_articles(self, words: list[str], limit: int) -> list[int]:
        """The seqs of the best `limit` articles holding every word: the newest RANK_WINDOW
        matches ranked by bm25, inside the full-text query. Whole words first (a word's own
        posting list is read newest first, lazily); only when they give fewer than `limit`
        articles, each word also as a prefix (which merges the lists of every word it
        starts, the whole of them)."""
        for prefix in (False, True):
            seqs = [row[0] for row in self.conn.execute(
                "SELECT seq FROM (SELECT rowid AS seq, bm25(fts, ?, 1.0) AS score FROM search.fts "
                "WHERE fts MATCH ? ORDER BY rowid DESC LIMIT ?) ORDER BY score LIMIT ?",
                (TITLE_WEIGHT, fts_query(words, prefix=prefix), RANK_WINDOW, limit))]
            if len(seqs) >= limit:
                break
        return seqs

    def search(self, text: str, limit: int | None = None) -> list[StoryHit]:
        """Stories with articles holding every word of `text` (in title or text; each word
        also as a prefix), or whose title or proposition does: most matching articles
        first, then by id. What is not indexed yet is not found (see `catch_up`).

        Only the best `limit` (None: SEARCH_ARTICLES) matching articles are read (see
        `_best_articles`; title words weigh TITLE_WEIGHT times text words), and their
        stories are aggregated after that limit, so a word found in most of a million
        articles costs little more than a rare one; `articles` counts a story's articles
        among those read. At most SEARCH_STORIES stories are found by their title."""
        words = query_words(text)
        if not words:
            return []
        limit = SEARCH_ARTICLES if limit is None else limit
        with self._lock:
            best = self._best_articles(words, limit)
            rows = self.conn.execute(
                "SELECT m.story_id, s.title, count(*) FROM json_each(?) j JOIN main.articles a ON a.seq = j.value "
                "JOIN main.story_articles m ON m.article_id = a.id JOIN main.stories s ON s.id = m.story_id "
                "GROUP BY m.story_id",
                (json.dumps(best),),
            ).fetchall()
            # Titles and propositions: a LIKE per ASCII word narrows the stories (one pass
            # over the stories table, no articles, stopping after SEARCH_STORIES; LIKE folds
            # the case of ASCII letters only), the word-prefix rule decides.
            ascii_words = [word for word in words if word.isascii()]
            like = " AND ".join(["(title || ' ' || proposition) LIKE ? ESCAPE '\\'"] * len(ascii_words)) or "1"
            titled = self.conn.execute(
                f"SELECT id, title, proposition FROM main.stories WHERE {like} LIMIT ?",
                # A word is \w+: of LIKE's special characters it can hold only "_".
                ["%" + word.replace("_", "\\_") + "%" for word in ascii_words] + [SEARCH_STORIES],
            ).fetchall()
        hits = {story_id: StoryHit(story_id, title, count, False) for story_id, title, count in rows}
        for story_id, title, proposition in titled:
            folded = query_words(f"{title} {proposition}")
            if all(any(w.startswith(word) for w in folded) for word in words):
                found = hits.get(story_id)
                hits[story_id] = StoryHit(story_id, title, found.articles if found else 0, True)
        return sorted(hits.values(), key=lambda hit: (-hit.articles, not hit.in_title, hit.story_id))



def ordered_story_ids(store: Store, index: SearchIndex | None, annotator: str, text: str = "", sort: str = "id",
                      descending: bool = False, unfinished_only: bool = False,
                      finished: list[str] | None = None) -> list[str]:
    """The ids the story list shows under a filter, in order: with `text`, the stories
    whose id or title starts with it or that `index.search` finds (None: no index, the
    prefixes alone); sorted by `sort` (see `Store.story_order`)."""
    among = None
    if text:
        among = set(store.story_order(annotator, text_filter=text))
        if index is not None:
            among.update(hit.story_id for hit in index.search(text))
    return store.story_order(annotator, sort, descending, unfinished_only, "", finished, among)
