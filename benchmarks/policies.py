"""Generation-policy leaderboard: which policy synthesizes the anomalies that help the detector most?

    python -m benchmarks.policies --algos ppo,sac,td3,random,gradient --datasets wdbc,wine --seeds 1 2 3 \\
        --la 0.1 --budget small --no-synthetic-gate --out benchmarks/results/policies
    swift-hydra bench policies ...            # the same, through the console script

Run the leaderboard with ``--no-synthetic-gate``: it measures the value of a policy's anomalies, and with
the deployment gate (the package default, kept here as the default) a rejected set never reaches the
deployment detector, so its ``auc_gain`` is 0 by construction whatever the policy did. ``--deploy``
(catboost, lightgbm, mome) picks the deployment detector of both Swift Hydra and the control, and
``--env-kwargs KEY=VALUE ...`` the ``SwiftHydra-v0`` settings (e.g. ``reward_weights=miss:1,novelty:1``);
all three are recorded in every CSV row (``deploy``, ``synthetic_gate``, ``env_kwargs``) and a results
folder refuses cells run with other options.

Every (dataset, seed, algo) cell runs the closed Swift Hydra loop (:func:`agents.loop.swift_hydra_loop`,
with the agent settings of ``swift-hydra train``: budget defaults < packaged rl-zoo3 yaml) on the
ADBench split ``adbench_split(X, y, la, seed)`` and records:

* ``final_reward``: the mean env reward (:class:`hydra_env.rewards.Reward` with the run's
  ``reward_weights``, ``entropy_k`` and ``entropy_decay``, at round 0) of ``candidates_per_round`` fresh
  samples of the *final* policy under the *frozen reference detector* (below), against the reference
  normals and labeled anomalies of the loop's fit part: what the env would pay the final policy.
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
  Both sides are the mean over ``--deploy-repeats`` fits of the deployment detector, seeded
  ``seed + 1000 r`` (the loop's own fit is ``r = 0``): a neural detector's AUC moves with its seed alone
  (MoME at ``tiny``: two seeds differ by 11 points std on the leaderboard's sets, more than any policy's
  effect), and averaging R fits divides that noise's variance by R. ``control_auc_roc_std`` is the
  control's AUC-ROC std over the R seeds: the noise floor one fit would have had.
* ``wall_seconds``: the Swift Hydra side of the cell (loop with its round checkpoints, deployment
  detector, fresh generation, metrics), without the shared control (``control_seconds``) and without
  test scoring and the extra deployment fits, which only measure.

``policies_results.csv`` is rewritten atomically after every cell: a rerun skips finished cells (failed
ones too, unless ``--retry-failed``) and a failing cell is recorded as ``status=failed``. The script then
writes ``policies_summary.md`` (:mod:`benchmarks.policies_report`: mean ± std and mean ranks, IQM with
stratified-bootstrap 95% CIs, the probability of improvement over ``random``, the Spearman correlation of
``final_reward`` and ``auc_gain``, the exact command, options and commit) and ``policies_leaderboard.png``.
"""

from __future__ import annotations

import argparse
import functools
import shlex
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import ray_backend
from benchmarks.common import (
    ResultStore,
    add_run_arguments,
    comma_list,
    git_commit,
    invoked_as,
    record_command,
    report_stop,
    torch_threads,
)
from benchmarks.policies_report import (  # noqa: F401  (re-exported: the leaderboard's report lives there)
    EVASION_THRESHOLD,
    METRICS,
    PLOT_FILE,
    SUMMARY_FILE,
    leaderboard,
    mean_ranks,
    write_leaderboard,
)
from benchmarks.policy_metrics import (  # noqa: F401  (re-exported)
    anomaly_proba,
    diversity,
    evasion_metrics,
    evasion_rate,
)
from benchmarks.sweep import (
    SweepCell,
    add_loop_option_arguments,
    build_backend,
    check_same_options,
    loop_options,
    make_cells,
    option_values,
    run_sweep,
)

RESULTS_FILE = "policies_results.csv"
COMMANDS_FILE = "policies_commands.txt"  # every command that added cells, in order
DEFAULT_ALGOS = ("ppo", "sac", "td3", "random", "gradient")
DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "policies"
COLUMNS = (
    "dataset", "algo", "la", "n_labeled", "seed", "budget", "budget_fingerprint", "status", "final_reward", "evasion_rate", "miss_probability",
    "threshold_evasion_rate", "kept_evasion_rate", "final_detector_evasion_rate", "entropy_gain",
    "pairwise_distance", "distinct_fraction", "auc_roc", "control_auc_roc", "auc_gain", "auc_pr",
    "control_auc_pr", "n_generated", "n_kept", "n_train", "n_test", "n_features", "n_labeled_anomalies",
    "wall_seconds", "control_seconds", "control_auc_roc_std", "deterministic", "deploy", "synthetic_gate",
    "env_kwargs", "deploy_repeats", "commit", "error",
)  # fmt: skip
# One value per results folder (not in the key).
OPTION_COLUMNS = ("deploy", "synthetic_gate", "env_kwargs", "deploy_repeats")
DEFAULT_DEPLOY_REPEATS = 3
REPEAT_SEED_STRIDE = 1000  # deployment fit r of a cell with seed s is seeded s + 1000 r
KEY_COLUMNS = ("dataset", "algo", "la", "n_labeled", "seed", "budget")

# evaluate(cell, data_dir, deterministic, device, options) -> the cell's metric columns (raises on failure)
EvaluateFn = Callable[[SweepCell, str | None, bool, str, Any], dict[str, Any]]


@functools.lru_cache(maxsize=4)
def _split(
    dataset: str, data_dir: str | None, la: float | None, seed: int, n_labeled: int | None = None
) -> Any:
    from hydra_env import datasets

    X, y = datasets.load(dataset, data_dir=data_dir)
    # A label-count cell takes the rows of any la at its seed; 1.0 only stands in for "not a fraction".
    return datasets.adbench_split(X, y, 1.0 if la is None else la, seed, name=dataset, n_labeled=n_labeled)


def repeat_seeds(seed: int, repeats: int) -> list[int]:
    """The seeds of a cell's ``repeats`` deployment fits: ``seed``, ``seed + 1000``, ..."""
    if int(repeats) < 1:
        raise ValueError(f"deploy_repeats must be >= 1, got {repeats}")
    return [seed + REPEAT_SEED_STRIDE * r for r in range(int(repeats))]


def _mean_scores(scores: list[dict[str, float | None]]) -> dict[str, float | None]:
    """Mean AUC-ROC and AUC-PR over repeated fits (None when a fit had none, e.g. one test class)."""
    out: dict[str, float | None] = {}
    for metric in ("auc_roc", "auc_pr"):
        values = [s[metric] for s in scores]
        out[metric] = None if any(v is None for v in values) else float(np.mean(values))
    return out


@functools.lru_cache(maxsize=16)
def _control(
    dataset: str, data_dir: str | None, la: float | None, seed: int, budget: Any, device: str, deploy: str,
    repeats: int = 1, n_labeled: int | None = None,
) -> dict:  # fmt: skip
    """Test metrics of the no-augmentation control; identical for every algo, so computed once.

    It depends on the deployment detector (``deploy``) and the number of fits averaged (``repeats``),
    but not on the gate or the env settings.
    """
    from agents.config import LoopOptions
    from agents.loop import auc_scores, fit_deployment_control

    split = _split(dataset, data_dir, la, seed, n_labeled)
    started = time.perf_counter()
    scores = []
    for fit_seed in repeat_seeds(seed, repeats):
        control = fit_deployment_control(
            split.X_train, split.y_train, budget=budget, seed=fit_seed, options=LoopOptions(deploy=deploy),
            device=device,
        )  # fmt: skip
        scores.append(auc_scores(split.y_test, control.decision_function(split.X_test)))
    mean = _mean_scores(scores)
    roc = [s["auc_roc"] for s in scores]
    return {
        "control_auc_roc": mean["auc_roc"],
        "control_auc_pr": mean["auc_pr"],
        "control_auc_roc_std": float(np.std(roc, ddof=1)) if len(roc) > 1 and None not in roc else None,
        "control_seconds": time.perf_counter() - started,
    }


def _deployment_scores(
    result: Any, split: Any, budget: Any, seed: int, options: Any, repeats: int, device: str
):
    """Mean test AUCs of the loop's deployment detector and ``repeats - 1`` refits with other seeds.

    The refits see exactly what the loop's fit saw: the training split, the kept rows and the weight
    the gate gave them, and the outlier-exposure rows if any. Returns the scores and the seconds the refits took (a measurement cost, kept
    out of the cell's ``wall_seconds``).
    """
    from agents.deploy import fit_deployment
    from agents.loop import auc_scores, seed_round

    started = time.perf_counter()
    scores = [auc_scores(split.y_test, result.detector.decision_function(split.X_test))]
    weight = result.deploy_gate.get("synthetic_weight_used", options.synthetic_weight)
    for fit_seed in repeat_seeds(seed, repeats)[1:]:
        seed_round(fit_seed, budget.rounds + 1)
        detector = fit_deployment(
            options.deploy, np.asarray(split.X_train, dtype=np.float64), split.y_train, result.kept_X,
            budget=budget, seed=fit_seed, synthetic_weight=weight, exposure=result.exposure,
            exposure_weight=options.exposure_weight, reference_column=options.reference_column, device=device,
        )  # fmt: skip
        scores.append(auc_scores(split.y_test, detector.decision_function(split.X_test)))
    return _mean_scores(scores), time.perf_counter() - started


def agent_settings(algo: str, budget: str) -> tuple[Any, dict[str, Any]]:
    """Budget and agent kwargs exactly as ``swift-hydra train`` resolves them (packaged yaml included)."""
    from agents.config import TrainConfig, default_hyperparams_file, read_hyperparams
    from agents.experiment import resolve_agent_settings
    from agents.registry import SB3_ALGOS

    hp_file = default_hyperparams_file(algo)
    raw = read_hyperparams(hp_file) if hp_file and algo in SB3_ALGOS else {}
    return resolve_agent_settings(TrainConfig(algo=algo, budget=budget), raw)


def env_config(budget: Any, seed: int, options: Any) -> Any:
    """The :class:`hydra_env.EnvConfig` the loop's env runs with (as :func:`agents.loop.make_env` builds it)."""
    from hydra_env import EnvConfig

    return EnvConfig(
        seed=seed, latent_dim=budget.latent_dim, episode_length=budget.episode_length, **options.env_kwargs
    )


def final_reward(
    frozen: Any, X: np.ndarray, X_train: np.ndarray, y_train: np.ndarray, config: Any, device: str = "cpu"
) -> float | None:
    """Mean env reward of rows ``X`` under the frozen reference detector (``None`` when ``X`` is empty).

    The reward is the env's own (:class:`hydra_env.rewards.Reward` with ``config``'s weights, k and
    decay, at round 0), with the reference normals and labeled anomalies of the part of the training
    split the env saw: the loop's fit part (:func:`agents.loop.carve_validation`, 20%, seeded).
    """
    import types

    import torch

    from agents.loop import carve_validation
    from hydra_env.core import reference_normals
    from hydra_env.rewards import Reward, anomaly_probability

    if len(X) == 0:
        return None
    X_fit, y_fit, _, _ = carve_validation(
        np.asarray(X_train, dtype=np.float64), np.asarray(y_train).astype(np.int64).ravel(), 0.2, config.seed
    )
    fit = types.SimpleNamespace(X_train=X_fit, y_train=y_fit)
    reward = Reward(
        config.reward_weights, reference_normals(fit, config.seed), X_fit[y_fit == 1],
        k=config.entropy_k, decay=config.entropy_decay, device=device,
    )  # fmt: skip
    reward.refresh(frozen, 0)
    with torch.inference_mode():
        x = torch.as_tensor(np.asarray(X, dtype=np.float32), device=device)
        value, _ = reward(x, anomaly_probability(frozen, x).to(x.dtype))
    return float(value.mean())


def _loop_with_reference(
    cell: SweepCell, split: Any, budget: Any, algo_kwargs: dict[str, Any], options: Any,
    deterministic: bool, device: str,
) -> tuple[Any, Any]:  # fmt: skip
    """The cell's closed loop and its frozen reference detector (the in-loop detector of round 0)."""
    from agents.checkpoint import latest_checkpoint, load_checkpoint
    from agents.loop import swift_hydra_loop

    with tempfile.TemporaryDirectory(prefix="swift-hydra-policies-") as run_dir:
        reference: dict[str, Any] = {}

        def keep_reference(metrics: dict[str, Any]) -> None:
            # Round 0 is checkpointed right after pre-training: that detector, frozen, is the reference.
            if metrics.get("round") == 0:
                reference["detector"] = load_checkpoint(latest_checkpoint(run_dir), device=device).detector

        result = swift_hydra_loop(
            split.X_train, split.y_train, algo=cell.algo, budget=budget, seed=cell.seed,
            algo_kwargs=algo_kwargs, options=options, deterministic=deterministic, run_dir=run_dir,
            on_round_end=keep_reference, device=device,
        )  # fmt: skip
    if "detector" not in reference:
        raise RuntimeError("the loop did not report its round-0 checkpoint; no reference detector")
    return result, reference["detector"]


def _generation_metrics(result, frozen, generated, split, config, device: str) -> dict[str, Any]:
    """Reward, evasion and diversity of a fresh draw (``generated``), read against the frozen detector."""
    anomalies = split.X_train[np.asarray(split.y_train) == 1]
    return {
        "final_reward": final_reward(frozen, generated, split.X_train, split.y_train, config, device),
        **evasion_metrics(frozen, generated),
        "kept_evasion_rate": evasion_rate(frozen, result.kept_X),
        "final_detector_evasion_rate": evasion_rate(result.loop_detector, generated),
        **diversity(generated, anomalies, k=config.entropy_k),
    }


def evaluate_policy(
    cell: SweepCell,
    data_dir: str | None,
    deterministic: bool = False,
    device: str = "cpu",
    options: Any = None,
    deploy_repeats: int = 1,
) -> dict[str, Any]:
    """Runs one cell (loop, frozen reference, fresh generation, control); returns its metric columns.

    Args:
        options: :class:`agents.config.LoopOptions` of the loop and the control (default: the package's).
        deploy_repeats: Deployment fits averaged on each side of ``auc_gain`` (see the module docstring).

    Raises:
        Whatever the data loading or the loop raises (the cell function records it as a failure).
    """
    import stable_baselines3  # noqa: F401  (imported before the clock starts: the first cell pays no import)

    from agents.config import LoopOptions
    from agents.loop import seed_round

    options = options or LoopOptions()
    split = _split(cell.dataset, data_dir, cell.la, cell.seed, cell.n_labeled)
    budget, algo_kwargs = agent_settings(cell.algo, cell.budget)
    started = time.perf_counter()
    result, frozen = _loop_with_reference(cell, split, budget, algo_kwargs, options, deterministic, device)
    generated = np.zeros((0, split.X_train.shape[1]), dtype=np.float32)
    if result.policy is not None:
        result.policy.reseed(seed_round(cell.seed, budget.rounds + 2))  # a fresh, seeded draw
        generated, _ = result.policy.generate(budget.candidates_per_round, deterministic=deterministic)
    test, scoring_seconds = _deployment_scores(
        result, split, budget, cell.seed, options, deploy_repeats, device
    )
    config = env_config(budget, cell.seed, options)
    row = {
        **_generation_metrics(result, frozen, generated, split, config, device),
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
    row["wall_seconds"] = time.perf_counter() - started - scoring_seconds
    row |= _control(
        cell.dataset,
        data_dir,
        cell.la,
        cell.seed,
        budget,
        device,
        options.deploy,
        deploy_repeats,
        n_labeled=cell.n_labeled,
    )
    if row["auc_roc"] is not None and row["control_auc_roc"] is not None:
        row["auc_gain"] = row["auc_roc"] - row["control_auc_roc"]
    return row


def policy_cell_fn(
    data_dir: str | None, commit: str = "", *, deterministic: bool = False, device: str = "cpu",
    evaluate: EvaluateFn | None = None, options: Any = None, deploy_repeats: int = 1,
) -> Callable[[SweepCell], dict[str, Any]]:  # fmt: skip
    """The function a backend runs per cell: its CSV row, ``status=failed`` with the error if it raised.

    ``deploy_repeats`` reaches :func:`evaluate_policy`; a custom ``evaluate`` measures as it likes.
    """
    from agents.config import LoopOptions

    evaluate = evaluate or functools.partial(evaluate_policy, deploy_repeats=deploy_repeats)
    options = options or LoopOptions()
    recorded = option_values(options) | {"deploy_repeats": str(int(deploy_repeats))}

    def fn(cell: SweepCell) -> dict[str, Any]:
        base = cell.row() | {"commit": commit, "deterministic": deterministic} | recorded
        try:
            with torch_threads(1):  # one core per cell, as every runner (see benchmarks.common)
                return base | evaluate(cell, data_dir, deterministic, device, options) | {"status": "ok"}
        except Exception as err:  # one failing cell must not stop the leaderboard
            return base | {"status": "failed", "error": ray_backend.error_text(err)}

    return fn


# ----------------------------------------------------------------------------------------------- command line


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add the leaderboard's arguments to ``parser``."""
    parser.add_argument(
        "--algos", type=comma_list, default=list(DEFAULT_ALGOS), help="comma-separated generation policies"
    )
    parser.add_argument("--datasets", required=True, help="'all' or comma-separated names (e.g. wdbc,wine)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3], help="split/model seeds")
    from benchmarks.adbench import add_label_arguments

    add_label_arguments(parser)
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
    parser.add_argument(
        "--deploy-repeats", type=int, default=DEFAULT_DEPLOY_REPEATS,
        help="deployment fits (seeds seed, seed+1000, ...) averaged on each side of auc_gain, so the "
        f"detector's seed noise does not drown a policy's effect (default: {DEFAULT_DEPLOY_REPEATS})",
    )  # fmt: skip
    add_loop_option_arguments(parser)
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
    options = loop_options(args)
    repeat_seeds(0, args.deploy_repeats)  # a bad count fails here, before any cell
    recorded = option_values(options) | {"deploy_repeats": str(args.deploy_repeats)}
    check_same_options(store, recorded, OPTION_COLUMNS)
    commit = git_commit()
    fn = policy_cell_fn(
        args.data_dir, commit, deterministic=args.deterministic, device=args.device, evaluate=evaluate,
        options=options, deploy_repeats=args.deploy_repeats,
    )  # fmt: skip
    run_sweep(
        cells, fn, store, backend, retry_failed=args.retry_failed, recompute=getattr(args, "recompute", False)
    )
    command = getattr(args, "command", None) or "python -m benchmarks.policies (called from Python)"
    # Cells may come from several runs (resumed, extended, split across processes): keep them all.
    history = record_command(out / COMMANDS_FILE, command)
    return write_leaderboard(list(store.rows.values()), out, command=history, commit=commit)


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
    from agents.interrupt import STOPS, sigterm_raises

    try:
        with sigterm_raises():
            path = run(args)
    except (ValueError, ImportError, FileNotFoundError) as err:
        parser.exit(2, f"{parser.prog}: error: {err}\n")
    except STOPS as stop:
        return report_stop(prog, args, stop)
    print(f"leaderboard: {path}")
    return 0


if __name__ == "__main__":
    # Run the imported module's main, not this __main__ copy: Ray workers unpickle the cell function by
    # reference to ``benchmarks.policies``, and cannot find functions defined in the driver's __main__.
    from benchmarks.policies import main as _main

    raise SystemExit(_main())
