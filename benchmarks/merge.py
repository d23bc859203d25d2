"""Merge a rerun's rows into a committed results CSV, and say which cells changed.

A rerun of committed cells (a re-timing, a reproducibility check, a method whose code changed) runs into
a fresh ``--out``, so a run that is stopped or fails never touches the committed table. Its rows are merged
afterwards::

    python -m benchmarks.merge benchmarks/results/adbench/adbench_results.csv /tmp/rerun/adbench_results.csv
    python -m benchmarks.report benchmarks/results/adbench/adbench_results.csv

Each fresh row replaces the committed row of the same cell (the layout's key columns) where it stands, so
the file keeps its order; cells the committed file lacks are appended. Before writing, the merge reports
per method how many cells it compared, how many AUC-ROC values are equal, and every cell whose AUC-ROC
moved, with the commit that wrote the old row. ``--check`` only reports: a reproducibility check that is
not merged (say, of rows whose timings sit side by side with another method's). The layouts of
``benchmarks.adbench`` and ``benchmarks.unseen`` (by method, on AUC-ROC) and of the policy leaderboard,
``benchmarks.policies`` (by algo, on ``auc_gain``), are known. A CSV in none of them, a fresh CSV in
another layout than the committed one, fresh leaderboard rows run with other options (deployment, gate,
env kwargs, fits per side) than the committed rows, or a committed CSV with damaged rows is refused with
the reason.
"""

from __future__ import annotations

import argparse
import csv
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from benchmarks import adbench, common, policies, unseen

__all__ = ["LAYOUTS", "Layout", "compare", "layout_of", "main", "merge"]


@dataclass(frozen=True)
class Layout:
    """A runner's results CSV: its columns, the columns that key a cell, and what a merge reports."""

    columns: tuple[str, ...]
    key_columns: tuple[str, ...]
    group: str = "method"
    """The column the report groups cells by."""
    metric: str = "auc_roc"
    """The column whose values the report compares."""
    option_columns: tuple[str, ...] = ()
    """Run options outside the key: every row of one file must share them."""


LAYOUTS: dict[str, Layout] = {
    "adbench": Layout(tuple(adbench.COLUMNS), tuple(adbench.KEY_COLUMNS)),
    "unseen": Layout(tuple(unseen.COLUMNS), tuple(unseen.KEY_COLUMNS)),
    "policies": Layout(
        tuple(policies.COLUMNS),
        tuple(policies.KEY_COLUMNS),
        "algo",
        "auc_gain",
        tuple(policies.OPTION_COLUMNS),
    ),
}
"""Runner name -> the layout of its results CSV."""

Key = tuple[str, ...]


def layout_of(path: Path) -> str:
    """The runner whose results layout the CSV at ``path`` has (by its header).

    Raises:
        ValueError: No such file, or its header is neither runner's.
    """
    if not Path(path).is_file():
        raise ValueError(f"no results CSV at {path}")
    with open(path, newline="") as fh:
        header = tuple(next(csv.reader(fh), ()))
    for name, layout in LAYOUTS.items():
        if header == layout.columns:
            return name
    raise ValueError(
        f"{path}: its header is not a runner's results layout ({', '.join(LAYOUTS)}); "
        f"it starts {list(header[:6])}"
    )


def _store(path: Path, layout: str) -> common.ResultStore:
    return common.ResultStore(path, LAYOUTS[layout].columns, LAYOUTS[layout].key_columns)


def _describe(key: Key, key_columns: Sequence[str], group: str) -> str:
    return " ".join(f"{c}={v}" for c, v in zip(key_columns, key, strict=True) if v and c != group)


def compare(
    old: dict[Key, dict[str, str]],
    new: dict[Key, dict[str, str]],
    key_columns: Sequence[str],
    *,
    group: str = "method",
    metric: str = "auc_roc",
) -> str:
    """Per ``group`` value: cells compared, ``metric`` values equal, cells new, and each moved cell.

    AUC-ROC values are compared in AUC points (x 100); others (``auc_gain`` is in points already) as
    they are.
    """
    by_group: dict[str, list[Key]] = defaultdict(list)
    for key, row in new.items():
        by_group[row[group]].append(key)
    label, scale = ("AUC-ROC", 100.0) if metric == "auc_roc" else (metric, 1.0)
    lines = []
    for name, keys in by_group.items():
        known = [k for k in keys if k in old]
        moved = [k for k in known if old[k][metric] != new[k][metric]]
        lines.append(
            f"{name}: {len(known)} cells compared, {len(known) - len(moved)} {label} equal, "
            f"{len(keys) - len(known)} new"
        )
        for key in moved:
            before, after = old[key][metric], new[key][metric]
            delta = f"{scale * (float(after) - float(before)):+.2f}" if before and after else "n/a"
            lines.append(
                f"  {_describe(key, key_columns, group)}: {before or '-'} -> {after or '-'} ({delta} points; "
                f"old row written at {old[key]['commit'] or 'unknown commit'})"
            )
    return "\n".join(lines)


def _check_same_options(
    committed: Path, old: dict[Key, dict[str, str]], new: dict[Key, dict[str, str]], columns: Sequence[str]
) -> None:
    """Refuses fresh rows run with other options than the committed rows (rows without them predate them)."""
    recorded = next((row for row in old.values() if row.get("deploy")), None)
    for key, row in new.items():
        if recorded is None or not row.get("deploy"):
            continue
        for column in columns:
            if row.get(column, "") != recorded.get(column, ""):
                raise ValueError(
                    f"{committed} holds cells run with {column}={recorded.get(column) or '(none)'}; the fresh "
                    f"row {' '.join(key)} has {column}={row.get(column) or '(none)'}: keep them in files of their own"
                )


def merge(committed: Path, fresh: Sequence[Path], *, check: bool = False) -> str:
    """Merge the rows of ``fresh`` CSVs into ``committed`` (unless ``check``); returns the report.

    Raises:
        ValueError: A file is missing or in another layout, a fresh row's options differ from the
            committed rows', or ``committed`` holds damaged rows (a merge rewrites the file and would drop
            them).
    """
    layout = layout_of(committed)
    for path in fresh:
        if layout_of(path) != layout:
            raise ValueError(f"{path} is a {layout_of(path)} results CSV; {committed} is {layout}")
    store = _store(committed, layout)
    if store.damaged:
        raise ValueError(
            f"{committed} has damaged rows {store.damaged[:5]}: repair it before merging into it"
        )
    new: dict[Key, dict[str, str]] = {}
    for path in fresh:
        new |= _store(path, layout).rows
    spec = LAYOUTS[layout]
    _check_same_options(committed, store.rows, new, spec.option_columns)
    report = compare(store.rows, new, store.key_columns, group=spec.group, metric=spec.metric)
    if not check:
        store.merge(new.values())
    return report


def main(argv: list[str] | None = None) -> int:
    """``python -m benchmarks.merge COMMITTED FRESH [FRESH ...] [--check]``."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.merge", description=__doc__.split("\n\n")[0])
    parser.add_argument("committed", type=Path, help="the results CSV the rows join")
    parser.add_argument("fresh", type=Path, nargs="+", help="results CSVs of the rerun")
    parser.add_argument("--check", action="store_true", help="report only; leave the committed CSV as it is")
    args = parser.parse_args(argv)
    try:
        report = merge(args.committed, args.fresh, check=args.check)
    except ValueError as err:
        parser.exit(2, f"{parser.prog}: error: {err}\n")
    print(report)
    print(f"{'checked against' if args.check else 'merged into'} {args.committed}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
