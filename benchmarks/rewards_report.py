"""One leaderboard per env reward, side by side: does the reward an agent maximises predict what its rows are worth?

The policy leaderboard (:mod:`benchmarks.policies`) records one reward per results folder (the
``env_kwargs`` column; empty = the paper's default reward). Given several folders' CSVs, this writes
``rewards_summary.md``: per reward, the within-dataset and pooled Spearman correlation of
``final_reward`` with ``auc_gain``; each agent's paired difference to ``random`` in reward and in
``auc_gain`` (stratified-bootstrap 95% CIs, :mod:`benchmarks.rl_stats`); the best policy's ``auc_gain``
with its CI and the Bonferroni interval that pays for picking it; and, in words, whether RL beats
``random`` on ``auc_gain`` under that reward.

    python -m benchmarks.rewards_report benchmarks/results/policies/policies_results.csv \\
        benchmarks/results/policies/value/policies_results.csv --out benchmarks/results/policies
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import rl_stats
from benchmarks.common import atomic_write, git_commit
from benchmarks.policies_report import BASELINE, BOOTSTRAP_SEED, _paired, best_policy_line, reward_gain

SUMMARY_FILE = "rewards_summary.md"
PAPER_REWARD = "paper (miss + novelty + entropy)"


def reward_name(row: dict[str, str]) -> str:
    """The reward a row was measured under: its ``env_kwargs`` (empty: the paper's default reward)."""
    return row.get("env_kwargs") or PAPER_REWARD


def within_dataset_spearman(rows: Sequence[dict[str, str]]) -> tuple[float, float, int] | None:
    """Spearman rho and p of ``final_reward`` vs ``auc_gain`` with each (dataset, regime)'s means removed.

    The same statistic as the leaderboard summary's "within datasets" line, so the two agree.
    """
    from scipy.stats import spearmanr

    groups: dict[tuple[str, str, str], list[tuple[float, float]]] = {}
    for r in rows:
        if (
            r.get("status") == "ok"
            and r.get("final_reward") not in (None, "")
            and r.get("auc_gain") not in (None, "")
        ):
            key = (r["dataset"], r.get("la", ""), r.get("n_labeled", ""))
            groups.setdefault(key, []).append((float(r["final_reward"]), float(r["auc_gain"])))
    centred = [np.asarray(v) - np.mean(v, axis=0) for v in groups.values() if len(v) > 1]
    if not centred:
        return None
    both = np.vstack(centred)
    if len(both) < 3 or np.ptp(both[:, 0]) == 0 or np.ptp(both[:, 1]) == 0:
        return None
    rho, p = spearmanr(both[:, 0], both[:, 1])
    return float(rho), float(p), len(both)


def gain_vs_random(
    rows: Sequence[dict[str, str]], algo: str, level: float = rl_stats.DEFAULT_LEVEL
) -> rl_stats.Estimate | None:
    """``auc_gain`` of ``algo`` minus ``random``'s on the same (dataset, regime, seed) cells: mean, CI."""
    x, y = _paired(rows, algo, BASELINE, "auc_gain")
    return rl_stats.paired_difference_ci(x, y, level=level, seed=BOOTSTRAP_SEED) if x else None


def rl_beats_random_line(rows: Sequence[dict[str, str]], rl: Sequence[str]) -> str:
    """Does RL beat ``random`` on ``auc_gain``? In words, with each 95% CI above 0 and its corrected interval.

    Asking it of k agents is k tests: an agent's CI at the Bonferroni level ``1 - 0.05 / k`` says whether
    the answer survives having asked k times.
    """
    question = f"- Does RL beat `{BASELINE}` on AUC gain under this reward? "
    beats = [(a, est) for a in rl if (est := gain_vs_random(rows, a)) is not None and est.low > 0]
    if not beats:
        return (
            question
            + f"No: no RL agent's paired AUC-gain CI against `{BASELINE}` lies above 0 (table above)."
        )
    level = 1.0 - (1.0 - rl_stats.DEFAULT_LEVEL) / len(rl)
    parts = []
    for algo, est in beats:
        corrected = gain_vs_random(rows, algo, level=level)
        verdict = "above 0" if corrected.low > 0 else "contains 0"
        parts.append(
            f"`{algo}`, {est.format(scale=100.0)} points (paired 95% CI above 0; the {100 * level:.3g}% CI, "
            f"Bonferroni over the {len(rl)} RL agents, is [{100 * corrected.low:.3g}, "
            f"{100 * corrected.high:.3g}]: {verdict})"
        )
    return question + "Yes: " + "; ".join(parts) + "."


def _fmt(est: rl_stats.Estimate | None, scale: float = 1.0) -> str:
    return "–" if est is None else est.format(scale=scale)


def reward_section(reward: str, rows: Sequence[dict[str, str]]) -> list[str]:
    """Markdown for the rows of one reward."""
    algos = sorted({r["algo"] for r in rows}, key=lambda a: (a != BASELINE, a))
    datasets, seeds = {r["dataset"] for r in rows}, {r["seed"] for r in rows}
    lines = [
        f"## Reward: `{reward}`",
        "",
        f"{len(rows)} cells, {len(datasets)} datasets x {len(seeds)} seeds.",
        "",
    ]
    found = within_dataset_spearman(rows)
    if found is not None:
        rho, p, n = found
        lines.append(
            f"- Within-dataset Spearman of `final_reward` and `auc_gain`: ρ = {rho:.2f} (p = {p:.2g}, {n} cells)."
        )
    lines += [
        "",
        f"| algo | cells | Δ final reward vs {BASELINE} | Δ AUC gain vs {BASELINE} (points) |",
        "| --- | ---: | ---: | ---: |",
    ]
    for algo in algos:
        n = sum(1 for r in rows if r["algo"] == algo and r.get("status") == "ok")
        if algo == BASELINE:
            lines.append(f"| {algo} | {n} | – | – |")
            continue
        reward_diff = reward_gain(rows, algo)
        gain = gain_vs_random(rows, algo)
        lines.append(
            f"| {algo} | {n} | {_fmt(reward_diff[0] if reward_diff else None)} | {_fmt(gain, 100.0)} |"
        )
    lines.append("")
    best_line = best_policy_line(rows, algos)
    if best_line is not None:
        lines.append(best_line)
    rl = [a for a in algos if a not in (BASELINE, "gradient")]
    best_rl = max(
        rl, key=lambda a: reward_gain(rows, a)[0].value if reward_gain(rows, a) else -np.inf, default=None
    )
    if best_rl is not None and reward_gain(rows, best_rl) is not None:
        est = reward_gain(rows, best_rl)[0]
        verdict = "above 0" if est.low > 0 else ("below 0" if est.high < 0 else "contains 0")
        lines.append(
            f"- The RL agent with the most reward, `{best_rl}`, earns {est.format()} more `final_reward` than "
            f"`{BASELINE}` (paired 95% CI, {verdict})."
        )
    lines.append(rl_beats_random_line(rows, rl))
    return [*lines, ""]


def _protocol(rows: Sequence[dict[str, Any]]) -> str:
    def values(column: str) -> str:
        return "/".join(sorted({str(r.get(column) or "-") for r in rows}))

    n_sets, n_seeds = len({r["dataset"] for r in rows}), len({r["seed"] for r in rows})
    return (
        f"budget `{values('budget')}`, deployment `{values('deploy')}`, fits per side: "
        f"{values('deploy_repeats')}, {n_sets} datasets x {n_seeds} seeds"
    )


def protocol_line(by_reward: dict[str, list[dict[str, Any]]]) -> str:
    """What each reward's rows were measured under; "the same for every reward" only when it is.

    Budget, deployment, fits per side and the datasets x seeds, read off the rows (see each folder's
    ``policies_summary.md`` for the rest), so a comparison across rewards says when it is not like with like.
    """
    protocols = {reward: _protocol(rows) for reward, rows in by_reward.items()}
    if len(set(protocols.values())) == 1:
        return f"- The same protocol for every reward: {next(iter(protocols.values()))}."
    each = "; ".join(f"`{reward}`: {protocol}" for reward, protocol in protocols.items())
    return f"- **The rewards' rows were measured under different protocols**: {each}."


def write_rewards_summary(rows: Sequence[dict[str, str]], out: str | Path, *, command: str) -> Path:
    """Writes ``rewards_summary.md`` (one section per reward) under ``out``; returns its path."""
    by_reward: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        if r.get("status") == "ok":
            by_reward.setdefault(reward_name(r), []).append(dict(r))
    lines = [
        "# The policy leaderboard by env reward",
        "",
        f"- Command: `{command}`",
        f"- Commit: `{git_commit()}`",
        f"- Generated: {datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}",
        protocol_line(by_reward),
        f"- CIs: stratified bootstrap over datasets x seeds, {rl_stats.DEFAULT_REPS} replicates. `auc_gain`: "
        "deployment minus the no-augmentation control, test split; `final_reward`: the run's own reward, so "
        "rewards are not comparable with each other.",
        "",
    ]
    for reward, mine in by_reward.items():
        lines += reward_section(reward, mine)
    path = Path(out) / SUMMARY_FILE
    atomic_write(path, lambda p: Path(p).write_text("\n".join(lines)))
    return path


def main(argv: list[str] | None = None) -> int:
    from benchmarks.report import load_rows

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("csvs", nargs="+", type=Path, help="policies_results.csv files, one per reward")
    parser.add_argument("--out", type=Path, required=True, help="folder of rewards_summary.md")
    args = parser.parse_args(argv)
    missing = [str(p) for p in args.csvs if not p.is_file()]
    if missing:
        parser.error(f"no such results CSV: {', '.join(missing)}")
    rows = [row for path in args.csvs for row in load_rows(path)]
    command = "python -m benchmarks.rewards_report " + " ".join(map(str, args.csvs)) + f" --out {args.out}"
    print(write_rewards_summary(rows, args.out, command=command))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
