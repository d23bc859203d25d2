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

MAX_TEST_WORKERS = 8  # each worker holds torch, SB3 and a few fitted models (~1 GB at peak)


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``-n auto``: the cores this process may run on (psutil would count the host's), at most 8."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_TEST_WORKERS))


def _shared_dir() -> Path | None:
    env = os.environ.get("SWIFT_HYDRA_DATA")
    for candidate in (Path(env) if env else None, DEFAULT_SHARED):
        if candidate is not None and (candidate / "6_cardio.npz").is_file():
            return candidate
    return None


def data_required() -> bool:
    """Whether a missing ADBench folder is an error (CI sets ``SWIFT_HYDRA_REQUIRE_DATA=1``)."""
    return os.environ.get("SWIFT_HYDRA_REQUIRE_DATA", "").strip().lower() in ("1", "true", "yes")


def locate_shared_data() -> Path:
    """Directory of the ADBench Classical files.

    Where it is absent the calling test skips, unless ``SWIFT_HYDRA_REQUIRE_DATA=1`` (CI): then it
    fails, so a CI machine that lost its data cannot pass by skipping every data test.
    """
    found = _shared_dir()
    if found is None:
        where = os.environ.get("SWIFT_HYDRA_DATA") or str(DEFAULT_SHARED)
        message = f"ADBench files not found at {where} (set SWIFT_HYDRA_DATA or place ../shared beside the checkout)"
        if data_required():
            pytest.fail(f"{message}; SWIFT_HYDRA_REQUIRE_DATA=1 makes this a failure", pytrace=False)
        pytest.skip(message)
    return found


@pytest.fixture(scope="session")
def shared_data_dir() -> Path:
    """Directory of the ADBench Classical files (see :func:`locate_shared_data`)."""
    return locate_shared_data()
