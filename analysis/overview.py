"""The story overview's data: who copies whom (article x article shared passages) and
which outlets carry which claim (claim cluster x article), with each article's stance
and credibility. The annotate screen's `o` draws these; nothing here imports textual.

Bounded: all-pairs alignment grows with the square of a story's size (4,100,000 pairs
for 2,865 articles, about an hour), so the overview covers a window of at most
OVERVIEW_ARTICLES articles of the story (articles 1-40, then 41-80, ...), and the screen
compares their pairs under a time budget, showing what it has found so far.

Which pairs first: inside the window, the grouping's candidate pairs (keyword vectors,
analysis.grouping.candidate_pairs: 60 ms for 40 articles) are aligned first, most similar
first, and the other pairs after them; so the first results, and a window the budget cuts
short, show the articles that do share text rather than whichever came first in import
order. Choosing the window itself from the candidate pairs of the whole story was
measured and left out: on a 3,000-article story candidate_pairs alone takes 4.1 s, after
reading every article's text, where the window's first result comes in about 0.15 s
(bench/bench_overview.py), and the target is 3 s.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from collections.abc import Callable

from newsmark.analysis.align import PairMatrix, bounded_story_matrix, prepare
from newsmark.analysis.budget import UNBOUNDED, Budget
from newsmark.analysis.grouping import candidate_pairs
from newsmark.schema.store import Store

OVERVIEW_ARTICLES = 40  # articles in one overview (780 pairs: about a second)


@dataclass(frozen=True, slots=True)
class ArticleHead:
    """A column (or row) of the overview: one article of the story."""

    id: str
    name: str  # the outlet, else the title, else the id
    stance: str | None = None
    credibility: str | None = None
    number: int = 0  # 1-based position in the story (as numbered on the annotate screen)


@dataclass(frozen=True, slots=True)
class StoryWindow:
    """The articles one overview covers: `articles` (with their texts) are numbers
    first + 1 .. first + len(articles) of the story's `total`."""

    articles: list[ArticleHead]
    texts: list[str]
    first: int
    total: int

    @property
    def partial(self) -> bool:
        """The window leaves some of the story's articles out."""
        return len(self.articles) < self.total


@dataclass(frozen=True, slots=True)
class SharedMatrix:
    """matrix[i][j]: the fraction of article i's text that article j shares (1.0 on the
    diagonal; None: not compared, the time budget ran out first); `most[i]` is the
    (index, fraction) of the article sharing most of i among the pairs compared, or None.
    `compared` of `total` pairs were aligned."""

    articles: list[ArticleHead]
    matrix: list[list[float | None]]
    most: list[tuple[int, float] | None]
    compared: int = 0
    total: int = 0

    @property
    def complete(self) -> bool:
        """Every pair of the window was compared."""
        return self.compared == self.total


@dataclass(frozen=True, slots=True)
class ClusterRow:
    """A row of the claim matrix: one claim cluster, its canonical wording, and per
    article the claims of the cluster made there (with their credibility, if labelled).
    A claim in no cluster yet is a row of its own (`linked` False, `id` the claim's id,
    `label` its text)."""

    id: str
    label: str
    cells: dict[str, list[tuple[str, str | None]]] = field(default_factory=dict)  # article id -> [(claim id, credibility)]
    linked: bool = True

    @property
    def n_articles(self) -> int:
        """In how many of the story's articles the claim appears."""
        return len(self.cells)


@dataclass(frozen=True, slots=True)
class ClaimMatrix:
    """Claim cluster x article: which outlets carry which claim."""

    articles: list[ArticleHead]
    clusters: list[ClusterRow]


def _name(source: str | None, title: str | None, article_id: str) -> str:
    return source or title or article_id


def article_heads(store: Store, story_id: str, annotator: str | None = None, first: int = 0,
                  limit: int | None = None) -> list[ArticleHead]:
    """The story's articles in import order (from position `first`, at most `limit`), with
    the annotator's stance and credibility as read in this story (with annotator None: the
    gold values)."""
    return story_window(store, story_id, annotator, first, limit).articles


def story_window(store: Store, story_id: str, annotator: str | None = None, first: int = 0,
                 limit: int | None = OVERVIEW_ARTICLES) -> StoryWindow:
    """Articles first + 1 .. first + limit of the story (limit None: all), with their labels
    as read in this story (a story-scoped field's value given here) and texts: a few short
    reads however large the story is."""
    ids = store.article_ids(story_id)
    first = max(0, min(first, max(0, len(ids) - 1)))
    chosen = ids[first:] if limit is None else ids[first : first + limit]
    heads, texts = [], []
    for offset, article_id in enumerate(chosen):
        article = store.get_article(article_id)
        if article is None:
            continue
        if annotator is None:
            labels = {fld: value["value"] for fld, value in store.gold(article_id, story_id=story_id).items()}
        else:
            labels = store.labels(article_id, annotator, story_id=story_id)
        heads.append(ArticleHead(article_id, _name(article.source, article.title, article_id),
                                 labels.get("stance"), labels.get("credibility"), first + offset + 1))
        texts.append(article.text)
    return StoryWindow(heads, texts, first, len(ids))


def window_shared(
    window: StoryWindow,
    budget: Budget = UNBOUNDED,
    progress: Callable[[SharedMatrix], None] | None = None,
) -> SharedMatrix:
    """Article x article shared fractions for a window's articles, each pair aligned once,
    the grouping's candidate pairs first (most similar first), until done or the budget's
    time is spent (raises `Cancelled` when it is cancelled). `progress` receives partial
    matrices along the way."""
    prepared = []
    for text in window.texts:
        budget.check()
        prepared.append(prepare(text, budget))

    def as_shared(pairs: PairMatrix) -> SharedMatrix:
        return _shared(window.articles, pairs)

    budget.check()
    likely = [(i, j) for i, j, _ in candidate_pairs([(None, text) for text in window.texts])]
    pairs = bounded_story_matrix(prepared, budget, None if progress is None else lambda p: progress(as_shared(p)),
                                 first=likely)
    return as_shared(pairs)


def _shared(heads: list[ArticleHead], pairs: PairMatrix) -> SharedMatrix:
    most: list[tuple[int, float] | None] = []
    for i, row in enumerate(pairs.matrix):
        best = max(((value, -j) for j, value in enumerate(row) if j != i and value is not None and value > 0),
                   default=None)
        most.append(None if best is None else (-best[1], best[0]))
    return SharedMatrix(heads, pairs.matrix, most, pairs.compared, pairs.total)


def shared_matrix(store: Store, story_id: str, annotator: str | None = None, *, first: int = 0,
                  limit: int | None = None, budget: Budget = UNBOUNDED) -> SharedMatrix:
    """Article x article shared fractions for one story (or a window of it), each pair
    aligned once."""
    return window_shared(story_window(store, story_id, annotator, first, limit), budget)


def claim_matrix(store: Store, story_id: str, annotator: str | None = None,
                 heads: list[ArticleHead] | None = None) -> ClaimMatrix:
    """Claim cluster x article for one story (or for the articles `heads`, a window of
    it): the annotator's clusters (None: everyone's), most widely carried first; each
    claim in no cluster yet is a row of its own, after the clusters."""
    if heads is None:
        heads = article_heads(store, story_id, annotator)
    order = {head.id: k for k, head in enumerate(heads)}
    labels = store.cluster_labels()
    rows: dict[str, ClusterRow] = {}
    for head in heads:
        for claim in store.claims(head.id, annotator):
            key = claim.cluster or claim.id
            row = rows.get(key)
            if row is None:
                label = labels.get(claim.cluster) if claim.cluster else None
                row = rows[key] = ClusterRow(key, label or claim.exact, linked=claim.cluster is not None)
            row.cells.setdefault(head.id, []).append((claim.id, claim.labels.get("credibility")))
    clusters = sorted(rows.values(), key=lambda r: (not r.linked, -r.n_articles, min(order[a] for a in r.cells), r.id))
    return ClaimMatrix(heads, clusters)


def best_shared_label(matrix: SharedMatrix, index: int) -> str | None:
    """The label-bar text for article `index`: "68% shared with Capital Cities", or None."""
    most = matrix.most[index]
    if most is None:
        return None
    other, fraction = most
    return f"{round(100 * fraction)}% shared with {matrix.articles[other].name}"
