"""Grouping: how well it finds what belongs together (FNC-1), and 100,000 articles in < 60 s.

Quality: the 904 article bodies of FNC-1's test split (../shared/data/fnc1), grouped from
their text alone. Two bodies belong together when both relate (agree, disagree or discuss)
to a common headline; on this split that relation is already transitive (its 6,002 pairs
are exactly those of its 110 connected groups), so the pair relation and its closure give
the same truth. Printed: pairwise precision and recall (targets >= 0.95 and >= 0.80), in
one step and as two imports with --group (every other body first, then the rest joining
the stories found or grouping among themselves).

Speed: articles built from the real corpus in ../shared/data/news-articles (or from the
seeds when it is absent): half are variants of real articles (sentences dropped and
words removed, as wire copies are cut), half are mixtures of sentences from random
articles (no story). The bare baseline, in the same run, is the loop every grouping must
do at least: lowercase and tokenise every text with one regex.

Run: .venv/bin/python bench/bench_grouping.py [N] [--json]
"""

from __future__ import annotations

import csv
import json
import random
import re
import sys
import time
from collections import defaultdict
from pathlib import Path

from newsmark.analysis.fnc1 import RELATED
from newsmark.analysis.grouping import group_new, group_texts, pairwise_scores

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"
CORPUS = SHARED_DATA / "news-articles" / "NewsArticles.csv"


def fnc1_bodies_and_stories(folder: Path) -> tuple[list[tuple[str, None, str]], list[list[str]]]:
    """FNC-1's bodies as (body id, None, text) items, and the labelled truth: the connected
    groups of bodies related (agree, disagree, discuss) to a common headline."""
    csv.field_size_limit(10**9)
    with (folder / "competition_test_bodies.csv").open(encoding="utf-8", newline="") as handle:
        items = [(row["Body ID"], None, row["articleBody"]) for row in csv.DictReader(handle)]
    related: dict[str, list[str]] = defaultdict(list)
    with (folder / "competition_test_stances.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["Stance"] in RELATED:
                related[row["Headline"]].append(row["Body ID"])
    parent = {body: body for body, _, _ in items}

    def root(body: str) -> str:
        while parent[body] != body:
            parent[body] = parent[parent[body]]
            body = parent[body]
        return body

    for bodies in related.values():
        for body in bodies[1:]:
            parent[root(body)] = root(bodies[0])
    stories: dict[str, list[str]] = defaultdict(list)
    for body, _, _ in items:
        stories[root(body)].append(body)
    return items, list(stories.values())


def two_step(items: list[tuple[str, None, str]]) -> list[list[str]]:
    """Group `items` as two imports with --group would: the first half (every other item)
    into new stories, then the second half, which joins those stories or groups among
    itself (`group_new`); the final stories (singletons of either half included)."""
    first, second = items[0::2], items[1::2]
    by_id = {item[0]: item for item in items}
    found = group_new(first).groups
    stories = {group.ids[0]: group.ids for group in found if len(group.ids) >= 2}
    alone = [group.ids[0] for group in found if len(group.ids) < 2]
    # As the import does: the first half's singletons stay ungrouped and are grouped again.
    grouping = group_new([by_id[i] for i in alone] + second,
                         [(name, *by_id[i]) for name, ids in stories.items() for i in ids])
    for name, ids in grouping.joined.items():
        stories[name] = stories[name] + ids
    return list(stories.values()) + [group.ids for group in grouping.groups]


def load_corpus() -> list[tuple[str, str]]:
    """(title, text) pairs of the real corpus, or of the seeds."""
    if CORPUS.exists():
        csv.field_size_limit(10**9)
        with CORPUS.open(encoding="utf-8", errors="replace", newline="") as handle:
            return [(row["title"], row["text"]) for row in csv.DictReader(handle) if row["text"].strip()]
    return [(p.name, p.read_text(encoding="utf-8")) for p in sorted((ROOT / "seeds").glob("*.txt"))]


def build(n: int, rng: random.Random) -> list[tuple[str, str | None, str]]:
    """n synthetic articles: variants of real ones and unrelated mixtures."""
    corpus = load_corpus()
    sentences = [s for _, text in corpus for s in re.split(r"(?<=[.!?])\s+", text) if len(s) > 40]
    items = []
    for k in range(n):
        if k % 2 == 0:
            title, text = corpus[rng.randrange(len(corpus))]
            parts = [s for s in re.split(r"(?<=[.!?])\s+", text) if rng.random() > 0.2]
            words = " ".join(parts).split(" ")
            text = " ".join(w for w in words if rng.random() > 0.05)
        else:
            title = None
            text = " ".join(rng.choice(sentences) for _ in range(15))
        items.append((f"a{k:07d}", title, text))
    return items


def main() -> None:
    numbers = [arg for arg in sys.argv[1:] if arg != "--json"]
    n = int(numbers[0]) if numbers else 100_000
    report: dict = {}
    if (SHARED_DATA / "fnc1").is_dir():
        bodies, stories = fnc1_bodies_and_stories(SHARED_DATA / "fnc1")
        found = group_texts(bodies)
        precision, recall = pairwise_scores(found, stories)
        multi = [g for g in found if len(g) > 1]
        print(f"FNC-1 bodies: {len(bodies)} in {len(stories)} labelled groups; found {len(multi)} stories of 2+ "
              f"and {len(found) - len(multi)} alone")
        print(f"pairwise precision {precision:.3f} (target >= 0.95), recall {recall:.3f} (target >= 0.80)")
        report.update(fnc1_precision=precision, fnc1_recall=recall)
        start = time.perf_counter()
        precision, recall = pairwise_scores(two_step(bodies), stories)
        print(f"two imports (half, then the other half joining): pairwise precision {precision:.3f}, "
              f"recall {recall:.3f} ({time.perf_counter() - start:.1f} s)")
        report.update(fnc1_two_step_precision=precision, fnc1_two_step_recall=recall)
    items = build(n, random.Random(3))
    chars = sum(len(text) for _, _, text in items)
    token = re.compile(r"[a-z][a-z0-9]{2,}")
    start = time.perf_counter()
    for _, _, text in items:
        token.findall(text.lower())
    baseline = time.perf_counter() - start
    start = time.perf_counter()
    groups = group_texts(items)
    elapsed = time.perf_counter() - start
    multi = [g for g in groups if len(g) > 1]
    print(f"articles: {n:,} ({chars / 1e6:.0f} M characters)")
    print(f"baseline (tokenise every text):  {baseline:7.2f} s")
    print(f"group_texts:                     {elapsed:7.2f} s  ratio {elapsed / baseline:5.2f}x baseline")
    print(f"stories of 2+: {len(multi):,} holding {sum(map(len, multi)):,} articles; largest {max(map(len, groups))}")
    print(f"budget 60 s: {'PASS' if elapsed < 60 else 'FAIL'}")
    if "--json" in sys.argv[1:]:
        print(json.dumps({"articles": n, "baseline_s": baseline, "grouping_s": elapsed, "target_s": 60,
                          "pass": elapsed < 60, **report}))


if __name__ == "__main__":
    main()
