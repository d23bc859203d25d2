"""On the full unseen table: swift_hydra_exposure - swift_hydra_control, datasets this probe used vs the others.

    python -m research.probes.perturbation.full_table_split   (from the repository root)

The probe chose the rows on vertebral, wbc, cardio and thyroid; breastw, pendigits, satimage-2 and wdbc
never entered it, so their gain is the check that the choice did not fit the probe's datasets. The
control's AUC on each group says how much room there was.
"""

import collections
import csv

import numpy as np

PROBE = {"vertebral", "wbc", "cardio", "thyroid"}


def main():
    rows = list(csv.DictReader(open("benchmarks/results/unseen/unseen_results.csv")))
    auc = {(r["method"], r["dataset"], r["held_out_type"], r["seed"]): float(r["auc_roc"])
           for r in rows if r["status"] == "ok"}  # fmt: skip
    for label, inside in [("probe datasets", True), ("other datasets", False)]:
        gain = collections.defaultdict(lambda: collections.defaultdict(list))
        control = collections.defaultdict(lambda: collections.defaultdict(list))
        for (method, dataset, kind, seed), value in auc.items():
            if method == "swift_hydra_exposure" and (dataset in PROBE) == inside:
                base = auc[("swift_hydra_control", dataset, kind, seed)]
                gain[kind][dataset].append(100 * (value - base))
                control[kind][dataset].append(100 * base)

        def mean_over_types(table):
            per_type = {k: np.mean([np.mean(v) for v in by_d.values()]) for k, by_d in table.items()}
            return per_type, np.mean(list(per_type.values()))

        per_type, mean = mean_over_types(gain)
        _, control_mean = mean_over_types(control)
        names = sorted({d for by_d in gain.values() for d in by_d})
        print(
            f"{label} ({', '.join(names)}): gain over the control, mean over types {mean:+.2f} points "
            f"(" + ", ".join(f"{k} {v:+.2f}" for k, v in sorted(per_type.items())) + f"); "
            f"control AUC-ROC {control_mean:.2f}"
        )


if __name__ == "__main__":
    main()
