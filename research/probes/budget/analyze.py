"""Prints table.md of the budget probe from sweep_results.csv (run from the repository root).

python -m research.probes.budget.analyze > research/probes/budget/table.md
"""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

import numpy as np
from scipy.stats import wilcoxon

HERE = Path(__file__).resolve().parent
BUDGETS = ("small", "paper")


def main() -> None:
    with open(HERE / "sweep_results.csv", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["status"] == "ok"]
    # {(dataset, seed): {budget: (delta, kept, control)}}
    cells: dict = defaultdict(dict)
    for r in rows:
        cells[(r["dataset"], r["seed"])][r["budget"]] = (
            100 * float(r["delta_auc_roc"]), int(r["n_synthetic_kept"]), 100 * float(r["control_auc_roc"]),
            float(r["wall_seconds"]),
        )  # fmt: skip
    both = sorted(k for k, v in cells.items() if all(b in v for b in BUDGETS))
    print("Swift Hydra (PPO, every kept row added, CatBoost+scores) minus its control, test AUC-ROC points,")
    print(f"la 0.1, on the {len(both)} (dataset, seed) cells that both budgets completed.\n")
    print("| dataset | seed | control AUC | gain at `small` | gain at `paper` | kept rows small / paper | wall s small / paper |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for key in both:
        s, p = cells[key]["small"], cells[key]["paper"]
        print(f"| {key[0]} | {key[1]} | {s[2]:.2f} | {s[0]:+.2f} | {p[0]:+.2f} | {s[1]} / {p[1]} | {s[3]:.0f} / {p[3]:.0f} |")
    small = np.array([cells[k]["small"][0] for k in both])
    paper = np.array([cells[k]["paper"][0] for k in both])
    print("\n| budget | mean gain (points) | wins | losses | Wilcoxon p (gain vs 0) |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, gain in (("small", small), ("paper", paper)):
        p = wilcoxon(gain).pvalue if np.any(gain != 0) else float("nan")
        print(f"| {name} | {gain.mean():+.2f} | {int((gain > 0.1).sum())} | {int((gain < -0.1).sum())} | {p:.3g} |")
    diff = paper - small
    p = wilcoxon(diff).pvalue if np.any(diff != 0) else float("nan")
    print(f"\npaper − small, paired: {diff.mean():+.2f} points (Wilcoxon p = {p:.3g}, {len(diff)} cells); "
          f"wall seconds per cell: small {np.mean([cells[k]['small'][3] for k in both]):.0f}, "
          f"paper {np.mean([cells[k]['paper'][3] for k in both]):.0f}.")  # fmt: skip


if __name__ == "__main__":
    main()
