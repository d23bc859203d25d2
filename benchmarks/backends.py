"""Execution backends for benchmark cells.

A backend maps cells to results: ``backend.run(cells, fn, on_result)`` calls ``fn(cell)`` for every
cell and hands each ``(cell, result)`` to ``on_result`` in the calling process, as soon as it is
ready, so the caller can persist results one by one (a killed run then resumes where it stopped).
``fn`` must catch the errors it wants recorded; anything it raises (KeyboardInterrupt included) stops
the run. A ``RayBackend`` implements the same interface with ``fn`` shipped to workers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

Cell = TypeVar("Cell")


class Backend(Protocol):
    """What the benchmark runners need from an execution backend."""

    def run(
        self,
        cells: Sequence[Cell],
        fn: Callable[[Cell], Any],
        on_result: Callable[[Cell, Any], None],
        on_error: Callable[[Cell, BaseException], None] | None = None,
    ) -> None: ...


class SerialBackend:
    """Runs cells one after the other in this process, with a tqdm progress bar.

    Args:
        progress: show a progress bar over cells.
        describe: turns a cell into the short text shown beside the bar.
    """

    def __init__(self, progress: bool = True, describe: Callable[[Any], str] = str) -> None:
        self.progress = progress
        self.describe = describe

    def run(
        self,
        cells: Sequence[Cell],
        fn: Callable[[Cell], Any],
        on_result: Callable[[Cell, Any], None],
        on_error: Callable[[Cell, BaseException], None] | None = None,
    ) -> None:
        """Call ``fn`` on each cell in order and ``on_result`` (or ``on_error``) right after each one.

        Without ``on_error`` an exception stops the run; KeyboardInterrupt always does.
        """
        from tqdm.auto import tqdm

        bar = tqdm(cells, total=len(cells), unit="cell", disable=not self.progress, dynamic_ncols=True)
        for cell in bar:
            bar.set_postfix_str(self.describe(cell), refresh=False)
            try:
                result = fn(cell)
            except Exception as exc:
                if on_error is None:
                    raise
                on_error(cell, exc)
            else:
                on_result(cell, result)


def _ray(**kwargs) -> Backend:
    # Imported on use: ray is an optional extra, and its import alone costs seconds.
    from benchmarks.ray_backend import RayBackend

    return RayBackend(**kwargs)


BACKENDS: dict[str, Callable[..., Backend]] = {"serial": SerialBackend, "ray": _ray}


def make_backend(name: str, **kwargs) -> Backend:
    """Build a backend by name (``serial`` or ``ray``)."""
    if name not in BACKENDS:
        raise ValueError(f"unknown backend {name!r}; choose from {sorted(BACKENDS)}")
    return BACKENDS[name](**kwargs)
