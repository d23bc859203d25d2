"""Closing the loop inside Gymnasium: keep the best synthetic anomalies and retrain the detector.

:class:`DetectorUpdateWrapper` does it for one env in one process. Under Stable-Baselines3 vector
envs (e.g. ``SubprocVecEnv``) use :class:`agents.callbacks.DetectorUpdateCallback`, which reuses
:class:`TopLBuffer` and :func:`retrain_detector` from here and broadcasts the new detector.

Both hand the best samples generated since the last update to a :class:`hydra_env.rounds.RoundStep`,
the one round step that the closed loop uses too: select ``top_l`` (distinct, spread by the entropy
term), keep them (they accumulate over updates), retrain the detector on the training split plus all
kept samples with label 1 (``warm_start`` by default), and bump the detector version (which also
advances the entropy-decay round and adds the kept samples to the entropy anomaly set).
"""

from __future__ import annotations

import os
from typing import Any

import gymnasium as gym
import numpy as np

from hydra_env.rounds import RoundStep
from hydra_env.threads import on_one_thread

CANDIDATE_POOL = 4
"""The update wrapper and callback hand the best ``CANDIDATE_POOL * top_l`` samples to the round step."""


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
        self.update_every = int(update_every)
        base = env.unwrapped
        self.round_step = RoundStep(
            base.detector, base.split.X_train, base.split.y_train,
            top_l=top_l, core=base.core, warm_start=warm_start,
        )  # fmt: skip
        self.round_step.round = int(base.detector_version)
        # A pool a few times top_l wide, so the selection can trade reward for spread.
        self.buffer = TopLBuffer(CANDIDATE_POOL * int(top_l))
        self._steps = 0

    @property
    def version(self) -> int:
        """The detector version (number of updates so far)."""
        return self.round_step.round

    @property
    def kept_samples(self) -> np.ndarray:
        """All kept synthetic anomalies so far, (n, d) float32 in the scaled feature space."""
        return self.round_step.kept_X

    def export_kept(self, path: str | os.PathLike) -> None:
        """Saves kept samples, their rewards and the round they were kept in to an ``.npz`` file."""
        step = self.round_step
        save_kept(path, step.kept_X, step.kept_reward, step.kept_round - 1)

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
        if len(samples):
            self.round_step(samples, rewards)
        return self.version
