"""benchmarks.timing: interleaved blocks, rotating order, medians, spreads and paired ratios."""

from __future__ import annotations

import time

import numpy as np
import pytest

from benchmarks.timing import interleaved_seconds_per_call, paired_ratio, spread


def test_interleaved_rotates_the_order_and_measures_each_function():
    order: list[str] = []

    def make(name: str, seconds: float):
        def fn() -> None:
            if not order or order[-1] != name:
                order.append(name)
            time.sleep(seconds)

        return fn

    fns = {"fast": make("fast", 0.001), "mid": make("mid", 0.002), "slow": make("slow", 0.004)}
    samples = interleaved_seconds_per_call(fns, rounds=4, block_seconds=0.008)
    assert set(samples) == set(fns) and all(v.shape == (4,) for v in samples.values())
    assert np.all(samples["slow"] > 1.5 * samples["fast"])  # the slow one is slower in every round
    assert np.median(samples["slow"]) == pytest.approx(0.004, rel=0.5)
    # after the warm-up (fast, mid, slow), each round starts one function later than the previous one
    rounds = [order[3 + 3 * r : 6 + 3 * r] for r in range(4)]
    assert rounds == [
        ["fast", "mid", "slow"],
        ["mid", "slow", "fast"],
        ["slow", "fast", "mid"],
        ["fast", "mid", "slow"],
    ]


def test_block_figure_ignores_a_preempted_call():
    calls = {"n": 0}

    def sometimes_slow() -> None:
        calls["n"] += 1
        time.sleep(0.05 if calls["n"] == 10 else 0.001)  # one "preempted" call inside a block

    samples = interleaved_seconds_per_call({"f": sometimes_slow}, rounds=1, block_seconds=0.01)
    assert samples["f"][0] < 0.01


def test_spread_and_paired_ratio():
    s = spread(np.array([1.0, 2.0, 3.0, 4.0, 100.0]))
    assert s == {"median": 3.0, "q25": 2.0, "q75": 4.0, "min": 1.0, "max": 100.0}
    # a load spike in round 2 hits both sides: the paired ratio stays 0.5 in every round
    ratio = paired_ratio(np.array([1.0, 5.0, 1.0]), np.array([2.0, 10.0, 2.0]))
    assert ratio["median"] == ratio["min"] == ratio["max"] == 0.5
    with pytest.raises(ValueError, match="shape"):
        paired_ratio(np.ones(2), np.ones(3))
    with pytest.raises(ValueError, match="empty"):
        spread(np.array([]))
    with pytest.raises(ValueError, match="rounds"):
        interleaved_seconds_per_call({"f": lambda: None}, rounds=0, block_seconds=0.1)
