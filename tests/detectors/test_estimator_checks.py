"""scikit-learn's own conformance suite (`check_estimator`) for every detector family."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from sklearn.utils.estimator_checks import check_estimator, parametrize_with_checks

from detectors import MambaDetector, MambaMoEDetector
from detectors.adapters import PyODAdapter, SupervisedAdapter
from detectors.boosted import BoostedDetector
from detectors.devnet import DevNet

TINY = {"d_model": 4, "n_layers": 1, "d_state": 2, "max_tokens": 4, "epochs": 2, "device": "cpu"}
ESTIMATORS = [
    MambaDetector(**TINY),
    MambaMoEDetector(n_experts=2, gate_hidden=4, **TINY),
    DevNet(epochs=1, batches_per_epoch=2, batch_size=32),
    PyODAdapter("iforest", n_estimators=10),
]
if importlib.util.find_spec("lightgbm") is not None:
    ESTIMATORS.append(SupervisedAdapter("lightgbm", n_estimators=5, n_jobs=1))
    ESTIMATORS.append(BoostedDetector("lightgbm", unsupervised=("ecod", "knn")))


# Nothing is skipped or expected to fail: the declared tags (binary labels, y required, dense finite
# input of any sign) make every check apply.
@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.mark.parametrize(
    "estimator",
    [MambaDetector(epochs=2, device="cpu"), MambaMoEDetector(epochs=2, n_experts=2, device="cpu")],
)
def test_check_estimator_reports_no_failure_with_default_sizes(estimator):
    results = check_estimator(estimator, on_fail=None)
    failed = [(r["check_name"], str(r["exception"])[:200]) for r in results if r["status"] == "failed"]
    assert not failed, failed
    assert sum(r["status"] == "passed" for r in results) >= 40


def test_input_dtypes_and_one_feature():
    """What the suite probes with y in {1, 2}, also with the documented 0/1 labels."""
    rng = np.random.RandomState(0)
    X = rng.uniform(size=(40, 3)) * 3
    y = np.r_[np.zeros(34, dtype=int), np.ones(6, dtype=int)]
    for dtype in (np.float32, np.int32, np.int64, np.float64):
        scores = MambaDetector(**TINY).fit(X.astype(dtype), y).decision_function(X.astype(dtype))
        assert scores.shape == (40,) and np.isfinite(scores).all()
    assert MambaMoEDetector(n_experts=2, **TINY).fit(X[:, :1], y).predict(X[:, :1]).shape == (40,)
    # Other binary labels follow scikit-learn: the larger value is the labeled anomaly.
    a = MambaDetector(**TINY).fit(X, y).decision_scores_
    np.testing.assert_array_equal(MambaDetector(**TINY).fit(X, y + 1).decision_scores_, a)
    np.testing.assert_array_equal(MambaDetector(**TINY).fit(X, y.astype(bool)).decision_scores_, a)
    with pytest.raises(ValueError, match="outlier convention"):
        MambaDetector(**TINY).fit(X, np.where(y == 1, -1, 1))
    with pytest.raises(ValueError, match="binary"):
        MambaDetector(**TINY).fit(X, np.where(y == 1, "anomaly", "normal"))
