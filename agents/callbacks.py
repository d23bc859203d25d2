"""Stable-Baselines3 callback that closes the Swift Hydra loop across vector envs.

:class:`DetectorUpdateCallback` is the SB3 counterpart of :class:`hydra_env.DetectorUpdateWrapper`
(the same :class:`hydra_env.rounds.RoundStep`), built for envs that live in other processes
(``SubprocVecEnv``): it reads ``info["sample"]`` and the rewards in the main process, runs the round
step on a main-process copy of the detector (plain top-l by reward: the reward's terms live in the
sub-processes), then broadcasts it with
``vec_env.env_method("set_detector_state", state, version)`` so every copy scores with the new
weights, and ``env_method("add_anomalies", kept)`` so every copy's entropy set grows alike.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
from stable_baselines3.common.callbacks import BaseCallback

from hydra_env.core import detector_state
from hydra_env.rounds import RoundStep
from hydra_env.wrappers import TopLBuffer, save_kept


class DetectorUpdateCallback(BaseCallback):
    """Keeps the top-l generated anomalies and retrains/broadcasts the detector every ``update_every`` steps.

    Args:
        top_l: Samples kept per update (best rewards since the previous update).
        update_every: Environment steps (summed over sub-envs) between updates.
        warm_start: Retrain from the current weights.
        detector: Main-process detector to retrain; default: fetched from sub-env 0 at training start.
        X_train: Training features; default: sub-env 0's split.
        y_train: Training labels; default: sub-env 0's split.
        verbose: SB3 verbosity.

    Attributes:
        version: Detector version last broadcast.
        kept_samples: All kept synthetic anomalies, (n, d).
    """

    def __init__(
        self,
        top_l: int = 64,
        update_every: int = 2048,
        warm_start: bool = True,
        detector: Any = None,
        X_train: np.ndarray | None = None,
        y_train: np.ndarray | None = None,
        verbose: int = 0,
    ) -> None:
        super().__init__(verbose)
        if int(update_every) < 1:
            raise ValueError(f"update_every must be >= 1, got {update_every}")
        self.buffer = TopLBuffer(top_l)
        self.top_l = int(top_l)
        self.update_every = int(update_every)
        self.warm_start = bool(warm_start)
        self.detector = detector
        self.X_train = X_train
        self.y_train = y_train
        self.version = 0
        self._last_update = 0
        self.round_step: RoundStep | None = None

    def _init_callback(self) -> None:
        env = self.training_env
        if self.detector is None:
            self.detector = env.get_attr("detector", [0])[0]
        if self.X_train is None or self.y_train is None:
            split = env.get_attr("split", [0])[0]
            self.X_train, self.y_train = split.X_train, split.y_train
        self.version = int(env.get_attr("detector_version", [0])[0])
        self._last_update = self.num_timesteps
        self.round_step = RoundStep(
            self.detector, self.X_train, self.y_train,
            top_l=self.top_l, warm_start=self.warm_start, publish=self._broadcast,
        )  # fmt: skip
        self.round_step.round = self.version

    @property
    def kept_samples(self) -> np.ndarray:
        """All kept synthetic anomalies so far."""
        if self.round_step is None:
            return np.zeros((0, 0 if self.X_train is None else self.X_train.shape[1]), dtype=np.float32)
        return self.round_step.kept_X

    def export_kept(self, path: str | os.PathLike) -> None:
        """Saves kept samples, rewards and rounds to ``.npz`` (keys ``X``, ``reward``, ``round``)."""
        step = self.round_step
        if step is None:
            save_kept(path, self.kept_samples, np.zeros(0), np.zeros(0, dtype=np.int64))
        else:
            save_kept(path, step.kept_X, step.kept_reward, step.kept_round - 1)

    def _on_step(self) -> bool:
        infos = self.locals["infos"]
        self.buffer.add(np.stack([info["sample"] for info in infos]), np.asarray(self.locals["rewards"]))
        if self.num_timesteps - self._last_update >= self.update_every:
            self._last_update = self.num_timesteps
            self.update_detector()
        return True

    def update_detector(self) -> int:
        """Retrains on train + kept samples and broadcasts the detector; returns the new version."""
        samples, rewards = self.buffer.pop()
        if len(samples) and self.round_step is not None:
            self.round_step(samples, rewards)
        return self.version

    def _broadcast(self, step: RoundStep, kept: np.ndarray) -> None:
        self.version = step.round
        self.training_env.env_method("set_detector_state", detector_state(self.detector), self.version)
        self.training_env.env_method("add_anomalies", kept)
        if self.verbose:
            print(f"detector v{self.version}: retrained on {len(step.kept_X)} kept synthetic anomalies")
        self.logger.record("hydra/detector_version", self.version)
        self.logger.record("hydra/kept_samples", len(step.kept_X))
