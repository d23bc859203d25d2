"""The algorithm registry: every name builds a working policy behind one interface."""

from __future__ import annotations

import numpy as np
import pytest

from agents.config import get_budget
from agents.generators import GENERATORS
from agents.loop import build_policy, make_env, make_loop_detector, make_vae, resolve_algo_kwargs
from agents.registry import (
    ALGO_CHOICES,
    OFF_POLICY,
    SB3Policy,
    check_policy_kwargs,
    default_algo_kwargs,
    get_algo_class,
    load_policy,
    make_policy,
)

BUDGET = get_budget("tiny")


@pytest.fixture(scope="module")
def tiny_env():
    from hydra_env import datasets

    split = datasets.adbench_split(*datasets.load("wdbc"), la=0.1, seed=1)
    vae = make_vae(BUDGET.replace(vae_epochs=5), 0).fit(split.X_train, split.y_train)
    detector = make_loop_detector(BUDGET.replace(detector_epochs=1), 0).fit(split.X_train, split.y_train)
    return make_env(split.X_train, split.y_train, vae, detector, BUDGET, seed=0), split.X_train.shape[1]


def test_choices_cover_the_issue():
    assert set(ALGO_CHOICES) == {
        *("ppo", "sac", "td3", "a2c", "ddpg", "tqc", "random", "gradient"),
        *("oversample", "smote", "mixup", "nng_mix", "exposure"),
    }


def test_unknown_algo_lists_the_choices(tiny_env):
    env, _ = tiny_env
    with pytest.raises(ValueError, match=r"unknown algo 'dqn'.*'ppo'.*'gradient'"):
        make_policy("dqn", env, 0)
    with pytest.raises(ValueError, match="not an SB3 algorithm"):
        get_algo_class("random")


def test_sb3_classes():
    from sb3_contrib import TQC
    from stable_baselines3 import PPO, SAC

    assert get_algo_class("ppo") is PPO and get_algo_class("SAC") is SAC and get_algo_class("tqc") is TQC


def test_bad_kwargs_name_the_accepted_ones():
    with pytest.raises(ValueError, match=r"ppo does not accept \['learning_rat'\].*learning_rate"):
        check_policy_kwargs("ppo", {"learning_rat": 1e-3})
    with pytest.raises(ValueError, match="gradient does not accept"):
        check_policy_kwargs("gradient", {"n_steps": 3})
    check_policy_kwargs("sac", {"learning_rate": 1e-3, "buffer_size": 100})


def test_off_policy_defaults_fit_tiny_budgets():
    for name in OFF_POLICY:
        kwargs = default_algo_kwargs(name, steps_per_round=64)
        assert kwargs["learning_starts"] < 64 and kwargs["buffer_size"] <= 2_000
    ppo = default_algo_kwargs("ppo", steps_per_round=64)
    assert ppo["n_steps"] <= 64 and ppo["batch_size"] <= ppo["n_steps"]


@pytest.mark.parametrize("name", ALGO_CHOICES)
def test_every_policy_runs_learn_then_generates_valid_samples(tiny_env, name):
    """``learn`` runs (and SB3 agents update their weights in it); ``generate`` returns valid samples.

    Whether the policy gets *better* is not checked here: 32 steps are too few to measure it.
    """
    import torch

    env, n_features = tiny_env
    policy = build_policy(name, env, 0, resolve_algo_kwargs(name, BUDGET.replace(steps_per_round=32), None))
    policy.reseed(3)
    weights = (
        [p.detach().clone() for p in policy.model.policy.parameters()]
        if isinstance(policy, SB3Policy)
        else []
    )
    policy.learn(32)
    if weights:
        after = list(policy.model.policy.parameters())
        assert any(not torch.equal(a, b) for a, b in zip(weights, after, strict=True)), (
            "learn changed no weight"
        )
    X, rewards = policy.generate(20, deterministic=False)
    assert X.shape == (20, n_features) and X.dtype == np.float32
    assert rewards.shape == (20,) and np.isfinite(rewards).all()
    assert rewards.min() >= 0.0  # the miss term alone lies in [0, 1]
    if name not in GENERATORS:  # NNG-Mix's noise and outlier exposure may leave [0, 1]
        # Decoded rows live in the VAE's sigmoid output range.
        assert X.min() >= 0.0 and X.max() <= 1.0


@pytest.mark.parametrize("name", ["ppo", "sac", "gradient"])
def test_save_load_round_trip(tiny_env, tmp_path, name):
    env, _ = tiny_env
    kwargs = resolve_algo_kwargs(name, BUDGET.replace(steps_per_round=32), None)
    policy = build_policy(name, env, 0, kwargs)
    policy.learn(32)
    policy.save(tmp_path / "agent")
    policy.reseed(5)
    expected, _ = policy.generate(12, deterministic=False)

    agent_env = env if name == "gradient" else policy.model.get_env()
    extra = kwargs if name == "gradient" else {}
    restored = load_policy(name, tmp_path / "agent", agent_env, 0, **extra)
    assert isinstance(restored, SB3Policy) == (name != "gradient")
    restored.reseed(5)
    got, _ = restored.generate(12, deterministic=False)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6)
    if name == "sac":
        assert (tmp_path / "agent" / "replay_buffer.pkl").is_file()
        assert restored.model.replay_buffer.size() == policy.model.replay_buffer.size() > 0
