"""Checkpoints: every damaged file is named, and a resume falls back to the newest intact round."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

import agents.loop as loop
from agents import checkpoint
from agents.checkpoint import CheckpointError, find_resume_point, load_checkpoint, save_checkpoint
from agents.config import TrainConfig
from agents.experiment import run

TINY = {"budget": "tiny", "progress": False, "control": False}
ROUND_FILES = [
    "agent/agent.zip", "detector.pt", "generators.pt", "kept.npz", "manifest.json", "state.json", "vae.pt",
]  # fmt: skip


def _comparable(summary, run_dir):
    with np.load(run_dir / "synthetic.npz") as kept:
        synthetic = kept["X"].copy()
    return {k: summary[k] for k in ("test", "val_auc_roc_per_round", "n_synthetic_kept")}, synthetic


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("uninterrupted")
    return _comparable(run(TrainConfig(**TINY), run_dir), run_dir)


@pytest.fixture(scope="module")
def crashed(tmp_path_factory):
    """A run killed right after checkpointing its last round (before the deployment detector)."""
    run_dir = tmp_path_factory.mktemp("crashed")
    save = loop.save_checkpoint

    def crash_after_round_2(root, state, policy):
        path = save(root, state, policy)
        if state.round == 2:
            raise RuntimeError("injected crash after round 2")
        return path

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(loop, "save_checkpoint", crash_after_round_2)
        with pytest.raises(RuntimeError, match="injected crash"):
            run(TrainConfig(**TINY), run_dir)
    return run_dir


def _copy(src, dst):
    shutil.copytree(src, dst, dirs_exist_ok=True)
    return dst


def _truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def test_rounds_hold_a_manifest_and_older_rounds_are_pruned(crashed):
    rounds = sorted(p.name for p in (crashed / "checkpoints").iterdir())
    assert rounds == ["round_001", "round_002"]  # round 0 pruned once round 2 was verified
    files = sorted(
        p.relative_to(crashed / "checkpoints" / "round_002").as_posix()
        for p in (crashed / "checkpoints" / "round_002").rglob("*")
        if p.is_file()
    )
    assert files == ROUND_FILES
    manifest = json.loads((crashed / "checkpoints" / "round_002" / "manifest.json").read_text())
    assert manifest["round"] == 2 and sorted(manifest["files"]) == sorted(
        set(ROUND_FILES) - {"manifest.json"}
    )
    assert checkpoint.verify_round(crashed / "checkpoints" / "round_001") == 1


@pytest.mark.parametrize("name", ROUND_FILES)
def test_a_truncated_file_is_named_and_the_resume_falls_back(crashed, reference, tmp_path, capsys, name):
    run_dir = _copy(crashed, tmp_path / "run")
    damaged = run_dir / "checkpoints" / "round_002"
    _truncate(damaged / name)
    with pytest.raises(
        CheckpointError, match=rf"round_002 is damaged: {name}|round_002 is damaged: manifest"
    ):
        load_checkpoint(damaged)
    point = find_resume_point(run_dir)
    assert point.round == 1 and point.path.name == "round_001"
    assert len(point.skipped) == 1 and "round_002" in point.skipped[0][1]
    summary = run(TrainConfig(**TINY), run_dir, resume=True)
    assert "resuming from round 1" in capsys.readouterr().err
    assert summary["resumed_from_round"] == 1
    got, expected = _comparable(summary, run_dir), reference
    assert got[0] == expected[0]
    np.testing.assert_array_equal(got[1], expected[1])
    # Round 2 was recomputed and checkpointed again, intact.
    assert checkpoint.verify_round(damaged) == 2


@pytest.mark.parametrize("name", ["state.json", "detector.pt", "generators.pt", "kept.npz", "vae.pt"])
def test_unreadable_file_with_a_matching_checksum_is_a_named_error(crashed, tmp_path, name):
    folder = _copy(crashed / "checkpoints" / "round_002", tmp_path / "round_002")
    (folder / name).write_bytes(b"not what it should be")
    checkpoint._write_manifest(folder, 2)  # a foreign file whose checksum is right
    with pytest.raises(CheckpointError, match=rf"{name} cannot be read"):
        load_checkpoint(folder)


def test_no_intact_round_means_a_fresh_start(crashed, tmp_path):
    run_dir = _copy(crashed, tmp_path / "run")
    for folder in (run_dir / "checkpoints").iterdir():
        (folder / "manifest.json").unlink()
    point = find_resume_point(run_dir)
    assert point.path is None and [p.name for p, _ in point.skipped] == ["round_002", "round_001"]
    assert "no manifest.json" in point.skipped[0][1] and "the start" in point.describe()


def test_older_rounds_survive_a_round_that_fails_verification(crashed, tmp_path, monkeypatch):
    root = _copy(crashed / "checkpoints", tmp_path / "checkpoints")
    state = load_checkpoint(root / "round_002")
    state.round = 3
    verify = checkpoint.verify_round

    def disk_lies(folder):
        if folder.name == "round_003":
            raise CheckpointError(f"checkpoint {folder} is damaged: detector.pt does not match its checksum")
        return verify(folder)

    monkeypatch.setattr(checkpoint, "verify_round", disk_lies)
    with pytest.raises(CheckpointError, match="round_003"):
        save_checkpoint(root, state, None)
    assert {"round_001", "round_002"} <= {p.name for p in root.iterdir()}
    monkeypatch.setattr(checkpoint, "verify_round", verify)
    save_checkpoint(root, state, None)
    assert sorted(p.name for p in root.iterdir()) == ["round_002", "round_003"]
