"""BoostedDetector: boosting on the features plus standardised unsupervised scores (XGBOD)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.metrics import roc_auc_score

from detectors import load_detector
from detectors.boosted import BoostedDetector
from hydra_env import datasets

pytest.importorskip("catboost")


@pytest.fixture(scope="module")
def wdbc():
    return datasets.adbench_split(*datasets.load("wdbc"), la=0.1, seed=1)


def test_quality_floor_and_widened_rows(wdbc):
    det = BoostedDetector(random_state=1, min_anomalies_for_scores=0).fit(wdbc.X_train, wdbc.y_train)
    # Measured 0.99+ on the embedded wdbc with 2 labeled anomalies; the floor leaves platform margin.
    assert roc_auc_score(wdbc.y_test, det.decision_function(wdbc.X_test)) > 0.95
    assert len(det.scorers_) == 3 and det.estimator_.n_features_in_ == wdbc.X_train.shape[1] + 3
    assert det.predict(wdbc.X_test).shape == det.predict_confidence(wdbc.X_test).shape == (len(wdbc.y_test),)


def test_few_labels_fit_the_plain_booster_and_synthetic_rows_do_not_count(wdbc):
    X, y = wdbc.X_train, wdbc.y_train
    assert y.sum() < 4  # the embedded wdbc at la=0.1 has 2 labeled anomalies
    few = BoostedDetector(booster="lightgbm", random_state=1).fit(X, y)
    assert few.scorers_ == [] and few.score_columns_ == [] and few.estimator_.n_features_in_ == X.shape[1]
    plain = BoostedDetector(booster="lightgbm", random_state=1, unsupervised=()).fit(X, y)
    np.testing.assert_allclose(few.decision_function(wdbc.X_test), plain.decision_function(wdbc.X_test))
    # Two down-weighted synthetic copies of the anomalies do not lift the count to 4 ...
    X_aug, y_aug = np.vstack([X, X[y == 1]]), np.concatenate([y, np.ones(int(y.sum()))])
    w = np.concatenate([np.ones(len(y)), np.full(int(y.sum()), 0.5)])
    assert BoostedDetector(booster="lightgbm").fit(X_aug, y_aug, sample_weight=w).score_columns_ == []
    # ... the same rows at full weight do, and the threshold is a setting.
    assert len(BoostedDetector(booster="lightgbm").fit(X_aug, y_aug).scorers_) == 3
    assert BoostedDetector(booster="lightgbm", min_anomalies_for_scores=0).fit(X, y).score_columns_ == [
        "iforest",
        "ecod",
        "knn",
    ]


def test_sample_weight_changes_the_fit_and_is_validated(wdbc):
    X, y = wdbc.X_train, wdbc.y_train
    plain = BoostedDetector(booster="lightgbm", unsupervised=()).fit(X, y).decision_function(wdbc.X_test)
    weighted = BoostedDetector(booster="lightgbm", unsupervised=())
    w = np.where(y == 1, 10.0, 1.0)
    assert not np.allclose(weighted.fit(X, y, sample_weight=w).decision_function(wdbc.X_test), plain)
    with pytest.raises(ValueError, match="non-negative"):
        weighted.fit(X, y, sample_weight=-w)
    with pytest.raises(ValueError, match="non-zero"):
        weighted.fit(X, y, sample_weight=np.zeros(len(y)))


def test_unfitted_unknown_and_round_trip(wdbc, tmp_path):
    with pytest.raises(NotFittedError):
        BoostedDetector().decision_function(wdbc.X_test)
    with pytest.raises(ValueError, match="unknown unsupervised score"):
        BoostedDetector(unsupervised=("nope",)).fit(wdbc.X_train, wdbc.y_train)
    with pytest.raises(ValueError, match="'booster' parameter of BoostedDetector"):
        BoostedDetector(booster="nope").fit(wdbc.X_train, wdbc.y_train)
    det = BoostedDetector(booster="lightgbm", unsupervised=("ecod",)).fit(wdbc.X_train, wdbc.y_train)
    det.save(tmp_path / "det.pt")
    again = load_detector(tmp_path / "det.pt")
    np.testing.assert_array_equal(again.decision_function(wdbc.X_test), det.decision_function(wdbc.X_test))


def test_scorer_mask_fits_the_label_free_scores_on_the_masked_rows_only(wdbc):
    X, y = wdbc.X_train, wdbc.y_train
    far = np.full((20, X.shape[1]), 5.0)  # rows the scorers must not learn as part of the data
    X_aug, y_aug = np.vstack([X, far]), np.r_[y, np.ones(20, dtype=int)]
    mask = np.arange(len(y_aug)) < len(y)
    masked = BoostedDetector(booster="lightgbm", random_state=1).fit(X_aug, y_aug, scorer_mask=mask)
    plain = BoostedDetector(booster="lightgbm", random_state=1).fit(X_aug, y_aug)
    assert all(len(s.decision_scores_) == len(y) for s in masked.scorers_)
    assert all(len(s.decision_scores_) == len(y_aug) for s in plain.scorers_)
    # Scorers fitted on the real rows find the far rows farther out than scorers that saw them.
    knn = masked.unsupervised.index("knn")
    assert masked.widen(far)[:, X.shape[1] + knn].mean() > plain.widen(far)[:, X.shape[1] + knn].mean()
    for bad in (mask[:-1], mask.astype(int), np.zeros_like(mask)):
        with pytest.raises(ValueError, match="scorer_mask"):
            BoostedDetector(booster="lightgbm").fit(X_aug, y_aug, scorer_mask=bad)
