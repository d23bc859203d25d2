"""The unseen-anomaly summary per held-out type: means, the mean over types, paired differences, coverage."""

from __future__ import annotations

import csv

import pytest

from benchmarks import adbench, report, unseen, unseen_report

TYPES = {"local": 0.0, "global": 0.04, "dependency": -0.05, "clustered": 0.02}  # AUC offset per type
METHODS = {
    "catboost": 0.90, "ecod": 0.85, "swift_hydra": 0.80, "swift_hydra_control": 0.78,
    "swift_hydra_mome": 0.70, "swift_hydra_mome_control": 0.72,
}  # fmt: skip
DATASETS = {"a": 0.0, "b": 0.02}
SEEDS = {"1": 0.0, "2": 0.01}
# swift_hydra's coverage: 0.2 / 0.4 on local (datasets a / b), 0.5 elsewhere; other methods have none.
COVERAGE = {("local", "a"): 0.2, ("local", "b"): 0.4}
MISSING = ("swift_hydra", "local", "b", "2")  # one cell swift_hydra never finished


def _fake_rows(columns=unseen.COLUMNS):
    """2 datasets x 4 types x 2 seeds x 6 methods; AUC = method + type + dataset + seed offsets."""
    rows = []
    for method, m in METHODS.items():
        for kind, t in TYPES.items():
            for dataset, d in DATASETS.items():
                for seed, s in SEEDS.items():
                    if (method, kind, dataset, seed) == MISSING:
                        continue
                    row = {"dataset": dataset, "la": "0.1", "seed": seed, "held_out_type": kind}
                    row |= {
                        "method": method,
                        "kind": "ours",
                        "status": "ok",
                        "auc_roc": f"{m + t + d + s:.6g}",
                    }
                    row |= {"auc_pr": "0.5", "fit_seconds": "1", "predict_seconds_per_1k": "0.1"}
                    row |= {"n_train": "100", "n_test": "50", "n_features": "4", "commit": "abc"}
                    if method == "swift_hydra" and "coverage" in columns:
                        row |= {"coverage": str(COVERAGE.get((kind, dataset), 0.5)), "n_synthetic_kept": "7"}
                    rows.append({c: row.get(c, "") for c in columns})
    return rows


def _write_csv(path, rows, columns):
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)


def _type_table(summary: str) -> dict[str, dict[str, str]]:
    """``{row label: {column: cell}}`` of the summary's per-type table."""
    lines = summary.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| held-out type |"))
    header = [c.strip() for c in lines[start].strip("|").split("|")]
    table = {}
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip("|").split("|")]
        table[cells[0].strip("*")] = dict(zip(header[1:], cells[1:], strict=True))
    return table


@pytest.fixture
def summary(tmp_path):
    path = tmp_path / "unseen_results.csv"
    _write_csv(path, _fake_rows(), unseen.COLUMNS)
    assert report.main([str(path)]) == 0
    return (tmp_path / "unseen_summary.md").read_text()


def test_summary_has_a_row_per_held_out_type_and_the_mean(summary):
    table = _type_table(summary)
    assert list(table) == ["local", "global", "dependency", "clustered", "mean over types"]
    # Seeds, then datasets averaged: method + type offset + 0.01 (datasets) + 0.005 (seeds).
    assert table["global"]["catboost"] == "95.50" and table["dependency"]["ecod"] == "81.50"
    assert table["clustered"]["swift_hydra_control"] == "81.50"
    # The missing cell leaves dataset b with seed 1 only: (80.5 + 82.0) / 2.
    assert table["local"]["swift_hydra"] == "81.25"
    # Mean over types = method + mean type offset (0.0025) + 0.015.
    assert table["mean over types"]["catboost"] == "91.75"
    assert table["mean over types"]["swift_hydra_mome"] == "71.75"


def test_summary_differences_are_paired_per_cell(summary):
    table = _type_table(summary)
    column = "swift_hydra − swift_hydra_control"
    # Paired on the cells both finished: +2.00 everywhere, though the unpaired local means differ by 1.75.
    assert [table[k][column] for k in table] == ["+2.00"] * 5
    assert [table[k]["swift_hydra_mome − swift_hydra_mome_control"] for k in table] == ["-2.00"] * 5
    assert table["mean over types"]["swift_hydra − catboost"] == "-10.00"


def test_summary_shows_coverage_per_type_and_its_mean(summary):
    table = _type_table(summary)
    assert table["local"]["coverage swift_hydra"] == "30.00"
    assert table["global"]["coverage swift_hydra"] == "50.00"
    assert table["mean over types"]["coverage swift_hydra"] == "45.00"
    assert {row["coverage swift_hydra_mome"] for row in table.values()} == {"–"}
    assert "coverage swift_hydra_control" not in table["local"]
    # The generic per-type sections are still there, and the per-type plot is linked.
    assert "## held_out_type = dependency" in summary and "![unseen_types](unseen_types.png)" in summary


def test_old_csv_without_coverage_still_summarises(tmp_path):
    old_columns = (*adbench.COLUMNS[:3], "held_out_type", *adbench.COLUMNS[3:])
    path = tmp_path / "unseen_results.csv"
    _write_csv(path, _fake_rows(old_columns), old_columns)
    assert report.main([str(path)]) == 0
    summary = (tmp_path / "unseen_summary.md").read_text()
    table = _type_table(summary)
    assert {row["coverage swift_hydra"] for row in table.values()} == {"–"}
    assert table["global"]["catboost"] == "95.50"
    assert "## held_out_type = local" in summary
    assert (tmp_path / "unseen_types.png").stat().st_size > 0
    assert (tmp_path / "unseen_auc_roc.png").stat().st_size > 0


def test_mean_over_types_is_empty_when_a_type_is_missing():
    rows = [r for r in _fake_rows() if not (r["method"] == "ecod" and r["held_out_type"] == "global")]
    table = unseen_report.type_table(rows)
    assert table["ecod"]["local"] == pytest.approx(0.865)
    assert table["ecod"][unseen_report.MEAN] != table["ecod"][unseen_report.MEAN]  # nan: not comparable
    assert table["catboost"][unseen_report.MEAN] == pytest.approx(0.9175)


def test_method_order_is_stable_whatever_the_csv_order():
    names = ["swift_hydra", "mome", "swift_hydra_control", "catboost", "swift_hydra_mome_control", "ecod"]
    expected = ["catboost", "ecod", "mome", "swift_hydra_control", "swift_hydra", "swift_hydra_mome_control"]
    for order in (names, names[::-1]):
        assert unseen_report.method_order([{"method": m} for m in order]) == expected


def test_exposure_method_pairs_with_the_shared_control_and_follows_it():
    names = ["swift_hydra_exposure", "catboost", "swift_hydra_control", "swift_hydra"]
    order = unseen_report.method_order([{"method": m} for m in names])
    assert order == ["catboost", "swift_hydra_control", "swift_hydra", "swift_hydra_exposure"]
    assert unseen_report.control_pairs(order) == [
        ("swift_hydra", "swift_hydra_control"),
        ("swift_hydra_exposure", "swift_hydra_control"),
    ]
    assert unseen_report.control_pairs(["swift_hydra_exposure"]) == []  # no control, no pair


def _at_one_label(rows, offset):
    """``rows`` moved to the regime K=1, every AUC shifted by ``offset``."""
    return [r | {"la": "", "n_labeled": "1", "auc_roc": f"{float(r['auc_roc']) + offset:.6g}"} for r in rows]


def test_label_regimes_get_a_table_each_and_are_never_pooled(tmp_path):
    rows = _fake_rows()
    path = tmp_path / "unseen_results.csv"
    at_one = [r for r in _at_one_label(rows, -0.2) if r["method"] != "ecod"]  # ecod not run at K=1
    _write_csv(path, rows + at_one, unseen.COLUMNS)
    assert report.main([str(path)]) == 0
    summary = (tmp_path / "unseen_summary.md").read_text()
    local_at_one = summary.split("## held_out_type = local (K=1)")[1].split("\n## ")[0]
    assert "| ecod |" not in local_at_one and "| catboost |" in local_at_one  # no empty row for ecod
    fraction, count = summary.split("## AUC-ROC (%) per held-out type, and the mean over types (K=1)")
    assert "## AUC-ROC (%) per held-out type, and the mean over types (la=0.1)" in fraction
    assert _type_table(fraction)["global"]["catboost"] == "95.50"  # as without the K=1 rows
    assert _type_table(count)["global"]["catboost"] == "75.50"
    assert _type_table(count)["mean over types"]["swift_hydra − swift_hydra_control"] == "+2.00"
    assert (tmp_path / "unseen_types.png").stat().st_size > 0
    # The generic sections split each held-out type by regime too, so no mean pools the two.
    assert "## held_out_type = local (la=0.1)" in summary and "## held_out_type = local (K=1)" in summary
    assert "## held_out_type = local\n" not in summary


def test_reading_mixed_regimes_needs_a_regime():
    rows = _fake_rows() + _at_one_label(_fake_rows(), -0.2)
    assert unseen_report.regimes(rows) == ["la=0.1", "K=1"]
    with pytest.raises(ValueError, match=r"several label regimes \(la=0.1, K=1\)"):
        unseen_report.type_table(rows)
    with pytest.raises(ValueError, match="no row is at regime 'K=3'"):
        unseen_report.paired_difference(rows, "swift_hydra", "swift_hydra_control", regime="K=3")
    at_one = unseen_report.type_table(rows, regime="K=1")
    assert at_one["catboost"][unseen_report.MEAN] == pytest.approx(0.7175)
    diff = unseen_report.paired_difference(rows, "swift_hydra", "swift_hydra_control", regime="la=0.1")
    assert diff[unseen_report.MEAN] == pytest.approx(0.02)
