"""Prints the seed noise of a MoME fit at `tiny` from noise.json (python -m research.probes.deploy_noise.analyze)."""

import collections
import json
from pathlib import Path

import numpy as np

cells = json.load(open(Path(__file__).parent / "noise.json"))
aucs = 100 * np.array([c["aucs"] for c in cells])  # (cells, 3 detector seeds)
print(f"cells: {len(cells)}; detector seeds per cell: {aucs.shape[1]}")
print(
    f"mean within-cell std of the AUC-ROC over detector seeds: {aucs.std(axis=1, ddof=1).mean():.2f} points"
)
print(f"std of (seed s) - (seed s + 1000) over cells: {(aucs[:, 0] - aucs[:, 1]).std(ddof=1):.2f} points")
per_set = collections.defaultdict(list)
for c, row in zip(cells, aucs, strict=True):
    per_set[c["ds"]].append(row.std(ddof=1))
for name, stds in sorted(per_set.items()):
    print(f"  {name}: within-cell std {np.mean(stds):.2f}")
widest = max(range(len(cells)), key=lambda i: np.ptp(aucs[i]))
print(
    f"widest split: {cells[widest]['ds']} seed {cells[widest]['seed']}, AUC-ROC from "
    f"{aucs[widest].min():.2f} to {aucs[widest].max():.2f} over the detector seeds"
)
