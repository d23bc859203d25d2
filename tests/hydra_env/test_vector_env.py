"""SwiftHydraVectorEnv: make_vec entry point, agreement with the single env, SAME_STEP autoreset."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode

import hydra_env  # noqa: F401  (registers SwiftHydra-v0)
from hydra_env import SwiftHydraVectorEnv


def make_vec(num_envs: int, **kwargs) -> SwiftHydraVectorEnv:
    return gym.make_vec("SwiftHydra-v0", num_envs=num_envs, vectorization_mode="vector_entry_point", **kwargs)


def test_make_vec_native_batched_env():
    venv = make_vec(4)
    assert isinstance(venv, SwiftHydraVectorEnv)
    assert venv.metadata["autoreset_mode"] is AutoresetMode.SAME_STEP
    obs, _ = venv.reset(seed=0)
    assert obs.shape == (4, venv.config.latent_dim + 2) and obs.dtype == np.float32
    assert venv.observation_space.contains(obs)
    obs, rewards, terminated, truncated, infos = venv.step(venv.action_space.sample())
    assert rewards.shape == terminated.shape == truncated.shape == (4,)
    assert infos["sample"].shape == (4, venv.split.X_train.shape[1])
    assert infos["_sample"].all()
    weights = venv.core.reward.weights()
    np.testing.assert_allclose(rewards, sum(w * infos[f"reward_{t}"] for t, w in weights.items()), atol=1e-5)


def test_matches_single_env():
    """One batched sub-env follows exactly the trajectory of the single env with the same seed."""
    single = gym.make("SwiftHydra-v0")
    venv = make_vec(1)
    obs_s, _ = single.reset(seed=11)
    obs_v, _ = venv.reset(seed=11)
    np.testing.assert_allclose(obs_v[0], obs_s, atol=1e-6)
    actions = np.random.default_rng(0).uniform(-1, 1, size=(10, venv.config.latent_dim)).astype(np.float32)
    for action in actions:
        obs_s, reward_s, *_ = single.step(action)
        obs_v, reward_v, *_ = venv.step(action[None])
        np.testing.assert_allclose(obs_v[0], obs_s, atol=1e-5)
        assert reward_v[0] == pytest.approx(reward_s, abs=1e-5)


def test_same_step_autoreset():
    venv = make_vec(3, episode_length=4)
    venv.reset(seed=0)
    for step in range(4):
        obs, _, terminated, truncated, infos = venv.step(venv.action_space.sample())
        assert not terminated.any()
        assert truncated.all() == (step == 3)
    assert "final_obs" in infos and infos["_final_obs"].all()
    final = np.stack(infos["final_obs"])
    assert np.allclose(final[:, -1], 1.0)  # the finished episode's last progress
    assert np.allclose(obs[:, -1], 0.0)  # already the next episode's first observation
    assert np.allclose(infos["final_info"]["reward_miss"], infos["reward_miss"])
    obs, *_, truncated, infos = venv.step(venv.action_space.sample())
    assert not truncated.any() and "final_obs" not in infos


def test_seeded_reset_deterministic_and_errors():
    venv = make_vec(5)
    first, _ = venv.reset(seed=3)
    again, _ = venv.reset(seed=3)
    np.testing.assert_array_equal(first, again)
    with pytest.raises(ValueError, match="NaN or inf"):
        venv.step(np.full((5, venv.config.latent_dim), np.nan, dtype=np.float32))
    with pytest.raises(ValueError, match="shape"):
        venv.step(np.zeros((4, venv.config.latent_dim), dtype=np.float32))
    with pytest.raises(ValueError, match="num_envs"):
        SwiftHydraVectorEnv(num_envs=0)


def test_detector_sync_methods():
    venv = make_vec(2)
    assert venv.set_detector_state(venv.get_detector_state(), 3) == 3
    assert venv.detector_version == 3
    size = venv.core.reward.terms["entropy"].gain.size
    assert venv.add_anomalies(np.zeros((2, venv.split.X_train.shape[1]))) == size + 2
    venv.reset(seed=0)
    *_, infos = venv.step(venv.action_space.sample())
    assert (infos["detector_version"] == 3).all()
