"""Claim clusters: when an analyst marks a claim, which sentences of the story's other
articles make the same claim? Each sentence scores the best of three rapidfuzz measures:
the character-level ratio (survives swapped words), the token-sort ratio (survives
reordered words) and, for sentences longer than the claim, 0.95 x the partial ratio (the
claim repeated inside a longer sentence). rapidfuzz's WRatio is not used: it rates short
headings ("Insights and Conclusions") at 0.85 against any long claim.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz, process
from rapidfuzz.utils import default_process

from newsmark.analysis.sentences import split_sentences
from newsmark.schema.store import Store

MIN_SCORE = 0.55  # below this a sentence is not offered as the same claim


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A sentence of another article that may make the same claim (code points)."""

    article_id: str
    start: int
    end: int
    text: str
    score: float  # 0..1


def suggest_matches(
    claim_text: str,
    candidates: Sequence[tuple[str, str]],
    limit: int = 5,
    *,
    min_score: float = MIN_SCORE,
    per_article: int | None = None,
) -> list[Suggestion]:
    """Rank the sentences of `candidates` ((article_id, article text) pairs) by how closely
    they match `claim_text`; the best `limit` scoring at least `min_score`, best first.
    Spans are offsets into each candidate's whole text. `per_article` caps how many come
    from one article (None: no cap)."""
    query = default_process(claim_text)
    if not query.strip() or limit <= 0:
        return []
    sentences: list[tuple[str, int, int, str]] = []
    for article_id, text in candidates:
        for start, end in split_sentences(text):
            sentences.append((article_id, start, end, text[start:end]))
    if not sentences:
        return []
    keys = [default_process(s[3]) for s in sentences]
    scores = _scores(query, keys)
    order = sorted(range(len(sentences)), key=lambda k: (-scores[k], k))
    out: list[Suggestion] = []
    taken: dict[str, int] = {}
    for k in order:
        score = float(scores[k])
        if score < min_score * 100 or len(out) >= limit:
            break
        article_id, start, end, text = sentences[k]
        if per_article is not None and taken.get(article_id, 0) >= per_article:
            continue
        taken[article_id] = taken.get(article_id, 0) + 1
        out.append(Suggestion(article_id, start, end, text, round(score / 100, 4)))
    return out


def _scores(query: str, keys: list[str]) -> np.ndarray:
    """Best-of-three scores (0-100) of `query` against each key."""
    kwargs = {"processor": None, "workers": 1, "dtype": np.float32}
    scores = process.cdist([query], keys, scorer=fuzz.ratio, **kwargs)[0]
    np.maximum(scores, process.cdist([query], keys, scorer=fuzz.token_sort_ratio, **kwargs)[0], out=scores)
    longer = [k for k, key in enumerate(keys) if len(key) > len(query)]
    if longer:
        partial = process.cdist([query], [keys[k] for k in longer], scorer=fuzz.partial_ratio, **kwargs)[0]
        np.maximum(scores[longer], 0.95 * partial, out=partial)
        scores[longer] = partial
    return scores


def suggest_for_claim(store: Store, claim_id: str, limit: int = 5, *, per_article: int | None = 2) -> list[Suggestion]:
    """Suggestions for a stored claim from the other articles of its article's story."""
    claim = store.get_claim(claim_id)
    if claim is None:
        return []
    article = store.get_article(claim.article_id)
    if article is None:
        return []
    candidates = []
    for other_id in store.article_ids(article.story_id):
        if other_id != article.id:
            other = store.get_article(other_id)
            if other is not None:
                candidates.append((other.id, other.text))
    return suggest_matches(claim.exact, candidates, limit, per_article=per_article)
