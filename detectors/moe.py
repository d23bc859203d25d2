"""`MambaMoEDetector` (MoME): K lightweight Mamba experts behind a top-1 gating network.

Routing:
    The gate is a small MLP on the standardised raw row. Training routes each row to the top-1
    expert of the *noisy* gate logits (``logits + gate_noise * N(0, 1)``, so rows explore other
    experts) and scales the expert's logit by its gate probability, as in the Switch Transformer,
    so the gate gets gradients; a Switch load-balancing term ``K * sum_k f_k P_k`` keeps the load
    even. On a fresh fit the gate is also pulled (cross-entropy, ``router_prior_weight``) towards
    the KMeans partition that chose K, so experts specialise on regions of feature space from the
    first epoch. Inference is top-1 without noise and runs each expert only on its own rows, so
    its cost does not grow with K.

Label-free scores (the XGBOD recipe, ``label_free_scores``):
    k-NN distance and ECOD-style tail scores of the standardised row (`detectors.scores`, torch ops
    on buffers learned from the training rows, so the hot path stays in torch and differentiable).
    With ``score_inputs="skip"`` (default) a learned linear map of them (zero at init) is added to
    the routed logit, outside the experts, so they cost no Mamba token; ``"tokens"`` gives each
    expert one more token per score instead, ``"both"`` does both. Opt-in (default ``()``): on the
    probe's 8 ADBench sets at la = 0.1 (``research/probes/mome``) the skip path lifted a 3-epoch
    MoME by 2.4 AUC points but little once it trains 10 epochs on every row, and its batch-1 cost
    (k-NN + ECOD ops) broke the 0.73x latency target of ``benchmarks.detector_speed``.

Choosing K (``n_experts="auto"``):
    KMeans (k = 2 .. ``max_experts``) on the standardised training rows (at most 2000 sampled);
    K is the k with the best silhouette score if that score is at least ``MIN_SILHOUETTE``,
    otherwise 1 (no cluster structure worth splitting on).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from numbers import Integral, Real
from typing import Any, ClassVar

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from torch import nn

from detectors.base import TRAINING_CONSTRAINTS, BaseTorchDetector
from detectors.scores import LABEL_FREE_SCORES, LabelFreeScores, reference_indices
from detectors.single import MambaBackbone
from detectors.tokens import NUMERIC_EMBEDDINGS, Standardize

__all__ = [
    "GATE_ACTIVATIONS",
    "MIN_SILHOUETTE",
    "TABLE_EPOCHS",
    "TABLE_SETTINGS",
    "MambaMoEDetector",
    "MoMENetwork",
    "choose_n_experts",
]

MIN_SILHOUETTE = 0.25
#: Gate activations by the name stored in a fitted detector's network config.
GATE_ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "gelu": nn.GELU,
    "gelu_tanh": lambda: nn.GELU(approximate="tanh"),
    "silu": nn.SiLU,
}
#: The activation of new fits; saved detectors without the key were fitted with exact ``"gelu"``.
DEFAULT_GATE_ACTIVATION = "gelu_tanh"

TABLE_SETTINGS: dict[str, Any] = {
    "validation_fraction": 0.0,
    "ensemble_size": 4,
    "max_steps_per_epoch": 25,
    "lr": 2e-2,
    "average_weights_from": 0.5,
}
"""The MoME of the benchmark tables (the runners' ``mome`` and ``--deploy mome``), over the defaults.

Chosen on 8 ADBench sets x seeds 1-3 at la = 0.1 (``research/probes/mome``): every row trains (early
stopping on a validation loss stops too soon when unlabeled anomalies sit among the normals), four
TabM-mini members per expert (the lever that paid on every set of the subset), and at most 25
minibatches an epoch, so a fit's cost stops growing with its rows. Two members with twice the epochs
at half the cap (for batch-1 latency) were tried on the full tables and lost at la = 0.1 (the probe's
README). Then (session of 2026-12-07) stochastic weight averaging over the last half of the epochs
with a 4x learning rate: averaging paid at la = 0.1 (rows labeled 0 hide anomalies, and the mean of
late epochs fits them less than the last epoch does), the higher rate at la = 1.0 (where the tables'
MoME underfits); together they gained on the three probe subsets (la = 0.1 quick and extra sets,
la = 1.0 worst sets) at the same cost. The detector's own defaults are unchanged.
"""

TABLE_EPOCHS = 10
"""Epochs of the tables' MoME (the runners' ``mome`` at ``tiny`` and ``small``, ``benchmarks.detector_speed``)."""


def choose_n_experts(X_std: np.ndarray, max_experts: int, seed: int) -> tuple[int, KMeans | None]:
    """The documented K rule (see the module docstring); returns K and the fitted KMeans (None if K = 1)."""
    rng = np.random.RandomState(seed)
    sample = X_std if len(X_std) <= 2000 else X_std[rng.choice(len(X_std), 2000, replace=False)]
    best_k, best_score, best_model = 1, MIN_SILHOUETTE, None
    for k in range(2, min(max_experts, len(sample) - 1) + 1):
        model = KMeans(n_clusters=k, n_init=3, random_state=seed).fit(sample)
        score = silhouette_score(sample, model.labels_, sample_size=min(len(sample), 1000), random_state=seed)
        if score >= best_score:
            best_k, best_score, best_model = k, score, model
    return best_k, best_model


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
        self.gate = nn.Sequential(
            nn.Linear(n_features, gate_hidden),
            GATE_ACTIVATIONS[gate_activation](),
            nn.Linear(gate_hidden, n_experts),
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
            return self._one_row_logit(z[0], u)
        choice, gate_prob = self.route(z)
        order = torch.argsort(choice)
        counts = torch.bincount(choice, minlength=self.n_experts).tolist()
        parts = [self.experts[k](rows) for k, rows in enumerate(u[order].split(counts)) if counts[k]]
        return torch.cat(parts)[torch.argsort(order)] * gate_prob

    def _one_row_logit(self, z_row: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
        """One row's routed logit in as few torch calls as possible (each costs microseconds here).

        The gate is two matrix-vector products, its softmax over a handful of logits runs in Python,
        and the gate probability is folded into the expert's head.
        """
        first, activation, last = self.gate
        hidden = activation(torch.addmv(first.bias, first.weight, z_row))
        logits = torch.addmv(last.bias, last.weight, hidden).tolist()
        k = max(range(self.n_experts), key=logits.__getitem__)
        gate_prob = 1.0 / sum(math.exp(v - logits[k]) for v in logits)
        return self.experts[k](u, gate_prob)

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


class MambaMoEDetector(BaseTorchDetector):
    """Mixture of Mamba Experts (MoME): the deployment detector.

    Same API, training loop, calibration and persistence as `detectors.MambaDetector`; see the
    module docstring for routing and the choice of K.

    Args:
        n_experts: Number of experts, or ``"auto"`` (KMeans + silhouette, capped by ``max_experts``).
        max_experts: Upper bound for ``"auto"``.
        epochs, warm_start_epochs, lr, weight_decay, batch_size, max_steps_per_epoch,
            average_weights_from: Training loop (as `MambaDetector`).
        d_model, n_layers, d_state, expand, max_tokens: Size of *each* expert.
        numeric_embedding: How a feature value becomes a token: ``"linear"`` (``value * w + pos``) or
            ``"periodic"`` (learned-frequency sin/cos, linear, ReLU: Gorishniy et al. 2022;
            :class:`detectors.tokens.PeriodicTokenizer`).
        ensemble_size: ``M > 1``: each expert is a TabM-mini ensemble (Gorishniy et al., ICLR 2025) of
            ``M`` members that share every layer and differ by a learned scaling of the tokens and
            their heads; each member trains on its own loss, the score is their mean logit. The
            members run as one batch, so a row still visits one expert.
        gate_hidden: Hidden width of the gate MLP.
        gate_noise: Std of the Gaussian noise on gate logits during training.
        balance_coef: Weight of the Switch load-balancing loss.
        router_prior_weight: Weight of the cross-entropy pulling the gate to the KMeans partition
            (fresh fits only).
        teacher: Optional fitted `MambaDetector` (or any detector with ``decision_function``) to
            distil from: its sigmoid scores are soft targets on the training rows.
        distill_weight: Weight of the distillation loss.
        label_free_scores: Names from `detectors.scores.LABEL_FREE_SCORES` computed on every row
            (empty: none; see the module docstring).
        score_inputs: How the scores enter: ``"skip"`` (a linear term on the logit), ``"tokens"``
            (one token per score in each expert) or ``"both"``.
        reference_rows: At most this many training rows labeled 0 form the k-NN reference.
        unlabeled_bootstrap: ``b > 0``: a row labeled 0 learns the soft target ``b * sigmoid(logit)``
            (detached; soft bootstrapping, Reed et al. 2015) instead of 0, without the class weight,
            so the unlabeled anomalies among the normals are not pushed down as hard. 0 = plain BCE.
        selection_metric: With a validation split, what early stopping and the best-epoch choice
            minimise: ``"loss"`` (the weighted BCE) or ``"auc"`` (``1 - AUC-ROC`` on the validation rows).
        validation_fraction, patience, calibration, contamination, random_state, device, verbose:
            As `MambaDetector`.

    Raises:
        InvalidParameterError: From ``fit``, before any training, for an impossible setting, naming it.
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = TRAINING_CONSTRAINTS | {
        "n_experts": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "max_experts": [Interval(Integral, 1, None, closed="left")],
        "gate_hidden": [Interval(Integral, 1, None, closed="left")],
        "gate_noise": [Interval(Real, 0, None, closed="left")],
        "balance_coef": [Interval(Real, 0, None, closed="left")],
        "router_prior_weight": [Interval(Real, 0, None, closed="left")],
        "teacher": [HasMethods(["decision_function"]), None],
        "distill_weight": [Interval(Real, 0, None, closed="left")],
        "label_free_scores": [tuple, list],  # names checked against LABEL_FREE_SCORES on fit
        "score_inputs": [StrOptions({"tokens", "skip", "both"})],
        "numeric_embedding": [StrOptions(set(NUMERIC_EMBEDDINGS))],
        "ensemble_size": [Interval(Integral, 1, None, closed="left")],
        "reference_rows": [Interval(Integral, 2, None, closed="left")],
        "unlabeled_bootstrap": [Interval(Real, 0, 1, closed="both")],
        "selection_metric": [StrOptions({"loss", "auc"})],
    }

    def __init__(
        self,
        *,
        n_experts: int | str = "auto",
        max_experts: int = 8,
        epochs: int = 20,
        warm_start_epochs: int = 5,
        lr: float = 5e-3,
        weight_decay: float = 1e-4,
        batch_size: int = 128,
        max_steps_per_epoch: int | None = None,
        average_weights_from: float | None = None,
        d_model: int = 16,
        n_layers: int = 1,
        d_state: int = 4,
        expand: int = 2,
        max_tokens: int = 12,
        numeric_embedding: str = "linear",
        ensemble_size: int = 1,
        gate_hidden: int = 32,
        gate_noise: float = 1.0,
        balance_coef: float = 0.01,
        router_prior_weight: float = 0.1,
        teacher: Any = None,
        distill_weight: float = 0.5,
        label_free_scores: tuple[str, ...] = (),
        score_inputs: str = "skip",
        reference_rows: int = 1024,
        unlabeled_bootstrap: float = 0.0,
        selection_metric: str = "loss",
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
        self.n_experts = n_experts
        self.max_experts = max_experts
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
        self.numeric_embedding = numeric_embedding
        self.ensemble_size = ensemble_size
        self.gate_hidden = gate_hidden
        self.gate_noise = gate_noise
        self.balance_coef = balance_coef
        self.router_prior_weight = router_prior_weight
        self.teacher = teacher
        self.distill_weight = distill_weight
        self.label_free_scores = label_free_scores
        self.score_inputs = score_inputs
        self.reference_rows = reference_rows
        self.unlabeled_bootstrap = unlabeled_bootstrap
        self.selection_metric = selection_metric
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.calibration = calibration
        self.range_margin = range_margin
        self.range_weight = range_weight
        self.contamination = contamination
        self.random_state = random_state
        self.device = device
        self.verbose = verbose

    @property
    def n_experts_(self) -> int:
        """The number of experts actually used (after the ``"auto"`` rule)."""
        return int(self._network_config["n_experts"])

    def _make_network(self, config: dict[str, Any]) -> nn.Module:
        return MoMENetwork(
            config["n_features"],
            config["n_experts"],
            gate_hidden=self.gate_hidden,
            gate_noise=self.gate_noise,
            range_margin=self.range_margin,
            range_weight=self.range_weight,
            gate_activation=config.get("gate_activation", "gelu"),
            scores=tuple(config.get("scores", ())),
            score_inputs=config.get("score_inputs", "tokens"),
            reference_rows=config.get("reference_rows", 0),
            d_model=self.d_model,
            n_layers=self.n_layers,
            d_state=self.d_state,
            max_tokens=self.max_tokens,
            expand=self.expand,
            numeric_embedding=config.get("numeric_embedding", "linear"),  # files saved before: linear
            ensemble=config.get("ensemble", 1),
        )

    def _standardized(self, X: np.ndarray) -> np.ndarray:
        std = X.std(axis=0)
        return (X - X.mean(axis=0)) / np.where(std > 1e-8, std, 1.0)

    def _prepare_fit(self, X: np.ndarray, y: np.ndarray) -> dict[str, Any]:
        seed = 0 if self.random_state is None else int(self.random_state)
        X_std = self._standardized(X)
        if self.n_experts == "auto":  # otherwise a positive int (``_parameter_constraints``)
            k, kmeans = choose_n_experts(X_std, self.max_experts, seed)
        else:
            k = int(self.n_experts)
            kmeans = KMeans(n_clusters=k, n_init=3, random_state=seed).fit(X_std) if k > 1 else None
        self._kmeans, self._kmeans_stats = (
            kmeans,
            (X.mean(axis=0), np.where(X.std(axis=0) > 1e-8, X.std(axis=0), 1.0)),
        )
        config = {
            "n_features": X.shape[1], "n_experts": k, "gate_activation": DEFAULT_GATE_ACTIVATION,
            "numeric_embedding": self.numeric_embedding, "ensemble": self.ensemble_size,
        }  # fmt: skip
        names = tuple(self.label_free_scores)
        unknown = [name for name in names if name not in LABEL_FREE_SCORES]
        if unknown:
            raise ValueError(f"unknown label-free score(s) {unknown}; choose from {list(LABEL_FREE_SCORES)}")
        if names:
            # y holds a labeled anomaly; with fewer than 2 rows labeled 0 the reference takes every row.
            y_ref = y if (y == 0).sum() >= 2 else np.zeros_like(y)
            ref = reference_indices(y_ref, self.reference_rows, seed)
            config |= {"scores": list(names), "score_inputs": self.score_inputs, "reference_rows": len(ref)}
            self._score_fit = (X, ref)
        return config

    def _row_targets(self, X_train: np.ndarray, warm: bool) -> dict[str, torch.Tensor]:
        targets: dict[str, torch.Tensor] = {}
        if not warm and getattr(self, "_kmeans", None) is not None and self.router_prior_weight > 0:
            mean, scale = self._kmeans_stats
            targets["route"] = torch.as_tensor(
                self._kmeans.predict((X_train - mean) / scale), dtype=torch.long
            )
        if self.teacher is not None and self.distill_weight > 0:
            scores = self.teacher.decision_function(X_train)
            targets["teacher"] = torch.sigmoid(torch.as_tensor(scores, dtype=torch.float32))
        self._kmeans = None  # only needed for this fit
        score_fit = getattr(self, "_score_fit", None)
        if not warm and score_fit is not None:  # after `Standardize.fit`: the scores see what the experts see
            X, ref = score_fit
            net = self.network_
            with torch.no_grad():
                z = net.standardize(
                    torch.as_tensor(X, dtype=torch.float32, device=net.standardize.mean.device)
                )
                net.scores.fit(z, ref)
        self._score_fit = None
        return targets

    def _batch_loss(
        self,
        net: nn.Module,
        xb: torch.Tensor,
        yb: torch.Tensor,
        extras: dict[str, torch.Tensor],
        pos_weight: torch.Tensor,
    ) -> torch.Tensor:
        logits, balance, gate_logits = net.training_forward(xb)
        if logits.dim() == 2:  # ensemble members: each learns the targets on its own
            yb = yb[:, None].expand_as(logits)
            extras = {k: (v[:, None].expand_as(logits) if k == "teacher" else v) for k, v in extras.items()}
        loss = self._label_loss(logits, yb, pos_weight) + self.balance_coef * balance
        if "route" in extras:
            loss = loss + self.router_prior_weight * F.cross_entropy(gate_logits, extras["route"])
        if "teacher" in extras:
            loss = loss + self.distill_weight * F.binary_cross_entropy_with_logits(logits, extras["teacher"])
        return loss

    def _label_loss(self, logits: torch.Tensor, yb: torch.Tensor, pos_weight: torch.Tensor) -> torch.Tensor:
        """Class-weighted BCE; with ``unlabeled_bootstrap`` the rows labeled 0 get soft targets (see Args)."""
        if self.unlabeled_bootstrap == 0:
            return F.binary_cross_entropy_with_logits(logits, yb, pos_weight=pos_weight)
        soft = self.unlabeled_bootstrap * torch.sigmoid(logits.detach())
        labeled = pos_weight * yb * F.softplus(-logits)
        unlabeled = (1 - yb) * (soft * F.softplus(-logits) + (1 - soft) * F.softplus(logits))
        return (labeled + unlabeled).mean()

    def _saved_params(self) -> dict[str, Any]:
        params = self.get_params(deep=False)
        params["teacher"] = None  # a teacher is a training-time input, not part of the model
        return params

    def assign_experts(self, X: Any) -> np.ndarray:
        """Index of the expert that scores each row at inference, ``(n,)`` int."""
        self._check_fitted()
        X = self._validate(X)
        with torch.inference_mode():
            z = self.network_.standardize(torch.as_tensor(X, dtype=torch.float32, device=self.device_))
            return self.network_.route(z)[0].cpu().numpy().astype(np.int64)
