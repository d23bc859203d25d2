"""Run benchmark cells as Ray tasks, on this machine or on a Ray cluster.

``RayBackend`` has the interface of :class:`benchmarks.backends.SerialBackend`:
``backend.run(cells, fn, on_result, on_error=None)``. Each cell becomes one Ray task that declares
its needs (``num_cpus_per_cell``, ``num_gpus_per_cell``); ``fn`` is shipped to the cluster once
(``ray.put``) and every task calls it on one cell. The driver waits with ``ray.wait`` and calls
``on_result(cell, result)`` in this process as each task finishes (completion order), so the runner
writes its CSV itself, atomically, exactly as with the serial backend, and a killed sweep resumes.

Failures: ``fn`` is expected to catch the errors it wants recorded as rows (the runners do). Anything
that still escapes a task, an exception raised by ``fn`` or a task lost to a crashed worker, a killed
node or an out-of-memory kill, is handed to ``on_error(cell, exc)`` and the sweep goes on; the cell is
then not retried by Ray (beyond ``max_retries`` for system failures). Without ``on_error`` the first
such failure cancels the tasks in flight and is raised, as ``SerialBackend`` does.

Ray is an optional dependency (``pip install "swift-hydra[ray]"``); this module imports it lazily so
``--backend serial`` never needs it. See ``docs/RAY.md`` for cluster set-up.
"""

from __future__ import annotations

import argparse
import importlib
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

INSTALL_HINT = 'the ray backend needs Ray: pip install "swift-hydra[ray]" (or pip install "ray>=2.9")'
# Modules every worker imports before running a cell: ``hydra_env`` registers SwiftHydra-v0 with gymnasium.
DEFAULT_WORKER_IMPORTS = ("hydra_env",)
# How long the driver trusts its reading of the cluster size (autoscaling clusters grow during a sweep).
_RESOURCES_TTL_SECONDS = 30.0
_END = object()  # end of the cell queue


def require_ray() -> Any:
    """Imports and returns the ``ray`` module, or raises an ImportError saying how to install it."""
    try:
        return importlib.import_module("ray")
    except ImportError as err:
        raise ImportError(INSTALL_HINT) from err


def error_text(exc: BaseException, limit: int = 500) -> str:
    """A one-line ``Type: message`` for a failed cell, unwrapping Ray's task error to its cause."""
    cause = getattr(exc, "cause", None)  # RayTaskError carries the exception the task raised
    shown = cause if isinstance(cause, BaseException) else exc
    message = str(shown).strip().splitlines()
    text = f"{type(shown).__name__}: {message[0] if message else ''}".rstrip(": ")
    return text.replace("\n", " ")[:limit]


def _run_cell(fn: Callable[[Any], Any], cell: Any, worker_imports: Sequence[str]) -> Any:
    """The body of every Ray task: import what the cell needs in the worker, then run it."""
    for module in worker_imports:
        importlib.import_module(module)
    return fn(cell)


class RayBackend:
    """Runs cells as Ray tasks and hands results back to the driver in completion order.

    Args:
        address: Cluster to join: ``"auto"`` (the cluster started with ``ray start`` on this node),
            ``"HOST:PORT"``, ``"ray://HOST:10001"``, or ``None`` to reuse an initialised Ray or start
            a local one.
        num_cpus_per_cell: CPUs each task reserves (Ray also sets the task's ``OMP_NUM_THREADS``).
        num_gpus_per_cell: GPUs each task reserves (fractions share a GPU, e.g. 0.25).
        max_in_flight: Tasks submitted but not finished at any time; ``None``: twice the number of
            cells the cluster can run at once, re-read every 30 s so autoscaled nodes get work.
        max_retries: Ray retries of a task lost to a system failure (worker or node death); an
            exception raised by ``fn`` is never retried.
        progress: Show a tqdm bar in the driver.
        describe: Turns a cell into the short text shown beside the bar.
        worker_imports: Modules imported in the worker before each cell.
        runtime_env: Ray runtime environment for the tasks (e.g. ``{"working_dir": "."}`` when the
            nodes do not have swift-hydra installed).
        init_kwargs: Extra ``ray.init`` arguments, used only when this backend starts or joins Ray.
    """

    def __init__(
        self,
        address: str | None = None,
        num_cpus_per_cell: float = 1,
        num_gpus_per_cell: float = 0,
        max_in_flight: int | None = None,
        max_retries: int = 2,
        progress: bool = True,
        describe: Callable[[Any], str] = str,
        worker_imports: Iterable[str] = DEFAULT_WORKER_IMPORTS,
        runtime_env: dict[str, Any] | None = None,
        init_kwargs: dict[str, Any] | None = None,
    ) -> None:
        require_ray()  # fail at construction, before any work, with the install hint
        if num_cpus_per_cell < 0 or num_gpus_per_cell < 0:
            raise ValueError(
                f"num_cpus_per_cell and num_gpus_per_cell must be >= 0, got {num_cpus_per_cell}, {num_gpus_per_cell}"
            )
        if num_cpus_per_cell == 0 and num_gpus_per_cell == 0:
            raise ValueError(
                "a cell must reserve some CPU or GPU (num_cpus_per_cell or num_gpus_per_cell > 0)"
            )
        if max_in_flight is not None and max_in_flight < 1:
            raise ValueError(f"max_in_flight must be >= 1 or None, got {max_in_flight}")
        if max_retries < 0:
            raise ValueError(f"max_retries must be >= 0, got {max_retries}")
        self.address = address
        self.num_cpus_per_cell = num_cpus_per_cell
        self.num_gpus_per_cell = num_gpus_per_cell
        self.max_in_flight = max_in_flight
        self.max_retries = max_retries
        self.progress = progress
        self.describe = describe
        self.worker_imports = tuple(worker_imports)
        self.runtime_env = runtime_env
        self.init_kwargs = dict(init_kwargs or {})
        self._limit_cache: tuple[float, int] | None = None

    # ----------------------------------------------------------------------------------- cluster
    def _connect(self, ray: Any) -> bool:
        """Joins or starts Ray unless already initialised; returns whether this call did it."""
        if ray.is_initialized():
            return False
        kwargs: dict[str, Any] = {}
        if not str(self.address).startswith("ray://"):  # Ray Client takes neither option
            # Worker output (per-run bars, library warnings) would bury the driver's progress bar.
            kwargs["log_to_driver"] = False
        if self.address is None:  # a local Ray started for this sweep needs no dashboard
            kwargs["include_dashboard"] = False
        ray.init(address=self.address, **(kwargs | self.init_kwargs))
        return True

    def in_flight_limit(self, ray: Any) -> int:
        """How many tasks may be pending at once (see ``max_in_flight``)."""
        if self.max_in_flight is not None:
            return self.max_in_flight
        now = time.monotonic()
        if self._limit_cache is None or now - self._limit_cache[0] > _RESOURCES_TTL_SECONDS:
            resources = ray.cluster_resources()
            slots = []
            if self.num_cpus_per_cell > 0:
                slots.append(resources.get("CPU", 1.0) / self.num_cpus_per_cell)
            if self.num_gpus_per_cell > 0:
                slots.append(resources.get("GPU", 0.0) / self.num_gpus_per_cell)
            # Twice the concurrent capacity keeps every worker fed without flooding the scheduler.
            self._limit_cache = (now, max(1, int(2 * min(slots))))
        return self._limit_cache[1]

    # ----------------------------------------------------------------------------------- running
    def _submit_until_full(self, ray, pending: dict, queue, submit: Callable[[Any], Any]) -> bool:
        """Submits queued cells until the in-flight limit; returns True once the queue is exhausted."""
        while len(pending) < self.in_flight_limit(ray):
            cell = next(queue, _END)
            if cell is _END:
                return True
            pending[submit(cell)] = cell
        return False

    def run(
        self,
        cells: Sequence[Any],
        fn: Callable[[Any], Any],
        on_result: Callable[[Any, Any], None],
        on_error: Callable[[Any, BaseException], None] | None = None,
    ) -> None:
        """Run ``fn`` on every cell as a Ray task; ``on_result``/``on_error`` run here, as tasks finish.

        Args:
            cells: The cells to run (the runner has already dropped finished ones).
            fn: Called as ``fn(cell)`` in a worker; it and its results must be picklable.
            on_result: Called in the driver with ``(cell, fn(cell))`` in completion order.
            on_error: Called in the driver with ``(cell, exception)`` for a task that raised or died;
                ``None``: cancel the rest and raise.
        """
        from tqdm.auto import tqdm

        ray = require_ray()
        cells = list(cells)
        if not cells:
            return
        started_ray = self._connect(ray)
        task = ray.remote(_run_cell).options(
            num_cpus=self.num_cpus_per_cell,
            num_gpus=self.num_gpus_per_cell,
            max_retries=self.max_retries,
            retry_exceptions=False,
            runtime_env=self.runtime_env,
        )
        fn_ref = ray.put(fn)  # shipped once, not once per cell
        pending: dict[Any, Any] = {}
        queue = iter(cells)
        bar = tqdm(total=len(cells), unit="cell", disable=not self.progress, dynamic_ncols=True)
        try:
            exhausted = False
            while True:
                if not exhausted:
                    exhausted = self._submit_until_full(
                        ray, pending, queue, lambda c: task.remote(fn_ref, c, self.worker_imports)
                    )
                if not pending:
                    break
                (done,), _ = ray.wait(list(pending), num_returns=1)
                cell = pending.pop(done)
                _deliver(ray, done, cell, on_result, on_error)
                bar.set_postfix_str(self.describe(cell), refresh=False)
                bar.update(1)
        finally:
            bar.close()
            for ref in pending:  # an abort (error, Ctrl-C) must not leave orphan tasks running
                ray.cancel(ref, force=False)
            if started_ray:
                ray.shutdown()


def _deliver(ray, done, cell, on_result, on_error) -> None:
    """Hands a finished task's result to ``on_result``, or its failure to ``on_error`` (None: raise)."""
    try:
        result = ray.get(done)
    except Exception as exc:  # RayTaskError (fn raised), WorkerCrashedError, OOM, lost node...
        if on_error is None:
            raise
        on_error(cell, exc)
    else:
        on_result(cell, result)


# --------------------------------------------------------------------------------------- command line
def add_ray_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``--backend ray`` (ignored by the serial backend)."""
    group = parser.add_argument_group("ray backend (--backend ray)")
    group.add_argument(
        "--address", default=None,
        help="Ray cluster: 'auto' (joined with 'ray start' on this node), HOST:PORT or ray://HOST:10001; "
        "default: start a local Ray on this machine",
    )  # fmt: skip
    group.add_argument(
        "--num-cpus-per-cell", type=float, default=1, help="CPUs each cell reserves (default 1)"
    )
    group.add_argument(
        "--num-gpus-per-cell", type=float, default=0, help="GPUs each cell reserves (default 0)"
    )
    group.add_argument(
        "--max-in-flight", type=int, default=None,
        help="tasks queued at once (default: twice what the cluster runs concurrently)",
    )  # fmt: skip


def backend_options(args: argparse.Namespace) -> dict[str, Any]:
    """Keyword arguments for ``make_backend(args.backend, ...)`` from :func:`add_ray_arguments` options.

    Empty for any backend other than ``ray``, so the serial backend's signature stays its own.
    """
    if getattr(args, "backend", None) != "ray":
        return {}
    return {
        "address": args.address,
        "num_cpus_per_cell": args.num_cpus_per_cell,
        "num_gpus_per_cell": args.num_gpus_per_cell,
        "max_in_flight": args.max_in_flight,
    }
