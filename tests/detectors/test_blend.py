"""`LogOddsBlend`: a detector fitted without and with synthetic rows, its two log-odds averaged."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from detectors import NotFittedError, load_detector
from detectors.blend import LogOddsBlend

pytest.importorskip("lightgbm")
from detectors.boosted import BoostedDetector  # noqa: E402


def _booster() -> BoostedDetector:
    return BoostedDetector("lightgbm", unsupervised=("ecod",), random_state=0, n_jobs=1)


def _data(seed: int = 0):
    """Normals, a labeled anomaly cluster, and synthetic rows: a second cluster the labels never show."""
    rng = np.random.default_rng(seed)
    normal = rng.normal(0.0, 1.0, size=(300, 3))
    labeled = rng.normal([4.0, 0.0, 0.0], 0.3, size=(10, 3))
    synthetic = rng.normal([0.0, 4.0, 0.0], 0.3, size=(30, 3))
    X = np.vstack([normal, labeled, synthetic])
    y = np.r_[np.zeros(300), np.ones(40)].astype(int)
    mask = np.r_[np.zeros(310, dtype=bool), np.ones(30, dtype=bool)]
    unseen = np.vstack([rng.normal(0.0, 1.0, size=(100, 3)), rng.normal([0.0, 4.0, 0.0], 0.3, size=(10, 3))])
    return X, y, mask, unseen, np.r_[np.zeros(100), np.ones(10)].astype(int)


def _logit(p):
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def test_the_blend_is_the_weighted_mean_of_the_two_fits_log_odds():
    X, y, mask, X_new, _ = _data()
    blend = LogOddsBlend(_booster(), weight=0.3).fit(X, y, synthetic_mask=mask)
    base = _booster().fit(X[~mask], y[~mask])
    augmented = _booster().fit(X, y)
    expected = 0.7 * _logit(base.predict_proba(X_new)[:, 1]) + 0.3 * _logit(
        augmented.predict_proba(X_new)[:, 1]
    )
    np.testing.assert_allclose(_logit(blend.decision_function(X_new)), expected, atol=1e-6)
    # The fit without the rows is the fit a caller without synthetic rows gets (the paired control).
    np.testing.assert_array_equal(blend.base_.decision_function(X_new), base.decision_function(X_new))


def test_weights_zero_and_one_score_as_each_fit_alone():
    X, y, mask, X_new, _ = _data()
    alone = {w: LogOddsBlend(_booster(), weight=w).fit(X, y, synthetic_mask=mask) for w in (0.0, 1.0)}
    np.testing.assert_allclose(
        alone[0.0].decision_function(X_new), alone[0.0].base_.predict_proba(X_new)[:, 1], atol=1e-6
    )
    np.testing.assert_allclose(
        alone[1.0].decision_function(X_new), alone[1.0].augmented_.predict_proba(X_new)[:, 1], atol=1e-6
    )


def test_the_blend_keeps_the_rows_gain_on_the_kind_they_show():
    X, y, mask, X_new, y_new = _data()
    control = roc_auc_score(y_new, _booster().fit(X[~mask], y[~mask]).decision_function(X_new))
    blended = roc_auc_score(
        y_new, LogOddsBlend(_booster()).fit(X, y, synthetic_mask=mask).decision_function(X_new)
    )
    assert control < 0.9 and blended > control + 0.05


def test_without_synthetic_rows_it_is_one_fit():
    X, y, mask, X_new, _ = _data()
    blend = LogOddsBlend(_booster()).fit(X[~mask], y[~mask])
    assert blend.augmented_ is blend.base_
    np.testing.assert_allclose(
        blend.decision_function(X_new), _booster().fit(X[~mask], y[~mask]).decision_function(X_new), atol=1e-9
    )


def test_bad_input_is_named():
    X, y, mask, _, _ = _data()
    with pytest.raises(NotFittedError):
        LogOddsBlend(_booster()).decision_function(X)
    with pytest.raises(ValueError, match="synthetic_mask must be a boolean mask of 340 rows"):
        LogOddsBlend(_booster()).fit(X, y, synthetic_mask=mask[:10])
    with pytest.raises(ValueError, match="not marked synthetic must hold both classes"):
        LogOddsBlend(_booster()).fit(X, y, synthetic_mask=y == 1)
    with pytest.raises(ValueError, match="needs an estimator"):
        LogOddsBlend().fit(X, y)
    with pytest.raises(ValueError, match="weight"):
        LogOddsBlend(_booster(), weight=1.5).fit(X, y)
    with pytest.raises(ValueError, match="sample_weight must hold 340 numbers"):
        LogOddsBlend(_booster()).fit(X, y, synthetic_mask=mask, sample_weight=np.ones(3))


def test_save_and_load_give_the_same_scores(tmp_path):
    X, y, mask, X_new, _ = _data()
    blend = LogOddsBlend(_booster(), weight=0.5).fit(X, y, synthetic_mask=mask)
    blend.save(tmp_path / "blend.pt")
    loaded = load_detector(tmp_path / "blend.pt")
    assert isinstance(loaded, LogOddsBlend) and loaded.weight == 0.5
    np.testing.assert_array_equal(loaded.decision_function(X_new), blend.decision_function(X_new))
    np.testing.assert_array_equal(loaded.predict(X_new), blend.predict(X_new))
