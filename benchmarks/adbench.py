"""ADBench-protocol benchmark: every (dataset, la, seed, method) cell on the same splits.

    python -m benchmarks.adbench --datasets wbc,vertebral --la 0.1 1.0 --seeds 1 2 3 \
        --methods swift_hydra,catboost,iforest --data-dir ../shared/datasets/adbench/Classical \
        --out benchmarks/results

Each cell fits a method on ``hydra_env.datasets.adbench_split(X, y, la, seed)`` (the same split for
every method) with default hyperparameters, and records test AUC-ROC, AUC-PR, fit seconds and predict
seconds per 1000 rows. The CSV is rewritten atomically after every cell, so a killed run resumes and
skips finished cells; a method that raises is recorded as ``status=failed`` with its message and the
run goes on. Unsupervised methods ignore labels but run once per la, which keeps the table uniform
(their split changes with la only through the labels, so their numbers repeat across la).
"""

from __future__ import annotations

import argparse
import csv
import functools
import importlib
import os
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from benchmarks import methods as method_registry
from benchmarks import ray_backend
from benchmarks.backends import BACKENDS, make_backend

PREFIX = "adbench"
COLUMNS = (
    "dataset", "la", "seed", "method", "kind", "status", "auc_roc", "auc_pr", "fit_seconds",
    "predict_seconds_per_1k", "n_train", "n_test", "n_features", "n_labeled_anomalies",
    "test_anomaly_rate", "budget", "commit", "error",
)  # fmt: skip
KEY_COLUMNS = ("dataset", "la", "seed", "method")
REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO_ROOT / "benchmarks" / "results"


@dataclass(frozen=True)
class Cell:
    """One unit of work; ``held_out_type`` is only set by the unseen-anomaly protocol."""

    dataset: str
    la: float
    seed: int
    method: str
    held_out_type: str | None = None

    def key(self, key_columns: Sequence[str]) -> tuple[str, ...]:
        values = {
            "dataset": self.dataset,
            "la": f"{self.la:g}",
            "seed": str(self.seed),
            "method": self.method,
        }
        values["held_out_type"] = self.held_out_type or ""
        return tuple(values[c] for c in key_columns)

    def __str__(self) -> str:
        extra = f" {self.held_out_type}" if self.held_out_type else ""
        return f"{self.dataset} la={self.la:g} seed={self.seed}{extra} {self.method}"


class ResultStore:
    """A CSV of finished cells, rewritten atomically (tmp file + os.replace) after every cell.

    Rows missing a key field or carrying an unknown status (e.g. a hand-edited or foreign file) are
    dropped on load, so a resumed run recomputes them rather than trusting them.
    """

    def __init__(
        self, path: Path, columns: Sequence[str] = COLUMNS, key_columns: Sequence[str] = KEY_COLUMNS
    ):
        self.path = Path(path)
        self.columns = tuple(columns)
        self.key_columns = tuple(key_columns)
        self.rows: dict[tuple[str, ...], dict[str, str]] = {}
        if self.path.is_file():
            with open(self.path, newline="") as fh:
                for row in csv.DictReader(fh):
                    key = tuple((row.get(c) or "") for c in self.key_columns)
                    if all(key) and row.get("status") in ("ok", "failed"):
                        self.rows[key] = {c: (row.get(c) or "") for c in self.columns}

    def status(self, key: tuple[str, ...]) -> str | None:
        row = self.rows.get(key)
        return row["status"] if row else None

    def add(self, row: dict) -> None:
        """Record a finished cell and rewrite the file atomically."""
        clean = {c: _format(row.get(c)) for c in self.columns}
        self.rows[tuple(clean[c] for c in self.key_columns)] = clean
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", newline="") as fh:
                writer = csv.DictWriter(fh, fieldnames=self.columns)
                writer.writeheader()
                writer.writerows(self.rows.values())
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def _format(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float | np.floating):
        return "" if not np.isfinite(value) else f"{float(value):.6g}"
    return str(value)


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
        # A resumed CSV can mix cells from several commits: each row says which code produced it.
        "commit": git_commit(),
    }
    try:
        for module in method.imports:
            importlib.import_module(module)
        start = time.perf_counter()
        detector = method.fit(
            X_train, y_train, seed=seed, budget=budget, n_jobs=n_jobs, env_kwargs=env_kwargs
        )
        row["fit_seconds"] = time.perf_counter() - start
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


def _budget_text(budget) -> str:
    return budget if isinstance(budget, str) else repr(budget)


def normalise_name(name: str) -> str:
    """``"42_WBC.npz"``, ``"wbc"`` and ``"W-B.C"`` all become ``"wbc"`` (for matching names only)."""
    stem = Path(name).name.lower().removesuffix(".npz")
    head, sep, tail = stem.partition("_")
    stem = tail if sep and head.isdigit() else stem
    return "".join(ch for ch in stem if ch not in "_-. ")


def resolve_datasets(spec: str | Sequence[str], data_dir: str | Path | None) -> list[str]:
    """Expand ``all`` and check names against the loadable datasets; unknown names list the choices.

    ``all`` means every local ``.npz`` in the data folder, or the embedded sets when it holds none.
    """
    from hydra_env import datasets

    names = [n.strip() for part in ([spec] if isinstance(spec, str) else spec) for n in part.split(",")]
    names = [n for n in names if n]
    entries = datasets.list_datasets(data_dir)
    local = [e.name for e in entries if e.path is not None]
    if names == ["all"]:
        return local or list(datasets.EMBEDDED)
    choices = sorted(dict.fromkeys([*datasets.EMBEDDED, *local]))
    known = {normalise_name(n) for n in choices}
    unknown = [n for n in names if normalise_name(n) not in known and not Path(n).is_file()]
    if unknown or not names:
        raise ValueError(
            f"unknown or unavailable dataset(s) {unknown}; choose from {choices} or 'all' (data dir: {data_dir})"
        )
    return list(dict.fromkeys(names))


@lru_cache(maxsize=1)
def _load(name: str, data_dir: str | None):
    from hydra_env import datasets

    return datasets.load(name, data_dir=data_dir)


@lru_cache(maxsize=1)
def _split(name: str, data_dir: str | None, la: float, seed: int):
    from hydra_env import datasets

    X, y = _load(name, data_dir)
    return datasets.adbench_split(X, y, la, seed)


def adbench_cell_fn(
    data_dir: str | None, budget, n_jobs: int | None, env_kwargs: dict | None = None
) -> Callable[[Cell], dict]:
    """The function a backend runs per cell: load + split (cached) then :func:`evaluate_method`."""

    def fn(cell: Cell) -> dict:
        base = {"dataset": cell.dataset, "la": cell.la, "seed": cell.seed}
        method = method_registry.METHODS[cell.method]
        try:
            split = _split(cell.dataset, data_dir, cell.la, cell.seed)
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
) -> list[Cell]:  # fmt: skip
    """Run the cells not yet in ``store`` (failed ones too with ``retry_failed``); returns those run."""
    skip = {"ok", "failed"} - ({"failed"} if retry_failed else set())
    todo = [c for c in cells if store.status(c.key(store.key_columns)) not in skip]

    def on_result(cell: Cell, row: dict) -> None:
        store.add(row | {"held_out_type": cell.held_out_type})

    def on_error(cell: Cell, exc: BaseException) -> None:
        # Only a task that died outside fn lands here (a crashed Ray worker); fn records method errors.
        store.add(
            {"dataset": cell.dataset, "la": cell.la, "seed": cell.seed, "method": cell.method}
            | {"held_out_type": cell.held_out_type, "status": "failed"}
            | {"error": f"task: {ray_backend.error_text(exc)}"}
        )

    options = backend_options or {}
    make_backend(backend, progress=progress, describe=str, **options).run(todo, fn, on_result, on_error)
    return todo


@functools.cache
def git_commit(repo: Path = REPO_ROOT) -> str:
    """``git rev-parse HEAD`` (+ ``-dirty`` with local changes), or ``unknown`` without git."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, timeout=10
        )
        if head.returncode != 0:
            return "unknown"
        dirty = subprocess.run(
            ["git", "status", "--porcelain"], cwd=repo, capture_output=True, text=True, timeout=10
        )
        return head.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def command_line(args: argparse.Namespace, module: str) -> str:
    """The command that produced a run, for the report (set by ``main``, else rebuilt from sys.argv)."""
    given = getattr(args, "command", None)
    if given:
        return given
    return (
        shlex.join([Path(sys.argv[0]).name, *sys.argv[1:]])
        if sys.argv and sys.argv[0]
        else f"python -m {module}"
    )


def _invoked_as(module: str) -> str:
    """``swift-hydra bench NAME`` when called through the console script (it sets argv[0]), else ``python -m``."""
    prog = sys.argv[0] if sys.argv else ""
    return prog if prog.startswith("swift-hydra") else f"python -m {module}"


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
        "--backend",
        default="serial",
        choices=sorted(BACKENDS),
        help="execution backend (ray needs the ray extra)",
    )
    ray_backend.add_ray_arguments(parser)
    parser.add_argument("--n-jobs", type=int, default=1, help="threads for CatBoost/XGBoost (default 1)")
    add_env_kwargs_argument(parser)
    parser.add_argument("--reference", default="swift_hydra", help="method compared against the others")
    parser.add_argument("--retry-failed", action="store_true", help="rerun cells recorded as failed")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")


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
    parser.add_argument("--la", type=float, nargs="+", default=[0.1, 1.0], help="labeled-anomaly fractions")
    return parser


def add_subparser(subparsers) -> argparse.ArgumentParser:
    """Mount as a subcommand (``swift-hydra bench adbench``); dispatch with ``args.func(args)``."""
    parser = subparsers.add_parser("adbench", help="ADBench protocol: datasets x la x seeds x methods")
    add_arguments(parser)
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace) -> Path:
    """Run the grid described by ``args``, resume-aware; returns the path of the summary markdown."""
    from benchmarks import report

    methods = method_registry.resolve(args.methods)
    for la in args.la:
        if not 0.0 < la <= 1.0:
            raise ValueError(f"--la values must be in (0, 1], got {la}")
    data_dir = None if args.data_dir is None else str(args.data_dir)
    datasets = resolve_datasets(args.datasets, data_dir)
    cells = [
        Cell(dataset, float(la), int(seed), method.name)
        for dataset in datasets for la in args.la for seed in args.seeds for method in methods
    ]  # fmt: skip
    out = Path(args.out)
    store = ResultStore(out / f"{PREFIX}_results.csv")
    run_cells(
        cells, adbench_cell_fn(data_dir, args.budget, args.n_jobs, dict(args.env_kwargs)), store,
        backend=args.backend, retry_failed=args.retry_failed, progress=not args.no_progress,
        backend_options=ray_backend.backend_options(args),
    )  # fmt: skip
    return report.write_report(
        list(store.rows.values()), out, prefix=PREFIX, group_column="la", reference=args.reference,
        command=command_line(args, "benchmarks.adbench"), commit=git_commit(), title=report.TITLES["adbench"],
    )  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    """``python -m benchmarks.adbench ...``"""
    argv = sys.argv[1:] if argv is None else list(argv)
    args = add_arguments(
        argparse.ArgumentParser(prog=_invoked_as("benchmarks.adbench"), description=__doc__)
    ).parse_args(argv)
    args.command = " ".join([_invoked_as("benchmarks.adbench"), *map(shlex.quote, argv)])
    summary = run(args)
    print(f"summary: {summary}")
    return 0


if __name__ == "__main__":
    # Run the imported module's main, not this __main__ copy: Ray pickles functions by module reference,
    # and workers can only find ``benchmarks.adbench``, never the driver's ``__main__``.
    from benchmarks.adbench import main as _main

    raise SystemExit(_main())
