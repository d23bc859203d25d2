"""The value loop before and after a rerun, per set, from the committed tables at two commits.

    python research/probes/value/rerun_compare.py 2f49458 08d125a > research/probes/value/rerun_compare.log

Reads ``benchmarks/results/{adbench,unseen}/*_results.csv`` at both commits (``git show``) and prints,
per ADBench set at la = 0.1 and per unseen-type set, ``swift_hydra_value`` − ``swift_hydra_control``
(AUC points, seeds averaged) before and after, and the cell's fit seconds against ``swift_hydra``'s.
"""

from __future__ import annotations

import io
import subprocess
import sys

import pandas as pd

TABLES = {
    "adbench": ("benchmarks/results/adbench/adbench_results.csv", ["dataset", "seed"]),
    "unseen": ("benchmarks/results/unseen/unseen_results.csv", ["dataset", "held_out_type", "seed"]),
}


def _table(commit: str, path: str) -> pd.DataFrame:
    text = subprocess.run(["git", "show", f"{commit}:{path}"], capture_output=True, text=True, check=True)
    frame = pd.read_csv(io.StringIO(text.stdout))
    return frame[(frame.la == 0.1) & (frame.status == "ok")]


def _gains(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    def method(name: str, column: str) -> pd.Series:
        return frame[frame.method == name].set_index(keys)[column]

    cells = pd.DataFrame(
        {
            "gain": 100 * (method("swift_hydra_value", "auc_roc") - method("swift_hydra_control", "auc_roc")),
            "value_s": method("swift_hydra_value", "fit_seconds"),
            "swift_hydra_s": method("swift_hydra", "fit_seconds"),
        }
    ).dropna()
    return cells.groupby(level="dataset").mean()


def main(before: str, after: str) -> None:
    for name, (path, keys) in TABLES.items():
        old, new = (_gains(_table(c, path), keys) for c in (before, after))
        before_gain = old[["gain"]].rename(columns={"gain": "gain_before"})
        both = before_gain.join(new.rename(columns={"gain": "gain_after"}), how="inner")
        both["cost_x"] = both.value_s / both.swift_hydra_s
        print(f"## {name}: swift_hydra_value - control (AUC points), {before} -> {after}")
        print(both[["gain_before", "gain_after", "value_s", "cost_x"]].round(2).to_string())
        cost = both.value_s.mean() / both.swift_hydra_s.mean()
        below = (both.gain_before < -1).sum(), (both.gain_after < -1).sum()
        print(
            f"mean: {both.gain_before.mean():+.2f} -> {both.gain_after.mean():+.2f}; sets below -1: "
            f"{below[0]} -> {below[1]}; value cell / swift_hydra cell (mean seconds): {cost:.2f}x\n"
        )


if __name__ == "__main__":
    main(*sys.argv[1:3])
