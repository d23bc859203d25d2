"""The full tables' swift_hydra_reference against swift_hydra_control, on this probe's datasets and the others.

    python -m research.probes.exposure_strength.full_tables > research/probes/exposure_strength/full_tables.txt

The probe chose the reference column on vertebral, wbc, cardio and thyroid (unseen protocol) and on its
8 quick ADBench sets; the other datasets never entered it, so their gain is the fair check. Reads the
committed runner CSVs; seeds are averaged per dataset (and held-out type), then datasets, then types.
"""

import collections
import csv

import numpy as np
from scipy.stats import wilcoxon

UNSEEN_PROBE = {"vertebral", "wbc", "cardio", "thyroid"}
ADBENCH_PROBE = {
    "15_Hepatitis", "39_vertebral", "6_cardio", "7_Cardiotocography", "41_Waveform", "46_WPBC", "12_fault", "34_smtp",
}  # fmt: skip
METHOD, CONTROL = "swift_hydra_reference", "swift_hydra_control"


def read(path, key):
    with open(path, newline="") as f:
        return {
            (r["method"], *key(r)): 100 * float(r["auc_roc"])
            for r in csv.DictReader(f)
            if r["status"] == "ok"
        }


def unseen():
    auc = read(
        "benchmarks/results/unseen/unseen_results.csv",
        lambda r: (r["dataset"], r["held_out_type"], r["seed"]),
    )
    for label, keep in (("all datasets", lambda d: True), ("probe datasets", lambda d: d in UNSEEN_PROBE),
                        ("other datasets", lambda d: d not in UNSEEN_PROBE)):  # fmt: skip
        gain, control = collections.defaultdict(list), collections.defaultdict(list)
        for (method, dataset, kind, seed), value in auc.items():
            if method == METHOD and keep(dataset):
                gain[(kind, dataset)].append(value - auc[(CONTROL, dataset, kind, seed)])
                control[(kind, dataset)].append(auc[(CONTROL, dataset, kind, seed)])
        kinds = sorted({k for k, _ in gain})
        per_type = {k: np.mean([np.mean(v) for (kk, _), v in gain.items() if kk == k]) for k in kinds}
        ctrl = np.mean([np.mean([np.mean(v) for (kk, _), v in control.items() if kk == k]) for k in kinds])
        print(
            f"unseen, {label}: {METHOD} - {CONTROL}, mean over types {np.mean(list(per_type.values())):+.2f} ("
            + ", ".join(f"{k} {v:+.2f}" for k, v in per_type.items()) + f"); control {ctrl:.2f}, "
            f"room above it {100 - ctrl:.2f}"
        )  # fmt: skip


def adbench():
    auc = read("benchmarks/results/adbench/adbench_results.csv", lambda r: (r["dataset"], r["la"], r["seed"]))
    for label, keep in (("all datasets", lambda d: True), ("probe datasets", lambda d: d in ADBENCH_PROBE),
                        ("other datasets", lambda d: d not in ADBENCH_PROBE)):  # fmt: skip
        gain = collections.defaultdict(list)
        for (method, dataset, la, seed), value in auc.items():
            if method == METHOD and la == "0.1" and keep(dataset):
                gain[dataset].append(value - auc[(CONTROL, dataset, la, seed)])
        d = np.array([np.mean(v) for v in gain.values()])
        print(
            f"adbench la 0.1, {label}: {METHOD} - {CONTROL} {d.mean():+.2f} over {len(d)} datasets "
            f"(W/L {(d > 0.1).sum()}/{(d < -0.1).sum()}, p={wilcoxon(d).pvalue:.2g}, below -1: {(d < -1).sum()})"
        )


if __name__ == "__main__":
    unseen()
    adbench()
