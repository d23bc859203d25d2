"""Reads the hold-out gate's decisions on the probe cells against ``probes/perturbation``'s AUCs.

    python -m research.probes.holdout_gate.analyze_probe

For each rule (which gain, which threshold), the AUC of a cell is ``mix`` when the gate accepts the
perturbed rows and ``ctrl`` when it does not; printed as the mean difference to ``ctrl`` (points),
wins/losses beyond 0.1 point and the worst cell, per protocol, beside always (``mix``) and the
package's random-carve gate (``mix_gated``).
"""

import json
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
gates = {tuple(r["cell"]): r["gate"] for r in map(json.loads, open(os.path.join(HERE, "results.jsonl")))}
aucs = {tuple(r["cell"]): r["auc"] for r in map(json.loads, open(os.path.join(HERE, "../perturbation/results_gate.jsonl")))}


def row(name, diffs):
    d = 100 * np.asarray(diffs)
    return f"| {name} | {d.mean():+.2f} | {(d > 0.1).sum()}/{(d < -0.1).sum()} | {d.min():+.1f} |"


print("| rule | mean diff vs ctrl | W/L | worst |\n| --- | ---: | --- | ---: |")
for protocol in ("unseen", "adbench"):
    cells = [c for c in gates if c[0] == protocol and c in aucs]
    print(f"| **{protocol}** ({len(cells)} cells) | | | |")
    print(row("always (mix)", [aucs[c]["mix"] - aucs[c]["ctrl"] for c in cells]))
    print(row("random-carve gate (mix_gated)", [aucs[c]["mix_gated"] - aucs[c]["ctrl"] for c in cells]))
    for key in ("gain", "oof_gain"):
        for threshold in (0.0, 0.01, 0.02):
            def pick(c):
                g = gates[c]
                return g is not None and g[key] > threshold
            diffs = [(aucs[c]["mix"] - aucs[c]["ctrl"]) if pick(c) else 0.0 for c in cells]
            n = sum(pick(c) for c in cells)
            print(row(f"hold-out gate, {key} > {threshold:g} (accepts {n})", diffs))
