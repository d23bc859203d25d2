"""Where issue 28's la = 1.0 gap sits, and how far the shipped MoME variants could move it.

Reads the committed ADBench table only (no fit). For each of the 32 sets at la = 1.0, seeds averaged
first: CatBoost, the tables' MoME (`mome`), the piecewise-linear MoME (`mome_ple`), and

- `auto`: `numeric_embedding="auto"` applied after the fact, per cell: the `mome_ple` fit where the
  cell's fit holds at least `AUTO_PIECEWISE_MIN_LABELED` labeled anomalies (the threshold chosen on
  validation in `ple_rule_inner.py`), the `mome` fit below (both are the table's own fits);
- `oracle`: per set, the better of `mome` and `mome_ple` on the test split. It is not a method (it
  reads the test labels); it bounds what choosing between the two tokenizers could ever give.

Then the mean gap to CatBoost (target: >= -0.5), what 1_ALOI would have to score for the mean to
reach the target with every other set unchanged, and the same at la = 0.1 for the rule.

    python -m research.probes.mome.la1_gap > research/probes/mome/la1_gap.md
"""

from __future__ import annotations

import pandas as pd

from benchmarks.common import REPO_ROOT
from detectors.moe import AUTO_PIECEWISE_MIN_LABELED

CSV = REPO_ROOT / "benchmarks" / "results" / "adbench" / "adbench_results.csv"
TARGET = -0.5


def per_set(rows: pd.DataFrame, la: float) -> pd.DataFrame:
    """AUC points per set (seeds averaged) of catboost, mome, mome_ple, the auto rule and the oracle."""
    at = rows[(rows["la"] == la) & (rows["status"] == "ok")]
    cells = at.pivot_table(index=["dataset", "seed"], columns="method", values="auc_roc") * 100
    labeled = at[at["method"] == "mome"].set_index(["dataset", "seed"])["n_labeled_anomalies"]
    use_ple = labeled.reindex(cells.index) >= AUTO_PIECEWISE_MIN_LABELED
    cells["auto"] = cells["mome_ple"].where(use_ple, cells["mome"])
    table = cells[["catboost", "mome", "mome_ple", "auto"]].groupby("dataset").mean()
    table["oracle"] = table[["mome", "mome_ple"]].max(axis=1)
    table["labeled"] = labeled.groupby("dataset").mean()
    return table


def report(table: pd.DataFrame, la: float) -> list[str]:
    variants = ["mome", "mome_ple", "auto", "oracle"]
    gaps = {v: table[v] - table["catboost"] for v in variants}
    n = len(table)
    lines = [f"## la = {la:g} ({n} sets, seeds 1-3 averaged per set)", ""]
    lines += ["| variant | mean gap to CatBoost | 1_ALOI gap | other sets' mean gap | 1_ALOI needed for -0.5 |"]
    lines += ["| --- | ---: | ---: | ---: | ---: |"]
    for v in variants:
        gap = gaps[v]
        others = gap.drop("1_ALOI")
        # Every other set unchanged: ALOI's gap must be at most n * TARGET - sum(others).
        aloi_needed = table.loc["1_ALOI", "catboost"] + n * TARGET - others.sum()
        lines.append(
            f"| `{v}` | {gap.mean():+.2f} | {gap['1_ALOI']:+.2f} | {others.mean():+.2f} "
            f"| {aloi_needed:.1f} (now {table.loc['1_ALOI', v]:.1f}) |"
        )
    worst = (table["auto"] - table["catboost"]).sort_values().head(8)
    lines += ["", "The eight sets furthest below CatBoost under `auto` (AUC points; labeled anomalies per fit):", ""]
    lines += ["| set | CatBoost | `mome` | `mome_ple` | `auto` | gap | labeled |", "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for name, gap in worst.items():
        r = table.loc[name]
        lines.append(
            f"| {name} | {r.catboost:.2f} | {r.mome:.2f} | {r.mome_ple:.2f} | {r.auto:.2f} | {gap:+.2f} | {r.labeled:.0f} |"
        )
    return [*lines, ""]


def main() -> None:
    rows = pd.read_csv(CSV)
    rows = rows[rows["n_labeled"].isna()]
    print("# Issue 28's la = 1.0 gap: where it sits and what choosing a tokenizer could give\n")
    print(f"From `{CSV.relative_to(REPO_ROOT)}`; `python -m research.probes.mome.la1_gap`.\n")
    for la in (1.0, 0.1):
        print("\n".join(report(per_set(rows, la), la)))


if __name__ == "__main__":
    main()
