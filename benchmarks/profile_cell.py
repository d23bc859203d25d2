"""Where one swift_hydra ADBench cell spends its time, stage by stage.

Runs one cell exactly as the ADBench runner does (``agents.loop.fit_swift_hydra`` on
``hydra_env.datasets.adbench_split(X, y, la, seed)``, then its no-augmentation control
``agents.loop.fit_deployment_control``) and times each stage by wrapping the public methods that do
the work, so the report does not depend on the loop's internals:

========================  ==================================================================
stage                     timed calls
========================  ==================================================================
VAE fit                   ``ConditionalVAE.fit`` (pre-training and per-round refits)
detector pre-training     ``MambaDetector.fit`` without ``warm_start``
detector refits           ``MambaDetector.fit(..., warm_start=True)``
agent learning            ``learn`` of every ``agents.policies.GenerationPolicy`` class
generation                ``generate`` of the same classes
deployment fit            ``agents.deploy.fit_deployment`` during the swift_hydra cell
control                   ``agents.deploy.fit_deployment`` during the control
other                     the rest of the cell (env build, validation scoring, bookkeeping)
========================  ==================================================================

Times are exclusive: a stage nested in another (say a detector refit inside ``learn``) counts for the
inner stage only, so the stages add up to the wall time. ``--cprofile`` also runs the cell under
cProfile (slower) and lists the functions with the largest cumulative time.

    python -m benchmarks.profile_cell --dataset cardio --budget small \\
        --data-dir /work/shared/datasets/adbench/Classical --out benchmarks/results/profile
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import functools
import io
import json
import pstats
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from benchmarks.report import atomic_write

STAGES = (
    "VAE fit",
    "detector pre-training",
    "detector refits",
    "agent learning",
    "generation",
    "deployment fit",
    "control",
    "other",
)


class StageTimer:
    """Exclusive wall time per stage; stages nest (the inner one is charged, the outer one paused)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self.phase = "swift_hydra"
        self._stack: list[list[Any]] = []  # [stage, start of the current exclusive stretch]

    @contextlib.contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Charges the time inside to ``name`` (re-entering the running stage is not counted twice)."""
        if self._stack and self._stack[-1][0] == name:
            yield
            return
        now = time.perf_counter()
        if self._stack:
            outer = self._stack[-1]
            self.seconds[outer[0]] += now - outer[1]
        self._stack.append([name, now])
        self.calls[name] += 1
        try:
            yield
        finally:
            end = time.perf_counter()
            inner = self._stack.pop()
            self.seconds[inner[0]] += end - inner[1]
            if self._stack:
                self._stack[-1][1] = end


def _wrap(cls: Any, method: str, stage_of: Callable[[tuple, dict], str], timer: StageTimer, undo: list):
    original = cls.__dict__.get(method)
    target = getattr(cls, method)

    @functools.wraps(target)
    def timed(*args: Any, **kwargs: Any) -> Any:
        with timer.stage(stage_of(args, kwargs)):
            return target(*args, **kwargs)

    setattr(cls, method, timed)
    undo.append((cls, method, original))


def _policy_classes() -> list[type]:
    from agents.policies import GenerationPolicy

    found, todo = [], [GenerationPolicy]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return found


@contextlib.contextmanager
def instrumented(timer: StageTimer) -> Iterator[StageTimer]:
    """Wraps the stage methods (see the module docstring) with ``timer`` for the duration."""
    from agents import deploy
    from detectors import MambaDetector
    from hydra_env.vae import ConditionalVAE

    undo: list = []
    try:
        _wrap(ConditionalVAE, "fit", lambda a, k: "VAE fit", timer, undo)
        _wrap(
            MambaDetector,
            "fit",
            lambda a, k: "detector refits" if k.get("warm_start") else "detector pre-training",
            timer,
            undo,
        )
        _wrap(
            deploy,
            "fit_deployment",
            lambda a, k: "control" if timer.phase == "control" else "deployment fit",
            timer,
            undo,
        )
        for cls in _policy_classes():
            for method, stage in (("learn", "agent learning"), ("generate", "generation")):
                if method in cls.__dict__:
                    _wrap(cls, method, lambda a, k, stage=stage: stage, timer, undo)
        yield timer
    finally:
        for cls, method, original in reversed(undo):
            if original is None:
                delattr(cls, method)
            else:
                setattr(cls, method, original)


def run_cell(dataset: str, budget: str, data_dir: str | None, la: float, seed: int) -> dict[str, Any]:
    """Times one swift_hydra cell and its control; returns stage seconds, calls and the progress timeline."""
    from agents.loop import fit_deployment_control, fit_swift_hydra
    from hydra_env.datasets import adbench_split, load

    X, y = load(dataset, data_dir=data_dir)
    split = adbench_split(X, y, la, seed)
    timer, timeline = StageTimer(), []
    started = time.perf_counter()

    def progress(stage: str, done: int, total: int) -> None:
        timeline.append({"at_s": round(time.perf_counter() - started, 3), "message": stage})

    with instrumented(timer):
        with timer.stage("other"):
            fit_swift_hydra(split.X_train, split.y_train, budget=budget, seed=seed, progress=progress)
        cell_s = time.perf_counter() - started
        timer.phase = "control"
        control_started = time.perf_counter()
        with timer.stage("other"):
            fit_deployment_control(split.X_train, split.y_train, budget=budget, seed=seed)
        control_s = time.perf_counter() - control_started
    return {
        "dataset": dataset,
        "budget": budget,
        "la": la,
        "seed": seed,
        "n_train": int(len(split.y_train)),
        "n_features": int(split.X_train.shape[1]),
        "swift_hydra_seconds": cell_s,
        "control_seconds": control_s,
        "stages": {name: timer.seconds.get(name, 0.0) for name in STAGES},
        "calls": {name: timer.calls.get(name, 0) for name in STAGES if name != "other"},
        "progress_timeline": timeline,
    }


def top_functions(profile: cProfile.Profile, limit: int = 25) -> list[dict[str, Any]]:
    """The ``limit`` Python functions with the largest cumulative time (import machinery left out)."""
    stats = pstats.Stats(profile, stream=io.StringIO())
    rows = []
    for (path, line, name), (_, calls, _tottime, cumtime, _) in stats.stats.items():  # type: ignore[attr-defined]
        if path.startswith("<frozen") or path == "~":  # import machinery and builtins: not actionable
            continue
        rows.append(
            {"function": f"{Path(path).name}:{line}({name})", "calls": calls, "cumulative_s": cumtime}
        )
    return sorted(rows, key=lambda r: -r["cumulative_s"])[:limit]


def markdown(result: dict[str, Any]) -> str:
    """The report page."""
    total = result["swift_hydra_seconds"] + result["control_seconds"]
    lines = [
        f"# Where the time goes: one swift_hydra cell ({result['dataset']}, budget {result['budget']})",
        "",
        f"Command: `{result['command']}`  ",
        f"Commit: `{result['commit']}`  ",
        f"n_train {result['n_train']}, {result['n_features']} features, la={result['la']}, seed {result['seed']}; "
        f"torch threads {result['torch_threads']}. swift_hydra cell {result['swift_hydra_seconds']:.1f} s, "
        f"control {result['control_seconds']:.1f} s.",
        "",
        "| stage | seconds | share | calls |",
        "| --- | ---: | ---: | ---: |",
    ]
    for name, seconds in result["stages"].items():
        calls = result["calls"].get(name, "")
        lines.append(f"| {name} | {seconds:.2f} | {100 * seconds / total:.1f} % | {calls} |")
    lines += ["", "Progress messages of the loop (seconds since the cell started):", ""]
    lines += [f"- {p['at_s']:.1f} s: {p['message']}" for p in result["progress_timeline"]]
    if result.get("top_functions"):
        lines += ["", "## cProfile: largest cumulative time", "", "| function | calls | cumulative s |"]
        lines += ["| --- | ---: | ---: |"]
        lines += [
            f"| `{r['function']}` | {r['calls']} | {r['cumulative_s']:.2f} |" for r in result["top_functions"]
        ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    import torch

    from benchmarks.common import git_commit

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--dataset", required=True, help="ADBench name (e.g. cardio) or an embedded set (wdbc)"
    )
    parser.add_argument("--budget", default="small")
    parser.add_argument(
        "--data-dir", default=None, help="folder of ADBench .npz files (embedded sets need none)"
    )
    parser.add_argument("--la", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--cprofile", action="store_true", help="also list the top functions (slower run)")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/profile"))
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    command = "python -m benchmarks.profile_cell " + " ".join(sys.argv[1:] if argv is None else argv)
    profile = cProfile.Profile() if args.cprofile else None
    with profile if profile is not None else contextlib.nullcontext():
        result = run_cell(args.dataset, args.budget, args.data_dir, args.la, args.seed)
    result.update(command=command, commit=git_commit(), torch_threads=torch.get_num_threads())
    if profile is not None:
        result["top_functions"] = top_functions(profile)
    args.out.mkdir(parents=True, exist_ok=True)
    stem = f"profile_{Path(args.dataset).stem}_{args.budget}"
    atomic_write(args.out / f"{stem}.json", lambda p: p.write_text(json.dumps(result, indent=2)))
    atomic_write(args.out / f"{stem}.md", lambda p: p.write_text(markdown(result)))
    print(markdown(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
