"""Run files: a checkpoint or ``summary.json`` write that fails partway leaves the previous one intact."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from agents.checkpoint import LoopState, latest_checkpoint, save_checkpoint
from agents.experiment import write_json
from tests.atomic import InjectedFault, assert_untouched, failing_replace, snapshot


# ------------------------------------------------------------------------------------------ summary.json
class _FailsWhenSerialized:
    """Serializing it raises: everything before it in the document may already have been written."""

    def __repr__(self) -> str:
        raise InjectedFault("injected failure in the middle of a write")


@pytest.fixture
def summary(tmp_path) -> Path:
    path = tmp_path / "run" / "summary.json"
    path.parent.mkdir()
    write_json(path, {"test": {"auc_roc": 0.9}})
    return path


def test_summary_failed_rename_keeps_the_previous_file(summary, monkeypatch):
    before = snapshot(summary.parent)
    attempts = failing_replace(monkeypatch)
    with pytest.raises(InjectedFault):
        write_json(summary, {"test": {"auc_roc": 0.5}})
    monkeypatch.undo()
    assert attempts and Path(attempts[-1][1]) == summary
    assert_untouched(summary.parent, before)
    assert json.loads(summary.read_text()) == {"test": {"auc_roc": 0.9}}


def test_summary_failure_while_serializing_keeps_the_previous_file(summary):
    before = snapshot(summary.parent)
    with pytest.raises(InjectedFault):
        write_json(summary, {"test": {"auc_roc": 0.5}, "z_last": _FailsWhenSerialized()})
    assert_untouched(summary.parent, before)
    assert json.loads(summary.read_text()) == {"test": {"auc_roc": 0.9}}


# ------------------------------------------------------------------------------------------ checkpoints
class _Model:
    """Stands in for the VAE / detector: ``save`` writes its payload, or half of it and then fails."""

    def __init__(self, payload: bytes, fail: bool = False) -> None:
        self.payload, self.fail = payload, fail

    def save(self, path) -> None:
        Path(path).write_bytes(self.payload[: len(self.payload) // 2] if self.fail else self.payload)
        if self.fail:
            raise InjectedFault("injected failure in the middle of a write")


def _state(round_index: int, fail: bool = False) -> LoopState:
    kept = np.full((round_index, 3), round_index, dtype=np.float32)
    return LoopState(
        round_index,
        _Model(b"vae-%d" % round_index),
        _Model(b"detector-%d" % round_index, fail=fail),
        kept,
        np.zeros(round_index),
        np.full(round_index, round_index, dtype=np.int64),
        [{"round": k} for k in range(round_index + 1)],
    )


@pytest.fixture
def checkpointed(tmp_path) -> Path:
    root = tmp_path / "checkpoints"
    save_checkpoint(root, _state(1), None)
    return root


def _check_round_1_is_latest(root: Path, before: dict) -> None:
    assert_untouched(root, before)
    latest = latest_checkpoint(root.parent)
    assert latest is not None and latest.name == "round_001"
    assert (latest / "detector.pt").read_bytes() == b"detector-1"
    assert json.loads((latest / "state.json").read_text())["round"] == 1


def test_checkpoint_failure_partway_keeps_the_previous_round(checkpointed):
    before = snapshot(checkpointed)
    with pytest.raises(InjectedFault):
        save_checkpoint(checkpointed, _state(2, fail=True), None)
    _check_round_1_is_latest(checkpointed, before)


def test_checkpoint_failed_rename_keeps_the_previous_round(checkpointed, monkeypatch):
    before = snapshot(checkpointed)
    failing_replace(monkeypatch)
    with pytest.raises(InjectedFault):
        save_checkpoint(checkpointed, _state(2), None)
    monkeypatch.undo()
    _check_round_1_is_latest(checkpointed, before)
    assert [p.name for p in checkpointed.iterdir()] == ["round_001"]


def test_checkpoint_success_keeps_the_previous_round_as_a_fallback(checkpointed):
    save_checkpoint(checkpointed, _state(2), None)
    save_checkpoint(checkpointed, _state(3), None)
    assert sorted(p.name for p in checkpointed.iterdir()) == ["round_002", "round_003"]  # the last 2 rounds
    assert latest_checkpoint(checkpointed.parent).name == "round_003"
