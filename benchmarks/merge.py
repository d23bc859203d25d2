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
not merged (say, of rows whose timings sit side by side with another method's). Both runners' layouts
(``benchmarks.adbench``, ``benchmarks.unseen``) are known; a CSV in neither, a fresh CSV in another
layout than the committed one, or a committed CSV with damaged rows is refused with the reason.
"""

from __future__ import annotations

import argparse
import csv
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from benchmarks import adbench, common, unseen

__all__ = ["LAYOUTS", "compare", "layout_of", "main", "merge"]

LAYOUTS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "adbench": (tuple(adbench.COLUMNS), tuple(adbench.KEY_COLUMNS)),
    "unseen": (tuple(unseen.COLUMNS), tuple(unseen.KEY_COLUMNS)),
}
"""Runner name -> (columns, key columns) of its results CSV."""

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
    for name, (columns, _) in LAYOUTS.items():
        if header == columns:
            return name
    raise ValueError(
        f"{path}: its header is not a runner's results layout ({', '.join(LAYOUTS)}); "
        f"it starts {list(header[:6])}"
    )


def _store(path: Path, layout: str) -> common.ResultStore:
    columns, keys = LAYOUTS[layout]
    return common.ResultStore(path, columns, keys)


def _describe(key: Key, key_columns: Sequence[str]) -> str:
    return " ".join(f"{c}={v}" for c, v in zip(key_columns, key, strict=True) if v and c != "method")


def compare(
    old: dict[Key, dict[str, str]], new: dict[Key, dict[str, str]], key_columns: Sequence[str]
) -> str:
    """Per method: cells compared, AUC-ROC values equal, cells new, and each moved cell (AUC points)."""
    by_method: dict[str, list[Key]] = defaultdict(list)
    for key, row in new.items():
        by_method[row["method"]].append(key)
    lines = []
    for method, keys in by_method.items():
        known = [k for k in keys if k in old]
        moved = [k for k in known if old[k]["auc_roc"] != new[k]["auc_roc"]]
        lines.append(
            f"{method}: {len(known)} cells compared, {len(known) - len(moved)} AUC-ROC equal, "
            f"{len(keys) - len(known)} new"
        )
        for key in moved:
            before, after = old[key]["auc_roc"], new[key]["auc_roc"]
            delta = f"{100 * (float(after) - float(before)):+.2f}" if before and after else "n/a"
            lines.append(
                f"  {_describe(key, key_columns)}: {before or '-'} -> {after or '-'} ({delta} points; "
                f"old row written at {old[key]['commit'] or 'unknown commit'})"
            )
    return "\n".join(lines)


def merge(committed: Path, fresh: Sequence[Path], *, check: bool = False) -> str:
    """Merge the rows of ``fresh`` CSVs into ``committed`` (unless ``check``); returns the report.

    Raises:
        ValueError: A file is missing or in another layout, or ``committed`` holds damaged rows (a
            merge rewrites the file and would drop them).
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
    report = compare(store.rows, new, store.key_columns)
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
