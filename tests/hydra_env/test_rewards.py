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
    env = gym.make("SwiftHydra-v0", reward_weights={"miss": 1.0}).unwrapped
    core = env.core
    dim = env.config.latent_dim
    flagged_z = np.full((16, dim), 2.0, dtype=np.float32)  # one corner of the latent box
    other_z = -flagged_z  # the opposite corner
    flagged_x = core.score(flagged_z).x.numpy()
    # teach the detector that the first corner's samples are anomalies (what a round step does)
    X = np.concatenate([env.split.X_train, np.repeat(flagged_x, 4, axis=0)])
    y = np.concatenate([env.split.y_train, np.ones(64, dtype=np.int64)])
    core.detector.fit(X, y, warm_start=True)
    core.set_detector_state(None, 1)
    flagged, other = core.score(flagged_z), core.score(other_z)
    p_flagged, p_other = flagged.stats[0].mean(), other.stats[0].mean()
    assert p_flagged > p_other + 0.2, (p_flagged, p_other)
    assert flagged.reward.mean() < other.reward.mean()
    assert list(flagged.terms) == ["miss"]


def _recomputed_miss(core, p: np.ndarray) -> np.ndarray:
    """The documented miss term: the share of reference normals scored at least as anomalous."""
    from hydra_env.core import reference_normals

    normals = reference_normals(core.split, core.config.seed)
    ref = core.detector.predict_proba(normals)[:, 1]
    return np.array([(ref >= q * (1 - 1e-6)).mean() for q in p])


def test_miss_is_a_rank_that_does_not_saturate():
    """At la = 0.1 the calibrated miss 1 - P is ~1 for any action; the rank still separates samples."""
    env = gym.make("SwiftHydra-v0", reward_weights={"miss": 1.0, "miss_proba": 1.0}).unwrapped
    rng = np.random.default_rng(0)
    result = env.core.score(rng.uniform(-3, 3, (256, env.config.latent_dim)).astype(np.float32))
    values = result.term_values()
    p = result.stats[0]
    np.testing.assert_allclose(values["miss_proba"], 1.0 - p, atol=1e-6)
    np.testing.assert_allclose(values["miss"], _recomputed_miss(env.core, p), atol=1.5 / 1024)
    assert values["miss"].std() > 5 * values["miss_proba"].std()  # informative where 1 - P is flat
    # A sample the detector ranks above every normal earns 0, one below all of them earns 1.
    ordered = np.argsort(p)
    assert values["miss"][ordered[0]] >= values["miss"][ordered[-1]]


def test_novelty_is_low_for_normal_rows_and_one_far_away():
    env = gym.make("SwiftHydra-v0", reward_weights={"novelty": 1.0}).unwrapped
    term = env.core.reward.terms["novelty"]
    normals = env.split.X_train[env.split.y_train == 0]
    rows = torch.as_tensor(normals[:200], dtype=torch.float32)
    far = torch.full((3, normals.shape[1]), 5.0)
    on_data = term(rows, torch.zeros(200))
    assert float(on_data.mean()) < 0.6  # rows of the reference set are typical of it (LOO median ~0.5)
    assert torch.all(term(far, torch.zeros(3)) == 1.0)


def test_env_entropy_term_on_duplicates():
    """A decoded sample equal to a training anomaly earns ~0 gain; a distant one more."""
    env = gym.make("SwiftHydra-v0", reward_weights={"entropy": 0.5}).unwrapped
    core = env.core
    gain = core.reward.terms["entropy"].gain
    anomaly = gain.points[:1]
    far = torch.zeros_like(anomaly) + 2.0
    gains = gain(torch.cat([anomaly, far]))
    assert float(gains[0]) == pytest.approx(0.0, abs=1e-6)
    assert float(gains[1]) > 0.5
    z = np.zeros((4, env.config.latent_dim), dtype=np.float32)
    result = core.score(z)
    torch.testing.assert_close(result.reward, 0.5 * result.terms["entropy"])


def test_smooth_reward_follows_the_reward():
    """The gradient policy's surrogate ranks samples like the reward itself."""
    from scipy.stats import spearmanr

    env = gym.make("SwiftHydra-v0").unwrapped
    rng = np.random.default_rng(1)
    result = env.core.score(rng.uniform(-3, 3, (128, env.config.latent_dim)).astype(np.float32))
    smooth = env.core.smooth_reward(result.x.clone()).detach().numpy()
    assert spearmanr(smooth, result.reward.numpy()).statistic > 0.8


def test_greedy_selection_spreads():
    """Near-copies of a pick earn no diversity, so the selection prefers a distinct row."""
    env = gym.make("SwiftHydra-v0", reward_weights={"entropy": 1.0}).unwrapped
    reward = env.core.reward
    d = env.split.X_train.shape[1]
    base = np.full((1, d), 3.0, dtype=np.float32)
    cands = np.concatenate([base, base + 1e-4, np.full((1, d), -3.0, dtype=np.float32)])
    r, values = env.core.evaluate(cands)
    picked = reward.select(cands, r, values, 2)
    assert set(picked.tolist()) in ({0, 2}, {1, 2})
