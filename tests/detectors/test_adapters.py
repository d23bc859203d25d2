"""Baseline adapters and DevNet follow the detector contract."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch
from sklearn.exceptions import NotFittedError
from sklearn.metrics import roc_auc_score

from detectors import load_detector
from detectors.adapters import BENCH_EXTRA_HINT, PyODAdapter, SupervisedAdapter
from detectors.devnet import DevNet


def _blobs(seed: int, n: int = 300, n_anomalies: int = 20, d: int = 6):
    """Normal rows around 0 and anomalies shifted by 4 standard deviations."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = np.zeros(n, dtype=int)
    X[:n_anomalies] += 4.0
    y[:n_anomalies] = 1
    return X, y


def _detectors():
    return [
        PyODAdapter("iforest", random_state=0),
        PyODAdapter("ecod"),
        SupervisedAdapter("catboost", random_state=0, n_jobs=1, iterations=30),
        SupervisedAdapter("lightgbm", random_state=0, n_jobs=1, n_estimators=20),
        DevNet(epochs=5, random_state=0),
    ]


@pytest.fixture(scope="module")
def fitted():
    X, y = _blobs(0)
    return [det.fit(X, y) for det in _detectors()]


@pytest.mark.parametrize("index", range(5), ids=["iforest", "ecod", "catboost", "lightgbm", "devnet"])
def test_contract_shapes_and_quality(fitted, index):
    det = fitted[index]
    X_test, y_test = _blobs(1, n=200)
    scores = det.decision_function(X_test)
    proba = det.predict_proba(X_test)
    labels = det.predict(X_test)
    assert scores.shape == (200,) and scores.dtype == np.float64
    assert proba.shape == (200, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert ((proba >= 0) & (proba <= 1)).all()
    assert set(np.unique(labels)) <= {0, 1}
    np.testing.assert_array_equal(labels, (scores > det.threshold_).astype(int))
    assert det.decision_scores_.shape == (300,) and det.labels_.shape == (300,)
    assert det.n_features_in_ == 6
    # Obvious anomalies score higher, in both the scores and the probabilities.
    assert roc_auc_score(y_test, scores) > 0.95
    assert proba[y_test == 1, 1].mean() > proba[y_test == 0, 1].mean()


@pytest.mark.parametrize("index", range(5), ids=["iforest", "ecod", "catboost", "lightgbm", "devnet"])
def test_bad_input_is_rejected(fitted, index):
    det = fitted[index]
    with pytest.raises(ValueError, match="features"):
        det.decision_function(np.zeros((3, 5)))
    with pytest.raises(ValueError, match="NaN"):
        det.decision_function(np.full((3, 6), np.nan))


@pytest.mark.parametrize("det", _detectors(), ids=["iforest", "ecod", "catboost", "lightgbm", "devnet"])
def test_unfitted_detector_says_so(det):
    with pytest.raises(NotFittedError, match="not fitted"):
        det.decision_function(np.zeros((2, 6)))


def test_supervised_needs_both_classes():
    X, _ = _blobs(0)
    with pytest.raises(ValueError, match="one class only"):
        SupervisedAdapter("lightgbm").fit(X, np.zeros(len(X), dtype=int))
    with pytest.raises(ValueError, match="labeled anomaly"):
        DevNet(epochs=1).fit(X, np.zeros(len(X), dtype=int))
    with pytest.raises(ValueError, match="requires y"):
        DevNet(epochs=1).fit(X)


def test_unknown_names_list_choices():
    X, y = _blobs(0)
    with pytest.raises(ValueError, match="iforest"):
        PyODAdapter("not-a-detector").fit(X)
    with pytest.raises(ValueError, match="catboost"):
        SupervisedAdapter("gradient-boosting").fit(X, y)
    with pytest.raises(ValueError, match="proba_method"):
        PyODAdapter("ecod", proba_method="bogus").fit(X)


@pytest.mark.parametrize("module", ["catboost", "lightgbm"])
def test_missing_optional_dependency_gives_install_hint(monkeypatch, module):
    monkeypatch.setitem(sys.modules, module, None)  # makes `import module` raise ImportError
    X, y = _blobs(0)
    with pytest.raises(ImportError, match=BENCH_EXTRA_HINT.replace("[", r"\[").replace("]", r"\]")):
        SupervisedAdapter(module).fit(X, y)


def test_devnet_is_deterministic_and_leaves_global_rng_alone():
    X, y = _blobs(0)
    state = torch.get_rng_state()
    a = DevNet(epochs=3, random_state=7).fit(X, y).decision_function(X)
    assert torch.equal(state, torch.get_rng_state())
    b = DevNet(epochs=3, random_state=7).fit(X, y).decision_function(X)
    c = DevNet(epochs=3, random_state=8).fit(X, y).decision_function(X)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_devnet_warm_start_continues_training():
    X, y = _blobs(0)
    det = DevNet(epochs=1, random_state=0).fit(X, y)
    weights = det.model_[0].weight.detach().clone()
    det.fit(X, y, warm_start=True)
    fresh = DevNet(epochs=1, random_state=0).fit(X, y)
    # Warm start moved on from the first fit's weights instead of re-initialising to them.
    assert not torch.equal(det.model_[0].weight, fresh.model_[0].weight)
    assert not torch.equal(det.model_[0].weight, weights)


def test_devnet_hot_path_matches_predict_proba():
    X, y = _blobs(0)
    det = DevNet(epochs=2, random_state=0).fit(X, y)
    x = torch.tensor(X[:10], dtype=torch.float32, requires_grad=True)
    p = det.anomaly_proba_torch(x)
    np.testing.assert_allclose(p.detach().numpy(), det.predict_proba(X[:10])[:, 1], rtol=1e-5, atol=1e-6)
    p.sum().backward()  # differentiable w.r.t. the input
    assert x.grad is not None and torch.isfinite(x.grad).all()


def test_save_load_round_trip(tmp_path, fitted):
    X_test, _ = _blobs(2, n=50)
    devnet = fitted[4]
    devnet.save(tmp_path / "devnet.pt")
    np.testing.assert_allclose(
        DevNet.load(tmp_path / "devnet.pt").decision_function(X_test), devnet.decision_function(X_test)
    )
    adapter = fitted[2]
    adapter.save(tmp_path / "catboost.pkl")
    loaded = SupervisedAdapter.load(tmp_path / "catboost.pkl")
    np.testing.assert_allclose(loaded.predict_proba(X_test), adapter.predict_proba(X_test))
    with pytest.raises(ValueError, match="not a PyODAdapter"):
        PyODAdapter.load(tmp_path / "catboost.pkl")
    assert type(load_detector(tmp_path / "devnet.pt")) is DevNet
