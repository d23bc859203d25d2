"""DetectorUpdateWrapper really retrains; TopLBuffer keeps the best samples."""

from __future__ import annotations

import copy

import gymnasium as gym
import numpy as np
import pytest

import hydra_env  # noqa: F401  (registers SwiftHydra-v0)
from hydra_env import DetectorUpdateWrapper
from hydra_env.wrappers import TopLBuffer


def test_top_l_buffer_keeps_best():
    buffer = TopLBuffer(3)
    rng = np.random.default_rng(0)
    rewards = rng.permutation(20).astype(float)
    samples = np.repeat(rewards[:, None], 2, axis=1)
    for i in range(20):  # one at a time, as the wrapper offers them
        buffer.add(samples[[i]], rewards[[i]])
    kept, kept_rewards = buffer.pop()
    np.testing.assert_array_equal(kept_rewards, [19, 18, 17])
    np.testing.assert_array_equal(kept[:, 0], [19, 18, 17])
    assert len(buffer) == 0 and len(buffer.pop()[0]) == 0
    with pytest.raises(ValueError, match="top_l"):
        TopLBuffer(0)


def test_wrapper_retrains_detector(tmp_path):
    env = DetectorUpdateWrapper(gym.make("SwiftHydra-v0", episode_length=8), top_l=6, update_every=12)
    base = env.unwrapped
    env.reset(seed=0)
    env.action_space.seed(0)
    set_size = base.core.reward.terms["entropy"].gain.size
    samples, rewards = [], []
    for step in range(12):
        obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
        samples.append(info["sample"])
        rewards.append(reward)
        assert info["detector_version"] == (1 if step == 11 else 0)
        if truncated:
            env.reset()
    kept = env.kept_samples
    assert kept.shape == (6, base.split.X_train.shape[1])
    # the kept samples are among those generated
    assert all(np.isclose(np.array(samples), row).all(axis=1).any() for row in kept)
    assert base.detector_version == 1 and base.core.detector_round == 1
    assert base.core.reward.terms["entropy"].gain.size == set_size + 6
    *_, info = env.step(env.action_space.sample())
    assert info["detector_version"] == 1

    path = tmp_path / "kept.npz"
    env.export_kept(path)
    saved = np.load(path)
    np.testing.assert_array_equal(saved["X"], kept)
    assert saved["reward"].shape == (6,) and np.isin(saved["reward"], rewards).all()
    assert (saved["round"] == 0).all()  # kept at the first update, while detector v0 was in use
    with pytest.raises(ValueError, match=".npz"):
        env.export_kept(tmp_path / "kept.csv")


def test_retraining_changes_scores_on_kept_samples():
    env = DetectorUpdateWrapper(gym.make("SwiftHydra-v0"), top_l=8, update_every=16)
    base = env.unwrapped
    old_detector = copy.deepcopy(base.detector)
    env.reset(seed=1)
    env.action_space.seed(1)
    for _ in range(16):
        env.step(env.action_space.sample())
    assert base.detector_version == 1
    kept = env.kept_samples
    new_scores = base.score_samples(kept)
    base.core.detector, new_detector = old_detector, base.core.detector
    old_scores = base.score_samples(kept)
    base.core.detector = new_detector
    # trained on as anomalies, the kept samples now look more anomalous to the detector
    print("P(anomaly) on kept samples before/after:", old_scores.mean(), new_scores.mean())
    assert new_scores.mean() > old_scores.mean()


def test_wrapper_rejects_other_envs():
    with pytest.raises(TypeError, match="SwiftHydra"):
        DetectorUpdateWrapper(gym.make("CartPole-v1"))
