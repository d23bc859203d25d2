"""Batch-1 latency of the networks alone, side by side: what routing and the gate cost.

    python -m research.probes.mome.latency_parts > research/probes/mome/latency_parts.log

Untrained networks of the tables' sizes on cardio's 21 features (the single detector: d_model 24, two
layers; MoME experts: d_model 16, one layer, four members), timed with `benchmarks.timing` (interleaved
rounds, medians of per-round ratios to the single network). Also the gate's own calls timed alone, and
MoME K = 2 with a linear gate (``gate_hidden=0``),
and the steps both detectors share around the network (standardisation with the range score, and the
Platt calibration's three calls), timed alone. Inference mode, one torch thread.
"""

from __future__ import annotations

import numpy as np
import torch

from benchmarks.timing import interleaved_seconds_per_call
from detectors.moe_network import MoMENetwork
from detectors.single import MambaNetwork

N_FEATURES = 21


def _mome(n_experts: int, gate_hidden: int = 32) -> MoMENetwork:
    return MoMENetwork(
        N_FEATURES, n_experts, gate_hidden=gate_hidden, gate_noise=1.0, d_model=16, n_layers=1, d_state=4,
        max_tokens=12, ensemble=4,
    ).eval()  # fmt: skip


def main() -> None:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    one = torch.randn(1, N_FEATURES)
    nets = {
        "single": MambaNetwork(N_FEATURES, d_model=24, n_layers=2, d_state=4, max_tokens=12).eval(),
        "MoME K=1": _mome(1),
        "MoME K=2": _mome(2),
        "MoME K=8": _mome(8),
        "MoME K=2, linear gate": _mome(2, gate_hidden=0),
    }
    with torch.inference_mode():
        k2 = nets["MoME K=2"]
        z = k2._inputs(one)[0][0]
        first, activation, last = k2.gate
        fns = {name: (lambda net=net: net(one)) for name, net in nets.items()}
        fns["K=2 gate calls alone"] = lambda: torch.addmv(
            last.bias, last.weight, activation(torch.addmv(first.bias, first.weight, z))
        ).tolist()
        single = nets["single"]
        fns["shared: standardisation and range score alone"] = lambda: single.standardize.guarded(one)
        fns["shared: Platt calibration alone"] = lambda: torch.sigmoid(z[:1] * 1.3 + 0.2)
        seconds = interleaved_seconds_per_call(fns, rounds=40, block_seconds=0.02)
    print("| network | batch-1 us (median) | / single (median of paired ratios) |\n|---|---:|---:|")
    for name, s in seconds.items():
        print(f"| {name} | {np.median(s) * 1e6:.1f} | {np.median(s / seconds['single']):.3f} |")


if __name__ == "__main__":
    main()
