"""Recall of known paraphrase pairs among the claim suggestions (issue 13, point 5).

tests/fixtures/paraphrases.jsonl holds pairs built by bench/make_paraphrases.py: a claim
sentence in one article and the sentence of another article of the same story that says
the same thing in other words. For each pair the claim is searched, as the annotate
screen searches it (analysis.clusters.search_matches, 8 suggestions, at most 2 from one
article), in two ways: in the partner's whole article alone, and in every other article
of the story (the five seeds; the 34 articles of NewsArticles.csv that name Kim Jong-nam).
recall@8: the share of pairs whose partner sentence is among the suggestions (a
suggestion overlapping the partner's span counts). Measured twice: scoring sentences by
their characters alone, as newsmark did before (rapidfuzz, at least 0.55: the baseline),
and as it does now (with the claim's terms, analysis/wording.py). In the partner's article alone the
screen's cap of 2 suggestions from one article is lifted (else it would be recall@2).

Run: .venv/bin/python bench/bench_paraphrase.py [--json] [--misses]
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass
from pathlib import Path

import orjson

from newsmark.analysis.clusters import FUZZY_WEIGHT, search_matches

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
SUGGESTIONS = 8  # as the annotate screen offers
PER_ARTICLE = 2


@dataclass(frozen=True, slots=True)
class Pair:
    """A known paraphrase pair and where it came from."""

    story: str
    claim_article: str
    claim: str
    partner_article: str
    partner: str
    source: str


def load() -> tuple[list[Pair], dict[str, dict[str, str]]]:
    """The pairs, and each story's articles (id -> text): the seeds from seeds/, the
    corpus story from tests/fixtures/paraphrase_articles.jsonl."""
    pairs = [Pair(**orjson.loads(line)) for line in FIXTURES.joinpath("paraphrases.jsonl").read_bytes().splitlines()]
    stories: dict[str, dict[str, str]] = {"seeds": {}}
    for path in sorted((ROOT / "seeds").glob("*.txt")):
        stories["seeds"][path.name] = path.read_text(encoding="utf-8")
    for line in FIXTURES.joinpath("paraphrase_articles.jsonl").read_bytes().splitlines():
        article = orjson.loads(line)
        stories.setdefault(article["story"], {})[article["id"]] = article["text"]
    return pairs, stories


# How sentences were scored before issue 13 (characters alone) and now.
BEFORE = {"fuzzy_weight": 1.0, "min_score": 0.55}
NOW = {"fuzzy_weight": FUZZY_WEIGHT}


def found(pair: Pair, stories: dict[str, dict[str, str]], scope: str, scoring: dict = NOW) -> bool:
    """Whether the pair's partner is among the suggestions for its claim, searching the
    partner's article alone (scope "article") or every other article of the story;
    `scoring`: NOW or BEFORE."""
    articles = stories[pair.story]
    if scope == "article":
        candidates = [(pair.partner_article, articles[pair.partner_article])]
    else:
        candidates = [(key, text) for key, text in articles.items() if key != pair.claim_article]
    text = articles[pair.partner_article]
    start = text.index(pair.partner)
    end = start + len(pair.partner)
    search = search_matches(pair.claim, candidates, SUGGESTIONS, per_article=PER_ARTICLE if scope == "story" else None,
                            **scoring)
    return any(s.article_id == pair.partner_article and s.start < end and s.end > start for s in search.suggestions)


def recall(pairs: list[Pair], stories: dict[str, dict[str, str]], scope: str,
           scoring: dict = NOW) -> tuple[float, list[Pair]]:
    """recall@8 over the pairs in the given scope, and the pairs missed."""
    missed = [pair for pair in pairs if not found(pair, stories, scope, scoring)]
    return 1 - len(missed) / len(pairs), missed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--misses", action="store_true", help="print the pairs missed")
    args = parser.parse_args()
    pairs, stories = load()
    figures = {}
    for name, scoring in (("before", BEFORE), ("now", NOW)):
        for scope in ("article", "story"):
            started = time.perf_counter()
            value, missed = recall(pairs, stories, scope, scoring)
            figures[f"recall_{scope}_{name}"] = value
            print(f"recall@{SUGGESTIONS} {name:6}, searching the partner's {scope:7}: {value:.3f} "
                  f"({len(pairs) - len(missed)} of {len(pairs)} pairs; {time.perf_counter() - started:.1f} s)")
            if args.misses:
                for pair in missed:
                    print(f"  missed ({pair.source}):\n    claim:   {pair.claim}\n    partner: {pair.partner}")
    if args.json:
        print(json.dumps({"pairs": len(pairs), **figures}))


if __name__ == "__main__":
    main()
