"""What the benchmark runners read from the command line and record about where a result came from.

Provenance (the commit, the command as it was typed) and input checks (datasets, ``la``, seeds, the
shared run arguments, one-line errors). :mod:`benchmarks.common` re-exports every name.
"""

from __future__ import annotations

import argparse
import functools
import shlex
import subprocess
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]


# ------------------------------------------------------------------------------------------ provenance
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


def invoked_as(module: str) -> str:
    """``swift-hydra bench NAME`` when called through the console script (it sets argv[0]), else ``python -m``."""
    prog = sys.argv[0] if sys.argv else ""
    return prog if prog.startswith("swift-hydra") else f"python -m {module}"


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


# ------------------------------------------------------------------------------------------ inputs
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


def check_la(values: float | Sequence[float]) -> None:
    """``ValueError`` unless every labeled-anomaly fraction lies in (0, 1]."""
    for la in np.atleast_1d(values):
        if not 0.0 < float(la) <= 1.0:
            raise ValueError(f"--la values must be in (0, 1], got {la:g}")


def add_run_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Where and how cells run (backend, Ray options, retries, progress); shared by every runner."""
    from benchmarks import ray_backend
    from benchmarks.backends import BACKENDS

    parser.add_argument("--backend", default="serial", choices=sorted(BACKENDS), help="where cells run")
    ray_backend.add_ray_arguments(parser)
    parser.add_argument("--retry-failed", action="store_true", help="rerun cells recorded as failed")
    parser.add_argument(
        "--recompute", action="store_true",
        help="rerun every cell of the grid even if finished (the new rows replace the old); for a change "
        "the budget fingerprint does not see, such as a method's own settings. Interrupted? Continue without it",
    )  # fmt: skip
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    return parser


def report_stop(prog: str, args: argparse.Namespace, stop: BaseException) -> int:
    """One line for a run that Ctrl-C or SIGTERM stopped; returns its exit code (130 or 143).

    Every finished cell is already in the results file (each is written atomically as it ends), so the
    same command continues where the run stopped; with ``--recompute`` it would start over.
    """
    from agents.interrupt import exit_code

    again = (
        "the same command without --recompute" if getattr(args, "recompute", False) else "the same command"
    )
    print(
        f"{prog}: interrupted; the finished cells are saved in {args.out}; run {again} to continue",
        file=sys.stderr,
    )
    return exit_code(stop)


def fail(parser: argparse.ArgumentParser, err: BaseException) -> NoReturn:
    """Exit with code 2 and one line naming the bad input, as argparse does for a bad option."""
    message = str(err).replace("\n", " ")
    parser.exit(2, f"{parser.prog}: error: {message}\n")


def check_seeds(seeds: Iterable[int]) -> None:
    """``ValueError`` unless every seed is an integer in [0, 2**32) (numpy's seed range)."""
    for seed in seeds:
        if not 0 <= int(seed) < 2**32:
            raise ValueError(f"--seeds values must be in [0, 2**32), got {seed}")


def runner_main(
    module: str,
    description: str | None,
    add_arguments: Callable[[argparse.ArgumentParser], argparse.ArgumentParser],
    make_cells: Callable[[argparse.Namespace], Any],
    run: Callable[[argparse.Namespace, Any], Any],
    argv: list[str] | None = None,
) -> int:
    """``main`` of a cell runner (adbench, unseen): parse, build the cells, run; bad options exit 2, and
    Ctrl-C or SIGTERM one line (:func:`report_stop`)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    prog = invoked_as(module)
    parser = add_arguments(argparse.ArgumentParser(prog=prog, description=description))
    args = parser.parse_args(argv)
    args.command = " ".join([prog, *map(shlex.quote, argv)])
    from agents.interrupt import STOPS, sigterm_raises

    try:
        cells = make_cells(args)
    except (ValueError, FileNotFoundError) as err:
        fail(parser, err)
    try:
        with sigterm_raises():
            summary = run(args, cells)
    except STOPS as stop:
        return report_stop(prog, args, stop)
    print(f"summary: {summary}")
    return 0
