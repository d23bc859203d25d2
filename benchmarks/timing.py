"""Side-by-side timing on a noisy machine: interleaved blocks, medians, spreads and paired ratios.

Timing A for a while and then B for a while compares A with whatever else the machine was doing at
the time; on a shared 2-core machine that alone moved the detector and env ratios by 20 %. Here each
*round* times one short block of calls of every contender, one after the other (the order rotates
from round to round, so no contender always goes first), and a comparison is the per-round (paired)
ratio: a load spike that slows one round slows both sides of it. Within a block every call is timed
and the block's figure is the median call, which drops calls that another process preempted. Each figure is reported as the median
over rounds with its spread (quartiles and min-max), so a rerun can tell a real change from noise.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

import numpy as np

__all__ = ["interleaved_seconds_per_call", "paired_ratio", "single_env_stepper", "spread"]


def _calls_per_block(fn: Callable[[], object], block_seconds: float, max_calls: int) -> int:
    """Warm ``fn`` up and choose how many calls fill about ``block_seconds``."""
    fn()
    start = time.perf_counter()
    for _ in range(3):
        fn()
    per_call = max((time.perf_counter() - start) / 3, 1e-9)
    return int(min(max_calls, max(1, round(block_seconds / per_call))))


def interleaved_seconds_per_call(
    fns: Mapping[str, Callable[[], object]],
    rounds: int,
    block_seconds: float,
    max_calls: int = 10_000,
) -> dict[str, np.ndarray]:
    """Seconds per call of every function, one sample per round, the functions timed in turn.

    Args:
        fns: Name -> zero-argument function to time.
        rounds: Number of rounds (samples per function); at least 1.
        block_seconds: Target duration of one block (the calls of one function in one round).
        max_calls: Upper bound on the calls per block.

    Returns:
        Name -> ``(rounds,)`` array: the median seconds per call within each round's block (a median,
        so that a call the scheduler preempted in the middle does not count).
    """
    if rounds < 1 or block_seconds <= 0:
        raise ValueError(f"rounds must be >= 1 and block_seconds > 0, got {rounds} and {block_seconds}")
    names = list(fns)
    calls = {name: _calls_per_block(fns[name], block_seconds, max_calls) for name in names}
    samples = {name: np.empty(rounds) for name in names}
    for r in range(rounds):
        shift = r % len(names)
        for name in names[shift:] + names[:shift]:  # rotate the order: A B C, B C A, C A B, ...
            samples[name][r] = _block(fns[name], calls[name])
    return samples


def _block(fn: Callable[[], object], calls: int) -> float:
    """Median seconds per call over ``calls`` calls: a call the scheduler preempted does not count."""
    times = np.empty(calls)
    clock = time.perf_counter
    for i in range(calls):
        start = clock()
        fn()
        times[i] = clock() - start
    return float(np.median(times))


def spread(values: np.ndarray) -> dict[str, float]:
    """Median, quartiles and range of ``values``: ``{"median", "q25", "q75", "min", "max"}``."""
    values = np.asarray(values, dtype=np.float64)
    if values.size == 0:
        raise ValueError("spread of an empty sample")
    q25, median, q75 = np.percentile(values, [25, 50, 75])
    return {
        "median": float(median),
        "q25": float(q25),
        "q75": float(q75),
        "min": float(values.min()),
        "max": float(values.max()),
    }


def paired_ratio(numerator: np.ndarray, denominator: np.ndarray) -> dict[str, float]:
    """Spread of the per-round ratios ``numerator[r] / denominator[r]`` (same rounds, same length)."""
    numerator, denominator = np.asarray(numerator, float), np.asarray(denominator, float)
    if numerator.shape != denominator.shape:
        raise ValueError(f"paired samples differ in shape: {numerator.shape} vs {denominator.shape}")
    return spread(numerator / denominator)


def single_env_stepper(env, actions: np.ndarray):
    """A zero-argument function stepping ``env`` through ``actions`` (resetting at episode ends)."""
    state = {"i": 0}

    def step() -> None:
        state["i"] = (state["i"] + 1) % len(actions)
        if env.step(actions[state["i"]])[3]:
            env.reset()

    return step
