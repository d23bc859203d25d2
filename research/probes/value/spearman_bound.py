"""How many deployment fits per side issue 26's Spearman target would need on the value leaderboard.

Reads the committed value-reward leaderboard (no fit). The within-dataset Spearman between
`final_reward` and `auc_gain` can only be as large as the measurement of `auc_gain` allows:

- a cell's gain is the difference of two means of `deploy_repeats` MoME fits, so its noise variance is
  about `2 sd^2 / repeats` (`sd`: the control fits' std, recorded per cell);
- the true within-dataset variance of the gain is the observed variance of the dataset-centred gains
  minus that noise (the summary's `_noise_ceiling`, the same arithmetic);
- a reward whose correlation with the true gain is `c` shows about `c * sqrt(reliability)`, with
  `reliability = true / (true + noise)` (Spearman 1904).

For the target 0.3 it prints the fits per side a reward would need at c = 1 (a perfect predictor),
0.7 and 0.5, with a bootstrap interval over datasets (cells resampled within datasets), since the
true variance is a small difference of two large numbers. Then the value reward itself: its observed
within-dataset ρ fixes `c = ρ / sqrt(reliability)` at each reliability the data allow, and so the fits
per side at which it would show 0.3 in expectation.

    python -m research.probes.value.spearman_bound > research/probes/value/spearman_bound.md
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from benchmarks.common import REPO_ROOT

CSV = REPO_ROOT / "benchmarks" / "results" / "policies" / "value" / "policies_results.csv"
TARGET = 0.3
REPS = 2000


def variances(cells: pd.DataFrame) -> tuple[float, float, int]:
    """(true within-dataset variance of the gain, noise variance per cell, fits per side)."""
    repeats = int(cells["deploy_repeats"].iloc[0])
    noise = float((2 * cells["control_auc_roc_std"] ** 2 / cells["deploy_repeats"]).mean())
    centred = cells["auc_gain"] - cells.groupby("dataset")["auc_gain"].transform("mean")
    return float(np.var(centred, ddof=1)) - noise, noise, repeats


def fits_needed(true: float, noise: float, repeats: int, c: float) -> float:
    """Fits per side for ``c * sqrt(reliability) >= TARGET`` (inf when no number of fits is enough)."""
    r = (TARGET / c) ** 2
    if r >= 1 or true <= 0:
        return float("inf")
    return repeats * noise * r / (true * (1 - r))


def within_dataset_rho(cells: pd.DataFrame) -> float:
    """Spearman of `final_reward` and `auc_gain` after removing each dataset's means (the summary's)."""
    from scipy.stats import spearmanr

    centred = cells[["final_reward", "auc_gain"]] - cells.groupby("dataset")[["final_reward", "auc_gain"]].transform(
        "mean"
    )
    return float(spearmanr(centred["final_reward"], centred["auc_gain"])[0])


def main() -> None:
    cells = pd.read_csv(CSV)
    cells = cells[cells["status"] == "ok"]
    true, noise, repeats = variances(cells)
    rng = np.random.default_rng(0)
    by_set = [g for _, g in cells.groupby("dataset")]
    boot = []
    for _ in range(REPS):
        sample = pd.concat([g.sample(len(g), replace=True, random_state=int(rng.integers(2**31))) for g in by_set])
        boot.append(variances(sample)[0])
    low, high = np.percentile(boot, [2.5, 97.5])
    reliability = true / (true + noise)
    print("# Issue 26's Spearman target against the measurement's noise\n")
    print(f"From `{CSV.relative_to(REPO_ROOT)}` ({len(cells)} cells, {repeats} MoME fits per side); "
          "`python -m research.probes.value.spearman_bound`.\n")
    print(f"- Noise variance of a cell's `auc_gain`: {noise:.3g} (AUC units squared); true within-dataset "
          f"variance: {true:.3g} (95% bootstrap interval [{low:.3g}, {high:.3g}]).")
    print(f"- Reliability at {repeats} fits: {reliability:.3f}; a perfect predictor's ceiling "
          f"{np.sqrt(max(reliability, 0)):.2f}.\n")
    print(f"| reward's correlation with the true gain | fits per side for ρ = {TARGET} | "
          "at the interval's high true variance |")
    print("| ---: | ---: | ---: |")
    for c in (1.0, 0.7, 0.5):
        n, n_high = fits_needed(true, noise, repeats, c), fits_needed(high, noise, repeats, c)
        print(f"| {c:g} | {n:,.0f} | {n_high:,.0f} |")
    rho = within_dataset_rho(cells)
    print(f"\nThe value reward's own within-dataset ρ is {rho:.2f}. At each reliability, the correlation with "
          f"the true gain it implies, and the fits per side at which it would show {TARGET}:\n")
    print("| true variance | reliability at 20 fits | implied c | fits per side for ρ = 0.3 |")
    print("| --- | ---: | ---: | ---: |")
    for label, t in (("point estimate", true), ("interval's high end", high)):
        rel = t / (t + noise)
        c = rho / np.sqrt(rel)
        shown = min(c, 1.0)
        n = fits_needed(t, noise, repeats, shown)
        print(f"| {label} | {rel:.3f} | {c:.2f}{' (capped at 1)' if c > 1 else ''} | {n:,.0f} |")


if __name__ == "__main__":
    main()
