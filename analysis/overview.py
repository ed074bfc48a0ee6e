"""The story overview's data: who copies whom (article x article shared passages) and
which outlets carry which claim (claim cluster x article), with each article's stance
and credibility. The annotate screen's `o` draws these; nothing here imports textual.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from newsmark.analysis.align import prepare, story_matrix
from newsmark.schema.store import Store


@dataclass(frozen=True, slots=True)
class ArticleHead:
    """A column (or row) of the overview: one article of the story."""

    id: str
    name: str  # the outlet, else the title, else the id
    stance: str | None = None
    credibility: str | None = None


@dataclass(frozen=True, slots=True)
class SharedMatrix:
    """matrix[i][j]: the fraction of article i's text that article j shares (1.0 on the
    diagonal); `most[i]` is the (index, fraction) of the article sharing most of i, or None."""

    articles: list[ArticleHead]
    matrix: list[list[float]]
    most: list[tuple[int, float] | None]


@dataclass(frozen=True, slots=True)
class ClusterRow:
    """A row of the claim matrix: one claim cluster, its canonical wording, and per
    article the claims of the cluster made there (with their credibility, if labelled)."""

    id: str
    label: str
    cells: dict[str, list[tuple[str, str | None]]] = field(default_factory=dict)  # article id -> [(claim id, credibility)]

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


def article_heads(store: Store, story_id: str, annotator: str | None = None) -> list[ArticleHead]:
    """The story's articles in import order, with the annotator's stance and credibility
    (with annotator None: the gold values)."""
    heads = []
    for article_id in store.article_ids(story_id):
        article = store.get_article(article_id)
        if article is None:
            continue
        if annotator is None:
            labels = {fld: value["value"] for fld, value in store.gold(article_id).items()}
        else:
            labels = store.labels(article_id, annotator)
        heads.append(ArticleHead(article_id, _name(article.source, article.title, article_id),
                                 labels.get("stance"), labels.get("credibility")))
    return heads


def shared_matrix(store: Store, story_id: str, annotator: str | None = None) -> SharedMatrix:
    """Article x article shared fractions for one story (each pair aligned once)."""
    heads = article_heads(store, story_id, annotator)
    texts = []
    for head in heads:
        article = store.get_article(head.id)
        texts.append(prepare(article.text if article else ""))
    matrix = story_matrix(texts)
    most: list[tuple[int, float] | None] = []
    for i, row in enumerate(matrix):
        best = max(((value, -j) for j, value in enumerate(row) if j != i and value > 0), default=None)
        most.append(None if best is None else (-best[1], best[0]))
    return SharedMatrix(heads, matrix, most)


def claim_matrix(store: Store, story_id: str, annotator: str | None = None) -> ClaimMatrix:
    """Claim cluster x article for one story: the annotator's clusters (None: everyone's),
    most widely carried first. Claims in no cluster are left out."""
    heads = article_heads(store, story_id, annotator)
    order = {head.id: k for k, head in enumerate(heads)}
    labels = dict(store.conn.execute("SELECT id, coalesce(label, '') FROM clusters").fetchall())
    rows: dict[str, ClusterRow] = {}
    for head in heads:
        for claim in store.claims(head.id, annotator):
            if claim.cluster is None:
                continue
            row = rows.get(claim.cluster)
            if row is None:
                row = rows[claim.cluster] = ClusterRow(claim.cluster, labels.get(claim.cluster) or claim.exact[:200])
            row.cells.setdefault(head.id, []).append((claim.id, claim.labels.get("credibility")))
    clusters = sorted(rows.values(), key=lambda r: (-r.n_articles, min(order[a] for a in r.cells), r.id))
    return ClaimMatrix(heads, clusters)


def best_shared_label(matrix: SharedMatrix, index: int) -> str | None:
    """The label-bar text for article `index`: "68% shared with Capital Cities", or None."""
    most = matrix.most[index]
    if most is None:
        return None
    other, fraction = most
    return f"{round(100 * fraction)}% shared with {matrix.articles[other].name}"
