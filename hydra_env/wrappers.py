"""Closing the loop inside Gymnasium: keep the best synthetic anomalies and retrain the detector.

:class:`DetectorUpdateWrapper` does it for one env in one process. Under Stable-Baselines3 vector
envs (e.g. ``SubprocVecEnv``) use :class:`agents.callbacks.DetectorUpdateCallback`, which reuses
:class:`TopLBuffer` and :func:`retrain_detector` from here and broadcasts the new detector.

Selection rule (both): samples generated since the last update are ranked by reward and the best
``top_l`` are kept; kept samples accumulate over updates (as the paper grows the augmented training
set round after round). Each update retrains the detector on the original training split plus all
kept samples with label 1 (``warm_start`` by default), bumps the detector version (which also
advances the entropy-decay round), and adds the newly kept samples to the entropy anomaly set.
"""

from __future__ import annotations

import os
from typing import Any

import gymnasium as gym
import numpy as np

from hydra_env.threads import on_one_thread


class TopLBuffer:
    """Keeps the ``top_l`` highest-reward samples seen since the last :meth:`pop` (bounded memory).

    Args:
        top_l: How many samples to keep.
    """

    def __init__(self, top_l: int) -> None:
        if int(top_l) < 1:
            raise ValueError(f"top_l must be >= 1, got {top_l}")
        self.top_l = int(top_l)
        self.samples: np.ndarray | None = None
        self.rewards = np.zeros(0)
        self._pending: list[tuple[np.ndarray, np.ndarray]] = []
        self._pending_rows = 0

    def add(self, samples: np.ndarray, rewards: np.ndarray) -> None:
        """Offers a batch of samples (n, d) with their rewards (n,)."""
        samples = np.asarray(samples, dtype=np.float32).reshape(len(np.atleast_1d(rewards)), -1)
        self._pending.append((samples, np.asarray(rewards, dtype=np.float64).reshape(-1)))
        self._pending_rows += len(samples)
        if self._pending_rows >= 4 * self.top_l:  # merge in chunks: amortised, not per step
            self._merge()

    def _merge(self) -> None:
        if not self._pending:
            return
        parts = ([] if self.samples is None else [(self.samples, self.rewards)]) + self._pending
        samples = np.concatenate([s for s, _ in parts])
        rewards = np.concatenate([r for _, r in parts])
        self._pending, self._pending_rows = [], 0
        if len(rewards) > self.top_l:
            best = np.argpartition(-rewards, self.top_l - 1)[: self.top_l]
            samples, rewards = samples[best], rewards[best]
        order = np.argsort(-rewards, kind="stable")
        self.samples, self.rewards = samples[order], rewards[order]

    def __len__(self) -> int:
        return (0 if self.samples is None else len(self.samples)) + self._pending_rows

    def pop(self) -> tuple[np.ndarray, np.ndarray]:
        """Returns the kept ``(samples, rewards)``, best first, and empties the buffer."""
        self._merge()
        samples, rewards = self.samples, self.rewards
        self.samples, self.rewards = None, np.zeros(0)
        if samples is None:
            return np.zeros((0, 0), dtype=np.float32), np.zeros(0)
        return samples, rewards


def retrain_detector(
    detector: Any, X_train: np.ndarray, y_train: np.ndarray, kept: np.ndarray, *, warm_start: bool = True
) -> Any:
    """Fits ``detector`` on the training split plus ``kept`` synthetic anomalies (label 1)."""
    X = np.concatenate([np.asarray(X_train, dtype=np.float64), np.asarray(kept, dtype=np.float64)])
    y = np.concatenate([np.asarray(y_train, dtype=np.int64), np.ones(len(kept), dtype=np.int64)])
    return detector.fit(X, y, warm_start=warm_start)


def save_kept(path: str | os.PathLike, samples: np.ndarray, rewards: np.ndarray, rounds: np.ndarray) -> None:
    """Writes kept samples to ``.npz`` (keys ``X``, ``reward``, ``round``) atomically."""
    path = os.fspath(path)
    if not path.endswith(".npz"):
        raise ValueError(f"export path must end with .npz, got {path!r}")
    tmp = path[:-4] + ".tmp.npz"
    np.savez(tmp, X=samples, reward=rewards, round=rounds)
    os.replace(tmp, path)


class DetectorUpdateWrapper(gym.Wrapper):
    """Collects generated samples, keeps the top-l, and periodically retrains the env's detector.

    Args:
        env: A ``SwiftHydra-v0`` env (possibly wrapped).
        top_l: Samples kept per update (best rewards since the previous update).
        update_every: Env steps between detector updates.
        warm_start: Retrain from the current weights (``fit(..., warm_start=True)``).

    ``info["detector_version"]`` reports the version in use; ``kept_samples`` / :meth:`export_kept`
    expose everything kept so far.
    """

    def __init__(
        self, env: gym.Env, top_l: int = 64, update_every: int = 1024, warm_start: bool = True
    ) -> None:
        super().__init__(env)
        if int(update_every) < 1:
            raise ValueError(f"update_every must be >= 1, got {update_every}")
        for name in ("set_detector_state", "add_anomalies", "split", "detector"):
            if not hasattr(env.unwrapped, name):
                raise TypeError(
                    f"DetectorUpdateWrapper needs a SwiftHydra env; {env.unwrapped!r} lacks {name!r}"
                )
        self.top_l = int(top_l)
        self.update_every = int(update_every)
        self.warm_start = bool(warm_start)
        self.buffer = TopLBuffer(top_l)
        self.version = int(env.unwrapped.detector_version)
        self._steps = 0
        self._kept: list[np.ndarray] = []
        self._kept_rewards: list[np.ndarray] = []
        self._kept_rounds: list[np.ndarray] = []

    @property
    def kept_samples(self) -> np.ndarray:
        """All kept synthetic anomalies so far, (n, d) float32 in the scaled feature space."""
        if not self._kept:
            return np.zeros((0, self.env.unwrapped.split.X_train.shape[1]), dtype=np.float32)
        return np.concatenate(self._kept)

    def export_kept(self, path: str | os.PathLike) -> None:
        """Saves kept samples, their rewards and the round they were kept in to an ``.npz`` file."""
        rewards = np.concatenate(self._kept_rewards) if self._kept_rewards else np.zeros(0)
        rounds = np.concatenate(self._kept_rounds) if self._kept_rounds else np.zeros(0, dtype=np.int64)
        save_kept(path, self.kept_samples, rewards, rounds)

    def step(self, action: Any):
        obs, reward, terminated, truncated, info = self.env.step(action)
        self.buffer.add(info["sample"][None], np.array([reward]))
        self._steps += 1
        if self._steps % self.update_every == 0:
            self.update_detector()
            info["detector_version"] = self.version
        return obs, reward, terminated, truncated, info

    @on_one_thread
    def update_detector(self) -> int:
        """Keeps the buffer's best samples, retrains the detector, bumps the version; returns it."""
        samples, rewards = self.buffer.pop()
        if len(samples) == 0:
            return self.version
        base = self.env.unwrapped
        self._kept.append(samples)
        self._kept_rewards.append(rewards)
        self._kept_rounds.append(np.full(len(samples), self.version, dtype=np.int64))
        retrain_detector(
            base.detector,
            base.split.X_train,
            base.split.y_train,
            self.kept_samples,
            warm_start=self.warm_start,
        )
        self.version += 1
        base.set_detector_state(None, self.version)  # the detector was updated in place
        base.add_anomalies(samples)
        return self.version
