"""The value gate: synthetic rows join the deployment only when a proxy's held-out AUC says they pay."""

from __future__ import annotations

import numpy as np
import pytest

from agents.train import gate_lines
from agents.value_gate import (
    MIN_VALUE_GATE_ANOMALIES,
    VALUE_GATE_MARGIN,
    VALUE_GATE_Z,
    choose_weights_by_value,
    gain_standard_error,
    value_gains,
)


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


def _gains(evidence, name="with"):
    return [
        evidence[f"{cut}_auc_{name}"] - evidence[f"{cut}_auc_without"] for cut in ("value", "value_unseen")
    ]


@pytest.fixture(scope="module")
def dependency_kinds():
    """Four labeled kinds that break a pair of features each (``tests/agents/test_exposure.py``), and a
    fixed set of rows perturbed off the normal rows: they teach "off the plane", which pays on a kind
    held out of the proxy's fit."""
    from agents.perturb import perturbed_normals
    from tests.agents.test_exposure import _dependency_kinds

    X, y = _dependency_kinds(seed=2)
    return X, y, perturbed_normals(X, y, seed=99)


def test_rows_that_raise_the_held_out_auc_join_and_rows_that_lower_it_do_not(shifted, dependency_kinds):
    pytest.importorskip("catboost")
    X, y, off_the_plane = dependency_kinds
    weight, exposure_weight, evidence = choose_weights_by_value(
        X, y, off_the_plane, synthetic_weight=0.7, seed=2
    )
    assert (weight, exposure_weight) == (0.7, 0.0)
    random_folds, groups = _gains(evidence)
    assert random_folds >= 0 and groups >= 0.015  # measured +0.008 and +0.022
    X, y, _, opposite = shifted
    weight, _, evidence = choose_weights_by_value(X, y, opposite, synthetic_weight=0.7, seed=0)
    assert weight == 0.0
    assert max(_gains(evidence)) <= -0.05  # measured -0.085 and -0.098: they lower it on both cuts
    # Same rows, same answer: the folds, groups and proxies are seeded.
    assert choose_weights_by_value(X, y, opposite, synthetic_weight=0.7, seed=0)[2] == evidence


def test_near_copies_of_labeled_anomalies_earn_nothing_from_their_twins(shifted):
    """The loop makes its rows from every labeled anomaly. A copy of a held-out anomaly in the fold's fit
    would make that anomaly easy and score as value; the gate leaves such rows out of that fold."""
    pytest.importorskip("catboost")
    X, y, _, _ = shifted
    copies = X[y == 1].repeat(5, axis=0) + np.random.default_rng(1).normal(0.0, 0.01, (40, X.shape[1]))
    weight, _, evidence = choose_weights_by_value(X, y, copies, synthetic_weight=0.7, seed=0)
    assert weight == 0.0
    assert max(_gains(evidence)) < 0  # measured -0.045, -0.051; with the copies in every fold +0.21, +0.26


def test_each_set_is_judged_on_its_own_and_harm_on_one_cut_refuses_it(shifted):
    pytest.importorskip("catboost")
    X, y, like_the_anomalies, _ = shifted
    weight, exposure_weight, evidence = choose_weights_by_value(
        X, y, like_the_anomalies, synthetic_weight=0.7, exposure_weight=1.0, seed=0
    )
    # Perturbed normal rows help a little on the held-out groups and lose on the random folds (measured
    # +0.015 and -0.024): a gate that asked only the groups, as the exposure gate does, would let them in.
    random_folds, groups = _gains(evidence, "with_exposure")
    assert groups > 0 > random_folds
    assert exposure_weight == 0.0
    alone = value_gains(X, y, {"exposure": (None, 1.0)}, seed=0)
    assert alone["value_unseen_auc_with_exposure"] == evidence["value_unseen_auc_with_exposure"]
    # ... and the kept rows were judged on their own evidence, not the exposure rows'.
    assert _gains(evidence) != [random_folds, groups]


def test_exposure_rows_that_pay_join_while_kept_rows_that_do_not_stay_out(dependency_kinds):
    pytest.importorskip("catboost")
    X, y, _ = dependency_kinds
    like_normals = X[y == 0][:40] + 0.01  # rows labeled anomalous that look normal: they cannot pay
    weight, exposure_weight, evidence = choose_weights_by_value(
        X, y, like_normals, synthetic_weight=0.7, exposure_weight=1.0, seed=2
    )
    assert (weight, exposure_weight) == (0.0, 1.0)
    assert min(_gains(evidence, "with_exposure")) >= 0 and max(_gains(evidence, "with_exposure")) >= 0.05


def test_no_evidence_no_rows(shifted):
    X, y, rows, _ = shifted
    few = np.r_[np.zeros(300), np.ones(8)]
    few[300 + MIN_VALUE_GATE_ANOMALIES - 1 :] = 0  # one labeled anomaly left: no fold has another
    weight, exposure_weight, evidence = choose_weights_by_value(
        X, few, rows, synthetic_weight=1.0, exposure_weight=1.0, seed=0
    )
    assert (weight, exposure_weight) == (0.0, 0.0) and set(evidence.values()) == {None}
    assert choose_weights_by_value(X, y, rows[:0], synthetic_weight=1.0, seed=0)[:2] == (0.0, 0.0)
    assert choose_weights_by_value(X, y, rows, synthetic_weight=0.0, seed=0)[:2] == (0.0, 0.0)
    X_same = X.copy()
    X_same[300:] = X[300]  # eight copies of one row: no two folds
    assert value_gains(X_same, y, {"kept": (rows, 1.0)}, seed=0) is None


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
    with_exposure = evidence | {"value_auc_with_exposure": 0.79, "value_unseen_auc_with_exposure": 0.74}
    _, rows = gate_lines(
        {"deploy_gate": with_exposure, "n_synthetic_kept": 16, "synthetic_gate_margin": 0.01}
    )
    assert [value for name, value in rows if "exposure rows" in name] == [0.79, 0.74]
    refused = {**evidence, "synthetic_weight_used": 0.0} | dict.fromkeys(list(evidence)[1:])
    caption, rows = gate_lines(
        {"deploy_gate": refused, "n_synthetic_kept": 16, "synthetic_gate_margin": 0.01}
    )
    assert "too few labeled training anomalies" in caption and rows == []


@pytest.mark.parametrize(("kept_pays", "exposure_pays"), [(True, False), (False, True)])
def test_the_loop_deploys_each_set_only_when_the_value_gate_accepts_it(monkeypatch, kept_pays, exposure_pays):
    import agents.exposure as exposure
    import agents.value_gate as value_gate
    from agents.config import LoopOptions
    from agents.loop import fit_swift_hydra
    from hydra_env import datasets

    calls = []

    def fake_gate(X, y, kept, *, synthetic_weight, exposure_weight, seed):
        calls.append((len(kept), synthetic_weight, exposure_weight))
        evidence = {"value_auc_without": 0.7, "value_auc_with": 0.8}
        return synthetic_weight * kept_pays, exposure_weight * exposure_pays, evidence

    def exposure_gate_must_not_run(*args, **kwargs):
        raise AssertionError("with the value gate on, the exposure gate does not judge the exposure rows")

    monkeypatch.setattr(value_gate, "choose_weights_by_value", fake_gate)
    monkeypatch.setattr(exposure, "choose_exposure_weight", exposure_gate_must_not_run)
    split = datasets.adbench_split(*datasets.load("wine"), la=1.0, seed=1)
    detector = fit_swift_hydra(
        split.X_train, split.y_train, algo="random", budget="tiny", seed=1,
        options=LoopOptions(deploy="lightgbm", value_gate=True, exposure_weight=1.0, synthetic_weight=0.5),
    )  # fmt: skip
    assert len(calls) == 1 and calls[0][0] > 0 and calls[0][1:] == (0.5, 1.0)
    assert detector.synthetic_weight_used_ == (0.5 if kept_pays else 0.0)
    n_exposure = exposure.EXPOSURE_ROWS if exposure_pays else 0
    assert detector.exposure_anomalies_.shape == (n_exposure, split.X_train.shape[1])


def test_the_gain_standard_error_is_a_paired_bootstrap_that_shrinks_with_evidence():
    from sklearn.metrics import roc_auc_score

    def case(n_pos: int, n_neg: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        rng = np.random.default_rng(n_pos)
        labels = np.r_[np.ones(n_pos), np.zeros(n_neg)]
        without = labels + rng.normal(0, 1.5, len(labels))
        return labels, without, without + 0.5 * labels + rng.normal(0, 0.3, len(labels))  # a real gain

    labels, without, with_ = case(5, 100)
    assert gain_standard_error(labels, without, without, seed=0) == 0.0  # the same proxy: no gain, no noise
    few = gain_standard_error(labels, without, with_, seed=0)
    many = gain_standard_error(*case(500, 10_000), seed=0)
    assert 0 < many < few / 4  # 100x the rows: about a tenth of the error
    assert few == gain_standard_error(labels, without, with_, seed=0)  # same seed, same error
    # On the many-row case the gain is well above its error; on the five-anomaly case it is not.
    big = case(500, 10_000)
    gain = roc_auc_score(big[0], big[2]) - roc_auc_score(big[0], big[1])
    assert gain > 5 * many
    assert gain_standard_error(labels[4:], without[4:], with_[4:], seed=0) == float("inf")  # one anomaly


def test_a_gain_inside_its_standard_error_is_refused(monkeypatch, shifted):
    import agents.value_gate as value_gate

    X, y, rows, _ = shifted
    gain = 2 * VALUE_GATE_MARGIN

    def evidence(se: float):
        def fake(X, y, candidates, *, seed, fits=None):
            out = {}
            for cut in ("value", "value_unseen"):
                out |= {
                    f"{cut}_auc_without": 0.8,
                    f"{cut}_auc_with_kept": 0.8 + gain,
                    f"{cut}_gain_se_kept": se,
                }
            return out

        return fake

    monkeypatch.setattr(value_gate, "value_gains", evidence(gain / VALUE_GATE_Z / 2))
    weight, _, record = choose_weights_by_value(X, y, rows, synthetic_weight=1.0, seed=0)
    assert weight == 1.0 and record["value_gain_se"] == gain / VALUE_GATE_Z / 2
    monkeypatch.setattr(value_gate, "value_gains", evidence(2 * gain / VALUE_GATE_Z))  # noise hides it
    assert choose_weights_by_value(X, y, rows, synthetic_weight=1.0, seed=0)[0] == 0.0


@pytest.mark.parametrize(
    ("both_gain", "expected"),
    [(0.05, (0.7, 0.4, "both")), (-0.02, (0.0, 0.4, "exposure"))],
)
def test_sets_that_pay_alone_join_together_only_if_together_they_pay(monkeypatch, both_gain, expected):
    """Kept rows and exposure rows each pass alone; the deployment would take both, so both are judged."""
    from agents import value_gate

    def fake_gains(X, y, candidates, *, seed, joint=None, fits=None):
        aucs = {}
        for cut in value_gate.VALUE_GATE_CUTS:
            # Alone: kept +0.03 (z = 1.5), exposure +0.05 (z = 5): both pay; exposure is the stronger.
            aucs |= {f"{cut}_auc_without": 0.80, f"{cut}_auc_with_kept": 0.83, f"{cut}_gain_se_kept": 0.02}
            aucs |= {f"{cut}_auc_with_exposure": 0.85, f"{cut}_gain_se_exposure": 0.01}
            if joint:
                aucs |= {f"{cut}_auc_with_both": 0.80 + both_gain, f"{cut}_gain_se_both": 0.01}
        return aucs

    monkeypatch.setattr(value_gate, "value_gains", fake_gains)
    X, y = np.zeros((20, 2)), np.r_[np.zeros(16), np.ones(4)]
    weight, exposure_weight, evidence = value_gate.choose_weights_by_value(
        X, y, np.ones((3, 2)), synthetic_weight=0.7, exposure_weight=0.4, seed=0
    )
    assert (weight, exposure_weight, evidence["joint_rule"]) == expected
    assert evidence["value_auc_with_both"] == pytest.approx(0.80 + both_gain)


def test_a_set_that_pays_alone_is_not_judged_with_one_that_does_not(monkeypatch):
    from agents import value_gate

    calls = []

    def fake_gains(X, y, candidates, *, seed, joint=None, fits=None):
        calls.append(joint)
        aucs = {}
        for cut in value_gate.VALUE_GATE_CUTS:
            aucs |= {f"{cut}_auc_without": 0.80, f"{cut}_auc_with_kept": 0.79, f"{cut}_gain_se_kept": 0.02}
            aucs |= {f"{cut}_auc_with_exposure": 0.85, f"{cut}_gain_se_exposure": 0.01}
        return aucs

    monkeypatch.setattr(value_gate, "value_gains", fake_gains)
    X, y = np.zeros((20, 2)), np.r_[np.zeros(16), np.ones(4)]
    weight, exposure_weight, evidence = value_gate.choose_weights_by_value(
        X, y, np.ones((3, 2)), synthetic_weight=0.7, exposure_weight=0.4, seed=0
    )
    assert (weight, exposure_weight) == (0.0, 0.4) and calls == [None]
    assert evidence["joint_rule"] is None and evidence["value_auc_with_both"] is None


def test_joint_fit_stacks_both_sets_as_the_deployment_does(shifted):
    pytest.importorskip("catboost")
    X, y, near, _ = shifted
    candidates = {"kept": (near, 0.7), "exposure": (None, 0.4)}
    alone = value_gains(X, y, candidates, seed=0)
    together = value_gains(X, y, candidates, seed=0, joint=("kept", "exposure"))
    for cut in ("value", "value_unseen"):
        # The joint fit adds a variant; the others are the same fits, so their evidence is unchanged.
        assert {k: v for k, v in together.items() if not k.endswith("_both")} == alone
        assert 0.5 < together[f"{cut}_auc_with_both"] <= 1.0 and together[f"{cut}_gain_se_both"] >= 0


def test_a_joint_call_reuses_the_fits_of_the_sets_alone(shifted, monkeypatch):
    """With the first call's `GateFits`, the joint call fits only the joint variant, to the same evidence."""
    pytest.importorskip("catboost")
    from agents import value_gate

    X, y, near, _ = shifted
    candidates = {"kept": (near, 0.7), "exposure": (None, 0.4)}
    fresh = value_gains(X, y, candidates, seed=0, joint=("kept", "exposure"))
    fitted = []
    fit_proxy = value_gate._fit_proxy
    monkeypatch.setattr(value_gate, "_fit_proxy", lambda *a: fitted.append(a[-2]) or fit_proxy(*a))
    fits = value_gate.GateFits()
    value_gains(X, y, candidates, seed=0, fits=fits)
    n_alone = len(fitted)
    reused = value_gains(X, y, candidates, seed=0, joint=("kept", "exposure"), fits=fits)
    assert reused == fresh
    assert len(fitted) - n_alone == n_alone // 3  # one joint fit per fold and cut, nothing refitted
    assert all(len(parts) == 2 for parts in fitted[n_alone:])  # each stacks the kept and exposure rows


def test_exposure_rows_join_on_weaker_evidence_than_kept_rows(monkeypatch):
    """Between VALUE_GATE_Z_EXPOSURE and VALUE_GATE_Z standard errors only the exposure rows pass."""
    from agents import value_gate

    assert value_gate.VALUE_GATE_Z_EXPOSURE < value_gate.VALUE_GATE_Z
    z = (value_gate.VALUE_GATE_Z + value_gate.VALUE_GATE_Z_EXPOSURE) / 2
    gain = 2 * VALUE_GATE_MARGIN

    def fake_gains(X, y, candidates, *, seed, joint=None, fits=None):
        aucs = {}
        for cut in value_gate.VALUE_GATE_CUTS:
            aucs[f"{cut}_auc_without"] = 0.80
            for name in candidates:  # the same evidence for both sets: gain at z standard errors
                aucs |= {f"{cut}_auc_with_{name}": 0.80 + gain, f"{cut}_gain_se_{name}": gain / z}
        return aucs

    monkeypatch.setattr(value_gate, "value_gains", fake_gains)
    X, y = np.zeros((20, 2)), np.r_[np.zeros(16), np.ones(4)]
    weight, exposure_weight, _ = value_gate.choose_weights_by_value(
        X, y, np.ones((3, 2)), synthetic_weight=0.7, exposure_weight=0.4, seed=0
    )
    assert (weight, exposure_weight) == (0.0, 0.4)


@pytest.mark.parametrize("kept_pays", [True, False])
def test_a_blended_value_loop_judges_the_kept_rows_alone_and_hedges_the_exposure_rows(monkeypatch, kept_pays):
    import agents.exposure as exposure
    import agents.value_gate as value_gate
    from agents.config import LoopOptions
    from agents.deploy import fit_deployment
    from agents.loop import fit_swift_hydra
    from detectors.blend import LogOddsBlend
    from hydra_env import datasets

    calls = []

    def fake_gate(X, y, kept, *, synthetic_weight, exposure_weight, seed):
        calls.append(exposure_weight)
        return (
            synthetic_weight * kept_pays,
            exposure_weight,
            {"value_auc_without": 0.7, "value_auc_with": 0.8},
        )

    monkeypatch.setattr(value_gate, "choose_weights_by_value", fake_gate)
    split = datasets.adbench_split(*datasets.load("wine"), la=1.0, seed=1)
    options = LoopOptions(deploy="lightgbm", value_gate=True, exposure_weight=1.0, synthetic_blend=0.5)
    detector = fit_swift_hydra(
        split.X_train, split.y_train, algo="random", budget="tiny", seed=1, options=options
    )
    assert calls == [0.0]  # the gate is not asked about the exposure rows: they always join, hedged
    assert isinstance(detector, LogOddsBlend) and detector.weight == 0.5
    assert detector.exposure_anomalies_.shape == (exposure.EXPOSURE_ROWS, split.X_train.shape[1])
    assert detector.synthetic_weight_used_ == (options.synthetic_weight if kept_pays else 0.0)
    # The blend's fit without synthetic rows is the paired control's fit.
    control = fit_deployment(
        "lightgbm", split.X_train, split.y_train, split.X_train[:0], budget="tiny", seed=1
    )
    np.testing.assert_array_equal(
        detector.base_.decision_function(split.X_test), control.decision_function(split.X_test)
    )
