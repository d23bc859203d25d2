"""`MambaDetector`: one bidirectional Mamba model over feature tokens (the training-time detector)."""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import nn

from detectors.base import TRAINING_CONSTRAINTS, BaseTorchDetector
from detectors.mamba import BidirectionalMamba
from detectors.tokens import Standardize, make_tokenizer

__all__ = ["MambaBackbone", "MambaNetwork", "MambaDetector"]


class MambaBackbone(nn.Module):
    """Standardised rows -> tokens -> ``n_layers`` residual bidirectional Mamba layers -> mean pool -> logit.

    Each layer is ``h = h + BiMamba(RMSNorm(h))`` (pre-norm, as in mamba-ssm's ``Block``).
    """

    def __init__(
        self,
        n_features: int,
        d_model: int,
        n_layers: int,
        d_state: int,
        max_tokens: int,
        expand: int = 2,
        numeric_embedding: str = "linear",
        ensemble: int = 1,
    ) -> None:
        super().__init__()
        self.tokenizer = make_tokenizer(numeric_embedding, n_features, d_model, max_tokens)
        self.norms = nn.ModuleList(nn.RMSNorm(d_model) for _ in range(n_layers))
        self.layers = nn.ModuleList(
            BidirectionalMamba(d_model, d_state, expand=expand) for _ in range(n_layers)
        )
        self.final_norm = nn.RMSNorm(d_model)
        self.ensemble = int(ensemble)
        self.head = nn.Linear(d_model, self.ensemble)  # one head per ensemble member
        self._head_cache: tuple | None = None  # see _folded_head
        if self.ensemble > 1:
            # TabM-mini (Gorishniy et al., ICLR 2025): member m scales the tokens by its own vector
            # (initialised to random signs) and shares every layer; members train on their own losses.
            signs = torch.randint(0, 2, (self.ensemble, d_model), generator=torch.Generator().manual_seed(0))
            self.member_scale = nn.Parameter(2.0 * signs.float() - 1.0)

    def forward(self, x: torch.Tensor, scale: float = 1.0) -> torch.Tensor:
        """``(n, n_features)`` standardised rows -> ``(n,)`` logits (members': ``(n, M)`` in training)."""
        return self.encode(self.tokenizer(x), scale)

    def encode(self, h: torch.Tensor, scale: float = 1.0) -> torch.Tensor:
        """``(n, L, d_model)`` tokens -> logits; with an ensemble, the members' mean (eval) or each (train).

        ``scale`` multiplies the logits inside the head's own product (the MoME gate's probability
        costs no extra op on the batch-1 path).
        """
        n = h.shape[0]
        if self.ensemble > 1 and n == 1:
            h = h * self.member_scale.unsqueeze(1)  # (M, L, d): the same rows, fewer calls at batch 1
        elif self.ensemble > 1:
            h = (h[None] * self.member_scale[:, None, None, :]).flatten(0, 1)  # (M n, L, d)
        for norm, layer in zip(self.norms, self.layers, strict=True):
            h = h + layer(norm(h))
        normed = self.final_norm(h)
        if not self.training and (self.ensemble == 1 or n == 1):
            # The token mean, the members' mean and the head in one matrix-vector product (batch 1
            # pays per call, not per value: two reductions and four reshapes fewer).
            bias, weight = self._folded_head(normed.shape[1])
            return torch.addmv(bias, normed.view(n, -1), weight, beta=scale, alpha=scale)
        pooled = normed.mean(dim=1)
        if self.ensemble == 1:
            logits = self.head(pooled).squeeze(-1)
            return logits if scale == 1.0 else logits * scale
        members = pooled.view(self.ensemble, n, -1)  # (M, n, d): member m's rows
        if self.training:  # member m's logits from its own head: (n, M)
            logits = torch.bmm(members, self.head.weight[:, :, None]).squeeze(-1).T + self.head.bias
            return logits if scale == 1.0 else logits * scale
        # The members' mean logit as one matrix-vector product.
        flat = members.transpose(0, 1).reshape(n, -1)  # (n, M d), member-major like head.weight
        return torch.addmv(
            self.head.bias.mean().expand(n),
            flat,
            self.head.weight.reshape(-1),
            beta=scale,
            alpha=scale / self.ensemble,
        )

    def _folded_head(self, n_tokens: int) -> tuple[torch.Tensor, torch.Tensor]:
        """``(bias, weight)`` with ``addmv(bias, normed.view(n, -1), weight)`` = the eval logits.

        ``weight`` is each member's head weight over ``n_tokens * ensemble`` (token mean, members'
        mean) tiled member-major like the normed tokens; ``bias`` the members' mean bias. Constants of
        the weights, so they are cached, keyed by the head's tensors and their in-place version (an
        optimizer step or `load_state_dict` changes the key; `train()` drops the cache).
        """
        weight, bias = self.head.weight, self.head.bias
        if weight.is_inference() or bias.is_inference():  # built under inference mode: no version to key on
            return self._head_constants(n_tokens)
        key = (n_tokens, weight.data_ptr(), weight._version, bias.data_ptr(), bias._version)
        if self._head_cache is None or self._head_cache[0] != key:
            # Plain tensors even under inference mode: the gradient policy differentiates through them.
            with torch.inference_mode(False), torch.no_grad():
                self._head_cache = (key, *self._head_constants(n_tokens))
        return self._head_cache[1], self._head_cache[2]

    def _head_constants(self, n_tokens: int) -> tuple[torch.Tensor, torch.Tensor]:
        tiled = self.head.weight[:, None, :].expand(-1, n_tokens, -1) / (self.ensemble * n_tokens)
        return self.head.bias.mean(), tiled.reshape(-1)

    def train(self, mode: bool = True) -> MambaBackbone:
        self._head_cache = None
        return super().train(mode)


class MambaNetwork(nn.Module):
    """Raw rows -> logits: guarded standardisation, a `MambaBackbone`, plus the out-of-range score.

    See `detectors.tokens.Standardize` for the out-of-range guard.
    """

    def __init__(
        self, n_features: int, range_margin: float = 0.5, range_weight: float = 1.0, **backbone: Any
    ) -> None:
        super().__init__()
        self.standardize = Standardize(n_features, margin=range_margin, weight=range_weight)
        self.backbone = MambaBackbone(n_features, **backbone)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(n, n_features)`` raw rows -> ``(n,)`` logits."""
        z, range_score = self.standardize.guarded(x)
        return self.backbone(z) + range_score


class MambaDetector(BaseTorchDetector):
    """Supervised tabular anomaly detector: a single bidirectional Mamba over feature tokens.

    Every feature (or patch of features when ``n_features > max_tokens``, see
    `detectors.tokens.patch_layout`) becomes a token; ``n_layers`` residual bidirectional Mamba
    layers mix them; the mean-pooled sequence gives one logit. Trained with class-weighted BCE
    (``pos_weight = n_normal / n_anomaly``), AdamW, early stopping on a stratified validation
    split, then calibrated (see `detectors.base` for the split / calibration rules).

    Args:
        epochs: Maximum training epochs of a fresh fit.
        warm_start_epochs: Epochs of a ``fit(..., warm_start=True)`` call.
        lr: AdamW learning rate.
        weight_decay: AdamW weight decay.
        batch_size: Mini-batch size.
        max_steps_per_epoch: At most this many mini-batches per epoch (a fresh random subset of the
            rows each epoch), so the cost of a fit stops growing with the number of rows; None = all.
        average_weights_from: Stochastic weight averaging: the fitted weights are the mean of the
            weights at the end of each epoch from this fraction of ``epochs`` on (0.5: the last half).
            With a validation split, the mean is kept only where its validation loss is at most the
            best epoch's. None = the last (or best) epoch's weights.
        d_model: Token width.
        n_layers: Number of bidirectional Mamba layers.
        d_state: SSM state size.
        expand: Mamba inner expansion (``d_inner = expand * d_model``).
        max_tokens: Upper bound on the sequence length (features are patched beyond it).
        validation_fraction: Share of rows held out for early stopping and calibration.
        patience: Epochs without validation-loss improvement before stopping.
        calibration: ``"sigmoid"`` (Platt) or ``"isotonic"``.
        range_margin: Out-of-range guard: how far (in training standard deviations) beyond the
            training range a feature may lie before the guard acts (see `detectors.tokens.Standardize`).
        range_weight: Out-of-range guard: logit added per standard deviation beyond that margin
            (summed over features); 0 turns the range score off (inputs are still clipped).
        contamination: Expected anomaly share for ``threshold_``; None = labeled-anomaly share.
        random_state: Seed for splits, shuffles and initialisation (same seed -> same scores on CPU).
        device: ``"auto"`` (CUDA if available), ``"cpu"``, ``"cuda"``, ...
        verbose: Show a tqdm progress bar over epochs.

    Raises:
        InvalidParameterError: From ``fit``, before any training, for an impossible setting (e.g.
            ``epochs=0``, ``batch_size=-5``, ``calibration="bogus"``), naming the parameter.
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = dict(TRAINING_CONSTRAINTS)

    def __init__(
        self,
        *,
        epochs: int = 20,
        warm_start_epochs: int = 5,
        lr: float = 5e-3,
        weight_decay: float = 1e-4,
        batch_size: int = 128,
        max_steps_per_epoch: int | None = None,
        average_weights_from: float | None = None,
        d_model: int = 24,
        n_layers: int = 2,
        d_state: int = 4,
        expand: int = 2,
        max_tokens: int = 12,
        validation_fraction: float = 0.2,
        patience: int = 4,
        calibration: str = "sigmoid",
        range_margin: float = 0.5,
        range_weight: float = 1.0,
        contamination: float | None = None,
        random_state: int | None = 0,
        device: str = "auto",
        verbose: bool = False,
    ) -> None:
        self.epochs = epochs
        self.warm_start_epochs = warm_start_epochs
        self.lr = lr
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.max_steps_per_epoch = max_steps_per_epoch
        self.average_weights_from = average_weights_from
        self.d_model = d_model
        self.n_layers = n_layers
        self.d_state = d_state
        self.expand = expand
        self.max_tokens = max_tokens
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.calibration = calibration
        self.range_margin = range_margin
        self.range_weight = range_weight
        self.contamination = contamination
        self.random_state = random_state
        self.device = device
        self.verbose = verbose

    def _make_network(self, config: dict[str, Any]) -> nn.Module:
        return MambaNetwork(
            config["n_features"],
            range_margin=self.range_margin,
            range_weight=self.range_weight,
            d_model=self.d_model,
            n_layers=self.n_layers,
            d_state=self.d_state,
            max_tokens=self.max_tokens,
            expand=self.expand,
        )
