"""Checkpoints of the closed loop: one folder per completed round, verified before anything is dropped.

``<run_dir>/checkpoints/round_KKK/`` holds the VAE (``vae.pt``), the in-loop detector
(``detector.pt``), the policy (``agent/``: SB3 ``agent.zip`` plus the replay buffer of off-policy
agents when small), the kept synthetic anomalies (``kept.npz``), the private torch generators of the
VAE and detector (``generators.pt``), the round's metrics (``state.json``) and, written last,
``manifest.json``: the SHA-256 of every other file.

A round is built under a temporary name, its files are synced, the manifest is written, and the folder
is renamed into place. Only once the renamed round re-reads with matching checksums are older rounds
pruned, and the newest older intact round is always kept (:data:`KEEP_ROUNDS` in all). On resume,
:func:`find_resume_point` walks back from the newest round to the newest one whose checksums match,
says which one it chose and why it skipped the others; a damaged file is a :class:`CheckpointError`
naming it, never a raw ``JSONDecodeError`` or ``BadZipFile``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch

from agents.policies import GenerationPolicy

CHECKPOINTS = "checkpoints"
MANIFEST = "manifest.json"
KEEP_ROUNDS = 2  # the newest round and the intact one before it
_ROUND = re.compile(r"round_(\d+)")

log = logging.getLogger(__name__)


class CheckpointError(RuntimeError):
    """A checkpoint round is incomplete or damaged; the message names the folder and the file."""


@dataclasses.dataclass(frozen=True)
class ResumePoint:
    """Where a resumed run continues.

    Attributes:
        path: The newest intact round folder, or ``None`` when no round is intact.
        round: Its round number, or ``None``.
        skipped: ``(folder, reason)`` of each newer round that was damaged or incomplete.
    """

    path: Path | None
    round: int | None
    skipped: tuple[tuple[Path, str], ...] = ()

    def describe(self) -> str:
        """One line for the log: the round chosen and the rounds skipped."""
        skipped = "; ".join(f"{p.name} skipped: {why}" for p, why in self.skipped)
        where = f"round {self.round} ({self.path})" if self.path else "the start (no intact checkpoint)"
        return f"resuming from {where}" + (f"; {skipped}" if skipped else "")


@dataclasses.dataclass
class LoopState:
    """Everything a round needs from the previous ones (what a checkpoint holds)."""

    round: int
    vae: Any
    detector: Any
    kept_X: np.ndarray
    kept_reward: np.ndarray
    kept_round: np.ndarray
    metrics: list[dict[str, Any]]


# ------------------------------------------------------------------------------------------ generators
def _generator_states(*models: Any) -> dict[str, torch.Tensor]:
    # The VAE/detector draw minibatches from private torch generators that their save() does not
    # keep; exact resume needs them.
    states = {}
    for i, model in enumerate(models):
        gen = getattr(model, "_generator", None)
        if isinstance(gen, torch.Generator):
            states[f"model{i}"] = gen.get_state()
    return states


def _set_generator_states(states: dict[str, torch.Tensor], *models: Any) -> None:
    for i, model in enumerate(models):
        gen = getattr(model, "_generator", None)
        if isinstance(gen, torch.Generator) and f"model{i}" in states:
            gen.set_state(states[f"model{i}"])


# ------------------------------------------------------------------------------------------ manifest
def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_manifest(folder: Path, files: list[Path], **fields: Any) -> None:
    """Syncs ``files`` (inside ``folder``), then writes their checksums atomically as ``folder/manifest.json``.

    Args:
        folder: The folder the manifest describes; paths are recorded relative to it.
        files: The files to cover.
        **fields: Extra top-level entries of the manifest (e.g. ``round``).
    """
    for path in files:
        _fsync(path)
    manifest = {**fields, "files": {p.relative_to(folder).as_posix(): _sha256(p) for p in sorted(files)}}
    tmp = folder / f".{MANIFEST}.tmp"
    with open(tmp, "w") as fh:
        json.dump(manifest, fh, indent=1)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, folder / MANIFEST)
    _fsync(folder)


def verify_manifest(folder: str | Path, what: str = "checkpoint") -> dict[str, Any]:
    """Checks every file listed in ``folder/manifest.json`` against its checksum; returns the manifest.

    Args:
        folder: The folder holding the manifest.
        what: What the folder is, for the messages (``checkpoint``, ``run``).

    Raises:
        CheckpointError: No or unreadable manifest, or a listed file missing or with another checksum.
    """
    folder = Path(folder)
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
        files = dict(manifest["files"])
    except FileNotFoundError:
        raise CheckpointError(f"{what} {folder} is incomplete: no {MANIFEST}") from None
    except (ValueError, KeyError, TypeError) as err:
        raise CheckpointError(f"{what} {folder} is damaged: {MANIFEST} is unreadable ({err})") from None
    for name, expected in files.items():
        path = folder / name
        if not path.is_file():
            raise CheckpointError(f"{what} {folder} is damaged: {name} is missing")
        if _sha256(path) != expected:
            raise CheckpointError(f"{what} {folder} is damaged: {name} does not match its checksum")
    return manifest


def _write_manifest(folder: Path, round_: int) -> None:
    """The manifest of a round folder: every file in it."""
    skip = {MANIFEST, f".{MANIFEST}.tmp"}
    files = [p for p in folder.rglob("*") if p.is_file() and p.relative_to(folder).as_posix() not in skip]
    write_manifest(folder, files, round=round_)


def verify_round(folder: str | Path) -> int:
    """Checks a round folder against its manifest; returns its round number.

    Raises:
        CheckpointError: No or unreadable manifest, or a listed file missing or with another checksum.
    """
    folder = Path(folder)
    manifest = verify_manifest(folder)
    try:
        round_ = int(manifest["round"])
    except (KeyError, TypeError, ValueError) as err:
        raise CheckpointError(f"checkpoint {folder} is damaged: {MANIFEST} is unreadable ({err})") from None
    if "state.json" not in manifest["files"]:
        raise CheckpointError(f"checkpoint {folder} is damaged: {MANIFEST} lists no state.json")
    return round_


def _rounds(ckpt_root: Path) -> list[tuple[int, Path]]:
    """``(round, folder)`` of every ``round_KKK`` folder, oldest first."""
    found = []
    for path in ckpt_root.glob("round_*"):
        match = _ROUND.fullmatch(path.name)
        if match and path.is_dir():
            found.append((int(match.group(1)), path))
    return sorted(found)


# ------------------------------------------------------------------------------------------ save / find / load
def save_checkpoint(ckpt_root: Path, state: LoopState, policy: GenerationPolicy | None) -> Path:
    """Writes ``checkpoints/round_KKK`` with its manifest, verifies it, then prunes older rounds."""
    ckpt_root.mkdir(parents=True, exist_ok=True)
    final = ckpt_root / f"round_{state.round:03d}"
    tmp = ckpt_root / f".round_{state.round:03d}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        state.vae.save(tmp / "vae.pt")
        state.detector.save(tmp / "detector.pt")
        if policy is not None:
            policy.save(tmp / "agent")
        np.savez(tmp / "kept.npz", X=state.kept_X, reward=state.kept_reward, round=state.kept_round)
        torch.save(_generator_states(state.vae, state.detector), tmp / "generators.pt")
        (tmp / "state.json").write_text(
            json.dumps({"round": state.round, "metrics": state.metrics}, indent=1)
        )
        _write_manifest(tmp, state.round)
        shutil.rmtree(final, ignore_errors=True)  # a stale copy of this round (a resume fell back past it)
        os.replace(tmp, final)
    except BaseException:  # a failed write leaves the previous round and no half-built folder
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _fsync(ckpt_root)
    verify_round(final)  # what landed on disk; raises before anything older is dropped
    _prune(ckpt_root, final)
    return final


def _prune(ckpt_root: Path, newest: Path) -> None:
    """Keeps ``newest`` and the newest intact rounds before it (:data:`KEEP_ROUNDS` in all).

    Rounds numbered above ``newest`` belong to an abandoned attempt (the run fell back past them) and go.
    """
    number = int(_ROUND.fullmatch(newest.name).group(1))
    kept = 1
    for k, folder in reversed(_rounds(ckpt_root)):
        if folder == newest:
            continue
        if k < number and kept < KEEP_ROUNDS:
            try:
                verify_round(folder)
            except CheckpointError:
                pass
            else:
                kept += 1
                continue
        shutil.rmtree(folder, ignore_errors=True)


def find_resume_point(run_dir: str | Path) -> ResumePoint:
    """The newest round of ``run_dir`` whose files match their checksums; logs the choice."""
    skipped = []
    for k, folder in reversed(_rounds(Path(run_dir) / CHECKPOINTS)):
        try:
            verify_round(folder)
        except CheckpointError as err:
            log.warning("%s; trying an older round", err)
            skipped.append((folder, str(err)))
            continue
        point = ResumePoint(folder, k, tuple(skipped))
        break
    else:
        point = ResumePoint(None, None, tuple(skipped))
    log.info(point.describe())
    return point


def latest_checkpoint(run_dir: str | Path) -> Path | None:
    """The newest intact ``checkpoints/round_KKK`` folder of a run (see :func:`find_resume_point`)."""
    return find_resume_point(run_dir).path


def load_checkpoint(path: Path, device: str = "cpu") -> LoopState:
    """Reads what :func:`save_checkpoint` wrote (the policy is restored separately, on the env).

    Raises:
        CheckpointError: The round fails its checksums, or one of its files cannot be read.
    """
    from detectors import load_detector
    from hydra_env import ConditionalVAE

    path = Path(path)
    verify_round(path)

    def read(name: str, reader: Any) -> Any:
        try:
            return reader(path / name)
        except Exception as err:  # any library's error for a bad file becomes one named error
            raise CheckpointError(f"checkpoint {path} is damaged: {name} cannot be read ({err})") from err

    meta = read("state.json", lambda p: json.loads(p.read_text()))
    vae = read("vae.pt", lambda p: ConditionalVAE.load(p, device=device))
    detector = read("detector.pt", lambda p: load_detector(p, device=device))
    generators = read("generators.pt", lambda p: torch.load(p, weights_only=True))
    _set_generator_states(generators, vae, detector)

    def kept(p: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        with np.load(p) as data:
            return data["X"], data["reward"], data["round"]

    kept_X, kept_reward, kept_round = read("kept.npz", kept)
    return LoopState(meta["round"], vae, detector, kept_X, kept_reward, kept_round, meta["metrics"])
