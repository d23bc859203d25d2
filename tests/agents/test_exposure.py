"""Outlier exposure: perturbed normal rows as synthetic anomalies in the deployment fit."""

from __future__ import annotations

import functools
import json

import numpy as np
import pytest

from agents.config import LoopOptions
from agents.deploy import fit_deployment, synthetic_weights
from agents.exposure import EXPOSURE_ROWS, exposure_rows, perturbed_normals


def _rows(seed: int = 0):
    rs = np.random.RandomState(seed)
    X = np.vstack([rs.normal(0.0, 1.0, size=(200, 3)), np.full((5, 3), 100.0)])
    y = np.r_[np.zeros(200, dtype=int), np.ones(5, dtype=int)]
    return X, y


def test_perturbed_normals_shape_determinism_and_scales():
    X, y = _rows()
    rows = perturbed_normals(X, y, n_rows=300, scales=(0.5, 2.0), seed=3)
    assert rows.shape == (300, 3) and rows.dtype == np.float32
    np.testing.assert_array_equal(rows, perturbed_normals(X, y, n_rows=300, scales=(0.5, 2.0), seed=3))
    assert not np.array_equal(rows, perturbed_normals(X, y, n_rows=300, scales=(0.5, 2.0), seed=4))
    # Centres are normal rows only (the anomalies sit at 100), and rows cycle through the scales:
    # the odd rows (scale 2) spread about four times as wide as the even ones (scale 0.5), plus the centres'.
    assert np.abs(rows).max() < 20
    assert rows[1::2].std() > 1.4 * rows[::2].std()


def test_perturbed_normals_keep_discrete_features_on_their_values():
    X, y = _rows()
    X = np.column_stack([X, np.arange(len(X)) % 2])  # a 0/1 flag
    rows = perturbed_normals(X, y, n_rows=300, seed=1)
    assert set(np.unique(rows[:, -1])) <= {0.0, 1.0}
    assert len(np.unique(rows[:, 0])) == 300  # continuous features keep their noise


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_rows": 0}, "n_rows"),
        ({"scales": (0.5, 0.0)}, "scales"),
        ({"scales": ()}, "scales"),
    ],
)
def test_perturbed_normals_rejects_bad_settings(kwargs, message):
    X, y = _rows()
    with pytest.raises(ValueError, match=message):
        perturbed_normals(X, y, **kwargs)


def test_perturbed_normals_rejects_bad_rows():
    X, y = _rows()
    with pytest.raises(ValueError, match="no row labeled normal"):
        perturbed_normals(X, np.ones_like(y))
    bad = X.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="finite"):
        perturbed_normals(bad, y)


def test_exposure_rows_follow_the_option():
    X, y = _rows()
    assert exposure_rows(LoopOptions(), X, y, seed=1).shape == (0, 3)
    rows = exposure_rows(LoopOptions(exposure_weight=0.5), X, y, seed=1)
    np.testing.assert_array_equal(rows, perturbed_normals(X, y, seed=1))
    assert len(rows) == EXPOSURE_ROWS
    with pytest.raises(ValueError, match="exposure_weight"):
        LoopOptions(exposure_weight=-1.0).validate()


def test_synthetic_weights_share_each_group_weight():
    y = np.r_[np.zeros(10, dtype=int), np.ones(4, dtype=int)]
    w = synthetic_weights(y, 8, 1.0, 16, 0.5)
    np.testing.assert_allclose(w[:14], 1.0)
    assert w[14:22].sum() == pytest.approx(4.0) and w[22:].sum() == pytest.approx(2.0)
    np.testing.assert_allclose(synthetic_weights(y, 8, 1.0), w[:22])  # no exposure group: unchanged


def test_fit_deployment_adds_exposure_rows_as_anomalies_outside_the_scorers(monkeypatch):
    pytest.importorskip("lightgbm")
    from detectors.boosted import BoostedDetector

    calls = []
    real_fit = BoostedDetector.fit

    @functools.wraps(real_fit)  # keeps fit's signature: fit_deployment reads it
    def spy(self, X, y=None, **kwargs):
        calls.append((np.asarray(X), np.asarray(y), kwargs))
        return real_fit(self, X, y, **kwargs)

    monkeypatch.setattr(BoostedDetector, "fit", spy)
    X, y = _rows()
    X = X / 100.0
    kept = np.full((6, 3), 0.5, dtype=np.float32)
    exposure = perturbed_normals(X, y, n_rows=12, seed=2)
    fit_deployment(
        "lightgbm",
        X,
        y,
        kept,
        budget=None,
        seed=1,
        synthetic_weight=1.0,
        exposure=exposure,
        exposure_weight=0.5,
    )
    X_fit, y_fit, kwargs = calls[-1]
    assert len(X_fit) == len(X) + 6 + 12 and y_fit[len(X) :].all()
    np.testing.assert_allclose(X_fit[-12:], exposure.astype(np.float64))
    mask = kwargs["scorer_mask"]
    assert mask.sum() == len(X) + 6 and not mask[-12:].any()
    assert kwargs["sample_weight"][-12:].sum() == pytest.approx(0.5 * y.sum())
    # Weight 0 leaves the exposure rows out entirely: the control's training set plus the kept rows.
    fit_deployment("lightgbm", X, y, kept, budget=None, seed=1, exposure=exposure, exposure_weight=0.0)
    assert len(calls[-1][0]) == len(X) + 6 and "scorer_mask" not in calls[-1][2]


def test_a_run_with_exposure_weight_records_and_deploys_the_rows(tmp_path):
    from agents.config import TrainConfig
    from agents.experiment import run

    config = TrainConfig(
        dataset="wdbc", budget="tiny", seed=1, budget_overrides={"rounds": 0}, control=True, progress=False,
        options=LoopOptions(exposure_weight=1.0),
    )  # fmt: skip
    summary = run(config, tmp_path / "run")
    assert summary["n_exposure_rows"] == EXPOSURE_ROWS
    assert (
        json.loads((tmp_path / "run" / "config.json").read_text())["config"]["options"]["exposure_weight"]
        == 1.0
    )
    assert summary["test"]["swift_hydra"]["auc_roc"] > 0.9  # embedded wdbc; measured 0.99+
    # With no round, the exposure rows are the only difference: the control is fitted, not copied.
    assert (tmp_path / "run" / "control_detector.pt").is_file()
