"""The probes' resumable cell loop: ``python -m research.probes.X.probe SHARD N_SHARDS out.jsonl``.

Each probe measures cells (one JSON line per cell, so a stopped run loses at most the cell in progress
and a rerun skips the cells already written); shards split the cells over processes by index.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any


def done_cells(out: str) -> set[tuple]:
    """The cells already written to ``out`` (none when it does not exist yet)."""
    if not os.path.exists(out):
        return set()
    with open(out) as fh:
        return {tuple(json.loads(line)["cell"]) for line in fh}


def append_record(out: str, record: dict[str, Any], *shown: Any) -> None:
    """Append ``record`` as one line and print its cell, its AUCs in points, ``shown`` and its seconds."""
    with open(out, "a") as fh:
        fh.write(json.dumps(record) + "\n")
    aucs = {k: round(100 * v, 2) for k, v in record["auc"].items()}
    print(record["cell"], aucs, *shown, record["s"], flush=True)


def run_shards(
    cells: Iterable[Sequence[Any]], measure: Callable[[Sequence[Any]], dict[str, Any]], argv: Sequence[str]
) -> None:
    """Measure this shard's cells not yet in the output; ``argv`` is ``[prog, SHARD, N_SHARDS, OUT]``.

    ``measure(cell)`` returns the record's fields (``auc`` at least); ``cell`` and ``s`` are added here.
    """
    shard, n_shards, out = int(argv[1]), int(argv[2]), argv[3]
    done = done_cells(out)
    for i, cell in enumerate(cells):
        if i % n_shards != shard or tuple(cell) in done:
            continue
        start = time.time()
        fields = measure(cell)
        append_record(out, {"cell": list(cell), **fields, "s": round(time.time() - start, 1)})
