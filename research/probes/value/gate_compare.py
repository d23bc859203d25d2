"""The paper-reward agents' rows with the deployment gate on, against the leaderboard's (gate off).

    python -m research.probes.value.gate_compare > research/probes/value/gate_tiny_long/table.md

The leaderboard deploys without the gate (``--no-synthetic-gate``) to measure what the rows themselves
do. The loop's default keeps the gate: the kept rows join the deployment fit only if a validation carve
of the training split says they help. Training is the same with the gate on or off (the gate acts after
the loop), so each gated cell pairs with the leaderboard's cell of the same set, algo and seed.
"""

from __future__ import annotations

import pandas as pd

from benchmarks.rl_stats import mean_ci

GATED = "research/probes/value/gate_tiny_long/policies_results.csv"
UNGATED = "benchmarks/results/policies/policies_results.csv"


def main() -> None:
    keys = ["dataset", "algo", "seed"]
    gated = pd.read_csv(GATED).set_index(keys)
    ungated = pd.read_csv(UNGATED).set_index(keys).loc[gated.index]
    same = (gated.final_reward - ungated.final_reward).abs().max()
    print("# Paper-reward agents at `tiny_long`, deployment gate on and off\n")
    print(f"- Gated rows: `{GATED}`; ungated: `{UNGATED}`; largest |final_reward| difference: {same:.2g}.")
    print("- `auc_gain` in AUC points, mean over seeds; the paired change with a bootstrap 95% CI.\n")
    print("| dataset | algo | cells | auc_gain, gate off | auc_gain, gate on | gate on − off, 95% CI |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    for (dataset, algo), cells in gated.groupby(level=["dataset", "algo"]):
        off = 100 * ungated.loc[cells.index, "auc_gain"].to_numpy()
        on = 100 * cells.auc_gain.to_numpy()
        print(
            f"| {dataset} | {algo} | {len(on)} | {off.mean():+.2f} | {on.mean():+.2f} | {mean_ci([on - off]).format()} |"
        )
    for algo, cells in gated.groupby(level="algo"):  # seeds resampled within each set
        sets = [c for _, c in cells.groupby(level="dataset")]
        change = mean_ci([100 * (c.auc_gain - ungated.loc[c.index, "auc_gain"]).to_numpy() for c in sets])
        off, on = 100 * ungated.loc[cells.index, "auc_gain"].mean(), 100 * cells.auc_gain.mean()
        print(
            f"| all {len(sets)} sets | {algo} | {len(cells)} | {off:+.2f} | {on:+.2f} | {change.format()} |"
        )


if __name__ == "__main__":
    main()
