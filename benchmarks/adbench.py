"""ADBench-protocol benchmark: every (dataset, la, seed, method) cell on the same splits.

    python -m benchmarks.adbench --datasets wbc,vertebral --la 0.1 1.0 --seeds 1 2 3 \
        --methods swift_hydra,catboost,iforest --data-dir ../shared/datasets/adbench/Classical \
        --out benchmarks/results

Each cell fits a method on ``hydra_env.datasets.adbench_split(X, y, la, seed)`` (the same split for
every method) with default hyperparameters, and records test AUC-ROC, AUC-PR, fit seconds and predict
seconds per 1000 rows. The CSV (a :class:`benchmarks.common.ResultStore`) is rewritten atomically after
every cell, so a killed run resumes and skips finished cells; damaged rows are reported and recomputed,
and several runs may share one ``--out``. A method that raises is recorded as ``status=failed`` with its message and the
run goes on. Unsupervised methods ignore labels but run once per la, which keeps the table uniform
(their split changes with la only through the labels, so their numbers repeat across la).
"""

from __future__ import annotations

import argparse
import importlib
import time
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

from benchmarks import common, ray_backend, report
from benchmarks import methods as method_registry
from benchmarks.backends import make_backend
from benchmarks.common import (  # noqa: F401  (re-exported: older imports name them from here)
    DEFAULT_OUT,
    REPO_ROOT,
    Cell,
    command_line,
    git_commit,
    normalise_name,
    resolve_datasets,
)

PREFIX = "adbench"
GATE_COLUMNS = ("n_synthetic_kept", "synthetic_weight_used", "n_exposure_used")
"""What a generating method's deployment fit used (empty for other methods, and in rows written before
these columns existed): the synthetic anomalies its loop kept, the weight the deployment gate gave them
(0: left out) and how many outlier-exposure rows joined the fit."""
COLUMNS = (
    "dataset", "la", "n_labeled", "seed", "method", "kind", "status", "auc_roc", "auc_pr", "fit_seconds",
    "predict_seconds_per_1k", "n_train", "n_test", "n_features", "n_labeled_anomalies",
    "test_anomaly_rate", *GATE_COLUMNS, "budget", "budget_fingerprint", "commit", "error",
)  # fmt: skip
KEY_COLUMNS = ("dataset", "la", "n_labeled", "seed", "method")


class ResultStore(common.ResultStore):
    """:class:`benchmarks.common.ResultStore` with the ADBench layout as default columns."""

    def __init__(
        self, path: Path, columns: Sequence[str] = COLUMNS, key_columns: Sequence[str] = KEY_COLUMNS
    ):
        super().__init__(path, columns, key_columns)


def evaluate_method(
    method, X_train, y_train, X_test, y_test, *, seed: int, budget, n_jobs: int | None,
    env_kwargs: dict | None = None,
) -> dict:  # fmt: skip
    """Fit ``method`` on train, score test once; failures become ``status=failed`` rows.

    ``env_kwargs`` (``SwiftHydra-v0`` settings) reach the methods that run the env; others ignore them.
    """
    from sklearn.metrics import average_precision_score, roc_auc_score

    row = {"method": method.name, "kind": method.kind, "n_train": len(X_train), "n_test": len(X_test)}
    row |= {"n_features": X_train.shape[1], "n_labeled_anomalies": int(np.sum(y_train == 1))}
    # The budget only shapes our methods; baselines run with library defaults whatever it says.
    row |= {
        "test_anomaly_rate": float(np.mean(y_test)),
        "budget": _budget_text(budget) if method.kind == "ours" else "",
        "budget_fingerprint": common.budget_fingerprint(budget) if method.kind == "ours" else "",
        # A resumed CSV can mix cells from several commits: each row says which code produced it.
        "commit": git_commit(),
    }
    try:
        for module in method.imports:
            importlib.import_module(module)
        # Every method gets the same thread budget: the boosters take n_jobs, torch takes it here.
        with common.torch_threads(n_jobs):
            start = time.perf_counter()
            # Only when given, so registered methods written before --env-kwargs keep working.
            extra = {"env_kwargs": env_kwargs} if env_kwargs else {}
            detector = method.fit(X_train, y_train, seed=seed, budget=budget, n_jobs=n_jobs, **extra)
            row["fit_seconds"] = time.perf_counter() - start
            row |= gate_fields(detector)
            start = time.perf_counter()
            scores = np.asarray(detector.decision_function(X_test), dtype=np.float64)
            row["predict_seconds_per_1k"] = (time.perf_counter() - start) * 1000.0 / len(X_test)
        if scores.shape != (len(X_test),) or not np.isfinite(scores).all():
            raise ValueError(f"decision_function returned shape {scores.shape} or non-finite scores")
        row["auc_roc"] = roc_auc_score(y_test, scores)
        row["auc_pr"] = average_precision_score(y_test, scores)
        row["status"] = "ok"
    except Exception as err:  # a failing method must not stop the sweep
        row["status"] = "failed"
        row["error"] = f"{type(err).__name__}: {err}".replace("\n", " ")[:500]
    return row


def gate_fields(detector) -> dict[str, int | float | None]:
    """The `GATE_COLUMNS` of a fitted detector; ``{}`` for one no Swift Hydra loop made.

    A loop's detector carries ``synthetic_anomalies_`` (the kept rows, whether or not they joined),
    ``synthetic_weight_used_`` (their weight in the deployment fit) and ``exposure_anomalies_`` (the
    outlier-exposure rows that joined it); see `agents.loop.swift_hydra_fit`.
    """
    synthetic = getattr(detector, "synthetic_anomalies_", None)
    if synthetic is None:
        return {}
    weight = getattr(detector, "synthetic_weight_used_", None)
    exposure = getattr(detector, "exposure_anomalies_", None)
    return {
        "n_synthetic_kept": len(synthetic),
        "synthetic_weight_used": None if weight is None else float(weight),
        "n_exposure_used": 0 if exposure is None else len(exposure),
    }


def _budget_text(budget) -> str:
    return budget if isinstance(budget, str) else repr(budget)


@lru_cache(maxsize=1)
def _load(name: str, data_dir: str | None):
    from hydra_env import datasets

    return datasets.load(name, data_dir=data_dir)


@lru_cache(maxsize=1)
def _split(name: str, data_dir: str | None, la: float | None, seed: int, n_labeled: int | None = None):
    from hydra_env import datasets

    X, y = _load(name, data_dir)
    # A label-count cell takes the rows of any la at its seed; 1.0 only stands in for "not a fraction".
    return datasets.adbench_split(X, y, 1.0 if la is None else la, seed, n_labeled=n_labeled)


def expected_fields(budget) -> Callable[[Cell], dict[str, str]]:
    """What a reusable row of ``cell`` must record: our methods' budget fingerprint (stale otherwise)."""
    fingerprint = common.budget_fingerprint(budget)

    def expected(cell: Cell) -> dict[str, str]:
        ours = method_registry.METHODS[cell.method].kind == "ours"
        return {"budget_fingerprint": fingerprint if ours else ""}

    return expected


def adbench_cell_fn(
    data_dir: str | None, budget, n_jobs: int | None, env_kwargs: dict | None = None
) -> Callable[[Cell], dict]:
    """The function a backend runs per cell: load + split (cached) then :func:`evaluate_method`."""

    def fn(cell: Cell) -> dict:
        base = {"dataset": cell.dataset, "seed": cell.seed} | cell.labels()
        method = method_registry.METHODS[cell.method]
        try:
            split = _split(cell.dataset, data_dir, cell.la, cell.seed, cell.n_labeled)
        except Exception as err:
            error = f"data: {type(err).__name__}: {err}".replace("\n", " ")[:500]
            return base | {"method": method.name, "kind": method.kind, "status": "failed", "error": error}
        return base | evaluate_method(
            method, split.X_train, split.y_train, split.X_test, split.y_test,
            seed=cell.seed, budget=budget, n_jobs=n_jobs, env_kwargs=env_kwargs,
        )  # fmt: skip

    return fn


def run_cells(
    cells: Iterable[Cell], fn: Callable[[Cell], dict], store: ResultStore, *, backend: str = "serial",
    retry_failed: bool = False, progress: bool = True, backend_options: dict | None = None,
    expected: Callable[[Cell], dict[str, str]] | None = None, recompute: bool = False,
) -> list[Cell]:  # fmt: skip
    """Run the cells not yet in ``store`` (failed ones too with ``retry_failed``, stale ones always);
    returns those run. ``expected``: see :func:`benchmarks.common.pending`."""
    todo = common.pending(cells, store, retry_failed=retry_failed, expected=expected, recompute=recompute)

    def on_result(cell: Cell, row: dict) -> None:
        store.add(row | {"held_out_type": cell.held_out_type})

    def on_error(cell: Cell, exc: BaseException) -> None:
        # Only a task that died outside fn lands here (a crashed Ray worker); fn records method errors.
        store.add(
            {"dataset": cell.dataset, "seed": cell.seed, "method": cell.method}
            | cell.labels()
            | {"held_out_type": cell.held_out_type, "status": "failed"}
            | {"error": f"task: {ray_backend.error_text(exc)}"}
        )

    options = backend_options or {}
    make_backend(backend, progress=progress, describe=str, **options).run(todo, fn, on_result, on_error)
    return todo


def add_common_arguments(parser: argparse.ArgumentParser, default_methods: str) -> None:
    """Arguments shared by the ADBench and unseen-anomaly runners."""
    parser.add_argument(
        "--datasets", required=True, help="'all' or comma-separated names (e.g. wbc,vertebral)"
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3], help="split/model seeds")
    parser.add_argument(
        "--methods", default=default_methods,
        help=f"comma-separated, or 'all'; choices: {', '.join(method_registry.METHODS)}",
    )  # fmt: skip
    parser.add_argument(
        "--data-dir", default=None, help="folder of ADBench .npz files (embedded sets need none)"
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder for the CSV, summary and plots")
    parser.add_argument("--budget", default="small", help="Swift Hydra budget: tiny, small or paper")
    parser.add_argument(
        "--n-jobs", type=int, default=1,
        help="threads per cell for every method: the boosters' n_jobs and torch's threads (default 1, one core)",
    )  # fmt: skip
    add_env_kwargs_argument(parser)
    parser.add_argument("--reference", default="swift_hydra", help="method compared against the others")
    common.add_run_arguments(parser)


def check_methods(spec: str, budget: str, seeds: Iterable[int], env_kwargs: Iterable = ()) -> list:
    """The methods ``spec`` names, with the budget, seeds and env settings they will use checked.

    Raises:
        ValueError: Naming the bad value; an ``--env-kwargs`` field ``EnvConfig`` does not accept
            included, so a typo stops the run before its first cell instead of failing every cell.
    """
    methods = method_registry.resolve(spec)
    if any(m.kind == "ours" for m in methods):
        from agents.config import LoopOptions, get_budget

        get_budget(budget)
        try:
            LoopOptions(env_kwargs=dict(env_kwargs))
        except (TypeError, ValueError) as err:  # EnvConfig names an unknown field with a TypeError
            raise ValueError(f"--env-kwargs: {err}") from err
    common.check_seeds(seeds)
    return methods


def add_label_arguments(parser: argparse.ArgumentParser) -> None:
    """``--la`` fractions and ``--n-labeled`` counts: how many training anomalies keep their label."""
    parser.add_argument(
        "--la", type=float, nargs="+", default=None,
        help="labeled-anomaly fractions (default 0.1 1.0 unless --n-labeled is given)",
    )  # fmt: skip
    parser.add_argument(
        "--n-labeled", type=int, nargs="+", default=[], metavar="K",
        help="exact labeled-anomaly counts (e.g. 1 3 10), beside or instead of --la",
    )  # fmt: skip


def label_regimes(args: argparse.Namespace, default_la: Sequence[float] = (0.1, 1.0)) -> list[dict]:
    """``[{"la": ..., "n_labeled": ...}]`` of ``args`` (checked), fractions first."""
    fractions = args.la if args.la is not None else ([] if args.n_labeled else list(default_la))
    common.check_la(fractions)
    for count in args.n_labeled:
        if count < 1:
            raise ValueError(f"--n-labeled values must be >= 1, got {count}")
    return [{"la": float(la), "n_labeled": None} for la in fractions] + [
        {"la": None, "n_labeled": int(k)} for k in args.n_labeled
    ]


def add_env_kwargs_argument(parser: argparse.ArgumentParser) -> None:
    """``--env-kwargs KEY=VALUE ...``: SwiftHydra-v0 settings for the methods that run the env."""
    from agents.train import parse_kwarg

    parser.add_argument(
        "--env-kwargs", nargs="+", type=parse_kwarg, default=[], metavar="KEY=VALUE",
        help="SwiftHydra-v0 settings (EnvConfig fields), e.g. reward_weights=miss:1,novelty:1",
    )  # fmt: skip


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add the ADBench runner's arguments to ``parser``."""
    add_common_arguments(parser, ",".join(method_registry.DEFAULT_METHODS))
    add_label_arguments(parser)
    return parser


def make_cells(args: argparse.Namespace) -> list[Cell]:
    """The grid ``args`` describe, checked before anything runs (``ValueError`` names a bad value)."""
    methods = check_methods(args.methods, args.budget, args.seeds, args.env_kwargs)
    regimes = label_regimes(args)
    datasets = resolve_datasets(args.datasets, None if args.data_dir is None else str(args.data_dir))
    return [
        Cell(dataset, labels["la"], int(seed), method.name, n_labeled=labels["n_labeled"])
        for dataset in datasets for labels in regimes for seed in args.seeds for method in methods
    ]  # fmt: skip


def run(args: argparse.Namespace, cells: list[Cell] | None = None) -> Path:
    """Run the grid described by ``args``, resume-aware; returns the path of the summary markdown."""
    cells = make_cells(args) if cells is None else cells
    data_dir = None if args.data_dir is None else str(args.data_dir)
    out = Path(args.out)
    store = ResultStore(out / f"{PREFIX}_results.csv")
    run_cells(
        cells, adbench_cell_fn(data_dir, args.budget, args.n_jobs, dict(args.env_kwargs)), store,
        backend=args.backend, retry_failed=args.retry_failed, progress=not args.no_progress,
        backend_options=ray_backend.backend_options(args), expected=expected_fields(args.budget),
        recompute=getattr(args, "recompute", False),
    )  # fmt: skip
    return report.write_report(
        list(store.rows.values()), out, prefix=PREFIX, group_column=report.REGIME, reference=args.reference,
        command=command_line(args, "benchmarks.adbench"), commit=git_commit(), title=report.TITLES["adbench"],
    )  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    """``python -m benchmarks.adbench ...``; a bad option exits with code 2 and one line."""
    return common.runner_main("benchmarks.adbench", __doc__, add_arguments, make_cells, run, argv)


if __name__ == "__main__":
    # Run the imported module's main, not this __main__ copy: Ray pickles functions by module reference,
    # and workers can only find ``benchmarks.adbench``, never the driver's ``__main__``.
    from benchmarks.adbench import main as _main

    raise SystemExit(_main())
