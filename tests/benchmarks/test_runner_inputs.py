"""What every cell runner shares from ``benchmarks.runner_inputs``: a stopped run says how to go on."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest

from benchmarks.adbench import ResultStore


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # as a foreground terminal's process has it


@pytest.mark.parametrize(
    ("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["ctrl-c", "sigterm"]
)
def test_a_stopped_runner_keeps_its_finished_cells_and_says_how_to_continue(tmp_path, signum, code):
    out = tmp_path / "out"
    command = [sys.executable, "-m", "benchmarks.adbench", "--datasets", "wdbc", "--la", "0.1", "--seeds",
               *map(str, range(1, 41)), "--methods", "mome", "--budget", "tiny", "--out", str(out), "--no-progress"]  # fmt: skip
    proc = subprocess.Popen(command, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
                            preexec_fn=_default_sigint)  # fmt: skip
    results = out / "adbench_results.csv"
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and proc.poll() is None and len(ResultStore(results).rows) < 1:
        time.sleep(0.1)
    assert proc.poll() is None, "the run ended before it could be stopped"
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=120)

    assert proc.returncode == code, err
    assert err.strip().splitlines()[-1] == (
        f"python -m benchmarks.adbench: interrupted; the finished cells are saved in {out}; "
        "run the same command to continue"
    )
    store = ResultStore(results)
    assert not store.damaged and 1 <= len(store.rows) < 40
    assert all(row["status"] == "ok" for row in store.rows.values())
