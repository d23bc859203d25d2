"""`python -m benchmarks.merge`: a rerun's rows join a committed results CSV in place, with a report."""

from __future__ import annotations

import pytest

from benchmarks import adbench, merge, policies, unseen
from benchmarks.common import ResultStore


def _row(dataset: str, seed: int, auc: float, method: str = "catboost", commit: str = "aaa") -> dict:
    return {
        "dataset": dataset, "la": 0.1, "seed": seed, "method": method, "kind": "supervised", "status": "ok",
        "auc_roc": auc, "auc_pr": 0.5, "fit_seconds": 1.0, "n_train": 70, "n_test": 30, "n_features": 4,
        "commit": commit,
    }  # fmt: skip


def _write(path, rows, layout=adbench):
    store = ResultStore(path, layout.COLUMNS, layout.KEY_COLUMNS)
    for row in rows:
        store.add(row)
    return path


@pytest.fixture
def committed(tmp_path):
    rows = [_row("a", 1, 0.9), _row("b", 1, 0.8), _row("c", 1, 0.7)]
    return _write(tmp_path / "committed" / "adbench_results.csv", rows)


def test_fresh_rows_replace_their_cells_in_place_and_new_cells_are_appended(tmp_path, committed):
    fresh = _write(
        tmp_path / "fresh" / "adbench_results.csv",
        [_row("d", 1, 0.6, commit="bbb"), _row("b", 1, 0.85, commit="bbb")],
    )

    report = merge.merge(committed, [fresh])

    rows = list(adbench.ResultStore(committed).rows.values())
    assert [(r["dataset"], r["auc_roc"], r["commit"]) for r in rows] == [
        ("a", "0.9", "aaa"), ("b", "0.85", "bbb"), ("c", "0.7", "aaa"), ("d", "0.6", "bbb"),
    ]  # fmt: skip
    assert "catboost: 1 cells compared, 0 AUC-ROC equal, 1 new" in report
    assert "dataset=b la=0.1 seed=1: 0.8 -> 0.85 (+5.00 points; old row written at aaa)" in report
    assert committed.read_bytes().count(b"\r\n") == 5  # the runners' line ends, header included


def test_check_reports_without_touching_the_committed_file(tmp_path, committed):
    before = committed.read_bytes()
    fresh = _write(tmp_path / "fresh" / "adbench_results.csv", [_row("a", 1, 0.9), _row("c", 1, 0.71)])

    report = merge.merge(committed, [fresh], check=True)

    assert committed.read_bytes() == before
    assert report.splitlines()[0] == "catboost: 2 cells compared, 1 AUC-ROC equal, 0 new"


def test_a_fresh_csv_in_another_layout_is_refused(tmp_path, committed):
    other = tmp_path / "fresh" / "unseen_results.csv"
    _write(other, [_row("a", 1, 0.9) | {"held_out_type": "local"}], layout=unseen)
    with pytest.raises(ValueError, match="is a unseen results CSV"):
        merge.merge(committed, [other])


def test_a_file_that_is_no_results_csv_is_refused_by_name(tmp_path, committed):
    odd = tmp_path / "odd.csv"
    odd.write_text("x,y\n1,2\n")
    with pytest.raises(ValueError, match="odd.csv: its header is not a runner's results layout"):
        merge.merge(committed, [odd])
    with pytest.raises(ValueError, match="no results CSV at"):
        merge.merge(tmp_path / "missing.csv", [committed])


def test_damaged_committed_rows_stop_the_merge(tmp_path, committed):
    committed.write_bytes(committed.read_bytes() + b"d,0.1,,1,catboost,supervised,ok,not-a-number\r\n")
    fresh = _write(tmp_path / "fresh" / "adbench_results.csv", [_row("a", 1, 0.9)])
    before = committed.read_bytes()
    with pytest.raises(ValueError, match="damaged rows"):
        merge.merge(committed, [fresh])
    assert committed.read_bytes() == before


def test_the_command_line_merges_and_names_errors(tmp_path, committed, capsys):
    fresh = _write(tmp_path / "fresh" / "adbench_results.csv", [_row("b", 1, 0.8)])
    assert merge.main([str(committed), str(fresh)]) == 0
    assert "merged into" in capsys.readouterr().out
    with pytest.raises(SystemExit) as stop:
        merge.main([str(committed), str(tmp_path / "nowhere.csv")])
    assert stop.value.code == 2 and "no results CSV at" in capsys.readouterr().err


def test_swift_hydra_bench_merge_reaches_it(tmp_path, committed, capsys):
    from benchmarks import cli

    fresh = _write(tmp_path / "fresh" / "adbench_results.csv", [_row("c", 1, 0.7)])
    assert cli.main(["bench", "merge", str(committed), str(fresh), "--check"]) == 0
    assert "1 AUC-ROC equal" in capsys.readouterr().out


def _policy_row(dataset: str, seed: int, gain: float, algo: str = "ppo", deploy: str = "mome") -> dict:
    return {
        "dataset": dataset, "algo": algo, "la": 0.1, "seed": seed, "budget": "tiny_long", "status": "ok",
        "auc_roc": 0.9, "control_auc_roc": 0.9, "auc_gain": gain, "deploy": deploy, "synthetic_gate": False,
        "env_kwargs": "{}", "deploy_repeats": 20, "n_train": 70, "n_test": 30, "n_features": 4, "commit": "aaa",
    }  # fmt: skip


def test_policy_leaderboard_rows_merge_by_algo_on_auc_gain(tmp_path):
    committed = _write(tmp_path / "c" / "policies_results.csv", [_policy_row("a", 1, 0.5)], layout=policies)
    fresh = _write(
        tmp_path / "f" / "policies_results.csv",
        [_policy_row("a", 1, 0.25) | {"commit": "bbb"}, _policy_row("a", 1, 0.1, algo="random")],
        layout=policies,
    )

    report = merge.merge(committed, [fresh])

    assert report.splitlines() == [
        "ppo: 1 cells compared, 0 auc_gain equal, 0 new",
        "  dataset=a la=0.1 seed=1 budget=tiny_long: 0.5 -> 0.25 (-0.25 points; old row written at aaa)",
        "random: 0 cells compared, 0 auc_gain equal, 1 new",
    ]
    rows = ResultStore(committed, policies.COLUMNS, policies.KEY_COLUMNS).rows.values()
    assert sorted((r["algo"], r["auc_gain"]) for r in rows) == [("ppo", "0.25"), ("random", "0.1")]


def test_policy_rows_run_with_other_options_are_refused_by_name(tmp_path):
    committed = _write(tmp_path / "c" / "policies_results.csv", [_policy_row("a", 1, 0.5)], layout=policies)
    fresh = _write(
        tmp_path / "f" / "policies_results.csv",
        [_policy_row("b", 1, 0.5, deploy="catboost")],
        layout=policies,
    )
    before = committed.read_bytes()
    with pytest.raises(ValueError, match="run with deploy=mome; the fresh row .* has deploy=catboost"):
        merge.merge(committed, [fresh])
    assert committed.read_bytes() == before
