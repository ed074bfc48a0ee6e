"""Build (or reuse) a big newsmark database for the benchmarks: N articles of ~2 KB text,
~10 articles per story, and some labels by two annotators.

    .venv/bin/python bench/make_big_db.py [--articles N] [--per-story K] [--force]

The result is cached as bench/out/big-<N>.db (a settings row records how it was made),
so later runs reuse it. The tables come from the store itself (`Store.open`); the rows go
in through one bulk `executemany` transaction with the journal off (a benchmark fixture
needs no crash safety while it is being built), and the database is switched back to WAL
at the end, as the store expects.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sqlite3
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from newsmark.schema.store import Store  # noqa: E402

OUT = ROOT / "bench" / "out"
ANNOTATORS = ("bench", "alice")
BUILD_KEY = "bench_build"
OUTLETS = (
    "Daily Ledger", "The Courier", "Metro Wire", "Northern Post", "Evening Standardist",
    "Global Dispatch", "The Sentinel", "Harbor Times", "Capital Review", "Rural Gazette",
    "Pacific Chronicle", "Union Herald",
)
WORDS = (
    "minister council report officials said budget city harbor storm flood bridge court "
    "ruling election vote police protest market prices energy grid water supply hospital "
    "school teachers union strike talks agreement deal company shares investors analysts "
    "warned expected increase decrease week month year according statement spokesperson "
    "residents local national regional government opposition party leader former new "
    "plan proposal law bill committee hearing evidence witnesses claimed denied confirmed "
    "sources familiar matter investigation police arrested charged suspect fire crews "
    "emergency services damage roads closed traffic delays airport flights cancelled "
    "weather forecast rain wind coast river levels rising farmers crops harvest exports"
).split()


def build_id(articles: int, per_story: int) -> str:
    """What identifies a cached build: its parameters and the generator's version."""
    return f"v3 articles={articles} per_story={per_story}"


def db_path_for(articles: int, per_story: int = 10) -> Path:
    """Where the cached database for these parameters lives."""
    suffix = "" if per_story == 10 else f"-k{per_story}"
    return OUT / f"big-{articles}{suffix}.db"


def _sentences(count: int) -> list[str]:
    """A fixed pool of plausible news sentences (deterministic, no randomness)."""
    pool = []
    n = len(WORDS)
    for i in range(count):
        length = 12 + (i * 7) % 14
        words = [WORDS[(i * 31 + j * 17 + (i * j) % 13) % n] for j in range(length)]
        words[0] = words[0].capitalize()
        pool.append(" ".join(words) + ".")
    return pool


def _article_rows(articles: int, per_story: int, pool: list[str]):
    """Yield (article number, story number, article row in ARTICLE_INSERT order)."""
    n_pool = len(pool)
    for i in range(articles):
        story = i // per_story
        outlet = OUTLETS[i % len(OUTLETS)]
        parts = [f"Article {i} on story {story}, as reported by {outlet}."]
        size = len(parts[0])
        j = 0
        state = i * 2654435761 % 4294967296
        while size < 2000:
            state = (state * 1103515245 + 12345) % 2147483648
            sentence = pool[state % n_pool]
            parts.append(sentence)
            size += len(sentence) + 1
            j += 1
            if j % 5 == 0:
                parts.append("\n\n")
        text = " ".join(parts).replace(" \n\n ", "\n\n")
        sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
        article_id = sha[:16]
        title = f"{outlet}: {pool[(i * 13) % n_pool][:70]}"
        day = 1 + i % 28
        row = (
            article_id, f"story-{story:07d}", outlet, f"https://example.org/{story}/{i}", title,
            None, f"2025-{1 + story % 12:02d}-{day:02d}", text, sha, "{}", f"bench:{i}",
        )
        yield i, story, row


def build(path: Path, articles: int, per_story: int) -> dict:
    """Create the database at `path` (replacing any); return what was built and how fast."""
    started = time.perf_counter()
    tmp = path.with_name(path.name + ".building")
    for leftover in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
        leftover.unlink(missing_ok=True)
    with Store.open(tmp) as store:  # the store's own schema and default scheme
        story_fields = store.scheme.story_fields()
    conn = sqlite3.connect(tmp, isolation_level=None)
    conn.execute("PRAGMA journal_mode = OFF")
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA cache_size = -400000")  # 400 MB: the indexes stay in memory
    pool = _sentences(4000)
    conn.execute("BEGIN")
    story_count = (articles + per_story - 1) // per_story
    conn.executemany(
        "INSERT INTO stories (id, title, proposition, meta) VALUES (?, ?, ?, '{}')",
        (
            (f"story-{k:07d}", f"{WORDS[(k * 7) % len(WORDS)].capitalize()} {WORDS[(k * 11 + 3) % len(WORDS)]} "
             f"in {WORDS[(k * 5 + 1) % len(WORDS)]}: story {k}", f"Proposition of story {k}.")
            for k in range(story_count)
        ),
    )
    labelled: list[tuple[str, str, str]] = []  # (article id, its story id, annotator)

    def rows():
        for i, story, row in _article_rows(articles, per_story, pool):
            # bench labels every article of 1 story in 50 and the first article of 1 in 50
            # more; alice labels every article of 1 story in 7.
            if story % 50 == 0 or (story % 50 == 1 and i == story * per_story):
                labelled.append((row[0], row[1], "bench"))
            if story % 7 == 0:
                labelled.append((row[0], row[1], "alice"))
            yield row

    conn.executemany(Store.ARTICLE_INSERT, rows())
    # Schema v3: every article is a member of the story it was imported into.
    conn.execute("INSERT INTO story_articles (story_id, article_id) SELECT story_id, id FROM articles")
    at = "2026-11-21T00:00:00Z"
    stances = ("agree", "disagree", "discuss", "unrelated")
    conn.executemany(
        "INSERT INTO labels (article_id, story_id, annotator, field, value, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
        (
            (aid, story if field in story_fields else "", who, field, value, at)
            for n, (aid, story, who) in enumerate(labelled)
            for field, value in (("stance", stances[n % 4]), ("reliability", "ABCDEF"[n % 6]), ("credibility", str(1 + n % 6)))
        ),
    )
    conn.executemany(
        "INSERT INTO annotations (article_id, story_id, annotator, updated_at) VALUES (?, ?, ?, ?)",
        ((aid, story, who, at) for aid, story, who in labelled),
    )
    conn.execute(
        "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (BUILD_KEY, build_id(articles, per_story)),
    )
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.close()
    os.replace(tmp, path)
    seconds = time.perf_counter() - started
    return {
        "path": str(path), "articles": articles, "stories": story_count, "labelled": len(labelled),
        "seconds": round(seconds, 1), "articles_per_s": round(articles / seconds),
        "bytes": path.stat().st_size,
    }


def ensure_big_db(articles: int = 1_000_000, per_story: int = 10, *, force: bool = False) -> Path:
    """The cached big database for these parameters, built first if missing or stale."""
    OUT.mkdir(parents=True, exist_ok=True)
    path = db_path_for(articles, per_story)
    if path.exists() and not force:
        try:
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            row = conn.execute("SELECT value FROM settings WHERE key = ?", (BUILD_KEY,)).fetchone()
            conn.close()
        except sqlite3.Error:
            row = None
        if row and row[0] == build_id(articles, per_story):
            return path
    info = build(path, articles, per_story)
    print(
        f"built {info['path']}: {info['articles']:,} articles in {info['stories']:,} stories, "
        f"{info['labelled']:,} labelled (article, annotator) pairs, {info['bytes'] / 1e9:.2f} GB "
        f"in {info['seconds']} s ({info['articles_per_s']:,} articles/s)",
        file=sys.stderr,
    )
    return path


def main() -> None:
    """Command line: build or reuse the database and print its path."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=1_000_000)
    parser.add_argument("--per-story", type=int, default=10)
    parser.add_argument("--force", action="store_true", help="rebuild even if a cached copy exists")
    args = parser.parse_args()
    print(ensure_big_db(args.articles, args.per_story, force=args.force))


if __name__ == "__main__":
    main()
