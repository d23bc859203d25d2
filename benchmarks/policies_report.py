"""The report of the generation-policy leaderboard (:mod:`benchmarks.policies`): tables, uncertainty, plot.

``write_leaderboard`` turns CSV rows into ``policies_summary.md`` and ``policies_leaderboard.png``: per
budget a table of mean ± std and mean ranks, AUC gain per dataset, and the uncertainty section as RL
papers report it (:mod:`benchmarks.rl_stats`): IQM with stratified-bootstrap 95% CIs over datasets x
seeds, the probability of improvement over ``random``, the paired mean difference of ``final_reward``
against ``random``, the best policy's mean AUC gain with its CI, and how well the env's reward predicts
downstream value (Spearman correlation of ``final_reward`` and ``auc_gain`` across cells).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import rl_stats
from benchmarks.common import atomic_write, row_regime

SUMMARY_FILE = "policies_summary.md"
PLOT_FILE = "policies_leaderboard.png"
EVASION_THRESHOLD = 0.5  # a sample "evades" when the detector's P(anomaly) is below this
BASELINE = "random"  # the policy every other is compared with
BOOTSTRAP_SEED = 0  # the summary's intervals are reproducible

# Leaderboard metrics: (column, header, higher is better, shown as AUC points).
METRICS = (
    ("final_reward", "final reward (frozen ref.)", True, False),
    ("evasion_rate", "evasion (final policy)", True, False),
    ("miss_probability", "miss prob. (final policy)", True, False),
    ("threshold_evasion_rate", "evasion @ own threshold", True, False),
    ("kept_evasion_rate", "evasion (kept set)", True, False),
    ("entropy_gain", "entropy gain", True, False),
    ("pairwise_distance", "pairwise dist.", True, False),
    ("auc_gain", "AUC-ROC gain (points)", True, True),
    ("wall_seconds", "wall s", False, False),
)
RANKED = ("auc_gain", "evasion_rate", "entropy_gain", "wall_seconds")


def _values(rows: Sequence[dict[str, str]], column: str) -> list[float]:
    return [float(r[column]) for r in rows if r.get(column) not in (None, "")]


def _mean_std(values: list[float], scale: float = 1.0, digits: int = 3) -> str:
    if not values:
        return "–"
    return f"{scale * np.mean(values):.{digits}g} ± {scale * np.std(values):.{digits}g}"


def mean_ranks(rows: Sequence[dict[str, str]], column: str, higher_is_better: bool) -> dict[str, float]:
    """Mean rank per algo (1 = best) over the (dataset, la, seed) blocks every algo completed."""
    from scipy.stats import rankdata

    blocks: dict[tuple[str, str, str], dict[str, float]] = {}
    for r in rows:
        if r.get("status") == "ok" and r.get(column) not in (None, ""):
            blocks.setdefault((r["dataset"], row_regime(r), r["seed"]), {})[r["algo"]] = float(r[column])
    algos = sorted({r["algo"] for r in rows if r.get("status") == "ok"})
    complete = [b for b in blocks.values() if set(b) == set(algos)]
    if not complete or not algos:
        return {}
    sign = -1.0 if higher_is_better else 1.0
    ranks = np.vstack([rankdata([sign * b[a] for a in algos]) for b in complete])
    return dict(zip(algos, ranks.mean(axis=0), strict=True))


def leaderboard(rows: Sequence[dict[str, str]]) -> list[dict[str, Any]]:
    """One entry per algo (ok rows of one budget), best mean rank on AUC gain first."""
    ok = [r for r in rows if r.get("status") == "ok"]
    ranks = {c: mean_ranks(ok, c, higher) for c, _, higher, _ in METRICS if c in RANKED}
    entries = []
    for algo in dict.fromkeys(r["algo"] for r in rows):
        mine = [r for r in ok if r["algo"] == algo]
        entry: dict[str, Any] = {"algo": algo, "ok": len(mine)}
        entry["failed"] = sum(1 for r in rows if r["algo"] == algo and r.get("status") != "ok")
        entry |= {c: _values(mine, c) for c, *_ in METRICS}
        # The plot uses evasion at the detector's own threshold: at small la the 0.5 rate saturates at 1.
        paired = [
            r for r in mine
            if r.get("threshold_evasion_rate") not in (None, "") and r.get("auc_gain") not in (None, "")
        ]  # fmt: skip
        entry["cells"] = [(float(r["threshold_evasion_rate"]), float(r["auc_gain"])) for r in paired]
        entry["ranks"] = {c: ranks[c].get(algo) for c in RANKED}
        entries.append(entry)

    def order(e: dict[str, Any]) -> tuple[float, float]:
        gain = e["ranks"]["auc_gain"]
        mean_gain = np.mean(e["auc_gain"]) if e["auc_gain"] else -np.inf
        return (gain if gain is not None else np.inf, -mean_gain)

    return sorted(entries, key=order)


def _plot(by_budget: dict[str, list[dict[str, Any]]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(by_budget), 2, figsize=(11, 4 * len(by_budget)), squeeze=False)
    for (budget, entries), (scatter, bars) in zip(by_budget.items(), axes, strict=True):
        colors = {e["algo"]: f"C{i % 10}" for i, e in enumerate(entries)}
        shown = [e for e in entries if e["cells"]]
        for e in shown:
            evasion, gains = np.asarray(e["cells"]).T
            gains = 100 * gains
            scatter.scatter(evasion, gains, color=colors[e["algo"]], alpha=0.25, s=14)
            scatter.errorbar(
                evasion.mean(), gains.mean(), xerr=evasion.std(), yerr=gains.std(), fmt="o",
                color=colors[e["algo"]], capsize=3, label=e["algo"],
            )  # fmt: skip
        scatter.set_xlim(-0.03, 1.03)
        scatter.axhline(0, color="black", lw=0.8)
        scatter.set_xlabel("evasion of the final policy vs the frozen detector (at its own threshold)")
        scatter.set_ylabel("test AUC-ROC gain over control (points)")
        scatter.set_title(f"budget {budget}: mean ± std (faint: cells)", fontsize=10)
        scatter.grid(alpha=0.3)
        if shown:
            scatter.legend(fontsize=8)
        timed = [e for e in entries if e["wall_seconds"]]
        y = np.arange(len(timed))
        bars.barh(
            y, [np.mean(e["wall_seconds"]) for e in timed], xerr=[np.std(e["wall_seconds"]) for e in timed],
            color=[colors[e["algo"]] for e in timed], alpha=0.8,
        )  # fmt: skip
        bars.set_yticks(y, [e["algo"] for e in timed])
        bars.invert_yaxis()
        bars.set_xlabel("wall seconds per cell (Swift Hydra side)")
        bars.set_title(f"budget {budget}: wall time, mean ± std", fontsize=10)
    fig.tight_layout()
    atomic_write(path, lambda p: fig.savefig(p, format="png", dpi=110))
    plt.close(fig)


_DEFINITIONS = (
    "- Values: mean ± std over every ok cell (datasets x seeds). Ranks: mean rank (1 = best) over the "
    "(dataset, la, seed) blocks every algo completed; rows sorted by the AUC-gain rank.",
    f"- Evasion: share of samples with P(anomaly) < {EVASION_THRESHOLD} under the frozen reference "
    "detector (in-loop detector after pre-training, before augmentation); miss prob.: mean 1 - P(anomaly) "
    "under it; evasion @ own threshold: share it labels normal with `predict` (its `threshold_`). "
    "*Final policy*: fresh samples of the policy after the last round; *kept set*: every synthetic "
    "anomaly added to the training set.",
    "- Entropy gain: mean k-NN entropy gain (`KNNEntropyGain`) of the fresh samples against the real "
    "labeled anomalies (log 2 = typical spacing, 0 = copies). Pairwise dist.: mean pairwise Euclidean "
    "distance of the fresh samples / sqrt(n_features), scaled features.",
    "- Final reward: mean env reward (`hydra_env.rewards.Reward`, the run's `reward_weights`) of the "
    "final policy's fresh samples under the frozen reference detector.",
    "- AUC-ROC gain: deployment detector minus the no-augmentation control, test split, AUC points; each "
    "side is the mean over the run's deployment fits per side (seeds s, s + 1000, ...). Wall s: the Swift "
    "Hydra side of a cell (loop with round checkpoints, deployment detector, generation), control and "
    "measuring refits excluded; the first cell of a process also pays a one-off torch warm-up.",
)


def _budget_section(budget: str, entries: list[dict[str, Any]], ok: list[dict[str, str]]) -> list[str]:
    lines = [f"## Budget `{budget}`", ""]
    header = "| algo | cells ok | failed | " + " | ".join(h for _, h, _, _ in METRICS)
    header += " | rank AUC gain | rank evasion | rank entropy | rank wall |"
    lines += [header, "| --- | ---: | ---: |" + " ---: |" * (len(METRICS) + len(RANKED))]
    for e in entries:
        cells = [_mean_std(e[c], 100.0 if points else 1.0) for c, _, _, points in METRICS]
        ranks = ["–" if e["ranks"][c] is None else f"{e['ranks'][c]:.2f}" for c in RANKED]
        lines.append(f"| {e['algo']} | {e['ok']} | {e['failed']} | " + " | ".join(cells + ranks) + " |")
    algos = [e["algo"] for e in entries]
    lines += ["", f"### AUC-ROC gain (points) per dataset, mean over seeds, budget `{budget}`", ""]
    lines += ["| dataset | " + " | ".join(algos) + " |", "| --- |" + " ---: |" * len(algos)]
    for d in sorted({r["dataset"] for r in ok if r["budget"] == budget}):
        cells = []
        for a in algos:
            gains = _values(
                [r for r in ok if (r["budget"], r["dataset"], r["algo"]) == (budget, d, a)], "auc_gain"
            )
            cells.append(f"{100 * np.mean(gains):.2f}" if gains else "–")
        lines.append(f"| {d} | " + " | ".join(cells) + " |")
    return [*lines, ""]


def _strata(
    rows: Sequence[dict[str, str]], algo: str, column: str
) -> dict[tuple[str, str], dict[str, float]]:
    """``{(dataset, la): {seed: value}}`` of ``algo``'s ok rows that carry ``column``."""
    out: dict[tuple[str, str], dict[str, float]] = {}
    for r in rows:
        if r["algo"] == algo and r.get("status") == "ok" and r.get(column) not in (None, ""):
            out.setdefault((r["dataset"], row_regime(r)), {})[r["seed"]] = float(r[column])
    return out


def _paired(rows: Sequence[dict[str, str]], x: str, y: str, column: str) -> tuple[list, list]:
    """Paired strata of algos ``x`` and ``y``: the (dataset, la, seed) cells both completed."""
    xs, ys = _strata(rows, x, column), _strata(rows, y, column)
    pairs = [(xs[t], ys[t], sorted(set(xs[t]) & set(ys[t]))) for t in sorted(set(xs) & set(ys))]
    pairs = [(a, b, seeds) for a, b, seeds in pairs if seeds]
    return [np.array([a[s] for s in seeds]) for a, _, seeds in pairs], [
        np.array([b[s] for s in seeds]) for _, b, seeds in pairs
    ]


def _ci(fn: Any, *strata: Any, scale: float = 1.0) -> str:
    """An :mod:`benchmarks.rl_stats` estimate formatted ``value [low, high]``, or ``–`` without data."""
    if not strata[0] or not any(len(v) for v in strata[0]):
        return "–"
    return fn(*strata, seed=BOOTSTRAP_SEED).format(scale=scale)


def reward_gain(rows: Sequence[dict[str, str]], algo: str) -> tuple[rl_stats.Estimate, float] | None:
    """``final_reward`` of ``algo`` minus the baseline's on paired cells (mean, CI), and the baseline's mean."""
    x, y = _paired(rows, algo, BASELINE, "final_reward")
    if not x:
        return None
    return rl_stats.paired_difference_ci(x, y, seed=BOOTSTRAP_SEED), float(np.mean(np.concatenate(y)))


def _gain_vs_baseline(rows: Sequence[dict[str, str]], algo: str) -> str:
    """``final_reward`` of ``algo`` minus the baseline's on paired cells: mean [CI] (% of the baseline's)."""
    found = reward_gain(rows, algo)
    if found is None:
        return "–"
    diff, base = found
    share = f" ({100 * diff.value / base:+.1f}%)" if base > 0 else ""
    return diff.format() + share


def best_policy(
    rows: Sequence[dict[str, str]], algos: Sequence[str], level: float = rl_stats.DEFAULT_LEVEL
) -> tuple[str, rl_stats.Estimate, int] | None:
    """The algo with the highest mean ``auc_gain``, that mean with its CI at ``level``, and how many
    algos it was picked from (those with an ok ``auc_gain``)."""
    means = {
        a: _values([r for r in rows if r["algo"] == a and r.get("status") == "ok"], "auc_gain") for a in algos
    }
    means = {a: float(np.mean(v)) for a, v in means.items() if v}
    if not means:
        return None
    best = max(means, key=means.get)
    strata = [list(v.values()) for v in _strata(rows, best, "auc_gain").values()]
    return best, rl_stats.mean_ci(strata, seed=BOOTSTRAP_SEED, level=level), len(means)


def _correlation(rows: Sequence[dict[str, str]]) -> str:
    """Spearman correlation of ``final_reward`` and ``auc_gain`` over every ok cell, with what it means."""
    from scipy.stats import spearmanr

    cells = [
        r for r in rows if r.get("final_reward") not in (None, "") and r.get("auc_gain") not in (None, "")
    ]
    reward, gain = (np.array([float(r[c]) for r in cells]) for c in ("final_reward", "auc_gain"))
    if len(cells) < 3 or np.ptp(reward) == 0 or np.ptp(gain) == 0:
        return f"- Reward vs value: – (needs 3 cells with varying `final_reward` and `auc_gain`; {len(cells)} have both)."
    rho, p = spearmanr(reward, gain)
    if p < 0.05 and rho > 0:
        meaning = (
            "the env's reward predicts downstream value: cells whose policy earns more reward gain more AUC."
        )
    elif p < 0.05:
        meaning = "the env's reward runs against downstream value: ranking policies by it would mislead."
    else:
        meaning = (
            "no significant monotone link: on this evidence the reward does not predict which cells gain AUC."
        )
    return (
        f"- Reward vs value: Spearman ρ = {rho:.2f} (p = {p:.2g}, {len(cells)} cells, every algo) between "
        f"`final_reward` and `auc_gain`; {meaning}{_within_datasets(cells)}"
    )


def _within_datasets(cells: Sequence[dict[str, str]]) -> str:
    """The same correlation with each (dataset, la)'s means removed: the link among policies, not datasets."""
    from scipy.stats import spearmanr

    groups: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for r in cells:
        groups.setdefault((r["dataset"], row_regime(r)), []).append(
            (float(r["final_reward"]), float(r["auc_gain"]))
        )
    centred = [np.asarray(v) - np.mean(v, axis=0) for v in groups.values() if len(v) > 1]
    if len(groups) < 2 or not centred:
        return ""
    both = np.vstack(centred)
    if len(both) < 3 or np.ptp(both[:, 0]) == 0 or np.ptp(both[:, 1]) == 0:
        return ""
    rho, p = spearmanr(both[:, 0], both[:, 1])
    return (
        f" Within datasets (each dataset's means removed, so datasets that are easy to reward or to gain "
        f"on do not drive it): ρ = {rho:.2f} (p = {p:.2g}).{_noise_ceiling(cells)}"
    )


def _noise_ceiling(cells: Sequence[dict[str, str]]) -> str:
    """How far any predictor can correlate with the within-dataset ``auc_gain``, given its fit noise.

    A cell's gain is a difference of two means of ``deploy_repeats`` fits; with the deployment side as
    noisy as the control (only the control's std is recorded), its noise variance is
    ``2 sd^2 / repeats``. Reliability = 1 - noise variance / variance of the dataset-centred gains; the
    correlation with a perfect predictor is attenuated to about sqrt(reliability) (Spearman 1904).
    """
    groups: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for r in cells:
        if r.get("control_auc_roc_std") in (None, ""):
            return ""
        noise = 2 * float(r["control_auc_roc_std"]) ** 2 / int(r.get("deploy_repeats") or 1)
        groups.setdefault((r["dataset"], row_regime(r)), []).append((float(r["auc_gain"]), noise))
    centred = [np.asarray(v)[:, 0] - np.mean(np.asarray(v)[:, 0]) for v in groups.values() if len(v) > 1]
    noise = [x for v in groups.values() if len(v) > 1 for _, x in v]
    if not centred or not noise:
        return ""
    spread = float(np.var(np.concatenate(centred), ddof=1))
    reliability = 1.0 - float(np.mean(noise)) / spread if spread > 0 else float("nan")
    if not np.isfinite(reliability):
        return ""
    ceiling = f"about {np.sqrt(reliability):.2f}" if reliability > 0 else "0 (noise is the whole spread)"
    return (
        f" Noise ceiling: fit noise is {100 * min(1.0, 1 - reliability):.0f}% of the within-dataset "
        f"variance of `auc_gain` (reliability {reliability:.2f}), so even a perfect predictor of the true "
        f"gain would reach ρ of {ceiling}."
    )


def uncertainty_section(budget: str, rows: Sequence[dict[str, str]], algos: Sequence[str]) -> list[str]:
    """Markdown: IQM with CIs, P(improvement) over ``random``, paired reward gain, best gain, correlation.

    Args:
        budget: The budget the rows share (for the heading).
        rows: Rows of that budget (failed ones are ignored).
        algos: Row order of the table.
    """
    lines = [f"### Uncertainty, budget `{budget}` (Agarwal et al. 2021; bootstrap 95% CIs)", ""]
    lines += [
        "IQM = interquartile mean over every (dataset, seed) cell; CIs: stratified bootstrap (seeds "
        f"resampled within datasets, {rl_stats.DEFAULT_REPS} replicates). P(> {BASELINE}) = probability "
        f"of improvement: per dataset, the share of seed pairs where the algo beats `{BASELINE}` (ties "
        f"1/2), averaged over datasets. Δ reward = mean paired `final_reward` difference to `{BASELINE}` "
        f"(% of `{BASELINE}`'s mean). `–`: no data (older CSVs have no `final_reward`).",
        "",
        f"| algo | cells | final reward IQM | AUC gain IQM (points) | P(> {BASELINE}) final reward "
        f"| P(> {BASELINE}) AUC gain | Δ reward vs {BASELINE} |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]  # fmt: skip
    for algo in algos:
        reward, gain = (list(_strata(rows, algo, c).values()) for c in ("final_reward", "auc_gain"))
        cells = [
            _ci(rl_stats.stratified_bootstrap_ci, [list(v.values()) for v in reward]),
            _ci(rl_stats.stratified_bootstrap_ci, [list(v.values()) for v in gain], scale=100.0),
        ]
        for column in ("final_reward", "auc_gain"):
            paired = _paired(rows, algo, BASELINE, column) if algo != BASELINE else ([], [])
            cells.append(_ci(rl_stats.probability_of_improvement, *paired))
        cells.append(_gain_vs_baseline(rows, algo) if algo != BASELINE else "–")
        n = sum(len(v) for v in gain)
        lines.append(f"| {algo} | {n} | " + " | ".join(cells) + " |")
    lines.append("")
    best_line = best_policy_line(rows, algos)
    if best_line is not None:
        lines.append(best_line)
    return [*lines, _noise_floor(rows), _correlation(rows), ""]


def best_policy_line(rows: Sequence[dict[str, str]], algos: Sequence[str]) -> str | None:
    """Markdown line: the best policy's mean AUC gain, its 95% CI and the Bonferroni CI of the pick."""
    found = best_policy(rows, algos)
    if found is None:
        return None
    best, est, k = found
    # The best of k is picked after the fact: a Bonferroni level (1 - 0.05 / k) pays for the pick.
    level = 1.0 - (1.0 - rl_stats.DEFAULT_LEVEL) / k
    _, picked, _ = best_policy(rows, algos, level=level)
    return (
        f"- Best policy by mean AUC gain: `{best}`, {est.format(scale=100.0)} points (mean, stratified "
        f"bootstrap 95% CI; it {_verdict(est)}). Picked as the best of {k}, so that CI is "
        f"optimistic; the {100 * level:.3g}% CI, which pays for the pick (Bonferroni over "
        f"{k}), is [{100 * picked.low:.3g}, {100 * picked.high:.3g}] (it {_verdict(picked)})."
    )


def _verdict(est: rl_stats.Estimate) -> str:
    """Where a confidence interval lies relative to 0, in words."""
    return "lies above 0" if est.low > 0 else ("lies below 0" if est.high < 0 else "contains 0")


def _noise_floor(rows: Sequence[dict[str, str]]) -> str:
    """How much one deployment fit's AUC moves with its seed alone: the scale ``auc_gain`` is read on."""
    per_split = {
        (r["dataset"], row_regime(r), r["seed"]): (
            float(r["control_auc_roc_std"]),
            int(r.get("deploy_repeats") or 1),
        )
        for r in rows
        if r.get("status") == "ok" and r.get("control_auc_roc_std") not in (None, "")
    }
    if not per_split:
        return "- Detector noise: – (one deployment fit per side; rerun with `--deploy-repeats 2` or more)."
    sd = 100 * float(np.mean([v[0] for v in per_split.values()]))
    repeats = min(v[1] for v in per_split.values())
    return (
        f"- Detector noise: a control fit's AUC-ROC moves by {sd:.2f} points (std over its {repeats} seeds, "
        f"mean over {len(per_split)} splits) with no synthetic row involved. The gain of one fit per side "
        f"would carry about {sd * np.sqrt(2):.1f} points of noise (std); averaging {repeats} fits per side "
        f"leaves about {sd * np.sqrt(2 / repeats):.1f}."
    )


def _options_line(rows: Sequence[dict[str, str]]) -> str:
    """The run options recorded in the rows (``deploy``, ``synthetic_gate``, ``env_kwargs``, repeats)."""
    columns = ("deploy", "synthetic_gate", "env_kwargs", "deploy_repeats")
    seen = sorted({tuple(r.get(c, "") for c in columns) for r in rows})
    shown = [
        f"deploy={d}, synthetic gate={g}, env_kwargs={e or '{}'}, deployment fits per side={n or 1}"
        for d, g, e, n in seen
        if d
    ]
    return "- Options: " + ("; ".join(shown) if shown else "not recorded (older rows)")


def write_leaderboard(rows: Sequence[dict[str, str]], out: str | Path, *, command: str, commit: str) -> Path:
    """Writes ``policies_summary.md`` and ``policies_leaderboard.png`` from CSV rows; returns the md path."""
    out = Path(out)
    rows = [dict(r) for r in rows]
    ok = [r for r in rows if r.get("status") == "ok"]
    failed = [r for r in rows if r.get("status") != "ok"]
    by_budget = {
        b: leaderboard([r for r in rows if r["budget"] == b])
        for b in dict.fromkeys(r["budget"] for r in rows)
    }
    datasets, las = sorted({r["dataset"] for r in rows}), sorted({row_regime(r) for r in rows})
    seeds = sorted({r["seed"] for r in rows}, key=int)
    lines = [
        "# Generation-policy leaderboard", "", f"- Command(s), in the order they ran: `{command}`", f"- Commit: `{commit}`",
        f"- Generated: {datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- Cells: {len(ok)} ok, {len(failed)} failed; datasets: {', '.join(datasets)}; "
        f"labels: {', '.join(las)}; seeds: {' '.join(seeds)}", _options_line(rows), *_DEFINITIONS, "",
    ]  # fmt: skip
    for budget, entries in by_budget.items():
        lines += _budget_section(budget, entries, ok)
        mine = [r for r in ok if r["budget"] == budget]
        lines += uncertainty_section(budget, mine, [e["algo"] for e in entries])
    if by_budget:
        _plot(by_budget, out / PLOT_FILE)
        lines += [f"![evasion vs AUC gain, and wall time per algo]({PLOT_FILE})", ""]
    if failed:
        lines += ["## Failed cells", ""]
        for r in failed:
            cell = f"{r['dataset']} {r['algo']} la={r['la']} seed={r['seed']} {r['budget']}"
            lines.append(f"- {cell}: `{r.get('error', '')}`")
        lines.append("")
    path = out / SUMMARY_FILE
    atomic_write(path, lambda p: Path(p).write_text("\n".join(lines)))
    return path
