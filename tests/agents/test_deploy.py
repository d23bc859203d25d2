"""The deployment gate: kept synthetic rows join the deployed detector only when held-out evidence says so."""

from __future__ import annotations

import numpy as np
import pytest

from agents.deploy import GATE_MARGIN, MIN_GATE_ANOMALIES, choose_synthetic_weight

pytest.importorskip("lightgbm")


def _data(seed: int = 0):
    """Normals around 0; a far anomaly cluster the fit part labels, and a near one only validation holds.

    The near cluster sits 1.5 standard deviations off the normals in one feature, so the label-free
    score columns barely see it (validation AUC about 0.6 without the rows): the kept rows must teach it.
    """
    rng = np.random.default_rng(seed)
    d = 6

    def normals(n):
        return rng.normal(0.0, 1.0, size=(n, d))

    def cluster(n, centre):
        return rng.normal(centre, 0.4, size=(n, d))

    far, near = np.r_[3.0, 3.0, np.zeros(d - 2)], np.r_[1.5, np.zeros(d - 1)]
    X_fit = np.vstack([normals(400), cluster(6, far)])
    y_fit = np.r_[np.zeros(400), np.ones(6)].astype(int)
    X_val = np.vstack([normals(200), cluster(8, far), rng.normal(near, 0.3, size=(16, d))])
    y_val = np.r_[np.zeros(200), np.ones(24)].astype(int)
    helpful = rng.normal(near, 0.3, size=(60, d))  # the kind the fit part never labeled, and validation holds
    harmful = normals(200)  # normal rows labeled anomalous: label noise
    return X_fit, y_fit, X_val, y_val, helpful, harmful


def test_rows_that_raise_the_held_out_auc_join():
    X_fit, y_fit, X_val, y_val, helpful, _ = _data()
    weight, evidence = choose_synthetic_weight(
        X_fit, y_fit, X_val, y_val, helpful, synthetic_weight=1.0, seed=1
    )
    assert evidence["val_auc_with"] >= evidence["val_auc_without"] + GATE_MARGIN
    assert weight == 1.0


def test_rows_that_lower_the_held_out_auc_are_refused():
    """Replanting an always-accepting gate must fail here."""
    X_fit, y_fit, X_val, y_val, _, harmful = _data()
    far_kind = np.r_[np.flatnonzero(y_val == 0), np.flatnonzero(y_val == 1)[:8]]  # a kind the fit part knows
    X_val, y_val = X_val[far_kind], y_val[far_kind]
    weight, evidence = choose_synthetic_weight(
        X_fit, y_fit, X_val, y_val, harmful, synthetic_weight=1.0, seed=1
    )
    assert evidence["val_auc_with"] < evidence["val_auc_without"]
    assert weight == 0.0


def test_without_enough_validation_anomalies_nothing_joins_and_no_evidence_is_claimed():
    X_fit, y_fit, X_val, y_val, helpful, _ = _data()
    keep = np.r_[np.flatnonzero(y_val == 0), np.flatnonzero(y_val == 1)[: MIN_GATE_ANOMALIES - 1]]
    weight, evidence = choose_synthetic_weight(
        X_fit, y_fit, X_val[keep], y_val[keep], helpful, synthetic_weight=1.0, seed=1
    )
    assert weight == 0.0 and evidence == {"val_auc_without": None, "val_auc_with": None}


def test_the_few_labels_table_decides_which_family_skips_the_gate(monkeypatch):
    import agents.deploy
    from agents.deploy import FEW_LABELS_JOIN_BELOW, joins_without_gate

    three, four = np.r_[np.zeros(50), np.ones(3)], np.r_[np.zeros(50), np.ones(4)]
    assert FEW_LABELS_JOIN_BELOW == {}  # withdrawn: its check on other sets failed
    assert not joins_without_gate("mome", three) and not joins_without_gate("catboost", three)
    monkeypatch.setattr(agents.deploy, "FEW_LABELS_JOIN_BELOW", {"mome": 4})
    assert joins_without_gate("mome", three) and not joins_without_gate("mome", four)
    assert not joins_without_gate("catboost", three)


@pytest.mark.slow
def test_a_family_in_the_few_labels_table_deploys_its_kept_rows(monkeypatch):
    """Two labeled anomalies: no gate can judge; a family in the table takes the kept rows, others do not."""
    import agents.deploy
    from agents.config import LoopOptions, get_budget
    from agents.loop import swift_hydra_loop
    from hydra_env import datasets

    monkeypatch.setattr(agents.deploy, "FEW_LABELS_JOIN_BELOW", {"mome": 4})
    split = datasets.adbench_split(*datasets.load("wdbc"), la=0.1, seed=1)
    assert split.y_train.sum() < 4
    budget = get_budget("tiny", rounds=1)
    result = swift_hydra_loop(
        split.X_train, split.y_train, algo="random", budget=budget, seed=1, options=LoopOptions(deploy="mome")
    )
    assert len(result.kept_X) and result.deploy_gate["few_labels_rule"] is True
    assert result.deploy_gate["synthetic_weight_used"] == 1.0
    gated = swift_hydra_loop(split.X_train, split.y_train, algo="random", budget=budget, seed=1)
    assert "few_labels_rule" not in gated.deploy_gate and gated.deploy_gate["synthetic_weight_used"] == 0.0
