"""Full-text search of titles and texts: which stories hold articles with these words.

One interface (`SearchIndex`, opened with `open_search_index`), a backend per engine:

- SQLite (`FileSearchIndex`): FTS5 in a file of its own beside the database
  (`<db>.search`), so the index's writes take the side file's lock, never the database's,
  and keystrokes never wait for them. A file left from another database is recognised by
  the database's id and rebuilt.
- PostgreSQL (`ServerSearchIndex`): a `tsvector` per article in the table `search_words`
  with a GIN index, on a connection of its own (MVCC: readers and keystrokes never wait).
  Words are folded here in Python (NFKC, case-folded, diacritics removed), not by the
  server's text-search configuration, so that both engines find the same words whatever
  the server's locale.

Both are filled in the background (`catch_up`), never by imports: tokenising a text costs
several times what storing it does, so an import keeps its speed. Both are derived data
(rebuilt when lost, never copied by `db copy`), hold `articles.seq` and no text, follow the
articles in seq order and stop before the rows of an import still running (`visible`).
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
import unicodedata
import uuid
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path

from newsmark.schema.store import BUSY_TIMEOUT_MS, IMPORTING_KEY, Store, StoreError

DATABASE_ID = "database_id"  # a random id in the database's settings, named by its index
SEARCH_ARTICLES = 500  # best-ranked matching articles whose stories a search returns
RANK_WINDOW = 5_000  # newest matching articles ranked (bounds a common word's cost)
SEARCH_STORIES = 500  # most stories a search finds by their title or proposition
TITLE_WEIGHT = 5.0  # weight of a title word against a text word
_WORD = re.compile(r"\w+")
_SCHEMA = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS search.fts USING fts5("
    "title, text, content='', tokenize='unicode61 remove_diacritics 2')",
    "CREATE TABLE IF NOT EXISTS search.state (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
)
# The first seq of an import still publishing above `through`: nothing at or above it is
# indexed yet (its rows are hidden; indexing past them would skip them for good).
_IMPORT_STOP = (
    "SELECT min(CAST(json_extract(value, '$[0]') AS INTEGER)) FROM main.settings "
    "WHERE key >= ? AND key < ? AND CAST(json_extract(value, '$[1]') AS INTEGER) > ?"
)
# The stories of the best articles, and the stories whose title or proposition may match
# (a LIKE per ASCII word narrows them in one pass over the stories, stopping after
# SEARCH_STORIES; LIKE folds ASCII letters only; the word-prefix rule then decides).
_STORIES_OF = (
    "SELECT m.story_id, s.title, count(*) FROM json_each(?) j "
    "JOIN main.articles a ON a.seq = CAST(j.value AS INTEGER) "
    "JOIN main.story_articles m ON m.article_id = a.id JOIN main.stories s ON s.id = m.story_id "
    "GROUP BY m.story_id, s.title"
)
_TITLE_LIKE = "(title || ' ' || proposition) LIKE ? ESCAPE '\\'"
# PostgreSQL's tsvector bounds: a lexeme under 2 KiB, positions 1..16383, 256 per lexeme.
_PG_MAX_LEXEME_BYTES = 2046
_PG_MAX_POSITION = 16383
_PG_POSITIONS_PER_LEXEME = 256
_PG_MAX_LEXEMES = 50_000  # a text with more distinct words is indexed by its first ones
# Rows a catch-up looks back below the highest indexed seq before it looks at all of them:
# on PostgreSQL a transaction that took a lower seq may commit after one that took a higher.
_PG_LATE_SEQS = 1_000


@dataclass(frozen=True)
class StoryHit:
    """A story that matched: how many of its articles hold every word, and whether its
    title or proposition does."""

    story_id: str
    title: str
    articles: int
    in_title: bool


def query_words(text: str) -> list[str]:
    """The words of a search, as the index folds them (NFKC, case-folded, diacritics
    removed, as FTS5's `remove_diacritics 2` does)."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    if not folded.isascii():
        decomposed = unicodedata.normalize("NFD", folded)
        folded = unicodedata.normalize("NFC", "".join(c for c in decomposed if not unicodedata.combining(c)))
    return _WORD.findall(folded)


def fts_query(words: list[str], prefix: bool = True) -> str:
    """An FTS5 query matching texts that hold every word, each as a prefix ("kim" finds
    "Kim's" and "Kimberley") unless `prefix` is false; quoting keeps FTS5's operators out
    of a user's words."""
    star = "*" if prefix else ""
    return " AND ".join(f'"{word}"{star}' for word in words)


def ts_query(words: list[str], prefix: bool = True) -> str:
    """The same as a PostgreSQL `tsquery` literal (words are \\w+: no quote can occur)."""
    star = ":*" if prefix else ""
    return " & ".join(f"'{word}'{star}" for word in words)


def ts_vector(title: str, text: str) -> str:
    """An article's words as a PostgreSQL `tsvector` literal: each word with its positions,
    the title's weighted A (see TITLE_WEIGHT), within the type's bounds."""
    positions: dict[str, list[str]] = {}
    position = 0
    for weight, part in (("A", title), ("", text)):
        for word in query_words(part):
            position = min(position + 1, _PG_MAX_POSITION)
            found = positions.get(word)
            if found is None:
                if len(positions) >= _PG_MAX_LEXEMES or len(word.encode()) > _PG_MAX_LEXEME_BYTES:
                    continue
                positions[word] = found = []
            if len(found) < _PG_POSITIONS_PER_LEXEME:
                found.append(f"{position}{weight}")
    return " ".join(f"'{word}':{','.join(places)}" for word, places in positions.items())


def open_search_index(store: Store) -> SearchIndex:
    """The search index of a store, by its engine (see the module's docstring)."""
    return ServerSearchIndex(store) if store.postgres else FileSearchIndex(store)


class SearchIndex(ABC):
    """What the story list and `story list --search` use of an index."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.conn = None

    def close(self) -> None:
        """Close the index's connection."""
        self.conn.close()

    @abstractmethod
    def pending(self) -> int:
        """How many articles wait to be indexed."""

    @abstractmethod
    def catch_up(self, max_rows: int = 200) -> int:
        """Index the next articles (at most max_rows, in seq order) in one short
        transaction; return how many. Stops before an import still running."""

    @abstractmethod
    def _ranked(self, words: list[str], prefix: bool, limit: int) -> list[int]:
        """The seqs of the best `limit` articles holding every word (each as a prefix with
        `prefix`): the newest RANK_WINDOW matches ranked, title words weighing TITLE_WEIGHT
        times text words."""

    def _best_articles(self, words: list[str], limit: int) -> list[int]:
        """`_ranked` by whole words first; only when they give fewer than `limit` articles,
        each word as a prefix too (a whole word's posting list is read newest first, lazily;
        a prefix merges the lists of every word it starts, the whole of them)."""
        seqs = self._ranked(words, False, limit)
        return seqs if len(seqs) >= limit else self._ranked(words, True, limit)

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

    def _import_stop(self, through: int) -> int | None:
        return self.conn.execute(_IMPORT_STOP, (IMPORTING_KEY, IMPORTING_KEY[:-1] + ";", through)).fetchone()[0]

    def search(self, text: str, limit: int | None = None) -> list[StoryHit]:
        """Stories with articles holding every word of `text` (in title or text; each word
        also as a prefix), or whose title or proposition does: most matching articles
        first, then by id. What is not indexed yet is not found (see `catch_up`).

        Only the best `limit` (None: SEARCH_ARTICLES) matching articles are read (see
        `_best_articles`), and their stories are aggregated after that limit, so a word
        found in most of a million articles costs little more than a rare one; `articles`
        counts a story's articles among those read. At most SEARCH_STORIES stories are
        found by their title."""
        words = query_words(text)
        if not words:
            return []
        limit = SEARCH_ARTICLES if limit is None else limit
        ascii_words = [word for word in words if word.isascii()]
        like = " AND ".join([_TITLE_LIKE] * len(ascii_words)) or "TRUE"
        with self._lock:
            best = self._best_articles(words, limit)
            rows = self.conn.execute(_STORIES_OF, (json.dumps(best),)).fetchall()
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


class FileSearchIndex(SearchIndex):
    """SQLite: FTS5 in a side file beside the database (contentless: rowid = seq)."""

    def __init__(self, store: Store) -> None:
        super().__init__()
        if store.path is None:
            raise StoreError("searching texts needs a database file (not :memory:)")
        self.path = Path(str(store.path) + ".search")
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
        through = int(self._state("through") or 0)
        return self.conn.execute("SELECT count(*) FROM main.articles WHERE seq > ?", (through,)).fetchone()[0]

    def catch_up(self, max_rows: int = 200) -> int:
        with self._lock:
            self.conn.execute("BEGIN")
            try:
                through = int(self._state("through") or 0)
                stop = self._import_stop(through)
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

    def _ranked(self, words: list[str], prefix: bool, limit: int) -> list[int]:
        return [row[0] for row in self.conn.execute(
            "SELECT seq FROM (SELECT rowid AS seq, bm25(fts, ?, 1.0) AS score FROM search.fts "
            "WHERE fts MATCH ? ORDER BY rowid DESC LIMIT ?) ORDER BY score LIMIT ?",
            (TITLE_WEIGHT, fts_query(words, prefix=prefix), RANK_WINDOW, limit))]


class ServerSearchIndex(SearchIndex):
    """PostgreSQL: a tsvector per article (`search_words`, GIN-indexed) in the database."""

    def __init__(self, store: Store) -> None:
        super().__init__()
        from newsmark.schema.engines.postgres import PgConnection

        self.conn = PgConnection.connect(store.url)

    def pending(self) -> int:
        return self.conn.execute(
            "SELECT count(*) FROM main.articles a WHERE NOT EXISTS "
            "(SELECT 1 FROM main.search_words w WHERE w.seq = a.seq)").fetchone()[0]

    def catch_up(self, max_rows: int = 200) -> int:
        with self._lock:
            through = self.conn.execute("SELECT coalesce(max(seq), 0) FROM main.search_words").fetchone()[0]
            stop = self._import_stop(through)
            bound = "AND a.seq < ?" if stop is not None else ""
            rows = []
            # The recent rows first (an index range), then, once they are done, all of them
            # (one anti-join): a transaction that took its seqs early may commit late.
            for lowest in sorted({max(through - _PG_LATE_SEQS, 0), 0}, reverse=True):
                rows = self.conn.execute(
                    f"SELECT a.seq, coalesce(a.title, ''), a.text FROM main.articles a WHERE a.seq > ? {bound} "
                    "AND NOT EXISTS (SELECT 1 FROM main.search_words w WHERE w.seq = a.seq) ORDER BY a.seq LIMIT ?",
                    [lowest] + ([stop] if stop is not None else []) + [max_rows],
                ).fetchall()
                if rows:
                    break
            if not rows:
                return 0
            # Two teammates' apps may index the same rows at once: the first one's stay.
            self.conn.executemany(
                "INSERT INTO main.search_words (seq, words) VALUES (?, CAST(? AS tsvector)) ON CONFLICT (seq) DO NOTHING",
                [(seq, ts_vector(title, text)) for seq, title, text in rows])
            return len(rows)

    def _ranked(self, words: list[str], prefix: bool, limit: int) -> list[int]:
        # ts_rank's weights are {D, C, B, A}: text words are D, title words A.
        weights = "{%s, 0, 0, %s}" % (1.0 / TITLE_WEIGHT, 1.0)
        return [row[0] for row in self.conn.execute(
            "SELECT seq FROM (SELECT w.seq, ts_rank(CAST(? AS real[]), w.words, query.q) AS score "
            "FROM main.search_words w CROSS JOIN (SELECT CAST(? AS tsquery) AS q) AS query "
            "WHERE w.words @@ query.q ORDER BY w.seq DESC LIMIT ?) AS recent ORDER BY score DESC, seq DESC LIMIT ?",
            (weights, ts_query(words, prefix=prefix), RANK_WINDOW, limit))]


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
