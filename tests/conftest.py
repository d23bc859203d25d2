"""Shared fixtures: where the ADBench files are, and a quiet, single-threaded torch."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SHARED = REPO_ROOT.parent / "shared" / "datasets" / "adbench" / "Classical"

# Two CI cores: one torch thread per test process keeps runs predictable and avoids oversubscription.
torch.set_num_threads(1)


def _shared_dir() -> Path | None:
    env = os.environ.get("SWIFT_HYDRA_DATA")
    for candidate in (Path(env) if env else None, DEFAULT_SHARED):
        if candidate is not None and (candidate / "6_cardio.npz").is_file():
            return candidate
    return None


@pytest.fixture(scope="session")
def shared_data_dir() -> Path:
    """Directory of the ADBench Classical files; skips the test where it is absent."""
    found = _shared_dir()
    if found is None:
        pytest.skip("ADBench files not found (set SWIFT_HYDRA_DATA or place ../shared beside the checkout)")
    return found
