"""What the benchmark runners share: cells, the results CSV store, atomic writes, datasets, arguments.

Every runner (``adbench``, ``unseen``, ``sweep``, ``policies``) records one CSV row per finished cell in a
:class:`ResultStore`. The store trusts only complete rows: a row cut short (disk full, a killed editor, a
bad copy), with the wrong number of fields, an unknown status, or an ``ok`` row without its metric,
sizes or commit is reported ("damaged row for <cell> in <file>: recomputing") and its cell is run again.
Several runners may write the same file at once: each rewrite happens under a file lock, after merging
the rows other processes wrote meanwhile, so none is lost.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import dataclasses
import hashlib
import io
import json
import logging
import math
import os
import tempfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from filelock import FileLock

from benchmarks.runner_inputs import (  # noqa: F401  (re-exported: the runners import them from here)
    REPO_ROOT,
    add_run_arguments,
    check_la,
    check_seeds,
    command_line,
    fail,
    git_commit,
    invoked_as,
    normalise_name,
    report_stop,
    resolve_datasets,
    runner_main,
)

DEFAULT_OUT = REPO_ROOT / "benchmarks" / "results"
STATUSES = ("ok", "failed")
# Fields an ``ok`` row must carry (those of the store's columns): without them it is not a finished cell.
REQUIRED_WHEN_OK = ("auc_roc", "n_train", "n_test", "n_features", "commit")
# Key fields that may be empty: a cell is asked for by a label fraction ``la`` or a label count
# ``n_labeled`` (one of the two), and only the unseen-type protocol holds a type out.
OPTIONAL_KEY_COLUMNS = frozenset({"n_labeled", "held_out_type"})
# Metrics that are probabilities or areas: a value outside [0, 1] cannot be a measurement.
UNIT_INTERVAL_COLUMNS = frozenset(
    {"auc_roc", "auc_pr", "control_auc_roc", "control_auc_pr", "test_anomaly_rate", "evasion_rate",
     "miss_probability"}
)  # fmt: skip
# Count columns must hold integers; every other column named here must hold a (possibly empty) float.
INTEGER_COLUMNS = frozenset(
    {
        "seed",
        "n_train",
        "n_test",
        "n_features",
        "n_labeled_anomalies",
        "n_labeled",
        "n_synthetic_kept",
        "n_exposure_used",
        "n_generated",
        "n_kept",
    }
)
TEXT_COLUMNS = frozenset(
    {"dataset", "method", "kind", "status", "held_out_type", "budget", "commit", "error", "algo", "run_dir",
     "deterministic", "deploy", "synthetic_gate", "env_kwargs", "budget_fingerprint"}
)  # fmt: skip

log = logging.getLogger("benchmarks")


# ------------------------------------------------------------------------------------------ files
CONTROL_SUFFIX = "_control"
SHARED_CONTROLS = {
    "swift_hydra_exposure": "swift_hydra_control",
    "swift_hydra_exposure_gated": "swift_hydra_control",
    "swift_hydra_reference": "swift_hydra_control",
    "swift_hydra_value": "swift_hydra_control",
}
"""Swift Hydra methods whose paired control is another method's (the same detector, no synthetic row)."""


def control_name(method: str) -> str:
    """The paired no-augmentation control of Swift Hydra method ``method``."""
    return SHARED_CONTROLS.get(method, method + CONTROL_SUFFIX)


def is_control(method: str) -> bool:
    """Whether ``method`` is a no-augmentation control."""
    return method.endswith(CONTROL_SUFFIX)


def _default_mode() -> int:
    """``0o666`` less the process umask: the mode ``open(path, "w")`` would give a new file."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def atomic_write(path: Path, write: Callable[[Path], object]) -> None:
    """``write(tmp_path)`` then ``os.replace``: readers never see a half-written file.

    The file gets the umask's default mode (results are meant to be shared), not ``mkstemp``'s 0600.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, _default_mode())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def record_command(path: Path, command: str) -> str:
    """Appends ``command`` to the history file unless it is the last entry; returns the history as text."""
    history = path.read_text().splitlines() if path.is_file() else []
    if command and (not history or history[-1] != command):
        history.append(command)
        atomic_write(path, lambda p: p.write_text("\n".join(history) + "\n"))
    return "`, then `".join(history) if history else command


def comma_list(text: str) -> list[str]:
    """argparse type for ``a,b,c``; an empty list is an error."""
    items = [t.strip() for t in text.split(",") if t.strip()]
    if not items:
        raise argparse.ArgumentTypeError(f"expected a comma-separated list, got {text!r}")
    return items


# ------------------------------------------------------------------------------------------ cells
def la_text(la: float | None) -> str:
    """The ``la`` field of a row: ``""`` for a cell asked for by label count."""
    return "" if la is None else f"{la:g}"


def regime_text(la: float | str | None, n_labeled: int | str | None) -> str:
    """How many labels a cell had, as the summaries name it: ``"la=0.1"`` or ``"K=3"``."""
    if n_labeled not in (None, ""):
        return f"K={int(n_labeled)}"
    return f"la={float(la):g}"


def row_regime(row: dict) -> str:
    """:func:`regime_text` of a results row (rows written before label counts have no ``n_labeled``)."""
    return regime_text(row.get("la"), row.get("n_labeled"))


def regime_order(regime: str) -> tuple[int, float]:
    """Sort key of a :func:`regime_text` label: label fractions first, then label counts, each ascending."""
    kind, _, value = regime.partition("=")
    return (0 if kind == "la" else 1, float(value))


@dataclass(frozen=True)
class Cell:
    """One unit of work, at a label fraction ``la`` or a label count ``n_labeled`` (then ``la`` is None).

    ``held_out_type`` is only set by the unseen-anomaly protocol.
    """

    dataset: str
    la: float | None
    seed: int
    method: str
    held_out_type: str | None = None
    n_labeled: int | None = None

    def key(self, key_columns: Sequence[str]) -> tuple[str, ...]:
        values = {
            "dataset": self.dataset,
            "la": la_text(self.la),
            "n_labeled": "" if self.n_labeled is None else str(self.n_labeled),
            "seed": str(self.seed),
            "method": self.method,
        }
        values["held_out_type"] = self.held_out_type or ""
        return tuple(values[c] for c in key_columns)

    @property
    def regime(self) -> str:
        return regime_text(self.la, self.n_labeled)

    def labels(self) -> dict[str, Any]:
        """The row fields that say which labels the cell had (``la`` or ``n_labeled``)."""
        return {"la": self.la, "n_labeled": self.n_labeled}

    def __str__(self) -> str:
        extra = f" {self.held_out_type}" if self.held_out_type else ""
        return f"{self.dataset} {self.regime} seed={self.seed}{extra} {self.method}"


def format_value(value: Any) -> str:
    """A CSV field: empty for ``None`` and non-finite floats, 6 significant digits for floats."""
    if value is None:
        return ""
    if isinstance(value, float | np.floating):
        return "" if not np.isfinite(value) else f"{float(value):.6g}"
    return str(value)


def _number_problem(column: str, value: str) -> str | None:
    if value == "" or column in TEXT_COLUMNS:
        return None
    try:
        number = int(value) if column in INTEGER_COLUMNS else float(value)
    except ValueError:
        return f"{column}={value!r} is not a number"
    if isinstance(number, float) and not math.isfinite(number):
        return f"{column}={value!r} is not finite"
    if column in UNIT_INTERVAL_COLUMNS and not 0.0 <= number <= 1.0:
        return f"{column}={value!r} is outside [0, 1]"
    return None


def key_problem(row: dict[str, str], key_columns: Sequence[str]) -> str | None:
    """Why a row's key cannot name a cell (a required key field is empty), or ``None``."""
    missing = [c for c in key_columns if not row.get(c) and c not in OPTIONAL_KEY_COLUMNS and c != "la"]
    if "la" in key_columns and not row.get("la") and not row.get("n_labeled"):
        missing.append("la (or n_labeled)")
    return f"missing key field(s) {missing}" if missing else None


def row_problem(row: dict[str, str], key_columns: Sequence[str], columns: Sequence[str]) -> str | None:
    """Why a parsed CSV row cannot be trusted as a finished cell, or ``None`` when it can."""
    missing_key = key_problem(row, key_columns)
    if missing_key:
        return missing_key
    if row.get("status") not in STATUSES:
        return f"status {row.get('status')!r} is not one of {list(STATUSES)}"
    if row["status"] == "ok":
        missing = [c for c in REQUIRED_WHEN_OK if c in columns and not row.get(c)]
        if missing:
            return f"ok row without {missing}"
    for column in columns:
        problem = _number_problem(column, row.get(column) or "")
        if problem:
            return problem
    return None


class ResultStore:
    """A CSV of finished cells, one row per cell key, rewritten atomically after every cell.

    On load, complete rows are kept; damaged ones (see the module docstring) are logged and their cells
    left out, so the runner recomputes them. :meth:`add` re-reads the file under a file lock and merges
    before each rewrite, so runners sharing a file never drop each other's rows.

    Attributes:
        rows: ``{key: row}`` of the trusted rows (all values strings, in ``columns``).
        damaged: Keys (or ``"line N"`` when the key itself is cut) of the rows found damaged.
    """

    def __init__(self, path: Path, columns: Sequence[str], key_columns: Sequence[str]):
        self.path = Path(path)
        self.columns = tuple(columns)
        self.key_columns = tuple(key_columns)
        self.damaged: list[tuple[str, ...] | str] = []
        self._lock = FileLock(str(self.path.with_name(f".{self.path.name}.lock")))
        self._added: set[tuple[str, ...]] = set()
        self.rows: dict[tuple[str, ...], dict[str, str]] = self._read(report=True)

    def status(self, key: tuple[str, ...]) -> str | None:
        row = self.rows.get(key)
        return row["status"] if row else None

    def _describe(self, key: tuple[str, ...]) -> str:
        return " ".join(f"{c}={v}" for c, v in zip(self.key_columns, key, strict=True) if v)

    def _read(self, report: bool) -> dict[tuple[str, ...], dict[str, str]]:
        """Parses the file; damaged rows are dropped (and logged when ``report``)."""
        if not self.path.is_file():
            return {}
        raw = self.path.read_bytes().decode("utf-8", errors="replace")
        records = list(csv.reader(io.StringIO(raw, newline="")))
        if not records:
            return {}
        header, body = records[0], records[1:]
        rows: dict[tuple[str, ...], dict[str, str]] = {}
        bad_keys: set[tuple[str, ...]] = set()
        cut_last = not raw.endswith("\n")  # the last row lost at least its line end
        for number, fields in enumerate(body, start=2):
            row = dict(zip(header, fields, strict=False))
            key = tuple(row.get(c) or "" for c in self.key_columns)
            keyed = key_problem(row, self.key_columns) is None
            if len(fields) != len(header):
                problem = f"{len(fields)} fields, expected {len(header)}"
            elif cut_last and number == len(records):
                problem = "the file ends inside this row"
            else:
                problem = row_problem(row, self.key_columns, self.columns)
            clean = {c: (row.get(c) or "") for c in self.columns}
            if problem is None and key in rows and rows[key] != clean:
                problem = "a second row for this cell with other values"
            if problem is None:
                rows[key] = clean
                continue
            if keyed:
                bad_keys.add(key)
            if report:
                self.damaged.append(key if keyed else f"line {number}")
                where = self._describe(key) if keyed else f"line {number}"
                log.warning("damaged row for %s in %s (%s): recomputing", where, self.path, problem)
        for key in bad_keys:  # a cell with a damaged row is recomputed, even beside an intact copy
            rows.pop(key, None)
        return rows

    def add(self, row: dict) -> None:
        """Record a finished cell: merge with the file's current rows and rewrite it, under the lock."""
        clean = {c: format_value(row.get(c)) for c in self.columns}
        key = tuple(clean[c] for c in self.key_columns)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock:
            merged = self._read(report=False)
            merged.update({k: self.rows[k] for k in self._added if k in self.rows})
            merged[key] = clean
            self._added.add(key)
            self.rows = merged
            atomic_write(self.path, self._write)

    def merge(self, rows: Iterable[dict]) -> None:
        """Record many finished cells at once (a rerun's rows, ``benchmarks.merge``), under the lock.

        Each row replaces the row of its cell where it stands, or is appended; one atomic rewrite.
        """
        cleaned = [{c: format_value(row.get(c)) for c in self.columns} for row in rows]
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock:
            merged = self._read(report=False)
            merged.update({k: self.rows[k] for k in self._added if k in self.rows})
            for row in cleaned:
                key = tuple(row[c] for c in self.key_columns)
                merged[key] = row
                self._added.add(key)
            self.rows = merged
            atomic_write(self.path, self._write)

    def _write(self, tmp: Path) -> None:
        with open(tmp, "w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=self.columns)
            writer.writeheader()
            writer.writerows(self.rows.values())
            fh.flush()
            os.fsync(fh.fileno())


def pending(
    cells: Iterable[Any], store: ResultStore, *, retry_failed: bool = False,
    expected: Callable[[Any], dict[str, str]] | None = None, recompute: bool = False,
) -> list[Any]:  # fmt: skip
    """The cells (objects with ``key(key_columns)``) not yet finished in ``store``.

    A ``failed`` cell counts as finished unless ``retry_failed``; damaged rows never do. ``expected(cell)``
    gives fields a reusable row must hold (e.g. ``{"budget_fingerprint": ...}``): a row measured under
    another definition is stale and its cell runs again (the new row replaces it). ``recompute``: every
    cell runs again, finished or not (after a change no fingerprint sees, such as a method's own
    settings; the new rows replace the old ones).
    """
    if recompute:
        return list(cells)
    skip = set(STATUSES) - ({"failed"} if retry_failed else set())
    todo = []
    for cell in cells:
        row = store.rows.get(cell.key(store.key_columns))
        stale = (
            row is not None
            and expected is not None
            and any(row.get(c, "") != v for c, v in expected(cell).items())
        )
        if row is None or row["status"] not in skip or stale:
            todo.append(cell)
    return todo


def budget_fingerprint(budget: Any) -> str:
    """12 hex digits of SHA-256 over the resolved budget's settings (its preset name left out).

    A preset's name says nothing when its definition changes (``small`` has been redefined before): rows
    carry this fingerprint, and the runners treat a row measured under another one as stale.
    """
    from agents.config import get_budget

    settings = dataclasses.asdict(get_budget(budget))
    settings.pop("name", None)
    text = json.dumps(settings, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


@contextlib.contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """Runs the block on ``n`` torch CPU threads and restores the previous count (``None``: unchanged).

    The runners time every method at the same thread budget. Torch's default (one thread per core)
    made Swift Hydra's VAE and detector fits several times slower than on one thread while a second
    runner shared the 2 cores, and CatBoost already ran on ``n_jobs=1``: the cost ratio was unfair.
    """
    if n is None or n < 1:
        yield
        return
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(int(n))
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def cell_values(
    rows: Iterable[Any], column: str, outer: str, inner: str
) -> dict[str, dict[str, dict[tuple[str, str], float]]]:
    """``{row[outer]: {row[inner]: {(dataset, seed): float(row[column])}}}`` of the ``ok`` rows carrying ``column``.

    The summaries pair methods cell by cell from this shape (e.g. ``outer="la", inner="method"``).
    """
    out: dict = defaultdict(lambda: defaultdict(dict))
    for row in rows:
        value = row.get(column)
        if row.get("status") == "ok" and value not in (None, ""):
            out[row[outer]][row[inner]][(row["dataset"], row["seed"])] = float(value)
    return out
