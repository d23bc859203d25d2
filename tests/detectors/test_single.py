"""MambaDetector: PyOD contract, quality floor, determinism, persistence, warm start, bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score

from detectors import MambaDetector, NotFittedError
from tests.detectors.conftest import TINY_SINGLE


@pytest.fixture(scope="module")
def fitted(wdbc_split):
    return MambaDetector(random_state=0, **TINY_SINGLE).fit(wdbc_split.X_train, wdbc_split.y_train)


def test_contract_after_fit(fitted, wdbc_split):
    X = wdbc_split.X_test
    n = len(X)
    assert fitted.n_features_in_ == X.shape[1]
    assert fitted.decision_scores_.shape == (len(wdbc_split.X_train),)
    assert fitted.labels_.shape == (len(wdbc_split.X_train),) and set(np.unique(fitted.labels_)) <= {0, 1}
    assert np.isfinite(fitted.threshold_)
    scores = fitted.decision_function(X)
    assert scores.shape == (n,) and scores.dtype == np.float64
    proba = fitted.predict_proba(X)
    assert proba.shape == (n, 2) and proba.min() >= 0 and proba.max() <= 1
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    pred = fitted.predict(X)
    assert pred.dtype.kind == "i" and set(np.unique(pred)) <= {0, 1}
    np.testing.assert_array_equal(pred, (scores > fitted.threshold_).astype(int))


def test_quality_floor_on_wdbc(fitted, wdbc_split):
    auc = roc_auc_score(wdbc_split.y_test, fitted.decision_function(wdbc_split.X_test))
    assert auc > 0.9, auc  # measured ~0.98 with this tiny model


def test_torch_hot_path_matches_predict_proba_and_has_gradients(fitted, wdbc_split):
    X = wdbc_split.X_test[:16]
    x = torch.as_tensor(X, dtype=torch.float32)
    with torch.inference_mode():
        p = fitted.anomaly_proba_torch(x)
    np.testing.assert_allclose(p.numpy(), fitted.predict_proba(X)[:, 1], atol=1e-5)
    x = x.clone().requires_grad_(True)
    fitted.anomaly_proba_torch(x).sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0


def test_same_seed_same_scores_and_different_seed_differs(fitted, wdbc_split):
    again = MambaDetector(random_state=0, **TINY_SINGLE).fit(wdbc_split.X_train, wdbc_split.y_train)
    np.testing.assert_array_equal(again.decision_scores_, fitted.decision_scores_)
    other = MambaDetector(random_state=1, **TINY_SINGLE).fit(wdbc_split.X_train, wdbc_split.y_train)
    assert not np.allclose(other.decision_scores_, fitted.decision_scores_)


def test_save_load_round_trip(fitted, wdbc_split, tmp_path):
    path = tmp_path / "det.pt"
    fitted.save(path)
    loaded = MambaDetector.load(path)
    X = wdbc_split.X_test
    np.testing.assert_array_equal(loaded.decision_function(X), fitted.decision_function(X))
    np.testing.assert_array_equal(loaded.predict_proba(X), fitted.predict_proba(X))
    assert loaded.threshold_ == fitted.threshold_ and loaded.get_params() == fitted.get_params()
    with pytest.raises(FileNotFoundError):
        MambaDetector.load(tmp_path / "missing.pt")


def test_warm_start_changes_scores_and_stays_fitted(wdbc_split):
    det = MambaDetector(random_state=0, warm_start_epochs=2, **TINY_SINGLE).fit(
        wdbc_split.X_train, wdbc_split.y_train
    )
    before = det.decision_function(wdbc_split.X_test)
    rng = np.random.RandomState(0)
    extra = rng.uniform(0, 1, size=(40, wdbc_split.n_features))  # synthetic anomalies
    X2 = np.vstack([wdbc_split.X_train, extra])
    y2 = np.r_[wdbc_split.y_train, np.ones(40, dtype=int)]
    det.fit(X2, y2, warm_start=True)
    after = det.decision_function(wdbc_split.X_test)
    assert not np.allclose(before, after)
    assert det.decision_scores_.shape == (len(X2),) and det.predict(wdbc_split.X_test).shape == before.shape
    with pytest.raises(ValueError, match="features"):
        det.fit(X2[:, :5], y2, warm_start=True)


def test_bad_input_errors(fitted, wdbc_split):
    X, y = wdbc_split.X_train, wdbc_split.y_train
    with pytest.raises(NotFittedError, match="not fitted"):
        MambaDetector().decision_function(X)
    with pytest.raises(NotFittedError, match="not fitted"):
        MambaDetector().predict_proba(X)
    bad = X.copy()
    bad[3, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        MambaDetector(**TINY_SINGLE).fit(bad, y)
    with pytest.raises(ValueError, match="NaN"):
        fitted.predict(bad)
    with pytest.raises(ValueError, match="features"):
        fitted.decision_function(X[:, :-1])
    with pytest.raises(ValueError, match="labeled anomaly"):
        MambaDetector(**TINY_SINGLE).fit(X, np.zeros(len(X), dtype=int))
    with pytest.raises(ValueError, match="y is None"):
        MambaDetector(**TINY_SINGLE).fit(X)


def test_few_labels_fallback_without_validation_split(wdbc_split):
    """One labeled anomaly: no validation split, prior-corrected calibration, still a valid detector."""
    y = np.zeros_like(wdbc_split.y_train)
    y[np.flatnonzero(wdbc_split.y_train)[0]] = 1
    det = MambaDetector(random_state=0, **TINY_SINGLE).fit(wdbc_split.X_train, y)
    assert det.calibration_.method == "sigmoid" and det.calibration_.slope == 1.0
    proba = det.predict_proba(wdbc_split.X_test)[:, 1]
    assert proba.min() >= 0 and proba.max() <= 1


@pytest.mark.parametrize("ensemble", [1, 3])
def test_the_folded_eval_head_equals_the_members_mean_and_follows_new_weights(ensemble):
    """Eval folds the token mean, the members' mean and the head into one cached product
    (`MambaBackbone._folded_head`); the cache must follow every change of the weights."""
    import copy

    from detectors.single import MambaBackbone

    torch.manual_seed(0)
    config = {"d_model": 8, "n_layers": 1, "d_state": 2, "max_tokens": 12, "ensemble": ensemble}
    net = MambaBackbone(5, **config)
    x = torch.randn(4, 5)

    def members_mean(rows: torch.Tensor) -> torch.Tensor:
        """The unfolded logits (train mode, members' mean) from a copy: `net` keeps its cache and mode."""
        logits = copy.deepcopy(net).train()(rows)
        return logits if ensemble == 1 else logits.mean(dim=-1)

    net.eval()
    with torch.no_grad():
        for n in (4, 1):
            torch.testing.assert_close(net(x[:n], 0.6), 0.6 * members_mean(x[:n]), atol=1e-6, rtol=1e-5)
        assert net._head_cache is not None
        net.load_state_dict(MambaBackbone(5, **config).state_dict())  # new weights, still in eval mode
        torch.testing.assert_close(net(x[:1]), members_mean(x[:1]), atol=1e-6, rtol=1e-5)
        net.head.weight.add_(0.5)
        net.head.bias.sub_(1.0)
        torch.testing.assert_close(net(x[:1]), members_mean(x[:1]), atol=1e-6, rtol=1e-5)
    row = x[:1].clone().requires_grad_(True)
    with torch.inference_mode():
        net(x[:1])  # the cache built under inference mode must still serve a differentiable call
    net(row).sum().backward()
    assert row.grad is not None and row.grad.abs().sum() > 0


def test_a_backbone_built_under_inference_mode_scores_in_and_out_of_it():
    """Its weights are inference tensors, which have no version counter for the head's cache to key on."""
    from detectors.single import MambaBackbone

    torch.manual_seed(0)
    with torch.inference_mode():
        net = MambaBackbone(5, d_model=8, n_layers=1, d_state=2, max_tokens=12, ensemble=3).eval()
        x = torch.randn(2, 5)
        inside = net(x[:1])
    with torch.no_grad():
        torch.testing.assert_close(net(x[:1]), inside)
    assert net._head_cache is None
