"""Stories from a flat corpus: put articles that arrived without a story into stories.

Each article becomes a keyword vector: its KEYWORDS most distinctive words (sublinear tf-idf
over the articles being grouped, title words counted TITLE_WEIGHT more times), L2-normalised,
so two outlets' reports of one event, which share few whole sentences, still share their
names, places and the event's own vocabulary. Words are Unicode-aware: NFKC and casefold,
every script's letters kept ("München", Cyrillic, Greek), and text in scripts written without
spaces (Chinese, Japanese, Korean) split into overlapping character pairs.

The cosine similarity of two vectors is summed through an inverted index of the keywords
(`candidate_pairs`): only articles that share a keyword are ever compared, and a keyword
found in very many articles pairs each with its heaviest holders only, within PAIR_BUDGET.
Stories are then cut from average-linkage clustering at JOIN_THRESHOLD: two groups join
when the mean similarity over all their cross pairs (a pair never compared counts as 0)
reaches it, so a chain of weak links cannot pull two stories together the way single links
(connected components) do. On FNC-1's bodies (two belong together when they relate to a
common headline) this gives pairwise precision 0.975 and recall 0.879 (bench/bench_grouping.py);
anywhere from 0.11 to 0.14 the threshold keeps precision >= 0.97 and recall >= 0.86.

New articles can also join stories that exist already (`group_new`, `group_into_stories`):
each existing story starts as one cluster of the same clustering and no two of them ever
merge, so an article joins a story when one-step grouping would have put it there. On
FNC-1 in two imports (every other body, then the rest) this gives precision 0.964 and
recall 0.856. A new group is titled after its most central article (`Group.central`).
"""

from __future__ import annotations

import re
import unicodedata
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import connected_components

from newsmark.schema.models import Story
from newsmark.schema.store import CATCH_ALL_PREFIX, Store, default_wording

KEYWORDS = 40  # distinctive words kept per article
TITLE_WEIGHT = 3  # a title word counts as this many more occurrences
JOIN_THRESHOLD = 0.13  # mean cosine similarity from which two groups are one story
EDGE_FLOOR = 0.1  # least similarity of a pair that is kept (weaker pairs count as 0)
PAIR_BUDGET = 40_000_000  # most keyword-sharing pairs summed (bounds time and memory)

# Scripts written without spaces between words: Hiragana, Katakana, CJK ideographs
# (with extension A and the compatibility block) and Hangul syllables.
_UNSPACED = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"
# A word: a letter then letters or digits, of any other script; at least two characters.
_WORD = re.compile(rf"[^\W\d_{_UNSPACED}][^\W_{_UNSPACED}]+")
_UNSPACED_RUN = re.compile(rf"[{_UNSPACED}]+")
STOPWORDS = frozenset("""
am an as at be by do go he if in is it me my no of on or so to up us we
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


def words(text: str) -> list[str]:
    """The words of `text` for grouping: NFKC-normalised and casefolded runs of letters and
    digits starting with a letter, in every script, and overlapping character pairs of
    runs in scripts without spaces ("東京都" -> "東京", "京都"); a lone such character stays."""
    if text.isascii():  # the common case: NFKC changes nothing and casefold is lower
        return _WORD.findall(text.lower())
    text = unicodedata.normalize("NFKC", text).casefold()
    found = _WORD.findall(text)
    for run in _UNSPACED_RUN.findall(text):
        found += [run] if len(run) == 1 else [run[k : k + 2] for k in range(len(run) - 1)]
    return found


def _term_counts(title: str | None, text: str) -> Counter:
    counts = Counter(words(text))
    for word in words(title or ""):
        counts[word] += TITLE_WEIGHT
    for word in STOPWORDS.intersection(counts):
        del counts[word]
    return counts


def _keyword_vectors(texts: Iterable[tuple[str | None, str]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every article's keyword vector as three parallel arrays (article index, term id,
    weight), each article's entries together and heaviest first; weights are sublinear
    tf times smoothed idf, the KEYWORDS heaviest kept and scaled to unit length. `texts`
    is read once, so it may be a stream of (title, text)."""
    # A term is known by the CRC-32 of its UTF-8 bytes, computed in C (map) rather than
    # through a Python vocabulary; the few 32-bit collisions cost nothing measurable.
    hashes: list[np.ndarray] = []
    frequencies: list[np.ndarray] = []
    sizes: list[int] = []
    for title, text in texts:
        counts = _term_counts(title, text)
        sizes.append(len(counts))
        hashes.append(np.fromiter(map(zlib.crc32, map(str.encode, counts)), np.int64, len(counts)))
        frequencies.append(np.fromiter(counts.values(), np.float64, len(counts)))
    n = len(sizes)
    lengths = np.asarray(sizes, dtype=np.int64)
    article = np.repeat(np.arange(n), lengths)
    _, term = np.unique(np.concatenate(hashes), return_inverse=True)
    del hashes
    document_frequency = np.bincount(term)
    # Smoothed idf (+1): a word that every article has still weighs something, so a few
    # near-duplicates, which share nearly all their words, still come out similar.
    idf = np.log((n + 1) / (document_frequency + 1.0)) + 1.0
    weight = (1.0 + np.log(np.concatenate(frequencies))) * idf[term]
    # Heaviest first within each article; ties keep the words' order of first appearance.
    order = np.lexsort((-weight, article))
    rank = np.arange(len(order)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    keep = order[rank < KEYWORDS]
    article, term, weight = article[keep], term[keep], weight[keep]
    weight /= np.sqrt(np.bincount(article, weight * weight, minlength=n))[article]
    return article, term, weight


def _similar_pairs(article: np.ndarray, term: np.ndarray, weight: np.ndarray, n: int,
                   floor: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(first, second, similarity) arrays, first < second, of the article pairs whose
    keyword vectors' cosine similarity is at least `floor`, summed term by term over an
    inverted index. A term held by more articles than PAIR_BUDGET allows pairs each
    holder only with its `partners` heaviest holders (their share of that term is lost)."""
    order = np.lexsort((-weight, term))
    # 32-bit indexes and weights: the pair arrays below run to tens of millions of entries.
    article, term, weight = article[order].astype(np.int32), term[order], weight[order].astype(np.float32)
    starts = np.flatnonzero(np.r_[True, term[1:] != term[:-1]])
    sizes = np.diff(np.r_[starts, len(term)])
    partners = _partners(sizes)
    firsts: list[np.ndarray] = []
    seconds: list[np.ndarray] = []
    products: list[np.ndarray] = []
    for size in np.unique(sizes[sizes >= 2]).tolist():
        at = starts[sizes == size]
        head, tail = _head_pairs(size, partners)
        step = max(1, 4_000_000 // len(head))  # bounds the temporary index arrays
        for chunk in range(0, len(at), step):
            block = at[chunk : chunk + step, None]
            one, other = (block + head).ravel(), (block + tail).ravel()
            firsts.append(article[one])
            seconds.append(article[other])
            products.append(weight[one] * weight[other])
    if not products:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, np.empty(0)
    first, second = np.concatenate(firsts), np.concatenate(seconds)
    del firsts, seconds
    # scipy sums the products of one pair (duplicate coordinates) row by row, in C.
    sums = csr_matrix((np.concatenate(products), (np.minimum(first, second), np.maximum(first, second))),
                      shape=(n, n))
    del first, second, products
    sums.sum_duplicates()
    kept = sums.data >= floor
    rows = np.repeat(np.arange(n), np.diff(sums.indptr))[kept]
    return rows.astype(np.int64), sums.indices[kept].astype(np.int64), sums.data[kept].astype(np.float64)


def _partners(sizes: np.ndarray) -> int:
    """The most heaviest holders a term's holder is paired with: the largest number that
    keeps the pairs of all terms (sizes: holders per term) within PAIR_BUDGET."""
    sizes = sizes.astype(np.float64)
    low, high = 1, max(int(sizes.max(initial=1)), 1)
    while low < high:  # the pair count grows with partners: bisect for the largest in budget
        middle = (low + high + 1) // 2
        head = np.minimum(sizes, middle)
        if (head * sizes - head * (head + 1) / 2).sum() <= PAIR_BUDGET:
            low = middle
        else:
            high = middle - 1
    return low


@lru_cache(maxsize=4096)
def _head_pairs(size: int, partners: int) -> tuple[np.ndarray, np.ndarray]:
    """(i, j), i < j < size and i < partners, as two index arrays (cached: sizes repeat)."""
    heads = range(min(size, partners))
    return (np.concatenate([np.full(size - 1 - i, i) for i in heads]),
            np.concatenate([np.arange(i + 1, size) for i in heads]))


def _average_linkage(n: int, first: np.ndarray, second: np.ndarray, similarity: np.ndarray,
                     threshold: float, start: np.ndarray | None = None,
                     anchored: np.ndarray | None = None) -> np.ndarray:
    """Average-linkage clustering of n items cut at `threshold`: each item's cluster, named
    by its smallest member. The similarity of two clusters is the sum over their cross pairs
    divided by the product of their sizes (pairs not given count as 0).

    `start` gives clusters to begin from (each item's cluster, named by its smallest
    member; by default every item alone), and `anchored` the items (a boolean mask) of
    clusters that must never join one another: existing stories, which new articles may
    join but which grouping never merges.

    Average linkage is reducible, so merging every pair of clusters that are each other's
    most similar at once, round after round, gives the same clusters as merging one pair at
    a time; each round is a few numpy passes over the pairs."""
    cluster = np.arange(n) if start is None else start.copy()
    size = np.bincount(cluster, minlength=n).astype(np.float64)
    anchor = np.zeros(n, dtype=bool)
    if anchored is not None:
        anchor[cluster[anchored]] = True
    strong = similarity >= threshold
    first, second = cluster[first], cluster[second]
    # Two clusters can only end up together inside one component of the pairs at or above
    # the threshold (a mean reaches it only if one of its pairs does): pairs between
    # components never matter.
    graph = coo_matrix((np.ones(int(strong.sum())), (first[strong], second[strong])), shape=(n, n))
    _, component = connected_components(graph, directed=False)
    inside = (component[first] == component[second]) & (first != second)
    low = np.minimum(first[inside], second[inside])
    high = np.maximum(first[inside], second[inside])
    codes, where = np.unique(low * n + high, return_inverse=True)
    similarity = np.bincount(where, similarity[inside]) if len(codes) else np.empty(0)
    first, second = codes // n, codes % n
    while True:
        if anchored is not None:  # two stories that exist already are never merged
            free = ~(anchor[first] & anchor[second])
            first, second, similarity = first[free], second[free], similarity[free]
        mean = similarity / (size[first] * size[second])
        joinable = mean >= threshold
        if not joinable.any():
            return cluster
        ends = np.concatenate([first[joinable], second[joinable]])
        others = np.concatenate([second[joinable], first[joinable]])
        means = np.concatenate([mean[joinable], mean[joinable]])
        order = np.lexsort((others, -means, ends))  # ties: the smaller neighbour
        ends, others = ends[order], others[order]
        leads = np.flatnonzero(np.r_[True, ends[1:] != ends[:-1]])
        nearest = np.full(n, -1)
        nearest[ends[leads]] = others[leads]
        own = ends[leads]
        mutual = own[(nearest[nearest[own]] == own) & (own < nearest[own])]
        rename = np.arange(n)
        rename[nearest[mutual]] = mutual
        size[mutual] += size[nearest[mutual]]
        anchor[mutual] |= anchor[nearest[mutual]]
        cluster = rename[cluster]
        first, second = rename[first], rename[second]
        apart = first != second
        low = np.minimum(first[apart], second[apart])
        high = np.maximum(first[apart], second[apart])
        codes, where = np.unique(low * n + high, return_inverse=True)
        similarity = np.bincount(where, similarity[apart])
        first, second = codes // n, codes % n


def candidate_pairs(texts: Sequence[tuple[str | None, str]], floor: float = EDGE_FLOOR) -> list[tuple[int, int, float]]:
    """The article pairs worth comparing among (title, text) texts: (i, j, similarity)
    with i < j indexes into `texts` and similarity the cosine of their keyword vectors
    (0 to 1), at least `floor`; most similar first. Pairs sharing no keyword are never
    compared, so this costs far less than all pairs on a large set."""
    if len(texts) < 2:
        return []
    article, term, weight = _keyword_vectors(texts)
    first, second, similarity = _similar_pairs(article, term, weight, len(texts), floor)
    order = np.lexsort((second, first, -similarity))
    return list(zip(first[order].tolist(), second[order].tolist(), np.minimum(similarity[order], 1.0).tolist()))


@dataclass(frozen=True)
class Group:
    """A story found among new articles: its article ids (in input order) and the most
    central one (the highest summed similarity to the others; ties: the earliest)."""

    ids: list[str]
    central: str


@dataclass(frozen=True)
class Grouping:
    """What grouping new articles did: the new articles that join each existing story
    (in input order), and the groups the others form among themselves (largest first,
    singletons included)."""

    joined: dict[str, list[str]]
    groups: list[Group]


def group_new(items: Sequence[tuple[str, str | None, str]],
              members: Iterable[tuple[str, str, str | None, str]] = ()) -> Grouping:
    """Group new (id, title, text) items, letting them join existing stories, whose
    articles are given as (story id, article id, title, text) `members`, each story's
    together (read once: a stream). One clustering of all the articles, as if grouped
    together, except that each existing story starts as one cluster and no two of them
    ever merge: a new article (or a group of them) joins the story whose articles it is
    most similar to on average, when that mean reaches JOIN_THRESHOLD, as one-step
    grouping would have joined them. Pairs of two members are never compared (they
    cannot change what joins what). An article found among the new items is counted as
    new, not as a member."""
    if not items:
        return Grouping({}, [])
    new_ids = {item[0] for item in items}
    ids: list[str] = []
    owners: list[str] = []  # the story of each member

    def texts() -> Iterator[tuple[str | None, str]]:
        for story_id, article_id, title, text in members:
            if article_id not in new_ids:
                ids.append(article_id)
                owners.append(story_id)
                yield title, text
        for _, title, text in items:
            yield title, text

    article, term, weight = _keyword_vectors(texts())
    m = len(ids)
    ids += [item[0] for item in items]
    n = len(ids)
    start = np.arange(n)
    if m:
        heads: dict[str, int] = {}
        start[:m] = [heads.setdefault(story_id, k) for k, story_id in enumerate(owners)]  # named by its first
        first, second, similarity = _new_pairs(article, term, weight, n, m, EDGE_FLOOR)
    else:
        first, second, similarity = _similar_pairs(article, term, weight, n, EDGE_FLOOR)
    anchored = np.r_[np.ones(m, dtype=bool), np.zeros(n - m, dtype=bool)] if m else None
    cluster = _average_linkage(n, first, second, similarity, JOIN_THRESHOLD, start, anchored)
    same = cluster[first] == cluster[second]
    centrality = (np.bincount(first[same], similarity[same], minlength=n)
                  + np.bincount(second[same], similarity[same], minlength=n))
    story_of = {int(cluster[k]): owners[k] for k in range(m)}
    joined: dict[str, list[str]] = {}
    found: dict[int, list[int]] = {}
    for index in range(m, n):
        name = int(cluster[index])
        if name in story_of:
            joined.setdefault(story_of[name], []).append(ids[index])
        else:
            found.setdefault(name, []).append(index)
    groups = []
    for indexes in sorted(found.values(), key=lambda g: (-len(g), g[0])):
        # The most central member; max keeps the first (earliest) of equal sums.
        central = max(indexes, key=lambda k: centrality[k])
        groups.append(Group([ids[k] for k in indexes], ids[central]))
    return Grouping(joined, groups)


def _new_pairs(article: np.ndarray, term: np.ndarray, weight: np.ndarray, n: int, m: int,
               floor: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """As `_similar_pairs`, for articles of which the first m are members of existing
    stories: only the pairs with a new article (index >= m) in them. A term's new holders
    are paired with its heaviest member holders, as many as PAIR_BUDGET allows."""
    new = article >= m
    first, second, similarity = _similar_pairs(article[new] - m, term[new], weight[new], n - m, floor)
    firsts, seconds, similarities = [first + m], [second + m], [similarity]
    order = np.lexsort((-weight[~new], term[~new]))
    held_by, held_term, held_weight = article[~new][order], term[~new][order], weight[~new][order]
    terms, starts, sizes = np.unique(held_term, return_index=True, return_counts=True)
    if len(terms):
        place = np.searchsorted(terms, term[new]).clip(max=len(terms) - 1)
        shared = terms[place] == term[new]
        holder, place, own = article[new][shared], place[shared], weight[new][shared]
        count = np.minimum(sizes[place], _cap(sizes[place]))
        entry = np.repeat(np.arange(len(holder)), count)
        offset = np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
        member = starts[place][entry] + offset
        # scipy sums the products of one pair row by row, in C (members come first: i < j).
        sums = csr_matrix((held_weight[member].astype(np.float64) * own[entry], (held_by[member], holder[entry])),
                          shape=(n, n))
        sums.sum_duplicates()
        kept = sums.data >= floor
        firsts.append(np.repeat(np.arange(n), np.diff(sums.indptr))[kept])
        seconds.append(sums.indices[kept].astype(np.int64))
        similarities.append(sums.data[kept])
    return np.concatenate(firsts), np.concatenate(seconds), np.concatenate(similarities)


def _cap(sizes: np.ndarray) -> int:
    """The most member holders a new holder of a term is paired with: the largest number
    that keeps all pairs (sizes: member holders of each new holder's term) within
    PAIR_BUDGET."""
    low, high = 1, max(int(sizes.max(initial=1)), 1)
    while low < high:
        middle = (low + high + 1) // 2
        if np.minimum(sizes, middle).sum() <= PAIR_BUDGET:
            low = middle
        else:
            high = middle - 1
    return low


def group_texts(items: Sequence[tuple[str, str | None, str]]) -> list[list[str]]:
    """Group (id, title, text) items into stories: lists of ids, each in input order,
    largest first. Articles that match nothing come back as groups of one."""
    return [group.ids for group in group_new(items).groups]


def pairwise_scores(found: Iterable[Sequence[str]], truth: Iterable[Sequence[str]]) -> tuple[float, float]:
    """Pairwise precision and recall of a grouping `found` against a labelled partition
    `truth` (both lists of groups of ids): of the pairs put together, the share that belong
    together; of the pairs that belong together, the share put together (1.0 when there
    are none). An id missing from one side is alone there."""
    truth_group = {item: k for k, group in enumerate(truth) for item in group}
    found_groups = [list(group) for group in found]
    shared: Counter = Counter()
    for k, group in enumerate(found_groups):
        shared.update((k, truth_group[item]) for item in group if item in truth_group)
    sizes = Counter(truth_group.values())

    def pairs(counts: Iterable[int]) -> int:
        return sum(c * (c - 1) // 2 for c in counts)

    together, found_pairs, truth_pairs = pairs(shared.values()), pairs(map(len, found_groups)), pairs(sizes.values())
    return (together / found_pairs if found_pairs else 1.0, together / truth_pairs if truth_pairs else 1.0)


def group_articles(store: Store, article_ids: Iterable[str] | None = None, *,
                   story: str | None = None) -> list[list[str]]:
    """Group articles into stories by near-duplicate and topical similarity: the given
    ids; else (None) the articles of `story`; else every article of an ungrouped story
    (see `ungrouped_story_ids`). Returns lists of article ids, largest first, each in
    import order; singletons included."""
    if article_ids is None:
        story_ids = [story] if story is not None else ungrouped_story_ids(store)
        rows = store.article_texts(story_ids=story_ids)
    else:
        rows = store.article_texts(article_ids=list(dict.fromkeys(article_ids)))
    return group_texts(rows)


UNGROUPED_PREFIX = CATCH_ALL_PREFIX


def ungrouped_story_ids(store: Store) -> list[str]:
    """Stories holding articles that arrived without one: ids starting with "ungrouped"
    (the importer's catch-all) or marked `meta.ungrouped = true`."""
    return [story.id for story in store.stories()
            if story.id.startswith(UNGROUPED_PREFIX) or story.meta.get("ungrouped") is True]


def story_title(title: str | None, text: str) -> str:
    """A grouped story's title from its most central article: the article's title, or
    when it has none the start of its text, cut at a word ("…")."""
    line = " ".join((title or "").split()) or " ".join(text.split())
    return default_wording(line)[:200] if line else "Untitled story"


def apply_grouping(store: Store, groups: Sequence[Group | Sequence[str]], *, prefix: str = "group",
                   min_size: int = 2, from_stories: Sequence[str] | None = None,
                   joined: dict[str, list[str]] | None = None) -> list[str]:
    """Create one story per group of at least `min_size` articles and move its articles
    there out of the catch-all stories they arrived in (`from_stories`, by default the
    ungrouped ones; an article's other stories keep it), and move the `joined` articles
    into the existing stories they join, all in one transaction; return the new story
    ids. A story's id is `prefix-` plus the first 8 hex digits of its first article's id,
    its title that of its most central article (`Group.central`; a plain list of ids: its
    first), see `story_title`. Smaller groups stay where they are; a catch-all story the
    moves leave without articles is removed."""
    sources = list(from_stories) if from_stories is not None else ungrouped_story_ids(store)
    created: list[str] = []
    with store.transaction() as conn:
        for story_id, article_ids in (joined or {}).items():
            store.regroup(conn, story_id, article_ids, sources)
        for group in groups:
            ids, central = (group.ids, group.central) if isinstance(group, Group) else (list(group), group[0])
            if len(ids) < min_size:
                continue
            found = store.article_texts(article_ids=[central])
            title = story_title(found[0][1], found[0][2]) if found else f"Story of {len(ids)} articles"
            story_id = f"{prefix}-{ids[0][:8]}"
            story = Story(id=story_id, title=title, proposition="", meta={"grouped": True, "size": len(ids)})
            store.ensure_story(conn, story)
            store.regroup(conn, story_id, ids, sources)
            created.append(story_id)
    return created


def group_into_stories(store: Store) -> tuple[Grouping, list[str]]:
    """Group the articles of the ungrouped stories (`ungrouped_story_ids`): each joins the
    existing story it belongs to (every story that is not a catch-all), the rest are
    grouped among themselves (see `group_new`), and the changes applied
    (`apply_grouping`). Returns the grouping and the ids of the stories created."""
    sources = ungrouped_story_ids(store)
    items = store.article_texts(story_ids=sources) if sources else []
    grouping = group_new(items, store.member_texts(exclude=sources))
    created = apply_grouping(store, grouping.groups, from_stories=sources, joined=grouping.joined)
    return grouping, created
