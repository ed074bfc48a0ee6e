"""Claim clusters: when an analyst marks a claim, which sentences of the story's other
articles make the same claim? Each sentence scores the best of three rapidfuzz measures:
the character-level ratio (survives swapped words), the token-sort ratio (survives
reordered words) and, for sentences longer than the claim, 0.95 x the partial ratio (the
claim repeated inside a longer sentence). rapidfuzz's WRatio is not used: it rates short
headings ("Insights and Conclusions") at 0.85 against any long claim.

Bounded: splitting an article into sentences (Punkt) costs about 10 ms, half a minute for
a 2,865-article story. A story with more than PREFILTER_FROM other articles is searched in
two steps: every article's fast regex units (analysis.align.prepare, cached by the
caller) are scored against the claim in blocks, and only the PREFILTER_ARTICLES articles
with the best units are split into sentences and scored as above. The whole search runs
under a `Budget`: cancelled, it stops between blocks and articles; out of time, it
returns what it found in the articles searched so far, saying how many that was.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from rapidfuzz import fuzz, process
from rapidfuzz.utils import default_process

from newsmark.analysis.align import PreparedText, prepare
from newsmark.analysis.budget import UNBOUNDED, Budget
from newsmark.analysis.sentences import split_sentences
from newsmark.schema.store import Store

MIN_SCORE = 0.55  # below this a sentence is not offered as the same claim
PREFILTER_FROM = 60  # with more candidate articles than this, prefilter them by their units
PREFILTER_ARTICLES = 40  # articles searched sentence by sentence after the prefilter
PREFILTER_SLACK = 15.0  # points below MIN_SCORE a unit may score and still pass the prefilter
BLOCK_KEYS = 4_000  # units or sentences scored in one rapidfuzz call (a few ms)
PARTIAL_SHARE = 0.05  # of the longer units, the share the prefilter scores by partial ratio


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A sentence of another article that may make the same claim (code points)."""

    article_id: str
    start: int
    end: int
    text: str
    score: float  # 0..1


@dataclass(frozen=True, slots=True)
class SuggestionSearch:
    """The suggestions found, and how much of the story was searched: `searched` of
    `total` candidate articles (fewer when the time budget ran out); `prefiltered`:
    the articles were first narrowed down by their units."""

    suggestions: list[Suggestion] = field(default_factory=list)
    searched: int = 0
    total: int = 0
    prefiltered: bool = False

    @property
    def complete(self) -> bool:
        """Every candidate article was searched."""
        return self.searched >= self.total


def suggest_matches(
    claim_text: str,
    candidates: Sequence[tuple[str, str]],
    limit: int = 5,
    *,
    min_score: float = MIN_SCORE,
    per_article: int | None = None,
) -> list[Suggestion]:
    """Rank the sentences of `candidates` ((article_id, article text) pairs) by how closely
    they match `claim_text`; the best `limit` scoring at least `min_score`, best first,
    a sentence repeated within one article only once (at its first place).
    Spans are offsets into each candidate's whole text. `per_article` caps how many come
    from one article (None: no cap). Unbounded: see `search_matches`."""
    return search_matches(claim_text, candidates, limit, min_score=min_score, per_article=per_article).suggestions


def search_matches(
    claim_text: str,
    candidates: Sequence[tuple[str, str]],
    limit: int = 5,
    *,
    min_score: float = MIN_SCORE,
    per_article: int | None = None,
    budget: Budget = UNBOUNDED,
    prepared: Callable[[str, str], PreparedText] | None = None,
) -> SuggestionSearch:
    """`suggest_matches` under a budget, for stories of any size: with more than
    PREFILTER_FROM candidates, only the PREFILTER_ARTICLES whose units score best are
    searched sentence by sentence. `prepared(article_id, text)` gives an article's units
    (a cache; default: computed here). Raises `Cancelled` when the budget is cancelled;
    when its time is spent, returns the matches in the articles searched so far."""
    query = default_process(claim_text)
    if not query.strip() or limit <= 0:
        return SuggestionSearch([], len(candidates), len(candidates))
    chosen = list(candidates)
    prefiltered = len(chosen) > PREFILTER_FROM
    if prefiltered:
        chosen = _prefilter(query, chosen, min_score, budget, prepared or (lambda _id, text: prepare(text, budget)))
        if chosen is None:  # out of time while prefiltering
            return SuggestionSearch([], 0, len(candidates), True)
    sentences: list[tuple[str, int, int, str]] = []
    searched = 0
    for article_id, text in chosen:
        if budget.spent:
            break
        budget.check()
        for start, end in split_sentences(text, budget):
            sentences.append((article_id, start, end, text[start:end]))
        searched += 1
    total = len(candidates)
    if searched == len(chosen):
        searched = total  # the prefilter ruled the other articles out
    if not sentences:
        return SuggestionSearch([], searched, total, prefiltered)
    keys = [default_process(s[3]) for s in sentences]
    scores = _scores(query, keys, budget)
    order = sorted(range(len(sentences)), key=lambda k: (-scores[k], k))
    out: list[Suggestion] = []
    taken: dict[str, int] = {}
    seen: set[tuple[str, str]] = set()
    for k in order:
        score = float(scores[k])
        if score < min_score * 100 or len(out) >= limit:
            break
        article_id, start, end, text = sentences[k]
        if per_article is not None and taken.get(article_id, 0) >= per_article:
            continue
        # A sentence an article repeats (a heading and its table-of-contents entry) is
        # offered once, at its first place: two identical rows are one choice.
        if (article_id, keys[k]) in seen:
            continue
        seen.add((article_id, keys[k]))
        taken[article_id] = taken.get(article_id, 0) + 1
        out.append(Suggestion(article_id, start, end, text, round(score / 100, 4)))
    return SuggestionSearch(out, searched, total, prefiltered)


def _prefilter(
    query: str,
    candidates: list[tuple[str, str]],
    min_score: float,
    budget: Budget,
    prepared: Callable[[str, str], PreparedText],
) -> list[tuple[str, str]] | None:
    """The PREFILTER_ARTICLES candidates whose best unit scores highest against the
    query (and at least min_score less PREFILTER_SLACK), in their given order; None
    when the budget's time ran out first."""
    owners: list[int] = []
    keys: list[str] = []
    for index, (article_id, text) in enumerate(candidates):
        if budget.spent:
            return None
        budget.check()
        units = prepared(article_id, text)
        keys.extend(units.keys)
        owners.extend([index] * len(units.keys))
    if not keys:
        return []
    scores = np.empty(len(keys), dtype=np.float32)
    for first in range(0, len(keys), BLOCK_KEYS):
        budget.check()
        scores[first : first + BLOCK_KEYS] = _prefilter_scores(query, keys[first : first + BLOCK_KEYS])
    best = np.zeros(len(candidates), dtype=np.float32)
    np.maximum.at(best, np.asarray(owners), scores)
    floor = min_score * 100 - PREFILTER_SLACK
    ranked = [k for k in np.argsort(-best, kind="stable").tolist()[:PREFILTER_ARTICLES] if best[k] >= floor]
    return [candidates[k] for k in sorted(ranked)]


def _scores(query: str, keys: list[str], budget: Budget = UNBOUNDED) -> np.ndarray:
    """Best-of-three scores (0-100) of `query` against each key, in blocks of BLOCK_KEYS
    keys (raises `Cancelled` between blocks when the budget is cancelled)."""
    if len(keys) <= BLOCK_KEYS:
        return _block_scores(query, keys)
    out = np.empty(len(keys), dtype=np.float32)
    for first in range(0, len(keys), BLOCK_KEYS):
        budget.check()
        out[first : first + BLOCK_KEYS] = _block_scores(query, keys[first : first + BLOCK_KEYS])
    return out


def _prefilter_scores(query: str, keys: list[str]) -> np.ndarray:
    """The scores of `_block_scores` at a fraction of the cost: the partial ratio (the
    claim inside a longer unit, ten times slower than the others) is computed only for
    the PARTIAL_SHARE of the longer units whose token-set ratio is highest."""
    kwargs = {"processor": None, "workers": 1, "dtype": np.float32}
    scores = process.cdist([query], keys, scorer=fuzz.ratio, **kwargs)[0]
    np.maximum(scores, process.cdist([query], keys, scorer=fuzz.token_sort_ratio, **kwargs)[0], out=scores)
    longer = np.asarray([k for k, key in enumerate(keys) if len(key) > len(query)], dtype=np.int64)
    if len(longer):
        overlap = process.cdist([query], [keys[k] for k in longer], scorer=fuzz.token_set_ratio, **kwargs)[0]
        keep = max(1, int(len(longer) * PARTIAL_SHARE))
        chosen = longer[np.argsort(-overlap, kind="stable")[:keep]]
        partial = process.cdist([query], [keys[k] for k in chosen], scorer=fuzz.partial_ratio, **kwargs)[0]
        scores[chosen] = np.maximum(scores[chosen], 0.95 * partial)
    return scores


def _block_scores(query: str, keys: list[str]) -> np.ndarray:
    kwargs = {"processor": None, "workers": 1, "dtype": np.float32}
    scores = process.cdist([query], keys, scorer=fuzz.ratio, **kwargs)[0]
    np.maximum(scores, process.cdist([query], keys, scorer=fuzz.token_sort_ratio, **kwargs)[0], out=scores)
    longer = [k for k, key in enumerate(keys) if len(key) > len(query)]
    if longer:
        partial = process.cdist([query], [keys[k] for k in longer], scorer=fuzz.partial_ratio, **kwargs)[0]
        np.maximum(scores[longer], 0.95 * partial, out=partial)
        scores[longer] = partial
    return scores


def suggest_for_claim(
    store: Store, claim_id: str, limit: int = 5, *, per_article: int | None = 2, story_id: str | None = None
) -> list[Suggestion]:
    """Suggestions for a stored claim from the other articles of a story holding its
    article (`story_id`; None: the story the article was first imported into)."""
    claim = store.get_claim(claim_id)
    if claim is None:
        return []
    article = store.get_article(claim.article_id)
    if article is None:
        return []
    candidates = []
    for other_id in store.article_ids(story_id if story_id is not None else article.story_id):
        if other_id != article.id:
            other = store.get_article(other_id)
            if other is not None:
                candidates.append((other.id, other.text))
    return suggest_matches(claim.exact, candidates, limit, per_article=per_article)
