"""Property tests at the detectors' boundary: any float array gives a named error or a finite result.

Never NaN, never a silent pass of values the float32 networks cannot hold.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from detectors import MambaDetector

TINY = {"d_model": 4, "n_layers": 1, "d_state": 2, "max_tokens": 4, "epochs": 1, "device": "cpu"}
FLOATS = st.floats(allow_nan=True, allow_infinity=True, width=64)


@pytest.fixture(scope="module")
def fitted() -> MambaDetector:
    rng = np.random.default_rng(0)
    X = rng.uniform(size=(60, 3))
    y = np.r_[np.zeros(54, dtype=int), np.ones(6, dtype=int)]
    return MambaDetector(**TINY).fit(X, y)


def _named(err: ValueError) -> bool:
    text = str(err).lower()
    return any(word in text for word in ("nan", "infinity", "float32", "features", "2d", "empty", "sample"))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(arrays(np.float64, st.tuples(st.integers(1, 5), st.just(3)), elements=FLOATS))
def test_decision_function_on_any_floats(fitted, X):
    try:
        scores = fitted.decision_function(X)
    except ValueError as err:
        assert _named(err), err
        assert not np.isfinite(X).all() or np.abs(X).max() > np.finfo(np.float32).max
        return
    assert scores.shape == (len(X),) and np.isfinite(scores).all()


@settings(max_examples=15, deadline=None)
@given(
    arrays(np.float64, st.tuples(st.integers(8, 20), st.integers(1, 3)), elements=FLOATS),
    st.integers(1, 3),
)
def test_fit_on_any_floats(X, n_anomalies):
    y = np.zeros(len(X), dtype=int)
    y[:n_anomalies] = 1
    try:
        det = MambaDetector(**TINY).fit(X, y)
    except ValueError as err:
        assert _named(err), err
        return
    assert np.isfinite(det.decision_scores_).all() and np.isfinite(det.threshold_)
