"""Can an SB3 agent out-earn uniform actions on a *stationary* value-reward env, given 20,000 steps?

    python -m research.probes.value.rl_static ALGO [ALGO ...]     # rows in rl_static/ALGO.jsonl
    python -m research.probes.value.rl_static --table > research/probes/value/rl_static/table.md

The leaderboards ask the agents to learn in 128 (`tiny`) or 3,072 (`small`) steps while the loop moves
the ground under them (each round retrains the VAE and the kept rows join the value proxies). Here the
env is ``gym.make("SwiftHydra-v0")`` alone: value reward (``reward_weights={"value": 1}``), the
leaderboard's latent size and episode length (``tiny``: 4 and 8), no rounds, so the reward is a fixed
function of the latent walk. Each agent trains 20,000 steps (the packaged yaml's ``n_timesteps``, with
its hyperparameters and the package's buffer defaults at that length), then both it and uniform random
actions are rolled out for 2,048 steps from resets seeded alike; the row records the mean reward of
each (the agent's with its mean action and with sampled actions). One process, one torch thread;
resumable by (dataset, seed).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch

import hydra_env  # noqa: F401  (registers SwiftHydra-v0)
from agents.config import convert_hyperparams, default_hyperparams_file, read_hyperparams
from agents.registry import default_algo_kwargs, get_algo_class

DD = "/work/shared/datasets/adbench/Classical"
OUT = Path(__file__).resolve().parent / "rl_static"
DATASETS = ("6_cardio", "39_vertebral", "4_breastw", "15_Hepatitis")
SEEDS = (1, 2, 3)
TRAIN_STEPS = 20_000
EVAL_STEPS = 2_048
LATENT_DIM, EPISODE_LENGTH = 4, 8  # the `tiny` budget's, as on the leaderboards


def make_env(dataset: str, seed: int) -> gym.Env:
    return gym.make(
        "SwiftHydra-v0", dataset=dataset, data_dir=DD, la=0.1, seed=seed, reward_weights={"value": 1.0},
        latent_dim=LATENT_DIM, episode_length=EPISODE_LENGTH,
    )  # fmt: skip


def rollout(env: gym.Env, act, seed: int) -> float:
    """Mean reward of ``EVAL_STEPS`` steps, episodes reset with seeds ``seed, seed + 1, ...``."""
    rewards, episode = [], 0
    obs, _ = env.reset(seed=seed)
    while len(rewards) < EVAL_STEPS:
        obs, reward, terminated, truncated, _ = env.step(act(obs))
        rewards.append(reward)
        if terminated or truncated:
            episode += 1
            obs, _ = env.reset(seed=seed + episode)
    return float(np.mean(rewards))


def train_agent(name: str, env: gym.Env, seed: int):
    kwargs, _ = convert_hyperparams(read_hyperparams(default_hyperparams_file(name)), LATENT_DIM)
    kwargs = default_algo_kwargs(name, TRAIN_STEPS) | kwargs
    model = get_algo_class(name)("MlpPolicy", env, seed=seed, device="cpu", verbose=0, **kwargs)
    return model.learn(TRAIN_STEPS)


def evaluate(env: gym.Env, model, seed: int) -> dict[str, float]:
    """Mean evaluation reward of uniform actions and of the agent (mean and sampled actions), same resets."""
    env.action_space.seed(seed)
    return {
        "random": rollout(env, lambda _obs: env.action_space.sample(), seed),
        "mean_action": rollout(env, lambda obs: model.predict(obs, deterministic=True)[0], seed),
        "sampled": rollout(env, lambda obs: model.predict(obs, deterministic=False)[0], seed),
    }


def run(name: str) -> None:
    OUT.mkdir(exist_ok=True)
    path = OUT / f"{name}.jsonl"
    done = (
        {(r["dataset"], r["seed"]) for r in map(json.loads, path.read_text().splitlines())}
        if path.exists()
        else set()
    )
    for dataset in DATASETS:
        for seed in SEEDS:
            if (dataset, seed) in done:
                continue
            env = make_env(dataset, seed)
            start = time.perf_counter()
            model = train_agent(name, env, seed)
            train_s = time.perf_counter() - start
            row = {
                "algo": name, "dataset": dataset, "seed": seed, "train_steps": TRAIN_STEPS, "train_seconds": train_s,
                **evaluate(env, model, 10_000 + seed),
            }  # fmt: skip
            with path.open("a") as fh:
                fh.write(json.dumps(row) + "\n")
            print(json.dumps(row), flush=True)


def table() -> None:
    print(
        "Mean value reward of 2,048 evaluation steps: each agent after 20,000 training steps on the stationary"
    )
    print("env, minus uniform random actions on the same resets (x100); mean over seeds, then datasets.\n")
    print(
        "| algo | cells | mean action - random | sampled - random | random | per dataset (mean action - random) |"
    )
    print("| --- | ---: | ---: | ---: | ---: | --- |")
    for path in sorted(OUT.glob("*.jsonl")):
        rows = [json.loads(line) for line in path.read_text().splitlines()]
        per = {}
        for r in rows:
            per.setdefault(r["dataset"], []).append(r)

        def mean(key: str, subtract: str | None = None, per: dict = per) -> float:
            sets = [np.mean([r[key] - (r[subtract] if subtract else 0) for r in rs]) for rs in per.values()]
            return 100 * float(np.mean(sets))

        by_set = ", ".join(
            f"{d.split('_', 1)[1]} {100 * np.mean([r['mean_action'] - r['random'] for r in rs]):+.1f}"
            for d, rs in per.items()
        )
        print(
            f"| {path.stem} | {len(rows)} | {mean('mean_action', 'random'):+.2f} | {mean('sampled', 'random'):+.2f}"
            f" | {mean('random'):.1f} | {by_set} |"
        )


if __name__ == "__main__":
    torch.set_num_threads(1)
    if sys.argv[1:] == ["--table"]:
        table()
    else:
        for algo in sys.argv[1:]:
            run(algo)
