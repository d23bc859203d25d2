"""One reward's policy leaderboard at two budgets (`tiny`: 128 agent steps, `tiny_long`: 16,384), per algo.

    python -m research.probes.value.budget_compare \
        research/probes/value/leaderboard_paper_tiny/policies_results.csv \
        benchmarks/results/policies/policies_results.csv > research/probes/value/budget_compare_paper.md

Each CSV holds one budget's rows of the same cells (datasets x seeds, deployment, fits per side). Per algo
it prints the means at both budgets (``auc_gain`` in AUC points) of ``final_reward`` (under the frozen reference detector),
``evasion_rate``, ``pairwise_distance`` and ``auc_gain``, and the paired change of ``auc_gain`` (later
budget minus earlier, cells matched by dataset and seed) with a stratified bootstrap 95% CI (seeds
resampled within datasets, as the leaderboard's summaries do).
"""

from __future__ import annotations

import sys

import pandas as pd

from benchmarks.rl_stats import mean_ci

COLUMNS = ("final_reward", "evasion_rate", "pairwise_distance", "auc_gain")
SCALE = {"auc_gain": 100.0}
"""``auc_gain`` is stored as an AUC difference and printed in AUC points."""


def _rows(path: str) -> pd.DataFrame:
    frame = pd.read_csv(path)
    frame = frame[frame.status == "ok"]
    budgets = frame.budget.unique()
    if len(budgets) != 1:
        raise SystemExit(f"{path}: expected one budget, found {list(budgets)}")
    return frame


def main(before_path: str, after_path: str) -> None:
    before, after = _rows(before_path), _rows(after_path)
    b_name, a_name = before.budget.iloc[0], after.budget.iloc[0]
    print(f"# One leaderboard at `{b_name}` and `{a_name}`\n")
    print(f"- `{b_name}`: `{before_path}`; `{a_name}`: `{after_path}`.")
    kwargs = [sorted(map(str, f.env_kwargs.astype(object).fillna("{}").unique())) for f in (before, after)]
    repeats = [sorted(int(r) for r in f.deploy_repeats.unique()) for f in (before, after)]
    print(f"- env_kwargs: {kwargs[0]} and {kwargs[1]}; deployment fits per side: {repeats[0]} and {repeats[1]}; "
          "`auc_gain` in AUC points.\n")  # fmt: skip
    head = " | ".join(f"{c} {b}" for c in COLUMNS for b in (b_name, a_name))
    print(f"| algo | cells | {head} | Δ auc_gain ({a_name} − {b_name}), 95% CI |")
    print("| --- | ---: |" + " ---: |" * (2 * len(COLUMNS) + 1))
    keys = ["dataset", "seed"]
    for algo in after.algo.unique():
        old = before[before.algo == algo].set_index(keys)
        new = after[after.algo == algo].set_index(keys)
        both = old.merge(new, left_index=True, right_index=True, suffixes=("_b", "_a"))
        means = " | ".join(
            f"{SCALE.get(c, 1) * both[f'{c}_{s}'].mean():.3f}" for c in COLUMNS for s in ("b", "a")
        )
        diff = (100 * (both.auc_gain_a - both.auc_gain_b)).rename("d").reset_index()
        change = mean_ci([g.d.to_numpy() for _, g in diff.groupby("dataset")])
        print(f"| {algo} | {len(both)} | {means} | {change.format()} |")


if __name__ == "__main__":
    main(*sys.argv[1:3])
