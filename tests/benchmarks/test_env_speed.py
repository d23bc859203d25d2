"""benchmarks.env_speed / benchmarks.loaded_threads: side-by-side rates, ratios with spreads, the loaded ratio."""

from __future__ import annotations

import json

import pytest

from benchmarks.env_speed import measure, write_reports
from benchmarks.loaded_threads import measure_loaded_threads


@pytest.fixture(scope="module")
def results():
    return measure(seconds=0.3, batch_sizes=(1, 4), rounds=3)


def test_measure_times_every_mode_side_by_side(results):
    modes = {(r["mode"], r["n"]) for r in results["rows"]}
    assert modes == {("single env", 1), ("vector env", 1), ("bare decode+score", 1), ("vector env", 4),
                     ("bare decode+score", 4)}  # fmt: skip
    for row in results["rows"]:
        s = row["samples_per_s_spread"]
        assert 0 < s["min"] <= s["q25"] <= row["samples_per_s"] == s["median"] <= s["q75"] <= s["max"]
    for n in ("1", "4"):
        spread = results["ratio_vector_over_bare_spread"][n]
        assert results["ratio_vector_over_bare"][n] == spread["median"]
        # the env does the bare work plus bookkeeping: it cannot be several times faster or slower
        assert 0.2 < spread["median"] < 1.5, spread
    assert results["single_over_bare_n1"] == results["single_over_bare_n1_spread"]["median"]
    assert results["timing"]["rounds"] == 3


def test_reports_keep_the_keys_the_speed_page_reads(results, tmp_path):
    full = {**results, "commit": "abc", "machine": "test", "torch_threads": 1, "command": "cmd"}
    paths = write_reports(full, tmp_path, "cmd")
    assert [p.name for p in paths] == ["env_speed.json", "env_speed.md", "env_speed.png"]
    saved = json.loads(paths[0].read_text())
    assert {"ratio_vector_over_bare", "single_over_bare_n1", "target_ratio_at_64", "rows"} <= set(saved)
    assert "vector / bare (IQR)" in paths[1].read_text()


def test_loaded_default_threads_keep_the_one_thread_rate():
    # A median over 7 interleaved rounds: one load spike from another test worker cannot sink the ratio.
    loaded = measure_loaded_threads(seconds=0.6, rounds=7)
    assert loaded["busy_ran_throughout"] and loaded["default_torch_threads"] >= 1
    assert set(loaded["steps_per_s"]) == {"default threads", "one thread", "default threads, unguarded"}
    # the env's one-thread guard: torch's default threads step about as fast as one thread
    assert loaded["loaded_default_threads_over_one_thread"] >= 0.5, loaded
    assert loaded["loaded_unguarded_default_threads_over_one_thread"] > 0
