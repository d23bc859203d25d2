"""Tables and the trade-off plot of the exposure-strength probe (results.jsonl, results_gate.jsonl, results_column.jsonl).

    python -m research.probes.exposure_strength.analyze > research/probes/exposure_strength/table.md

Writes ``tradeoff.png`` beside this script.
"""

import json
import os

import numpy as np
from scipy.stats import wilcoxon

HERE = os.path.dirname(os.path.abspath(__file__))
TYPES = ["local", "global", "dependency", "clustered"]


def load(name):
    with open(os.path.join(HERE, name)) as f:
        return {tuple(r["cell"]): r for r in map(json.loads, f)}


def effects():
    """Per cell, each variant's AUC-ROC minus ctrl (points): always added, and behind the gate."""
    step1, step2, step3 = load("results.jsonl"), load("results_gate.jsonl"), load("results_column.jsonl")
    out = {}
    for cell, rec in step1.items():
        auc = {**rec["auc"], **step2[cell]["auc"], **step3[cell]["auc"]}
        eff = {v: 100 * (a - auc["ctrl"]) for v, a in auc.items() if v != "ctrl"}
        for w, gate in step2[cell]["gate"].items():
            eff[f"n96_{w} gated"] = eff[f"n96_{w}"] if gate and gate["accepts"] else 0.0
        out[cell] = (100 * auc["ctrl"], eff)
    return out


def summary(diffs):
    d = np.asarray(diffs)
    p = wilcoxon(d).pvalue if np.any(d != 0) else 1.0
    return f"{d.mean():+.2f} ({(d > 0.1).sum()}/{(d < -0.1).sum()}, p={p:.2g}, worst {d.min():+.1f})"


def main():
    cells = effects()
    variants = list(next(iter(cells.values()))[1])
    column = [v for v in variants if v.startswith("refcol")]
    always = [v for v in variants if "gated" not in v and v not in column]
    gated = [v for v in variants if "gated" in v]
    tables = (
        ("Step 1 (and n96_w4 of step 2): always added as labeled anomalies", always),
        ("Step 2: behind the exposure gate (96 rows)", gated),
        ("Step 3: as a reference-classifier score column, no synthetic label", column),
    )
    for title, cols in tables:
        print(f"### {title}\n")
        print("| protocol | held-out type | cells | ctrl AUC | " + " | ".join(cols) + " |")
        print("| --- | --- | ---: | ---: | " + " | ".join("---:" for _ in cols) + " |")
        for protocol, groups in (("unseen", TYPES + ["**all**"]), ("adbench", ["**all**"])):
            for group in groups:
                sel = [c for c in cells if c[0] == protocol and (group == "**all**" or c[2] == group)]
                ctrl = np.mean([cells[c][0] for c in sel])
                row = [summary([cells[c][1][v] for c in sel]) if group == "**all**"
                       else f"{np.mean([cells[c][1][v] for c in sel]):+.2f}" for v in cols]  # fmt: skip
                print(f"| {protocol} | {group} | {len(sel)} | {ctrl:.2f} | " + " | ".join(row) + " |")
        print()
    step2 = load("results_gate.jsonl")
    for w in ("w1", "w2", "w4"):
        for protocol in ("unseen", "adbench"):
            sel = [c for c in step2 if c[0] == protocol]
            yes = sum(bool(step2[c]["gate"][w] and step2[c]["gate"][w]["accepts"]) for c in sel)
            print(f"- gate at {w}, {protocol}: accepts {yes} of {len(sel)} cells")
    plot(cells, always, gated, column[:1])


def plot(cells, always, gated, column):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    kinds = ((always, "o", "labeled, always added"), (gated, "s", "labeled, behind the gate"),
             (column, "^", "score column (refcol)"))  # fmt: skip
    for cols, marker, label in kinds:
        xs = [np.mean([e[v] for c, (_, e) in cells.items() if c[0] == "adbench"]) for v in cols]
        ys = [np.mean([e[v] for c, (_, e) in cells.items() if c[0] == "unseen"]) for v in cols]
        ax.scatter(xs, ys, marker=marker, label=label)
        for x, y, v in zip(xs, ys, cols, strict=True):
            ax.annotate(
                v.replace(" gated", ""), (x, y), textcoords="offset points", xytext=(4, 4), fontsize=8
            )
    ax.axhline(2.0, ls="--", c="grey", lw=0.8)
    ax.axvline(0.0, ls=":", c="grey", lw=0.8)
    ax.set_xlabel("ADBench real anomalies: gain over ctrl (AUC points, 16 cells)")
    ax.set_ylabel("held-out types: gain over ctrl (AUC points, 32 cells)")
    ax.set_title("Rows perturbed off the data: held-out types gain, ADBench pays")
    ax.legend(loc="lower left")
    fig.tight_layout()
    fig.savefig(os.path.join(HERE, "tradeoff.png"), dpi=120)


if __name__ == "__main__":
    main()
