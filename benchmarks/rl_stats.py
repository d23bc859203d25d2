"""Aggregate statistics of an RL benchmark over tasks x seeds, as RL papers report them.

Following Agarwal et al. 2021, "Deep Reinforcement Learning at the Edge of the Statistical Precipice"
(NeurIPS), a policy's score is summarised by its **interquartile mean** (IQM: the mean of the middle
50% of all (task, seed) scores, robust to outlier runs yet more efficient than the median) with a
**stratified bootstrap** 95% confidence interval (seeds are resampled within each task, tasks are
kept: the interval reflects run-to-run variability on this set of tasks), and policies are compared
by the **probability of improvement** ``P(X > Y)``: per task, the Mann-Whitney probability that a run
of X scores higher than a run of Y (ties count a half), averaged over tasks.

Why not ``rliable``, the library of that paper: it cannot be imported in this environment. rliable
1.2 needs ``arch < 8``; arch 7.x fails on pandas 3 (``TypeError`` in ``deprecate_kwarg``), and arch 8
removed the ``random_state`` argument rliable's ``StratifiedBootstrap`` passes. The few estimators
used here are re-implemented instead, vectorised with numpy (2000 replicates of a 10 x 5 grid take
milliseconds), seeded, and tested against known answers.

A *strata* argument is a sequence of 1-D arrays, one per task (dataset), holding that task's scores
over seeds; tasks may have different numbers of seeds. Paired functions take two such sequences with
equal shapes, cell ``[t][i]`` of both belonging to the same (task, seed).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import trim_mean

DEFAULT_REPS = 2000
DEFAULT_LEVEL = 0.95

Strata = Sequence[np.ndarray | Sequence[float]]


@dataclass(frozen=True)
class Estimate:
    """A point estimate with a percentile-bootstrap confidence interval ``[low, high]``."""

    value: float
    low: float
    high: float

    def format(self, scale: float = 1.0, digits: int = 3) -> str:
        """``value [low, high]`` times ``scale``, ``digits`` significant digits."""
        v, lo, hi = (scale * x for x in (self.value, self.low, self.high))
        return f"{v:.{digits}g} [{lo:.{digits}g}, {hi:.{digits}g}]"


def iqm(scores: np.ndarray | Sequence[float], axis: int | None = None) -> np.ndarray | float:
    """Interquartile mean: the mean after trimming 25% of the values at each end.

    Args:
        scores: Values; with ``axis=None`` all of them (flattened).
        axis: Axis along which to compute (e.g. 1 for one IQM per bootstrap replicate).
    """
    values = np.asarray(scores, dtype=np.float64)
    if values.size == 0:
        raise ValueError("the IQM of an empty set of scores is undefined")
    if axis is None:
        return float(trim_mean(values.ravel(), 0.25))
    return trim_mean(values, 0.25, axis=axis)


def _strata(strata: Strata, name: str = "strata") -> list[np.ndarray]:
    arrays = [np.asarray(s, dtype=np.float64).ravel() for s in strata]
    arrays = [a for a in arrays if a.size]
    if not arrays:
        raise ValueError(f"{name} holds no scores")
    if not all(np.isfinite(a).all() for a in arrays):
        raise ValueError(f"{name} holds a non-finite score")
    return arrays


def _resample_indices(sizes: Sequence[int], reps: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Per stratum, (reps, n) indices drawn with replacement within that stratum."""
    return [rng.integers(0, n, size=(reps, n)) for n in sizes]


def _interval(point: float, replicates: np.ndarray, level: float) -> Estimate:
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must lie in (0, 1), got {level}")
    tail = 100.0 * (1.0 - level) / 2.0
    low, high = np.percentile(replicates, [tail, 100.0 - tail])
    return Estimate(float(point), float(low), float(high))


def stratified_bootstrap_ci(
    strata: Strata,
    statistic: Callable[..., np.ndarray | float] = iqm,
    *,
    reps: int = DEFAULT_REPS,
    level: float = DEFAULT_LEVEL,
    seed: int = 0,
) -> Estimate:
    """``statistic`` of all scores with a stratified-bootstrap percentile interval.

    Each replicate resamples, with replacement, the seeds *within* every task, keeping the number of
    runs per task, and recomputes the statistic over the pooled scores.

    Args:
        strata: One 1-D array of scores per task (see the module docstring).
        statistic: ``statistic(values, axis=None | 1)``: a float of a 1-D array, one value per row of
            a 2-D array (default :func:`iqm`; ``np.mean`` works too).
        reps: Bootstrap replicates.
        level: Confidence level.
        seed: Seed of the resampling.
    """
    arrays = _strata(strata)
    rng = np.random.default_rng(seed)
    picks = _resample_indices([len(a) for a in arrays], int(reps), rng)
    pooled = np.concatenate([a[idx] for a, idx in zip(arrays, picks, strict=True)], axis=1)
    point = float(statistic(np.concatenate(arrays), axis=None))
    return _interval(point, np.asarray(statistic(pooled, axis=1)), level)


def _paired(x: Strata, y: Strata) -> tuple[list[np.ndarray], list[np.ndarray]]:
    xs = [np.asarray(s, dtype=np.float64).ravel() for s in x]
    ys = [np.asarray(s, dtype=np.float64).ravel() for s in y]
    if len(xs) != len(ys) or any(a.shape != b.shape for a, b in zip(xs, ys, strict=True)):
        raise ValueError("paired strata need the same tasks with the same number of seeds each")
    keep = [i for i, a in enumerate(xs) if a.size]
    return _strata([xs[i] for i in keep], "x"), _strata([ys[i] for i in keep], "y")


def _win_share(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Mann-Whitney ``P(x > y) + P(x = y) / 2`` over all run pairs, along the last axis of (..., n)."""
    diff = x[..., :, None] - y[..., None, :]
    return ((diff > 0) + 0.5 * (diff == 0)).mean(axis=(-2, -1))


def probability_of_improvement(
    x: Strata, y: Strata, *, reps: int = DEFAULT_REPS, level: float = DEFAULT_LEVEL, seed: int = 0
) -> Estimate:
    """``P(X > Y)``: per task the share of run pairs where X beats Y (ties a half), averaged over tasks.

    The bootstrap resamples the paired (task, seed) cells within each task, keeping the pairing
    (rliable resamples X and Y independently; with paired cells, pairing is the tighter and correct
    design). 1 means X beats Y in every pair of runs of every task, 0.5 no difference.

    Args:
        x, y: Paired strata (same tasks, same seeds): scores of algos X and Y.
        reps, level, seed: As :func:`stratified_bootstrap_ci`.
    """
    xs, ys = _paired(x, y)
    point = float(np.mean([_win_share(a, b) for a, b in zip(xs, ys, strict=True)]))
    rng = np.random.default_rng(seed)
    picks = _resample_indices([len(a) for a in xs], int(reps), rng)
    per_task = [_win_share(a[idx], b[idx]) for a, b, idx in zip(xs, ys, picks, strict=True)]
    return _interval(point, np.mean(per_task, axis=0), level)


def paired_difference_ci(
    x: Strata, y: Strata, *, reps: int = DEFAULT_REPS, level: float = DEFAULT_LEVEL, seed: int = 0
) -> Estimate:
    """Mean of ``x - y`` over the paired cells, with a stratified-bootstrap interval of that mean.

    Args:
        x, y: Paired strata (same tasks, same seeds).
        reps, level, seed: As :func:`stratified_bootstrap_ci`.
    """
    xs, ys = _paired(x, y)
    return stratified_bootstrap_ci(
        [a - b for a, b in zip(xs, ys, strict=True)], np.mean, reps=reps, level=level, seed=seed
    )


def mean_ci(
    strata: Strata, *, reps: int = DEFAULT_REPS, level: float = DEFAULT_LEVEL, seed: int = 0
) -> Estimate:
    """The mean of all scores with a stratified-bootstrap interval."""
    return stratified_bootstrap_ci(strata, np.mean, reps=reps, level=level, seed=seed)
