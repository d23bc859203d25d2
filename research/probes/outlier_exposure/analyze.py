"""Rebuilds table.md from results.jsonl: mean AUC-ROC difference to ctrl (points) per protocol and type.

python -m research.probes.outlier_exposure.analyze > research/probes/outlier_exposure/table.md
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

# The score-column question: the same kept rows, score columns fitted on real rows only vs on real + kept.
print()
print(
    "| protocol | loop_real − loop_mix (points) | kept rows per cell (min-max) | worst cell, any variant (points) |"
)
print("| --- | ---: | ---: | ---: |")
for protocol in ("unseen", "adbench"):
    rs = groups[(protocol, "all")]
    effect = np.mean([100 * (r["auc"]["loop_real"] - r["auc"]["loop_mix"]) for r in rs])
    kept = [r["n_loop"] for r in rs]
    worst = min(100 * (r["auc"][v] - r["auc"]["ctrl"]) for r in rs for v in variants)
    print(f"| {protocol} | {effect:+.2f} | {min(kept)}-{max(kept)} | {worst:+.2f} |")
