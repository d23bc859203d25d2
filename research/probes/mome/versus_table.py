"""Probe variants paired against the tables' MoME as it ships (`t_swa_lr2e2`: `TABLE_SETTINGS`).

    python -m research.probes.mome.versus_table VARIANT [VARIANT ...] > research/probes/mome/versus_table.md

For each results folder (the la = 0.1 quick subset, `results`; the four worst la = 1.0 sets,
`results_la1`) and each variant that has rows there: the mean paired difference of test AUC-ROC
(x100) over the cells both finished, its standard error, the per-set means, and the fit seconds
relative to `t_swa_lr2e2` on the same cells (the runs shared the 2 cores, so costs are rough).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
REFERENCE = "t_swa_lr2e2"
FOLDERS = {"la = 0.1, quick subset": HERE / "results", "la = 1.0, four worst sets": HERE / "results_la1"}


def _rows(folder: Path, variant: str) -> dict[tuple[str, int], dict]:
    path = folder / f"{variant}.jsonl"
    if not path.exists():
        return {}
    return {(r["dataset"], r["seed"]): r for r in map(json.loads, path.read_text().splitlines())}


def _line(folder: Path, variant: str) -> str | None:
    ref, rows = _rows(folder, REFERENCE), _rows(folder, variant)
    cells = sorted(set(ref) & set(rows))
    if not cells:
        return None
    diff = np.array([(rows[c]["auc_roc"] - ref[c]["auc_roc"]) * 100 for c in cells])
    se = diff.std(ddof=1) / np.sqrt(len(diff)) if len(diff) > 1 else float("nan")
    per_set: dict[str, list[float]] = {}
    for cell, d in zip(cells, diff, strict=True):
        per_set.setdefault(cell[0].split("_", 1)[1], []).append(d)
    sets = ", ".join(f"{name} {np.mean(v):+.1f}" for name, v in per_set.items())
    cost = np.mean([rows[c]["fit_seconds"] for c in cells]) / np.mean([ref[c]["fit_seconds"] for c in cells])
    return f"| `{variant}` | {len(cells)} | {diff.mean():+.2f} ({se:.2f}) | {sets} | {cost:.2f} |"


def main(variants: list[str]) -> None:
    print(f"Paired against `{REFERENCE}` (the tables' MoME); test AUC-ROC x100, se in brackets.\n")
    for title, folder in FOLDERS.items():
        lines = [line for v in variants if (line := _line(folder, v))]
        if lines:
            print(
                f"## {title}\n\n| variant | cells | d (se) | per set | fit s x table |\n|---|---|---|---|---|"
            )
            print("\n".join(lines) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
