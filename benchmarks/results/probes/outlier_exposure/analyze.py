"""Rebuilds table.md from results.jsonl: mean AUC-ROC difference to ctrl (points) per protocol and type.

python analyze.py > table.md
"""

import collections
import json
from pathlib import Path

import numpy as np
from scipy.stats import wilcoxon

HERE = Path(__file__).parent
records = [json.loads(line) for line in open(HERE / "results.jsonl")]
variants = [k for k in records[0]["auc"] if k != "ctrl"]
groups = collections.defaultdict(list)
for r in records:
    protocol, _, kind, _ = r["cell"]
    if kind != "-":  # ADBench cells have no held-out type
        groups[(protocol, kind)].append(r)
    groups[(protocol, "all")].append(r)

print("| protocol | held-out type | cells | ctrl AUC | " + " | ".join(variants) + " |")
print("| --- | --- | ---: | ---: | " + " | ".join("---:" for _ in variants) + " |")
for (protocol, kind), rs in sorted(
    groups.items(), key=lambda kv: (kv[0][0] != "unseen", kv[0][1] == "all", kv[0][1])
):
    ctrl = np.array([r["auc"]["ctrl"] for r in rs])
    cols = []
    for v in variants:
        diff = 100 * (np.array([r["auc"][v] for r in rs]) - ctrl)
        cell = f"{diff.mean():+.2f}"
        if kind == "all":
            p = wilcoxon(diff).pvalue if np.any(diff != 0) else 1.0
            cell += f" ({int((diff > 0.1).sum())}/{int((diff < -0.1).sum())}, p={p:.2g})"
        cols.append(cell)
    label = "**all**" if kind == "all" else kind
    print(f"| {protocol} | {label} | {len(rs)} | {100 * ctrl.mean():.2f} | " + " | ".join(cols) + " |")
