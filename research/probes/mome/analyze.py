"""Table of the quick probe: mean test AUC-ROC per variant (seeds averaged per data set first), paired
differences to ``base`` over the 24 cells, and the fit cost against CatBoost on the same cells.

    python -m research.probes.mome.analyze > research/probes/mome/table.md
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from research.probes.mome.quick import DATASETS, OUT, SEEDS


def load() -> dict[str, dict[tuple[str, int], dict]]:
    runs = {}
    for path in sorted(OUT.glob("*.jsonl")):
        rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        runs[path.stem] = {(r["dataset"], r["seed"]): r for r in rows}
    return runs


def main() -> None:
    runs = load()
    cells = [(d, s) for d in DATASETS for s in SEEDS]
    complete = {name: run for name, run in runs.items() if all(c in run for c in cells)}
    base, cat = complete.get("base"), complete.get("catboost")
    short = {d: d.split("_", 1)[1][:8] for d in DATASETS}
    print("Test AUC-ROC x100 on 8 ADBench sets x seeds 1-3, la = 0.1 (seeds averaged per set, then the mean).")
    print("d base: mean paired difference to `base` over the 24 cells, with its standard error;")
    print("fit x cat: total fit seconds / CatBoost's total on the same cells (same load, one thread).\n")
    head = "| variant | mean | d base (se) | " + " | ".join(short[d] for d in DATASETS) + " | fit s | fit x cat |"
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    order = sorted(complete, key=lambda n: (n != "catboost", n != "base", n))
    for name in order:
        run = complete[name]
        per_ds = [np.mean([run[(d, s)]["auc_roc"] for s in SEEDS]) * 100 for d in DATASETS]
        fit = sum(run[c]["fit_seconds"] for c in cells)
        diff = ""
        if base is not None:
            dd = np.array([run[c]["auc_roc"] - base[c]["auc_roc"] for c in cells]) * 100
            diff = f"{dd.mean():+.2f} ({dd.std(ddof=1) / np.sqrt(len(dd)):.2f})"
        ratio = f"{fit / sum(cat[c]['fit_seconds'] for c in cells):.2f}" if cat is not None else ""
        print(f"| {name} | {np.mean(per_ds):.2f} | {diff} | " + " | ".join(f"{a:.1f}" for a in per_ds)
              + f" | {fit:.0f} | {ratio} |")
    partial = sorted(set(runs) - set(complete))
    if partial:
        print(f"\nincomplete (not in the table): {', '.join(f'{n} ({len(runs[n])}/24)' for n in partial)}")


if __name__ == "__main__":
    main()
