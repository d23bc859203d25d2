"""A full ``swift-hydra train`` run: dataset, closed loop, control, test metrics, run directory.

The run directory holds ``config.json`` (the resolved configuration, enough to resume),
``metrics.jsonl`` (one line per completed round, validation metrics only), ``checkpoints/``,
``detector.pt`` (the deployment detector), ``control_detector.pt``, ``vae.pt``, ``agent/``,
``synthetic.npz`` (kept synthetic anomalies, scaled and in original units), ``val_auc.png``,
``reward.png``, ``projection.png``, optional ``tensorboard/``, ``summary.json`` (with
``n_synthetic_joined``: how many kept rows the deployment gate let into the deployment fit, beside its
evidence in ``deploy_gate``) and, written last, ``manifest.json`` (the checksums of the run's files,
verified before a resumed finished run reports its results). ``.lock`` keeps a second process out.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from agents.checkpoint import (
    CHECKPOINTS,
    MANIFEST,
    CheckpointError,
    find_resume_point,
    verify_manifest,
    write_manifest,
)
from agents.config import (
    Budget,
    LoopOptions,
    TrainConfig,
    convert_hyperparams,
    default_hyperparams_file,
    read_hyperparams,
)
from agents.deploy import GATE_MARGIN
from agents.loop import LoopResult, auc_scores, fit_deployment_control, swift_hydra_loop
from agents.registry import SB3_ALGOS, check_algo

CONFIG_FILE = "config.json"
SUMMARY_FILE = "summary.json"
METRICS_FILE = "metrics.jsonl"
LOCK_FILE = ".lock"


class RunDirError(ValueError):
    """The run folder cannot be used: another process holds it, or a finished run's files are damaged."""


def default_run_dir(config: TrainConfig, root: str | Path = "runs") -> Path:
    """``runs/<dataset>-<algo>-la<la>-s<seed>-<timestamp>`` (``k<K>`` for a label count)."""
    name = Path(str(config.dataset)).stem if str(config.dataset).endswith(".npz") else str(config.dataset)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    labels = f"la{config.la:g}" if config.n_labeled is None else f"k{config.n_labeled}"
    return Path(root) / f"{name}-{config.algo}-{labels}-s{config.seed}-{stamp}"


def write_json(path: Path, data: Any) -> None:
    """Atomic JSON write (temp file, then rename)."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_text(json.dumps(data, indent=2, default=repr))
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def is_run_dir(path: str | Path) -> bool:
    """Whether ``path`` holds a ``swift-hydra train`` run (its ``config.json``)."""
    return (Path(path) / CONFIG_FILE).is_file()


def load_run_config(run_dir: str | Path) -> tuple[TrainConfig, dict[str, Any]]:
    """The :class:`TrainConfig` and raw hyperparameters a run was started with."""
    path = Path(run_dir) / CONFIG_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{run_dir} is not a swift-hydra run directory (no {CONFIG_FILE})")
    try:
        data = json.loads(path.read_text())
        return TrainConfig.from_dict(data["config"]), data.get("hyperparams_raw") or {}
    except (ValueError, KeyError, TypeError, AttributeError) as err:
        raise ValueError(
            f"{path} is damaged or not a swift-hydra config ({type(err).__name__}: {err})"
        ) from None


def resolve_agent_settings(
    config: TrainConfig, hyperparams_raw: dict[str, Any]
) -> tuple[Budget, dict[str, Any]]:
    """Budget and algo kwargs: budget defaults < hyperparameter file < ``config.algo_kwargs``."""
    budget = config.resolved_budget()
    zoo_kwargs, zoo_budget = convert_hyperparams(hyperparams_raw, budget.latent_dim)
    cli_kwargs, cli_budget = convert_hyperparams(config.algo_kwargs, budget.latent_dim)
    budget = budget.replace(**{**zoo_budget, **cli_budget, **config.budget_overrides})
    return budget, {**zoo_kwargs, **cli_kwargs}


@dataclasses.dataclass
class Prepared:
    """What :func:`prepare` resolved and checked: everything a run needs before it touches its folder.

    Attributes:
        budget: The budget with every override applied.
        algo_kwargs: Agent arguments (hyperparameter file < ``config.algo_kwargs``).
        options: The loop options, the yaml's ``env_kwargs`` under the run's own.
        hyperparams_raw: The rl-zoo3 entry the run uses (recorded in ``config.json``).
        split: The ADBench split of the dataset.
        warnings: Lines worth printing before the run starts (e.g. :func:`agents.preflight.wide_data_warning`).
    """

    budget: Budget
    algo_kwargs: dict[str, Any]
    options: LoopOptions
    hyperparams_raw: dict[str, Any]
    split: Any
    warnings: list[str]


def prepare(config: TrainConfig, hyperparams_raw: dict[str, Any] | None = None) -> Prepared:
    """Resolves and checks everything that can fail on bad input, before any folder or training.

    Args:
        config: What to run.
        hyperparams_raw: rl-zoo3 entry to use instead of reading ``config.hyperparams`` (resume).

    Raises:
        FileNotFoundError, ValueError, TypeError: one line naming the problem (unknown dataset or
            algorithm, bad hyperparameters or agent arguments, data that cannot work, missing device).
    """
    from agents import preflight
    from hydra_env import datasets

    check_algo(config.algo)
    if config.tensorboard and importlib.util.find_spec("tensorboard") is None:
        raise ValueError("--tensorboard needs the 'tensorboard' package (pip install tensorboard)")
    if hyperparams_raw is None:
        if config.hyperparams and config.algo not in SB3_ALGOS:
            raise ValueError(f"--hyperparams applies to SB3 algorithms, not {config.algo!r}")
        hp_file = config.hyperparams or default_hyperparams_file(config.algo)
        hyperparams_raw = read_hyperparams(hp_file) if hp_file and config.algo in SB3_ALGOS else {}
    budget, algo_kwargs = resolve_agent_settings(config, hyperparams_raw)
    # An rl-zoo3 yaml's env_kwargs are defaults; the run's own --env-kwargs win.
    zoo_env = dict(hyperparams_raw.get("env_kwargs") or {})
    # Built anew, so validated anew with the yaml's settings.
    options = dataclasses.replace(config.options, env_kwargs={**zoo_env, **config.options.env_kwargs})
    preflight.check_algo_kwargs(config.algo, budget, algo_kwargs, options.env_kwargs)
    preflight.check_device(config.device)
    name = str(config.dataset)
    X, y = datasets.load(config.dataset, data_dir=config.data_dir)
    preflight.check_dataset(X, y, name)
    split = datasets.adbench_split(X, y, config.la, config.seed, name=name, n_labeled=config.n_labeled)
    preflight.check_split(split)
    warning = preflight.wide_data_warning(*split.X_train.shape, options.deploy)
    return Prepared(budget, algo_kwargs, options, hyperparams_raw, split, [warning] if warning else [])


def run(
    config: TrainConfig,
    run_dir: str | Path | None = None,
    *,
    resume: bool = False,
    hyperparams_raw: dict[str, Any] | None = None,
    prepared: Prepared | None = None,
) -> dict[str, Any]:
    """One full ``swift-hydra train`` run; returns (and writes) its summary.

    Loads ``config.dataset`` under the ADBench protocol, runs :func:`swift_hydra_loop` with per-round
    checkpoints in ``run_dir``, trains the no-augmentation control, evaluates both on the test split
    (touched once, here), and writes ``config.json``, ``metrics.jsonl``, ``detector.pt``,
    ``control_detector.pt``, ``vae.pt``, ``agent/``, ``synthetic.npz``, plots, ``summary.json`` and,
    last, ``manifest.json`` (the checksums of the run's files; a run is finished once it exists). The
    run folder is locked (``.lock``) while the run works in it.

    Args:
        config: What to run.
        run_dir: Output folder (default :func:`default_run_dir`).
        resume: Continue the run in ``run_dir`` from its last completed round; a finished run's
            summary is returned once its files match their checksums.
        hyperparams_raw: rl-zoo3 entry to use instead of reading ``config.hyperparams`` (resume).
        prepared: What :func:`prepare` returned for ``config`` (default: prepared here).

    Raises:
        FileNotFoundError, ValueError: bad input (see :func:`prepare`), not a run directory.
        RunDirError: another process works in ``run_dir``, or a finished run's files are damaged.
    """
    from filelock import FileLock, Timeout

    prepared = prepared or prepare(config, hyperparams_raw)
    run_dir = Path(run_dir) if run_dir is not None else default_run_dir(config)
    if resume and not is_run_dir(run_dir):
        raise FileNotFoundError(f"{run_dir} is not a swift-hydra run directory (no {CONFIG_FILE})")
    run_dir.mkdir(parents=True, exist_ok=True)
    try:
        with FileLock(run_dir / LOCK_FILE, timeout=0):
            return _run_locked(config, run_dir, resume, prepared)
    except Timeout:
        raise RunDirError(
            f"{run_dir} is in use by another swift-hydra train (it holds {run_dir / LOCK_FILE}); wait for it "
            "or choose another --run-dir"
        ) from None


def _run_locked(config: TrainConfig, run_dir: Path, resume: bool, prepared: Prepared) -> dict[str, Any]:
    """The body of :func:`run`, with ``run_dir`` locked."""
    if resume:
        finished = finished_summary(run_dir)
        if finished is not None:
            return finished
    else:
        _start_run_dir(run_dir, config, prepared.hyperparams_raw, prepared.budget, prepared.algo_kwargs)
    point = _rewind_metrics(run_dir) if resume else None
    started = time.perf_counter()
    split, budget, options = prepared.split, prepared.budget, prepared.options
    result, test = _fit_and_test(config, split, budget, prepared.algo_kwargs, options, run_dir, resume)
    _save_artifacts(run_dir, result, split)
    summary = _summary(config, split, budget, options, result, test, run_dir)
    summary["wall_seconds"] = round(time.perf_counter() - started, 2)
    if point is not None:
        summary["resumed_from_round"] = point.round
    write_json(run_dir / SUMMARY_FILE, summary)
    _write_run_manifest(run_dir)
    return summary


def _run_files(run_dir: Path) -> list[Path]:
    """The files a finished run's manifest covers: all but checkpoints, tensorboard and hidden files."""
    skip = {CHECKPOINTS, "tensorboard", MANIFEST}
    return [
        path
        for path in run_dir.rglob("*")
        if path.is_file()
        and path.relative_to(run_dir).parts[0] not in skip
        and not any(part.startswith(".") for part in path.relative_to(run_dir).parts)
    ]


def _write_run_manifest(run_dir: Path) -> None:
    write_manifest(run_dir, _run_files(run_dir), finished=True)


def finished_summary(run_dir: str | Path) -> dict[str, Any] | None:
    """The summary of a finished run once its files match the checksums of its ``manifest.json``.

    ``None`` when the run has not finished (no manifest: a resume recomputes from its last checkpoint).

    Raises:
        RunDirError: a file of the finished run is missing, altered or unreadable.
    """
    run_dir = Path(run_dir)
    if not (run_dir / MANIFEST).is_file():
        return None
    hint = (
        f"its results cannot be trusted (remove {run_dir / MANIFEST} to recompute them from its checkpoints)"
    )
    try:
        verify_manifest(run_dir, what="run")
        return json.loads((run_dir / SUMMARY_FILE).read_text())
    except CheckpointError as err:
        raise RunDirError(f"{err}; {hint}") from None
    except (OSError, ValueError) as err:
        raise RunDirError(
            f"run {run_dir} is damaged: {SUMMARY_FILE} cannot be read ({err}); {hint}"
        ) from None


def _summary(
    config: TrainConfig,
    split: Any,
    budget: Budget,
    options: Any,
    result: LoopResult,
    test: dict[str, Any],
    run_dir: Path,
) -> dict[str, Any]:
    """The run's ``summary.json`` content (without its timing)."""
    summary = {
        "dataset": str(config.dataset),
        "algo": config.algo,
        "la": config.la if config.n_labeled is None else float(split.la),
        "n_labeled": config.n_labeled,
        "seed": config.seed,
        "budget": config.budget,
        "rounds": budget.rounds,
        "n_train": int(len(split.y_train)),
        "n_test": int(len(split.y_test)),
        "n_features": int(split.X_train.shape[1]),
        "n_labeled_anomalies": int(split.y_train.sum()),
        "n_validation": int(len(result.y_val)),
        "n_synthetic_kept": int(len(result.kept_X)),
        "n_synthetic_joined": int(len(result.kept_X))
        if result.deploy_gate.get("synthetic_weight_used")
        else 0,
        "synthetic_gate_margin": _gate_margin(options),
        # None for a family without score columns (MoME); [] when the few-labels rule left them out.
        # A blended deployment (LoopOptions.synthetic_blend) reports its fit with the synthetic rows.
        "deploy_score_columns": getattr(
            getattr(result.detector, "augmented_", result.detector), "score_columns_", None
        ),
        "n_exposure_rows": 0 if result.exposure is None else int(len(result.exposure)),
        "deploy": options.deploy,
        "deploy_gate": result.deploy_gate,
        "test": test,
        "val_auc_roc_per_round": [m.get("val_auc_roc") for m in result.metrics],
        "run_dir": str(run_dir),
    }
    if "control" in test and None not in (test["control"]["auc_roc"], test["swift_hydra"]["auc_roc"]):
        summary["delta_auc_roc"] = test["swift_hydra"]["auc_roc"] - test["control"]["auc_roc"]
    return summary


def _start_run_dir(
    run_dir: Path, config: TrainConfig, hyperparams_raw: dict[str, Any], budget: Budget, algo_kwargs: dict
) -> None:
    """Creates a new run directory with its ``config.json`` (enough to resume) and empty metrics."""
    if is_run_dir(run_dir):
        raise ValueError(f"{run_dir} already holds a run; resume it or choose another run directory")
    run_dir.mkdir(parents=True, exist_ok=True)
    write_json(
        run_dir / CONFIG_FILE,
        {
            "config": config.to_dict(),
            "hyperparams_raw": hyperparams_raw,
            "budget": dataclasses.asdict(budget),
            "algo_kwargs": algo_kwargs,
        },
    )
    (run_dir / METRICS_FILE).write_text("")


def _rewind_metrics(run_dir: Path) -> Any:
    """Resume point of ``run_dir`` (or None); ``metrics.jsonl`` is cut to exactly the rounds it holds."""
    point = find_resume_point(run_dir)
    latest = point.path if point else None
    if point is not None:
        print(f"{run_dir}: {point.describe()}", file=sys.stderr)
    # Later rounds are recomputed, so their lines must go.
    done = json.loads((latest / "state.json").read_text())["metrics"] if latest else []
    (run_dir / METRICS_FILE).write_text("".join(json.dumps(m) + "\n" for m in done))
    return point


def _fit_and_test(
    config: TrainConfig,
    split: Any,
    budget: Budget,
    algo_kwargs: dict[str, Any],
    options: Any,
    run_dir: Path,
    resume: bool,
) -> tuple[LoopResult, dict[str, Any]]:
    """The closed loop (round metrics appended to ``metrics.jsonl``), the control, test AUCs of both."""
    from tqdm.auto import tqdm

    def append_metrics(metrics: dict[str, Any]) -> None:
        with open(run_dir / METRICS_FILE, "a") as fh:
            fh.write(json.dumps(metrics) + "\n")

    bar = tqdm(total=budget.rounds + 1, disable=not config.progress, leave=False, unit="round")

    def report(stage: str, done: int, total: int) -> None:
        bar.set_description(stage)
        bar.n = done
        bar.refresh()

    try:
        result = swift_hydra_loop(
            split.X_train, split.y_train, algo=config.algo, budget=budget, seed=config.seed,
            algo_kwargs=algo_kwargs, val_fraction=config.val_fraction, deterministic=config.deterministic,
            options=options, run_dir=run_dir, resume=resume, progress=report, on_round_end=append_metrics,
            tensorboard_log=str(run_dir / "tensorboard") if config.tensorboard else None,
            device=config.device,
        )  # fmt: skip
        test = {"swift_hydra": auc_scores(split.y_test, result.detector.decision_function(split.X_test))}
        differs = (
            budget.rounds > 0 or options.exposure_weight or result.deploy_gate.get("reference_column_used")
        )
        if config.control and differs:
            bar.set_description("fitting the no-augmentation control")
            control = fit_deployment_control(
                split.X_train, split.y_train, budget=budget, seed=config.seed, options=options,
                device=config.device,
            )  # fmt: skip
            control.save(run_dir / "control_detector.pt")
            test["control"] = auc_scores(split.y_test, control.decision_function(split.X_test))
        elif config.control:  # no round, no exposure row, no reference column: Swift Hydra *is* the control
            test["control"] = dict(test["swift_hydra"])
    finally:
        bar.close()
    return result, test


def _save_artifacts(run_dir: Path, result: LoopResult, split: Any) -> None:
    """Detector, VAE, agent, kept synthetic anomalies (scaled and original units, atomic) and plots."""
    result.detector.save(run_dir / "detector.pt")
    result.vae.save(run_dir / "vae.pt")
    if result.policy is not None:
        result.policy.save(run_dir / "agent")
    synthetic_original = (
        split.scaler.inverse_transform(result.kept_X)
        if len(result.kept_X)
        else result.kept_X.astype(np.float64)
    )
    tmp = run_dir / ".synthetic.tmp.npz"
    np.savez(
        tmp,
        X=result.kept_X,
        X_original=synthetic_original,
        reward=result.kept_reward,
        round=result.kept_round,
    )
    os.replace(tmp, run_dir / "synthetic.npz")
    _write_plots(run_dir, result, split)


def _write_plots(run_dir: Path, result: LoopResult, split: Any) -> None:
    from agents import plots

    plots.plot_val_auc(result.metrics, run_dir / "val_auc.png")
    plots.plot_rewards(result.metrics, run_dir / "reward.png")
    plots.plot_projection(split.X_train, split.y_train, result.kept_X, run_dir / "projection.png")


def _gate_margin(options: LoopOptions) -> float | None:
    """The held-out AUC-ROC gain the run's gate asked of the kept rows (None: no gate)."""
    from agents.value_gate import VALUE_GATE_MARGIN

    if not options.synthetic_gate:
        return None
    return VALUE_GATE_MARGIN if options.value_gate else GATE_MARGIN
