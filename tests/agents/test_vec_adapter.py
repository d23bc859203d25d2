"""SB3VecEnvAdapter: SB3 agents train on the native batched SwiftHydra vector env."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from stable_baselines3 import PPO

import hydra_env  # noqa: F401  (registers SwiftHydra-v0)
from agents.callbacks import DetectorUpdateCallback
from agents.vec_adapter import SB3VecEnvAdapter


def _adapter(num_envs: int = 4, **kwargs) -> SB3VecEnvAdapter:
    return SB3VecEnvAdapter(
        gym.make_vec("SwiftHydra-v0", num_envs=num_envs, vectorization_mode="vector_entry_point", **kwargs)
    )


def test_step_and_terminal_observation():
    venv = _adapter(3, episode_length=2)
    venv.seed(0)
    obs = venv.reset()
    assert obs.shape == (3, venv.observation_space.shape[0])
    for _ in range(2):
        obs, rewards, dones, infos = venv.step(np.zeros((3, venv.action_space.shape[0]), dtype=np.float32))
    assert dones.all() and rewards.dtype == np.float32 and len(infos) == 3
    assert np.isclose(infos[0]["terminal_observation"][-1], 1.0) and np.isclose(obs[0, -1], 0.0)
    assert infos[0]["TimeLimit.truncated"] is True
    assert infos[1]["sample"].shape == (venv.get_attr("split")[0].X_train.shape[1],)
    assert venv.env_method("set_detector_state", None, 5) == [5, 5, 5]


def test_rejects_next_step_autoreset():
    sync = gym.make_vec("CartPole-v1", num_envs=2, vectorization_mode="sync")
    with pytest.raises(ValueError, match="SAME_STEP"):
        SB3VecEnvAdapter(sync)


def test_ppo_with_callback_on_batched_env():
    venv = _adapter(8)
    callback = DetectorUpdateCallback(top_l=8, update_every=256)
    model = PPO("MlpPolicy", venv, n_steps=32, batch_size=64, n_epochs=2, seed=0, device="cpu")
    model.learn(512, callback=callback)
    assert model.num_timesteps == 512
    assert callback.version == 2 and venv.get_attr("detector_version")[0] == 2
