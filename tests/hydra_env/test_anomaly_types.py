"""ADBench's synthetic anomaly types: shapes, determinism, and that each type is what it claims."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.neighbors import NearestNeighbors

from hydra_env.anomaly_types import KINDS, fit_normal_mixture, generate, make_typed_anomaly_set
from hydra_env.datasets import load


@pytest.fixture(scope="module")
def wdbc_normal():
    X, y = load("wdbc")
    return X[y == 0]


@pytest.fixture(scope="module")
def mixture(wdbc_normal):
    return fit_normal_mixture(wdbc_normal, 0, n_components=2)


@pytest.mark.parametrize("kind", KINDS)
def test_shape_finite_and_deterministic(wdbc_normal, mixture, kind):
    a = generate(kind, wdbc_normal, 64, 3, mixture=mixture)
    assert a.shape == (64, 30) and a.dtype == np.float64 and np.isfinite(a).all()
    np.testing.assert_array_equal(a, generate(kind, wdbc_normal, 64, 3, mixture=mixture))
    assert not np.array_equal(a, generate(kind, wdbc_normal, 64, 4, mixture=mixture))
    rng = np.random.default_rng(5)  # a Generator works too, and is reproducible
    b = generate(kind, wdbc_normal, 8, rng, mixture=mixture)
    np.testing.assert_array_equal(
        b, generate(kind, wdbc_normal, 8, np.random.default_rng(5), mixture=mixture)
    )


def test_bic_selection_fits_without_a_given_mixture():
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(0, 1, (150, 2)), rng.normal(8, 1, (150, 2))])
    assert fit_normal_mixture(X, 0).n_components == 2  # two clear clusters -> BIC picks 2
    out = generate("local", X, 20, 0)
    assert out.shape == (20, 2)


def _nearest_normal_distance(X_normal, Z):
    low, span = X_normal.min(axis=0), np.ptp(X_normal, axis=0) + 1e-12
    nn = NearestNeighbors(n_neighbors=2).fit((X_normal - low) / span)
    own = nn.kneighbors((X_normal - low) / span)[0][:, 1]  # normal rows' own nearest-neighbour distance
    return nn.kneighbors((Z - low) / span, n_neighbors=1)[0][:, 0], own


def test_global_anomalies_lie_farther_from_normal_rows_than_local(wdbc_normal, mixture):
    d_global, own = _nearest_normal_distance(wdbc_normal, generate("global", wdbc_normal, 300, 0))
    d_local, _ = _nearest_normal_distance(
        wdbc_normal, generate("local", wdbc_normal, 300, 0, mixture=mixture)
    )
    outside = np.quantile(own, 0.99)  # beyond what any normal row sees: outside the normal range
    assert np.median(d_global) > 1.3 * np.median(d_local)
    assert (d_global > outside).mean() > (d_local > outside).mean()


def test_local_is_spread_and_clustered_is_shifted():
    rng = np.random.default_rng(0)
    X = rng.normal(loc=2.0, scale=1.0, size=(600, 3))
    gm = fit_normal_mixture(X, 0, n_components=1)
    local = generate("local", X, 4000, 1, mixture=gm)
    np.testing.assert_allclose(local.var(axis=0) / X.var(axis=0), 5.0, rtol=0.15)  # covariance * alpha
    np.testing.assert_allclose(local.mean(axis=0), X.mean(axis=0), atol=0.2)
    clustered = generate("cluster", X, 4000, 1, mixture=gm)  # ADBench's spelling
    np.testing.assert_allclose(clustered.mean(axis=0), 5.0 * X.mean(axis=0), rtol=0.05)  # means * alpha
    np.testing.assert_allclose(clustered.var(axis=0), X.var(axis=0), rtol=0.15)


def test_global_follows_adbench_bounds():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 4))
    out = generate("global", X, 5000, 0)
    assert (out.min(axis=0) >= 1.1 * X.min(axis=0)).all() and (out.max(axis=0) <= 1.1 * X.max(axis=0)).all()
    np.testing.assert_allclose(out.min(axis=0), 1.1 * X.min(axis=0), atol=0.05)


def test_dependency_breaks_correlation_but_keeps_marginals():
    rng = np.random.default_rng(0)
    a = rng.normal(size=800)
    X = np.column_stack([a, a + 0.1 * rng.normal(size=800), rng.exponential(size=800)])
    out = generate("dependency", X, 4000, 0)
    assert np.corrcoef(X[:, 0], X[:, 1])[0, 1] > 0.99
    assert abs(np.corrcoef(out[:, 0], out[:, 1])[0, 1]) < 0.1
    np.testing.assert_allclose(np.median(out, axis=0), np.median(X, axis=0), atol=0.15)
    np.testing.assert_allclose(out.std(axis=0), X.std(axis=0), rtol=0.15)


def test_constant_feature_stays_finite():
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.normal(size=100), np.full(100, 3.0)])
    for kind in KINDS:
        assert np.isfinite(generate(kind, X, 10, 0, n_components=1)).all()
    np.testing.assert_array_equal(generate("dependency", X, 10, 0)[:, 1], 3.0)


def test_typed_anomaly_set():
    X, y = load("wine")
    X_out, y_out, types = make_typed_anomaly_set(X, y, seed=0, n_components=1)
    assert X_out.shape == (119 + 4 * 10, 13) and np.isfinite(X_out).all()
    assert (types == "normal").sum() == 119 and all((types == k).sum() == 10 for k in KINDS)
    np.testing.assert_array_equal(y_out, (types != "normal").astype(int))
    np.testing.assert_array_equal(X_out[:119], X[y == 0])
    # a type's rows do not depend on the other types asked for: leave-one-type-out folds agree
    X_two, _, types_two = make_typed_anomaly_set(X, y, kinds=["dependency", "global"], seed=0)
    for kind in ("global", "dependency"):
        np.testing.assert_array_equal(X_two[types_two == kind], X_out[types == kind])
    X_real, y_real, types_real = make_typed_anomaly_set(
        X, y, ["global"], seed=0, n_per_kind=5, include_real=True
    )
    assert (types_real == "real").sum() == 10 and (types_real == "global").sum() == 5 and y_real.sum() == 15


def test_bad_input():
    X = np.random.default_rng(0).normal(size=(20, 2))
    with pytest.raises(ValueError, match="unknown anomaly kind"):
        generate("weird", X, 5, 0)
    with pytest.raises(ValueError, match="positive integer"):
        generate("global", X, 0, 0)
    with pytest.raises(ValueError, match="NaN or inf"):
        generate("global", np.full((4, 2), np.nan), 5, 0)
    with pytest.raises(ValueError, match="2-D"):
        generate("global", np.ones(5), 5, 0)
    with pytest.raises(TypeError, match="rng must be"):
        generate("global", X, 5, "seed")
    with pytest.raises(ValueError, match="n_per_kind"):
        make_typed_anomaly_set(X, np.zeros(20, int), ["global"], seed=0)
    with pytest.raises(ValueError, match="distinct"):
        make_typed_anomaly_set(X, np.r_[np.zeros(18, int), 1, 1], ["global", "global"], seed=0)
