"""Recomputes the probe's numbers from the JSON files: `python analyze.py` (writes table.md)."""

import json

import numpy as np
from sklearn.metrics import roc_auc_score

cells = json.load(open("exp1.json"))
cb = [roc_auc_score(c["yte"], c["cb"]) for c in cells.values()]
cbu = [roc_auc_score(c["yte"], c["cbu"]) for c in cells.values()]
print(
    f"exp1, {len(cells)} cells: CatBoost {np.mean(cb) * 100:.2f}, CatBoost + scores {np.mean(cbu) * 100:.2f}"
)

a, b, c = (json.load(open(f"exp{i}.json")) for i in (3, 4, 5))
keys = sorted(set(a) & set(b) & set(c))
values: dict[str, list[float]] = {}
for k in keys:
    for m, v in {**a[k], **b[k], **c[k]}.items():
        values.setdefault(m, []).append(v)
ctrl = np.array(values["ctrl"])
lines = [
    "| variant | mean AUC-ROC | mean diff vs control (points) | wins | losses | worst cell |",
    "| --- | ---: | ---: | ---: | ---: | ---: |",
]
for m, v in values.items():
    d = (np.array(v) - ctrl) * 100
    lines.append(
        f"| {m} | {np.mean(v) * 100:.2f} | {d.mean():+.2f} | {int(np.sum(d > 0.1))} | "
        f"{int(np.sum(d < -0.1))} | {d.min():+.1f} |"
    )
open("table.md", "w").write("\n".join(lines) + "\n")
print(f"{len(keys)} cells\n" + "\n".join(lines))
