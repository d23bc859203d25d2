"""The reward means what the env documents, recomputed from first principles.

For every step, :func:`expected_terms` rebuilds the reward from the walk's latent (the observation),
the env's public VAE and detector, and the env's documented settings:

    x        = vae.decode(z, label=1)                       (a synthetic *anomaly*)
    p        = detector.predict_proba(x)[:, 1]
    normals  = the reference normal rows (hydra_env.core.reference_normals)
    miss     = share of normals with P(anomaly) >= p        (a rank: 1 = looks more normal than all)
    novelty  = share of normals whose k-th neighbour distance (leave-one-out) is below x's
    entropy  = k-NN entropy gain of x against the labeled training anomalies + the kept samples
    reward   = sum_t w_t * term_t, w_entropy decayed by entropy_decay ** detector_round

and the tests compare it with the reward and ``info`` the env returns. Decoding with the normal label,
or ``miss`` on the wrong side of the rank, makes them fail. When the reward's definition changes,
change :func:`expected_terms`.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch
from scipy.spatial.distance import cdist

import hydra_env  # noqa: F401  (registers SwiftHydra-v0)
from hydra_env import DetectorUpdateWrapper, SwiftHydraVectorEnv
from hydra_env.core import reference_normals
from hydra_env.rewards import KNNEntropyGain

ATOL = 1e-4
RANK_ATOL = 2.5 / 1024  # float32 (env) vs float64 (here) may move a rank by a row or two


def expected_terms(env, z: np.ndarray, kept: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """The documented reward of latents ``z`` (n, latent_dim), from the env's public parts only."""
    base = env.unwrapped if hasattr(env, "unwrapped") else env
    config, split = base.config, base.split
    x = base.vae.decode(np.asarray(z, dtype=np.float32), label=1)
    p = base.detector.predict_proba(x)[:, 1]
    normals = reference_normals(split, config.seed)
    p_normals = base.detector.predict_proba(normals)[:, 1]
    miss = (p_normals[None, :] >= p[:, None] * (1 - 1e-6)).mean(axis=1)
    k = min(config.entropy_k, len(normals) - 1)
    within = cdist(normals, normals)
    np.fill_diagonal(within, np.inf)
    loo = np.sort(within, axis=1)[:, k - 1]
    novelty = (loo[None, :] < np.sort(cdist(x, normals), axis=1)[:, k - 1][:, None]).mean(axis=1)
    anomalies = np.asarray(split.X_train[np.asarray(split.y_train) == 1], dtype=np.float32)
    if kept is not None and len(kept):
        anomalies = np.concatenate([anomalies, np.asarray(kept, dtype=np.float32)])
    gain = KNNEntropyGain(anomalies, k=config.entropy_k)(torch.as_tensor(x)).numpy()
    w = dict(config.reward_weights)
    w["entropy"] = w.get("entropy", 0.0) * config.entropy_decay**base.detector_version
    reward = w.get("miss", 0) * miss + w.get("novelty", 0) * novelty + w["entropy"] * gain
    return {
        "sample": x,
        "p": p,
        "miss": miss,
        "novelty": novelty,
        "gain": gain,
        "weights": w,
        "reward": reward,
    }


def _check_step(expected: dict[str, np.ndarray], reward, info) -> None:
    """``info`` and ``reward`` (batched: one row per walk) against :func:`expected_terms`."""
    np.testing.assert_allclose(info["sample"], expected["sample"], atol=ATOL, rtol=0)
    np.testing.assert_allclose(info["anomaly_probability"], expected["p"], atol=ATOL)
    np.testing.assert_allclose(info["reward_miss"], expected["miss"], atol=RANK_ATOL)
    np.testing.assert_allclose(info["reward_novelty"], expected["novelty"], atol=RANK_ATOL)
    np.testing.assert_allclose(info["reward_entropy"], expected["gain"], atol=ATOL)
    np.testing.assert_allclose(np.asarray(reward), expected["reward"], atol=3 * RANK_ATOL)


@pytest.fixture(scope="module")
def vec_env() -> SwiftHydraVectorEnv:
    return _make_vec(episode_length=64)


def test_labels_are_distinguishable(vec_env):
    """Guard: the checks below can tell an anomaly decode from a normal one, and p from 1 - p."""
    z = np.random.default_rng(0).uniform(-2, 2, size=(16, vec_env.config.latent_dim)).astype(np.float32)
    as_anomaly, as_normal = vec_env.vae.decode(z, label=1), vec_env.vae.decode(z, label=0)
    assert np.abs(as_anomaly - as_normal).max() > 10 * ATOL
    p = vec_env.detector.predict_proba(as_anomaly)[:, 1]
    assert np.abs((1 - p) - p).max() > 10 * ATOL


def test_vector_env_reward_is_the_documented_reward(vec_env):
    obs, _ = vec_env.reset(seed=5)
    rng = np.random.default_rng(5)
    dim = vec_env.config.latent_dim
    for _ in range(6):
        obs, reward, _, truncated, info = vec_env.step(rng.uniform(-1, 1, size=(4, dim)).astype(np.float32))
        assert not truncated.any()
        expected = expected_terms(vec_env, obs[:, :dim])
        _check_step(expected, reward, info)
        assert vec_env.core.reward.weights() == pytest.approx(expected["weights"])
        np.testing.assert_allclose(obs[:, dim], expected["p"], atol=ATOL)  # the observed P(anomaly)


def test_vector_env_reward_follows_a_new_detector_and_kept_anomalies():
    """After a detector update and new kept anomalies, the reward uses both (and the decayed weight)."""
    vec_env = _make_vec(episode_length=64)
    dim = vec_env.config.latent_dim
    obs, _ = vec_env.reset(seed=6)
    kept = vec_env.vae.decode(obs[:, :dim], label=1)
    X = np.concatenate([vec_env.split.X_train, np.repeat(kept, 4, axis=0)])
    y = np.concatenate([vec_env.split.y_train, np.ones(4 * len(kept), dtype=np.int64)])
    vec_env.detector.fit(X, y, warm_start=True)
    vec_env.set_detector_state(None, 1)
    vec_env.add_anomalies(kept)
    obs, reward, _, _, info = vec_env.step(np.zeros((4, dim), dtype=np.float32))
    expected = expected_terms(vec_env, obs[:, :dim], kept=kept)
    w_entropy = vec_env.config.reward_weights["entropy"]
    assert expected["weights"]["entropy"] == pytest.approx(w_entropy * vec_env.config.entropy_decay)
    _check_step(expected, reward, info)


def _make_vec(**kwargs) -> SwiftHydraVectorEnv:
    return gym.make_vec("SwiftHydra-v0", num_envs=4, vectorization_mode="vector_entry_point", **kwargs)


def test_wrapper_rewards_before_and_after_detector_updates():
    """Every step's reward, including right after each update, uses the detector and set of that moment."""
    env = DetectorUpdateWrapper(gym.make("SwiftHydra-v0", episode_length=64), top_l=4, update_every=6)
    base = env.unwrapped
    config, dim = base.config, base.config.latent_dim
    fits = []
    original_fit = base.detector.fit

    def spy_fit(X, y=None, **kwargs):
        fits.append((np.array(X), np.array(y)))
        return original_fit(X, y, **kwargs)

    base.detector.fit = spy_fit  # the wrapper retrains this object in place
    obs, _ = env.reset(seed=2)
    rng = np.random.default_rng(2)
    for step in range(13):
        action = rng.uniform(-1, 1, size=dim).astype(np.float32)
        z = np.clip(obs[:dim] + config.action_scale * action, -config.latent_clip, config.latent_clip)
        expected = expected_terms(env, z[None], kept=env.kept_samples)  # before the step's update
        obs, reward, _, truncated, info = env.step(action)
        assert not truncated
        np.testing.assert_allclose(obs[:dim], z, atol=1e-6)
        _check_step(
            expected, [reward], {k: np.asarray(v)[None] for k, v in info.items() if k != "reward_weights"}
        )
        assert info["detector_version"] == (step + 1) // 6
    assert len(fits) == 2 and len(env.kept_samples) == 8
    # each update retrains on the training split plus everything kept so far, labeled anomalous
    X, y = fits[-1]
    n = len(base.split.X_train)
    np.testing.assert_allclose(X[:n], base.split.X_train)
    np.testing.assert_allclose(X[n:], env.kept_samples, atol=1e-6)
    assert (y[:n] == base.split.y_train).all() and (y[n:] == 1).all() and len(X) == n + 8
