"""Table of the quick probe: mean test AUC-ROC per variant (seeds averaged per data set first), paired
differences to ``base`` over the 24 cells, and the fit cost against CatBoost on the same cells.

    python -m research.probes.mome.analyze > research/probes/mome/table.md
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from research.probes.mome.quick import DATASETS, OUT, SEEDS


def load() -> dict[str, dict[tuple[str, int], dict]]:
    runs = {}
    for path in sorted(OUT.glob("*.jsonl")):
        rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        runs[path.stem] = {(r["dataset"], r["seed"]): r for r in rows}
    return runs


# Runs timed beside a fresh CatBoost run (the runner's method, same process or same load): their
# cost ratio is read against it, not against `catboost`, which ran under another load.
TIMED_BESIDE = {"e10_nv_ens4_s25": "method_catboost", "e10_nv_ens2_s25": "method_catboost"}
# Stopped runs, compared with a reference variant on the cells they finished.
STOPPED_AGAINST = {"e16_nv_ens4_s25": "e10_nv_ens4_s25", "e10_nv_ens4_s25_d32": "e10_nv_ens4_s25"}


def side_notes(runs: dict, cells: list) -> None:
    """Cost ratios against CatBoost timed beside, and stopped runs against their reference."""
    print()
    for name, ref in TIMED_BESIDE.items():
        if name in runs and ref in runs and all(c in runs[name] and c in runs[ref] for c in cells):
            ratio = sum(runs[name][c]["fit_seconds"] for c in cells) / sum(
                runs[ref][c]["fit_seconds"] for c in cells
            )
            print(f"- {name}: fit seconds / `{ref}` timed beside it on the 24 cells: {ratio:.2f}")
    for name, ref in STOPPED_AGAINST.items():
        if name not in runs or ref not in runs:
            continue
        done = [c for c in cells if c in runs[name] and c in runs[ref]]
        if not done:
            continue
        d = np.array([runs[name][c]["auc_roc"] - runs[ref][c]["auc_roc"] for c in done]) * 100
        cost = sum(runs[name][c]["fit_seconds"] for c in done) / sum(
            runs[ref][c]["fit_seconds"] for c in done
        )
        print(
            f"- {name} (stopped): {d.mean():+.2f} AUC points (se {d.std(ddof=1) / np.sqrt(len(d)):.2f}) "
            f"against {ref} on the {len(done)} cells it finished, at {cost:.2f}x its fit seconds"
        )


def main() -> None:
    runs = load()
    cells = [(d, s) for d in DATASETS for s in SEEDS]
    complete = {name: run for name, run in runs.items() if all(c in run for c in cells)}
    base, cat = complete.get("base"), complete.get("catboost")
    short = {d: d.split("_", 1)[1][:8] for d in DATASETS}
    print(
        "Test AUC-ROC x100 on 8 ADBench sets x seeds 1-3, la = 0.1 (seeds averaged per set, then the mean)."
    )
    print("d base: mean paired difference to `base` over the 24 cells, with its standard error;")
    print("fit x cat: total fit seconds / CatBoost's total on the same cells (same load, one thread).\n")
    head = (
        "| variant | mean | d base (se) | "
        + " | ".join(short[d] for d in DATASETS)
        + " | fit s | fit x cat |"
    )
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    order = sorted(complete, key=lambda n: (n != "catboost", n != "base", n))
    for name in order:
        run = complete[name]
        per_ds = [np.mean([run[(d, s)]["auc_roc"] for s in SEEDS]) * 100 for d in DATASETS]
        fit = sum(run[c]["fit_seconds"] for c in cells)
        diff = ""
        if base is not None:
            dd = np.array([run[c]["auc_roc"] - base[c]["auc_roc"] for c in cells]) * 100
            diff = f"{dd.mean():+.2f} ({dd.std(ddof=1) / np.sqrt(len(dd)):.2f})"
        ratio = f"{fit / sum(cat[c]['fit_seconds'] for c in cells):.2f}" if cat is not None else ""
        print(
            f"| {name} | {np.mean(per_ds):.2f} | {diff} | "
            + " | ".join(f"{a:.1f}" for a in per_ds)
            + f" | {fit:.0f} | {ratio} |"
        )
    side_notes(runs, cells)
    partial = sorted(set(runs) - set(complete))
    if partial:
        print(f"\nincomplete (not in the table): {', '.join(f'{n} ({len(runs[n])}/24)' for n in partial)}")


if __name__ == "__main__":
    main()
