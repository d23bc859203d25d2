"""RL-style aggregate statistics: IQM, stratified bootstrap, probability of improvement, paired CIs."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks import rl_stats


def test_iqm_of_known_values():
    # 1..8: trim two at each end -> mean(3, 4, 5, 6) = 4.5
    assert rl_stats.iqm(np.arange(1, 9)) == pytest.approx(4.5)
    # An outlier run does not move the IQM, while it moves the mean.
    assert rl_stats.iqm([1, 2, 3, 4, 5, 6, 7, 1000]) == pytest.approx(4.5)
    assert rl_stats.iqm(np.arange(1, 9).reshape(2, 4)) == pytest.approx(4.5)  # flattened
    rows = np.array([np.arange(1, 9), np.arange(11, 19)])
    assert rl_stats.iqm(rows, axis=1) == pytest.approx([4.5, 14.5])
    with pytest.raises(ValueError, match="empty"):
        rl_stats.iqm([])


def test_stratified_bootstrap_keeps_tasks_and_is_seeded():
    # Two tasks with constant scores: every replicate draws 3 runs of each, so the IQM never moves.
    strata = [np.zeros(3), np.ones(3)]
    est = rl_stats.stratified_bootstrap_ci(strata, reps=500)
    assert (est.value, est.low, est.high) == (0.5, 0.5, 0.5)
    # An unstratified bootstrap of the same six values would vary; a single stratum does.
    pooled = rl_stats.stratified_bootstrap_ci([np.r_[np.zeros(3), np.ones(3)]], reps=500)
    assert pooled.low < 0.5 < pooled.high
    rng = np.random.default_rng(3)
    noisy = [rng.normal(size=5) for _ in range(8)]
    a = rl_stats.stratified_bootstrap_ci(noisy, seed=7)
    assert a == rl_stats.stratified_bootstrap_ci(noisy, seed=7)
    assert a != rl_stats.stratified_bootstrap_ci(noisy, seed=8)
    assert a.low <= a.value <= a.high


def test_mean_ci_covers_the_true_mean_in_most_repeats():
    rng = np.random.default_rng(0)
    covered = 0
    repeats = 100
    for r in range(repeats):
        sample = [rng.normal(loc=2.0, scale=1.0, size=5) for _ in range(8)]  # 8 tasks x 5 seeds
        est = rl_stats.mean_ci(sample, reps=1000, seed=r)
        covered += est.low <= 2.0 <= est.high
    # Nominal 95%; the percentile bootstrap with 5 runs per task is a little narrow, never far off.
    assert 85 <= covered <= 100


def test_iqm_ci_covers_the_true_center_of_a_symmetric_distribution():
    rng = np.random.default_rng(1)
    hits = 0
    for r in range(60):  # heavy-tailed runs (Student t, 3 dof), 8 tasks x 5 seeds
        est = rl_stats.stratified_bootstrap_ci([rng.standard_t(3, size=5) for _ in range(8)], seed=r)
        hits += est.low <= 0.0 <= est.high
    assert hits >= 50


def test_probability_of_improvement_known_answers():
    x = [np.array([2.0, 3.0, 4.0]), np.array([10.0, 11.0])]
    y = [np.array([0.0, 1.0, 1.5]), np.array([5.0, 6.0])]
    always = rl_stats.probability_of_improvement(x, y, reps=300)
    assert (always.value, always.low, always.high) == (1.0, 1.0, 1.0)
    never = rl_stats.probability_of_improvement(y, x, reps=300)
    assert (never.value, never.low, never.high) == (0.0, 0.0, 0.0)
    same = rl_stats.probability_of_improvement(x, x, reps=300)
    assert (same.value, same.low, same.high) == (0.5, 0.5, 0.5)  # ties count a half
    # Task 1: X wins every pair; task 2: x = [1, 3] vs y = [2, 2] -> pairs (1>2 no, 1>2 no, 3>2, 3>2) = 0.5
    mixed = rl_stats.probability_of_improvement([[5.0, 6.0], [1.0, 3.0]], [[0.0, 1.0], [2.0, 2.0]], reps=300)
    assert mixed.value == pytest.approx(0.75)  # averaged over tasks, not over pooled pairs
    assert 0.5 <= mixed.low <= mixed.value <= mixed.high <= 1.0


def test_paired_difference_ci():
    rng = np.random.default_rng(2)
    y = [rng.normal(size=5) for _ in range(8)]
    x = [v + 0.5 + 0.01 * rng.normal(size=5) for v in y]  # X = Y + 0.5, tiny noise
    diff = rl_stats.paired_difference_ci(x, y)
    assert diff.value == pytest.approx(0.5, abs=0.01) and 0.45 < diff.low < 0.5 < diff.high < 0.55
    assert rl_stats.paired_difference_ci(y, y) == rl_stats.Estimate(0.0, 0.0, 0.0)


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="same tasks"):
        rl_stats.probability_of_improvement([[1.0, 2.0]], [[1.0]])
    with pytest.raises(ValueError, match="no scores"):
        rl_stats.mean_ci([[], []])
    with pytest.raises(ValueError, match="non-finite"):
        rl_stats.mean_ci([[1.0, np.nan]])
    with pytest.raises(ValueError, match="level"):
        rl_stats.mean_ci([[1.0, 2.0]], level=1.5)


def test_estimate_format():
    assert rl_stats.Estimate(0.0123, 0.01, 0.015).format(scale=100, digits=2) == "1.2 [1, 1.5]"
