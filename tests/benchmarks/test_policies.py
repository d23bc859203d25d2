"""The generation-policy leaderboard: a real tiny run, resume, failures, rank logic and bad input."""

from __future__ import annotations

import csv
import math
import re
from pathlib import Path

import numpy as np
import pytest

from benchmarks import policies

# What every real ``ok`` row carries (a row without them is recomputed as damaged).
SIZES = {"n_train": 100, "n_test": 40, "n_features": 8}


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def _argv(out: Path, algos: str = "random,gradient,ppo", *extra: str) -> list[str]:
    return ["--algos", algos, "--datasets", "wdbc", "--seeds", "1", "--la", "0.1", "--budget", "tiny"] + [
        "--out", str(out), "--no-progress", *extra,
    ]  # fmt: skip


def _args(argv: list[str]):
    import argparse

    return policies.add_arguments(argparse.ArgumentParser()).parse_args(argv)


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory) -> Path:
    """One real tiny run (embedded wdbc, seed 1, random + gradient + ppo), shared by the tests below."""
    out = tmp_path_factory.mktemp("policies")
    assert policies.main(_argv(out)) == 0
    return out


def test_tiny_run_writes_one_row_per_cell_with_metrics_in_range(tiny_run):
    from agents.config import get_budget

    budget = get_budget("tiny")
    path = tiny_run / policies.RESULTS_FILE
    with open(path, newline="") as fh:
        assert tuple(next(csv.reader(fh))) == policies.COLUMNS
    rows = _rows(path)
    assert [r["algo"] for r in rows] == ["random", "gradient", "ppo"]
    for r in rows:
        assert r["status"] == "ok", r["error"]
        assert (r["dataset"], r["la"], r["seed"], r["budget"]) == ("wdbc", "0.1", "1", "tiny")
        for column in (
            "evasion_rate",
            "miss_probability",
            "threshold_evasion_rate",
            "kept_evasion_rate",
            "final_detector_evasion_rate",
        ):
            assert 0.0 <= float(r[column]) <= 1.0, column
        assert float(r["entropy_gain"]) >= 0.0
        assert 0.0 < float(r["pairwise_distance"]) <= 1.0
        assert 0.0 < float(r["distinct_fraction"]) <= 1.0
        assert int(r["n_generated"]) == budget.candidates_per_round
        assert int(r["n_kept"]) == budget.rounds * budget.top_l
        assert float(r["auc_gain"]) == pytest.approx(
            float(r["auc_roc"]) - float(r["control_auc_roc"]), abs=1e-5
        )
        assert float(r["wall_seconds"]) > 0.0 and r["commit"]
        # The default reward (miss + novelty + 0.5 entropy) of fresh samples: finite, within its terms' range.
        assert 0.0 <= float(r["final_reward"]) <= 2.0 + 0.5 * math.log(1e6)
        assert (r["deploy"], r["synthetic_gate"], r["env_kwargs"]) == ("catboost", "True", "")
    # The control depends only on (dataset, la, seed, budget): one value for every algo.
    assert len({r["control_auc_roc"] for r in rows}) == 1


def test_tiny_run_writes_leaderboard_with_command_commit_and_plot(tiny_run):
    summary = (tiny_run / policies.SUMMARY_FILE).read_text()
    assert (
        "- Command(s), in the order they ran: `python -m benchmarks.policies --algos random,gradient,ppo --datasets wdbc"
        in summary
    )
    assert "- Commit: `" in summary and "- Cells: 3 ok, 0 failed" in summary
    assert "- Options: deploy=catboost, synthetic gate=True, env_kwargs={}" in summary
    assert "### Uncertainty, budget `tiny`" in summary and "- Reward vs value:" in summary
    for algo in ("random", "gradient", "ppo"):
        assert f"| {algo} | 1 | 0 |" in summary
    assert f"]({policies.PLOT_FILE})" in summary
    assert (tiny_run / policies.PLOT_FILE).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_rerun_skips_finished_cells_and_runs_only_new_ones(tiny_run):
    calls: list[tuple[str, str, int]] = []

    def fake(cell, data_dir, deterministic, device, options):
        calls.append((cell.dataset, cell.algo, cell.seed))
        return {"evasion_rate": 0.5, "auc_roc": 0.9, "control_auc_roc": 0.8, "auc_gain": 0.1} | SIZES

    before = (tiny_run / policies.RESULTS_FILE).read_text()
    policies.run(_args(_argv(tiny_run)), evaluate=fake)
    assert calls == []
    assert (tiny_run / policies.RESULTS_FILE).read_text() == before
    policies.run(_args(_argv(tiny_run, "random,gradient,ppo", "--seeds", "1", "2")), evaluate=fake)
    assert sorted(calls) == [("wdbc", "gradient", 2), ("wdbc", "ppo", 2), ("wdbc", "random", 2)]
    assert len(_rows(tiny_run / policies.RESULTS_FILE)) == 6


def test_failing_cell_is_recorded_and_the_run_goes_on(tmp_path):
    def fake(cell, data_dir, deterministic, device, options):
        if cell.algo == "sac":
            raise RuntimeError("boom in sac")
        return {"evasion_rate": 0.25, "auc_roc": 0.9, "control_auc_roc": 0.85, "auc_gain": 0.05} | SIZES

    summary = policies.run(_args(_argv(tmp_path, "random,sac,gradient")), evaluate=fake)
    rows = {r["algo"]: r for r in _rows(tmp_path / policies.RESULTS_FILE)}
    assert rows["sac"]["status"] == "failed" and "RuntimeError: boom in sac" in rows["sac"]["error"]
    assert rows["random"]["status"] == rows["gradient"]["status"] == "ok"
    text = summary.read_text()
    assert "- Cells: 2 ok, 1 failed" in text and "## Failed cells" in text and "boom in sac" in text
    # A failed cell is not retried unless asked.
    calls: list[str] = []
    policies.run(
        _args(_argv(tmp_path, "random,sac,gradient", "--retry-failed")),
        evaluate=lambda cell, *_: calls.append(cell.algo) or {"auc_gain": 0.0, "auc_roc": 0.5} | SIZES,
    )
    assert calls == ["sac"]


def test_unknown_algo_exits_with_the_list_of_choices(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        policies.main(_argv(tmp_path, "random,bogus"))
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "bogus" in err and all(name in err for name in ("ppo", "sac", "td3", "random", "gradient"))
    assert not (tmp_path / policies.RESULTS_FILE).exists()
    with pytest.raises(ValueError, match="unknown algo 'bogus'"):
        policies.make_cells(_args(_argv(tmp_path, "bogus")))


def test_bad_la_and_dataset_are_rejected_before_any_cell(tmp_path):
    with pytest.raises(ValueError, match="--la"):
        policies.make_cells(_args(_argv(tmp_path, "random", "--la", "0")))
    with pytest.raises(ValueError, match="no_such_set"):
        policies.make_cells(_args(["--datasets", "no_such_set", "--out", str(tmp_path)]))


def _row(dataset: str, seed: int, algo: str, gain: float, status: str = "ok") -> dict[str, str]:
    row = {c: "" for c in policies.COLUMNS}
    row |= {
        "dataset": dataset,
        "la": "0.1",
        "seed": str(seed),
        "algo": algo,
        "budget": "tiny",
        "status": status,
    }
    if status == "ok":
        row |= {"auc_gain": str(gain), "evasion_rate": str(0.5 + gain), "wall_seconds": str(10 * gain + 1)}
    return row


def test_mean_ranks_use_only_blocks_every_algo_completed():
    rows = [
        _row("a", 1, "ppo", 0.03), _row("a", 1, "random", 0.01), _row("a", 1, "sac", 0.02),
        _row("a", 2, "ppo", 0.00), _row("a", 2, "random", 0.02), _row("a", 2, "sac", 0.01),
        # sac failed here: the block is left out, otherwise random would gain a win against ppo.
        _row("b", 1, "ppo", 0.00), _row("b", 1, "random", 0.05), _row("b", 1, "sac", 0.0, "failed"),
    ]  # fmt: skip
    ranks = policies.mean_ranks(rows, "auc_gain", higher_is_better=True)
    assert ranks == pytest.approx({"ppo": 2.0, "random": 2.0, "sac": 2.0})
    # One block: higher gain ranks first, lower wall time ranks first.
    first = rows[:3]
    assert policies.mean_ranks(first, "auc_gain", True) == pytest.approx({"ppo": 1, "sac": 2, "random": 3})
    assert policies.mean_ranks(first, "wall_seconds", False) == pytest.approx(
        {"ppo": 3, "sac": 2, "random": 1}
    )
    rows = rows[:6]
    board = policies.leaderboard(rows + [_row("a", 3, "ppo", 0.09), _row("a", 3, "random", 0.0)])
    # Block (a, 3) lacks sac, so ranks still tie; ppo's higher mean gain breaks the tie.
    assert [e["algo"] for e in board][0] == "ppo"
    assert board[0]["auc_gain"] == pytest.approx([0.03, 0.00, 0.09])
    assert board[0]["ok"] == 3 and board[0]["failed"] == 0


def test_evasion_metrics_of_a_known_detector():
    class Fixed:  # P(anomaly) = first feature; its own threshold flags only P > 0.8
        def predict_proba(self, X):
            return np.column_stack([1 - X[:, 0], X[:, 0]])

        def predict(self, X):
            return (X[:, 0] > 0.8).astype(np.int64)

    X = np.array([[0.1], [0.49], [0.5], [0.9]])
    metrics = policies.evasion_metrics(Fixed(), X)
    assert metrics["evasion_rate"] == 0.5 and policies.evasion_rate(Fixed(), X) == 0.5
    assert metrics["miss_probability"] == pytest.approx(1 - np.mean([0.1, 0.49, 0.5, 0.9]))
    assert metrics["threshold_evasion_rate"] == 0.75
    assert set(policies.evasion_metrics(Fixed(), X[:0]).values()) == {None}
    assert policies.evasion_rate(Fixed(), X[:0]) is None


def test_diversity_of_copies_and_of_a_spread_set():
    anomalies = np.array([[0.0, 0.0], [1.0, 1.0], [0.0, 1.0]], dtype=np.float32)
    copies = policies.diversity(np.repeat(anomalies[:1], 4, axis=0), anomalies, k=1)
    assert copies["entropy_gain"] == 0.0 and copies["pairwise_distance"] == 0.0
    assert copies["distinct_fraction"] == 0.25
    spread = policies.diversity(np.array([[0.0, 0.0], [1.0, 0.0]]), anomalies, k=1)
    assert spread["pairwise_distance"] == pytest.approx(1.0 / math.sqrt(2))
    assert spread["distinct_fraction"] == 1.0
    assert spread["entropy_gain"] == pytest.approx(0.5 * math.log(2.0))  # one copy (0), one at spacing 1


# ----------------------------------------------------------------------------------------------- final reward
class _Fixed:
    """A detector whose P(anomaly) is the first feature (no torch hot path: the numpy fallback)."""

    def predict_proba(self, X):
        X = np.asarray(X)
        return np.column_stack([1 - X[:, 0], X[:, 0]])


def _train_split(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.uniform(0.0, 0.5, size=(60, 3))
    y = np.zeros(60, dtype=np.int64)
    y[:6] = 1
    X[:6, 0] = rng.uniform(0.6, 1.0, size=6)
    return X, y


def test_final_reward_is_the_envs_reward_under_the_frozen_detector():
    from hydra_env import EnvConfig

    X_train, y_train = _train_split()
    generated = np.array([[0.1, 0.2, 0.3], [0.9, 0.5, 0.5], [0.3, 0.3, 0.3]], dtype=np.float32)
    # miss_proba alone: the reward is 1 - P(anomaly), so the mean is known.
    config = EnvConfig(seed=1, reward_weights="miss_proba:1")
    value = policies.final_reward(_Fixed(), generated, X_train, y_train, config)
    assert value == pytest.approx(1 - np.mean([0.1, 0.9, 0.3]), abs=1e-6)
    assert policies.final_reward(_Fixed(), generated[:0], X_train, y_train, config) is None
    # miss (a rank among the fit part's normals): a row more anomalous than every normal earns 0,
    # a row more normal than every normal earns 1.
    rank = EnvConfig(seed=1, reward_weights="miss:1")
    extremes = np.array([[0.99, 0.2, 0.2], [0.0, 0.2, 0.2]], dtype=np.float32)
    assert policies.final_reward(_Fixed(), extremes[:1], X_train, y_train, rank) == 0.0
    assert policies.final_reward(_Fixed(), extremes[1:], X_train, y_train, rank) == 1.0
    # The weights come from the run's env settings: doubling them doubles the reward.
    double = EnvConfig(seed=1, reward_weights="miss_proba:2")
    assert policies.final_reward(_Fixed(), generated, X_train, y_train, double) == pytest.approx(2 * value)


def test_env_config_applies_env_kwargs_over_the_loops_settings():
    from agents.config import LoopOptions, get_budget

    budget = get_budget("tiny")
    options = LoopOptions(env_kwargs={"reward_weights": "miss:1,novelty:0.5", "entropy_k": 5})
    config = policies.env_config(budget, 3, options)
    assert config.reward_weights == {"miss": 1.0, "novelty": 0.5}
    assert (config.entropy_k, config.seed, config.latent_dim) == (5, 3, budget.latent_dim)


def test_control_cache_key_includes_the_deployment_detector(monkeypatch):
    import types

    import agents.loop

    calls: list[str] = []

    class Control:
        def decision_function(self, X):
            return X[:, 0]

    def fake_control(X, y, *, budget, seed, options, device):
        calls.append(options.deploy)
        return Control()

    X, y = _train_split()
    split = types.SimpleNamespace(X_train=X, y_train=y, X_test=X, y_test=y)
    monkeypatch.setattr(policies, "_split", lambda *args: split)
    monkeypatch.setattr(agents.loop, "fit_deployment_control", fake_control)
    policies._control.cache_clear()
    try:
        for deploy in ("catboost", "lightgbm", "catboost"):
            policies._control("fake", None, 0.1, 1, "tiny", "cpu", deploy)
    finally:
        policies._control.cache_clear()
    assert calls == ["catboost", "lightgbm"]


# ----------------------------------------------------------------------------------------------- options
def test_options_reach_the_cells_and_are_recorded(tmp_path):
    seen = []

    def fake(cell, data_dir, deterministic, device, options):
        seen.append(options)
        return {"auc_roc": 0.9, "control_auc_roc": 0.8, "auc_gain": 0.1, "final_reward": 0.5} | SIZES

    extra = (
        "--deploy",
        "lightgbm",
        "--no-synthetic-gate",
        "--env-kwargs",
        "reward_weights=miss:1,novelty:0.5",
    )
    argv = _argv(tmp_path, "random,gradient", *extra)
    args = _args(argv)
    args.command = "python -m benchmarks.policies " + " ".join(argv)
    summary = policies.run(args, evaluate=fake).read_text()
    assert [(o.deploy, o.synthetic_gate, o.env_kwargs) for o in seen] == 2 * [
        ("lightgbm", False, {"reward_weights": "miss:1,novelty:0.5"})
    ]
    rows = _rows(tmp_path / policies.RESULTS_FILE)
    assert {(r["deploy"], r["synthetic_gate"], r["env_kwargs"]) for r in rows} == {
        ("lightgbm", "False", '{"reward_weights": "miss:1,novelty:0.5"}')
    }
    assert "--deploy lightgbm --no-synthetic-gate --env-kwargs reward_weights=miss:1,novelty:0.5" in summary
    assert '- Options: deploy=lightgbm, synthetic gate=False, env_kwargs={"reward_weights"' in summary
    # The options are not in the cell key: the same folder refuses cells run with other ones.
    with pytest.raises(ValueError, match="deploy=lightgbm, not catboost; use another --out"):
        policies.run(_args(_argv(tmp_path, "random,ppo")), evaluate=fake)
    assert len(seen) == 2


def test_bad_options_exit_2_before_any_cell(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        policies.main(_argv(tmp_path, "random", "--env-kwargs", "no_such_field=1"))
    assert exit_info.value.code == 2 and "no_such_field" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        policies.main(_argv(tmp_path, "random", "--deploy", "bogus"))
    assert exit_info.value.code == 2 and "catboost" in capsys.readouterr().err
    assert not (tmp_path / policies.RESULTS_FILE).exists()


# ----------------------------------------------------------------------------------------------- uncertainty
def _uncertainty_row(text: str, algo: str) -> list[str]:
    """The cells of ``algo``'s row in the uncertainty table."""
    section = text.split("### Uncertainty", 1)[1]
    line = next(ln for ln in section.splitlines() if ln.startswith(f"| {algo} |"))
    return [c.strip() for c in line.strip(" |").split("|")]


def _cell(dataset: str, seed: int, algo: str, reward: float | None, gain: float) -> dict[str, str]:
    row = _row(dataset, seed, algo, gain)
    row["final_reward"] = "" if reward is None else str(reward)
    return row


def test_summary_reports_iqm_improvement_paired_gain_and_correlation(tmp_path):
    rows = []
    for d, dataset in enumerate(("a", "b", "c")):
        for seed in (1, 2, 3, 4):
            base = 0.4 + 0.05 * d + 0.01 * seed
            rows.append(_cell(dataset, seed, "random", base, 0.001 * seed))
            # ppo earns 0.1 more reward in every cell, and its AUC gain grows with its reward.
            rows.append(_cell(dataset, seed, "ppo", base + 0.1, 0.02 + 0.01 * d + 0.001 * seed))
    text = policies.write_leaderboard(rows, tmp_path, command="cmd", commit="abc").read_text()
    cells = _uncertainty_row(text, "ppo")
    assert cells[:2] == ["ppo", "12"]
    # P(ppo > random) on final reward: ppo wins every seed pair of every dataset (its lowest reward
    # beats random's highest within each dataset), so the estimate and its CI are exactly 1.
    assert cells[4] == "1 [1, 1]"
    assert cells[5] == "1 [1, 1]"
    random_mean = np.mean([0.4 + 0.05 * d + 0.01 * s for d in range(3) for s in (1, 2, 3, 4)])
    assert cells[6].startswith("0.1 [0.1, 0.1]") and f"(+{100 * 0.1 / random_mean:.1f}%)" in cells[6]
    assert _uncertainty_row(text, "random")[4:] == ["–", "–", "–"]
    best = next(ln for ln in text.splitlines() if ln.startswith("- Best policy by mean AUC gain: `ppo`"))
    assert "95% CI; it lies above 0" in best and "it lies above 0)." in best
    # Two policies: the interval that pays for picking the best is a Bonferroni 97.5% one, and wider.
    plain = [float(v) for v in re.search(r"\[(\S+), (\S+)\] points", best).groups()]
    picked = [float(v) for v in re.search(r"the 97\.5% CI, which pays .* is \[(\S+), (\S+)\]", best).groups()]
    assert picked[0] <= plain[0] and picked[1] >= plain[1] and picked[1] - picked[0] > plain[1] - plain[0]
    assert "- Reward vs value: Spearman ρ = 0.8" in text and "predicts downstream value" in text


def test_summary_of_old_rows_without_final_reward_shows_dashes(tmp_path):
    rows = [
        _cell(d, s, a, None, g)
        for d in ("a", "b")
        for s in (1, 2)
        for a, g in (("random", 0.0), ("ppo", 0.01))
    ]
    for r in rows:
        for column in ("final_reward", "deploy", "synthetic_gate", "env_kwargs"):
            del r[column]
    text = policies.write_leaderboard(rows, tmp_path, command="cmd", commit="abc").read_text()
    cells = _uncertainty_row(text, "ppo")
    assert cells[2] == "–" and cells[3] != "–"  # no reward IQM; an AUC-gain IQM
    assert cells[4] == "–" and cells[5] != "–" and cells[6] == "–"
    assert "- Options: not recorded (older rows)" in text
    assert "- Reward vs value: – (needs 3 cells" in text
    assert (tmp_path / policies.PLOT_FILE).is_file()


# ----------------------------------------------------------------------------------------------- repeats
def test_repeat_seeds_step_by_the_stride_and_refuse_zero():
    assert policies.repeat_seeds(4, 3) == [
        4,
        4 + policies.REPEAT_SEED_STRIDE,
        4 + 2 * policies.REPEAT_SEED_STRIDE,
    ]
    with pytest.raises(ValueError, match="deploy_repeats must be >= 1"):
        policies.repeat_seeds(1, 0)


def test_control_averages_its_repeated_fits_and_reports_their_spread(monkeypatch):
    import types

    import agents.loop

    seeds: list[int] = []

    class Control:
        def __init__(self, flip: bool):
            self.flip = flip

        def decision_function(self, X):
            return -X[:, 0] if self.flip else X[:, 0]

    def fake_control(X, y, *, budget, seed, options, device):
        seeds.append(seed)
        return Control(flip=seed > 1000)  # the second fit ranks every row backwards

    X = np.array([[0.1], [0.2], [0.8], [0.9]])
    y = np.array([0, 0, 1, 1])
    split = types.SimpleNamespace(X_train=X, y_train=y, X_test=X, y_test=y)
    monkeypatch.setattr(policies, "_split", lambda *args: split)
    monkeypatch.setattr(agents.loop, "fit_deployment_control", fake_control)
    policies._control.cache_clear()
    try:
        out = policies._control("fake", None, 0.1, 1, "tiny", "cpu", "mome", 2)
    finally:
        policies._control.cache_clear()
    assert seeds == [1, 1 + policies.REPEAT_SEED_STRIDE]
    assert out["control_auc_roc"] == pytest.approx(0.5)  # mean of 1.0 and 0.0
    assert out["control_auc_roc_std"] == pytest.approx(np.std([1.0, 0.0], ddof=1))


def test_tiny_run_records_the_repeats_and_the_noise_floor(tiny_run):
    rows = _rows(tiny_run / policies.RESULTS_FILE)
    assert {r["deploy_repeats"] for r in rows} == {str(policies.DEFAULT_DEPLOY_REPEATS)}
    real = [r for r in rows if r["seed"] == "1"]  # other tests add fake seed-2 cells to this folder
    assert real and all(0 <= float(r["control_auc_roc_std"]) <= 1 for r in real)
    summary = (tiny_run / policies.SUMMARY_FILE).read_text()
    assert f"deployment fits per side={policies.DEFAULT_DEPLOY_REPEATS}" in summary
    assert "- Detector noise: a control fit's AUC-ROC moves by" in summary


def test_a_folder_refuses_cells_with_another_repeat_count(tmp_path):
    def fake(cell, data_dir, deterministic, device, options):
        return {"auc_roc": 0.9, "control_auc_roc": 0.8, "auc_gain": 0.1, "final_reward": 0.5} | SIZES

    policies.run(_args(_argv(tmp_path, "random", "--deploy-repeats", "2")), evaluate=fake)
    with pytest.raises(ValueError, match="deploy_repeats=2, not 3; use another --out"):
        policies.run(_args(_argv(tmp_path, "random")), evaluate=fake)
    with pytest.raises(ValueError, match="deploy_repeats must be >= 1"):
        policies.run(_args(_argv(tmp_path / "other", "random", "--deploy-repeats", "0")), evaluate=fake)


def test_within_dataset_correlation_separates_policies_from_datasets(tmp_path):
    # Across datasets reward and gain rise together; inside each dataset the better-rewarded cells gain
    # less. The pooled ρ is positive, the within-dataset ρ must expose the opposite link.
    rows = []
    for d, dataset in enumerate(("a", "b", "c")):
        for seed in (1, 2, 3, 4):
            rows.append(_cell(dataset, seed, "random", 10.0 * d + seed, 10.0 * d - 0.1 * seed))
    text = policies.write_leaderboard(rows, tmp_path, command="cmd", commit="abc").read_text()
    pooled = float(text.split("Spearman ρ = ")[1].split(" ")[0])
    within = float(text.split("Within datasets")[1].split("ρ = ")[1].split(" ")[0])
    assert pooled > 0.5 and within < -0.9  # not exactly -1: the centred values tie across datasets


def test_summary_lists_every_command_that_added_cells(tmp_path):
    def fake(cell, data_dir, deterministic, device, options):
        return {"auc_roc": 0.9, "control_auc_roc": 0.8, "auc_gain": 0.1, "final_reward": 0.5} | SIZES

    for algos in ("random", "gradient", "gradient"):  # the repeated command is recorded once
        args = _args(_argv(tmp_path, algos))
        args.command = f"python -m benchmarks.policies --algos {algos}"
        summary = policies.run(args, evaluate=fake).read_text()
    history = (tmp_path / policies.COMMANDS_FILE).read_text().splitlines()
    assert history == [
        "python -m benchmarks.policies --algos random",
        "python -m benchmarks.policies --algos gradient",
    ]
    assert (
        "- Command(s), in the order they ran: `python -m benchmarks.policies --algos random`, then "
        "`python -m benchmarks.policies --algos gradient`" in summary
    )


def test_noise_ceiling_is_what_the_fit_noise_leaves_of_the_gain_spread():
    from benchmarks.policies_report import _noise_ceiling

    rng = np.random.default_rng(0)
    gains = rng.normal(0.0, 0.02, 200)  # within-dataset spread: variance 4e-4
    rows = []
    for i, gain in enumerate(gains):
        row = _cell("ab"[i % 2], i, "random", 0.5, float(gain))
        # noise variance 2 * sd^2 / repeats = 2e-4: half the spread, reliability about 0.5
        row.update(control_auc_roc_std=str(0.02), deploy_repeats="4")
        rows.append(row)
    text = _noise_ceiling(rows)
    reliability = float(text.split("reliability ")[1].split(")")[0])
    ceiling = float(text.split("about ")[1].rstrip("."))
    assert abs(reliability - 0.5) < 0.1 and abs(ceiling - np.sqrt(reliability)) < 0.01
    for row in rows:  # noise as large as the spread: nothing is left to predict
        row["control_auc_roc_std"] = str(0.04)
    assert "0 (noise is the whole spread)" in _noise_ceiling(rows)
    rows[0]["control_auc_roc_std"] = ""  # older rows without the control's std: no claim
    assert _noise_ceiling(rows) == ""
