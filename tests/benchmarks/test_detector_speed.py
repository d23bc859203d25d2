"""benchmarks.detector_speed: paired ratios with spreads, verdicts, and a short run on cardio."""

from __future__ import annotations

import json

import numpy as np
import pytest

from benchmarks.detector_speed import SINGLE, _paired, main, summarize, verdicts
from benchmarks.timing import spread


def _timing(rng: np.random.Generator) -> dict:
    """Five rounds; round 3 is slowed 3x for every model alike (a load spike)."""
    load = np.array([1.0, 1.0, 3.0, 1.0, 1.0])
    base = {SINGLE: 1.0e-3, "MoME K=1": 0.5e-3, "MoME K=8": 0.6e-3}
    latency = {m: t * load * rng.uniform(0.99, 1.01, 5) for m, t in base.items()}
    throughput = {m: 1024 / (10 * t) / load for m, t in base.items()}
    return {"latency_s": latency, "throughput_rows_s": throughput}


def _result(timing: dict) -> dict:
    paired = _paired(timing)
    rows = []
    for name in timing["latency_s"]:
        lat, thr = spread(timing["latency_s"][name] * 1e3), spread(timing["throughput_rows_s"][name])
        rows.append(
            {
                "model": name,
                "la": 1.0,
                "seed": 1,
                "auc_roc": 0.9,
                "fit_s": 1.0,
                "latency_batch1_ms": lat["median"],
                "latency_batch1_ms_spread": lat,
                "throughput_batch1024_rows_s": thr["median"],
                "throughput_batch1024_rows_s_spread": thr,
            }  # fmt: skip
        )
    return {
        "las": [1.0],
        "rows": rows,
        "paired": paired["per_model"],
        "mome_k8_over_k1": paired["mome_k8_over_k1"],
    }


def test_paired_ratios_cancel_a_load_spike():
    result = _result(_timing(np.random.default_rng(0)))
    table = {e["model"]: e for e in summarize(result)}
    k1 = table["MoME K=1"]
    assert k1["latency_ratio_to_single"] == pytest.approx(0.5, rel=0.03)
    assert (
        k1["latency_ratio_to_single_iqr"][1] - k1["latency_ratio_to_single_iqr"][0] < 0.03
    )  # spike cancelled
    assert table[SINGLE]["latency_ratio_to_single"] == 1.0
    assert result["mome_k8_over_k1"]["median"] == pytest.approx(1.2, rel=0.03)
    lines = verdicts(result, list(table.values()))
    assert lines[0].startswith("- MoME K=8 latency / single: 0.60x") and lines[0].endswith("met.")
    assert "MoME K=8 / K=1 latency: 1.2" in lines[1]


def test_short_run_on_cardio_writes_the_keys_the_report_reads(shared_data_dir, tmp_path):
    main(["--data-dir", str(shared_data_dir), "--out", str(tmp_path), "--las", "1.0", "--epochs", "1",
          "--rounds", "3", "--block-ms", "2"])  # fmt: skip
    saved = json.loads((tmp_path / "detector_speed.json").read_text())
    models = [e["model"] for e in saved["summary"]]
    assert models[:5] == [SINGLE, "MoME K=1", "MoME K=2", "MoME K=4", "MoME K=8"]
    for entry in saved["summary"]:
        assert {
            "latency_ratio_to_single",
            "throughput_ratio_to_single",
            "latency_batch1_ms",
            "auc_la1.0",
        } <= set(entry)
        low, high = entry["latency_ratio_to_single_iqr"]
        assert low <= entry["latency_ratio_to_single"] <= high
    assert saved["mome_k8_over_k1"]["median"] > 0 and saved["timing"]["latency_rounds"] == 3
    assert "target <= 0.73x" in (tmp_path / "detector_speed.md").read_text()
