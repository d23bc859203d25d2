"""The policy leaderboards before and after their deployment became the tables' MoME (issue 28).

    python -m research.probes.value.leaderboard_rerun > research/probes/value/leaderboard_rerun.log

Reads both leaderboards' rows at two commits from git (before: the rows replaced by the rerun; after:
the rerun's), and prints per reward the mean no-augmentation control AUC-ROC over the (dataset, seed)
splits, each algo's mean `final_reward` and `auc_gain` (AUC points), and how many `final_reward` values
came out equal (the loop and the reward did not change, only the deployment detector).
"""

from __future__ import annotations

import io
import subprocess

import pandas as pd

BEFORE, AFTER = "e68e7a6", "b21e811"
BOARDS = {"paper reward": "benchmarks/results/policies", "value reward": "benchmarks/results/policies/value"}


def _rows(commit: str, folder: str) -> pd.DataFrame:
    text = subprocess.run(
        ["git", "show", f"{commit}:{folder}/policies_results.csv"], capture_output=True, check=True
    ).stdout.decode()
    return pd.read_csv(io.StringIO(text))


def main() -> None:
    print(f"before: rows at {BEFORE}; after: rows at {AFTER}\n")
    for name, folder in BOARDS.items():
        before, after = _rows(BEFORE, folder), _rows(AFTER, folder)
        cells = before.merge(after, on=["dataset", "algo", "seed"], suffixes=("_before", "_after"))
        splits = cells.drop_duplicates(["dataset", "seed"])
        same = (cells.final_reward_before - cells.final_reward_after).abs() < 1e-9
        print(f"## {name}: {len(cells)} cells; final_reward equal in {same.sum()}")
        print(f"control AUC-ROC, mean over {len(splits)} splits: "
              f"{100 * splits.control_auc_roc_before.mean():.2f} -> {100 * splits.control_auc_roc_after.mean():.2f}")  # fmt: skip
        by_algo = cells.groupby("algo")[["final_reward_before", "final_reward_after", "auc_gain_before",
                                         "auc_gain_after"]].mean()  # fmt: skip
        by_algo[["auc_gain_before", "auc_gain_after"]] *= 100
        print(by_algo.round(3).to_string() + "\n")


if __name__ == "__main__":
    main()
