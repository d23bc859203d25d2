"""Recomputes the probe's numbers from the JSON files (writes table.md beside them).

    python -m research.probes.augmentation.analyze   (from the repository root)
"""

import json
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

HERE = Path(__file__).resolve().parent
cells = json.load(open(HERE / "exp1.json"))
cb = [roc_auc_score(c["yte"], c["cb"]) for c in cells.values()]
cbu = [roc_auc_score(c["yte"], c["cbu"]) for c in cells.values()]
print(
    f"exp1, {len(cells)} cells: CatBoost {np.mean(cb) * 100:.2f}, CatBoost + scores {np.mean(cbu) * 100:.2f}"
)

a, b, c = (json.load(open(HERE / f"exp{i}.json")) for i in (3, 4, 5))
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
open(HERE / "table.md", "w").write("\n".join(lines) + "\n")
print(f"{len(keys)} cells\n" + "\n".join(lines))
