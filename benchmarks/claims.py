"""Swift Hydra's claims, checked against the committed result tables: one line per target, with a verdict.

The paper's promise, as the project's issues state it, rests on three tables:

- **ADBench** (``adbench/adbench_results.csv``, la = 0.1): the generated anomalies raise the deployed
  detector above its paired control (same detector, no generated anomaly), and harm almost no dataset.
- **Unseen anomaly types** (``unseen/unseen_results.csv``): trained without one of ADBench's four synthetic
  types, Swift Hydra catches it better than its control and than CatBoost.
- **Policy leaderboard** (``policies/policies_results.csv``): the env's reward is not saturated, RL agents
  earn more of it than ``random``, and the best policy's rows raise the detector's AUC.
- **Value** (``policies/value/``, and ``swift_hydra_value`` in the ADBench and unseen tables): under the
  value reward, reward predicts ``auc_gain`` and RL earns more than ``random``; the value loop does no
  harm on ADBench and lifts held-out types.

Every figure comes from the runners' CSVs through the functions their summaries use
(:func:`benchmarks.adbench_report.gain_table`, :mod:`benchmarks.unseen_report`, :mod:`benchmarks.rl_stats`),
so the scorecard cannot disagree with the summaries. A table that is missing gives "no data", not a pass.

Usage::

    python -m benchmarks.claims                       # reads and writes benchmarks/results/
    swift-hydra bench claims --results DIR --out DIR/claims.md
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import adbench_report, policies_report, unseen_report
from benchmarks.common import REPO_ROOT, atomic_write, git_commit, invoked_as, row_regime

RESULTS = REPO_ROOT / "benchmarks" / "results"
OUT_FILE = "claims.md"
HEADLINE_LA = "0.1"
HEADLINE_REGIME = f"la={HEADLINE_LA}"  # the unseen table's judged rows (it also holds label counts)
RL_ALGOS = ("ppo", "sac", "td3")  # the leaderboard's RL agents (``random`` and ``gradient`` are not)
Rows = list[dict[str, str]]


@dataclass(frozen=True)
class Check:
    """One target: what is claimed, the bar, what the table measures and whether it clears the bar."""

    table: str
    claim: str
    target: str
    measured: str
    passed: bool | None  # None: the table lacks the rows to judge

    @property
    def verdict(self) -> str:
        """``met``, ``not met`` or ``no data``."""
        return "no data" if self.passed is None else ("met" if self.passed else "not met")


def _missing(table: str, claims: Sequence[tuple[str, str]]) -> list[Check]:
    return [Check(table, claim, target, "–", None) for claim, target in claims]


# ----------------------------------------------------------------------------------------------- ADBench
ADBENCH_CLAIMS = (
    ("`swift_hydra` − control, mean over datasets (AUC points)", ">= +1.00"),
    ("Wilcoxon p over datasets", "< 0.01"),
    ("datasets more than 1 point below the control", "<= 2"),
)


def adbench_checks(rows: Rows, method: str = "swift_hydra") -> list[Check]:
    """The ADBench targets of ``method`` against its control at la = 0.1."""
    table = "ADBench, la 0.1"
    row = next(
        (g for g in adbench_report.gain_table(rows) if g["la"] == HEADLINE_LA and g["method"] == method), None
    )
    if row is None:
        return _missing(table, ADBENCH_CLAIMS)
    left_out = _worst_leaving_one_out(rows, row["regime"], method, row["control"])
    where = f" ({row['datasets']} datasets, {row['cells']} cells{left_out})"
    values = (
        (f"{100 * row['diff']:+.2f}{where}", 100 * row["diff"] >= 1.0),
        (f"{row['p_value']:.3g}", bool(row["p_value"] < 0.01)),
        (str(row["harmed"]), row["harmed"] <= 2),
    )
    return [Check(table, c, t, m, ok) for (c, t), (m, ok) in zip(ADBENCH_CLAIMS, values, strict=True)]


# ----------------------------------------------------------------------------------------------- label counts
LABEL_REGIMES = ("K=1", "K=3", "la=0.1")
LABEL_CLAIMS = (
    ("`swift_hydra` − control (AUC points); datasets more than 1 point below", ">= −0.10; <= 2"),
    ("`swift_hydra` − `catboost`, mean over datasets (AUC points)", ">= 0"),
)


def _regime_means(rows: Rows, regime: str, methods: Sequence[str]) -> dict[str, tuple[float, int]] | None:
    """``{method: (mean AUC-ROC over datasets, datasets)}`` on the (dataset, seed) cells all completed."""
    cells = adbench_report._cells(rows, "auc_roc").get(regime, {})
    if not all(m in cells for m in methods):
        return None
    keys = sorted(set.intersection(*(set(cells[m]) for m in methods)))
    if not keys:
        return None
    per = {m: adbench_report._by_dataset(cells[m], keys) for m in methods}
    return {m: (float(np.mean(list(v.values()))), len(v)) for m, v in per.items()}


def label_count_checks(rows: Rows) -> list[Check]:
    """Issue 27: the default does no harm and is at least CatBoost, at 1 and 3 labels and at la 0.1."""
    out: list[Check] = []
    gains = {g["regime"]: g for g in adbench_report.gain_table(rows) if g["method"] == "swift_hydra"}
    for regime in LABEL_REGIMES:
        table = f"ADBench, {regime}"
        gain, means = gains.get(regime), _regime_means(rows, regime, ("swift_hydra", "catboost"))
        if gain is None or means is None:
            out += _missing(table, LABEL_CLAIMS)
            continue
        diff = 100 * gain["diff"]
        vs = 100 * (means["swift_hydra"][0] - means["catboost"][0])
        gain_left_out = _worst_leaving_one_out(rows, regime, "swift_hydra", gain["control"])
        vs_left_out = _worst_leaving_one_out(rows, regime, "swift_hydra", "catboost")
        out += [
            Check(table, LABEL_CLAIMS[0][0], LABEL_CLAIMS[0][1],
                  f"{diff:+.2f}; {gain['harmed']} ({gain['datasets']} datasets{gain_left_out})",
                  diff >= -0.1 and gain["harmed"] <= 2),
            Check(table, LABEL_CLAIMS[1][0], LABEL_CLAIMS[1][1],
                  f"{vs:+.2f} ({means['catboost'][1]} datasets{vs_left_out})", vs >= 0),
        ]  # fmt: skip
    return out


# ----------------------------------------------------------------------------------------------- MoME
MOME_CLAIMS = (
    ("`mome` − `catboost`, la 0.1 (AUC points)", ">= −0.50"),
    ("`mome` − `catboost`, la 1.0 (AUC points)", ">= −0.50"),
    ("`mome` − `devnet`, la 0.1 (AUC points)", ">= 0"),
    ("`mome` fit seconds / `catboost`'s, la 0.1 (same cells)", "<= 3"),
)


def mome_checks(rows: Rows) -> list[Check]:
    """Issue 28: the Mixture of Mamba Experts against CatBoost and DevNet, and what its fit costs."""
    table = "ADBench, MoME"
    pairs = (("la=0.1", "catboost"), ("la=1", "catboost"), ("la=0.1", "devnet"))
    values: list[tuple[str, bool | None]] = []
    for regime, other in pairs:
        means = _regime_means(rows, regime, ("mome", other))
        if means is None:
            values.append(("–", None))
            continue
        vs = 100 * (means["mome"][0] - means[other][0])
        left_out = _worst_leaving_one_out(rows, regime, "mome", other)
        values.append(
            (
                f"{vs:+.2f} ({means[other][1]} datasets{left_out})",
                vs >= (-0.5 if other == "catboost" else 0.0),
            )
        )
    values.append(_fit_cost(rows, "mome", "catboost", limit=3.0))
    return [Check(table, c, t, m, ok) for (c, t), (m, ok) in zip(MOME_CLAIMS, values, strict=True)]


def _worst_leaving_one_out(rows: Rows, regime: str, method: str, other: str) -> str:
    """``"; leaving one out: >= X (without D)"``: the smallest mean difference with one dataset left out.

    The verdict reads the mean over every dataset, as the target says; this says how much of it one
    dataset carries (a set whose test split holds one or two anomalies moves by many points a seed).
    Empty with fewer than three datasets, or when every dataset's difference is the same.
    """
    cells = adbench_report._cells(rows, "auc_roc").get(regime, {})
    keys = sorted(set(cells.get(method, {})) & set(cells.get(other, {})))
    per = {m: adbench_report._by_dataset(cells[m], keys) for m in (method, other)} if keys else {}
    diffs = {d: 100 * (per[method][d] - per[other][d]) for d in per.get(method, {})}
    if len(diffs) < 3 or max(diffs.values()) - min(diffs.values()) < 1e-9:  # none carries more than another
        return ""
    total = sum(diffs.values())
    dataset = max(diffs, key=lambda d: (diffs[d], d))  # leaving out the best dataset gives the worst mean
    return f"; leaving one out: >= {(total - diffs[dataset]) / (len(diffs) - 1):+.2f} (without {dataset})"


def _fit_cost(rows: Rows, method: str, other: str, *, limit: float) -> tuple[str, bool | None]:
    """``method``'s mean fit seconds over ``other``'s at la 0.1 on shared cells, judged against ``limit``."""
    cost = _regime_means([r | {"auc_roc": r.get("fit_seconds", "")} for r in rows], "la=0.1", (method, other))
    if cost is None:
        return "–", None
    ratio = cost[method][0] / cost[other][0]
    return f"{ratio:.2f}x", ratio <= limit


MOME_SPEED_CLAIMS = (
    ("MoME K = 2, 4, 8 batch-1 latency / single `MambaDetector` (largest median)", "<= 0.73"),
    ("MoME K = 8 / K = 1 batch-1 latency (median)", "<= 1.2"),
)


def mome_speed_checks(result: Any) -> list[Check]:
    """Issue 28's speed property, from ``detector_speed.json`` (paired, side-by-side ratios)."""
    table = "detector speed"
    if not isinstance(result, dict) or "summary" not in result:
        return _missing(table, MOME_SPEED_CLAIMS)
    ratios = {e["model"]: e["latency_ratio_to_single"] for e in result["summary"]}
    worst = max((f"MoME K={k}" for k in (2, 4, 8)), key=ratios.__getitem__)
    k8_k1 = result["mome_k8_over_k1"]["median"]
    values = (
        (f"{ratios[worst]:.2f}x ({worst})", ratios[worst] <= 0.73),
        (f"{k8_k1:.2f}x", k8_k1 <= 1.2),
    )
    return [Check(table, c, t, m, ok) for (c, t), (m, ok) in zip(MOME_SPEED_CLAIMS, values, strict=True)]


# ----------------------------------------------------------------------------------------------- unseen
UNSEEN_CLAIMS = (
    ("`swift_hydra` − `catboost`, mean over held-out types (AUC points)", ">= 0"),
    ("`swift_hydra` − control, mean over held-out types (AUC points)", ">= +2.00"),
    ("worst held-out type, `swift_hydra` − control (AUC points)", ">= −1.00"),
)


def _headline(rows: Rows) -> Rows:
    """The unseen table's rows at the headline label fraction (its label-count rows are not judged)."""
    return [r for r in rows if row_regime(r) == HEADLINE_REGIME]


def unseen_checks(rows: Rows, method: str = "swift_hydra") -> list[Check]:
    """The held-out-type targets of ``method``: against CatBoost, against its control, worst type."""
    table = "unseen types"
    rows = _headline(rows)
    auc = unseen_report.type_table(rows)
    control = f"{method}_control"
    if not {method, control, "catboost"} <= set(auc):
        return _missing(table, UNSEEN_CLAIMS)
    mean = unseen_report.MEAN
    vs_catboost = 100 * (auc[method][mean] - auc["catboost"][mean])
    diff = unseen_report.paired_difference(rows, method, control)
    worst_type = min((t for t in diff if t != mean), key=diff.get)
    values = (
        (f"{vs_catboost:+.2f}", vs_catboost >= 0),
        (f"{100 * diff[mean]:+.2f}", 100 * diff[mean] >= 2.0),
        (f"{100 * diff[worst_type]:+.2f} ({worst_type})", 100 * diff[worst_type] >= -1.0),
    )
    return [Check(table, c, t, m, ok) for (c, t), (m, ok) in zip(UNSEEN_CLAIMS, values, strict=True)]


# ----------------------------------------------------------------------------------------------- policies
POLICY_CLAIMS = (
    ("`random`'s mean evasion at the detector's own threshold (`threshold_evasion_rate`)", "< 0.90"),
    ("best RL agent's `final_reward` − `random`'s, paired cells (95% CI)", ">= +5% and CI above 0"),
    ("best policy's mean `auc_gain` (AUC points, 95% CI)", "CI above 0"),
)


def _ok(rows: Rows, algo: str, column: str) -> list[float]:
    return [float(r[column]) for r in rows if r["algo"] == algo and r.get("status") == "ok" and r.get(column)]


def policy_checks(rows: Rows) -> list[Check]:
    """The leaderboard's targets: an unsaturated reward, RL above ``random``, a best policy with value."""
    table = "policy leaderboard"
    evasion = _ok(rows, policies_report.BASELINE, "threshold_evasion_rate")
    if not evasion or not any(r.get("auc_gain") for r in rows):
        return _missing(table, POLICY_CLAIMS)
    values = [(f"{np.mean(evasion):.3f}", bool(np.mean(evasion) < 0.9))]
    rewards = {a: policies_report.reward_gain(rows, a) for a in RL_ALGOS}
    rewards = {a: found for a, found in rewards.items() if found is not None and found[1] > 0}
    if rewards:
        agent = max(rewards, key=lambda a: rewards[a][0].value)
        est, base = rewards[agent]
        share = 100 * est.value / base
        values.append((f"`{agent}`: {share:+.1f}%, {est.format()}", share >= 5.0 and est.low > 0))
    else:
        values.append(("–", None))
    best, gain, _ = policies_report.best_policy(rows, sorted({r["algo"] for r in rows}))
    values.append((f"`{best}`: {gain.format(scale=100.0)}", gain.low > 0))
    return [Check(table, c, t, m, ok) for (c, t), (m, ok) in zip(POLICY_CLAIMS, values, strict=True)]


# ----------------------------------------------------------------------------------------------- value
VALUE_REWARD_CLAIMS = (
    ("within-dataset Spearman of `final_reward` and `auc_gain`", ">= 0.30, p < 0.05"),
    ("best RL agent's `final_reward` − `random`'s, paired cells (95% CI)", "CI above 0"),
    ("best RL agent's `auc_gain` − `random`'s, paired cells (AUC points, 95% CI)", "CI above 0"),
)
VALUE_LOOP = "swift_hydra_value"
VALUE_ADBENCH_CLAIMS = (
    (f"`{VALUE_LOOP}` − control (AUC points); datasets more than 1 point below", ">= −0.10; <= 2"),
    (f"`{VALUE_LOOP}` fit seconds / `swift_hydra`'s, la 0.1 (same cells)", "<= 3"),
)
VALUE_UNSEEN_CLAIMS = ((f"`{VALUE_LOOP}` − control, mean over held-out types (AUC points)", ">= +1.50"),)


def value_reward_checks(rows: Rows) -> list[Check]:
    """Issue 26: under the value reward, reward predicts value and RL earns more of it than ``random``."""
    from benchmarks.rewards_report import gain_vs_random, within_dataset_spearman

    table = "policy leaderboard, value reward"
    found = within_dataset_spearman(rows)
    if found is None:
        return _missing(table, VALUE_REWARD_CLAIMS)
    rho, p, n = found
    budgets = "/".join(sorted({r.get("budget") or "-" for r in rows if r.get("status") == "ok"}))
    values: list[tuple[str, bool | None]] = [
        (f"ρ = {rho:.2f}, p = {p:.2g} ({n} cells, budget `{budgets}`)", rho >= 0.3 and p < 0.05)
    ]
    rewards = {a: policies_report.reward_gain(rows, a) for a in RL_ALGOS}
    rewards = {a: found for a, found in rewards.items() if found is not None}
    if not rewards:
        return [
            *[Check(table, *VALUE_REWARD_CLAIMS[0], *values[0])],
            *_missing(table, VALUE_REWARD_CLAIMS[1:]),
        ]
    agent = max(rewards, key=lambda a: rewards[a][0].value)
    est = rewards[agent][0]
    values.append((f"`{agent}`: {est.format()}", est.low > 0))
    gains = {a: gain_vs_random(rows, a) for a in RL_ALGOS}
    best = max((a for a in gains if gains[a] is not None), key=lambda a: gains[a].value)
    values.append((f"`{best}`: {gains[best].format(scale=100.0)}", gains[best].low > 0))
    return [Check(table, c, t, m, ok) for (c, t), (m, ok) in zip(VALUE_REWARD_CLAIMS, values, strict=True)]


def value_adbench_checks(rows: Rows) -> list[Check]:
    """Issue 26: the value loop does no harm on ADBench at la = 0.1."""
    table = "ADBench, la 0.1, value loop"
    row = next(
        (g for g in adbench_report.gain_table(rows) if g["la"] == HEADLINE_LA and g["method"] == VALUE_LOOP),
        None,
    )
    if row is None:
        return _missing(table, VALUE_ADBENCH_CLAIMS)
    diff = 100 * row["diff"]
    left_out = _worst_leaving_one_out(rows, row["regime"], VALUE_LOOP, row["control"])
    measured = f"{diff:+.2f}; {row['harmed']} ({row['datasets']} datasets{left_out})"
    return [
        Check(table, *VALUE_ADBENCH_CLAIMS[0], measured, diff >= -0.1 and row["harmed"] <= 2),
        Check(table, *VALUE_ADBENCH_CLAIMS[1], *_fit_cost(rows, VALUE_LOOP, "swift_hydra", limit=3.0)),
    ]


def value_unseen_checks(rows: Rows) -> list[Check]:
    """Issue 26: the value loop lifts anomaly types held out of training."""
    table = "unseen types, value loop"
    rows = _headline(rows)
    if not {VALUE_LOOP, "swift_hydra_control"} <= {r["method"] for r in rows}:
        return _missing(table, VALUE_UNSEEN_CLAIMS)
    diff = 100 * unseen_report.paired_difference(rows, VALUE_LOOP, "swift_hydra_control")[unseen_report.MEAN]
    return [Check(table, *VALUE_UNSEEN_CLAIMS[0], f"{diff:+.2f}", diff >= 1.5)]


# ----------------------------------------------------------------------------------------------- generators
GENERATOR_CLAIMS = (
    (
        "(deployment, regime) pairs where some generator beats the control (Wilcoxon p < 0.05, gain > 0)",
        ">= 1",
    ),
)


def generator_checks(rows: Rows) -> list[Check]:
    """Issue 27 (ambitious): somewhere, generated rows beat the no-augmentation control."""
    from benchmarks import generators_report

    table = "generators table"
    entries = generators_report.gain_table(rows)
    if not entries:
        return _missing(table, GENERATOR_CLAIMS)
    paying = sorted(
        {(g["deploy"], g["regime"]) for g in entries if g["gain"] > 0 and g["p_value"] < 0.05},
        key=lambda pair: (pair[0], generators_report._regime_order(pair[1])),
    )
    measured = f"{len(paying)}: " + ", ".join(f"{d} {r}" for d, r in paying) if paying else "0"
    return [Check(table, *GENERATOR_CLAIMS[0], measured, bool(paying))]


# ----------------------------------------------------------------------------------------------- report
TABLES: dict[str, tuple[str, Callable[[Rows], list[Check]]]] = {
    "adbench": ("adbench/adbench_results.csv", adbench_checks),
    "label counts": ("adbench/adbench_results.csv", label_count_checks),
    "mome": ("adbench/adbench_results.csv", mome_checks),
    "mome speed": ("detector_speed.json", mome_speed_checks),
    "unseen": ("unseen/unseen_results.csv", unseen_checks),
    "policies": ("policies/policies_results.csv", policy_checks),
    "generators": ("generators", generator_checks),
    "value reward": ("policies/value/policies_results.csv", value_reward_checks),
    "value loop, ADBench": ("adbench/adbench_results.csv", value_adbench_checks),
    "value loop, unseen": ("unseen/unseen_results.csv", value_unseen_checks),
}


def checks(results: Path) -> list[Check]:
    """Every target, judged on the CSVs under ``results`` (a missing CSV gives "no data")."""
    from benchmarks.report import load_rows

    out: list[Check] = []
    loaded: dict[Path, Rows] = {}
    for relative, judge in TABLES.values():
        path = Path(results) / relative
        if path.is_dir() and path not in loaded:  # a folder of runner CSVs (the generators table)
            from benchmarks.generators_report import load

            loaded[path] = load(path)
        elif path.suffix == ".json" and path.is_file() and path not in loaded:
            loaded[path] = json.loads(path.read_text())
        elif path.is_file() and path not in loaded:
            loaded[path] = load_rows(path)
        out += judge(loaded.get(path, []))
    return out


def variant_lines(results: Path) -> list[str]:
    """The two paired gains of every Swift Hydra method the ADBench and unseen tables both hold."""
    from benchmarks.report import load_rows

    paths = [Path(results) / TABLES[name][0] for name in ("adbench", "unseen")]
    if not all(p.is_file() for p in paths):
        return []
    adbench_rows, unseen_rows = (load_rows(p) for p in paths)
    unseen_rows = _headline(unseen_rows)
    gains = {g["method"]: g for g in adbench_report.gain_table(adbench_rows) if g["la"] == HEADLINE_LA}
    pairs = dict(unseen_report.control_pairs(unseen_report.type_table(unseen_rows)))
    lines = [
        "## Every Swift Hydra method against its control",
        "",
        "The targets above judge the default, `swift_hydra`; the opt-in methods are read with the same functions.",
        "",
        "| method | ADBench la 0.1: gain (AUC points) | datasets harmed | unseen: gain, mean over types | worst type |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for method in sorted(set(gains) & set(pairs)):
        diff = unseen_report.paired_difference(unseen_rows, method, pairs[method])
        worst = min((t for t in diff if t != unseen_report.MEAN), key=diff.get)
        lines.append(
            f"| {method} | {100 * gains[method]['diff']:+.2f} | {gains[method]['harmed']} "
            f"| {100 * diff[unseen_report.MEAN]:+.2f} | {100 * diff[worst]:+.2f} ({worst}) |"
        )
    return [*lines, ""]


def markdown(found: Sequence[Check], *, command: str, commit: str, extra: Sequence[str] = ()) -> str:
    """The scorecard page: a line per target, a count of the verdicts, then ``extra`` lines."""
    lines = [
        "# Swift Hydra's claims, checked against the committed tables",
        "",
        f"- Command: `{command}`",
        f"- Commit: `{commit}`",
        "- Every figure is computed from the runners' CSVs by `benchmarks.claims`, with the functions their "
        "summaries use; read each summary for the method, budget and cells behind it.",
        "",
        "| table | claim | target | measured | verdict |",
        "| --- | --- | --- | --- | --- |",
        *(f"| {c.table} | {c.claim} | {c.target} | {c.measured} | {c.verdict} |" for c in found),
        "",
    ]
    counts = {v: sum(c.verdict == v for c in found) for v in ("met", "not met", "no data")}
    lines += ["Verdicts: " + ", ".join(f"{n} {v}" for v, n in counts.items()) + ".", "", *extra]
    return "\n".join(lines).rstrip("\n") + "\n"


def main(argv: list[str] | None = None) -> int:
    """``python -m benchmarks.claims [--results DIR] [--out FILE]``; a missing folder exits with code 2."""
    argv = sys.argv[1:] if argv is None else list(argv)
    prog = invoked_as("benchmarks.claims")
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", type=Path, default=RESULTS, help="folder holding the runners' CSVs")
    parser.add_argument("--out", type=Path, default=None, help=f"markdown file (default: RESULTS/{OUT_FILE})")
    args = parser.parse_args(argv)
    if not args.results.is_dir():
        parser.exit(2, f"{parser.prog}: error: no results folder at {args.results}\n")
    out = args.out or args.results / OUT_FILE
    command = " ".join([prog, *argv])
    text = markdown(
        checks(args.results), command=command, commit=git_commit(), extra=variant_lines(args.results)
    )
    atomic_write(out, lambda p: Path(p).write_text(text))
    print(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
