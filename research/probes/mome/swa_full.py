"""The tables' MoME with weight averaging at lr 2e-2 (b974102) against the one before (2d2ec8d), full ADBench tables.

    python -m research.probes.mome.swa_full > research/probes/mome/swa_full.md

Reads the committed ADBench rows before and after the merge from git, so the comparison keeps its
meaning if the rows are replaced again. Per la: the mean over the 32 sets (seeds averaged first) of
`mome` - `catboost` before and after, the same without 34_smtp (its test split holds one or two
anomalies per seed, so its AUC is the rank of one row), the change per set, and the fit cost.
"""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[3]
CSV = "benchmarks/results/adbench/adbench_results.csv"
BEFORE, AFTER = "a13eae7", "e6565dc"  # the commits before and after the merge of the b974102 rows
NOISY = "34_smtp"


def _rows(commit: str) -> pd.DataFrame:
    text = subprocess.run(
        ["git", "show", f"{commit}:{CSV}"], cwd=ROOT, check=True, capture_output=True, text=True
    )
    return pd.read_csv(io.StringIO(text.stdout))


def main() -> None:
    before, after = _rows(BEFORE), _rows(AFTER)
    print(__doc__.split("\n\n")[2].replace("\n", " "))
    print()
    print(
        "| la | gap to catboost before | after | after - before | without 34_smtp: before | after | "
        "mome fit s / catboost's (after) |"
    )
    print("|---|---|---|---|---|---|---|")
    moved = []
    for la in (0.1, 1.0):
        per = {}
        for name, rows in (("before", before), ("after", after)):
            cells = rows[(rows.la == la) & rows.method.isin(["mome", "catboost"])]
            table = cells.groupby(["dataset", "method"]).auc_roc.mean().unstack() * 100
            per[name] = table.mome - table.catboost
        cells = after[(after.la == la) & after.method.isin(["mome", "catboost"])]
        cost = (
            cells[cells.method == "mome"].fit_seconds.sum()
            / cells[cells.method == "catboost"].fit_seconds.sum()
        )
        b, a = per["before"], per["after"]
        print(
            f"| {la} | {b.mean():+.2f} | {a.mean():+.2f} | {(a - b).mean():+.2f} | {b.drop(NOISY).mean():+.2f} | "
            f"{a.drop(NOISY).mean():+.2f} | {cost:.2f}x |"
        )
        change = (a - b).sort_values()
        moved.append(
            f"- la {la}: sets that moved most: "
            + ", ".join(f"{k} {v:+.1f}" for k, v in [*change.head(4).items(), *change.tail(4).items()])
        )
    print()
    print("\n".join(moved))


if __name__ == "__main__":
    main()
