"""The value gate: kept rows join the deployment only when the value proxies' held-out AUC says they pay."""

from __future__ import annotations

import numpy as np
import pytest

from agents.train import gate_lines
from agents.value_gate import MIN_VALUE_GATE_ANOMALIES, VALUE_GATE_MARGIN, choose_weight_by_value


@pytest.fixture(scope="module")
def shifted():
    """300 normals N(0, I) in 4-D, 8 labeled anomalies shifted by +2 on feature 0 (so AUC < 1)."""
    rng = np.random.default_rng(0)
    normals = rng.normal(0.0, 1.0, (300, 4))

    def anomalies(n: int, shift: float) -> np.ndarray:
        rows = rng.normal(0.0, 1.0, (n, 4))
        rows[:, 0] += shift
        return rows

    X = np.vstack([normals, anomalies(8, 2.0)])
    y = np.r_[np.zeros(300), np.ones(8)]
    return X, y, anomalies(40, 2.0), anomalies(40, -2.0)


def _gains(evidence):
    return [evidence[f"{cut}_auc_with"] - evidence[f"{cut}_auc_without"] for cut in ("value", "value_unseen")]


def test_rows_that_raise_the_held_out_auc_join_and_rows_that_lower_it_do_not(shifted):
    X, y, like_the_anomalies, opposite = shifted
    weight, evidence = choose_weight_by_value(X, y, like_the_anomalies, synthetic_weight=0.7, seed=0)
    assert weight == 0.7
    assert max(_gains(evidence)) >= VALUE_GATE_MARGIN and min(_gains(evidence)) >= 0
    weight, evidence = choose_weight_by_value(X, y, opposite, synthetic_weight=0.7, seed=0)
    assert weight == 0.0
    assert max(_gains(evidence)) < 0  # they lower the held-out AUC on both cuts, which is why
    # Same rows, same answer: the folds and groups are drawn with a fixed seed.
    assert choose_weight_by_value(X, y, opposite, synthetic_weight=0.7, seed=0)[1] == evidence


def test_no_evidence_no_rows(shifted):
    X, y, rows, _ = shifted
    few = np.r_[np.zeros(300), np.ones(8)]
    few[300 + MIN_VALUE_GATE_ANOMALIES - 1 :] = 0  # one labeled anomaly left: no fold has another
    weight, evidence = choose_weight_by_value(X, few, rows, synthetic_weight=1.0, seed=0)
    assert weight == 0.0 and set(evidence.values()) == {None}
    assert choose_weight_by_value(X, y, rows[:0], synthetic_weight=1.0, seed=0)[0] == 0.0
    assert choose_weight_by_value(X, y, rows, synthetic_weight=0.0, seed=0)[0] == 0.0


def test_the_run_summary_names_the_value_gate_and_both_cuts():
    evidence = {
        "synthetic_weight_used": 1.0, "value_auc_without": 0.8, "value_auc_with": 0.82,
        "value_unseen_auc_without": 0.7, "value_unseen_auc_with": 0.75,
    }  # fmt: skip
    summary = {"deploy_gate": evidence, "n_synthetic_kept": 16, "n_synthetic_joined": 16}
    caption, rows = gate_lines(summary | {"synthetic_gate_margin": VALUE_GATE_MARGIN})
    assert "16 joined the deployment" in caption and "value gate" in caption
    assert [value for _, value in rows] == [0.8, 0.82, 0.7, 0.75]
    assert any("held-out groups" in name for name, _ in rows)
    refused = {**evidence, "synthetic_weight_used": 0.0} | dict.fromkeys(list(evidence)[1:])
    caption, rows = gate_lines(
        {"deploy_gate": refused, "n_synthetic_kept": 16, "synthetic_gate_margin": 0.01}
    )
    assert "too few labeled training anomalies" in caption and rows == []
