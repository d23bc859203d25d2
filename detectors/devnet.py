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

from pathlib import Path

import numpy as np
import torch
from torch import nn

from detectors.adapters import check_features, check_targets

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


class DevNet:
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
    """

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
        X = check_features(X)
        if y is None:
            raise ValueError(
                "DevNet is weakly supervised: fit needs y with at least one labeled anomaly (y == 1)"
            )
        y = check_targets(y, len(X))
        anomalies, unlabeled = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
        if len(anomalies) == 0 or len(unlabeled) == 0:
            raise ValueError(
                "DevNet needs at least one labeled anomaly (y == 1) and one unlabeled row (y == 0)"
            )
        seed = 0 if self.random_state is None else int(self.random_state)
        rng = np.random.default_rng(seed)
        generator = torch.Generator().manual_seed(seed)
        reuse = warm_start and hasattr(self, "model_") and self.n_features_in_ == X.shape[1]
        if not reuse:
            # Layer init draws from torch's global RNG; fork it so fitting leaves the caller's state alone.
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(seed)
                self.model_ = self._build(X.shape[1]).to(self.device)
            self.n_features_in_ = X.shape[1]
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
        self.decision_scores_ = self.decision_function(X)
        # Halfway between the normal target (0) and the margin: where the loss switches sides.
        self.threshold_ = self.margin / 2.0
        self.labels_ = (self.decision_scores_ > self.threshold_).astype(int)
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "model_"):
            raise ValueError("DevNet is not fitted yet: call fit(X, y) first")

    def decision_function(self, X) -> np.ndarray:
        """Deviation scores (n,), float64; higher = more anomalous, about 0 for normal rows."""
        self._check_fitted()
        X = check_features(X, self.n_features_in_)
        with torch.inference_mode():
            scores = self.model_(torch.as_tensor(X, dtype=torch.float32, device=self.device)).squeeze(1)
        return scores.cpu().numpy().astype(np.float64)

    def anomaly_proba_torch(self, x: torch.Tensor) -> torch.Tensor:
        """P(anomaly) for trusted tensors, differentiable (a logistic centred on ``threshold_``)."""
        return torch.sigmoid(self.model_(x).squeeze(1) - self.margin / 2.0)

    def predict_proba(self, X) -> np.ndarray:
        """(n, 2) probabilities; column 1 is a logistic of the deviation centred on ``threshold_``."""
        anomaly = 1.0 / (1.0 + np.exp(-(self.decision_function(X) - self.margin / 2.0)))
        return np.column_stack([1.0 - anomaly, anomaly])

    def predict(self, X) -> np.ndarray:
        """Labels (n,) in {0, 1}: 1 where the deviation exceeds ``threshold_``."""
        return (self.decision_function(X) > self.threshold_).astype(int)

    def save(self, path: str | Path) -> None:
        """Save hyperparameters, weights and threshold (loadable with ``weights_only=True``)."""
        self._check_fitted()
        state = {
            "params": {
                k: getattr(self, k) for k in ("hidden_units", "epochs", "batches_per_epoch", "batch_size")
            }
            | {"learning_rate": self.learning_rate, "l2": self.l2, "margin": self.margin},
            "random_state": self.random_state,
            "n_features_in": self.n_features_in_,
            "weights": self.model_.state_dict(),
            "decision_scores": torch.as_tensor(self.decision_scores_),
        }
        path = Path(path)
        tmp = path.with_name(path.name + ".tmp")
        try:  # atomic: a failed write leaves the previous file
            torch.save(state, tmp)
            tmp.replace(path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    @classmethod
    def load(cls, path: str | Path, device: str = "cpu") -> DevNet:
        """Load a detector written by :meth:`save`."""
        state = torch.load(Path(path), map_location=device, weights_only=True)
        det = cls(**state["params"], random_state=state["random_state"], device=device)
        det.n_features_in_ = int(state["n_features_in"])
        det.model_ = det._build(det.n_features_in_).to(device)
        det.model_.load_state_dict(state["weights"])
        det.model_.eval()
        det.decision_scores_ = state["decision_scores"].numpy()
        det.threshold_ = det.margin / 2.0
        det.labels_ = (det.decision_scores_ > det.threshold_).astype(int)
        return det
