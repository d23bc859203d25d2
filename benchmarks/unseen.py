"""Unseen-anomaly protocol: train with labeled anomalies of some types, test on a type never seen.

    python -m benchmarks.unseen --datasets wbc,vertebral --seeds 1 2 3 --methods swift_hydra,catboost,iforest

For each dataset and seed, ``hydra_env.anomaly_types.make_typed_anomaly_set`` generates anomalies of
ADBench's four types (local, global, clustered, dependency) from the dataset's normal rows, as many per
type as the dataset has real anomalies (the real anomalies themselves are left out: their type is
unknown). Leave-one-type-out fold for held-out type ``h``:

- normal rows and each type's anomalies are split 70/30 (seeded, like ADBench's split);
- train = 70% of the normal rows + 70% of the anomalies of the three other types, a fraction ``la``
  of those labeled 1 (the rest unlabeled, 0);
- test = 30% of the normal rows + 30% of type ``h``'s anomalies, so no method ever sees type ``h``;
- both sides are MinMax-scaled with the training rows (ADBench's scaling).

Datasets above 10000 rows are first subsampled to 10000 (seeded), as ADBench's generator does. Results
have the ADBench CSV layout (with its gate columns, `benchmarks.adbench.GATE_COLUMNS`) plus
``held_out_type`` and, for methods that generate anomalies (their detector has
``synthetic_anomalies_``), ``coverage``: the share of the test's held-out-type anomalies whose nearest kept synthetic anomaly is
closer (Euclidean, scaled space) than their nearest training row labeled normal (``y_train == 0``, the
rows the detector is told are normal). The summary groups by held-out type and opens with a table per
held-out type plus the mean over types (see :mod:`benchmarks.unseen_report`).
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from benchmarks import adbench, common, ray_backend, report
from benchmarks import methods as method_registry

PREFIX = "unseen"
SYNTHETIC_COLUMNS = (*adbench.GATE_COLUMNS, "coverage")
_AFTER = adbench.COLUMNS.index(adbench.GATE_COLUMNS[-1]) + 1
COLUMNS = (
    *adbench.COLUMNS[:3], "held_out_type", *adbench.COLUMNS[3:_AFTER], "coverage", *adbench.COLUMNS[_AFTER:],
)  # fmt: skip
# Issue 15's protocol: the labeled baseline, two unsupervised ones, MoME, and Swift Hydra with its control.
DEFAULT_METHODS = ("catboost", "ecod", "iforest", "mome", "swift_hydra", "swift_hydra_control")
KEY_COLUMNS = ("dataset", "held_out_type", "la", "n_labeled", "seed", "method")
TRAIN_FRACTION = 0.7
MAX_ROWS = 10000


@dataclass
class UnseenSplit:
    """One leave-one-type-out fold (features already scaled)."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    held_out_type: str


@lru_cache(maxsize=1)
def _typed_set(name: str, data_dir: str | None, seed: int):
    from hydra_env import anomaly_types, datasets

    X, y = datasets.load(name, data_dir=data_dir)
    rng = np.random.RandomState(seed)
    if len(y) > MAX_ROWS:
        keep = rng.choice(len(y), MAX_ROWS, replace=False)
        X, y = X[keep], y[keep]
    X_all, _, types = anomaly_types.make_typed_anomaly_set(X, y, anomaly_types.KINDS, seed=seed)
    # One 70/30 assignment per row, shared by every fold of this (dataset, seed).
    in_train = np.zeros(len(types), dtype=bool)
    for kind in np.unique(types):
        rows = np.flatnonzero(types == kind)
        in_train[rng.choice(rows, int(round(TRAIN_FRACTION * len(rows))), replace=False)] = True
    return X_all, types, in_train


def unseen_split(
    name: str, data_dir: str | None, held_out_type: str, la: float | None, seed: int,
    n_labeled: int | None = None,
) -> UnseenSplit:  # fmt: skip
    """The fold of ``name`` where ``held_out_type`` anomalies appear only in test.

    ``la`` of the seen-type training anomalies keep their label (``ceil``), or exactly ``n_labeled``
    of them (all when fewer) when a count is given.
    """
    from sklearn.preprocessing import MinMaxScaler

    X_all, types, in_train = _typed_set(name, data_dir, seed)
    if held_out_type not in set(types):
        raise ValueError(
            f"unknown anomaly type {held_out_type!r}; choose from {sorted(set(types) - {'normal'})}"
        )
    normal = types == "normal"
    train = in_train & (types != held_out_type)
    test = ~in_train & (normal | (types == held_out_type))
    y_train = (~normal[train]).astype(int)
    anomalies = np.flatnonzero(y_train == 1)
    rng = np.random.RandomState([seed, 1])  # which seen-type anomalies keep their label
    count = int(np.ceil(la * len(anomalies))) if n_labeled is None else min(n_labeled, len(anomalies))
    labeled = rng.choice(anomalies, count, replace=False)
    y_train = np.zeros_like(y_train)
    y_train[labeled] = 1
    scaler = MinMaxScaler().fit(X_all[train])
    return UnseenSplit(
        scaler.transform(X_all[train]), y_train, scaler.transform(X_all[test]),
        (~normal[test]).astype(int), held_out_type,
    )  # fmt: skip


def coverage(
    synthetic: np.ndarray, X_train: np.ndarray, y_train: np.ndarray, X_test: np.ndarray, y_test: np.ndarray
) -> float | None:
    """Share of test anomalies (``y_test == 1``) nearer to a synthetic anomaly than to any normal row.

    "Normal rows" are the training rows with ``y_train == 0`` (what the detector is told is normal);
    distances are Euclidean in the scaled feature space. A tie counts as not covered.

    Returns:
        The share in [0, 1], or ``None`` when there are no synthetic rows, no test anomaly or no
        normal training row.

    Raises:
        ValueError: When the arrays' feature counts differ.
    """
    from sklearn.neighbors import NearestNeighbors

    synthetic = np.asarray(synthetic, dtype=np.float64)
    X_train, X_test = np.asarray(X_train, dtype=np.float64), np.asarray(X_test, dtype=np.float64)
    if synthetic.size == 0:
        return None
    synthetic = synthetic.reshape(len(synthetic), -1)
    if not synthetic.shape[1] == X_train.shape[1] == X_test.shape[1]:
        raise ValueError(
            f"feature counts differ: synthetic {synthetic.shape[1]}, train {X_train.shape[1]}, "
            f"test {X_test.shape[1]}"
        )
    anomalies = X_test[np.asarray(y_test) == 1]
    normals = X_train[np.asarray(y_train) == 0]
    if len(anomalies) == 0 or len(normals) == 0:
        return None
    to_synthetic = NearestNeighbors(n_neighbors=1).fit(synthetic).kneighbors(anomalies)[0][:, 0]
    to_normal = NearestNeighbors(n_neighbors=1).fit(normals).kneighbors(anomalies)[0][:, 0]
    return float(np.mean(to_synthetic < to_normal))


def _synthetic_fields(detector, split: UnseenSplit) -> dict:
    """`benchmarks.adbench.gate_fields` and ``coverage`` of a generating method's detector (``{}`` otherwise)."""
    fields = adbench.gate_fields(detector)
    if not fields:
        return {}
    synthetic = np.asarray(detector.synthetic_anomalies_)
    # Coverage counts every synthetic anomaly the method made: the loop's kept rows and, when the
    # method adds them, its outlier-exposure rows.
    exposure = np.asarray(getattr(detector, "exposure_anomalies_", synthetic[:0])).reshape(
        -1, synthetic.shape[1]
    )
    return fields | {
        "coverage": coverage(
            np.concatenate([synthetic, exposure]), split.X_train, split.y_train, split.X_test, split.y_test
        ),
    }


def _capturing(method) -> tuple[method_registry.Method, list]:
    """``method`` with a fit that also records the fitted detector in the returned list."""
    fitted: list = []

    def fit(*args, **kwargs):
        detector = method.fit(*args, **kwargs)
        fitted.append(detector)
        return detector

    return dataclasses.replace(method, fit=fit), fitted


def unseen_cell_fn(
    data_dir: str | None, budget, n_jobs: int | None, env_kwargs: dict | None = None
) -> Callable[[adbench.Cell], dict]:
    """Per-cell function for a backend: build the fold (cached per dataset and seed), then evaluate."""

    def fn(cell: adbench.Cell) -> dict:
        base = {"dataset": cell.dataset, "seed": cell.seed} | cell.labels()
        method = method_registry.METHODS[cell.method]
        try:
            split = unseen_split(
                cell.dataset, data_dir, cell.held_out_type, cell.la, cell.seed, cell.n_labeled
            )
        except Exception as err:
            error = f"data: {type(err).__name__}: {err}".replace("\n", " ")[:500]
            return base | {"method": method.name, "kind": method.kind, "status": "failed", "error": error}
        capturing, fitted = _capturing(method)
        row = base | adbench.evaluate_method(
            capturing, split.X_train, split.y_train, split.X_test, split.y_test,
            seed=cell.seed, budget=budget, n_jobs=n_jobs, env_kwargs=env_kwargs,
        )  # fmt: skip
        if row.get("status") == "ok" and fitted:
            try:
                row |= _synthetic_fields(fitted[-1], split)
            except Exception as err:  # a broken coverage must not lose the cell's AUC
                row["error"] = f"coverage: {type(err).__name__}: {err}".replace("\n", " ")[:500]
        return row

    return fn


def check_one_regime(store: common.ResultStore, cells: list[adbench.Cell]) -> None:
    """Refuses cells of another label regime than the file's: the summary pairs cells by type only.

    Raises:
        ValueError: Naming both regimes and asking for another ``--out``.
    """
    recorded = {common.row_regime(row) for row in store.rows.values()}
    asked = {cell.regime for cell in cells}
    if recorded and asked - recorded:
        raise ValueError(
            f"{store.path} holds cells at {sorted(recorded)}, not {sorted(asked - recorded)}; "
            "use another --out for another label regime"
        )


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add the unseen-anomaly runner's arguments to ``parser``."""
    from hydra_env.anomaly_types import KINDS

    adbench.add_common_arguments(parser, ",".join(DEFAULT_METHODS))
    label_count = parser.add_mutually_exclusive_group()
    label_count.add_argument("--la", type=float, default=1.0, help="fraction of seen-type anomalies labeled")
    label_count.add_argument(
        "--n-labeled", type=int, default=None, metavar="K", help="exact count of seen-type anomalies labeled"
    )
    parser.add_argument(
        "--held-out",
        default=",".join(KINDS),
        help=f"comma-separated types to hold out (default all: {KINDS})",
    )
    return parser


def make_cells(args: argparse.Namespace) -> list[adbench.Cell]:
    """The grid ``args`` describe, checked before anything runs (``ValueError`` names a bad value)."""
    from hydra_env.anomaly_types import KINDS

    methods = adbench.check_methods(args.methods, args.budget, args.seeds, args.env_kwargs)
    common.check_la(args.la)
    if args.n_labeled is not None and args.n_labeled < 1:
        raise ValueError(f"--n-labeled must be >= 1, got {args.n_labeled}")
    la = None if args.n_labeled is not None else float(args.la)
    held_out = [t.strip() for t in args.held_out.split(",") if t.strip()]
    unknown = [t for t in held_out if t not in KINDS]
    if unknown or not held_out:
        raise ValueError(f"unknown anomaly type(s) {unknown} in --held-out; choose from {list(KINDS)}")
    datasets = common.resolve_datasets(args.datasets, None if args.data_dir is None else str(args.data_dir))
    cells = [
        adbench.Cell(dataset, la, int(seed), method.name, held_out_type=kind, n_labeled=args.n_labeled)
        for dataset in datasets for seed in args.seeds for kind in held_out for method in methods
    ]  # fmt: skip
    check_one_regime(
        common.ResultStore(Path(args.out) / f"{PREFIX}_results.csv", COLUMNS, KEY_COLUMNS), cells
    )
    return cells


def run(args: argparse.Namespace, cells: list[adbench.Cell] | None = None):
    """Run every (dataset, held-out type, seed, method) cell, resume-aware; returns the summary path."""
    cells = make_cells(args) if cells is None else cells
    data_dir = None if args.data_dir is None else str(args.data_dir)
    out = Path(args.out)
    store = common.ResultStore(out / f"{PREFIX}_results.csv", COLUMNS, KEY_COLUMNS)
    adbench.run_cells(
        cells, unseen_cell_fn(data_dir, args.budget, args.n_jobs, dict(args.env_kwargs)), store,
        backend=args.backend, retry_failed=args.retry_failed, progress=not args.no_progress,
        backend_options=ray_backend.backend_options(args), expected=adbench.expected_fields(args.budget),
        recompute=getattr(args, "recompute", False),
    )  # fmt: skip
    return report.write_report(
        list(store.rows.values()), out, prefix=PREFIX, group_column="held_out_type", reference=args.reference,
        command=common.command_line(args, "benchmarks.unseen"), commit=common.git_commit(),
        title=report.TITLES["unseen"],
    )  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    """``python -m benchmarks.unseen ...``; a bad option exits with code 2 and one line."""
    return common.runner_main("benchmarks.unseen", __doc__, add_arguments, make_cells, run, argv)


if __name__ == "__main__":
    # Run the imported module's main, not this __main__ copy: Ray pickles functions by module reference,
    # and workers can only find ``benchmarks.unseen``, never the driver's ``__main__``.
    from benchmarks.unseen import main as _main

    raise SystemExit(_main())
