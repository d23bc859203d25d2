"""``swift-hydra train``: one Swift Hydra run from the command line (also ``python -m agents.train``).

Examples::

    swift-hydra train                                   # wdbc, PPO, la=0.1, seed 1, small budget
    swift-hydra train --dataset cardio --algo sac --la 0.1 --seed 2 --rounds 5
    swift-hydra train --algo ppo --algo-kwargs learning_rate=1e-3 "policy_kwargs=dict(net_arch=[32, 32])"
    swift-hydra train --hyperparams my_ppo.yml          # rl-zoo3 format, key SwiftHydra-v0
    swift-hydra train --rounds 0                        # the no-augmentation control only
    swift-hydra train --resume runs/wdbc-ppo-la0.1-s1-20250101-120000

The ``swift-hydra`` console script (:mod:`benchmarks.cli`) hands its arguments to :func:`main`, also
the stand-alone entry point. Bad input (unknown algorithm or dataset,
malformed ``--algo-kwargs``, ``--la 0``, a resume folder that is not a run) exits with code 2 and a
message, before any training.
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path
from typing import Any

from agents.config import BUDGETS, LoopOptions, TrainConfig, budget_fields
from agents.deploy import DEPLOY_CHOICES

PROG = "swift-hydra train"


def parse_kwarg(text: str) -> tuple[str, Any]:
    """``key=value`` -> ``(key, value)``; the value goes through ``ast.literal_eval``, else stays a string."""
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key.isidentifier():
        raise argparse.ArgumentTypeError(f"expected key=value with a Python identifier as key, got {text!r}")
    try:
        value = ast.literal_eval(raw)
    except (ValueError, SyntaxError):
        value = raw
    return key, value


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text!r}") from err
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {value}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Adds the ``train`` options to ``parser``."""
    from agents.registry import ALGO_CHOICES

    parser.add_argument("--dataset", default="wdbc", help="embedded (wdbc, wine), ADBench name, or .npz path")
    parser.add_argument(
        "--algo", default="ppo", choices=ALGO_CHOICES, help="generation policy (default: ppo)"
    )
    parser.add_argument("--la", type=float, default=0.1, help="ratio of labeled anomalies, in (0, 1]")
    parser.add_argument("--seed", type=int, default=1, help="seed of the split and of every model")
    parser.add_argument(
        "--budget",
        default="small",
        choices=sorted(BUDGETS),
        help="compute preset (tiny: tests, small: default)",
    )
    parser.add_argument(
        "--rounds",
        type=_non_negative_int,
        default=None,
        help="closed-loop rounds (0 = no-augmentation control)",
    )
    parser.add_argument(
        "--budget-set",
        nargs="+",
        type=parse_kwarg,
        default=[],
        metavar="FIELD=VALUE",
        help=f"override budget fields ({', '.join(budget_fields())})",
    )
    parser.add_argument(
        "--algo-kwargs",
        nargs="+",
        type=parse_kwarg,
        default=[],
        metavar="KEY=VALUE",
        help="agent constructor arguments, e.g. learning_rate=3e-4 batch_size=256",
    )
    parser.add_argument(
        "--env-kwargs",
        nargs="+",
        type=parse_kwarg,
        default=[],
        metavar="KEY=VALUE",
        help="SwiftHydra-v0 settings (EnvConfig fields, as rl-zoo3's --env-kwargs), e.g. "
        "reward_weights=miss:1,novelty:0.5,entropy:0.5 entropy_decay=0.9 action_scale=0.5",
    )
    parser.add_argument(
        "--deploy",
        default=LoopOptions.deploy,
        choices=sorted(DEPLOY_CHOICES),
        help=f"deployment detector (default: {LoopOptions.deploy})",
    )
    parser.add_argument(
        "--synthetic-weight",
        type=float,
        default=LoopOptions.synthetic_weight,
        help="total weight of the kept synthetic anomalies, in labeled anomalies (default: %(default)s)",
    )
    parser.add_argument(
        "--min-novelty",
        type=float,
        default=LoopOptions.min_novelty,
        help="keep only candidates at least this unusual among the normal rows, in [0, 1] (default: %(default)s)",
    )
    parser.add_argument(
        "--no-synthetic-gate",
        action="store_true",
        help="always add the kept synthetic anomalies to the deployment fit (default: only if they raise "
        "a proxy's validation AUC)",
    )
    parser.add_argument(
        "--hyperparams", default=None, help="rl-zoo3 style yaml (top-level key SwiftHydra-v0)"
    )
    parser.add_argument("--run-dir", default=None, help="output folder (default runs/<dataset>-<algo>-...)")
    parser.add_argument("--resume", default=None, metavar="RUN_DIR", help="continue an interrupted run")
    parser.add_argument("--data-dir", default=None, help="folder of ADBench .npz files")
    parser.add_argument("--val-fraction", type=float, default=0.2, help="validation share of the train split")
    parser.add_argument(
        "--torch-threads",
        type=_non_negative_int,
        default=1,
        help="torch CPU threads for this command (default 1: the env steps one tiny batch at a time, where "
        "extra threads only add synchronisation; 0 = torch's default)",
    )
    parser.add_argument("--device", default="cpu", help="torch device of the VAE and detectors (cpu, cuda)")
    parser.add_argument(
        "--deterministic", action="store_true", help="mean actions when generating candidates"
    )
    parser.add_argument("--no-control", action="store_true", help="skip the no-augmentation control")
    parser.add_argument(
        "--tensorboard", action="store_true", help="SB3 tensorboard logs in <run_dir>/tensorboard"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    return parser


def build_parser(prog: str = PROG) -> argparse.ArgumentParser:
    """The stand-alone parser."""
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Train Swift Hydra on one dataset and compare it with the no-augmentation control.",
    )
    return add_arguments(parser)


def _fail(message: str) -> int:
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return 2


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """The :class:`TrainConfig` the options describe (``ValueError`` on bad values)."""
    overrides = dict(args.budget_set)
    if args.rounds is not None:
        overrides["rounds"] = args.rounds
    return TrainConfig(
        dataset=args.dataset,
        algo=args.algo,
        la=args.la,
        seed=args.seed,
        budget=args.budget,
        budget_overrides=overrides,
        algo_kwargs=dict(args.algo_kwargs),
        hyperparams=args.hyperparams,
        data_dir=args.data_dir,
        val_fraction=args.val_fraction,
        deterministic=args.deterministic,
        options=LoopOptions(
            deploy=args.deploy,
            synthetic_weight=args.synthetic_weight,
            min_novelty=args.min_novelty,
            synthetic_gate=not args.no_synthetic_gate,
            env_kwargs=dict(args.env_kwargs),
        ),
        control=not args.no_control,
        device=args.device,
        tensorboard=args.tensorboard,
        progress=not args.quiet,
    )


def _check_ready(config: TrainConfig, hyperparams_raw: dict[str, Any] | None) -> dict[str, Any]:
    """Everything that can fail on bad input, checked before training; returns the raw hyperparameters."""
    import importlib.util

    from agents.config import default_hyperparams_file, read_hyperparams
    from agents.experiment import resolve_agent_settings
    from agents.registry import SB3_ALGOS, check_policy_kwargs
    from hydra_env import datasets

    datasets.load(config.dataset, data_dir=config.data_dir)
    if hyperparams_raw is None:
        hp_file = config.hyperparams or default_hyperparams_file(config.algo)
        if config.hyperparams and config.algo not in SB3_ALGOS:
            raise ValueError(f"--hyperparams applies to SB3 algorithms, not {config.algo!r}")
        hyperparams_raw = read_hyperparams(hp_file) if hp_file and config.algo in SB3_ALGOS else {}
    _, algo_kwargs = resolve_agent_settings(config, hyperparams_raw)
    check_policy_kwargs(config.algo, algo_kwargs)
    _check_device(config.device)
    if config.tensorboard and importlib.util.find_spec("tensorboard") is None:
        raise ValueError("--tensorboard needs the 'tensorboard' package (pip install tensorboard)")
    return hyperparams_raw


def _check_device(device: str) -> None:
    """``ValueError`` for a torch device name that is malformed or not present on this machine."""
    import torch

    try:
        kind = torch.device(device).type
    except (RuntimeError, TypeError) as err:
        raise ValueError(
            f"--device {device!r} is not a torch device (e.g. cpu, cuda, cuda:1): {err}"
        ) from err
    if kind == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"--device {device!r}: CUDA is not available on this machine")


def run(args: argparse.Namespace) -> int:
    """Runs ``swift-hydra train`` with parsed options; returns the exit code."""
    from agents.experiment import is_run_dir, load_run_config
    from agents.experiment import run as run_experiment

    if args.torch_threads > 0:
        # CLI process only (never in library code): many tiny forward passes run fastest on one thread.
        import torch

        torch.set_num_threads(args.torch_threads)
    try:
        if args.resume is not None:
            if not is_run_dir(args.resume):
                return _fail(f"--resume {args.resume}: not a swift-hydra run directory (no config.json)")
            config, hyperparams_raw = load_run_config(args.resume)
            config.progress = not args.quiet
            run_dir: Path | None = Path(args.resume)
        else:
            config, hyperparams_raw = config_from_args(args), None
            run_dir = Path(args.run_dir) if args.run_dir else None
            if run_dir is not None and is_run_dir(run_dir):
                return _fail(
                    f"--run-dir {run_dir} already holds a run; use --resume {run_dir} or another folder"
                )
        hyperparams_raw = _check_ready(config, hyperparams_raw)
    except (ValueError, TypeError, FileNotFoundError) as err:
        return _fail(str(err))
    summary = run_experiment(config, run_dir, resume=args.resume is not None, hyperparams_raw=hyperparams_raw)
    print_summary(summary)
    return 0


def print_summary(summary: dict[str, Any]) -> None:
    """The final table: test AUC-ROC / AUC-PR of Swift Hydra beside the no-augmentation control."""

    def fmt(value: Any) -> str:
        return "n/a" if value is None else f"{value:.4f}"

    rows = [(f"Swift Hydra ({summary['algo']}, {summary['rounds']} rounds)", summary["test"]["swift_hydra"])]
    if "control" in summary["test"]:
        rows.append(("No-augmentation control", summary["test"]["control"]))
    title = f"{summary['dataset']} (la={summary['la']:g}, seed={summary['seed']}, budget={summary['budget']})"
    caption = f"{summary['n_synthetic_kept']} synthetic anomalies kept; {summary['wall_seconds']:.0f} s"
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:  # rich is optional: plain text
        print(f"{title}: {caption}")
        for name, scores in rows:
            print(f"  {name:<45} AUC-ROC {fmt(scores['auc_roc'])}  AUC-PR {fmt(scores['auc_pr'])}")
    else:
        table = Table(title=title, caption=caption)
        table.add_column("detector (test split)")
        table.add_column("AUC-ROC", justify="right")
        table.add_column("AUC-PR", justify="right")
        for name, scores in rows:
            table.add_row(name, fmt(scores["auc_roc"]), fmt(scores["auc_pr"]))
        Console().print(table)
    print(f"run directory: {summary['run_dir']}")


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry point (``python -m agents.train``)."""
    return run(build_parser().parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
