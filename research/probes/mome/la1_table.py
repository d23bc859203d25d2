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
# Each `--others` variant against the ADBench rows of the tables' MoME it changes, read from git at a
# commit that holds them, so the check keeps its meaning if the rows are ever replaced: `t` for
# `t_e20_s12` (f915281), `t_swa_lr2e2` (the tables' MoME since; its probe rows reproduce them) after.
OTHERS_BASE = {"t_e20_s12": ("t", "f915281"), "t_swa_lr2e2_ple": ("t_swa_lr2e2", "73e2ddd")}


def _adbench_rows(commit: str) -> list[dict]:
    import io
    import subprocess

    text = subprocess.run(
        ["git", "show", f"{commit}:benchmarks/results/adbench/adbench_results.csv"],
        cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    return list(csv.DictReader(io.StringIO(text)))


def others_check(variant: str) -> None:
    """``variant`` on the 28 other sets against the committed ADBench `mome` and CatBoost rows."""
    path = OTHERS / f"{variant}.jsonl"
    if not path.exists():
        return
    base, commit = OTHERS_BASE[variant]
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    table = {}
    for r in _adbench_rows(commit):
        if r["la"] in ("1", "1.0") and not r["n_labeled"] and r["method"] in ("mome", "catboost"):
            table[(r["dataset"], int(r["seed"]), r["method"])] = float(r["auc_roc"])
    d_t = np.array([r["auc_roc"] - table[(r["dataset"], r["seed"], "mome")] for r in rows]) * 100
    d_cat = np.array([r["auc_roc"] - table[(r["dataset"], r["seed"], "catboost")] for r in rows]) * 100
    t_cat = d_cat - d_t
    sets = sorted({r["dataset"] for r in rows})
    print(
        f"\nCheck on the other sets (`--others`): {len(rows)} cells of {len(sets)} sets at la = 1.0, against the"
    )
    print(
        f"committed ADBench rows of the same cells (`mome` is `{base}`, at {commit}). Paired means over cells (se):\n"
    )
    print(f"- {variant} - {base}: {d_t.mean():+.2f} ({d_t.std(ddof=1) / np.sqrt(len(d_t)):.2f})")
    print(f"- {base} - catboost: {t_cat.mean():+.2f}; {variant} - catboost: {d_cat.mean():+.2f}")
    per_set = sorted(
        (float(np.mean([d for d, r in zip(d_t, rows, strict=True) if r["dataset"] == s])), s) for s in sets
    )
    print("- sets where it loses most: " + ", ".join(f"{s} {v:+.1f}" for v, s in per_set[:3]))
    print("- sets where it gains most: " + ", ".join(f"{s} {v:+.1f}" for v, s in per_set[::-1][:3]))


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
    for variant in OTHERS_BASE:
        others_check(variant)


if __name__ == "__main__":
    main()
