"""The leaderboard by env reward: one section per reward, its statistics computed on its own rows only."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks import policies, rewards_report
from benchmarks.common import ResultStore


def _write(path, env_kwargs: str, tracks: bool, budget: str = "tiny") -> None:
    """A leaderboard CSV whose reward tracks (or runs against) the AUC gain within each dataset."""
    rng = np.random.default_rng(1)
    store = ResultStore(path, policies.COLUMNS, policies.KEY_COLUMNS)
    for dataset in ("a", "b", "c"):
        for seed in range(1, 6):
            for algo, lift in (("random", 0.0), ("ppo", 0.02), ("sac", -0.02)):
                gain = lift + 0.01 * rng.normal()
                reward = 0.5 + (5 if tracks else -5) * gain
                row = dict.fromkeys(policies.COLUMNS, "")
                row |= {
                    "dataset": dataset, "algo": algo, "la": "0.1", "seed": str(seed), "budget": budget,
                    "status": "ok", "final_reward": f"{reward:.6f}", "auc_gain": f"{gain:.6f}",
                    "auc_roc": "0.9", "control_auc_roc": "0.9", "env_kwargs": env_kwargs, "deploy": "mome",
                    "n_train": "100", "n_test": "40", "n_features": "8", "commit": "abc",
                }  # fmt: skip
                store.add(row)


def test_one_section_per_reward_with_its_own_verdicts(tmp_path):
    (tmp_path / "paper").mkdir()
    (tmp_path / "value").mkdir()
    _write(tmp_path / "paper" / "r.csv", "", tracks=False)
    _write(tmp_path / "value" / "r.csv", '{"reward_weights": "value:1"}', tracks=True)
    code = rewards_report.main(
        [str(tmp_path / "paper" / "r.csv"), str(tmp_path / "value" / "r.csv"), "--out", str(tmp_path)]
    )
    assert code == 0
    text = (tmp_path / rewards_report.SUMMARY_FILE).read_text()
    paper, value = text.split("## Reward: ")[1:]
    assert paper.startswith(f"`{rewards_report.PAPER_REWARD}`") and value.startswith('`{"reward_weights"')
    rho = [float(part.split("ρ = ")[1].split(" ")[0]) for part in (paper, value)]
    assert rho[0] < -0.5 < 0.5 < rho[1]
    assert "Yes: `ppo`" in paper and "Yes: `ppo`" in value
    assert "Bonferroni over the 2 RL agents" in paper and "]: above 0)" in paper
    assert "The same protocol for every reward: budget `tiny`, deployment `mome`" in text


def test_a_protocol_that_differs_between_rewards_is_said(tmp_path):
    _write(tmp_path / "paper.csv", "", tracks=False)
    _write(tmp_path / "value.csv", '{"reward_weights": "value:1"}', tracks=True, budget="tiny_long")
    rewards_report.main([str(tmp_path / "paper.csv"), str(tmp_path / "value.csv"), "--out", str(tmp_path)])
    lines = (tmp_path / rewards_report.SUMMARY_FILE).read_text().splitlines()
    line = next(x for x in lines if x.startswith(("- The same protocol", "- **The rewards' rows")))
    assert "different protocols" in line
    assert "budget `tiny`," in line and "budget `tiny_long`," in line


def test_rl_beats_random_counts_only_rl_agents_and_pays_for_asking_each(monkeypatch):
    from benchmarks.rl_stats import Estimate

    def gain(rows, algo, level=0.95):  # ppo clears 0 at 95% but not at the corrected level
        if algo == "gradient":
            return Estimate(0.05, 0.04, 0.06)
        if algo == "ppo":
            return Estimate(0.004, 0.001, 0.007) if level == 0.95 else Estimate(0.004, -0.001, 0.009)
        return Estimate(0.0, -0.01, 0.01)

    monkeypatch.setattr(rewards_report, "gain_vs_random", gain)
    line = rewards_report.rl_beats_random_line([], ["ppo", "sac"])
    assert line.startswith(
        "- Does RL beat `random` on AUC gain under this reward? Yes: `ppo`, 0.4 [0.1, 0.7]"
    )
    assert "the 97.5% CI, Bonferroni over the 2 RL agents, is [-0.1, 0.9]: contains 0)" in line
    assert "gradient" not in line and "sac" not in line
    assert "No: no RL agent" in rewards_report.rl_beats_random_line([], ["sac"])


def test_a_missing_csv_is_named(tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        rewards_report.main([str(tmp_path / "absent.csv"), "--out", str(tmp_path)])
    assert stop.value.code == 2 and "absent.csv" in capsys.readouterr().err
