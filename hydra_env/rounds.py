"""The one round step of Swift Hydra: select -> augment -> refit.

Whoever drives the generation (the closed loop in :mod:`agents.loop`, :class:`DetectorUpdateWrapper`,
the SB3 :class:`agents.callbacks.DetectorUpdateCallback`, the CleanRL-style reference script) hands
its candidates to a :class:`RoundStep`, which applies the same rules everywhere:

0. **snap**: discrete features of each candidate move to the nearest value the base rows take
   (:class:`hydra_env.support.FeatureSupport`), so a kept row is not "synthetic" by construction.
1. **select**: drop exact duplicates (rounded to 1e-6) and rows already kept, then pick ``top_l``
   greedily by the env's reward, with the entropy term counting earlier picks (so kept rows spread;
   see :meth:`hydra_env.rewards.Reward.select`). Candidates whose ``novelty`` rank is below
   ``min_novelty`` are not kept: a row more typical of the normal data than that is evasion by
   being normal, and would be label noise.
2. **augment**: the picks join the kept set (label 1).
3. **refit**: the detector is refitted on the base rows plus every kept row (``warm_start``), the
   VAE (optional) likewise for ``vae_epochs`` epochs, and ``publish`` tells the envs (new detector
   version, kept rows join the entropy set, walks restart from the updated VAE's anomaly latents).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from hydra_env.core import HydraCore
from hydra_env.support import FeatureSupport


def stack_training_set(X: np.ndarray, y: np.ndarray, kept: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``X`` plus ``kept`` rows, labels ``y`` plus ones: the augmented training set."""
    if len(kept) == 0:
        return np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.int64)
    X_aug = np.concatenate([np.asarray(X, dtype=np.float64), np.asarray(kept, dtype=np.float64)])
    y_aug = np.concatenate([np.asarray(y, dtype=np.int64), np.ones(len(kept), dtype=np.int64)])
    return X_aug, y_aug


def distinct(samples: np.ndarray, exclude: np.ndarray | None = None) -> np.ndarray:
    """Indices of the first occurrence of each distinct row (rounded to 1e-6), minus rows in ``exclude``."""
    if len(samples) == 0:
        return np.zeros(0, dtype=np.int64)
    rounded = np.round(np.asarray(samples, dtype=np.float64), 6)
    _, first = np.unique(rounded, axis=0, return_index=True)
    first = np.sort(first)
    if exclude is not None and len(exclude):
        seen = {row.tobytes() for row in np.round(np.asarray(exclude, dtype=np.float64), 6)}
        first = np.asarray([i for i in first if rounded[i].tobytes() not in seen], dtype=np.int64)
    return first


class RoundStep:
    """Select -> augment -> refit, with the same rules for every driver (see the module docstring).

    Args:
        detector: The in-loop detector (refitted in place).
        X_base: Training rows the detector always sees (the env's training split).
        y_base: Their labels (1 = labeled anomaly).
        top_l: Candidates kept per round at most.
        core: The env's :class:`HydraCore` (same process): candidates are re-scored with its reward for
            the greedy selection, and the refit is published to it. ``None`` (e.g. envs in
            subprocesses): plain top-l by the given rewards, and ``publish`` must spread the news.
        warm_start: Refit the detector from its current weights.
        vae: A VAE to refit on the augmented set as well (``None``: leave it).
        vae_epochs: Epochs of that VAE refit.
        min_novelty: Candidates with a lower ``novelty`` rank are never kept (needs ``core`` and an
            active ``novelty`` term; 0 keeps everything).
        publish: Called as ``publish(step, kept)`` after each refit (extra hook; runs after the core's).
        snap_to_support: Snap discrete features of candidates to values of ``X_base`` (rule 0).
    """

    def __init__(
        self,
        detector: Any,
        X_base: np.ndarray,
        y_base: np.ndarray,
        *,
        top_l: int,
        core: HydraCore | None = None,
        warm_start: bool = True,
        vae: Any = None,
        vae_epochs: int = 0,
        min_novelty: float = 0.0,
        publish: Callable[[RoundStep, np.ndarray], None] | None = None,
        snap_to_support: bool = True,
    ) -> None:
        if int(top_l) < 0:
            raise ValueError(f"top_l must be >= 0, got {top_l}")
        self.detector = detector
        self.X_base, self.y_base = np.asarray(X_base), np.asarray(y_base)
        self.top_l, self.core, self.warm_start = int(top_l), core, bool(warm_start)
        self.vae, self.vae_epochs, self.min_novelty = vae, int(vae_epochs), float(min_novelty)
        self.publish = publish
        self.support = FeatureSupport().fit(self.X_base) if snap_to_support and len(self.X_base) else None
        self.round = 0
        d = self.X_base.shape[1]
        self.kept_X = np.zeros((0, d), dtype=np.float32)
        self.kept_reward = np.zeros(0)
        self.kept_round = np.zeros(0, dtype=np.int64)

    def restore(
        self, kept_X: np.ndarray, kept_reward: np.ndarray, kept_round: np.ndarray, round_index: int
    ) -> None:
        """Continues from a checkpoint: the kept set so far and the last completed round."""
        self.kept_X = np.asarray(kept_X, dtype=np.float32).reshape(-1, self.X_base.shape[1])
        self.kept_reward, self.kept_round = np.asarray(kept_reward), np.asarray(kept_round, dtype=np.int64)
        self.round = int(round_index)

    def training_set(self) -> tuple[np.ndarray, np.ndarray]:
        """The base rows plus every kept synthetic anomaly (label 1)."""
        return stack_training_set(self.X_base, self.y_base, self.kept_X)

    def select(self, candidates: np.ndarray, rewards: np.ndarray) -> np.ndarray:
        """Indices of the candidates to keep, best first (rule 1 of the module docstring)."""
        candidates = np.asarray(candidates, dtype=np.float32)
        pool = distinct(candidates, exclude=self.kept_X)
        if len(pool) == 0 or self.top_l == 0:
            return pool[:0]
        if self.core is None:
            order = np.argsort(-np.asarray(rewards, dtype=np.float64)[pool], kind="stable")
            return pool[order[: self.top_l]]
        reward, values = self.core.evaluate(candidates[pool])
        if self.min_novelty > 0.0 and "novelty" in values:
            novel = values["novelty"] >= self.min_novelty
            pool, reward = pool[novel], reward[novel]
            values = {name: value[novel] for name, value in values.items()}
        picked = self.core.reward.select(candidates[pool], reward, values, self.top_l)
        return pool[picked]

    def __call__(self, candidates: np.ndarray, rewards: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One round: select among ``candidates`` (n, d) with ``rewards`` (n,), augment, refit.

        Returns:
            The newly kept rows and their rewards.
        """
        candidates = np.asarray(candidates, dtype=np.float32)
        if self.support is not None:
            candidates = self.support.snap(candidates)
        rewards = np.asarray(rewards, dtype=np.float64)
        chosen = self.select(candidates, rewards)
        kept, kept_rewards = candidates[chosen], rewards[chosen]
        self.round += 1
        self.kept_X = np.concatenate([self.kept_X, kept])
        self.kept_reward = np.concatenate([self.kept_reward, kept_rewards])
        self.kept_round = np.concatenate([self.kept_round, np.full(len(kept), self.round, dtype=np.int64)])
        self.refit(kept)
        return kept, kept_rewards

    def refit(self, kept: np.ndarray) -> None:
        """Rule 3: refit the detector (and VAE) on the augmented set, then publish."""
        X_aug, y_aug = self.training_set()
        self.detector.fit(X_aug, y_aug, warm_start=self.warm_start)
        if self.vae is not None and self.vae_epochs > 0:
            epochs, self.vae.epochs = self.vae.epochs, self.vae_epochs
            try:
                self.vae.fit(X_aug, y_aug, warm_start=True)
            finally:
                self.vae.epochs = epochs
        if self.core is not None:
            self.core.set_detector_state(None, self.round)
            self.core.add_anomalies(kept)
            self.core.refresh_start_latents()
        if self.publish is not None:
            self.publish(self, kept)
