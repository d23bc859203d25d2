"""scikit-learn's own conformance suite (`check_estimator`) for every detector family."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from sklearn.utils.estimator_checks import check_estimator, parametrize_with_checks

from detectors import MambaDetector, MambaMoEDetector
from detectors.adapters import PyODAdapter, SupervisedAdapter
from detectors.blend import LogOddsBlend
from detectors.boosted import BoostedDetector
from detectors.devnet import DevNet

TINY = {"d_model": 4, "n_layers": 1, "d_state": 2, "max_tokens": 4, "epochs": 2, "device": "cpu"}
ESTIMATORS = [
    MambaDetector(**TINY),
    MambaMoEDetector(n_experts=2, gate_hidden=4, **TINY),
    MambaMoEDetector(n_experts=2, gate_hidden=4, numeric_embedding="piecewise_linear", **TINY),
    DevNet(epochs=1, batches_per_epoch=2, batch_size=32),
    PyODAdapter("iforest", n_estimators=10),
]
if importlib.util.find_spec("lightgbm") is not None:
    ESTIMATORS.append(SupervisedAdapter("lightgbm", n_estimators=5, n_jobs=1))
    ESTIMATORS.append(BoostedDetector("lightgbm", unsupervised=("ecod", "knn")))
    ESTIMATORS.append(LogOddsBlend(BoostedDetector("lightgbm", unsupervised=("ecod",), n_jobs=1), weight=0.5))


def expected_failures(estimator) -> dict[str, str]:
    """The one check a float32 mixture cannot pass bit-for-bit (its property is tested below).

    scikit-learn compares scores of a randomly permuted X with atol=1e-9. MoME routes rows to experts,
    so a permutation changes each expert's batch composition, and float32 matrix products then differ
    in the last bits (1.5e-8 seen): the check failed about half the runs, on main too.
    """
    if isinstance(estimator, MambaMoEDetector):
        return {"check_methods_sample_order_invariance": "float32 last-bit noise; see test below"}
    return {}


# Otherwise nothing is skipped or expected to fail: the declared tags (binary labels, y required,
# dense finite input of any sign) make every check apply.
@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failures, xfail_strict=False)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.mark.parametrize("seed", range(5))
def test_mome_scores_do_not_depend_on_row_order_or_batch(seed):
    rng = np.random.RandomState(seed)
    X = 3 * rng.uniform(size=(40, 3))
    y = (X[:, 0] > 2.2).astype(int)
    model = MambaMoEDetector(n_experts=2, gate_hidden=4, **TINY).fit(X, y)
    scores = model.decision_function(X)
    order = rng.permutation(len(X))
    np.testing.assert_allclose(model.decision_function(X[order]), scores[order], rtol=0, atol=1e-6)
    one_by_one = np.concatenate([model.decision_function(X[i : i + 1]) for i in range(len(X))])
    np.testing.assert_allclose(one_by_one, scores, rtol=0, atol=1e-6)


@pytest.mark.parametrize(
    "estimator",
    [MambaDetector(epochs=2, device="cpu"), MambaMoEDetector(epochs=2, n_experts=2, device="cpu")],
)
def test_check_estimator_reports_no_failure_with_default_sizes(estimator):
    results = check_estimator(estimator, on_fail=None, expected_failed_checks=expected_failures(estimator))
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
