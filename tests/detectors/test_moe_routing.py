"""MoME inference routes each row to its own expert, on generated data (no ADBench files needed)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from detectors import MambaMoEDetector
from tests.detectors.conftest import TINY_MOE

N_EXPERTS = 4


@pytest.fixture(scope="module")
def routed(blobs):
    """A MoME fitted on four well separated clusters, and rows from every cluster plus anomalies."""
    X, y = blobs
    detector = MambaMoEDetector(n_experts=N_EXPERTS, random_state=0, **TINY_MOE).fit(X, y)
    return detector, X[::5]


def _expert_outputs(detector: MambaMoEDetector, X: np.ndarray) -> np.ndarray:
    """``(n_experts, n)``: every expert's gated logit of every row, computed expert by expert, plus the
    terms outside the experts (range score and label-free score term)."""
    net = detector.network_
    with torch.inference_mode():
        z, u, offset = net._inputs(torch.as_tensor(X, dtype=torch.float32))
        gate = torch.softmax(net.gate(z), dim=-1)
        return np.stack(
            [(net.experts[k](u) * gate[:, k] + offset).double().numpy() for k in range(N_EXPERTS)]
        )


def test_rows_are_routed_to_several_experts(routed):
    detector, X = routed
    counts = np.bincount(detector.assign_experts(X), minlength=N_EXPERTS)
    assert (counts > 0).sum() >= 2, counts


def test_each_row_scores_as_its_routed_expert(routed):
    """decision_function(row) is the routed expert's output, and not another expert's."""
    detector, X = routed
    assigned = detector.assign_experts(X)
    per_expert = _expert_outputs(detector, X)
    own = per_expert[assigned, np.arange(len(X))]
    scores = detector.decision_function(X)
    np.testing.assert_allclose(scores, own, rtol=1e-5, atol=1e-5)
    # The check can tell experts apart: for every routed-to expert except 0, some row's score
    # differs from what expert 0 would have said (routing everything to expert 0 fails here).
    for k in set(assigned.tolist()) - {0}:
        rows = assigned == k
        assert np.abs(per_expert[0, rows] - scores[rows]).max() > 1e-3, k


def test_single_row_inference_uses_the_routed_expert(routed):
    detector, X = routed
    assigned = detector.assign_experts(X)
    per_expert = _expert_outputs(detector, X)
    for k in np.unique(assigned):
        i = int(np.flatnonzero(assigned == k)[0])
        score = detector.decision_function(X[i : i + 1])[0]
        assert score == pytest.approx(per_expert[k, i], rel=1e-5, abs=1e-5)


def test_single_row_scores_the_same_on_and_off_the_autograd_tape(routed):
    """A lone row scores the same under inference mode (the env's hot path) as on the autograd tape."""
    detector, X = routed
    net = detector.network_
    for i in range(0, len(X), max(1, len(X) // 8)):
        with torch.inference_mode():
            fast = float(net(torch.as_tensor(X[i : i + 1], dtype=torch.float32)))
        x = torch.as_tensor(X[i : i + 1], dtype=torch.float32).requires_grad_(True)
        taped = net(x)
        taped.sum().backward()
        assert fast == pytest.approx(float(taped.detach()), rel=1e-5, abs=1e-5)
        assert x.grad is not None and torch.isfinite(x.grad).all()
