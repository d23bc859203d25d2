"""Reward terms: miss probability dispatch and the k-NN entropy gain's semantics."""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import pytest
import torch

import hydra_env  # noqa: F401  (registers SwiftHydra-v0)
from hydra_env.rewards import KNNEntropyGain, anomaly_probability, miss_probability


class _TorchDetector:
    def anomaly_proba_torch(self, x):
        return torch.sigmoid(10 * (x[:, 0] - 0.5))


class _NumpyDetector:
    def predict_proba(self, X):
        p = 1 / (1 + np.exp(-10 * (X[:, 0] - 0.5)))
        return np.column_stack([1 - p, p])


def test_probability_dispatch_agrees():
    x = torch.rand(20, 4)
    fast = anomaly_probability(_TorchDetector(), x)
    slow = anomaly_probability(_NumpyDetector(), x)
    assert fast.shape == slow.shape == (20,)
    torch.testing.assert_close(fast, slow)
    torch.testing.assert_close(miss_probability(_TorchDetector(), x), 1 - fast)


@pytest.fixture
def anomaly_set() -> np.ndarray:
    return np.random.default_rng(0).uniform(0.6, 0.9, size=(30, 5)).astype(np.float32)


def test_duplicate_earns_zero_far_earns_more(anomaly_set):
    gain = KNNEntropyGain(anomaly_set, k=3)
    duplicate = torch.as_tensor(anomaly_set[[4]])
    near = duplicate + 0.01
    typical = duplicate + gain.rho
    far = torch.zeros(1, 5)
    g = [float(gain(x)[0]) for x in (duplicate, near, typical, far)]
    assert g[0] == pytest.approx(0.0, abs=1e-6)
    assert g[0] < g[1] < g[2] < g[3]
    assert g[3] > math.log(2.0)  # farther than the typical spacing


def test_gain_batched_nonnegative_and_add(anomaly_set):
    gain = KNNEntropyGain(anomaly_set, k=3)
    x = torch.rand(64, 5)
    batch = gain(x)
    assert batch.shape == (64,) and (batch >= 0).all()
    torch.testing.assert_close(batch[:5], torch.cat([gain(x[[i]]) for i in range(5)]))
    point = torch.zeros(1, 5)
    before = float(gain(point)[0])
    gain.add(point.numpy())
    assert gain.size == 31
    after = float(gain(point)[0])
    assert before > 0.5
    assert after == pytest.approx(0.0, abs=1e-6)


def test_empty_and_single_sets():
    empty = KNNEntropyGain(np.zeros((0, 3)), k=3)
    assert float(empty(torch.rand(1, 3))[0]) == pytest.approx(math.log(2.0))
    single = KNNEntropyGain(np.full((1, 3), 0.5), k=3)
    assert float(single(torch.full((1, 3), 0.5))[0]) == pytest.approx(0.0, abs=1e-6)
    with pytest.raises(ValueError, match="k must be"):
        KNNEntropyGain(np.zeros((2, 3)), k=0)


def test_env_miss_reward_follows_detector():
    """A sample the detector finds clearly anomalous earns less miss reward than one it finds normal."""
    from hydra_env.wrappers import retrain_detector

    env = gym.make("SwiftHydra-v0", reward="miss").unwrapped
    core = env.core
    dim = env.config.latent_dim
    flagged_z = np.full((16, dim), 2.0, dtype=np.float32)  # one corner of the latent box
    other_z = -flagged_z  # the opposite corner
    flagged_x = core.score(flagged_z).x.numpy()
    # teach the detector that the first corner's samples are anomalies (what the wrapper does)
    retrain_detector(core.detector, env.split.X_train, env.split.y_train, np.repeat(flagged_x, 4, axis=0))
    flagged, other = core.score(flagged_z), core.score(other_z)
    p_flagged, p_other = flagged.stats[0].mean(), other.stats[0].mean()
    print(f"P(anomaly): retrained corner {p_flagged:.3f}, opposite corner {p_other:.3f}")
    assert p_flagged > p_other + 0.2, (p_flagged, p_other)
    assert flagged.stats[3].mean() < other.stats[3].mean()
    np.testing.assert_allclose(flagged.stats[3], 1.0 - flagged.stats[0], atol=1e-6)
    assert np.abs(flagged.stats[2]).sum() == 0  # "miss" skips the entropy term


def test_env_entropy_term_on_duplicates():
    """A decoded sample equal to a training anomaly earns ~0 gain; a distant one more."""
    env = gym.make("SwiftHydra-v0", reward="entropy").unwrapped
    core = env.core
    anomaly = core.entropy.points[:1]
    far = torch.zeros_like(anomaly) + 2.0
    gains = core.entropy(torch.cat([anomaly, far]))
    assert float(gains[0]) == pytest.approx(0.0, abs=1e-6)
    assert float(gains[1]) > 0.5
    z = np.zeros((4, env.config.latent_dim), dtype=np.float32)
    result = core.score(z)
    torch.testing.assert_close(result.reward, core.entropy_coef * result.gain)
