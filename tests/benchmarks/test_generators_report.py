"""The generators table: paired gains per (deployment, regime, generator), the oracle and the plot."""

from __future__ import annotations

import csv

import pytest

from benchmarks import generators_report, policies

GAINS = {"smote": 0.02, "random": -0.01, "ppo": 0.0}  # per dataset offset added below


def _rows():
    rows = []
    for deploy in ("catboost", "mome"):
        for la, k in (("0.1", ""), ("", "1"), ("", "3")):
            for algo, gain in GAINS.items():
                for i, dataset in enumerate("abcd"):
                    for seed in ("1", "2"):
                        value = gain + (0.03 if (algo == "random" and dataset == "a") else 0.0) - 0.001 * i
                        rows.append({
                            "dataset": dataset, "algo": algo, "la": la, "n_labeled": k, "seed": seed,
                            "budget": "tiny", "status": "ok", "auc_gain": f"{value:.6g}", "deploy": deploy,
                            "auc_roc": "0.9", "n_train": "70", "n_test": "30", "n_features": "4", "commit": "abc",
                        })  # fmt: skip
    return rows


def test_gains_are_paired_per_regime_and_sorted_best_first():
    table = generators_report.gain_table(_rows())
    assert len(table) == 2 * 3 * 3
    k1 = [g for g in table if g["deploy"] == "catboost" and g["regime"] == "K=1"]
    assert [g["algo"] for g in k1] == ["smote", "ppo", "random"]
    assert k1[0]["gain"] == pytest.approx(0.02 - 0.0015) and k1[0]["wins"] == 4 and k1[0]["datasets"] == 4
    assert k1[0]["low"] <= k1[0]["gain"] <= k1[0]["high"]
    assert k1[2]["harmed"] == 3  # random: -1 point minus the offsets on b, c, d; +2 on a


def test_the_oracle_picks_per_dataset_on_test_and_bounds_every_generator():
    upper = generators_report.oracle(_rows())
    table = generators_report.gain_table(_rows())
    for (deploy, regime), (value, n) in upper.items():
        assert n == 4
        assert all(
            value >= g["gain"] - 1e-12 for g in table if (g["deploy"], g["regime"]) == (deploy, regime)
        )
    # dataset a: random's +2 points beats smote's +2 points minus nothing: the oracle takes the max.
    assert upper[("catboost", "K=1")][0] == pytest.approx(
        (0.02 + 0.02 - 0.001 + 0.02 - 0.002 + 0.02 - 0.003) / 4
    )


def test_summary_and_plot_from_a_folder(tmp_path, capsys):
    for deploy in ("catboost", "mome"):
        path = tmp_path / deploy / generators_report.RESULTS_FILE
        path.parent.mkdir()
        rows = [r for r in _rows() if r["deploy"] == deploy]
        with open(path, "w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=policies.COLUMNS, restval="")
            writer.writeheader()
            writer.writerows(rows)
    assert generators_report.main([str(tmp_path)]) == 0
    text = (tmp_path / generators_report.SUMMARY_FILE).read_text()
    assert "### catboost, K = 1" in text and "### mome, la = 0.1" in text
    assert "Best generator: **smote**" in text and "RL agents' rank by mean gain: ppo 2 of 3" in text
    assert (tmp_path / generators_report.PLOT_FILE).stat().st_size > 1000
    with pytest.raises(SystemExit) as exit_info:
        generators_report.main([str(tmp_path / "nothing")])
    assert exit_info.value.code == 2


def test_a_generator_trained_on_another_reward_is_its_own_row():
    from benchmarks.generators_report import generator_name

    assert generator_name({"algo": "ppo", "env_kwargs": ""}) == "ppo"
    assert generator_name({"algo": "ppo", "env_kwargs": '{"reward_weights": "value:1"}'}) == "ppo [value:1]"
    assert (
        generator_name({"algo": "sac", "env_kwargs": '{"reward_weights": {"value": 1.0}}'}) == "sac [value:1]"
    )
