"""A sweep of ``swift-hydra train`` runs: datasets x algorithms x label ratios x seeds, one CSV row each.

    python -m benchmarks.sweep --datasets wdbc,wine --algos ppo,sac,random --seeds 1 2 3 --la 0.1 \\
        --budget tiny --backend serial --out benchmarks/results/sweep

    # the same sweep on a Ray cluster (see docs/RAY.md)
    python -m benchmarks.sweep ... --backend ray --address auto

Each cell is one full run of :func:`agents.experiment.run` (the closed loop, the no-augmentation
control and their test AUC-ROC/AUC-PR on the ADBench split). ``sweep_results.csv`` is rewritten
atomically after every cell, so a killed sweep resumes: finished cells are skipped (failed ones too,
unless ``--retry-failed``), and a cell killed mid-run continues from its last checkpointed round when
its run directory (``<runs-dir>/<dataset>-<algo>-la<la>-s<seed>-<budget>``) is still there. A cell
that raises, or whose Ray task dies, is recorded as ``status=failed`` with its error and the sweep goes on.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks import common, ray_backend
from benchmarks.backends import make_backend
from benchmarks.common import (
    ResultStore,
    add_run_arguments,
    atomic_write,
    comma_list,
    git_commit,
    record_command,
    report_stop,
    resolve_datasets,
)

RESULTS_FILE = "sweep_results.csv"
COMMANDS_FILE = "sweep_commands.txt"  # every command that added cells, in order
COLUMNS = (
    "dataset", "algo", "la", "n_labeled", "seed", "budget", "budget_fingerprint", "status", "auc_roc", "auc_pr",
    "control_auc_roc",
    "control_auc_pr", "delta_auc_roc", "n_train", "n_test", "n_features", "n_labeled_anomalies",
    "n_synthetic_kept", "wall_seconds", "deploy", "synthetic_gate", "env_kwargs", "run_dir", "commit", "error",
)  # fmt: skip
# The run's LoopOptions: one value per results folder (not part of the cell key; see check_same_options).
OPTION_COLUMNS = ("deploy", "synthetic_gate", "env_kwargs")
KEY_COLUMNS = ("dataset", "algo", "la", "n_labeled", "seed", "budget")

# train(config, run_dir, resume) -> the summary dict of agents.experiment.run
TrainFn = Callable[[Any, Path, bool], dict[str, Any]]


@dataclass(frozen=True)
class SweepCell:
    """One ``swift-hydra train`` run of the sweep, at a label fraction ``la`` or a count ``n_labeled``."""

    dataset: str
    algo: str
    la: float | None
    seed: int
    budget: str
    n_labeled: int | None = None

    def key(self, key_columns: Sequence[str] = KEY_COLUMNS) -> tuple[str, ...]:
        values = {
            "dataset": self.dataset,
            "algo": self.algo,
            "la": common.la_text(self.la),
            "seed": str(self.seed),
        }
        values |= {"budget": self.budget, "n_labeled": "" if self.n_labeled is None else str(self.n_labeled)}
        return tuple(values[c] for c in key_columns)

    @property
    def regime(self) -> str:
        return common.regime_text(self.la, self.n_labeled)

    def run_name(self) -> str:
        labels = f"la{self.la:g}" if self.n_labeled is None else f"k{self.n_labeled}"
        return f"{Path(self.dataset).stem}-{self.algo}-{labels}-s{self.seed}-{self.budget}"

    def row(self) -> dict[str, Any]:
        """The key fields of this cell's CSV row, and the fingerprint of its budget's definition."""
        return {
            "dataset": self.dataset,
            "algo": self.algo,
            "la": self.la,
            "n_labeled": self.n_labeled,
            "seed": self.seed,
            "budget": self.budget,
            "budget_fingerprint": common.budget_fingerprint(self.budget),
        }

    def __str__(self) -> str:
        return f"{self.dataset} {self.algo} {self.regime} seed={self.seed}"


def train_experiment(config: Any, run_dir: Path, resume: bool) -> dict[str, Any]:
    """The default cell body: :func:`agents.experiment.run`, continuing a run directory left by a kill."""
    from agents import experiment

    if resume:
        config, hyperparams_raw = experiment.load_run_config(run_dir)
        config.progress = False
        return experiment.run(config, run_dir, resume=True, hyperparams_raw=hyperparams_raw)
    return experiment.run(config, run_dir)


def summary_row(summary: dict[str, Any]) -> dict[str, Any]:
    """The CSV fields of an :func:`agents.experiment.run` summary."""
    test = summary.get("test", {})
    ours, control = test.get("swift_hydra", {}), test.get("control", {})
    row = {k: summary.get(k) for k in ("n_train", "n_test", "n_features", "n_labeled_anomalies")}
    return row | {
        "status": "ok",
        "auc_roc": ours.get("auc_roc"),
        "auc_pr": ours.get("auc_pr"),
        "control_auc_roc": control.get("auc_roc"),
        "control_auc_pr": control.get("auc_pr"),
        "delta_auc_roc": summary.get("delta_auc_roc"),
        "n_synthetic_kept": summary.get("n_synthetic_kept"),
        "run_dir": summary.get("run_dir"),
    }


def sweep_cell_fn(
    data_dir: str | None, runs_dir: str | None, commit: str = "", train: TrainFn | None = None,
    options: Any = None,
) -> Callable[[SweepCell], dict[str, Any]]:  # fmt: skip
    """The function a backend runs per cell; it returns the cell's CSV row and never raises an Exception.

    Args:
        data_dir: Folder of ADBench ``.npz`` files, the same path on every node (embedded sets need none).
        runs_dir: Where each cell keeps its run directory (checkpoints, detectors, plots); ``None``: a
            temporary folder, deleted after the cell.
        commit: Code version recorded in every row.
        train: The cell body (default :func:`train_experiment`); tests pass a fast stand-in.
        options: :class:`agents.config.LoopOptions` of every run (default: the package's).
    """
    from agents.config import LoopOptions

    train = train or train_experiment
    options = options or LoopOptions()
    # The control depends on (dataset, la, seed, budget) only, not on the algo: train it once per
    # process and reuse it for the other algos (a Ray worker may still train it again; same numbers).
    controls: dict[tuple, dict[str, Any]] = {}

    def fn(cell: SweepCell) -> dict[str, Any]:
        from agents.config import TrainConfig

        base = cell.row() | {"commit": commit} | option_values(options)
        control_key = (cell.dataset, cell.la, cell.n_labeled, cell.seed, cell.budget, options.deploy)
        known_control = controls.get(control_key)
        started = time.perf_counter()
        try:
            config = TrainConfig(
                dataset=cell.dataset, algo=cell.algo, seed=cell.seed, budget=cell.budget, **_labels(cell),
                data_dir=data_dir, options=options, control=known_control is None, progress=False,
            )  # fmt: skip
            if runs_dir is None:
                with tempfile.TemporaryDirectory(prefix="swift-hydra-sweep-") as tmp:
                    summary = train(config, Path(tmp) / cell.run_name(), False) | {"run_dir": ""}
            else:
                from agents.experiment import is_run_dir

                run_dir = Path(runs_dir) / cell.run_name()
                summary = train(config, run_dir, is_run_dir(run_dir))
        except Exception as err:  # one failing run must not stop the sweep
            return base | {"status": "failed", "error": ray_backend.error_text(err)}
        row = base | summary_row(summary) | {"wall_seconds": time.perf_counter() - started}
        if known_control is None:
            if row["control_auc_roc"] is not None:  # a resumed cell may have been run without it
                controls[control_key] = {k: row[k] for k in ("control_auc_roc", "control_auc_pr")}
        else:
            row |= known_control
            if None not in (row["auc_roc"], row["control_auc_roc"]):
                row["delta_auc_roc"] = row["auc_roc"] - row["control_auc_roc"]
        return row

    def on_one_thread(cell: SweepCell) -> dict[str, Any]:
        with common.torch_threads(1):  # one core per cell, as every runner (see benchmarks.common)
            return fn(cell)

    return on_one_thread


def _labels(cell: SweepCell) -> dict[str, Any]:
    """``TrainConfig``'s label fields of ``cell``: its ``la``, or its ``n_labeled`` (then la is unused)."""
    if cell.n_labeled is None:
        return {"la": cell.la}
    return {"n_labeled": cell.n_labeled}


def option_values(options: Any) -> dict[str, str]:
    """The CSV fields (``OPTION_COLUMNS``) recording a run's :class:`agents.config.LoopOptions`."""
    return {
        "deploy": options.deploy,
        "synthetic_gate": str(bool(options.synthetic_gate)),
        "env_kwargs": json.dumps(options.env_kwargs, sort_keys=True) if options.env_kwargs else "",
    }


def check_same_options(store: ResultStore, values: dict[str, str], columns: Sequence[str]) -> None:
    """Refuses to add cells run with other options to a results file (they are not in the cell key).

    Rows without the option columns (written before they existed) are not checked.

    Raises:
        ValueError: Naming the first differing option and its recorded value.
    """
    for row in store.rows.values():
        if not row.get("deploy"):  # an older row: its options were not recorded
            continue
        for column in columns:
            if row.get(column, "") != values[column]:
                raise ValueError(
                    f"{store.path} holds cells run with {column}={row.get(column) or '(none)'}, not "
                    f"{values[column] or '(none)'}; use another --out for other options"
                )


def add_loop_option_arguments(parser: argparse.ArgumentParser) -> None:
    """``--env-kwargs``, ``--deploy`` and ``--synthetic-gate/--no-synthetic-gate`` (the run's LoopOptions)."""
    from agents.config import LoopOptions
    from agents.deploy import DEPLOY_CHOICES
    from benchmarks.adbench import add_env_kwargs_argument

    add_env_kwargs_argument(parser)
    parser.add_argument(
        "--deploy", choices=list(DEPLOY_CHOICES), default=LoopOptions.deploy,
        help=f"deployment detector of Swift Hydra and of the control (default: {LoopOptions.deploy})",
    )  # fmt: skip
    parser.add_argument(
        "--synthetic-gate", action=argparse.BooleanOptionalAction, default=LoopOptions.synthetic_gate,
        help="let validation evidence decide whether kept synthetic anomalies join the deployment fit "
        "(--no-synthetic-gate: they always do)",
    )  # fmt: skip


def loop_options(args: argparse.Namespace) -> Any:
    """The validated :class:`agents.config.LoopOptions` of ``args``.

    Raises:
        ValueError: Naming a bad option (an unknown ``--env-kwargs`` field included).
    """
    from agents.config import LoopOptions

    try:
        return LoopOptions(
            deploy=args.deploy, synthetic_gate=args.synthetic_gate, env_kwargs=dict(args.env_kwargs)
        )
    except TypeError as err:  # EnvConfig names an unknown field with a TypeError
        raise ValueError(f"--env-kwargs: {err}") from err


def build_backend(name: str, *, progress: bool, options: dict[str, Any] | None = None) -> Any:
    """``make_backend`` with the ray options."""
    return make_backend(name, progress=progress, describe=str, **(options or {}))


def run_sweep(
    cells: Sequence[SweepCell], fn: Callable[[SweepCell], dict[str, Any]], store: ResultStore, backend: Any,
    *, retry_failed: bool = False, recompute: bool = False,
) -> list[SweepCell]:  # fmt: skip
    """Run the cells not yet in ``store`` on ``backend``; returns the cells that were run.

    A row measured under another definition of its budget preset (its ``budget_fingerprint``) is stale:
    its cell runs again.
    """
    todo = common.pending(
        cells, store, retry_failed=retry_failed, recompute=recompute,
        expected=lambda cell: {"budget_fingerprint": common.budget_fingerprint(cell.budget)},
    )  # fmt: skip

    def on_result(cell: SweepCell, row: dict[str, Any]) -> None:
        store.add(row)

    def on_error(cell: SweepCell, exc: BaseException) -> None:  # the task itself died (e.g. worker crash)
        store.add(cell.row() | {"status": "failed", "error": f"task: {ray_backend.error_text(exc)}"})

    backend.run(todo, fn, on_result, on_error=on_error)
    return todo


def _mean(values: list[float]) -> str:
    return f"{100 * sum(values) / len(values):.2f}" if values else "-"


def write_summary(rows: Sequence[dict[str, str]], out: Path, *, command: str, commit: str) -> Path:
    """``sweep_summary.md`` (means over seeds per budget, la, dataset and algo) and ``sweep_delta.png``.

    Every figure comes from ``rows`` (the CSV); the markdown records the command that produced it.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ok = [r for r in rows if r["status"] == "ok"]
    # The budget is part of the cell key: one CSV may hold several, and their seeds must not pool.
    groups: dict[tuple[str, str, str, str], list[dict[str, str]]] = {}
    for r in ok:
        groups.setdefault((r["budget"], common.row_regime(r), r["dataset"], r["algo"]), []).append(r)
    several_budgets = len({key[0] for key in groups}) > 1

    def column(group: list[dict[str, str]], name: str) -> list[float]:
        return [float(r[name]) for r in group if r[name] != ""]

    lines = [
        "# Swift Hydra sweep", "", f"- Command(s), in the order they ran: `{command}`", f"- Commit: `{commit}`",
        f"- Cells: {len(ok)} ok, {len(rows) - len(ok)} failed", "",
        "Test AUC-ROC (%) of Swift Hydra and of the no-augmentation control, mean over the seeds that finished.",
        "", "| budget | labels | dataset | algo | seeds | Swift Hydra | control | delta (points) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]  # fmt: skip
    deltas: dict[str, list[float]] = {}
    for (budget, la, dataset, algo), group in sorted(groups.items()):
        delta = column(group, "delta_auc_roc")
        deltas.setdefault(f"{algo} ({budget})" if several_budgets else algo, []).extend(delta)
        lines.append(
            f"| {budget} | {la} | {dataset} | {algo} | {len(group)} | {_mean(column(group, 'auc_roc'))} "
            f"| {_mean(column(group, 'control_auc_roc'))} | {_mean(delta)} |"
        )
    failed = [r for r in rows if r["status"] != "ok"]
    if failed:
        lines += ["", "## Failed cells", ""]
        lines += [
            f"- {r['dataset']} {r['algo']} {common.row_regime(r)} seed={r['seed']}: `{r['error']}`"
            for r in failed
        ]
    plot = out / "sweep_delta.png"
    if deltas:
        fig, ax = plt.subplots(figsize=(1.2 * len(deltas) + 2, 3))
        ax.bar(list(deltas), [100 * sum(v) / len(v) if v else 0.0 for v in deltas.values()])
        ax.axhline(0, color="black", linewidth=0.8)
        ax.set_ylabel("AUC-ROC gain over control (points)")
        ax.set_title("Swift Hydra minus no-augmentation control, mean over cells")
        fig.tight_layout()
        atomic_write(plot, lambda p: fig.savefig(p, format="png", dpi=120))
        plt.close(fig)
        lines += ["", f"![AUC-ROC gain per algorithm]({plot.name})"]
    path = out / "sweep_summary.md"
    atomic_write(path, lambda p: Path(p).write_text("\n".join(lines) + "\n"))
    return path


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add the sweep's arguments to ``parser``."""
    parser.add_argument("--datasets", required=True, help="'all' or comma-separated names (e.g. wdbc,wine)")
    parser.add_argument(
        "--algos", type=comma_list, default=["ppo"], help="comma-separated, e.g. ppo,sac,random"
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3], help="split/model seeds")
    from benchmarks.adbench import add_label_arguments

    add_label_arguments(parser)
    parser.add_argument("--budget", default="small", help="budget preset: tiny, small or paper")
    parser.add_argument(
        "--data-dir", default=None, help="folder of ADBench .npz files (same path on every node)"
    )
    parser.add_argument("--out", type=Path, required=True, help="folder of sweep_results.csv (and runs/)")
    parser.add_argument("--runs-dir", type=Path, default=None, help="run directories (default: OUT/runs)")
    parser.add_argument(
        "--no-run-dirs",
        action="store_true",
        help="keep only the CSV rows (no checkpoints, no resume mid-run)",
    )
    add_loop_option_arguments(parser)
    return add_run_arguments(parser)


def make_cells(args: argparse.Namespace) -> list[SweepCell]:
    """The grid the options describe, checked before anything runs (``ValueError`` on bad values).

    Shared with ``benchmarks.policies``: both sweep datasets x algos x la x seeds.
    """
    from agents.config import get_budget
    from agents.registry import check_algo
    from benchmarks.adbench import label_regimes

    get_budget(args.budget)
    algos = [check_algo(a) for a in args.algos]
    regimes = label_regimes(args, default_la=(0.1,))
    common.check_seeds(args.seeds)
    datasets = resolve_datasets(args.datasets, args.data_dir)
    return [
        SweepCell(dataset, algo, labels["la"], int(seed), args.budget, n_labeled=labels["n_labeled"])
        for dataset in datasets for algo in dict.fromkeys(algos) for labels in regimes for seed in args.seeds
    ]  # fmt: skip


def run(args: argparse.Namespace, train: TrainFn | None = None) -> Path:
    """Run the sweep ``args`` describe, resume-aware, then write the summary; returns the CSV path."""
    data_dir = None if args.data_dir is None else str(args.data_dir)
    args.data_dir = data_dir
    cells = make_cells(args)
    out = Path(args.out)
    runs_dir = None if args.no_run_dirs else str((args.runs_dir or out / "runs").resolve())
    store = ResultStore(out / RESULTS_FILE, COLUMNS, KEY_COLUMNS)
    backend = build_backend(
        args.backend, progress=not args.no_progress, options=ray_backend.backend_options(args)
    )
    options = loop_options(args)
    check_same_options(store, option_values(options), OPTION_COLUMNS)
    commit = git_commit()
    fn = sweep_cell_fn(data_dir, runs_dir, commit=commit, train=train, options=options)
    run_sweep(
        cells, fn, store, backend, retry_failed=args.retry_failed, recompute=getattr(args, "recompute", False)
    )
    command = getattr(args, "command", None) or "python -m benchmarks.sweep (called from Python)"
    history = record_command(out / COMMANDS_FILE, command)  # every run that added cells, in order
    write_summary(list(store.rows.values()), out, command=history, commit=commit)
    return store.path


def main(argv: list[str] | None = None) -> int:
    """``python -m benchmarks.sweep ...``; bad options exit with code 2 and a message."""
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = add_arguments(
        argparse.ArgumentParser(
            prog=common.invoked_as("benchmarks.sweep"),
            description=__doc__,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
    )
    args = parser.parse_args(argv)
    args.command = " ".join([parser.prog, *map(shlex.quote, argv)])
    from agents.interrupt import STOPS, sigterm_raises

    try:
        with sigterm_raises():
            path = run(args)
    except (ValueError, ImportError, FileNotFoundError) as err:
        parser.exit(2, f"{parser.prog}: error: {err}\n")
    except STOPS as stop:
        return report_stop(parser.prog, args, stop)
    ok = failed = 0
    for row in ResultStore(path, COLUMNS, KEY_COLUMNS).rows.values():
        ok, failed = ok + (row["status"] == "ok"), failed + (row["status"] == "failed")
    print(f"results: {path} ({ok} ok, {failed} failed)")
    return 0


if __name__ == "__main__":
    # Run the imported module's main, not this __main__ copy: Ray pickles functions by module reference,
    # and workers can only find ``benchmarks.sweep``, never the driver's ``__main__``.
    from benchmarks.sweep import main as _main

    raise SystemExit(_main())
