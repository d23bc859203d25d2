"""Prints table.md of the recipe probe from results.jsonl (run from anywhere)."""

import json
from pathlib import Path

import numpy as np
from scipy.stats import wilcoxon

HERE = Path(__file__).parent
VARIANTS = ["seen_recipes", "all_recipes", "held_out_recipe"]
TYPES = ["local", "global", "dependency", "clustered"]


def main():
    recs = [json.loads(line) for line in open(HERE / "results.jsonl")]
    print("| held-out type | cells | ctrl AUC | " + " | ".join(VARIANTS) + " |")
    print("| --- | ---: | ---: |" + " ---: |" * len(VARIANTS))
    for kind in TYPES + ["all"]:
        sel = [r for r in recs if kind == "all" or r["cell"][1] == kind]
        ctrl = np.array([r["auc"]["ctrl"] for r in sel]) * 100
        cols = []
        for v in VARIANTS:
            diff = np.array([r["auc"][v] for r in sel]) * 100 - ctrl
            cell = f"{diff.mean():+.2f}"
            if kind == "all":
                wins, losses = int((diff > 0.1).sum()), int((diff < -0.1).sum())
                p = wilcoxon(diff).pvalue if np.any(diff != 0) else float("nan")
                cell += f" ({wins}/{losses}, p={p:.2g})"
            cols.append(cell)
        name = "**all**" if kind == "all" else kind
        print(f"| {name} | {len(sel)} | {ctrl.mean():.2f} | " + " | ".join(cols) + " |")
    print()
    print("Cells are mean differences to ctrl in AUC points; the all row adds (wins/losses beyond 0.1 point,")
    print("two-sided Wilcoxon p over cells).")


if __name__ == "__main__":
    main()
