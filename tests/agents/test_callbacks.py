"""DetectorUpdateCallback keeps every SubprocVecEnv copy on the retrained detector."""

from __future__ import annotations

import copy
import multiprocessing

import gymnasium as gym
import numpy as np
import pytest
from stable_baselines3 import PPO
from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv

import hydra_env  # noqa: F401  (registers SwiftHydra-v0)
from agents.callbacks import DetectorUpdateCallback

KWARGS = {"episode_length": 8}


def _make_env() -> gym.Env:
    return gym.make("SwiftHydra-v0", **KWARGS)


@pytest.mark.skipif(
    "fork" not in multiprocessing.get_all_start_methods(), reason="needs the fork start method"
)
def test_subproc_copies_get_new_detector():
    # Build once in this process: forked workers find the trained VAE and detector in the cache.
    reference = _make_env().unwrapped
    original = copy.deepcopy(reference.detector)
    vec_env = SubprocVecEnv([_make_env, _make_env], start_method="fork")
    try:
        callback = DetectorUpdateCallback(top_l=8, update_every=32)
        model = PPO("MlpPolicy", vec_env, n_steps=16, batch_size=32, n_epochs=1, seed=0, device="cpu")
        model.learn(64, callback=callback)
        assert callback.version == 2  # updates after 32 and 64 steps
        assert vec_env.get_attr("detector_version") == [2, 2]
        kept = callback.kept_samples
        assert kept.shape == (16, reference.split.X_train.shape[1])
        # every worker scores with the main process's retrained detector, not the original one
        worker_scores = vec_env.env_method("score_samples", kept)
        reference.core.detector = callback.detector
        expected = reference.score_samples(kept)
        reference.core.detector = original
        stale = reference.score_samples(kept)
        for scores in worker_scores:
            np.testing.assert_allclose(scores, expected, atol=1e-6)
        assert np.abs(expected - stale).max() > 1e-3
        # the entropy anomaly set grew in every worker
        sizes = vec_env.env_method("add_anomalies", np.zeros((0, kept.shape[1])))
        assert sizes == [reference.core.reward.terms["entropy"].gain.size + 16] * 2
    finally:
        vec_env.close()


def test_dummy_vec_env_and_export(tmp_path):
    vec_env = DummyVecEnv([_make_env])
    callback = DetectorUpdateCallback(top_l=4, update_every=16)
    PPO("MlpPolicy", vec_env, n_steps=16, batch_size=16, n_epochs=1, seed=0, device="cpu").learn(
        16, callback=callback
    )
    assert callback.version == 1
    assert vec_env.get_attr("detector_version") == [1]
    callback.export_kept(tmp_path / "kept.npz")
    assert np.load(tmp_path / "kept.npz")["X"].shape[0] == 4
    with pytest.raises(ValueError, match="update_every"):
        DetectorUpdateCallback(update_every=0)
