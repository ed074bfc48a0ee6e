"""A bootstrap confidence interval for Krippendorff's α, as Hayes & Krippendorff (2007),
"Answering the Call for a Standard Reliability Measure for Coding Data", draw it in their
KALPHA macro.

The procedure does not resample units. It pools every pair of values that some unit
holds (a unit with m values holds m(m-1)/2 pairs) and, for each resample, fills each
unit's m(m-1)/2 pair slots with pairs drawn uniformly, with replacement, from that pool.
A drawn pair with distance δ² adds 2·δ² / (n·De·(m - 1)) to the resample's disagreement,
where n is the number of pairable values and De the expected disagreement of the data
(both kept from the data, as is the distance matrix); the resample's α is 1 minus the
sum. The interval is the 2.5th and 97.5th percentile of the resampled α.

Drawing pairs one by one costs a random number per pair slot, so millions per resample
on a large corpus. Since the slots of all units with the same m carry the same weight,
and a pair's contribution depends only on its distance δ², the number of draws landing on
each distance among those slots is multinomial: one multinomial draw per group of units
with equal m gives the same distribution exactly, at a cost independent of the number of
units. tests/test_agreement_bootstrap.py checks it against a plain pair-by-pair
resampling loop and against the distribution's variance worked out by hand.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DEFAULT_RESAMPLES = 1000
DEFAULT_SEED = 0
CONFIDENCE = 0.95


@dataclass(frozen=True)
class AlphaInterval:
    """The bootstrap interval of α: its bounds, and how many resamples drew it."""

    low: float
    high: float
    resamples: int


def within_unit_pairs(value_counts: np.ndarray) -> np.ndarray:
    """Ordered pairs of values held by one unit: `[c, k]` counts the pairs (value c,
    value k) of two different coders of the same unit, summed over the units."""
    counts = np.asarray(value_counts, dtype=np.int64)
    return counts.T @ counts - np.diag(counts.sum(axis=0))


def resampled_alphas(
    value_counts: np.ndarray, distances: np.ndarray, resamples: int, seed: int = DEFAULT_SEED
) -> np.ndarray | None:
    """`resamples` bootstrap values of α (KALPHA's procedure, see the module docstring).

    `value_counts` is a units x values count matrix; `distances` the values x values
    matrix of δ² at the field's level of measurement (from the data's own margins for
    ordinal α). None where α is undefined (fewer than two pairable values, or no
    expected disagreement). The same data and seed always give the same values.
    """
    counts = np.asarray(value_counts, dtype=np.int64)
    counts = counts[counts.sum(axis=1) >= 2]
    coders_per_unit = counts.sum(axis=1)
    n = int(coders_per_unit.sum())
    if n < 2:
        return None
    margins = counts.sum(axis=0).astype(np.float64)
    expected = float((np.outer(margins, margins) * distances).sum()) / (n * (n - 1))
    if expected == 0:
        return None
    # A draw matters only through its δ², so pairs of values at the same distance are
    # one outcome (nominal data: two, "same" and "different"); fewer outcomes, fewer
    # binomial draws inside each multinomial one.
    pairs = within_unit_pairs(counts).ravel()
    outcomes, outcome_of_pair = np.unique(np.asarray(distances, dtype=np.float64).ravel(), return_inverse=True)
    weights = np.bincount(outcome_of_pair.ravel(), weights=pairs, minlength=len(outcomes))
    probabilities = weights / weights.sum()
    rng = np.random.default_rng(seed)
    disagreement = np.zeros(resamples)
    for m, units in zip(*np.unique(coders_per_unit, return_counts=True)):
        slots = int(units) * int(m) * (int(m) - 1) // 2
        draws = rng.multinomial(slots, probabilities, size=resamples)
        disagreement += (draws @ outcomes) * (2.0 / (n * expected * (int(m) - 1)))
    return 1.0 - disagreement


def alpha_interval(
    value_counts: np.ndarray, distances: np.ndarray, resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED
) -> AlphaInterval | None:
    """The 95% bootstrap interval of α (percentiles of `resampled_alphas`), or None where
    α is undefined or no resample is asked for."""
    if resamples <= 0:
        return None
    alphas = resampled_alphas(value_counts, distances, resamples, seed)
    if alphas is None:
        return None
    tail = (1.0 - CONFIDENCE) / 2
    low, high = np.quantile(alphas, [tail, 1.0 - tail])
    return AlphaInterval(float(low), float(high), resamples)
