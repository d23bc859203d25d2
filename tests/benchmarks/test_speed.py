"""The speed report page: built from the two benchmark JSON files, ratios copied, not retyped."""

from __future__ import annotations

import json

import pytest

from benchmarks.speed import write_speed_report


def _detector_json() -> dict:
    def row(model, ms, ratio):
        return {"model": model, "latency_batch1_ms": ms, "latency_ratio_to_single": ratio,
                "throughput_ratio_to_single": 1 / ratio, "auc_la0.1": 0.9, "auc_la1.0": 0.95}  # fmt: skip

    summary = [
        row("MambaDetector (single)", 2.0, 1.0),
        row("MoME K=1", 0.5, 0.25),
        row("MoME K=8", 0.7, 0.35),
    ]
    return {"summary": summary, "command": "cmd-d", "git_commit": "abc", "dataset": "x", "seeds": [1]}


def test_report_collects_both_files(tmp_path):
    (tmp_path / "detector_speed.json").write_text(json.dumps(_detector_json()))
    env = {
        "ratio_vector_over_bare": {"1": 0.5, "64": 0.84},
        "single_over_bare_n1": 0.6,
        "target_ratio_at_64": 0.8,
    }
    (tmp_path / "env_speed.json").write_text(json.dumps(env | {"command": "cmd-e", "commit": "def"}))
    text = write_speed_report(tmp_path).read_text()
    assert "| MoME K=1 | 0.25x | 4.00x | 0.500 | 90.00 | 95.00 |" in text
    assert "MoME K=8 batch-1 latency / K=1: 1.40x" in text
    assert "| 64 | 0.84x |" in text and "`cmd-d`" in text and "`cmd-e`" in text


def test_missing_files_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="detector_speed.json"):
        write_speed_report(tmp_path)
    (tmp_path / "detector_speed.json").write_text(json.dumps(_detector_json()))
    assert "env_speed.json not found" in write_speed_report(tmp_path).read_text()


def test_report_shows_spreads_and_the_loaded_ratio(tmp_path):
    detector = _detector_json()
    for row in detector["summary"]:
        row["latency_ratio_to_single_iqr"] = [
            row["latency_ratio_to_single"] - 0.01,
            row["latency_ratio_to_single"] + 0.02,
        ]
    detector["timing"] = {"latency_rounds": 30}
    detector["mome_k8_over_k1"] = {"median": 1.05, "q25": 1.01, "q75": 1.10, "min": 0.9, "max": 1.3}
    (tmp_path / "detector_speed.json").write_text(json.dumps(detector))
    env = {
        "ratio_vector_over_bare": {"64": 0.9},
        "ratio_vector_over_bare_spread": {
            "64": {"median": 0.9, "q25": 0.85, "q75": 0.93, "min": 0.7, "max": 1.0}
        },
        "single_over_bare_n1": 0.8,
        "target_ratio_at_64": 0.8,
        "loaded_default_threads_over_one_thread": 0.97,
        "loaded_threads": {
            "loaded_default_threads_over_one_thread_spread": {"median": 0.97, "q25": 0.9, "q75": 1.02}
        },
    }
    (tmp_path / "env_speed.json").write_text(json.dumps(env))
    text = write_speed_report(tmp_path).read_text()
    assert "| MoME K=1 | 0.25x (0.24-0.27) | 4.00x |" in text
    # the paired K=8/K=1 ratio wins over the ratio of medians (0.7 / 0.5 = 1.40)
    assert "MoME K=8 batch-1 latency / K=1: 1.05x (1.01-1.10)" in text
    assert "| 64 | 0.90x (0.85-0.93) |" in text
    assert "(`loaded_default_threads_over_one_thread`): 0.97x (0.90-1.02)" in text
