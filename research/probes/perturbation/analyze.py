"""Prints table.md of the perturbation probe from results.jsonl and results_gate.jsonl."""

import json
from pathlib import Path

import numpy as np
from scipy.stats import wilcoxon

HERE = Path(__file__).parent
TYPES = ["local", "global", "dependency", "clustered"]


def table(recs, variants, title):
    print(f"### {title}")
    print()
    print("| protocol | held-out type | cells | ctrl AUC | " + " | ".join(variants) + " |")
    print("| --- | --- | ---: | ---: |" + " ---: |" * len(variants))
    groups = [("unseen", k) for k in TYPES] + [("unseen", "all"), ("adbench", "all")]
    for protocol, kind in groups:
        sel = [r for r in recs if r["cell"][0] == protocol and kind in ("all", r["cell"][2])]
        if not sel:
            continue
        ctrl = np.array([r["auc"]["ctrl"] for r in sel]) * 100
        cols = []
        for v in variants:
            diff = np.array([r["auc"][v] for r in sel]) * 100 - ctrl
            cell = f"{diff.mean():+.2f}"
            if kind == "all":
                wins, losses = int((diff > 0.1).sum()), int((diff < -0.1).sum())
                p = wilcoxon(diff).pvalue if np.any(diff != 0) else float("nan")
                cell += f" ({wins}/{losses}, p={p:.2g}, worst {diff.min():+.1f})"
            cols.append(cell)
        name = "**all**" if kind == "all" else kind
        print(f"| {protocol} | {name} | {len(sel)} | {ctrl.mean():.2f} | " + " | ".join(cols) + " |")
    print()


def main():
    recs = [json.loads(line) for line in open(HERE / "results.jsonl")]
    table(recs, ["noise0.5", "noise1", "noise2"], "Step 1: one scale, always added")
    path = HERE / "results_gate.jsonl"
    if path.exists():
        gate = [json.loads(line) for line in open(path)]
        table(gate, ["mix", "mix_gated", "half_gated"], "Step 2: mixed scales, and the deployment gate")
        for name in ["mix_gated", "half_gated"]:
            for protocol in ["unseen", "adbench"]:
                sel = [r for r in gate if r["cell"][0] == protocol]
                accepted = sum(r["gate"][name]["accepted"] for r in sel)
                print(f"- {name}, {protocol}: the gate let the rows in on {accepted} of {len(sel)} cells")
    path = HERE / "results_weight.jsonl"
    if path.exists():
        weight = [json.loads(line) for line in open(path)]
        mix = {tuple(r["cell"]): r["auc"]["mix"] for r in gate}
        for r in weight:  # the same rows at weight 1, from step 2
            r["auc"]["mix_w1"] = mix[tuple(r["cell"])]
        table(weight, ["mix_w0.25", "mix_w0.5", "mix_w1"], "Step 3: mixed scales, always added, lower total weight")
    print()
    print("Cells are mean differences to ctrl in AUC points; the all rows add (wins/losses beyond 0.1")
    print("point, two-sided Wilcoxon p over cells, worst cell).")


if __name__ == "__main__":
    main()
