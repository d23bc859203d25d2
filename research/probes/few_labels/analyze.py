"""Few labels: do the score columns of CatBoost+scores (the default deployment) pay below a few labels?

    python -m research.probes.few_labels.analyze

Reads the committed ADBench CSV (benchmarks/results/adbench/adbench_results.csv) and compares, cell by
cell, `swift_hydra_control` (CatBoost + IForest/ECOD/kNN score columns, no synthetic row) with
`catboost` (the plain booster), binned by the number of labeled training anomalies the cell had.
The rule "no score columns below M labeled anomalies" is chosen on the CHOICE datasets (the 12 whose
K=1/K=3 cells finished first, in file order, before the others were looked at) and checked on the
other datasets. Below M, the rule's detector is the plain booster, so its AUC is read from the
`catboost` rows (same split and seed; the booster's seed differs, so this is an estimate).
Writes table.md beside this file.

The rows are read as committed at SOURCE_COMMIT, the last commit before the rule shipped: after it,
swift_hydra_control at one to three labels *is* the plain booster, so the comparison would be void.
"""

from __future__ import annotations

import subprocess
import tempfile
from collections import defaultdict
from pathlib import Path

import numpy as np
from scipy.stats import wilcoxon

from benchmarks.common import row_regime
from benchmarks.report import load_rows

HERE = Path(__file__).resolve().parent
CSV = HERE.parents[2] / "benchmarks" / "results" / "adbench" / "adbench_results.csv"
SOURCE_COMMIT = "f11ba9538646626d5458a532bd66da7149acbc5e"
CHOICE = (
    "1_ALOI",
    "2_annthyroid",
    "4_breastw",
    "6_cardio",
    "7_Cardiotocography",
    "8_celeba",
    "10_cover",
    "11_donors",
    "12_fault",
    "15_Hepatitis",
    "16_http",
    "17_InternetAds",
)
BINS = ((1, 1), (2, 3), (4, 9), (10, 29), (30, 10**9))
RULE_M = 4  # chosen on CHOICE: the columns cost AUC at 1-3 labels there and paid from 10 on


def _rows_at_source() -> list[dict[str, str]]:
    """The ADBench rows as committed at SOURCE_COMMIT (git show)."""
    relative = CSV.relative_to(HERE.parents[2]).as_posix()
    text = subprocess.run(
        ["git", "show", f"{SOURCE_COMMIT}:{relative}"],
        cwd=HERE.parents[2],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "adbench_results.csv"
        path.write_text(text)
        return load_rows(path)


def cells() -> dict[tuple[str, str, str], dict[str, tuple[float, int]]]:
    out: dict = defaultdict(dict)
    for r in _rows_at_source():
        if r["status"] == "ok" and r["method"] in ("catboost", "swift_hydra_control"):
            out[(r["dataset"], row_regime(r), r["seed"])][r["method"]] = (
                float(r["auc_roc"]),
                int(r["n_labeled_anomalies"]),
            )
    return {k: v for k, v in out.items() if len(v) == 2}


def bin_table(pairs, datasets) -> list[str]:
    lines = [
        "| labeled anomalies | cells | datasets | scores - plain (points) |",
        "| --- | ---: | ---: | ---: |",
    ]
    for lo, hi in BINS:
        diffs = [
            (k[0], v["swift_hydra_control"][0] - v["catboost"][0])
            for k, v in pairs.items()
            if k[0] in datasets and lo <= v["catboost"][1] <= hi
        ]
        if diffs:
            label = f"{lo}" if lo == hi else (f"{lo}+" if hi > 10**8 else f"{lo}-{hi}")
            lines.append(
                f"| {label} | {len(diffs)} | {len({d for d, _ in diffs})} "
                f"| {100 * np.mean([x for _, x in diffs]):+.2f} |"
            )
    return lines


def rule_table(pairs, datasets) -> list[str]:
    """Per regime: the default (control) and the rule, against plain CatBoost, seeds averaged per dataset."""
    lines = [
        "| regime | datasets | default - catboost | rule - catboost | rule - default | Wilcoxon p (rule vs default) |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    by_regime: dict = defaultdict(lambda: defaultdict(list))
    for (d, regime, _), v in pairs.items():
        if d in datasets:
            default, plain = v["swift_hydra_control"][0], v["catboost"][0]
            rule = plain if v["catboost"][1] < RULE_M else default
            by_regime[regime][d].append((default - plain, rule - plain, rule - default))
    for regime in sorted(by_regime, key=lambda r: (r[0] == "l", float(r.split("=")[1]))):
        per = {d: np.mean(v, axis=0) for d, v in by_regime[regime].items()}
        arr = np.array(list(per.values()))
        p = wilcoxon(arr[:, 2]).pvalue if np.any(np.abs(arr[:, 2]) > 1e-9) else float("nan")
        lines.append(
            f"| {regime} | {len(per)} | {100 * arr[:, 0].mean():+.2f} | {100 * arr[:, 1].mean():+.2f} "
            f"| {100 * arr[:, 2].mean():+.2f} | {p:.3g} |"
        )
    return lines


def main() -> None:
    pairs = cells()
    everyone = sorted({k[0] for k in pairs})
    rest = [d for d in everyone if d not in CHOICE]
    text = [
        "# Few labels: score columns against the plain booster",
        "",
        f"Source: `{CSV.relative_to(HERE.parents[2])}` as committed at `{SOURCE_COMMIT[:7]}` (before the rule shipped); "
        "`python -m research.probes.few_labels.analyze`.",
        "",
        f"## Choice datasets ({len(CHOICE)}): where the columns pay, by labeled anomalies",
        "",
        *bin_table(pairs, CHOICE),
        "",
        f"Rule chosen here: no score columns below {RULE_M} labeled anomalies.",
        "",
        f"## Check datasets ({len(rest)}), never used for the choice",
        "",
        *bin_table(pairs, rest),
        "",
        *rule_table(pairs, rest),
        "",
        f"## All {len(everyone)} datasets",
        "",
        *rule_table(pairs, everyone),
        "",
    ]
    (HERE / "table.md").write_text("\n".join(text) + "\n")
    print("\n".join(text))


if __name__ == "__main__":
    main()
