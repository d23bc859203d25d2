"""The MoME network: a gate over K `MambaBackbone` experts, top-1 routed (`MambaMoEDetector` fits it).

See `detectors.moe` for routing, the label-free scores and the choice of K.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from detectors.scores import LabelFreeScores
from detectors.single import MambaBackbone
from detectors.tokens import Standardize

__all__ = ["DEFAULT_GATE_ACTIVATION", "GATE_ACTIVATIONS", "MoMEExpert", "MoMENetwork"]

#: Gate activations by the name stored in a fitted detector's network config.
GATE_ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "gelu": nn.GELU,
    "gelu_tanh": lambda: nn.GELU(approximate="tanh"),
    "silu": nn.SiLU,
}


def _gelu_tanh(x: torch.Tensor) -> torch.Tensor:
    return F.gelu(x, approximate="tanh")


#: The same activations as functions, for the batch-1 path (a module call costs a microsecond more there;
#: module-level functions, so that a fitted detector pickles).
_GATE_FUNCTIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "gelu": F.gelu,
    "gelu_tanh": _gelu_tanh,
    "silu": F.silu,
}
#: The activation of new fits; saved detectors without the key were fitted with exact ``"gelu"``.
DEFAULT_GATE_ACTIVATION = "gelu_tanh"


class MoMEExpert(MambaBackbone):
    """A `MambaBackbone` whose input row may carry ``n_scores`` label-free scores after its features.

    Each score becomes one more token, ``score_s * w_s + pos_s`` (as a patch-1 feature token), after
    the feature tokens; with ``n_scores = 0`` it is exactly `MambaBackbone`.
    """

    def __init__(self, n_features: int, n_scores: int = 0, **backbone: Any) -> None:
        super().__init__(n_features, **backbone)
        self.n_features, self.n_scores = n_features, n_scores
        if n_scores:
            d_model = backbone["d_model"]
            self.score_weight = nn.Parameter(torch.randn(n_scores, d_model))
            self.score_position = nn.Parameter(torch.randn(n_scores, d_model) * 0.02)

    def forward(self, u: torch.Tensor, scale: float = 1.0) -> torch.Tensor:
        """``(n, n_features + n_scores)`` standardised rows and scores -> ``(n,)`` logits (times ``scale``)."""
        if not self.n_scores:
            return super().forward(u, scale)
        z, s = u[:, : self.n_features], u[:, self.n_features :]
        return self.encode(
            torch.cat([self.tokenizer(z), s[:, :, None] * self.score_weight + self.score_position], dim=1),
            scale,
        )


def _per_row(values: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """``(n,)`` per-row values shaped to broadcast against ``like`` (``(n,)`` or members' ``(n, M)``)."""
    return values.view(-1, *([1] * (like.dim() - 1)))


class MoMENetwork(nn.Module):
    """Standardisation -> gate MLP -> top-1 of K `MambaBackbone` experts -> logit.

    The gate is ``Linear -> activation -> Linear``. New fits use the tanh approximation of GELU
    (``gate_activation="gelu_tanh"``): on CPU the exact-erf GELU costs several times more than the
    rest of the gate at batch 1, and the two differ by < 1e-3. Networks saved before this option
    existed load with ``"gelu"`` (exact), so their scores do not change.
    """

    def __init__(
        self,
        n_features: int,
        n_experts: int,
        gate_hidden: int,
        gate_noise: float,
        range_margin: float = 0.5,
        range_weight: float = 1.0,
        gate_activation: str = "gelu_tanh",
        scores: tuple[str, ...] = (),
        score_inputs: str = "tokens",
        reference_rows: int = 0,
        knn_k: int = 5,
        **expert: Any,
    ) -> None:
        super().__init__()
        if gate_activation not in GATE_ACTIVATIONS:
            raise ValueError(
                f"gate_activation must be one of {sorted(GATE_ACTIVATIONS)}, got {gate_activation!r}"
            )
        self.n_experts, self.gate_noise = n_experts, gate_noise
        self.standardize = Standardize(n_features, margin=range_margin, weight=range_weight)
        # gate_hidden = 0: a linear gate. The router prior is k-means, whose nearest-centroid rule is a
        # linear argmax, and at batch 1 the linear gate is one call instead of three.
        self.gate = (
            nn.Sequential(
                nn.Linear(n_features, gate_hidden),
                GATE_ACTIVATIONS[gate_activation](),
                nn.Linear(gate_hidden, n_experts),
            )
            if gate_hidden
            else nn.Sequential(nn.Linear(n_features, n_experts))
        )
        # No score module (and no state_dict keys) without scores: files saved before it load unchanged.
        self.scores = (
            LabelFreeScores(n_features, scores, reference_rows=max(reference_rows, 1), k=knn_k)
            if scores
            else None
        )
        n_scores = len(scores)
        self.score_tokens = n_scores if score_inputs in ("tokens", "both") else 0
        self.score_skip = (
            nn.Linear(n_scores, 1, bias=False) if score_inputs in ("skip", "both") and n_scores else None
        )
        if self.score_skip is not None:
            nn.init.zeros_(self.score_skip.weight)
        self.experts = nn.ModuleList(
            MoMEExpert(n_features, self.score_tokens, **expert) for _ in range(n_experts)
        )
        # The batch-1 path's handles as plain tuples (indexing a ModuleList costs a microsecond a call).
        self._batch1 = (tuple(self.gate), tuple(self.experts), _GATE_FUNCTIONS[gate_activation])

    def _inputs(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Raw rows -> (standardised rows for the gate, expert inputs, logit offset outside the experts)."""
        z, offset = self.standardize.guarded(x)
        if self.scores is None:
            return z, z, offset
        s = self.scores(z)
        if self.score_skip is not None:
            offset = offset + self.score_skip(s).squeeze(-1)
        return z, (torch.cat([z, s], dim=1) if self.score_tokens else z), offset

    def gate_logits(self, z: torch.Tensor) -> torch.Tensor:
        """Clean gate logits ``(n, K)`` of standardised rows (the `gate` MLP, without per-module hooks)."""
        if len(self.gate) == 1:
            return F.linear(z, self.gate[0].weight, self.gate[0].bias)
        first, activation, last = self.gate
        return F.linear(activation(F.linear(z, first.weight, first.bias)), last.weight, last.bias)

    def route(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Top-1 expert index and its gate probability for standardised rows ``z``."""
        gate_prob, choice = torch.softmax(self.gate_logits(z), dim=-1).max(dim=-1)
        return choice, gate_prob

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Inference: ``(n, n_features)`` raw rows -> ``(n,)`` logits; each expert sees only its rows.

        The out-of-range score (`detectors.tokens.Standardize.range_score`) is added to the routed logit.
        """
        z, u, offset = self._inputs(x)
        return self._routed_logits(z, u) + offset

    def _routed_logits(self, z: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
        if self.n_experts == 1:
            return self.experts[0](u)
        if (
            z.shape[0] == 1 and not z.requires_grad
        ):  # the env's hot path (the gate prob's gradient needs torch)
            return self._one_row_logit(z, u)
        choice, gate_prob = self.route(z)
        order = torch.argsort(choice)
        counts = torch.bincount(choice, minlength=self.n_experts).tolist()
        parts = [self.experts[k](rows) for k, rows in enumerate(u[order].split(counts)) if counts[k]]
        return torch.cat(parts)[torch.argsort(order)] * gate_prob

    def _one_row_logit(self, z: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
        """One row's routed logit in as few torch calls as possible (each costs microseconds here).

        The gate is two matrix-vector products, its softmax over a handful of logits runs in Python,
        and the gate probability is folded into the expert's head.
        """
        layers, experts, activation = self._batch1
        z_row = z.view(-1)
        hidden = (
            z_row if len(layers) == 1 else activation(torch.addmv(layers[0].bias, layers[0].weight, z_row))
        )
        logits = torch.addmv(layers[-1].bias, layers[-1].weight, hidden).tolist()
        k = max(range(self.n_experts), key=logits.__getitem__)
        gate_prob = 1.0 / sum(math.exp(v - logits[k]) for v in logits)
        return experts[k](u, gate_prob)

    def training_forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Noisy top-1 routing: returns (logits, load-balancing loss, clean gate logits)."""
        z, u, range_score = self._inputs(x)
        gate_logits = self.gate_logits(z)
        if self.n_experts == 1:
            logits = self.experts[0](u)
            return logits + _per_row(range_score, logits), gate_logits.new_zeros(()), gate_logits
        noisy = gate_logits + self.gate_noise * torch.randn_like(gate_logits)
        choice = noisy.argmax(dim=-1)
        gate_prob = torch.softmax(noisy, dim=-1).gather(1, choice[:, None]).squeeze(1)
        routed = [(rows, self.experts[k](u[rows])) for k in range(self.n_experts)
                  if (rows := (choice == k).nonzero().squeeze(1)).numel()]  # fmt: skip
        logits = z.new_empty((z.shape[0], *routed[0][1].shape[1:]))  # (n,), or (n, M) with an ensemble
        for rows, out in routed:
            logits = logits.index_put((rows,), out)
        routed_share = torch.bincount(choice, minlength=self.n_experts).float() / z.shape[0]
        balance = self.n_experts * (routed_share * torch.softmax(gate_logits, dim=-1).mean(0)).sum()
        return logits * _per_row(gate_prob, logits) + _per_row(range_score, logits), balance, gate_logits
