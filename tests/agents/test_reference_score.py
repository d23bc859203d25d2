"""The reference column: a cross-fitted classifier of real rows against rows perturbed off them."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from agents.config import LoopOptions
from agents.deploy import fit_deployment
from agents.reference_score import ReferenceClassifier

pytest.importorskip("lightgbm")


def _plane(n: int, seed: int = 0, plane_seed: int = 0) -> np.ndarray:
    """Rows near a 2-D plane in 6-D: every feature depends on the others."""
    plane = np.random.RandomState(plane_seed).normal(size=(2, 6))
    rs = np.random.RandomState(seed)
    return rs.normal(size=(n, 2)) @ plane + 0.2 * rs.normal(size=(n, 6))


def _broken(n: int, seed: int = 1) -> np.ndarray:
    """Rows whose every value is ordinary but whose features are drawn from different rows."""
    rows, rs = _plane(n, seed=seed), np.random.RandomState(seed + 100)
    return np.column_stack([rows[rs.permutation(n), j] for j in range(rows.shape[1])])


def test_it_scores_rows_that_break_the_data_s_structure_above_the_data():
    scorer = ReferenceClassifier(random_state=1).fit(_plane(600))
    fresh, broken = scorer.decision_function(_plane(200, seed=5)), scorer.decision_function(_broken(200))
    # Label-free, and no value of the broken rows is out of range; measured AUC 0.968.
    assert roc_auc_score(np.r_[np.zeros(200), np.ones(200)], np.r_[fresh, broken]) > 0.9


def test_rows_far_outside_the_training_range_rank_above_the_median_training_row():
    X = _plane(600)
    scorer = ReferenceClassifier(random_state=1).fit(X)
    far = np.vstack([X.max(axis=0) + 10 * X.std(axis=0), X.min(axis=0) - 10 * X.std(axis=0)])
    assert (scorer.decision_function(far) > np.median(scorer.decision_scores_)).all()


def test_seen_rows_get_their_out_of_fold_score_so_training_and_new_rows_share_a_scale():
    X = _plane(600)
    scorer = ReferenceClassifier(random_state=1).fit(X)
    np.testing.assert_array_equal(scorer.decision_function(X[::7]), scorer.decision_scores_[::7])
    in_sample = np.mean([model.predict_proba(X)[:, 1] for model in scorer.models_], axis=0)
    fresh = scorer.decision_function(_plane(600, seed=9))
    # The fold models have seen 4 of 5 training rows: in-sample scores sit below fresh rows' scores,
    # the out-of-fold ones do not (measured means 0.191 out-of-fold, 0.192 fresh, 0.116 in-sample).
    assert abs(scorer.decision_scores_.mean() - fresh.mean()) < 0.5 * abs(in_sample.mean() - fresh.mean())


def test_same_seed_same_scores_and_another_seed_other_scores():
    X, new = _plane(300), _plane(50, seed=3)
    first = ReferenceClassifier(random_state=2).fit(X).decision_function(new)
    np.testing.assert_array_equal(first, ReferenceClassifier(random_state=2).fit(X).decision_function(new))
    assert not np.array_equal(first, ReferenceClassifier(random_state=3).fit(X).decision_function(new))


@pytest.mark.parametrize(
    ("kwargs", "rows", "message"),
    [
        ({"n_folds": 1}, 100, "n_folds"),
        ({"max_reference_rows": 2}, 100, "max_reference_rows"),
        ({}, 3, "rows"),
    ],
)
def test_bad_settings_and_too_few_rows_are_named(kwargs, rows, message):
    with pytest.raises(ValueError, match=message):
        ReferenceClassifier(**kwargs).fit(_plane(rows))


def test_boosted_detector_takes_it_as_one_more_column_and_saves_it(tmp_path):
    from detectors import load_detector
    from detectors.boosted import BoostedDetector

    X = np.vstack([_plane(400), _broken(20)])
    y = np.r_[np.zeros(400, dtype=int), np.ones(20, dtype=int)]
    detector = BoostedDetector(booster="lightgbm", reference=ReferenceClassifier(random_state=1)).fit(X, y)
    assert detector.widen(X[:5]).shape == (5, 6 + 3 + 1)  # features, IForest/ECOD/k-NN, reference
    detector.save(tmp_path / "d.pt")
    np.testing.assert_array_equal(
        load_detector(tmp_path / "d.pt").decision_function(X), detector.decision_function(X)
    )
    with pytest.raises(ValueError, match="reference"):
        BoostedDetector(booster="lightgbm", reference="knn").fit(X, y)


def test_fit_deployment_adds_the_column_to_boosters_only_when_asked():
    X = np.vstack([_plane(300), _broken(15)])
    y = np.r_[np.zeros(300, dtype=int), np.ones(15, dtype=int)]
    empty = np.zeros((0, 6), dtype=np.float32)
    with_column = fit_deployment("lightgbm", X, y, empty, budget=None, seed=1, reference_column=True)
    control = fit_deployment("lightgbm", X, y, empty, budget=None, seed=1)
    assert isinstance(with_column.reference, ReferenceClassifier) and with_column.reference.random_state == 1
    assert control.reference is None


@pytest.mark.parametrize("reference_column", [True, False])
def test_a_run_records_the_column_and_fits_the_control_apart_only_with_it(tmp_path, reference_column):
    from agents.config import TrainConfig
    from agents.experiment import run

    config = TrainConfig(
        dataset="wdbc", budget="tiny", seed=1, budget_overrides={"rounds": 0}, control=True, progress=False,
        options=LoopOptions(deploy="lightgbm", reference_column=reference_column),
    )  # fmt: skip
    summary = run(config, tmp_path / "run")
    assert summary["deploy_gate"]["reference_column_used"] is reference_column
    # With no round and no exposure row, the column is the only difference from the control.
    assert (tmp_path / "run" / "control_detector.pt").is_file() is reference_column
    assert summary["test"]["swift_hydra"]["auc_roc"] > 0.9  # embedded wdbc; measured 0.99+


def test_the_seen_row_table_keeps_digests_not_the_training_rows():
    import pickle

    X = np.random.RandomState(0).normal(size=(300, 200))  # a wide set: 480 kB of rows
    scorer = ReferenceClassifier(n_estimators=20, random_state=1).fit(X)
    assert len(pickle.dumps(scorer.seen_scores_)) < X.nbytes / 20
    np.testing.assert_array_equal(scorer.decision_function(X[:10]), scorer.decision_scores_[:10])
