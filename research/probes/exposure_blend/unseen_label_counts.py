"""The hedged value loop on held-out anomaly types at one and three labeled anomalies.

    python -m research.probes.exposure_blend.unseen_label_counts > research/probes/exposure_blend/unseen_label_counts.log

Reads the committed unseen-type rows (8 sets x 4 held-out types x seeds 1-3) at la = 0.1 and at
``--n-labeled 1`` and ``3``, and prints per regime, for ``swift_hydra_value`` - ``swift_hydra_control``
(AUC points; seeds averaged per set and type first): the gain per held-out type and its mean (the
summary's figure, through ``benchmarks.unseen_report``), the same for AUC-PR, the gain per set (mean
over types) with a Wilcoxon signed-rank test over the 8 sets, and the (set, type) pairs more than a
point below the control; and, where the regime has its rows, the default loop's gain (``swift_hydra``).
"""

import pandas as pd
from scipy.stats import wilcoxon

from benchmarks import unseen_report
from benchmarks.common import REPO_ROOT, row_regime
from benchmarks.report import load_rows

CSV = REPO_ROOT / "benchmarks" / "results" / "unseen" / "unseen_results.csv"
PAIR = ("swift_hydra_value", "swift_hydra_control")


def per_set_and_type(rows: list[dict], regime: str) -> pd.DataFrame:
    """Gain in AUC points, seeds averaged: rows = sets, columns = held-out types."""
    frame = pd.DataFrame([r for r in rows if row_regime(r) == regime and r["status"] == "ok" and r["method"] in PAIR])
    frame["auc_roc"] = frame["auc_roc"].astype(float)
    cells = frame.pivot_table(index=["dataset", "held_out_type", "seed"], columns="method", values="auc_roc")
    gain = 100 * (cells[PAIR[0]] - cells[PAIR[1]]).dropna()
    return gain.groupby(level=["dataset", "held_out_type"]).mean().unstack()


def main() -> None:
    rows = load_rows(CSV)
    for regime in unseen_report.regimes(rows):
        if not {*PAIR} <= {r["method"] for r in rows if row_regime(r) == regime}:
            continue
        roc = unseen_report.paired_difference(rows, *PAIR, regime=regime)
        pr = unseen_report.paired_difference(rows, *PAIR, metric="auc_pr", regime=regime)
        table = per_set_and_type(rows, regime)
        per_set = table.mean(axis=1)
        print(f"## {regime}: {PAIR[0]} - {PAIR[1]}")
        print("AUC-ROC per type:", {k: round(100 * v, 2) for k, v in roc.items()})
        print("AUC-PR per type: ", {k: round(100 * v, 2) for k, v in pr.items()})
        print("per set (mean over types):", per_set.round(2).to_dict())
        print(f"Wilcoxon over {len(per_set)} sets: p = {wilcoxon(per_set).pvalue:.3g}; sets below 0: "
              f"{int((per_set < 0).sum())}; (set, type) pairs below -1: {int((table < -1).sum().sum())} of {table.size}")
        print(f"without the set with the largest gain ({per_set.idxmax()}): {per_set.drop(per_set.idxmax()).mean():+.2f}")
        if "swift_hydra" in {r["method"] for r in rows if row_regime(r) == regime}:
            default = unseen_report.paired_difference(rows, "swift_hydra", PAIR[1], regime=regime)
            print("the default loop, swift_hydra - control:", {k: round(100 * v, 2) for k, v in default.items()})
        print(table.round(2).to_string(), "\n")


if __name__ == "__main__":
    main()
