"""analysis.bootstrap: α's bootstrap interval (Hayes & Krippendorff 2007, KALPHA) against an
independent pair-by-pair resampling loop written here, against the distribution's mean
and variance worked out by hand, and its determinism."""

from __future__ import annotations

import numpy as np
import pytest

from newsmark.analysis.agreement import distance_matrix
from newsmark.analysis.bootstrap import alpha_interval, resampled_alphas, within_unit_pairs
from tests.test_agreement import K2011, k2011_counts

RESAMPLES = 20_000


def k2011_units() -> list[list[int]]:
    """The Krippendorff (2011) data as each unit's list of values, pairable units only."""
    columns = [line.split() for line in K2011.values()]
    units = [[int(v) for v in unit if v != "."] for unit in zip(*columns)]
    return [unit for unit in units if len(unit) >= 2]


def delta(level: str, frequency: dict[int, int]):
    """δ² straight from Krippendorff's definitions, on the values themselves."""
    def nominal(c: int, k: int) -> float:
        return float(c != k)

    def ordinal(c: int, k: int) -> float:
        low, high = min(c, k), max(c, k)
        between = sum(frequency.get(g, 0) for g in range(low, high + 1))
        return (between - (frequency.get(c, 0) + frequency.get(k, 0)) / 2) ** 2

    def interval(c: int, k: int) -> float:
        return float((c - k) ** 2)

    return {"nominal": nominal, "ordinal": ordinal, "interval": interval}[level]


def pooled_pairs(units: list[list[int]], level: str) -> tuple[int, float, np.ndarray]:
    """n (pairable values), De (their expected disagreement), and δ² of every pair of
    values within a unit, each pair listed once."""
    values = [v for unit in units for v in unit]
    n = len(values)
    d = delta(level, {v: values.count(v) for v in set(values)})
    expected = sum(d(c, k) for i, c in enumerate(values) for j, k in enumerate(values) if i != j) / (n * (n - 1))
    pair_delta = np.array([d(u[i], u[j]) for u in units for i in range(len(u)) for j in range(i + 1, len(u))])
    return n, expected, pair_delta


def kalpha_pair_by_pair(units: list[list[int]], level: str, resamples: int, seed: int) -> np.ndarray:
    """KALPHA's resampling written out: list every pair of values within a unit, then for
    each unit draw its m(m-1)/2 pairs one by one from that list and add
    2·δ²/(n·De·(m-1)) for each; α = 1 - the sum."""
    n, expected, pair_delta = pooled_pairs(units, level)
    rng = np.random.default_rng(seed)
    disagreement = np.zeros(resamples)
    for unit in units:
        m = len(unit)
        drawn = rng.integers(0, len(pair_delta), size=(resamples, m * (m - 1) // 2))
        disagreement += 2 * pair_delta[drawn].sum(axis=1) / (n * expected * (m - 1))
    return 1 - disagreement


def distances(counts: np.ndarray, level: str) -> np.ndarray:
    pairable = counts[counts.sum(axis=1) >= 2]
    return distance_matrix(pairable.sum(axis=0), level)


@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval"])
def test_interval_matches_a_pair_by_pair_resampling_loop(level):
    counts = k2011_counts()
    ours = resampled_alphas(counts, distances(counts, level), RESAMPLES, seed=1)
    loop = kalpha_pair_by_pair(k2011_units(), level, RESAMPLES, seed=2)
    # Two samples of 20,000 from one distribution: their empirical CDFs lie within 0.02
    # of each other (Kolmogorov-Smirnov, p < 0.001 otherwise); drawing from the
    # coincidences instead of the pairs moves them 0.08 to 0.19 apart. Nominal α* falls on a
    # lattice 0.011 apart, so a percentile may land on the neighbouring point.
    assert kolmogorov_smirnov(ours, loop) < 0.02
    assert np.quantile(ours, [0.025, 0.975]) == pytest.approx(np.quantile(loop, [0.025, 0.975]), abs=0.015)
    assert ours.std() == pytest.approx(loop.std(), rel=0.05)


def kolmogorov_smirnov(a: np.ndarray, b: np.ndarray) -> float:
    """The largest gap between two empirical CDFs (values rounded, so equal α computed
    in a different order count as equal)."""
    a, b = np.sort(np.round(a, 9)), np.sort(np.round(b, 9))
    grid = np.union1d(a, b)
    return float(np.abs(np.searchsorted(a, grid, side="right") / len(a) - np.searchsorted(b, grid, side="right") / len(b)).max())


@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval"])
def test_mean_and_variance_are_those_of_the_procedure(level):
    """Each unit's m(m-1)/2 draws are independent draws of δ² from the pooled pairs, so
    α* has mean 1 - E[δ²]·Σw and variance Var[δ²]·Σw², w = 2/(n·De·(m-1)) per draw."""
    units = k2011_units()
    n, expected, pooled = pooled_pairs(units, level)
    weights = [2 / (n * expected * (len(u) - 1)) for u in units for _ in range(len(u) * (len(u) - 1) // 2)]
    mean = 1 - pooled.mean() * sum(weights)
    variance = pooled.var() * sum(w * w for w in weights)
    counts = k2011_counts()
    alphas = resampled_alphas(counts, distances(counts, level), RESAMPLES, seed=3)
    assert alphas.mean() == pytest.approx(mean, abs=4 * np.sqrt(variance / RESAMPLES))
    assert alphas.var() == pytest.approx(variance, rel=0.05)


def test_within_unit_pairs_counts_every_pair_of_two_coders():
    counts = np.array([[2, 1, 0], [0, 1, 1]])  # unit 1: values 0, 0, 1; unit 2: values 1, 2
    assert within_unit_pairs(counts).tolist() == [[2, 2, 0], [2, 0, 1], [0, 1, 0]]


def test_same_data_and_seed_give_the_same_interval():
    counts = k2011_counts()
    d = distances(counts, "ordinal")
    first = alpha_interval(counts, d, 1000, seed=0)
    assert first == alpha_interval(counts, d, 1000, seed=0)
    assert first != alpha_interval(counts, d, 1000, seed=1)
    assert first.resamples == 1000 and first.low < 0.8154 < first.high


def test_perfect_agreement_has_a_point_interval_and_undefined_alpha_none():
    counts = np.array([[2, 0], [0, 2], [2, 0]])  # two coders agree on every unit
    interval = alpha_interval(counts, distance_matrix(counts.sum(axis=0), "nominal"))
    assert (interval.low, interval.high) == (1.0, 1.0)
    no_variation = np.array([[2, 0], [3, 0]])
    assert alpha_interval(no_variation, distance_matrix(no_variation.sum(axis=0), "nominal")) is None
    assert alpha_interval(np.array([[1, 0], [0, 1]]), np.ones((2, 2))) is None  # nothing pairable
    assert alpha_interval(counts, distance_matrix(counts.sum(axis=0), "nominal"), resamples=0) is None
