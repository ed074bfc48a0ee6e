"""What the review screen shows, read from the store (no Textual here).

`ReviewData` owns one `Store` connection and a lock; the screen calls it only from
thread workers, so the event loop never waits on SQLite. Every call returns plain
dataclasses the widgets render.

A story's articles are reviewed as read in that story: a story-scoped field (stance) shows
the labels and gold given in this story, an article-scoped one those given anywhere.
A field of an article is *in disagreement* when annotators gave it two or more different
labels ("cannot be judged" counts as a label here: adjudication is about what to record).
A field *needs a decision* when it has labels but no gold under the database's gold policy
(`analysis.gold`): no reviewer's value and no value the policy gives by agreement. Review's
progress counts the articles with a field that needs a decision.

The accept-agreed keys write as gold what the policy decides by agreement (under the
`adjudicated` policy, what `unanimous` would: the reviewer's key is the adjudication).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from newsmark.analysis.gold import GoldClaim, GoldUnit, GoldValue, Policy, database_policy, gold_claims, gold_units
from newsmark.schema.engines import database_location
from newsmark.schema.models import Article, Claim, Story
from newsmark.schema.scheme import Scheme
from newsmark.schema.store import ActionResult, GoldClaimEntry, GoldEntry, Store, StoreError
from newsmark.tui.pane_data import other_stories

# Background colours for annotators' claims, readable under light text; cycled.
ANNOTATOR_COLOURS = ("#1f5f99", "#8a4b08", "#2e7d32", "#7b1fa2", "#00838f", "#9e2a2b", "#6d6d00", "#4a4aa8")


def annotator_colour(index: int) -> str:
    """The colour of the index-th annotator of a story."""
    return ANNOTATOR_COLOURS[index % len(ANNOTATOR_COLOURS)]


def accept_policy(policy: Policy) -> Policy:
    """The policy the accept-agreed keys decide by: the database's, but `unanimous` under
    `adjudicated` (which gives nothing by agreement: pressing the key is the reviewer's
    decision)."""
    return "unanimous" if policy == "adjudicated" else policy


@dataclass
class Progress:
    """A story's progress towards complete gold under the database's policy."""

    articles: int
    labelled: int  # articles of the story with labels (or gold)
    undecided: list[str]  # article ids with a field that needs a decision, in story order
    disagreeing: list[str]  # article ids with a disagreement, in story order
    adjudicated: set[str]  # of those, the ones whose every disagreeing field has gold
    policy: Policy = "unanimous"

    @property
    def to_decide(self) -> int:
        """How many labelled articles still have a field that needs a decision."""
        return len(self.undecided)

    @property
    def with_disagreement(self) -> int:
        """How many articles have a disagreement."""
        return len(self.disagreeing)

    @property
    def done(self) -> int:
        """How many of them are adjudicated."""
        return len(self.adjudicated)


@dataclass(frozen=True)
class AnnotatorNote:
    """An annotator's note and flag on an article in the story being read."""

    annotator: str
    note: str | None
    flagged: bool


@dataclass
class ArticleReview:
    """One article with everyone's labels and claims, and its gold."""

    article: Article
    labels: dict[str, dict[str, str]]  # annotator -> field -> value
    claims: list[Claim]
    gold: dict[str, dict[str, str]]  # field -> {value, by, reason, at}
    gold_claims: list[dict[str, Any]]
    disagreements: list[str]  # fields with two or more different labels, scheme order
    other_stories: list[tuple[str, str]] = field(default_factory=list)  # the article's other stories: (id, title)
    undecided: tuple[str, ...] = ()  # fields with labels and no gold under the database's policy
    agreed: dict[str, GoldValue] = field(default_factory=dict)  # what accept-agreed would write, by field
    agreed_claims: list[GoldClaim] = field(default_factory=list)  # spans accept-agreed would make gold
    notes: list[AnnotatorNote] = field(default_factory=list)  # annotators with a note or a flag here

    @property
    def adjudicated(self) -> bool:
        """True when every field in disagreement has a gold value."""
        return all(name in self.gold for name in self.disagreements)


@dataclass
class ReviewState:
    """Everything the screen shows at one moment."""

    story: Story
    story_index: int
    story_count: int
    article_ids: list[str]
    index: int
    annotators: list[str]  # everyone who annotated an article of the story, sorted
    review: ArticleReview | None
    progress: Progress
    fields: list[str] = field(default_factory=list)  # article-level fields, scheme order


def _by_agreement(values: dict[str, GoldValue]) -> dict[str, GoldValue]:
    """The values a policy gives by agreement, not a reviewer's."""
    return {fld: value for fld, value in values.items() if value.source != "adjudicated"}


def agreed_claims(store: Store, article_id: str, policy: Policy) -> list[GoldClaim]:
    """The spans of an article the policy makes gold claims by agreement (not a reviewer's)."""
    return [claim for claim in gold_claims(store, article_id, policy) if claim.source.source != "adjudicated"]


def _adjudicated(values: dict[str, GoldValue]) -> dict[str, GoldValue]:
    """The values a reviewer decided."""
    return {fld: value for fld, value in values.items() if value.source == "adjudicated"}


class ReviewData:
    """The review screen's access to one database (call from worker threads only)."""

    def __init__(self, db_path: str | Path) -> None:
        self.db_path = database_location(db_path)
        self._store: Store | None = None
        self._lock = threading.Lock()
        # Called (holding the lock) with each write's result: the live watcher notes the
        # screen's own events with it (tui/live.py).
        self.wrote: Callable[[object], None] = lambda result: None

    @property
    def store(self) -> Store:
        """The connection, opened on first use (in a worker thread)."""
        if self._store is None:
            self._store = Store.open(self.db_path, create=False)
        return self._store

    @property
    def scheme(self) -> Scheme:
        """The database's scheme."""
        with self._lock:
            return self.store.scheme

    def busy(self) -> bool:
        """Whether a read or write is under way (see tui/live.py's Watcher)."""
        return self._lock.locked()

    def close(self) -> None:
        """Close the connection (idempotent)."""
        with self._lock:
            if self._store is not None:
                self._store.close()
                self._store = None

    # --- reading ----------------------------------------------------------------------

    def state(self, story_id: str | None, index: int = 0) -> ReviewState:
        """The story (the first one when None) with its index-th article loaded."""
        with self._lock:
            store = self.store
            if story_id is None:
                story_id = store.adjacent_story_id(None)
                if story_id is None:
                    raise StoreError("the database holds no stories yet (import some with `newsmark import`)")
            story = store.get_story(story_id)
            if story is None:
                raise StoreError(f"no story {story_id!r}")
            story_index = store.story_position(story_id)
            story_count = store.story_count()
            article_ids = store.article_ids(story_id)
            index = max(0, min(index, len(article_ids) - 1))
            annotators = store.story_annotators(story_id)
            policy = database_policy(store)
            units = {unit.article_id: unit for unit in gold_units(store, policy, story_id)}
            review = None
            if article_ids:
                article_id = article_ids[index]
                unit = units.get(article_id)
                if accept_policy(policy) != policy:
                    unit_to_accept = next((u for u in gold_units(store, accept_policy(policy), story_id)
                                           if u.article_id == article_id), None)
                else:
                    unit_to_accept = unit
                review = self._review(store, story_id, article_id, unit, unit_to_accept, accept_policy(policy))
            return ReviewState(
                story=story, story_index=story_index, story_count=story_count,
                article_ids=article_ids, index=index, annotators=annotators, review=review,
                progress=self._progress(store, story_id, article_ids, units, policy),
                fields=[f.name for f in store.scheme.fields_at("article")],
            )

    def story_id_at(self, current: str, step: int) -> str | None:
        """The next (step > 0) or previous story after `current` in id order, or None."""
        with self._lock:
            return self.store.adjacent_story_id(current, step, wrap=False)

    def _review(self, store: Store, story_id: str, article_id: str, unit: GoldUnit | None,
                unit_to_accept: GoldUnit | None, policy: Policy) -> ArticleReview:
        article = store.get_article(article_id)
        assert article is not None
        labels = store.unit_labels_by_annotator(article_id, story_id)
        fields = [f.name for f in store.scheme.fields_at("article")]
        disagreements = [
            name for name in fields if len({values[name] for values in labels.values() if name in values}) > 1
        ]
        return ArticleReview(
            article=article, labels=labels, claims=store.claims(article_id), gold=store.gold(article_id, story_id=story_id),
            gold_claims=store.gold_claims(article_id), disagreements=disagreements,
            other_stories=other_stories(store, article_id, story_id),
            undecided=unit.undecided if unit else (),
            agreed=_by_agreement(unit_to_accept.values) if unit_to_accept else {},
            agreed_claims=agreed_claims(store, article_id, policy),
            notes=[AnnotatorNote(name, note, flagged) for name, note, flagged in store.unit_notes(article_id, story_id)],
        )

    @staticmethod
    def _progress(store: Store, story_id: str, article_ids: list[str], units: dict[str, GoldUnit],
                  policy: Policy) -> Progress:
        disagreeing: dict[str, set[str]] = {}
        for article_id, fld in store.story_disagreements(story_id):
            disagreeing.setdefault(article_id, set()).add(fld)
        adjudicated = {aid for aid, fields in disagreeing.items()
                       if aid in units and fields <= _adjudicated(units[aid].values).keys()}
        return Progress(
            articles=len(article_ids), labelled=len(units),
            undecided=[aid for aid in article_ids if aid in units and units[aid].undecided],
            disagreeing=[aid for aid in article_ids if aid in disagreeing], adjudicated=adjudicated, policy=policy,
        )

    # --- adjudicating -----------------------------------------------------------------

    def set_gold(
        self, story_id: str, article_id: str, field_name: str, value: str | None, by: str, reason: str
    ) -> None:
        """Record (or with None, remove) the gold value of a field of an article as read in
        a story (a story-scoped field's gold holds in that story only); nobody's labels
        change."""
        with self._lock:
            self.wrote(self.store.set_gold(article_id, field_name, value, by, reason, story_id=story_id))

    def set_gold_claim(self, claim: Claim, by: str, reason: str) -> str:
        """Accept an annotator's claim (span, claim labels and cluster) as a gold claim."""
        with self._lock:
            gold_id, result = self.store.set_gold_claim(
                claim.article_id, claim.start, claim.end, by, reason, labels=claim.labels, cluster=claim.cluster
            )
            self.wrote(result)
            return gold_id

    def remove_gold_claim(self, gold_id: str, by: str) -> None:
        """Remove a gold claim."""
        with self._lock:
            self.wrote(self.store.remove_gold_claim(gold_id, by))

    def accept_agreed(self, story_id: str, article_id: str | None, by: str) -> ActionResult:
        """Write as gold, as one action, what the policy decides by agreement for one article
        as read in the story (every article of the story when None): values with reason
        "agreed by N of N" (or "majority N of M"), agreed claims with their decided labels
        and the cluster most of their markers put them in. Existing gold is kept."""
        with self._lock:
            store = self.store
            policy = accept_policy(database_policy(store))
            values = [
                GoldEntry(unit.story_id, unit.article_id, fld, value.value, value.describe())
                for unit in gold_units(store, policy, story_id) if article_id in (None, unit.article_id)
                for fld, value in _by_agreement(unit.values).items()
            ]
            claims = []
            for aid in [article_id] if article_id is not None else store.article_ids(story_id):
                marked = store.claims(aid)
                for claim in agreed_claims(store, aid, policy):
                    clusters = Counter(c.cluster for c in marked if (c.start, c.end) == (claim.start, claim.end) and c.cluster)
                    claims.append(GoldClaimEntry(
                        aid, claim.start, claim.end, claim.source.describe(),
                        {fld: value.value for fld, value in claim.labels.items()},
                        clusters.most_common(1)[0][0] if clusters else None,
                    ))
            result = store.add_gold(by, values, claims)
            self.wrote(result)
            return result

    def undo(self, by: str, undo: bool = True) -> ActionResult | None:
        """Undo (or redo) `by`'s latest change; raises UndoRefused rather than overwrite a
        later change."""
        with self._lock:
            result = self.store.undo(by) if undo else self.store.redo(by)
            self.wrote(result)
            return result
