"""The benchmark summary: means, ranks, wins/ties/losses, Wilcoxon, published constants, plots."""

from __future__ import annotations

import csv

import pytest

from benchmarks import report

DATASETS = [f"d{i}" for i in range(6)]


def _rows():
    """ours beats base on all 6 datasets by 5 points; weak trails base; weak fails on d5 at la=1."""
    rows = []
    for la in ("0.1", "1"):
        for i, dataset in enumerate(DATASETS):
            for seed in ("1", "2"):
                for method, kind, auc in (
                    ("ours", "ours", 0.85 + 0.01 * i),
                    ("catboost", "supervised", 0.80 + 0.01 * i),
                    ("iforest", "unsupervised", 0.70 + 0.01 * i + (0.01 if seed == "2" else 0.0)),
                ):
                    row = {"dataset": dataset, "la": la, "seed": seed, "method": method, "kind": kind}
                    row |= {"status": "ok", "auc_roc": str(auc), "auc_pr": str(auc - 0.2)}
                    row |= {"fit_seconds": "1.5", "predict_seconds_per_1k": "0.01", "error": ""}
                    if method == "iforest" and la == "1" and dataset == "d5":
                        row |= {
                            "status": "failed",
                            "auc_roc": "",
                            "auc_pr": "",
                            "error": "MemoryError: too big",
                        }
                    rows.append(row)
    return rows


def test_per_dataset_means_average_seeds():
    table = report.per_dataset(_rows(), "la", "auc_roc")
    assert table["0.1"]["iforest"]["d0"] == pytest.approx(0.705)
    assert "d5" not in table["1"]["iforest"]  # failed cells are not averaged in


def test_mean_ranks_use_only_datasets_every_method_completed():
    table = report.per_dataset(_rows(), "la", "auc_roc")
    ranks, common = report.mean_ranks(table["1"])
    assert common == DATASETS[:5]
    assert ranks == {"ours": 1.0, "catboost": 2.0, "iforest": 3.0}


def test_wins_ties_losses_and_wilcoxon():
    table = report.per_dataset(_rows(), "la", "auc_roc")
    by_method = {c["method"]: c for c in report.compare(table["0.1"], "ours")}
    assert (
        by_method["catboost"]["wins"],
        by_method["catboost"]["ties"],
        by_method["catboost"]["losses"],
    ) == (6, 0, 0)
    assert by_method["catboost"]["mean_diff"] == pytest.approx(0.05)
    # Exact two-sided signed-rank test, 6 positive differences: p = 2 / 2**6.
    assert by_method["catboost"]["p_value"] == pytest.approx(2 / 64)
    assert by_method["iforest"]["n"] == 6
    swapped = {c["method"]: c for c in report.compare(table["0.1"], "catboost")}
    assert (swapped["ours"]["wins"], swapped["ours"]["losses"]) == (0, 6)


def test_summary_markdown_and_plots(tmp_path):
    path = report.write_report(
        _rows(),
        tmp_path,
        prefix="adbench",
        reference="ours",
        command="python -m benchmarks.adbench --x",
        commit="abc123",
    )
    text = path.read_text()
    assert "`python -m benchmarks.adbench --x`" in text and "`abc123`" in text
    catboost_lines = [line for line in text.splitlines() if line.startswith("| catboost | supervised |")]
    assert catboost_lines[0].endswith("| 91.20 |") and catboost_lines[1].endswith("| 97.13 |")
    assert all(
        line.endswith("| 76.17 |")
        for line in text.splitlines()
        if line.startswith("| iforest | unsupervised")
    )
    ours_line = next(line for line in text.splitlines() if line.startswith("| ours | ours |"))
    assert "| 87.50 |" in ours_line  # mean of 0.85..0.90
    assert "93.14" in text and "98.18" in text  # the team's reference note, as text
    assert "MemoryError: too big" in text
    assert (tmp_path / "adbench_auc_roc.png").stat().st_size > 0
    assert (tmp_path / "adbench_ranks.png").stat().st_size > 0


def test_missing_reference_is_reported_not_crashing(tmp_path):
    text = report.write_report(_rows(), tmp_path, prefix="x", reference="swift_hydra").read_text()
    assert "'swift_hydra' has no successful cell" in text


def test_rebuild_from_csv(tmp_path):
    rows = _rows()
    with open(tmp_path / "adbench_results.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    assert report.main([str(tmp_path / "adbench_results.csv"), "--reference", "ours"]) == 0
    assert "ours against each method" in (tmp_path / "adbench_summary.md").read_text()


def test_command_history_lists_every_run_once(tmp_path):
    from benchmarks.report import record_command

    path = tmp_path / "x_commands.txt"
    assert record_command(path, "run a") == "run a"
    assert record_command(path, "run a") == "run a"  # a plain rerun adds nothing
    assert record_command(path, "run b") == "run a`, then `run b"
    assert record_command(path, "") == "run a`, then `run b"  # a rebuild adds nothing
    assert path.read_text().splitlines() == ["run a", "run b"]
