"""`detectors.moe_network`: the gate, the experts, and the batch-1 path that must agree with the batched one."""

import numpy as np
import pytest
import torch

from detectors import MambaMoEDetector
from detectors.moe_network import MoMENetwork


@pytest.mark.parametrize("gate_hidden", [0, 8])
@pytest.mark.parametrize("ensemble", [1, 3])
def test_one_row_path_equals_the_batched_routing(gate_hidden, ensemble):
    """Batch 1 takes its own path (gate softmax in Python, gate prob folded into the head); same logits."""
    torch.manual_seed(0)
    net = MoMENetwork(
        5, 3, gate_hidden=gate_hidden, gate_noise=1.0, d_model=8, n_layers=1, d_state=2, max_tokens=4,
        ensemble=ensemble,
    ).eval()  # fmt: skip
    rows = torch.randn(64, 5) * 3
    with torch.no_grad():
        z, u, offset = net._inputs(rows)
        choice, gate_prob = net.route(z)
        assert len(set(choice.tolist())) > 1  # the comparison covers more than one expert
        batched = net(rows)
        for i in range(len(rows)):
            expected = net.experts[int(choice[i])](u[i : i + 1]) * gate_prob[i] + offset[i]
            torch.testing.assert_close(net(rows[i : i + 1]), expected, rtol=1e-5, atol=1e-5)
            torch.testing.assert_close(net(rows[i : i + 1]), batched[i : i + 1], rtol=1e-5, atol=1e-5)
    x = rows[:1].clone().requires_grad_(True)  # with a gradient the gate prob stays in torch
    net(x).sum().backward()
    gate_weight = net.gate[-1].weight
    assert gate_weight.grad is not None and gate_weight.grad.abs().sum() > 0


def test_a_linear_gate_routes_like_the_mlp_gate_and_round_trips(tmp_path):
    """``gate_hidden=0``: one linear layer; batch-1 and batched scores agree, and the file remembers it."""
    from detectors import load_detector

    rng = np.random.default_rng(0)
    centers = np.array([[-4.0, 0, 0, 0], [4.0, 0, 0, 0]])
    X = (centers[rng.integers(0, 2, 300)] + rng.normal(size=(300, 4))).astype(np.float32)
    y = (np.abs(X[:, 1]) > 2.0).astype(int)
    det = MambaMoEDetector(gate_hidden=0, n_experts=2, epochs=2, random_state=0).fit(X, y)
    net = det.network_
    assert len(net.gate) == 1 and net.gate[0].weight.shape == (2, 4)
    rows = torch.as_tensor(X[:40])
    with torch.no_grad():
        choice, _ = net.route(net.standardize(rows))
        batched = net(rows)
        for i in range(len(rows)):
            torch.testing.assert_close(net(rows[i : i + 1]), batched[i : i + 1], rtol=1e-5, atol=1e-5)
    assert set(choice.tolist()) == {0, 1}  # the two clusters go to different experts
    det.save(tmp_path / "m.pt")
    again = load_detector(tmp_path / "m.pt")
    assert again.gate_hidden == 0
    np.testing.assert_array_equal(again.decision_function(X), det.decision_function(X))
