"""A full ``swift-hydra train`` run: dataset, closed loop, control, test metrics, run directory.

The run directory holds ``config.json`` (the resolved configuration, enough to resume),
``metrics.jsonl`` (one line per completed round, validation metrics only), ``checkpoints/``,
``detector.pt`` (the deployment detector), ``control_detector.pt``, ``vae.pt``, ``agent/``,
``synthetic.npz`` (kept synthetic anomalies, scaled and in original units), ``val_auc.png``,
``reward.png``, ``projection.png``, optional ``tensorboard/`` and ``summary.json`` (written last).
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

from agents.checkpoint import find_resume_point
from agents.config import (
    Budget,
    TrainConfig,
    convert_hyperparams,
    default_hyperparams_file,
    read_hyperparams,
)
from agents.loop import LoopResult, auc_scores, fit_deployment_control, swift_hydra_loop
from agents.registry import SB3_ALGOS, check_algo

CONFIG_FILE = "config.json"
SUMMARY_FILE = "summary.json"
METRICS_FILE = "metrics.jsonl"


def default_run_dir(config: TrainConfig, root: str | Path = "runs") -> Path:
    """``runs/<dataset>-<algo>-la<la>-s<seed>-<timestamp>``."""
    name = Path(str(config.dataset)).stem if str(config.dataset).endswith(".npz") else str(config.dataset)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return Path(root) / f"{name}-{config.algo}-la{config.la:g}-s{config.seed}-{stamp}"


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
    data = json.loads(path.read_text())
    return TrainConfig.from_dict(data["config"]), data.get("hyperparams_raw") or {}


def resolve_agent_settings(
    config: TrainConfig, hyperparams_raw: dict[str, Any]
) -> tuple[Budget, dict[str, Any]]:
    """Budget and algo kwargs: budget defaults < hyperparameter file < ``config.algo_kwargs``."""
    budget = config.resolved_budget()
    zoo_kwargs, zoo_budget = convert_hyperparams(hyperparams_raw, budget.latent_dim)
    cli_kwargs, cli_budget = convert_hyperparams(config.algo_kwargs, budget.latent_dim)
    budget = budget.replace(**{**zoo_budget, **cli_budget, **config.budget_overrides})
    return budget, {**zoo_kwargs, **cli_kwargs}


def run(
    config: TrainConfig,
    run_dir: str | Path | None = None,
    *,
    resume: bool = False,
    hyperparams_raw: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One full ``swift-hydra train`` run; returns (and writes) its summary.

    Loads ``config.dataset`` under the ADBench protocol, runs :func:`swift_hydra_loop` with per-round
    checkpoints in ``run_dir``, trains the no-augmentation control, evaluates both on the test split
    (touched once, here), and writes ``config.json``, ``metrics.jsonl``, ``detector.pt``,
    ``control_detector.pt``, ``vae.pt``, ``agent/``, ``synthetic.npz``, plots and ``summary.json``.

    Args:
        config: What to run.
        run_dir: Output folder (default :func:`default_run_dir`).
        resume: Continue the run in ``run_dir`` from its last completed round.
        hyperparams_raw: rl-zoo3 entry to use instead of reading ``config.hyperparams`` (resume).

    Raises:
        FileNotFoundError, ValueError: unknown dataset, bad hyperparameters, not a run directory.
    """
    from hydra_env import datasets

    check_algo(config.algo)
    if config.tensorboard and importlib.util.find_spec("tensorboard") is None:
        raise ValueError("--tensorboard needs the 'tensorboard' package: pip install tensorboard")
    if hyperparams_raw is None:
        hp_file = config.hyperparams or default_hyperparams_file(config.algo)
        hyperparams_raw = read_hyperparams(hp_file) if hp_file and config.algo in SB3_ALGOS else {}
    budget, algo_kwargs = resolve_agent_settings(config, hyperparams_raw)
    # An rl-zoo3 yaml's env_kwargs are defaults; the run's own --env-kwargs win.
    zoo_env = dict(hyperparams_raw.get("env_kwargs") or {})
    options = dataclasses.replace(config.options, env_kwargs={**zoo_env, **config.options.env_kwargs})
    X, y = datasets.load(config.dataset, data_dir=config.data_dir)
    split = datasets.adbench_split(X, y, config.la, config.seed, name=str(config.dataset))

    run_dir = Path(run_dir) if run_dir is not None else default_run_dir(config)
    if resume:
        if not is_run_dir(run_dir):
            raise FileNotFoundError(f"{run_dir} is not a swift-hydra run directory (no {CONFIG_FILE})")
        if (run_dir / SUMMARY_FILE).is_file():
            return json.loads((run_dir / SUMMARY_FILE).read_text())
    else:
        _start_run_dir(run_dir, config, hyperparams_raw, budget, algo_kwargs)
    point = _rewind_metrics(run_dir) if resume else None

    started = time.perf_counter()
    result, test = _fit_and_test(config, split, budget, algo_kwargs, options, run_dir, resume)
    _save_artifacts(run_dir, result, split)
    summary = _summary(config, split, budget, options, result, test, run_dir)
    summary["wall_seconds"] = round(time.perf_counter() - started, 2)
    if point is not None:
        summary["resumed_from_round"] = point.round
    write_json(run_dir / SUMMARY_FILE, summary)
    return summary


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
        "la": config.la,
        "seed": config.seed,
        "budget": config.budget,
        "rounds": budget.rounds,
        "n_train": int(len(split.y_train)),
        "n_test": int(len(split.y_test)),
        "n_features": int(split.X_train.shape[1]),
        "n_labeled_anomalies": int(split.y_train.sum()),
        "n_validation": int(len(result.y_val)),
        "n_synthetic_kept": int(len(result.kept_X)),
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
