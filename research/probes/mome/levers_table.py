"""Paired differences of this session's training-loop levers to the tables' MoME on the three probe subsets.

    python -m research.probes.mome.levers_table > research/probes/mome/levers_table.md

Subsets: ``quick`` (8 sets x seeds 1-3, la = 0.1; reference ``e10_nv_ens4_s25``), ``extra`` (4 more
sets at la = 0.1; reference ``t``) and ``la1`` (the four sets where the tables' MoME trails CatBoost most
at la = 1.0; reference ``t``). Each cell is a variant's test AUC-ROC minus the reference's on the same
(set, seed); the mean over the cells a variant finished, its standard error, and the per-set means.
"""

from __future__ import annotations

import json

import numpy as np

from research.probes.mome.quick import OUT

SUBSETS = {
    "quick (la 0.1)": (OUT, "e10_nv_ens4_s25"),
    "extra (la 0.1)": (OUT.parent / "results_extra", "t"),
    "la1 worst (la 1.0)": (OUT.parent / "results_la1", "t"),
}
LEVERS = (
    "t_pw05", "t_pw0", "t_cos", "t_wd1e1", "t_lr1e2", "t_swa", "t_swa3", "t_swa7", "t_swa_pw07",
    "t_swa_m2", "t_swa_lr1e2", "t_swa_lr2e2",
)  # fmt: skip


def _cells(path) -> dict[tuple[str, int], float]:
    if not path.exists():
        return {}
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return {(r["dataset"], r["seed"]): r["auc_roc"] for r in rows}


def main() -> None:
    print(__doc__.split("\n\n")[2].replace("\n", " "))
    print()
    print("| variant | " + " | ".join(SUBSETS) + " |")
    print("|---|" + "---|" * len(SUBSETS))
    details = []
    for name in LEVERS:
        cols = []
        for subset, (folder, ref_name) in SUBSETS.items():
            ref, var = _cells(folder / f"{ref_name}.jsonl"), _cells(folder / f"{name}.jsonl")
            cells = [c for c in var if c in ref]
            if not cells:
                cols.append("")
                continue
            d = np.array([var[c] - ref[c] for c in cells]) * 100
            se = d.std(ddof=1) / np.sqrt(len(d)) if len(d) > 1 else float("nan")
            cols.append(f"{d.mean():+.2f} ({se:.2f}), {len(d)} cells")
            per_set = {}
            for c in cells:
                per_set.setdefault(c[0], []).append((var[c] - ref[c]) * 100)
            details.append(
                f"- {name}, {subset}: " + ", ".join(f"{k} {np.mean(v):+.1f}" for k, v in per_set.items())
            )
        print(f"| {name} | " + " | ".join(cols) + " |")
    print()
    print("\n".join(details))


if __name__ == "__main__":
    main()
