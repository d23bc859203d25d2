"""The train sweep on the serial backend: CSV rows, resume, failures, bad input (fast stand-in training)."""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

import pytest

from benchmarks import sweep


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def fake_training(calls: list | None = None, fail_algo: str | None = None):
    """A stand-in for agents.experiment.run: numbers that depend only on the cell (the control's not on
    the algo, as in a real run); a local closure, so Ray ships it by value."""

    def train(config, run_dir: Path, resume: bool) -> dict:
        if calls is not None:
            calls.append((config.dataset, config.algo, config.seed, resume, config.control))
        if config.algo == fail_algo:
            raise RuntimeError(f"boom in {config.algo}")
        control = 0.58 + 0.01 * config.seed + 0.05 * (config.dataset == "wine")
        score = control + 0.02 + 0.1 * (config.algo == "sac")
        test = {"swift_hydra": {"auc_roc": score, "auc_pr": score / 2}}
        if config.control:
            test["control"] = {"auc_roc": control, "auc_pr": control / 3}
        return {
            "dataset": config.dataset, "algo": config.algo, "la": config.la, "seed": config.seed,
            "n_train": 100, "n_test": 50, "n_features": 7, "n_labeled_anomalies": 3, "n_synthetic_kept": 16,
            "test": test, "delta_auc_roc": score - control if config.control else None, "run_dir": str(run_dir),
        }  # fmt: skip

    return train


def parse(argv: list[str]) -> argparse.Namespace:
    return sweep.add_arguments(argparse.ArgumentParser()).parse_args(argv)


def grid(out: Path, *extra: str) -> list[str]:
    return ["--datasets", "wdbc,wine", "--algos", "random,sac", "--seeds", "1", "--la", "0.1"] + [
        "--budget", "tiny", "--out", str(out), "--no-progress", *extra,
    ]  # fmt: skip


def test_one_row_per_cell_with_swift_hydra_and_control_numbers(tmp_path):
    calls: list = []
    path = sweep.run(parse(grid(tmp_path)), train=fake_training(calls))
    rows = _rows(path)
    assert path == tmp_path / sweep.RESULTS_FILE
    assert tuple(rows[0]) == sweep.COLUMNS
    assert sorted((r["dataset"], r["algo"]) for r in rows) == [
        ("wdbc", "random"), ("wdbc", "sac"), ("wine", "random"), ("wine", "sac"),
    ]  # fmt: skip
    by_cell = {(r["dataset"], r["algo"]): r for r in rows}
    assert float(by_cell["wine", "sac"]["auc_roc"]) == pytest.approx(0.76)
    assert float(by_cell["wine", "sac"]["control_auc_roc"]) == pytest.approx(0.64)
    assert float(by_cell["wine", "sac"]["delta_auc_roc"]) == pytest.approx(0.12)
    assert float(by_cell["wdbc", "random"]["auc_pr"]) == pytest.approx(0.305)
    assert all(r["status"] == "ok" and r["budget"] == "tiny" and r["la"] == "0.1" for r in rows)
    # Every cell gets its own run directory under OUT/runs, named after the cell.
    assert by_cell["wdbc", "sac"]["run_dir"] == str((tmp_path / "runs" / "wdbc-sac-la0.1-s1-tiny").resolve())
    assert [c[3] for c in calls] == [False] * 4
    # The control is trained once per dataset/seed and reused for the other algo.
    assert sorted((c[0], c[4]) for c in calls) == [
        ("wdbc", False),
        ("wdbc", True),
        ("wine", False),
        ("wine", True),
    ]
    summary = (tmp_path / "sweep_summary.md").read_text()
    assert "| tiny | la=0.1 | wine | sac | 1 | 76.00 | 64.00 | 12.00 |" in summary
    assert "- Cells: 4 ok, 0 failed" in summary
    assert (tmp_path / "sweep_delta.png").stat().st_size > 0


def test_summary_keeps_budgets_apart(tmp_path):
    """A CSV with two budgets (the budget is in the cell key) summarises each on its own line."""
    rows = [
        {c: "" for c in sweep.COLUMNS}
        | {"dataset": "wine", "algo": "ppo", "la": "0.1", "seed": str(seed), "budget": budget, "status": "ok"}
        | {"auc_roc": str(auc), "control_auc_roc": "0.5", "delta_auc_roc": str(auc - 0.5)}
        for seed in (1, 2)
        for budget, auc in (("small", 0.6), ("paper", 0.4))
    ]
    summary = sweep.write_summary(rows, tmp_path, command="cmd", commit="abc").read_text()
    assert "| paper | la=0.1 | wine | ppo | 2 | 40.00 | 50.00 | -10.00 |" in summary
    assert "| small | la=0.1 | wine | ppo | 2 | 60.00 | 50.00 | 10.00 |" in summary


def test_resume_skips_finished_cells_and_runs_only_new_ones(tmp_path):
    calls: list = []
    sweep.run(parse(grid(tmp_path)), train=fake_training(calls))
    calls.clear()
    sweep.run(parse(grid(tmp_path)), train=fake_training(calls))
    assert calls == []
    sweep.run(parse(grid(tmp_path, "--seeds", "1", "2")), train=fake_training(calls))
    assert sorted(c[:4] for c in calls) == [("wdbc", "random", 2, False), ("wdbc", "sac", 2, False),
                             ("wine", "random", 2, False), ("wine", "sac", 2, False)]  # fmt: skip
    assert len(_rows(tmp_path / sweep.RESULTS_FILE)) == 8


def test_a_cell_that_raises_is_recorded_as_failed_and_retried_on_request(tmp_path):
    calls: list = []
    sweep.run(parse(grid(tmp_path)), train=fake_training(calls, fail_algo="sac"))
    rows = {(r["dataset"], r["algo"]): r for r in _rows(tmp_path / sweep.RESULTS_FILE)}
    assert len(rows) == 4
    assert rows["wdbc", "sac"]["status"] == "failed"
    assert rows["wdbc", "sac"]["error"] == "RuntimeError: boom in sac"
    assert rows["wdbc", "sac"]["auc_roc"] == ""
    assert rows["wine", "random"]["status"] == "ok"
    assert (
        "- wdbc sac la=0.1 seed=1: `RuntimeError: boom in sac`" in (tmp_path / "sweep_summary.md").read_text()
    )

    calls.clear()
    sweep.run(parse(grid(tmp_path)), train=fake_training(calls))
    assert calls == []  # failed cells are finished cells...
    sweep.run(parse(grid(tmp_path, "--retry-failed")), train=fake_training(calls))
    assert sorted(c[:2] for c in calls) == [("wdbc", "sac"), ("wine", "sac")]  # ...until asked
    assert all(r["status"] == "ok" for r in _rows(tmp_path / sweep.RESULTS_FILE))


def test_a_cell_killed_mid_run_resumes_its_run_directory(tmp_path):
    # A run directory with config.json but no row in the CSV: the sweep was killed during that cell.
    run_dir = tmp_path / "runs" / "wdbc-random-la0.1-s1-tiny"
    run_dir.mkdir(parents=True)
    (run_dir / "config.json").write_text(json.dumps({"config": {}}))
    calls: list = []
    sweep.run(parse(grid(tmp_path)), train=fake_training(calls))
    assert ("wdbc", "random", 1, True) in [c[:4] for c in calls]
    assert sum(c[3] for c in calls) == 1


def test_no_run_dirs_keeps_only_rows(tmp_path):
    sweep.run(parse(grid(tmp_path, "--no-run-dirs")), train=fake_training())
    assert all(r["run_dir"] == "" for r in _rows(tmp_path / sweep.RESULTS_FILE))
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (["--datasets", "no_such_set"], "no_such_set"),
        (["--algos", "ppo,nope"], "nope"),
        (["--la", "0"], "--la"),
        (["--budget", "huge"], "huge"),
    ],
)
def test_bad_options_exit_2_with_a_message_before_running(tmp_path, capsys, change, message):
    argv = grid(tmp_path)
    for flag, value in zip(change[::2], change[1::2], strict=True):
        argv[argv.index(flag) + 1] = value
    with pytest.raises(SystemExit) as exc:
        sweep.main(argv)
    assert exc.value.code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / sweep.RESULTS_FILE).exists()


def test_real_training_cell(tmp_path):
    """One real tiny ``swift-hydra train`` cell through the sweep."""
    argv = ["--datasets", "wdbc", "--algos", "random", "--seeds", "1", "--la", "0.5", "--budget", "tiny"]
    assert sweep.main([*argv, "--out", str(tmp_path), "--no-progress"]) == 0
    (row,) = _rows(tmp_path / sweep.RESULTS_FILE)
    assert row["status"] == "ok", row["error"]
    assert 0.5 < float(row["auc_roc"]) <= 1.0 and 0.0 < float(row["auc_pr"]) <= 1.0
    assert 0.5 < float(row["control_auc_roc"]) <= 1.0
    assert (Path(row["run_dir"]) / "summary.json").is_file()


def test_loop_options_reach_every_run_and_are_recorded(tmp_path):
    seen: list = []
    base = fake_training()

    def train(config, run_dir, resume):
        seen.append(config.options)
        return base(config, run_dir, resume)

    extra = (
        "--deploy",
        "mome",
        "--no-synthetic-gate",
        "--env-kwargs",
        "reward_weights=miss:1",
        "entropy_k=5",
    )
    path = sweep.run(parse(grid(tmp_path, *extra)), train=train)
    assert {(o.deploy, o.synthetic_gate, json.dumps(o.env_kwargs, sort_keys=True)) for o in seen} == {
        ("mome", False, '{"entropy_k": 5, "reward_weights": "miss:1"}')
    }
    assert len(seen) == 4
    assert {(r["deploy"], r["synthetic_gate"], r["env_kwargs"]) for r in _rows(path)} == {
        ("mome", "False", '{"entropy_k": 5, "reward_weights": "miss:1"}')
    }
    # Defaults are the package's (LoopOptions): catboost with the gate; another folder for other options.
    with pytest.raises(ValueError, match="deploy=mome, not catboost"):
        sweep.run(parse(grid(tmp_path)), train=train)
    with pytest.raises(ValueError, match="--env-kwargs: .*no_such_field"):
        sweep.run(parse(grid(tmp_path / "other", "--env-kwargs", "no_such_field=1")), train=train)
    assert parse(grid(tmp_path)).synthetic_gate is True and parse(grid(tmp_path)).deploy == "catboost"
