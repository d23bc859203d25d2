"""Paired differences of the la = 1.0 variants to ``t`` (the tables' MoME) on the cells each finished.

python -m research.probes.mome.la1_table > research/probes/mome/la1_table.md
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

from research.probes.mome.quick import OUT

RESULTS = OUT.parent / "results_la1"
OTHERS = OUT.parent / "results_la1_others"
ROOT = Path(__file__).resolve().parents[3]
# The ADBench rows whose `mome` is `t` (the tables' MoME): read from git at a commit that holds them,
# so the check keeps its meaning if the rows are ever replaced.
ADBENCH_AT = "f915281:benchmarks/results/adbench/adbench_results.csv"


def _adbench_rows() -> list[dict]:
    import io
    import subprocess

    text = subprocess.run(
        ["git", "show", ADBENCH_AT], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout
    return list(csv.DictReader(io.StringIO(text)))


def others_check() -> None:
    """``t_e20_s12`` on the 28 other sets against the committed ADBench `mome` (= `t`) and CatBoost rows."""
    path = OTHERS / "t_e20_s12.jsonl"
    if not path.exists():
        return
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    table = {}
    for r in _adbench_rows():
        if r["la"] in ("1", "1.0") and not r["n_labeled"] and r["method"] in ("mome", "catboost"):
            table[(r["dataset"], int(r["seed"]), r["method"])] = float(r["auc_roc"])
    d_t = np.array([r["auc_roc"] - table[(r["dataset"], r["seed"], "mome")] for r in rows]) * 100
    d_cat = np.array([r["auc_roc"] - table[(r["dataset"], r["seed"], "catboost")] for r in rows]) * 100
    t_cat = d_cat - d_t
    sets = sorted({r["dataset"] for r in rows})
    print(
        f"\nCheck on the other sets (`--others`): {len(rows)} cells of {len(sets)} sets at la = 1.0, against the"
    )
    print("committed ADBench rows of the same cells (`mome` is `t`). Paired means over cells (se):\n")
    print(f"- t_e20_s12 - t: {d_t.mean():+.2f} ({d_t.std(ddof=1) / np.sqrt(len(d_t)):.2f})")
    print(f"- t - catboost: {t_cat.mean():+.2f}; t_e20_s12 - catboost: {d_cat.mean():+.2f}")
    worse = sorted(
        (float(np.mean([d for d, r in zip(d_t, rows, strict=True) if r["dataset"] == s])), s) for s in sets
    )[:3]
    print("- sets where it loses most: " + ", ".join(f"{s} {v:+.1f}" for v, s in worse))


def main() -> None:
    runs = {
        p.stem: {(r["dataset"], r["seed"]): r for r in map(json.loads, p.read_text().splitlines())}
        for p in sorted(RESULTS.glob("*.jsonl"))
    }
    base = runs["t"]
    print(
        "la = 1.0, test AUC-ROC x100; d: mean paired difference to `t` (the tables' MoME) over the cells the"
    )
    print("variant finished (se); cost: its fit seconds / `t`'s on those cells (runs shared the 2 cores).\n")
    print("| variant | cells | d vs t (se) | per set (d) | cost x t |")
    print("|---|---|---|---|---|")
    for name, run in runs.items():
        cells = [c for c in run if c in base]
        d = np.array([run[c]["auc_roc"] - base[c]["auc_roc"] for c in cells]) * 100
        sets = sorted({c[0] for c in cells})
        per = ", ".join(
            f"{s.split('_', 1)[1]} {np.mean([d[i] for i, c in enumerate(cells) if c[0] == s]):+.1f}"
            for s in sets
        )
        cost = sum(run[c]["fit_seconds"] for c in cells) / sum(base[c]["fit_seconds"] for c in cells)
        se = d.std(ddof=1) / np.sqrt(len(d)) if len(d) > 1 else float("nan")
        print(f"| {name} | {len(cells)} | {d.mean():+.2f} ({se:.2f}) | {per} | {cost:.2f} |")
    others_check()


if __name__ == "__main__":
    main()
