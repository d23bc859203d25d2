"""The ADBench summary's gain-per-family and cost sections, and the scaling plot."""

from __future__ import annotations

import math

import pytest

from benchmarks import adbench_report

# AUC-ROC per method; fit seconds per method; a dataset offset of its own.
AUC = {"swift_hydra": 0.80, "swift_hydra_control": 0.78, "swift_hydra_lightgbm": 0.70,
       "swift_hydra_lightgbm_control": 0.72, "catboost": 0.79, "mome": 0.6}  # fmt: skip
FIT = {"swift_hydra": 20.0, "swift_hydra_control": 5.0, "swift_hydra_lightgbm": 12.0,
       "swift_hydra_lightgbm_control": 1.0, "catboost": 4.0, "mome": 8.0}  # fmt: skip
DATASETS = {"a": (0.0, 100), "b": (0.05, 1000), "c": (0.1, 5000)}


def _rows(harm_on: str | None = None):
    rows = []
    for method, auc in AUC.items():
        for dataset, (offset, n_train) in DATASETS.items():
            for seed in ("1", "2"):
                value = auc + offset - (0.05 if (method == "swift_hydra" and dataset == harm_on) else 0.0)
                rows.append({
                    "dataset": dataset, "la": "0.1", "seed": seed, "method": method, "status": "ok",
                    "auc_roc": f"{value:.6g}", "auc_pr": f"{value - 0.3:.6g}", "fit_seconds": str(FIT[method]),
                    "n_train": str(n_train), "commit": "abcdef123",
                })  # fmt: skip
    rows.append(
        {**rows[0], "seed": "3", "status": "failed", "auc_roc": "", "auc_pr": "", "fit_seconds": "99"}
    )
    return rows


def test_gain_pairs_each_family_with_its_control():
    gains = {g["method"]: g for g in adbench_report.gain_table(_rows())}
    assert set(gains) == {"swift_hydra", "swift_hydra_lightgbm"}
    assert gains["swift_hydra"]["diff"] == pytest.approx(0.02)
    assert gains["swift_hydra"]["pr_diff"] == pytest.approx(0.02)
    assert (gains["swift_hydra"]["wins"], gains["swift_hydra"]["losses"]) == (3, 0)
    assert gains["swift_hydra_lightgbm"]["diff"] == pytest.approx(-0.02)
    assert gains["swift_hydra_lightgbm"]["losses"] == 3 and gains["swift_hydra_lightgbm"]["harmed"] == 3
    assert gains["swift_hydra"]["datasets"] == 3 and gains["swift_hydra"]["cells"] == 6


def test_harmed_counts_datasets_more_than_one_point_below_control():
    gains = {g["method"]: g for g in adbench_report.gain_table(_rows(harm_on="b"))}
    assert gains["swift_hydra"]["harmed"] == 1  # 0.80 - 0.05 vs 0.78 on b
    assert gains["swift_hydra"]["diff"] == pytest.approx(0.02 - 0.05 / 3)


def test_cost_ratio_uses_common_cells_and_ignores_failed_rows():
    costs = {c["method"]: c for c in adbench_report.cost_table(_rows())}
    assert costs["swift_hydra"]["ratio"] == pytest.approx(20.0 / 4.0)
    assert costs["swift_hydra"]["cells"] == 6
    assert costs["swift_hydra_lightgbm_control"]["ratio"] == pytest.approx(0.25)
    assert costs["swift_hydra"]["commits"] == ["abcdef1"]


def test_without_catboost_or_controls_the_sections_are_absent(tmp_path):
    rows = [r for r in _rows() if r["method"] in ("swift_hydra", "mome")]
    assert adbench_report.gain_table(rows) == [] and adbench_report.cost_table(rows) == []
    lines = adbench_report.write(rows, tmp_path, "adbench")
    assert not any("per deployment family" in line or "What a cell costs" in line for line in lines)
    assert (tmp_path / "adbench_scaling.png").stat().st_size > 0


def test_markdown_and_plot(tmp_path):
    lines = adbench_report.write(_rows(), tmp_path, "adbench")
    text = "\n".join(lines)
    assert "| la=0.1 | swift_hydra | 85.00 | 83.00 | +2.00 |" in text
    assert "| la=0.1 | swift_hydra | 20.00 | 4.00 | 5.00x | 6 | abcdef1 |" in text
    assert "![adbench_scaling](adbench_scaling.png)" in text
    assert (tmp_path / "adbench_scaling.png").read_bytes()[:4] == b"\x89PNG"
    assert math.isnan(adbench_report.gain_table(_rows())[0]["p_value"]) is False


def test_exposure_method_is_paired_with_the_shared_control():
    rows = _rows()
    rows += [{**r, "method": "swift_hydra_exposure"} for r in rows if r["method"] == "swift_hydra"]
    pairs = adbench_report.family_pairs({r["method"] for r in rows})
    assert ("swift_hydra_exposure", "swift_hydra_control") in pairs
    gains = {g["method"]: g for g in adbench_report.gain_table(rows)}
    assert gains["swift_hydra_exposure"]["diff"] == pytest.approx(gains["swift_hydra"]["diff"])
    assert gains["swift_hydra_exposure"]["control"] == "swift_hydra_control"


def test_label_counts_never_pool_with_fractions():
    """K rows (``la`` empty, ``n_labeled`` set) get their own regime line in every table."""
    rows = _rows()
    counted = [r | {"la": "", "n_labeled": "3", "auc_roc": "0.5" if r["method"] == "swift_hydra" else r["auc_roc"]}
               for r in rows]  # fmt: skip
    gains = {(g["regime"], g["method"]): g for g in adbench_report.gain_table(rows + counted)}
    assert gains[("la=0.1", "swift_hydra")]["diff"] == pytest.approx(0.02)
    assert gains[("K=3", "swift_hydra")]["n_labeled"] == "3" and gains[("K=3", "swift_hydra")]["la"] == ""
    assert gains[("K=3", "swift_hydra")]["losses"] == 3
    assert [g["regime"] for g in adbench_report.gain_table(rows + counted)][0] == "la=0.1"
    assert "| K=3 | swift_hydra |" in "\n".join(adbench_report.markdown(rows + counted))


def test_gate_table_counts_what_joined_over_the_rows_that_record_it():
    rows = _rows()
    recorded = [r for r in rows if r["method"] == "swift_hydra" and r["status"] == "ok"]
    # Four of six cells record the gate: kept rows joined in one, exposure rows in two (3 and 5 rows).
    gate = [("16", "1", "0"), ("16", "0", "3"), ("0", "0", "5"), ("16", "0", "0")]
    for row, (kept, weight, exposure) in zip(recorded, gate, strict=False):
        row |= {"n_synthetic_kept": kept, "synthetic_weight_used": weight, "n_exposure_used": exposure}
    recorded[4] |= {"n_synthetic_kept": "16", "synthetic_weight_used": "1"}  # an older row: no exposure count
    table = {g["method"]: g for g in adbench_report.gate_table(rows)}
    assert set(table) == {"swift_hydra", "swift_hydra_lightgbm"}  # generating methods only, no control
    g = table["swift_hydra"]
    assert (g["cells"], g["recorded"]) == (6, 4)
    assert g["mean_kept"] == pytest.approx(12.0) and g["kept_joined"] == pytest.approx(0.25)
    assert g["exposure_joined"] == pytest.approx(0.5) and g["mean_exposure"] == pytest.approx(2.0)
    assert table["swift_hydra_lightgbm"]["recorded"] == 0
    text = "\n".join(adbench_report.markdown(rows))
    assert "| la=0.1 | swift_hydra | 12.0 | 25% | 50% | 2.0 | 4 of 6 |" in text
    assert "swift_hydra_lightgbm | –" not in text  # a method with no recorded cell gets no row
