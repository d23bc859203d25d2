"""Generation-policy leaderboard: which policy synthesizes the anomalies that help the detector most?

    python -m benchmarks.policies --algos ppo,sac,td3,random,gradient --datasets wdbc,wine --seeds 1 2 3 \\
        --la 0.1 --budget small --out benchmarks/results/policies
    swift-hydra bench policies ...            # the same, through the console script

Every (dataset, seed, algo) cell runs the closed Swift Hydra loop (:func:`agents.loop.swift_hydra_loop`,
with the agent settings of ``swift-hydra train``: budget defaults < packaged rl-zoo3 yaml) on the
ADBench split ``adbench_split(X, y, la, seed)`` and records:

* ``evasion_rate``: share of ``candidates_per_round`` fresh samples of the *final* policy that the
  *frozen reference detector* misses (P(anomaly) < 0.5). The reference is the in-loop detector right
  after pre-training, before any synthetic anomaly (read back from the loop's round-0 checkpoint), so
  every algo of a (dataset, seed) faces the very same detector. ``kept_evasion_rate``: the same on every
  kept synthetic anomaly (what augments the training set); ``final_detector_evasion_rate``: the fresh
  samples against the in-loop detector after the last round (does the policy still fool the adapted one?).
* Diversity of the fresh samples, in the MinMax-scaled feature space: ``entropy_gain`` is the mean
  :class:`hydra_env.rewards.KNNEntropyGain` (k = the env's ``entropy_k``) of each sample against the
  real labeled anomalies of the training split (``log 2`` = at their typical spacing, 0 = a copy);
  ``pairwise_distance`` is the mean Euclidean distance between two samples divided by
  ``sqrt(n_features)`` (in [0, 1], comparable across datasets); ``distinct_fraction`` is the share of
  distinct rows (1 = no mode collapse).
* ``auc_gain``: test AUC-ROC of the deployment detector minus that of the no-augmentation control
  (:func:`agents.loop.fit_deployment_control`: same split, same detector, no synthetic anomalies). The
  control depends only on (dataset, la, seed, budget), so a process computes it once and reuses it.
* ``wall_seconds``: the Swift Hydra side of the cell (loop with its round checkpoints, deployment
  detector, fresh generation, metrics), without the shared control (``control_seconds``).

``policies_results.csv`` is rewritten atomically after every cell: a rerun skips finished cells (failed
ones too, unless ``--retry-failed``) and a failing cell is recorded as ``status=failed``. The script then
writes ``policies_summary.md`` (leaderboard: mean ± std over datasets and seeds, mean ranks, the exact
command and commit) and ``policies_leaderboard.png``.
"""

from __future__ import annotations

import argparse
import functools
import math
import shlex
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import ray_backend
from benchmarks.common import ResultStore, add_run_arguments, atomic_write, comma_list, git_commit, invoked_as
from benchmarks.sweep import SweepCell, build_backend, make_cells, run_sweep

RESULTS_FILE = "policies_results.csv"
SUMMARY_FILE = "policies_summary.md"
PLOT_FILE = "policies_leaderboard.png"
DEFAULT_ALGOS = ("ppo", "sac", "td3", "random", "gradient")
DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "policies"
EVASION_THRESHOLD = 0.5  # a sample "evades" when the detector's P(anomaly) is below this
COLUMNS = (
    "dataset", "algo", "la", "seed", "budget", "status", "evasion_rate", "miss_probability",
    "threshold_evasion_rate", "kept_evasion_rate", "final_detector_evasion_rate", "entropy_gain",
    "pairwise_distance", "distinct_fraction", "auc_roc", "control_auc_roc", "auc_gain", "auc_pr",
    "control_auc_pr", "n_generated", "n_kept", "n_train", "n_test", "n_features", "n_labeled_anomalies",
    "wall_seconds", "control_seconds", "deterministic", "commit", "error",
)  # fmt: skip
KEY_COLUMNS = ("dataset", "algo", "la", "seed", "budget")
# Leaderboard metrics: (column, header, higher is better, shown as AUC points).
METRICS = (
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

# evaluate(cell, data_dir, deterministic, device) -> the cell's metric columns (raises on failure)
EvaluateFn = Callable[[SweepCell, str | None, bool, str], dict[str, Any]]


# ----------------------------------------------------------------------------------------------- metrics
def anomaly_proba(detector: Any, X: np.ndarray) -> np.ndarray:
    """The detector's P(anomaly) of each row of ``X`` (its public ``predict_proba``, column 1)."""
    if len(X) == 0:
        return np.zeros(0)
    return np.asarray(detector.predict_proba(np.asarray(X, dtype=np.float64)))[:, 1]


def evasion_rate(detector: Any, X: np.ndarray, threshold: float = EVASION_THRESHOLD) -> float | None:
    """Share of the rows of ``X`` the detector misses (``P(anomaly) < threshold``); ``None`` when empty."""
    return float(np.mean(anomaly_proba(detector, X) < threshold)) if len(X) else None


def evasion_metrics(detector: Any, X: np.ndarray) -> dict[str, float | None]:
    """How well the rows of ``X`` evade ``detector`` (``None`` for every metric when ``X`` is empty).

    Returns:
        ``evasion_rate`` (P(anomaly) < 0.5), ``miss_probability`` (mean 1 - P(anomaly): it keeps ranking
        policies when the rate saturates at 1) and ``threshold_evasion_rate`` (share labeled normal by
        ``detector.predict``, i.e. at its own ``threshold_``, which flags its top labeled-anomaly share
        of training rows).
    """
    if len(X) == 0:
        return {"evasion_rate": None, "miss_probability": None, "threshold_evasion_rate": None}
    proba = anomaly_proba(detector, X)
    return {
        "evasion_rate": float(np.mean(proba < EVASION_THRESHOLD)),
        "miss_probability": float(np.mean(1.0 - proba)),
        "threshold_evasion_rate": float(np.mean(detector.predict(np.asarray(X, dtype=np.float64)) == 0)),
    }


def diversity(X: np.ndarray, anomalies: np.ndarray, k: int = 3) -> dict[str, float | None]:
    """Diversity of generated rows ``X`` (n, d) in the scaled feature space (see the module docstring).

    Returns:
        ``entropy_gain`` (mean k-NN entropy gain against ``anomalies``), ``pairwise_distance`` (mean
        pairwise Euclidean distance / sqrt(d); ``None`` below two rows) and ``distinct_fraction``.
    """
    import torch

    from hydra_env.rewards import KNNEntropyGain

    if len(X) == 0:
        return {"entropy_gain": None, "pairwise_distance": None, "distinct_fraction": None}
    x = torch.as_tensor(np.asarray(X, dtype=np.float32))
    with torch.inference_mode():
        gain = float(KNNEntropyGain(anomalies, k=k)(x).mean())
        pairwise = float(torch.pdist(x).mean()) / math.sqrt(x.shape[1]) if len(x) > 1 else None
    distinct = len(np.unique(np.round(X, 6), axis=0)) / len(X)
    return {"entropy_gain": gain, "pairwise_distance": pairwise, "distinct_fraction": distinct}


@functools.lru_cache(maxsize=4)
def _split(dataset: str, data_dir: str | None, la: float, seed: int) -> Any:
    from hydra_env import datasets

    X, y = datasets.load(dataset, data_dir=data_dir)
    return datasets.adbench_split(X, y, la, seed, name=dataset)


@functools.lru_cache(maxsize=16)
def _control(dataset: str, data_dir: str | None, la: float, seed: int, budget: Any, device: str) -> dict:
    """Test metrics of the no-augmentation control; identical for every algo, so computed once."""
    from agents.loop import auc_scores, fit_deployment_control

    split = _split(dataset, data_dir, la, seed)
    started = time.perf_counter()
    control = fit_deployment_control(split.X_train, split.y_train, budget=budget, seed=seed, device=device)
    scores = auc_scores(split.y_test, control.decision_function(split.X_test))
    return {
        "control_auc_roc": scores["auc_roc"],
        "control_auc_pr": scores["auc_pr"],
        "control_seconds": time.perf_counter() - started,
    }


def agent_settings(algo: str, budget: str) -> tuple[Any, dict[str, Any]]:
    """Budget and agent kwargs exactly as ``swift-hydra train`` resolves them (packaged yaml included)."""
    from agents.config import TrainConfig, default_hyperparams_file, read_hyperparams
    from agents.experiment import resolve_agent_settings
    from agents.registry import SB3_ALGOS

    hp_file = default_hyperparams_file(algo)
    raw = read_hyperparams(hp_file) if hp_file and algo in SB3_ALGOS else {}
    return resolve_agent_settings(TrainConfig(algo=algo, budget=budget), raw)


def evaluate_policy(
    cell: SweepCell, data_dir: str | None, deterministic: bool = False, device: str = "cpu"
) -> dict[str, Any]:
    """Runs one cell (loop, frozen reference, fresh generation, control); returns its metric columns.

    Raises:
        Whatever the data loading or the loop raises (the cell function records it as a failure).
    """
    import stable_baselines3  # noqa: F401  (imported before the clock starts: the first cell pays no import)

    from agents.checkpoint import latest_checkpoint, load_checkpoint
    from agents.loop import auc_scores, seed_round, swift_hydra_loop
    from hydra_env import EnvConfig

    split = _split(cell.dataset, data_dir, cell.la, cell.seed)
    budget, algo_kwargs = agent_settings(cell.algo, cell.budget)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="swift-hydra-policies-") as run_dir:
        reference: dict[str, Any] = {}

        def keep_reference(metrics: dict[str, Any]) -> None:
            # Round 0 is checkpointed right after pre-training: that detector, frozen, is the reference.
            if metrics.get("round") == 0:
                reference["detector"] = load_checkpoint(latest_checkpoint(run_dir), device=device).detector

        result = swift_hydra_loop(
            split.X_train, split.y_train, algo=cell.algo, budget=budget, seed=cell.seed,
            algo_kwargs=algo_kwargs, deterministic=deterministic, run_dir=run_dir,
            on_round_end=keep_reference, device=device,
        )  # fmt: skip
    if "detector" not in reference:
        raise RuntimeError("the loop did not report its round-0 checkpoint; no reference detector")
    frozen = reference["detector"]
    generated = np.zeros((0, split.X_train.shape[1]), dtype=np.float32)
    if result.policy is not None:
        result.policy.reseed(seed_round(cell.seed, budget.rounds + 2))  # a fresh, seeded draw
        generated, _ = result.policy.generate(budget.candidates_per_round, deterministic=deterministic)
    test = auc_scores(split.y_test, result.detector.decision_function(split.X_test))
    anomalies = split.X_train[np.asarray(split.y_train) == 1]
    row = {
        **evasion_metrics(frozen, generated),
        "kept_evasion_rate": evasion_rate(frozen, result.kept_X),
        "final_detector_evasion_rate": evasion_rate(result.loop_detector, generated),
        **diversity(generated, anomalies, k=EnvConfig().entropy_k),
        "auc_roc": test["auc_roc"],
        "auc_pr": test["auc_pr"],
        "n_generated": len(generated),
        "n_kept": len(result.kept_X),
        "n_train": len(split.y_train),
        "n_test": len(split.y_test),
        "n_features": split.X_train.shape[1],
        "n_labeled_anomalies": int(np.sum(split.y_train == 1)),
        "deterministic": deterministic,
    }
    row["wall_seconds"] = time.perf_counter() - started
    row |= _control(cell.dataset, data_dir, cell.la, cell.seed, budget, device)
    if row["auc_roc"] is not None and row["control_auc_roc"] is not None:
        row["auc_gain"] = row["auc_roc"] - row["control_auc_roc"]
    return row


def policy_cell_fn(
    data_dir: str | None, commit: str = "", *, deterministic: bool = False, device: str = "cpu",
    evaluate: EvaluateFn | None = None,
) -> Callable[[SweepCell], dict[str, Any]]:  # fmt: skip
    """The function a backend runs per cell: its CSV row, ``status=failed`` with the error if it raised."""
    evaluate = evaluate or evaluate_policy

    def fn(cell: SweepCell) -> dict[str, Any]:
        base = cell.row() | {"commit": commit, "deterministic": deterministic}
        try:
            return base | evaluate(cell, data_dir, deterministic, device) | {"status": "ok"}
        except Exception as err:  # one failing cell must not stop the leaderboard
            return base | {"status": "failed", "error": ray_backend.error_text(err)}

    return fn


# ----------------------------------------------------------------------------------------------- report
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
            blocks.setdefault((r["dataset"], r["la"], r["seed"]), {})[r["algo"]] = float(r[column])
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
    "- AUC-ROC gain: deployment detector minus the no-augmentation control, test split, AUC points. "
    "Wall s: the Swift Hydra side of a cell (loop with round checkpoints, deployment detector, "
    "generation), control excluded; the first cell of a process also pays a one-off torch warm-up.",
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
    datasets, las = sorted({r["dataset"] for r in rows}), sorted({r["la"] for r in rows})
    seeds = sorted({r["seed"] for r in rows}, key=int)
    lines = [
        "# Generation-policy leaderboard", "", f"- Command: `{command}`", f"- Commit: `{commit}`",
        f"- Generated: {datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- Cells: {len(ok)} ok, {len(failed)} failed; datasets: {', '.join(datasets)}; "
        f"la: {', '.join(las)}; seeds: {' '.join(seeds)}", *_DEFINITIONS, "",
    ]  # fmt: skip
    for budget, entries in by_budget.items():
        lines += _budget_section(budget, entries, ok)
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


# ----------------------------------------------------------------------------------------------- command line


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add the leaderboard's arguments to ``parser``."""
    parser.add_argument(
        "--algos", type=comma_list, default=list(DEFAULT_ALGOS), help="comma-separated generation policies"
    )
    parser.add_argument("--datasets", required=True, help="'all' or comma-separated names (e.g. wdbc,wine)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3], help="split/model seeds")
    parser.add_argument("--la", type=float, nargs="+", default=[0.1], help="labeled-anomaly fractions")
    parser.add_argument("--budget", default="small", help="budget preset: tiny, small or paper")
    parser.add_argument(
        "--data-dir", default=None, help="folder of ADBench .npz files (embedded sets need none)"
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder of the CSV, summary and plot")
    parser.add_argument(
        "--deterministic",
        action="store_true",
        help="mean actions when generating (default: sample); not part of the cell key, so use another --out",
    )
    parser.add_argument("--device", default="cpu", help="torch device of the VAE and detectors")
    return add_run_arguments(parser)


def run(args: argparse.Namespace, evaluate: EvaluateFn | None = None) -> Path:
    """Runs the cells ``args`` describe (resume-aware), then the leaderboard; returns the summary path."""
    args.data_dir = None if args.data_dir is None else str(args.data_dir)
    cells = make_cells(args)
    out = Path(args.out)
    store = ResultStore(out / RESULTS_FILE, COLUMNS, KEY_COLUMNS)
    backend = build_backend(
        args.backend, progress=not args.no_progress, options=ray_backend.backend_options(args)
    )
    commit = git_commit()
    fn = policy_cell_fn(
        args.data_dir, commit, deterministic=args.deterministic, device=args.device, evaluate=evaluate
    )
    run_sweep(cells, fn, store, backend, retry_failed=args.retry_failed)
    command = getattr(args, "command", None) or "python -m benchmarks.policies (called from Python)"
    return write_leaderboard(list(store.rows.values()), out, command=command, commit=commit)


def main(argv: list[str] | None = None) -> int:
    """``python -m benchmarks.policies ...``; bad options exit with code 2 and a message."""
    argv = sys.argv[1:] if argv is None else list(argv)
    prog = invoked_as("benchmarks.policies")
    parser = add_arguments(
        argparse.ArgumentParser(
            prog=prog, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
        )
    )
    args = parser.parse_args(argv)
    args.command = " ".join([prog, *map(shlex.quote, argv)])
    try:
        path = run(args)
    except (ValueError, ImportError, FileNotFoundError) as err:
        parser.exit(2, f"{parser.prog}: error: {err}\n")
    print(f"leaderboard: {path}")
    return 0


if __name__ == "__main__":
    # Run the imported module's main, not this __main__ copy: Ray workers unpickle the cell function by
    # reference to ``benchmarks.policies``, and cannot find functions defined in the driver's __main__.
    from benchmarks.policies import main as _main

    raise SystemExit(_main())
