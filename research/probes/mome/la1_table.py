"""Paired differences of the la = 1.0 variants to ``t`` (the tables' MoME) on the cells each finished.

    python -m research.probes.mome.la1_table > research/probes/mome/la1_table.md
"""

from __future__ import annotations

import json

import numpy as np

from research.probes.mome.quick import OUT

RESULTS = OUT.parent / "results_la1"


def main() -> None:
    runs = {
        p.stem: {(r["dataset"], r["seed"]): r for r in map(json.loads, p.read_text().splitlines())}
        for p in sorted(RESULTS.glob("*.jsonl"))
    }
    base = runs["t"]
    print("la = 1.0, test AUC-ROC x100; d: mean paired difference to `t` (the tables' MoME) over the cells the")
    print("variant finished (se); cost: its fit seconds / `t`'s on those cells (runs shared the 2 cores).\n")
    print("| variant | cells | d vs t (se) | per set (d) | cost x t |")
    print("|---|---|---|---|---|")
    for name, run in runs.items():
        cells = [c for c in run if c in base]
        d = np.array([run[c]["auc_roc"] - base[c]["auc_roc"] for c in cells]) * 100
        sets = sorted({c[0] for c in cells})
        per = ", ".join(
            f"{s.split('_', 1)[1]} {np.mean([d[i] for i, c in enumerate(cells) if c[0] == s]):+.1f}" for s in sets
        )
        cost = sum(run[c]["fit_seconds"] for c in cells) / sum(base[c]["fit_seconds"] for c in cells)
        se = d.std(ddof=1) / np.sqrt(len(d)) if len(d) > 1 else float("nan")
        print(f"| {name} | {len(cells)} | {d.mean():+.2f} ({se:.2f}) | {per} | {cost:.2f} |")


if __name__ == "__main__":
    main()
