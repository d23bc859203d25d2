"""The generators table: every generator against its paired no-augmentation control, by label regime.

    python -m benchmarks.generators_report benchmarks/results/generators

reads every ``policies_results.csv`` under the folder (one ``benchmarks.policies`` run per deployment
detector, gate off, so the table measures the rows and not the gate) and writes
``generators_summary.md`` and ``generators_gain.png`` there.

Per (deployment, label regime, generator): the paired AUC-ROC gain ``auc_gain`` (the deployment fitted
with the generator's kept rows minus the same detector without them, same split and seeds), seeds
averaged per dataset first; the mean over datasets with a percentile-bootstrap 95% CI over datasets;
wins/ties/losses (ties within 0.1 point); a two-sided Wilcoxon signed-rank p over datasets; the
datasets harmed by more than one point. Then the best generator per (deployment, regime), each RL
agent's rank among the generators, and the **oracle** that picks the best generator per dataset *on
the test split*: an upper bound no rule can claim, shown so the room is visible.
"""

from __future__ import annotations

import argparse
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from benchmarks import rl_stats
from benchmarks.common import atomic_write, row_regime

SUMMARY_FILE = "generators_summary.md"
PLOT_FILE = "generators_gain.png"
RESULTS_FILE = "policies_results.csv"
TIE = 0.001
HARM = 0.01
RL_AGENTS = frozenset({"ppo", "sac", "td3", "a2c", "ddpg", "tqc"})

Rows = Iterable[Mapping[str, str]]


def _regime_order(regime: str) -> tuple[int, float]:
    kind, _, value = regime.partition("=")
    return (0 if kind == "K" else 1, float(value))


def generator_name(row: Mapping[str, str]) -> str:
    """The row's algo, with the env reward it was trained on when that is not the default (``ppo [value:1]``)."""
    import json

    kwargs = json.loads(row.get("env_kwargs") or "{}")
    weights = kwargs.get("reward_weights")
    if not weights:
        return row["algo"]
    if isinstance(weights, dict):
        weights = ",".join(f"{k}:{v:g}" for k, v in weights.items())
    return f"{row['algo']} [{weights}]"


def gains_by_dataset(rows: Rows) -> dict[tuple[str, str, str], dict[str, float]]:
    """``{(deploy, regime, algo): {dataset: mean auc_gain over seeds}}`` of the ``ok`` rows."""
    cells: dict[tuple[str, str, str], dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        if row.get("status") == "ok" and row.get("auc_gain") not in (None, ""):
            key = (row.get("deploy") or "catboost", row_regime(row), generator_name(row))
            cells[key][row["dataset"]].append(float(row["auc_gain"]))
    return {key: {d: float(np.mean(v)) for d, v in per.items()} for key, per in cells.items()}


def gain_table(rows: Rows) -> list[dict]:
    """One dict per (deployment, regime, generator), sorted; see the module docstring."""
    from scipy.stats import wilcoxon

    out = []
    for (deploy, regime, algo), per in gains_by_dataset(rows).items():
        diff = np.array([per[d] for d in sorted(per)])
        ci = rl_stats.mean_ci([diff]) if len(diff) > 1 else None
        out.append({
            "deploy": deploy, "regime": regime, "algo": algo, "datasets": len(diff),
            "gain": float(diff.mean()), "low": ci.low if ci else float("nan"), "high": ci.high if ci else float("nan"),
            "wins": int(np.sum(diff > TIE)), "ties": int(np.sum(np.abs(diff) <= TIE)), "losses": int(np.sum(diff < -TIE)),
            "p_value": float(wilcoxon(diff).pvalue) if np.any(np.abs(diff) > TIE) else float("nan"),
            "harmed": int(np.sum(diff < -HARM)),
        })  # fmt: skip
    return sorted(out, key=lambda g: (g["deploy"], _regime_order(g["regime"]), -g["gain"]))


def oracle(rows: Rows) -> dict[tuple[str, str], tuple[float, int]]:
    """``{(deploy, regime): (mean over datasets of the best generator's gain, datasets)}``: picked on test."""
    best: dict[tuple[str, str], dict[str, float]] = defaultdict(dict)
    for (deploy, regime, _), per in gains_by_dataset(rows).items():
        for dataset, gain in per.items():
            key = (deploy, regime)
            best[key][dataset] = max(gain, best[key].get(dataset, -math.inf))
    return {key: (float(np.mean(list(per.values()))), len(per)) for key, per in best.items()}


def _fmt(value: float, spec: str = "+.2f", scale: float = 100.0) -> str:
    return "–" if not math.isfinite(value) else format(scale * value, spec)


def _group_lines(
    deploy: str, regime: str, entries: Sequence[dict], upper: tuple[float, int] | None
) -> list[str]:
    lines = [
        f"### {deploy}, {regime.replace('=', ' = ')}", "",
        "| generator | gain (points) | 95% CI | wins | ties | losses | Wilcoxon p | harmed | datasets |",
        "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]  # fmt: skip
    for g in entries:
        lines.append(
            f"| {g['algo']} | {_fmt(g['gain'])} | [{_fmt(g['low'])}, {_fmt(g['high'])}] | {g['wins']} | {g['ties']} "
            f"| {g['losses']} | {_fmt(g['p_value'], '.3g', 1.0)} | {g['harmed']} | {g['datasets']} |"
        )
    best = entries[0]
    significant = math.isfinite(best["p_value"]) and best["p_value"] < 0.05 and best["gain"] > 0
    lines += ["", f"Best generator: **{best['algo']}** ({_fmt(best['gain'])} points; "
              f"{'Wilcoxon p < 0.05' if significant else 'not significant at p < 0.05'})."]  # fmt: skip
    ranks = [
        f"{g['algo']} {i + 1} of {len(entries)}"
        for i, g in enumerate(entries)
        if g["algo"].split(" ")[0] in RL_AGENTS
    ]
    if ranks:
        lines.append(f"RL agents' rank by mean gain: {', '.join(ranks)}.")
    if upper is not None:
        lines.append(
            f"Oracle (the best generator per dataset, picked on test: an upper bound, not a method): "
            f"{_fmt(upper[0])} points over {upper[1]} datasets."
        )
    return [*lines, ""]


def markdown(rows: Rows, command: str = "", commit: str = "") -> str:
    """The summary's text."""
    rows = list(rows)
    table, upper = gain_table(rows), oracle(rows)
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for g in table:
        groups[(g["deploy"], g["regime"])].append(g)
    seeds = sorted({r["seed"] for r in rows}, key=int)
    lines = [
        "# Generators against their paired control, by number of labels", "",
        f"- Command(s): `{command}`" if command else "- Command(s): see `*/policies_commands.txt`",
        f"- Commit: `{commit}`" if commit else "- Commit: see each CSV's `commit` column",
        f"- Generated: {datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- Datasets: {', '.join(sorted({r['dataset'] for r in rows}))}; seeds: {' '.join(seeds)}; "
        f"budget: {', '.join(sorted({r['budget'] for r in rows}))}; gate off",
        "- Gain: AUC-ROC of the deployment fitted with the generator's kept rows minus the same detector "
        "without them (the policies runner's `auc_gain`), seeds averaged per dataset, then datasets; CI: "
        "percentile bootstrap over datasets; harmed: datasets more than 1 point below the control.", "",
    ]  # fmt: skip
    for (deploy, regime), entries in sorted(
        groups.items(), key=lambda kv: (kv[0][0], _regime_order(kv[0][1]))
    ):
        lines += _group_lines(deploy, regime, entries, upper.get((deploy, regime)))
    lines += [f"![gain by number of labels]({PLOT_FILE})", ""]
    return "\n".join(lines)


def plot(rows: Rows, path: Path) -> Path | None:
    """Mean gain against the label regime, one line per generator, one panel per deployment."""
    table = gain_table(rows)
    if not table:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    deploys = sorted({g["deploy"] for g in table})
    regimes = sorted({g["regime"] for g in table}, key=_regime_order)
    fig, axes = plt.subplots(1, len(deploys), figsize=(5.5 * len(deploys), 4), squeeze=False)
    for ax, deploy in zip(axes[0], deploys, strict=True):
        for algo in sorted({g["algo"] for g in table if g["deploy"] == deploy}):
            by_regime = {g["regime"]: g["gain"] for g in table if g["deploy"] == deploy and g["algo"] == algo}
            xs = [i for i, r in enumerate(regimes) if r in by_regime]
            ax.plot(xs, [100 * by_regime[regimes[i]] for i in xs], marker="o", label=algo)
        ax.axhline(0.0, color="grey", lw=0.8)
        ax.set_xticks(range(len(regimes)), regimes)
        ax.set_title(f"deployment: {deploy}")
        ax.set_ylabel("AUC-ROC gain over the control (points)")
        ax.grid(alpha=0.3)
    axes[0][-1].legend(fontsize=8)
    fig.tight_layout()
    atomic_write(path, lambda p: fig.savefig(p, dpi=110, format="png"))
    plt.close(fig)
    return path


def load(folder: Path) -> list[dict[str, str]]:
    """The trusted rows of every ``policies_results.csv`` under ``folder``."""
    from benchmarks.report import load_rows

    return [row for path in sorted(Path(folder).rglob(RESULTS_FILE)) for row in load_rows(path)]


def write(folder: Path, command: str = "", commit: str = "") -> Path:
    """Writes the summary and the plot into ``folder``; returns the summary's path."""
    rows = load(folder)
    plot(rows, Path(folder) / PLOT_FILE)
    path = Path(folder) / SUMMARY_FILE
    text = markdown(rows, command, commit)
    atomic_write(path, lambda p: Path(p).write_text(text + "\n"))
    return path


def main(argv: list[str] | None = None) -> int:
    """``python -m benchmarks.generators_report FOLDER``."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("folder", type=Path, help="folder holding one policies_results.csv per deployment")
    args = parser.parse_args(argv)
    if not any(args.folder.rglob(RESULTS_FILE)):
        parser.exit(2, f"{parser.prog}: error: no {RESULTS_FILE} under {args.folder}\n")
    from benchmarks.common import git_commit

    print(f"summary: {write(args.folder, commit=git_commit())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
