"""A candidate tables' MoME on the full ADBench tables, against the tables' MoME of the same cells.

    python -m research.probes.mome.full_check > research/probes/mome/full_check.md

Rows in ``results_full/<candidate>_la<la>.csv`` are the ADBench runner's own CSV (``catboost`` and the
candidate's ``mome``, timed side by side in one process); the reference is the committed ADBench table
at a commit where its ``mome`` is the tables' MoME (read from git, so the check keeps its meaning).
Seeds are averaged per set first, then sets are averaged, as in the ADBench summary.
"""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
REFERENCE_AT = "f915281:benchmarks/results/adbench/adbench_results.csv"
CANDIDATES = {
    "m2_e20_s12": "two members, 20 epochs of at most 12 minibatches (`TABLE_SETTINGS` at 4b9a55a)",
    "m4_e20_s12": "four members, 20 epochs of at most 12 minibatches (`828004e`, a probe-only commit on 18b4482, not on main: "
    "`TABLE_EPOCHS = 20`, `max_steps_per_epoch=12`)",
}


def _reference() -> pd.DataFrame:
    text = subprocess.run(
        ["git", "show", REFERENCE_AT], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout
    table = pd.read_csv(io.StringIO(text))
    return table[table.n_labeled.isna() & table.method.isin(["mome", "catboost"])]


def main() -> None:
    reference = _reference()
    print("Full ADBench tables, test AUC-ROC x100, seeds averaged per set; `tables` is the tables' MoME")
    print(
        f"(`{REFERENCE_AT.split(':')[0]}`), `cand` the candidate; cost: candidate fit s / CatBoost's, same process.\n"
    )
    print(
        "| candidate | la | sets | cand | tables | cand - tables | cand - catboost | tables - catboost | cost x catboost | worst sets (cand - tables) |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name in CANDIDATES:
        for path in sorted(HERE.glob(f"results_full/{name}_la*.csv")):
            la = float(path.stem.rsplit("_la", 1)[1])
            rows = pd.read_csv(path)
            counts = rows.groupby(["dataset", "method"]).size().unstack()
            sets = counts.index[(counts == 3).all(axis=1)]  # sets with all three seeds of both methods
            cand = rows.pivot_table(index="dataset", columns="method", values="auc_roc").loc[sets] * 100
            ref = reference[reference.la == la].pivot_table(
                index="dataset", columns="method", values="auc_roc"
            )
            ref = ref.loc[sets] * 100
            fit = rows[rows.dataset.isin(sets)].groupby("method").fit_seconds.sum()
            diff = (cand["mome"] - ref["mome"]).sort_values()
            worst = ", ".join(f"{d.split('_', 1)[1]} {v:+.1f}" for d, v in diff.head(3).items())
            print(
                f"| {name} | {la:g} | {len(sets)} | {cand['mome'].mean():.2f} | {ref['mome'].mean():.2f} | "
                f"{diff.mean():+.2f} | {(cand['mome'] - cand['catboost']).mean():+.2f} | "
                f"{(ref['mome'] - ref['catboost']).mean():+.2f} | {fit['mome'] / fit['catboost']:.2f} | {worst} |"
            )
    print()
    for name, what in CANDIDATES.items():
        print(f"- `{name}`: {what}.")


if __name__ == "__main__":
    main()
