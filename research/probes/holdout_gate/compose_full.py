"""What the hold-out gate would give on the full tables, read from their committed rows.

    python -m research.probes.holdout_gate.compose_full   (after ``probe.py ... results_full.jsonl full``)

The rule was fixed on the probe cells before the full cells were read: the exposure rows join when the
pooled out-of-fold AUC gain is at least ``GATE_MARGIN`` (0.02, the package's gate margin). The gate
reads only training rows and consumes no shared random state, so a cell's gated AUC is exactly the
committed ``swift_hydra_exposure`` AUC where it accepts and the ``swift_hydra`` AUC where it does not;
both are paired with ``swift_hydra_control``. Printed per protocol (and per held-out type for unseen).
"""

import json
import os

import numpy as np
import pandas as pd
from scipy.stats import wilcoxon

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "..", "..", "..", "benchmarks", "results")  # the committed runner tables
MARGIN = 0.02
accept = {}
for rec in map(json.loads, open(os.path.join(HERE, "results_full.jsonl"))):
    protocol, name, kind, seed = rec["cell"]
    accept[(protocol, name, kind, seed)] = rec["gate"] is not None and rec["gate"]["oof_gain"] >= MARGIN


def table(df, protocol, keys):
    methods = ["swift_hydra", "swift_hydra_exposure", "swift_hydra_control"]
    wide = df[df.method.isin(methods)].pivot_table(index=keys, columns="method", values="auc_roc").dropna()
    cell = lambda idx: (protocol, idx[0], idx[1] if protocol == "unseen" else "-", int(idx[-1]))  # noqa: E731
    wide = wide[[cell(idx) in accept for idx in wide.index]]
    took = np.array([accept[cell(idx)] for idx in wide.index], dtype=bool)
    wide["gated"] = np.where(took, wide["swift_hydra_exposure"], wide["swift_hydra"])
    return wide, took


def report(wide, took, group):
    print(f"  accepted in {took.sum()} of {len(took)} cells")
    by = wide.groupby(level=group).mean()  # seeds averaged first, as the summaries do
    for method in ("swift_hydra", "swift_hydra_exposure", "gated"):
        d = 100 * (by[method] - by["swift_hydra_control"])
        p = wilcoxon(d).pvalue if (d != 0).any() else 1.0
        print(f"  {method:22s} mean {100 * by[method].mean():6.2f}  vs control {d.mean():+.2f} "
              f"(W/L {(d > 0).sum()}/{(d < 0).sum()}, p={p:.2g}, below -1: {(d < -1).sum()}, worst {d.min():+.2f})")


def main():
    adb = pd.read_csv(os.path.join(RESULTS, "adbench/adbench_results.csv"))
    adb = adb[(adb.la == 0.1) & (adb.status == "ok")]
    wide, took = table(adb, "adbench", ["dataset", "seed"])
    print(f"ADBench, la 0.1 (control mean {100 * wide.swift_hydra_control.mean():.2f})")
    report(wide, took, "dataset")

    uns = pd.read_csv(os.path.join(RESULTS, "unseen/unseen_results.csv"))
    uns = uns[uns.status == "ok"]
    wide, took = table(uns, "unseen", ["dataset", "held_out_type", "seed"])
    print(f"unseen, la 0.1 (control mean {100 * wide.swift_hydra_control.mean():.2f}); per (dataset, type)")
    report(wide, took, ["dataset", "held_out_type"])
    types = wide.groupby(level=["held_out_type"]).mean()
    for method in ("swift_hydra", "swift_hydra_exposure", "gated"):
        d = 100 * (types[method] - types["swift_hydra_control"])
        print(f"  {method:22s} per type: " + ", ".join(f"{t} {v:+.2f}" for t, v in d.items()) + f"; mean over types {d.mean():+.2f}")

    # The probe cells (the rule was read on them) against the rest, as probes/perturbation/full_table_split.py does.
    PROBE_UNSEEN = {"cardio", "thyroid", "vertebral", "wbc"}
    PROBE_ADBENCH = {"15_Hepatitis", "39_vertebral", "6_cardio", "7_Cardiotocography", "41_Waveform", "46_WPBC",
                     "12_fault", "34_smtp"}
    for protocol, frame, keys, probe_sets in (
        ("adbench", adb, ["dataset", "seed"], PROBE_ADBENCH),
        ("unseen", uns, ["dataset", "held_out_type", "seed"], PROBE_UNSEEN),
    ):
        wide, _ = table(frame, protocol, keys)
        by = wide.groupby(level=keys[:-1]).mean()
        names = by.index.get_level_values("dataset")
        for label, rows in (("probe datasets", names.isin(probe_sets)), ("other datasets", ~names.isin(probe_sets))):
            d = 100 * (by["gated"] - by["swift_hydra_control"])[rows]
            print(f"{protocol} {label}: gated vs control {d.mean():+.2f} over {rows.sum()} groups "
                  f"(control {100 * by['swift_hydra_control'][rows].mean():.2f})")

    # How well the gate sorts cells: what the exposure rows did (swift_hydra_exposure - swift_hydra, per cell)
    # where it accepted them and where it did not.
    for protocol, frame, keys in (("adbench", adb, ["dataset", "seed"]), ("unseen", uns, ["dataset", "held_out_type", "seed"])):
        wide, took = table(frame, protocol, keys)
        effect = 100 * (wide["swift_hydra_exposure"] - wide["swift_hydra"]).to_numpy()
        for label, rows in (("accepted", took), ("rejected", ~took)):
            e = effect[rows]
            print(f"{protocol} cells the gate {label}: {rows.sum()}, exposure effect mean {e.mean():+.2f}, "
                  f"helped {(e > 0.1).sum()}, hurt {(e < -0.1).sum()}")

    # What the gate saw per protocol: is it the number of labeled anomalies, or the gain itself?
    records = [json.loads(line) for line in open(os.path.join(HERE, "results_full.jsonl"))]
    for protocol in ("adbench", "unseen"):
        gates = [r["gate"] for r in records if r["cell"][0] == protocol]
        seen = [g for g in gates if g is not None]
        print(f"{protocol} gate: {len(gates) - len(seen)} cells without evidence, median out-of-fold gain "
              f"{np.median([g['oof_gain'] for g in seen]):+.4f}, median labeled anomalies "
              f"{np.median([g['n_labeled'] for g in seen]):g}")


if __name__ == "__main__":
    main()
