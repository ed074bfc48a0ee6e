"""What the annotate screen shows, read from the store in one go (on a worker thread).

These functions run on the reader or writer thread, never on the event loop; the
screen receives plain snapshots and never touches a connection itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from newsmark.schema.models import Article, Claim, Story
from newsmark.schema.store import Store
from newsmark.analysis.budget import UNBOUNDED, Budget
from newsmark.tui.text import sentences_for

# The field whose earlier grades for the same outlet the label bar shows.
OUTLET_FIELD = "reliability"


@dataclass
class AnnotationView:
    """One annotator's annotation of one article, as the pane shows it."""

    labels: dict[str, str] = field(default_factory=dict)
    claims: list[Claim] = field(default_factory=list)
    cluster_counts: dict[str, int] = field(default_factory=dict)
    cluster_labels: dict[str, str] = field(default_factory=dict)  # cluster id -> canonical wording
    note: str | None = None
    flagged: bool = False
    outlet_grades: dict[str, int] = field(default_factory=dict)


@dataclass
class ArticleView:
    """An article with its sentence spans and the annotator's annotation of it, as read
    in one story; `other_stories` are the article's other stories, (id, title), by id."""

    article: Article
    sentences: list[tuple[int, int]]
    annotation: AnnotationView
    other_stories: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class StoryView:
    """A story and the ids of its articles (import order)."""

    story: Story | None
    article_ids: list[str]


def load_annotation(
    store: Store, article_id: str, source: str | None, annotator: str, story_id: str | None, *, grades: bool = True
) -> AnnotationView:
    """The annotator's labels (as read in `story_id`: its story-scoped values there and the
    article-scoped ones), claims (with cluster sizes), note and flag in that story, and
    (with grades) the earlier grades for the article's outlet."""
    note, flagged, _ = store.annotation(article_id, annotator, story_id=story_id)
    claims = store.claims(article_id, annotator)
    counts = {c.cluster: store.cluster_article_count(c.cluster) for c in claims if c.cluster}
    wordings = {cluster: store.cluster_label(cluster) or "" for cluster in counts}
    outlet_grades: dict[str, int] = {}
    if grades and source and store.scheme.field(OUTLET_FIELD) is not None:
        outlet_grades = store.outlet_grades(annotator, source, OUTLET_FIELD, exclude_article=article_id)
    return AnnotationView(
        labels=store.labels(article_id, annotator, story_id=story_id), claims=claims, cluster_counts=counts,
        cluster_labels=wordings, note=note, flagged=flagged, outlet_grades=outlet_grades,
    )


def load_annotations(
    store: Store, articles: list[tuple[str, str | None]], annotator: str, story_id: str | None, *, grades: bool = True
) -> dict[str, AnnotationView]:
    """load_annotation for several (article id, source) pairs read in one story."""
    return {
        aid: load_annotation(store, aid, source, annotator, story_id, grades=grades)
        for aid, source in dict(articles).items()
    }


def other_stories(store: Store, article_id: str, story_id: str | None) -> list[tuple[str, str]]:
    """The stories holding the article other than `story_id`, as (id, title), by id."""
    found = []
    for other in store.article_stories(article_id):
        if other != story_id:
            story = store.get_story(other)
            found.append((other, story.title if story is not None else ""))
    return found


def load_article(store: Store, article_id: str, annotator: str, story_id: str | None, *, grades: bool = True,
                 budget: Budget = UNBOUNDED) -> ArticleView | None:
    """An article as read in `story_id` (None: its own story), its sentences (cached per
    article), the annotator's annotation there and the article's other stories. Raises
    `Cancelled` while splitting a long article into sentences when the budget is
    cancelled (the app is closing)."""
    article = store.get_article(article_id)
    if article is None:
        return None
    return ArticleView(
        article=article,
        sentences=sentences_for(article.id, article.text, budget),
        annotation=load_annotation(store, article.id, article.source, annotator, story_id, grades=grades),
        other_stories=other_stories(store, article.id, story_id),
    )


class GradeBook:
    """This annotator's values of OUTLET_FIELD by outlet, read once (in the background,
    after the first paint) and then kept up to date from what the panes read back, so
    showing "your earlier grades for this outlet" costs no query per article."""

    def __init__(self, book: dict[str, dict[str, str]]) -> None:
        self._book = book

    def grades(self, source: str | None, exclude_article: str | None) -> dict[str, int]:
        """{value: count} over the outlet's other articles."""
        if not source:
            return {}
        counts: dict[str, int] = {}
        for article_id, value in self._book.get(source, {}).items():
            if article_id != exclude_article:
                counts[value] = counts.get(value, 0) + 1
        return counts

    def record(self, source: str | None, article_id: str, value: str | None) -> None:
        """The article now holds value (None: no grade)."""
        if not source:
            return
        entries = self._book.setdefault(source, {})
        if value is None:
            entries.pop(article_id, None)
        else:
            entries[article_id] = value


def load_grade_book(store: Store, annotator: str) -> GradeBook | None:
    """The annotator's grade book, or None when the scheme has no OUTLET_FIELD."""
    if store.scheme.field(OUTLET_FIELD) is None:
        return None
    return GradeBook(store.grades_by_outlet(annotator, OUTLET_FIELD))


def load_story(store: Store, story_id: str | None, step: int = 0) -> StoryView:
    """A story by id (None: the first story); with step, the story that many places away."""
    if story_id is None or store.get_story(story_id) is None:
        story_id = store.adjacent_story_id(None, 1)
    elif step:
        story_id = store.adjacent_story_id(story_id, step)
    if story_id is None:
        return StoryView(story=None, article_ids=[])
    return StoryView(story=store.get_story(story_id), article_ids=store.article_ids(story_id))
