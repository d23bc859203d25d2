"""``gym.make("SwiftHydra-v0")`` under torch's default threads while another process keeps a core busy.

A researcher's own RL loop does not pin torch to one thread. When the process has more torch threads
than free cores, each small op's threads wait on one another and an env step collapses (issue 12:
23 steps/s against 443 with one thread). The envs guard their own work with
:func:`hydra_env.threads.single_thread`; this measures whether that works, from a caller's side.

Method: a fresh Python process is started *without* ``OMP_NUM_THREADS`` / ``MKL_NUM_THREADS`` (so
torch picks its default thread count, as in anyone's script). It builds the env, starts a bounded
busy loop in a second process (it stops itself after a deadline and is terminated at the end), and
times single-env steps side by side (`benchmarks.timing`) with:

* ``default threads``: torch's default count, stepping through ``gym.make``'s env (the guarded path);
* ``one thread``: ``torch.set_num_threads(1)``, same path;
* ``default threads, unguarded``: default count, calling the undecorated ``SwiftHydraEnv.step``
  (what a step cost before the guard; context only).

``loaded_default_threads_over_one_thread`` is the median per-round ratio of the first two rates;
target >= 0.5.

    python -m benchmarks.loaded_threads            # prints the JSON (benchmarks.env_speed embeds it)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

TARGET_LOADED_RATIO = 0.5
_THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
_BUSY_LOOP = (
    "import sys, time\nend = time.monotonic() + float(sys.argv[1])\nwhile time.monotonic() < end:\n    pass\n"
)
_REPO = Path(__file__).resolve().parents[1]


def _start_busy_loop(max_seconds: float) -> subprocess.Popen:
    """A second process spinning on one core until ``max_seconds`` have passed (or it is terminated)."""
    return subprocess.Popen([sys.executable, "-c", _BUSY_LOOP, str(max_seconds)])


def _steppers(seed: int) -> tuple[dict[str, Any], int]:
    """The three timed step functions (see the module docstring) and torch's default thread count."""
    import gymnasium as gym
    import torch

    import hydra_env
    from benchmarks.timing import single_env_stepper

    default_threads = torch.get_num_threads()
    env = gym.make("SwiftHydra-v0")
    env.reset(seed=seed)
    base = env.unwrapped
    actions = (
        np.random.default_rng(seed).uniform(-1, 1, size=(1024, base.config.latent_dim)).astype(np.float32)
    )
    guarded = single_env_stepper(env, actions)
    raw_step = hydra_env.SwiftHydraEnv.step.__wrapped__  # the step without the one-thread guard

    class Unguarded:
        def step(self, action):
            return raw_step(base, action)

        def reset(self):
            return base.reset()

    unguarded = single_env_stepper(Unguarded(), actions)

    def with_threads(threads: int, step):
        def call() -> None:
            torch.set_num_threads(threads)
            step()

        return call

    fns = {
        "default threads": with_threads(default_threads, guarded),
        "one thread": with_threads(1, guarded),
        "default threads, unguarded": with_threads(default_threads, unguarded),
    }
    return fns, default_threads


def worker(seconds: float, rounds: int, seed: int = 0) -> dict[str, Any]:
    """Runs the loaded measurement in this process (torch's thread settings as this process has them)."""
    from benchmarks.timing import interleaved_seconds_per_call, paired_ratio, spread

    fns, default_threads = _steppers(seed)
    busy = _start_busy_loop(max_seconds=min(600.0, 10 * seconds * len(fns) + 60))
    try:
        time.sleep(0.2)  # let the busy loop start spinning
        per_call = interleaved_seconds_per_call(fns, rounds, seconds / rounds)
        busy_ran_throughout = busy.poll() is None
    finally:
        busy.terminate()
        busy.wait()
    rates = {name: 1.0 / secs for name, secs in per_call.items()}
    guarded = paired_ratio(rates["default threads"], rates["one thread"])
    unguarded = paired_ratio(rates["default threads, unguarded"], rates["one thread"])
    return {
        "loaded_default_threads_over_one_thread": guarded["median"],
        "loaded_default_threads_over_one_thread_spread": guarded,
        "loaded_unguarded_default_threads_over_one_thread": unguarded["median"],
        "loaded_unguarded_default_threads_over_one_thread_spread": unguarded,
        "steps_per_s": {name: spread(rate) for name, rate in rates.items()},
        "default_torch_threads": default_threads,
        "busy_processes": 1,
        "busy_ran_throughout": busy_ran_throughout,
        "rounds": rounds,
        "seconds_per_contender": seconds,
        "target": TARGET_LOADED_RATIO,
    }


def measure_loaded_threads(seconds: float = 2.0, rounds: int = 20, seed: int = 0) -> dict[str, Any]:
    """Runs :func:`worker` in a fresh process with torch's default threads; returns its results."""
    env = {k: v for k, v in os.environ.items() if k not in _THREAD_VARIABLES}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_REPO), env.get("PYTHONPATH")]))
    command = [sys.executable, "-m", "benchmarks.loaded_threads"]
    command += ["--seconds", str(seconds), "--rounds", str(rounds), "--seed", str(seed)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, cwd=_REPO)
    if done.returncode != 0:
        raise RuntimeError(f"the loaded-threads worker failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    """Worker entry point: prints the results as one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="timing budget per contender")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    print(json.dumps(worker(args.seconds, args.rounds, args.seed)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
