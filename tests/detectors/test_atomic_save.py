"""Detector ``save``: a write that fails partway leaves the previous file intact and no temporary file."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch

from detectors import MambaDetector, MambaMoEDetector
from detectors.adapters import PyODAdapter
from detectors.devnet import DevNet
from tests.atomic import (
    InjectedFault,
    assert_untouched,
    failing_replace,
    partial_then_fail,
    snapshot,
    write_garbage,
)
from tests.detectors.conftest import TINY_MOE, TINY_SINGLE

FACTORIES = {
    "mamba": lambda: MambaDetector(random_state=0, **{**TINY_SINGLE, "epochs": 1}),
    "mamba_moe": lambda: MambaMoEDetector(n_experts=2, random_state=0, **{**TINY_MOE, "epochs": 1}),
    "devnet": lambda: DevNet(epochs=1, random_state=0),
    "iforest": lambda: PyODAdapter("iforest", random_state=0),
}


@pytest.fixture(scope="module", params=sorted(FACTORIES))
def saved_detector(request, blobs, tmp_path_factory):
    X, y = blobs
    detector = FACTORIES[request.param]().fit(X[::3], y[::3])
    folder = tmp_path_factory.mktemp(request.param)
    detector.save(folder / "detector.pt")
    return detector, folder / "detector.pt"


def _assert_loads_like(detector, path, X) -> None:
    again = type(detector).load(path)
    np.testing.assert_allclose(
        again.decision_function(X), detector.decision_function(X), rtol=1e-6, atol=1e-6
    )


def test_failed_rename_keeps_the_previous_file(saved_detector, blobs, monkeypatch):
    detector, path = saved_detector
    before = snapshot(path.parent)
    failing_replace(monkeypatch)
    with pytest.raises(InjectedFault):
        detector.save(path)
    monkeypatch.undo()
    assert_untouched(path.parent, before)
    _assert_loads_like(detector, path, blobs[0][:20])


def test_failure_while_serializing_keeps_the_previous_file(saved_detector, blobs, monkeypatch):
    detector, path = saved_detector
    before = snapshot(path.parent)
    torn = partial_then_fail(lambda obj, target, *args, **kwargs: write_garbage(target))
    monkeypatch.setattr(torch, "save", torn)
    monkeypatch.setattr(pickle, "dump", torn)
    with pytest.raises(InjectedFault):
        detector.save(path)
    monkeypatch.undo()
    assert_untouched(path.parent, before)
    _assert_loads_like(detector, path, blobs[0][:20])
