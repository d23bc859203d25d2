"""Classic anomaly generators (oversample, SMOTE, Mixup, NNG-Mix, outlier exposure) as generation policies."""

from __future__ import annotations

import numpy as np
import pytest

from agents.config import get_budget
from agents.generators import (
    GENERATORS,
    ExposurePolicy,
    MixupPolicy,
    NNGMixPolicy,
    OversamplePolicy,
    SmotePolicy,
)
from agents.loop import make_env, make_loop_detector, make_vae
from agents.perturb import perturbed_normals
from agents.policies import core_of
from agents.registry import (
    ALGO_CHOICES,
    NON_RL_POLICIES,
    OFF_POLICY,
    check_algo,
    check_policy_kwargs,
    load_policy,
    make_policy,
)

BUDGET = get_budget("tiny")
NAMES = sorted(GENERATORS)
TOL = 1e-6  # rows are returned as float32


@pytest.fixture(scope="module")
def parts():
    """wdbc with 6 labeled anomalies, and a VAE and detector fitted (briefly) on it."""
    from hydra_env import datasets

    split = datasets.adbench_split(*datasets.load("wdbc"), la=0.3, seed=1)
    vae = make_vae(BUDGET.replace(vae_epochs=2), 0).fit(split.X_train, split.y_train)
    detector = make_loop_detector(BUDGET.replace(detector_epochs=1), 0).fit(split.X_train, split.y_train)
    return split.X_train, split.y_train, vae, detector


@pytest.fixture(scope="module")
def env(parts):
    X, y, vae, detector = parts
    return make_env(X, y, vae, detector, BUDGET, seed=0)


@pytest.fixture(scope="module")
def lone_env(parts):
    """The same rows with a single labeled anomaly."""
    X, y, vae, detector = parts
    y_one = np.zeros_like(y)
    y_one[np.flatnonzero(y == 1)[0]] = 1
    return make_env(X, y_one, vae, detector, BUDGET, seed=0)


def _rows(env, label):
    split = core_of(env).split
    return np.asarray(split.X_train, dtype=np.float64)[np.asarray(split.y_train) == label]


def _segment_residual(rows, P, Q):
    """Per row, the smallest distance to a segment [P[k], Q[k]] (rows (n, d); P, Q (K, d))."""
    rows = np.asarray(rows, dtype=np.float64)
    D = Q - P  # (K, d)
    length = np.maximum((D * D).sum(axis=1), 1e-300)
    t = np.clip(((rows[:, None, :] - P[None]) * D[None]).sum(axis=2) / length, 0.0, 1.0)  # (n, K)
    nearest = P[None] + t[..., None] * D[None]
    return np.abs(rows[:, None, :] - nearest).max(axis=2).min(axis=1)


def _knn(queries, pool, k, *, leave_self_out=False):
    dist = ((queries[:, None, :] - pool[None]) ** 2).sum(axis=2)
    if leave_self_out:
        np.fill_diagonal(dist, np.inf)
    return np.argsort(dist, axis=1, kind="stable")[:, :k]


# ------------------------------------------------------------------------------------- registry
def test_registered_as_non_rl_policies(env):
    for name in NAMES:
        assert name in ALGO_CHOICES and check_algo(name.upper()) == name
        assert NON_RL_POLICIES[name] is GENERATORS[name] and name not in OFF_POLICY
        policy = make_policy(name, env, 0)
        assert isinstance(policy, GENERATORS[name]) and policy.name == name
        policy.learn(100)  # a no-op
    assert OFF_POLICY == {"sac", "td3", "ddpg", "tqc"}
    check_policy_kwargs("nng_mix", {"noise_std": 0.0, "k_unlabeled": 3})
    with pytest.raises(ValueError, match=r"smote does not accept \['alpha'\].*k_neighbors"):
        check_policy_kwargs("smote", {"alpha": 1.0})


def test_bad_arguments(env, parts):
    X, _, vae, detector = parts
    with pytest.raises(ValueError, match="alpha"):
        MixupPolicy(env, 0, alpha=0.0)
    with pytest.raises(ValueError, match="noise_std"):
        NNGMixPolicy(env, 0, noise_std=-1.0)
    with pytest.raises(ValueError, match="p_unlabeled"):
        NNGMixPolicy(env, 0, p_unlabeled=1.5)
    with pytest.raises(ValueError, match="k_neighbors"):
        SmotePolicy(env, 0, k_neighbors=0)
    with pytest.raises(ValueError, match="scales"):
        ExposurePolicy(env, 0, scales=(1.0, -1.0))
    with pytest.raises(ValueError, match="n must be >= 0"):
        OversamplePolicy(env, 0).generate(-1)
    with pytest.raises(TypeError, match="not a SwiftHydra-v0 env"):
        SmotePolicy(object(), 0)


# ------------------------------------------------------------------------------ every generator
@pytest.mark.parametrize("name", NAMES)
def test_rows_are_finite_scored_and_seeded(env, name):
    d = _rows(env, 1).shape[1]
    X, rewards = make_policy(name, env, seed=4).generate(40)
    assert X.shape == (40, d) and X.dtype == np.float32 and np.isfinite(X).all()
    assert rewards.shape == (40,) and rewards.dtype == np.float64 and np.isfinite(rewards).all()
    # The env's own reward of each row, as RoundStep's selection computes it.
    np.testing.assert_allclose(rewards, core_of(env).evaluate(X)[0], rtol=0, atol=1e-9)
    again, again_rewards = make_policy(name, env, seed=4).generate(40)
    np.testing.assert_array_equal(again, X)
    np.testing.assert_array_equal(again_rewards, rewards)
    other, _ = make_policy(name, env, seed=5).generate(40)
    assert not np.array_equal(other, X)
    reseeded = make_policy(name, env, seed=9)
    reseeded.generate(7)
    reseeded.reseed(4)
    np.testing.assert_array_equal(reseeded.generate(40)[0], X)
    empty, empty_rewards = make_policy(name, env, seed=4).generate(0)
    assert empty.shape == (0, d) and empty_rewards.shape == (0,)


@pytest.mark.parametrize("name", NAMES)
def test_save_load_round_trip(env, tmp_path, name):
    kwargs = {"alpha": 0.5} if name in ("mixup", "nng_mix") else {}
    policy = make_policy(name, env, 0, **kwargs)
    policy.generate(5)
    policy.save(tmp_path / "agent")
    expected = policy.generate(16)
    restored = load_policy(name, tmp_path / "agent", env, 0, **kwargs)
    assert type(restored) is type(policy)
    got = restored.generate(16)
    np.testing.assert_array_equal(got[0], expected[0])
    np.testing.assert_array_equal(got[1], expected[1])
    other = "smote" if name != "smote" else "mixup"
    with pytest.raises(ValueError, match=f"holds a '{name}' policy"):
        load_policy(other, tmp_path / "agent", env, 0)


# ------------------------------------------------------------------------------------- recipes
def test_oversample_rows_are_exact_copies(env):
    anomalies = _rows(env, 1).astype(np.float32)
    X, _ = OversamplePolicy(env, 1).generate(50)
    match = (X[:, None, :] == anomalies[None]).all(axis=2)
    assert match.any(axis=1).all()
    assert match.any(axis=0).sum() > 1  # draws cover several anomalies


@pytest.mark.parametrize("cls", [SmotePolicy, MixupPolicy])
def test_smote_and_mixup_rows_lie_between_labeled_anomalies(env, cls):
    anomalies = _rows(env, 1)
    X, _ = cls(env, 2).generate(200)
    assert (X >= anomalies.min(axis=0) - TOL).all() and (X <= anomalies.max(axis=0) + TOL).all()
    i, j = np.triu_indices(len(anomalies), k=1)
    assert _segment_residual(X, anomalies[i], anomalies[j]).max() < 1e-5
    assert not (X[:, None, :] == anomalies[None].astype(np.float32)).all(axis=2).any(axis=1).all()


def test_smote_interpolates_among_the_nearest_anomalies_only(env):
    anomalies = _rows(env, 1)
    near = _knn(anomalies, anomalies, 1, leave_self_out=True)[:, 0]
    X, _ = SmotePolicy(env, 3, k_neighbors=1).generate(100)
    assert _segment_residual(X, anomalies, anomalies[near]).max() < 1e-5


def test_mixup_alpha_one_spreads_lambda(env):
    anomalies = _rows(env, 1)
    sharp, _ = MixupPolicy(env, 0).generate(400)
    flat, _ = MixupPolicy(env, 0, alpha=1.0).generate(400)

    def near_an_endpoint(X):
        return (np.abs(X[:, None, :] - anomalies[None]).max(axis=2).min(axis=1) < 0.02).mean()

    # Beta(0.2, 0.2) puts most lambdas near 0 or 1; Beta(1, 1) is uniform.
    assert near_an_endpoint(sharp) > near_an_endpoint(flat) + 0.2


def test_nng_mix_rows_lie_between_an_anomaly_and_its_neighbours(env):
    anomalies, unlabeled = _rows(env, 1), _rows(env, 0)
    k_u, k_a = 4, 3
    near_u = _knn(anomalies, unlabeled, k_u)
    near_a = _knn(anomalies, anomalies, k_a - 1, leave_self_out=True)  # k_anomalies counts the anomaly
    P_u, Q_u = np.repeat(anomalies, k_u, axis=0), unlabeled[near_u.ravel()]
    P_a, Q_a = np.repeat(anomalies, k_a - 1, axis=0), anomalies[near_a.ravel()]
    kw = {"k_unlabeled": k_u, "k_anomalies": k_a}

    plain, _ = NNGMixPolicy(env, 0, noise_std=0.0, p_unlabeled=1.0, **kw).generate(100)
    assert _segment_residual(plain, P_u, Q_u).max() < 1e-5
    assert _segment_residual(plain, P_a, Q_a).max() > 1e-3  # the other branch is not drawn
    plain, _ = NNGMixPolicy(env, 0, noise_std=0.0, p_unlabeled=0.0, **kw).generate(100)
    assert _segment_residual(plain, P_a, Q_a).max() < 1e-5

    std = 0.01
    noisy, _ = NNGMixPolicy(env, 0, noise_std=std, **kw).generate(300)
    P, Q = np.r_[P_u, P_a], np.r_[Q_u, Q_a]
    residual = _segment_residual(noisy, P, Q)
    # Noise lam * e1 + (1 - lam) * e2 is at most max(|e1|, |e2|) per feature: 7 std bounds it here.
    assert residual.max() < 7 * std and residual.mean() > 0.1 * std
    # Both partner branches are drawn.
    assert (_segment_residual(noisy, P_u, Q_u) < 7 * std).any()
    assert (_segment_residual(noisy, P_a, Q_a) < 7 * std).any()


def test_exposure_rows_are_perturbed_normals(env):
    split = core_of(env).split
    X, _ = ExposurePolicy(env, 6, scales=(0.5, 2.0)).generate(30)
    seed = int(np.random.default_rng(6).integers(0, 2**31 - 1))
    expected = perturbed_normals(split.X_train, split.y_train, n_rows=30, scales=(0.5, 2.0), seed=seed)
    np.testing.assert_array_equal(X, expected)


def test_a_lone_labeled_anomaly(lone_env):
    anomaly = _rows(lone_env, 1).astype(np.float32)
    assert len(anomaly) == 1
    for cls in (OversamplePolicy, SmotePolicy, MixupPolicy):  # nothing to interpolate: copies
        X, rewards = cls(lone_env, 0).generate(10)
        assert (X == anomaly).all() and np.isfinite(rewards).all()
    # NNG-Mix still mixes the anomaly with its unlabeled neighbours (or with itself, plus noise).
    X, _ = NNGMixPolicy(lone_env, 0, noise_std=0.0).generate(50)
    unlabeled = _rows(lone_env, 0)
    near = unlabeled[_knn(anomaly.astype(np.float64), unlabeled, 10)[0]]
    P = np.repeat(anomaly.astype(np.float64), 11, axis=0)
    assert _segment_residual(X, P, np.r_[near, anomaly]).max() < 1e-5


def test_no_labeled_anomaly_is_refused_except_by_exposure(parts):
    X, y, vae, detector = parts
    none = make_env(X, np.zeros_like(y), vae, detector, BUDGET, seed=0)
    with pytest.raises(ValueError, match="smote needs at least one labeled anomaly"):
        SmotePolicy(none, 0)
    assert ExposurePolicy(none, 0).generate(4)[0].shape == (4, X.shape[1])


# ------------------------------------------------------------------------------- closed loop
def test_tiny_closed_loop_with_smote_keeps_rows():
    from agents.loop import swift_hydra_loop
    from hydra_env import datasets

    split = datasets.adbench_split(*datasets.load("wine"), la=0.3, seed=1)
    result = swift_hydra_loop(split.X_train, split.y_train, algo="smote", budget="tiny", seed=1)
    assert isinstance(result.policy, SmotePolicy)
    assert len(result.kept_X) > 0 and np.isfinite(result.kept_X).all()
    assert [m["round"] for m in result.metrics] == [0, 1, 2] and result.metrics[-1]["n_kept"] == len(
        result.kept_X
    )
    assert result.metrics[1]["n_candidates_distinct"] > 1
    # SMOTE rows (snapped to the data's values) stay within the fit part's labeled anomalies' range.
    anomalies = result.policy.anomalies
    assert (result.kept_X >= anomalies.min(axis=0) - TOL).all()
    assert (result.kept_X <= anomalies.max(axis=0) + TOL).all()
    scores = result.detector.decision_function(split.X_test)
    assert scores.shape == (len(split.y_test),) and np.isfinite(scores).all()
