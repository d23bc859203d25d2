"""Which rows joined the value loop's deployment fit, per set, beside what the set gained or lost.

    python research/probes/value/gate_harm.py > research/probes/value/gate_harm.log
    python research/probes/value/gate_harm.py ADBENCH.csv [UNSEEN.csv]    # other tables

Reads the committed ``benchmarks/results/{adbench,unseen}/*_results.csv`` and, for every set,
prints ``swift_hydra_value`` − ``swift_hydra_control`` (AUC points, seeds averaged; on the unseen-type
table, held-out types too) beside the gate columns of the value loop's rows (`benchmarks.adbench.GATE_COLUMNS`):
in how many cells the kept rows joined (weight > 0) and in how many the outlier-exposure rows did. Then
the mean gain over the cells where nothing joined, where only the exposure rows joined, only the kept
rows, or both: with nothing joined the deployment fit is the control's, so the gain there must be 0.
"""

from __future__ import annotations

import sys

import pandas as pd

TABLES = {
    "adbench": ("benchmarks/results/adbench/adbench_results.csv", ["dataset", "seed"]),
    "unseen": ("benchmarks/results/unseen/unseen_results.csv", ["dataset", "held_out_type", "seed"]),
}


def cells(path: str, keys: list[str]) -> pd.DataFrame:
    """One row per cell: the value loop's gain over the control (points) and what joined its fit."""
    frame = pd.read_csv(path)
    if "n_exposure_used" not in frame:  # written before the gate columns
        return pd.DataFrame(columns=["recorded"])
    frame = frame[(frame.la == 0.1) & (frame.status == "ok") & frame.n_labeled.isna()]
    value = frame[frame.method == "swift_hydra_value"].set_index(keys)
    control = frame[frame.method == "swift_hydra_control"].set_index(keys)
    out = pd.DataFrame(
        {
            "gain": 100 * (value.auc_roc - control.auc_roc),
            "kept_joined": (value.synthetic_weight_used > 0) & (value.n_synthetic_kept > 0),
            "exposure_joined": value.n_exposure_used > 0,
            "recorded": value.n_exposure_used.notna(),
        }
    ).dropna(subset=["gain"])
    return out.reset_index()


def report(name: str, table: pd.DataFrame) -> None:
    recorded = table[table.recorded]
    print(f"## {name}: {len(recorded)} of {len(table)} cells record the gate\n")
    per_set = recorded.groupby("dataset").agg(
        gain=("gain", "mean"), cells=("gain", "size"), kept_joined=("kept_joined", "sum"),
        exposure_joined=("exposure_joined", "sum"),
    )  # fmt: skip
    print(per_set.sort_values("gain").round(2).to_string())
    joined = recorded.kept_joined.map({True: "kept", False: ""}) + recorded.exposure_joined.map(
        {True: "+exposure", False: ""}
    )
    by_what = recorded.groupby(joined.replace("", "nothing").str.lstrip("+")).gain.agg(["mean", "size"])
    print("\nMean gain (points) by what joined the deployment fit:\n")
    print(by_what.round(3).to_string(), "\n")


def main(paths: list[str]) -> None:
    """``paths``: other CSVs in place of the committed ADBench (and unseen-type) tables."""
    for (name, (path, keys)), other in zip(TABLES.items(), [*paths, None, None], strict=False):
        path = other or path
        table = cells(path, keys)
        if "recorded" in table and table.recorded.any():
            report(name, table)
        else:
            print(f"## {name}: no cell records the gate yet\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main(sys.argv[1:])
