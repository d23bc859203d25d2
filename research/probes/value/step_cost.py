"""Probe: env step cost of ``reward_weights={"value": 1}`` (and ``value_unseen``) vs the default reward.

Vector env, ``num_envs=8``, ``latent_dim=8``, one torch thread, embedded ``wdbc`` (and any dataset
named on the command line); the median over repeats of the time per ``step`` call.

    python research/probes/value/step_cost.py [wdbc 6_cardio]
"""

from __future__ import annotations

import statistics
import sys
import time

import gymnasium as gym
import numpy as np
import torch

import hydra_env  # noqa: F401

torch.set_num_threads(1)
WEIGHTS = {
    "default": None,
    "value": {"value": 1.0},
    "value_unseen": {"value_unseen": 1.0},
    "default+value": {"miss": 1.0, "novelty": 1.0, "entropy": 0.5, "value": 1.0},
}


def step_seconds(dataset: str, weights: dict | None, steps: int = 200, repeats: int = 5) -> float:
    kwargs = {"dataset": dataset, "latent_dim": 8, "data_dir": "../shared/datasets/adbench/Classical"}
    if weights is not None:
        kwargs["reward_weights"] = weights
    env = gym.make_vec("SwiftHydra-v0", num_envs=8, vectorization_mode="vector_entry_point", **kwargs)
    env.reset(seed=0)
    actions = np.random.default_rng(0).uniform(-1, 1, (steps, 8, 8)).astype(np.float32)
    for a in actions[:20]:
        env.step(a)
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        for a in actions:
            env.step(a)
        times.append((time.perf_counter() - started) / steps)
    env.close()
    return statistics.median(times)


if __name__ == "__main__":
    for dataset in sys.argv[1:] or ["wdbc"]:
        base = None
        for name, weights in WEIGHTS.items():
            t = step_seconds(dataset, weights)
            base = base or t
            print(f"{dataset:10s} {name:14s} {t * 1e6:8.0f} us/step  ratio to default {t / base:.2f}")
