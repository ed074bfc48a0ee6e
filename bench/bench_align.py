"""Alignment speed: two 20,000-character articles (a real report and a word-spun copy
with paragraphs dropped), against a bare baseline in the same run: rapidfuzz.fuzz.ratio
of the two whole texts, which finds no passages at all.

Run: .venv/bin/python bench/bench_align.py [--json]
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import time
from pathlib import Path

from rapidfuzz import fuzz

from newsmark.analysis.align import align, prepare

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
SIZE = 20_000
SWAPS = {"the": "a", "said": "stated", "officials": "officers", "would": "could", "with": "alongside",
         "about": "regarding", "against": "versus", "and": "plus", "group": "team", "more": "additional"}


def spin(text: str, rng: random.Random) -> str:
    """Drop every fourth paragraph, swap some words for synonyms and some neighbours."""
    paragraphs = [p for k, p in enumerate(text.split("\n")) if k % 4 != 3]
    out = []
    for paragraph in paragraphs:
        words = paragraph.split(" ")
        words = [SWAPS.get(w, w) if rng.random() < 0.6 else w for w in words]
        for k in range(0, len(words) - 1, 9):
            words[k], words[k + 1] = words[k + 1], words[k]
        out.append(" ".join(words))
    return "\n".join(out)


def timed(func, repeat: int) -> float:
    """Median seconds of `repeat` calls."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    texts = [p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))]
    a = ("\n".join(texts[::-1]) * 2)[:SIZE]
    b = spin(a, random.Random(5))
    b = (b + "\n" + b)[:SIZE]
    repeat = 30
    baseline = timed(lambda: fuzz.ratio(a, b), repeat)
    full = timed(lambda: align(a, b), repeat)
    prepared_a, prepared_b = prepare(a), prepare(b)
    matched = timed(lambda: align(prepared_a, prepared_b), repeat)
    unrelated = timed(lambda: align(a, texts[2] * 8), repeat)
    result = align(a, b)
    print(f"texts: {len(a):,} and {len(b):,} characters; {len(prepared_a.spans)} and {len(prepared_b.spans)} units")
    print(f"baseline fuzz.ratio(whole texts): {baseline * 1000:8.2f} ms  (score {fuzz.ratio(a, b):.1f}, no passages)")
    print(f"align (texts):                    {full * 1000:8.2f} ms  ratio {full / baseline:6.2f}x baseline  "
          f"similarity {result.similarity:.3f}, {len(result.shared)} passages")
    print(f"align (prepared texts):           {matched * 1000:8.2f} ms  ratio {matched / baseline:6.2f}x baseline")
    print(f"align (20k vs unrelated):         {unrelated * 1000:8.2f} ms")
    print(f"budget 50 ms: {'PASS' if full < 0.050 else 'FAIL'}")
    if "--json" in sys.argv[1:]:
        print(json.dumps({"baseline_s": baseline, "align_s": full, "align_prepared_s": matched,
                          "align_unrelated_s": unrelated, "target_s": 0.050, "pass": full < 0.050}))


if __name__ == "__main__":
    main()
