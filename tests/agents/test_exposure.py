"""Outlier exposure: perturbed normal rows as synthetic anomalies in the deployment fit."""

from __future__ import annotations

import functools
import json

import numpy as np
import pytest

from agents.config import LoopOptions
from agents.deploy import fit_deployment, synthetic_weights
from agents.exposure import (
    EXPOSURE_ROWS,
    choose_exposure_weight,
    exposure_rows,
    gated_exposure_rows,
    holdout_exposure_auc,
    perturbed_normals,
)


def _rows(seed: int = 0):
    rs = np.random.RandomState(seed)
    X = np.vstack([rs.normal(0.0, 1.0, size=(200, 3)), np.full((5, 3), 100.0)])
    y = np.r_[np.zeros(200, dtype=int), np.ones(5, dtype=int)]
    return X, y


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
        options=LoopOptions(exposure_weight=1.0, exposure_gate=False),
    )  # fmt: skip
    summary = run(config, tmp_path / "run")
    assert summary["n_exposure_rows"] == EXPOSURE_ROWS
    assert summary["deploy_gate"]["exposure_weight_used"] == 1.0  # gate off: the rows always join
    options = json.loads((tmp_path / "run" / "config.json").read_text())["config"]["options"]
    assert options["exposure_weight"] == 1.0 and options["exposure_gate"] is False
    assert summary["test"]["swift_hydra"]["auc_roc"] > 0.9  # embedded wdbc; measured 0.99+
    # With no round, the exposure rows are the only difference: the control is fitted, not copied.
    assert (tmp_path / "run" / "control_detector.pt").is_file()


def _dependency_kinds(seed: int = 0):
    """Normal rows on a noisy 2-D plane in 8-D; four labeled kinds, each breaking one pair of features.

    Kind j draws features 2j and 2j+1 from other normal rows: every value is ordinary, only their
    dependence on the rest is broken. A proxy that learned three kinds' pairs does not know the fourth
    (and the label-free score columns barely do); rows perturbed off the plane teach "off the plane",
    which is what outlier exposure is for.
    """
    rs = np.random.RandomState(seed)
    plane = rs.normal(size=(2, 8))

    def normal(n: int) -> np.ndarray:
        return rs.normal(size=(n, 2)) @ plane + 0.3 * rs.normal(size=(n, 8))

    normals, kinds = normal(400), []
    for j in range(4):
        rows = normal(10)
        rows[:, [2 * j, 2 * j + 1]] = normals[rs.randint(0, 400, 10)][:, [2 * j, 2 * j + 1]]
        kinds.append(rows)
    return np.vstack([normals, *kinds]), np.r_[np.zeros(400, dtype=int), np.ones(40, dtype=int)]


def _near_clusters(seed: int = 0):
    """Normal rows in a Gaussian cloud; four labeled kinds, tight clusters 3 std out on four axes.

    The score columns already flag a held-out cluster; perturbed rows at half a std look like the
    normal rows yet are labeled anomalous, so here they cost AUC and the gate must keep them out.
    """
    rs = np.random.RandomState(seed)
    clusters = [
        rs.normal(0.0, 0.3, size=(20, 4)) + 3.0 * sign * np.eye(4)[j] for j, sign in enumerate((1, -1, 1, -1))
    ]
    X = np.vstack([rs.normal(0.0, 1.0, size=(400, 4)), *clusters])
    return X, np.r_[np.zeros(400, dtype=int), np.ones(80, dtype=int)]


def test_exposure_gate_accepts_rows_that_reveal_a_held_out_kind():
    pytest.importorskip("catboost")
    X, y = _dependency_kinds(seed=1)
    aucs = holdout_exposure_auc(X, y, seed=1)
    assert aucs["auc_with"] >= aucs["auc_without"] + 0.03  # measured +0.051 (gate seeds 1-3: +0.05 to +0.11)
    weight, evidence = choose_exposure_weight(X, y, 1.0, seed=1)  # reruns the gate: same seed, same AUCs
    assert weight == 1.0
    assert (evidence["exposure_auc_without"], evidence["exposure_auc_with"]) == (
        aucs["auc_without"],
        aucs["auc_with"],
    )


def test_exposure_gate_weighs_the_rows_as_the_deployment_fit_will():
    pytest.importorskip("catboost")
    X, y = _dependency_kinds(seed=1)
    light = holdout_exposure_auc(X, y, seed=1, exposure_weight=0.05)
    heavy = holdout_exposure_auc(X, y, seed=1, exposure_weight=4.0)
    assert light["auc_without"] == heavy["auc_without"]  # the fit without rows does not depend on it
    assert light["auc_with"] != heavy["auc_with"]
    with pytest.raises(ValueError, match="exposure_weight"):
        holdout_exposure_auc(X, y, seed=1, exposure_weight=0.0)


def test_exposure_gate_rejects_rows_that_hurt_held_out_kinds():
    pytest.importorskip("catboost")
    X, y = _near_clusters()
    weight, evidence = choose_exposure_weight(X, y, 1.0, seed=1)
    assert weight == 0.0
    assert (
        evidence["exposure_auc_with"] < evidence["exposure_auc_without"]
    )  # measured -0.025 (seeds 1-3: to -0.053)


def test_exposure_gate_needs_two_distinct_labeled_anomalies():
    X, y = _dependency_kinds()
    y_one = np.r_[np.zeros(400, dtype=int), 1, np.zeros(39, dtype=int)]
    assert holdout_exposure_auc(X, y_one, seed=1) is None
    X_same = X.copy()
    X_same[400:] = X[400]  # forty copies of one row: one group only
    assert holdout_exposure_auc(X_same, y, seed=1) is None
    assert choose_exposure_weight(X_same, y, 1.0, seed=1) == (
        0.0, {"exposure_auc_without": None, "exposure_auc_with": None}
    )  # fmt: skip
    assert choose_exposure_weight(X, y, 0.0, seed=1)[0] == 0.0  # no rows asked for: the gate does not run


@pytest.mark.parametrize(("accepted", "n_rows"), [(True, EXPOSURE_ROWS), (False, 0)])
def test_gated_exposure_rows_follow_the_gate(monkeypatch, accepted, n_rows):
    import agents.exposure as exposure

    calls = []

    def fake_gate(X, y, weight, seed):
        calls.append(weight)
        return (weight if accepted else 0.0), {"exposure_auc_without": 0.5, "exposure_auc_with": 0.6}

    monkeypatch.setattr(exposure, "choose_exposure_weight", fake_gate)
    X, y = _rows()
    rows, record = gated_exposure_rows(LoopOptions(exposure_weight=0.5), X, y, seed=1)
    assert len(rows) == n_rows and record["exposure_weight_used"] == (0.5 if accepted else 0.0)
    assert record["exposure_auc_with"] == 0.6 and calls == [0.5]
    # Gate off: the rows always join and the gate never runs; no weight: no row and no gate.
    rows, record = gated_exposure_rows(LoopOptions(exposure_weight=0.5, exposure_gate=False), X, y, seed=1)
    assert len(rows) == EXPOSURE_ROWS and record["exposure_weight_used"] == 0.5 and calls == [0.5]
    rows, record = gated_exposure_rows(LoopOptions(), X, y, seed=1)
    assert len(rows) == 0 and record["exposure_weight_used"] == 0.0 and calls == [0.5]


@pytest.mark.parametrize("accepted", [True, False])
def test_the_loop_deploys_exposure_rows_only_when_the_gate_accepts(monkeypatch, accepted):
    import agents.exposure as exposure
    from agents.loop import fit_swift_hydra
    from hydra_env import datasets

    def fake_gate(X, y, weight, seed):
        return (weight if accepted else 0.0), {"exposure_auc_without": 0.7, "exposure_auc_with": 0.8}

    monkeypatch.setattr(exposure, "choose_exposure_weight", fake_gate)
    split = datasets.adbench_split(*datasets.load("wine"), la=0.3, seed=1)
    detector = fit_swift_hydra(
        split.X_train, split.y_train, algo="random", budget="tiny", seed=1, budget_overrides={"rounds": 0},
        options=LoopOptions(deploy="lightgbm", exposure_weight=1.0),
    )  # fmt: skip
    assert detector.exposure_anomalies_.shape == ((EXPOSURE_ROWS if accepted else 0), split.X_train.shape[1])


def test_a_blended_deployment_takes_the_exposure_rows_without_their_gate(monkeypatch):
    import agents.exposure as exposure

    def gate_must_not_run(*args, **kwargs):
        raise AssertionError("a blended deployment hedges the exposure rows instead of gating them")

    monkeypatch.setattr(exposure, "choose_exposure_weight", gate_must_not_run)
    X, y = _rows()
    rows, record = gated_exposure_rows(LoopOptions(exposure_weight=0.5, synthetic_blend=0.5), X, y, seed=1)
    assert len(rows) == EXPOSURE_ROWS and record["exposure_weight_used"] == 0.5


def test_fit_deployment_blends_only_when_there_are_synthetic_rows():
    from detectors.blend import LogOddsBlend

    X, y = _rows()
    rows = exposure_rows(LoopOptions(exposure_weight=1.0), X, y, seed=1)
    blended = fit_deployment(
        "lightgbm", X, y, X[:0], budget=None, seed=1, exposure=rows, exposure_weight=1.0, blend=0.5
    )
    plain = fit_deployment("lightgbm", X, y, X[:0], budget=None, seed=1, blend=0.5)
    assert isinstance(blended, LogOddsBlend) and blended.augmented_ is not blended.base_
    assert not isinstance(plain, LogOddsBlend)  # nothing to hedge: the control's own fit
    np.testing.assert_array_equal(blended.base_.decision_function(X), plain.decision_function(X))


@pytest.mark.parametrize("blend", [-0.1, 1.5, float("nan")])
def test_synthetic_blend_outside_zero_one_is_named(blend):
    with pytest.raises(ValueError, match="synthetic_blend must lie in"):
        LoopOptions(synthetic_blend=blend)


def test_a_blended_run_saves_the_blend_and_records_it(tmp_path):
    from agents.config import TrainConfig
    from agents.experiment import run
    from detectors import load_detector
    from detectors.blend import LogOddsBlend
    from hydra_env import datasets

    config = TrainConfig(
        dataset="wdbc", budget="tiny", seed=1, budget_overrides={"rounds": 0}, control=True, progress=False,
        options=LoopOptions(deploy="lightgbm", exposure_weight=1.0, synthetic_blend=0.5),
    )  # fmt: skip
    summary = run(config, tmp_path / "run")
    assert summary["deploy_gate"]["synthetic_blend_used"] == 0.5
    assert summary["n_exposure_rows"] == EXPOSURE_ROWS and isinstance(summary["deploy_score_columns"], list)
    detector = load_detector(tmp_path / "run" / "detector.pt")
    assert isinstance(detector, LogOddsBlend) and detector.augmented_ is not detector.base_
    split = datasets.adbench_split(*datasets.load("wdbc"), la=0.1, seed=1)
    assert roc_auc_score_of(detector, split) > 0.9  # embedded wdbc; the control scores 0.99+


def roc_auc_score_of(detector, split) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(split.y_test, detector.decision_function(split.X_test)))
