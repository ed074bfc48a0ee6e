"""Claim clusters: when an analyst marks a claim, which sentences of the story's other
articles make the same claim, in the same words or in others?

A sentence's score is FUZZY_WEIGHT x its character similarity plus the rest x its meaning
overlap. Character similarity is the best of three rapidfuzz measures: the character-level
ratio (survives swapped words), the token-sort ratio (survives reordered words) and, for
sentences longer than the claim, 0.95 x the partial ratio (the claim repeated inside a
longer sentence); rapidfuzz's WRatio is not used: it rates short headings ("Insights and
Conclusions") at 0.85 against any long claim. Character similarity alone rates any two
sentences of similar length at about 0.6, so a paraphrase ("without DNA from a next of
kin, they won't hand over the body" for "will not release the body until his family has
provided a DNA sample") drowned among unrelated sentences. The meaning overlap
(analysis.wording) compares stemmed, synonym-folded terms weighted by their rarity among
the sentences searched. On 42 known paraphrase pairs (bench/bench_paraphrase.py) recall@8
went from 0.810 (characters alone, offered from 0.55) to 0.929 (offered from MIN_SCORE).

Bounded: splitting an article into sentences (Punkt) costs about 10 ms, half a minute for
a 2,865-article story. A story with more than PREFILTER_FROM other articles is searched in
two steps: every article's paragraphs are indexed as term sets (`index_article`, cached by
the caller: about 0.4 ms an article, once), the articles are ranked by the paragraph that
carries the largest idf-weighted share of the claim's terms (set operations: about 0.1 s
for 3,000 articles), and only the best PREFILTER_ARTICLES are split into sentences and
scored as above. The whole search runs under a `Budget`: cancelled, it stops between
blocks and articles; out of time, it returns what it found in the articles searched so
far, saying how many that was.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import chain

import numpy as np
from rapidfuzz import fuzz, process
from rapidfuzz.utils import default_process

from newsmark.analysis.budget import UNBOUNDED, Budget
from newsmark.analysis.sentences import split_sentences
from newsmark.analysis.wording import idf, names, overlap, terms
from newsmark.schema.store import Store

MIN_SCORE = 0.30  # below this a sentence is not offered as the same claim
PREFILTER_FROM = 60  # with more candidate articles than this, prefilter them by their terms
PREFILTER_ARTICLES = 40  # articles searched sentence by sentence after the prefilter
MIN_UNIT_TERMS = 3  # units with fewer terms (menus, bylines) are not indexed
FUZZY_WEIGHT = 0.4  # a sentence's score: this share of the fuzzy score, the rest its term overlap
BLOCK_KEYS = 4_000  # units or sentences scored in one rapidfuzz call (a few ms)


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
    indexed: Callable[[str, str], ArticleTerms] | None = None,
    fuzzy_weight: float = FUZZY_WEIGHT,
) -> SuggestionSearch:
    """`suggest_matches` under a budget, for stories of any size: with more than
    PREFILTER_FROM candidates, only the PREFILTER_ARTICLES articles whose units carry most
    of the claim's terms are searched sentence by sentence. `indexed(article_id, text)`
    gives an article's `ArticleTerms` (a cache; default: computed here). `fuzzy_weight`
    1.0 scores by characters alone (newsmark before issue 13, with min_score 0.55; what
    bench/bench_paraphrase.py compares against). Raises `Cancelled` when the budget is
    cancelled; when its time is spent, returns the matches in the articles searched so
    far."""
    query = default_process(claim_text)
    if not query.strip() or limit <= 0:
        return SuggestionSearch([], len(candidates), len(candidates))
    claim_terms = terms(claim_text)
    chosen = list(candidates)
    prefiltered = len(chosen) > PREFILTER_FROM
    if prefiltered:
        chosen = _prefilter(claim_terms, chosen, budget, indexed or (lambda _id, text: index_article(text, budget)))
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
    budget.check()
    if fuzzy_weight < 1:
        scores = fuzzy_weight * scores + (1 - fuzzy_weight) * _meaning_scores(claim_terms, [s[3] for s in sentences])
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


@dataclass(frozen=True, slots=True)
class ArticleTerms:
    """An article's paragraphs (its lines with at least MIN_UNIT_TERMS terms) as term
    sets, and in how many of them each term occurs: what the prefilter ranks articles by.
    Paragraphs, not sentences: splitting lines is free where finding sentences in 3,000
    articles took seconds, and a claim's terms still have to meet in one paragraph.
    Index an article once (`index_article`) and keep it."""

    units: list[frozenset[str]]
    frequency: dict[str, int]


def index_article(text: str, budget: Budget = UNBOUNDED) -> ArticleTerms:
    """An article's `ArticleTerms` (raises `Cancelled` between blocks of lines)."""
    found: list[frozenset[str]] = []
    for count, line in enumerate(text.split("\n")):
        if count % 500 == 499:
            budget.check()
        unit = terms(line)
        if len(unit) >= MIN_UNIT_TERMS:
            found.append(unit)
    return ArticleTerms(found, Counter(chain.from_iterable(found)))


def _prefilter(
    claim: frozenset[str],
    candidates: list[tuple[str, str]],
    budget: Budget,
    indexed: Callable[[str, str], ArticleTerms],
) -> list[tuple[str, str]] | None:
    """The PREFILTER_ARTICLES candidates (in their given order) whose best unit carries
    the largest idf-weighted share of the claim's terms, idf counted over every unit of
    the candidates; None when the budget's time ran out first. Set operations on cached
    term sets take milliseconds per thousand articles, where scoring every unit's
    characters took seconds."""
    indexes: list[ArticleTerms] = []
    for article_id, text in candidates:
        if budget.spent:
            return None
        budget.check()
        indexes.append(indexed(article_id, text))
    if not claim:
        return []
    frequency = dict.fromkeys(claim, 0)
    for index in indexes:
        for t in claim:
            frequency[t] += index.frequency.get(t, 0)
    weights = idf(frequency, sum(len(index.units) for index in indexes))
    total = sum(weights.values())
    best = np.zeros(len(candidates), dtype=np.float32)
    for k, index in enumerate(indexes):
        if k % 500 == 499:
            budget.check()
        if any(t in index.frequency for t in claim):
            best[k] = max(sum(weights[t] for t in claim & unit) for unit in index.units) / total
    ranked = [k for k in np.argsort(-best, kind="stable").tolist()[:PREFILTER_ARTICLES] if best[k] > 0]
    return [candidates[k] for k in sorted(ranked)]


def _meaning_scores(claim: frozenset[str], sentences: Sequence[str]) -> np.ndarray:
    """Each sentence's term overlap with the claim (0-100, analysis.wording.overlap): the
    score of a sentence that says the claim in other words. Terms weigh their idf over
    these sentences. (Weighing by the story's articles as well, so that the names every
    article repeats count less, found fewer of the known paraphrase pairs.)"""
    sentence_terms = [terms(sentence) for sentence in sentences]
    frequency: Counter[str] = Counter(dict.fromkeys(claim, 0))
    for found in sentence_terms:
        frequency.update(found)
    weights = idf(frequency, len(sentences))
    return np.fromiter((100 * overlap(claim, found, weights, names(sentence))
                        for found, sentence in zip(sentence_terms, sentences)), np.float32, len(sentences))


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
