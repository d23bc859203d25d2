"""`MambaMoEDetector` (MoME): K lightweight Mamba experts behind a top-1 gating network.

Routing:
    The gate is a small MLP (or, with ``gate_hidden=0``, one linear layer) on the standardised raw row. Training routes each row to the top-1
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

from numbers import Integral, Real
from typing import Any, ClassVar

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted
from torch import nn

from detectors.base import TRAINING_CONSTRAINTS, BaseTorchDetector
from detectors.moe_network import DEFAULT_GATE_ACTIVATION, GATE_ACTIVATIONS, MoMENetwork
from detectors.scores import LABEL_FREE_SCORES, reference_indices
from detectors.tokens import NUMERIC_EMBEDDINGS

__all__ = [
    "GATE_ACTIVATIONS",
    "AUTO_PIECEWISE_MIN_LABELED",
    "MIN_SILHOUETTE",
    "TABLE_EPOCHS",
    "TABLE_SETTINGS",
    "MambaMoEDetector",
    "MoMENetwork",
    "choose_n_experts",
]

MIN_SILHOUETTE = 0.25
AUTO_PIECEWISE_MIN_LABELED = 50
"""``numeric_embedding="auto"``: piecewise-linear tokens from this many labeled anomalies in the fit,
linear below. Chosen on validation splits inside the ADBench training splits (32 sets, la 0.1 and 1.0;
``research/probes/mome/ple_rule_inner.py``), by a criterion fixed before the fits were read."""

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
        numeric_embedding: How a feature value becomes a token: ``"linear"`` (``value * w + pos``),
            ``"periodic"`` (learned-frequency sin/cos, linear, ReLU: Gorishniy et al. 2022;
            :class:`detectors.tokens.PeriodicTokenizer`) or ``"piecewise_linear"`` (16 quantile bins
            a feature, each a clipped ramp, then linear: Gorishniy et al. 2022;
            :class:`detectors.tokens.PiecewiseLinearTokenizer`), or ``"auto"``: piecewise-linear from
            :data:`AUTO_PIECEWISE_MIN_LABELED` labeled anomalies in the fit, linear below (with a
            handful of labels the piecewise-linear tokens fit them too closely). The fitted choice
            is ``numeric_embedding_``.
        ensemble_size: ``M > 1``: each expert is a TabM-mini ensemble (Gorishniy et al., ICLR 2025) of
            ``M`` members that share every layer and differ by a learned scaling of the tokens and
            their heads; each member trains on its own loss, the score is their mean logit. The
            members run as one batch, so a row still visits one expert.
        gate_hidden: Hidden width of the gate MLP; 0 makes the gate one linear layer (batch-1
            latency 3% lower; 0.7 AUC points lower on the MoME probe's la = 0.1 subset).
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
        "gate_hidden": [Interval(Integral, 0, None, closed="left")],
        "gate_noise": [Interval(Real, 0, None, closed="left")],
        "balance_coef": [Interval(Real, 0, None, closed="left")],
        "router_prior_weight": [Interval(Real, 0, None, closed="left")],
        "teacher": [HasMethods(["decision_function"]), None],
        "distill_weight": [Interval(Real, 0, None, closed="left")],
        "label_free_scores": [tuple, list],  # names checked against LABEL_FREE_SCORES on fit
        "score_inputs": [StrOptions({"tokens", "skip", "both"})],
        "numeric_embedding": [StrOptions({*NUMERIC_EMBEDDINGS, "auto"})],
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

    @property
    def numeric_embedding_(self) -> str:
        """The numeric embedding actually used (after the ``"auto"`` rule)."""
        check_is_fitted(self, "network_")
        return str(self._network_config.get("numeric_embedding", "linear"))

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
        embedding = self.numeric_embedding
        if embedding == "auto":
            embedding = "piecewise_linear" if int((y == 1).sum()) >= AUTO_PIECEWISE_MIN_LABELED else "linear"
        config = {
            "n_features": X.shape[1], "n_experts": k, "gate_activation": DEFAULT_GATE_ACTIVATION,
            "numeric_embedding": embedding, "ensemble": self.ensemble_size,
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
