"""benchmarks.profile_cell: exclusive stage timers, and one tiny cell on the embedded wdbc."""

from __future__ import annotations

import json
import time

import pytest

from benchmarks.profile_cell import STAGES, StageTimer, main
from detectors import MambaDetector


def test_nested_stages_are_exclusive():
    timer = StageTimer()
    with timer.stage("outer"):
        time.sleep(0.02)
        with timer.stage("inner"):
            time.sleep(0.03)
            with timer.stage("inner"):  # re-entering the running stage counts once
                time.sleep(0.01)
        time.sleep(0.02)
    assert timer.seconds["inner"] == pytest.approx(0.04, abs=0.015)
    assert timer.seconds["outer"] == pytest.approx(0.04, abs=0.015)
    assert timer.calls == {"outer": 1, "inner": 1}


def test_tiny_cell_on_wdbc(tmp_path):
    fit = MambaDetector.fit
    assert main(["--dataset", "wdbc", "--budget", "tiny", "--out", str(tmp_path)]) == 0
    assert MambaDetector.fit is fit  # the timers are removed afterwards
    result = json.loads((tmp_path / "profile_wdbc_tiny.json").read_text())
    assert list(result["stages"]) == list(STAGES)
    total = result["swift_hydra_seconds"] + result["control_seconds"]
    assert sum(result["stages"].values()) == pytest.approx(total, rel=0.02)
    rounds = 2  # the tiny budget
    assert result["calls"] == {
        "VAE fit": rounds + 1,
        "detector pre-training": 1,
        "detector refits": rounds,
        "agent learning": rounds,
        "generation": rounds,
        "deployment fit": 1,
        "control": 1,
    }
    assert all(result["stages"][s] > 0 for s in STAGES)
    assert result["command"].startswith("python -m benchmarks.profile_cell --dataset wdbc")
    text = (tmp_path / "profile_wdbc_tiny.md").read_text()
    assert "| VAE fit |" in text and "round 1/2" in text
