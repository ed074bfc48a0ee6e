"""Stories from a flat corpus: put articles that arrived without a story into stories.

Each article is reduced to its KEYWORDS most distinctive words (tf-idf over the articles
being grouped, title words counted TITLE_WEIGHT times), so two outlets' reports of one
event, which share few whole sentences, still share most of their keywords (names,
places, the event's own vocabulary), and a near-duplicate shares all of them. datasketch's
MinHash LSH finds the candidate pairs among the keyword sets without comparing every pair;
each candidate is checked with the exact Jaccard index of the two sets, and the pairs at
or above JOIN_THRESHOLD link articles into stories (connected components, with a size
cap so a chain of weak links cannot swallow a whole news cycle).
"""

from __future__ import annotations

import math
import re
import zlib
from functools import lru_cache
from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np
import orjson
from datasketch import MinHash, MinHashLSH

from newsmark.schema.models import Story
from newsmark.schema.store import Store, visible

KEYWORDS = 30  # distinctive words kept per article
TITLE_WEIGHT = 3  # a title word counts as this many occurrences in the text
NUM_PERM = 64
LSH_THRESHOLD = 0.2  # LSH's target Jaccard for candidate pairs
LSH_BANDS: tuple[int, int] | None = None  # (bands, rows); None: datasketch's choice for LSH_THRESHOLD
JOIN_THRESHOLD = 0.2  # exact keyword Jaccard from which two articles are the same story
IDF_FLOOR = 0.05  # least weight of a word (its idf when every article has it is 0)
ESTIMATE_FLOOR = 0.08  # MinHash-estimated Jaccard below which a candidate is not checked
MAX_BUCKET = 200  # an LSH bucket larger than this links its members to neighbours only
MAX_STORY = 60  # components larger than this are split again at a stricter threshold

_TOKEN = re.compile(r"[a-z][a-z0-9]{2,}")
STOPWORDS = frozenset("""
about above after again against all also although among and another any are aren't around
because been before being below between both but can cannot could did does doing down
during each either else even ever every few for from further had has have having her here
hers herself him himself his how however into its itself just last least less like made
make many may might more most much must near need never new next not now off often once
one only other others our ours out over own part per put rather said same say says see
seen several she should show since some still such than that the their theirs them
themselves then there these they this those though three through thus time told too two
under until upon very want was way well were what when where whether which while who whom
whose why will with within without would year years yet you your yours first second told
according including also news reported report reports reuters agency agencies image photo
getty images copyright source sources updated published read more share comments
""".split())


def _term_counts(title: str | None, text: str) -> Counter:
    counts = Counter(_TOKEN.findall(text.lower()))
    for word in _TOKEN.findall((title or "").lower()):
        counts[word] += TITLE_WEIGHT
    for word in STOPWORDS.intersection(counts):
        del counts[word]
    return counts


def group_texts(items: Sequence[tuple[str, str | None, str]]) -> list[list[str]]:
    """Group (id, title, text) items into stories: lists of ids, each in input order,
    largest first. Articles that match nothing come back as groups of one."""
    # A term is known by the CRC-32 of its UTF-8 bytes, computed in C (map) rather than
    # through a Python vocabulary; the few 32-bit collisions cost nothing measurable.
    documents: list[tuple[np.ndarray, np.ndarray]] = []
    for _, title, text in items:
        counts = _term_counts(title, text)
        terms = np.fromiter(map(zlib.crc32, map(str.encode, counts)), np.int64, len(counts))
        documents.append((terms, np.fromiter(counts.values(), np.float64, len(counts))))
    n = len(items)
    if n == 0:
        return []
    all_terms = np.concatenate([d[0] for d in documents])
    vocabulary, inverse = np.unique(all_terms, return_inverse=True)
    # The floor keeps a term found in every article above zero, so that a handful of
    # near-duplicates (where every shared word has df = n) still pick the words they share.
    idf_by_slot = np.maximum(math.log(n + 1) - np.log(np.bincount(inverse, minlength=len(vocabulary)) + 1.0), IDF_FLOOR)
    del all_terms
    sets: list[frozenset[int]] = []
    offset = 0
    for terms, counts in documents:
        slots = inverse[offset : offset + len(terms)]
        offset += len(terms)
        if len(terms) > KEYWORDS:
            # Stable sort: ties keep the words' order of first appearance, so runs agree.
            terms = terms[np.argsort(-(counts * idf_by_slot[slots]), kind="stable")[:KEYWORDS]]
        sets.append(frozenset(terms.tolist()))
    del documents, inverse

    signatures = _signatures(sets)
    pairs = _candidate_pairs(signatures, n)
    # Most candidates are chance collisions in one band; the MinHash estimate of their
    # Jaccard index (the share of equal signature rows) drops them in bulk before the
    # exact check. A pair at JOIN_THRESHOLD passes the estimate ~99% of the time.
    keep = np.zeros(len(pairs), dtype=bool)
    for start in range(0, len(pairs), 200_000):
        chunk = pairs[start : start + 200_000]
        agree = (signatures[chunk[:, 0]] == signatures[chunk[:, 1]]).mean(axis=1)
        keep[start : start + len(chunk)] = agree >= ESTIMATE_FLOOR
    edges: list[tuple[float, int, int]] = []
    for first, second in pairs[keep].tolist():
        a_set, b_set = sets[first], sets[second]
        shared = len(a_set & b_set)
        jaccard = shared / (len(a_set) + len(b_set) - shared)
        if jaccard >= JOIN_THRESHOLD:
            edges.append((jaccard, first, second))
    groups = _components(n, edges, JOIN_THRESHOLD)
    ids = [item[0] for item in items]
    return [[ids[k] for k in group] for group in sorted(groups, key=lambda g: (-len(g), g[0]))]


def _signatures(sets: Sequence[frozenset[int]]) -> np.ndarray:
    """The datasketch MinHash signature of every keyword set, one row each (an empty set
    gets the all-maximum row of an empty MinHash, which bands with nothing real)."""
    signature = MinHash(num_perm=NUM_PERM, seed=7, hashfunc=int)
    rows = np.empty((len(sets), NUM_PERM), dtype=np.uint64)
    for index, terms in enumerate(sets):
        signature.clear()
        if terms:
            signature.update_batch(sorted(terms))
        rows[index] = signature.hashvalues
    return rows


def _candidate_pairs(signatures: np.ndarray, n: int) -> np.ndarray:
    """LSH banding over the signature matrix: (first, second) index pairs, first < second,
    of articles that agree on every row of at least one band.

    The bands and rows are the ones datasketch's MinHashLSH picks for LSH_THRESHOLD (or
    LSH_BANDS). The banding itself is done here with numpy sorts rather than through
    MinHashLSH's insert and query: on 100,000 articles those alone took longer than the
    whole 60 s budget allows (2.8 million Python-level bucket inserts), this takes seconds.
    """
    if n < 2:
        return np.empty((0, 2), dtype=np.int64)
    if LSH_BANDS is not None:
        bands, rows = LSH_BANDS
    else:
        chosen = MinHashLSH(threshold=LSH_THRESHOLD, num_perm=NUM_PERM)
        bands, rows = chosen.b, chosen.r
    empty = np.all(signatures == MinHash(num_perm=1).hashvalues[0], axis=1)
    codes: list[np.ndarray] = []
    for band in range(bands):
        block = np.ascontiguousarray(signatures[:, band * rows : (band + 1) * rows])
        keys = block.view(np.dtype((np.void, block.dtype.itemsize * rows))).ravel()
        order = np.argsort(keys, kind="stable")
        order = order[~empty[order]]
        ordered_keys = keys[order]
        starts = np.flatnonzero(np.r_[True, ordered_keys[1:] != ordered_keys[:-1]])
        sizes = np.diff(np.r_[starts, len(order)])
        # Buckets of two, by far the most common, in one vectorised step.
        pairs_at = starts[sizes == 2]
        if len(pairs_at):
            codes.append(_codes(order[pairs_at], order[pairs_at + 1], n))
        for start, size in zip(starts[sizes > 2].tolist(), sizes[sizes > 2].tolist()):
            members = np.sort(order[start : start + size])
            if size <= MAX_BUCKET:
                first, second = _pairs_of(size)
            else:  # a huge bucket: link neighbours only (the exact check still applies)
                first, second = np.arange(size - 1), np.arange(1, size)
            codes.append(_codes(members[first], members[second], n))
    if not codes:
        return np.empty((0, 2), dtype=np.int64)
    unique = np.unique(np.concatenate(codes))
    return np.stack([unique // n, unique % n], axis=1)


@lru_cache(maxsize=None)
def _pairs_of(size: int) -> tuple[np.ndarray, np.ndarray]:
    """All (i, j), i < j < size, as two index arrays (cached: bucket sizes repeat)."""
    return np.triu_indices(size, 1)


def _codes(first: np.ndarray, second: np.ndarray, n: int) -> np.ndarray:
    low, high = np.minimum(first, second), np.maximum(first, second)
    return low.astype(np.int64) * n + high


def _components(n: int, edges: list[tuple[float, int, int]], threshold: float) -> list[list[int]]:
    """Connected components over the edges at or above `threshold`; a component larger
    than MAX_STORY is split again with a stricter threshold."""
    parent = list(range(n))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for jaccard, a, b in edges:
        if jaccard >= threshold:
            root_a, root_b = find(a), find(b)
            if root_a != root_b:
                parent[max(root_a, root_b)] = min(root_a, root_b)
    members: dict[int, list[int]] = {}
    for k in range(n):
        members.setdefault(find(k), []).append(k)
    oversized = {root for root, group in members.items() if len(group) > MAX_STORY and threshold < 0.9}
    inner_edges: dict[int, list[tuple[float, int, int]]] = {root: [] for root in oversized}
    if oversized:
        for edge in edges:  # one pass: each edge to the oversized component holding it
            root = find(edge[1])
            if root in inner_edges and edge[0] >= threshold:
                inner_edges[root].append(edge)
    out: list[list[int]] = []
    for root, group in members.items():
        if root in oversized:
            local = {k: pos for pos, k in enumerate(group)}
            sub_edges = [(j, local[a], local[b]) for j, a, b in inner_edges[root]]
            for sub in _components(len(group), sub_edges, threshold + 0.05):
                out.append([group[pos] for pos in sub])
        else:
            out.append(group)
    return out


def group_articles(store: Store, article_ids: Iterable[str] | None = None, *,
                   story: str | None = None) -> list[list[str]]:
    """Group articles into stories by near-duplicate and topical similarity: the given
    ids; else (None) the articles of `story`; else every article of an ungrouped story
    (see `ungrouped_story_ids`). Returns lists of article ids, largest first, each in
    import order; singletons included."""
    if article_ids is None:
        story_ids = [story] if story is not None else ungrouped_story_ids(store)
        marks = ",".join("?" * len(story_ids))
        rows = store.conn.execute(
            f"SELECT id, title, text FROM articles WHERE story_id IN ({marks}) AND {visible()} ORDER BY seq",
            story_ids,
        ).fetchall() if story_ids else []
    else:
        wanted = list(dict.fromkeys(article_ids))
        rows = []
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            found = {
                row[0]: row for row in store.conn.execute(
                    f"SELECT id, title, text FROM articles WHERE id IN ({','.join('?' * len(chunk))})", chunk
                )
            }
            rows += [found[i] for i in chunk if i in found]
    return group_texts(rows)


UNGROUPED_PREFIX = "ungrouped"


def ungrouped_story_ids(store: Store) -> list[str]:
    """Stories holding articles that arrived without one: ids starting with "ungrouped"
    (the importer's catch-all) or marked `meta.ungrouped = true`."""
    rows = store.conn.execute("SELECT id, meta FROM stories ORDER BY id").fetchall()
    return [
        story_id for story_id, meta in rows
        if story_id.startswith(UNGROUPED_PREFIX) or orjson.loads(meta or "{}").get("ungrouped") is True
    ]


def apply_grouping(store: Store, groups: Sequence[Sequence[str]], *, prefix: str = "group",
                   min_size: int = 2) -> list[str]:
    """Create one story per group of at least `min_size` articles and move its articles
    there (UPDATE articles SET story_id), in one transaction; return the new story ids.
    A story's id is `prefix-` plus the first 8 hex digits of its first article's id, its
    title that article's title. Smaller groups stay where they are; a story that the
    moves leave without articles is removed."""
    created: list[str] = []
    with store.transaction() as conn:
        origins = set()
        for group in groups:
            if len(group) < min_size:
                continue
            first = group[0]
            row = conn.execute("SELECT title FROM articles WHERE id = ?", (first,)).fetchone()
            story_id = f"{prefix}-{first[:8]}"
            title = (row[0] if row and row[0] else f"Story of {len(group)} articles")[:200]
            story = Story(id=story_id, title=title, proposition="", meta={"grouped": True, "size": len(group)})
            store.ensure_story(conn, story)
            for start in range(0, len(group), 500):
                chunk = list(group[start : start + 500])
                origins.update(row[0] for row in conn.execute(
                    f"SELECT DISTINCT story_id FROM articles WHERE id IN ({','.join('?' * len(chunk))})", chunk))
            conn.executemany("UPDATE articles SET story_id = ? WHERE id = ?", [(story_id, a) for a in group])
            created.append(story_id)
        for story_id in sorted(origins - set(created)):
            conn.execute("DELETE FROM stories WHERE id = ? AND NOT EXISTS "
                         "(SELECT 1 FROM articles WHERE story_id = ?)", (story_id, story_id))
    return created
