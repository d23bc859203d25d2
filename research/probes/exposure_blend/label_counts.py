"""The hedged value loop at one and three labeled anomalies, against its control and the default loop.

    python research/probes/exposure_blend/label_counts.py > research/probes/exposure_blend/label_counts.log

Reads the committed ADBench rows at ``--n-labeled 1`` and ``3`` (32 sets x seeds 1-3) and prints, per
regime, the mean over sets of ``swift_hydra_value`` - ``swift_hydra_control`` and of ``swift_hydra`` -
``swift_hydra_control`` (AUC points, seeds averaged first), the sets more than a point below, and every
set that moved by more than a point.
"""

import pandas as pd

rows = pd.read_csv("benchmarks/results/adbench/adbench_results.csv")
rows = rows[rows.status == "ok"]


def auc(method: str, k: int) -> pd.Series:
    picked = rows[(rows.method == method) & (rows.n_labeled == k)].drop_duplicates(
        ["dataset", "seed"], keep="last"
    )
    return picked.set_index(["dataset", "seed"])["auc_roc"]


for k in (1, 3):
    control = auc("swift_hydra_control", k)
    gains = pd.DataFrame(
        {m: 100 * (auc(m, k) - control) for m in ("swift_hydra_value", "swift_hydra")}
    ).dropna()
    per_set = gains.groupby(level="dataset").mean()
    print(f"K={k}: {len(gains)} cells, {len(per_set)} sets; mean over sets", per_set.mean().round(2).to_dict(),
          "sets below -1", (per_set < -1).sum().to_dict())  # fmt: skip
    print(per_set[per_set.swift_hydra_value.abs() > 1].round(2).to_string(), "\n")
