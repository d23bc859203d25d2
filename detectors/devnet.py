"""DevNet: deviation networks for weakly supervised anomaly detection (Pang, Shen & van den Hengel, KDD 2019).

A compact PyTorch port of the authors' Keras code with ADBench's defaults (one hidden layer of 20 ReLU
units, RMSprop lr 1e-3 with clipnorm 1, 50 epochs of 20 balanced batches of 512). We do not wrap
``pyod.models.devnet``: in pyod 3.x it calls ``deviation_loss(outputs, labels)`` with its arguments swapped,
seeds the global RNGs at import time and prints while training.

The score of a row is a deviation from a Gaussian prior N(0, 1) fitted to normal rows: the loss pulls
unlabeled rows (treated as normal, as in the paper) towards 0 and pushes labeled anomalies beyond the
confidence margin (5 standard deviations).
"""

from __future__ import annotations

from numbers import Integral, Real
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from sklearn.utils._param_validation import Interval
from torch import nn

from detectors.contract import BaseDetector

_N_REFERENCE = 5000  # l in Algorithm 1 of the paper: draws from the N(0, 1) prior per batch


def deviation_loss(
    scores: torch.Tensor, labels: torch.Tensor, ref_mean: torch.Tensor, ref_std: torch.Tensor, margin: float
) -> torch.Tensor:
    """Deviation loss: |dev| for normal rows, max(0, margin - dev) for labeled anomalies.

    ``ref_mean``/``ref_std`` are the moments of ``l`` draws from the N(0, 1) prior.
    """
    deviation = (scores - ref_mean) / ref_std
    inlier = deviation.abs()
    outlier = torch.clamp(margin - deviation, min=0.0)
    return torch.mean((1.0 - labels) * inlier + labels * outlier)


class DevNet(BaseDetector):
    """Deviation network detector (needs at least one labeled anomaly).

    Args:
        hidden_units: width of the single hidden layer (the paper's ``dev_network_s``).
        epochs: training epochs.
        batches_per_epoch: balanced batches per epoch (``nb_batch`` in the paper).
        batch_size: rows per batch, half labeled anomalies, half unlabeled rows.
        learning_rate: RMSprop learning rate.
        l2: weight decay on the hidden layer (the Keras code's l2 regulariser of 0.01).
        margin: confidence margin ``a`` of the deviation loss, in prior standard deviations.
        random_state: seeds weight init, batch sampling and the reference draws.
        device: torch device for training and scoring.

    Raises:
        InvalidParameterError: From ``fit``, before any training, for an impossible setting, naming it.
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "hidden_units": [Interval(Integral, 1, None, closed="left")],
        "epochs": [Interval(Integral, 1, None, closed="left")],
        "batches_per_epoch": [Interval(Integral, 1, None, closed="left")],
        # Half of every batch is labeled anomalies: one row would leave that half empty.
        "batch_size": [Interval(Integral, 2, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "l2": [Interval(Real, 0, None, closed="left")],
        "margin": [Interval(Real, 0, None, closed="neither")],
        "random_state": [Interval(Integral, 0, None, closed="left"), None],
        "device": [str, torch.device],
    }

    def __init__(
        self,
        hidden_units: int = 20,
        epochs: int = 50,
        batches_per_epoch: int = 20,
        batch_size: int = 512,
        learning_rate: float = 1e-3,
        l2: float = 0.01,
        margin: float = 5.0,
        random_state: int | None = None,
        device: str = "cpu",
    ) -> None:
        self.hidden_units = hidden_units
        self.epochs = epochs
        self.batches_per_epoch = batches_per_epoch
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.l2 = l2
        self.margin = margin
        self.random_state = random_state
        self.device = device

    def _build(self, n_features: int) -> nn.Sequential:
        return nn.Sequential(
            nn.Linear(n_features, self.hidden_units), nn.ReLU(), nn.Linear(self.hidden_units, 1)
        )

    def fit(self, X, y=None, *, warm_start: bool = False) -> DevNet:
        """Train on ``X`` with labels ``y`` (1 = labeled anomaly, 0 = normal or unlabeled).

        With ``warm_start=True`` and a fitted model of the same width, training continues from the
        current weights instead of a fresh initialisation.
        """
        reuse = warm_start and hasattr(self, "model_")
        X, y = self._validate_fit_input(X, y, reset=not reuse)
        anomalies, unlabeled = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
        seed = 0 if self.random_state is None else int(self.random_state)
        rng = np.random.default_rng(seed)
        generator = torch.Generator().manual_seed(seed)
        if not reuse:
            # Layer init draws from torch's global RNG; fork it so fitting leaves the caller's state alone.
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(seed)
                self.model_ = self._build(X.shape[1]).to(self.device)
        hidden, score = self.model_[0], self.model_[2]
        optimizer = torch.optim.RMSprop(
            [{"params": hidden.parameters(), "weight_decay": self.l2}, {"params": score.parameters()}],
            lr=self.learning_rate,
        )
        data = torch.as_tensor(X, dtype=torch.float32, device=self.device)
        half = self.batch_size // 2
        labels = torch.cat([torch.zeros(self.batch_size - half), torch.ones(half)]).to(self.device)
        n_steps = self.epochs * self.batches_per_epoch
        # Draw every balanced batch and every prior reference up front: no per-step sampling overhead.
        rows = np.concatenate(
            [
                rng.choice(unlabeled, (n_steps, self.batch_size - half)),
                rng.choice(anomalies, (n_steps, half)),
            ],
            axis=1,
        )
        reference = torch.randn(n_steps, _N_REFERENCE, generator=generator)
        ref_mean, ref_std = reference.mean(1).to(self.device), reference.std(1).to(self.device)
        del reference
        self.model_.train()
        for step in range(n_steps):
            scores = self.model_(data[rows[step]]).squeeze(1)
            loss = deviation_loss(scores, labels, ref_mean[step], ref_std[step], self.margin)
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(self.model_.parameters(), 1.0)
            optimizer.step()
        self.model_.eval()
        # Halfway between the normal target (0) and the margin: where the loss switches sides.
        self._set_decision_scores(self._score(X), self.margin / 2.0)
        return self

    def _score(self, X: np.ndarray) -> np.ndarray:
        """Deviation scores (n,), float64; higher = more anomalous, about 0 for normal rows."""
        with torch.inference_mode():
            scores = self.model_(torch.as_tensor(X, dtype=torch.float32, device=self.device)).squeeze(1)
        return scores.cpu().numpy().astype(np.float64)

    def _calibrated_proba(self, X: np.ndarray, scores: np.ndarray) -> np.ndarray:
        """A logistic of the deviation centred on ``threshold_``."""
        return 1.0 / (1.0 + np.exp(-(scores - self.margin / 2.0)))

    def anomaly_proba_torch(self, x: torch.Tensor) -> torch.Tensor:
        """P(anomaly) for trusted tensors, differentiable (a logistic centred on ``threshold_``)."""
        return torch.sigmoid(self.model_(x).squeeze(1) - self.margin / 2.0)

    def _get_state(self) -> dict[str, Any]:
        return {
            "params": self.get_params(deep=False),
            "n_features_in": int(self.n_features_in_),
            "weights": {k: v.detach().cpu() for k, v in self.model_.state_dict().items()},
            "decision_scores": torch.as_tensor(self.decision_scores_),
        }

    @classmethod
    def _from_state(cls, state: dict[str, Any], *, path: Path, device: str | None) -> DevNet:
        params = dict(state["params"])
        if device is not None:
            params["device"] = device
        det = cls(**params)
        det.n_features_in_ = int(state["n_features_in"])
        det.model_ = det._build(det.n_features_in_).to(det.device)
        det.model_.load_state_dict(state["weights"])
        det.model_.eval()
        det._set_decision_scores(state["decision_scores"].numpy(), det.margin / 2.0)
        return det
