"""Shared machinery of the torch detectors: validation, calibration, the training loop, save/load.

Labels follow ADBench's semi-supervised convention: ``y = 1`` is a *labeled* anomaly, ``y = 0`` is
a normal row **or an unlabeled anomaly**. The detectors are supervised on these labels, so they
need at least one labeled anomaly: ``y=None`` or an all-zero ``y`` raises a `ValueError` pointing
to unsupervised detectors (pyod ``IForest`` / ``ECOD``).

Validation split and calibration rule: a stratified split of ``validation_fraction`` of the rows
(``train_test_split(stratify=y)``) drives early stopping (validation loss, ``patience`` epochs) and
fits the calibration map (Platt sigmoid or isotonic on the validation logits). It is only carved
when it would hold at least ``MIN_VALIDATION_ANOMALIES`` labeled anomalies; otherwise (few labels,
e.g. la = 0.1 on a small data set) every row trains, all ``epochs`` run without early stopping, and
the calibration falls back to undoing the class re-weighting: ``P = sigmoid(logit - log(pos_weight))``
(training with ``pos_weight = n_normal / n_anomaly`` shifts logits by ``log(pos_weight)``).
"""

from __future__ import annotations

import copy
import math
from numbers import Integral, Real
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.exceptions import NotFittedError
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.utils._param_validation import Interval, StrOptions
from torch import nn
from tqdm.auto import tqdm

from detectors.contract import BaseDetector, quantile_threshold
from detectors.tokens import Standardize, fit_tokenizers
from detectors.validation import check_features, check_targets

__all__ = [
    "TRAINING_CONSTRAINTS",
    "MAX_CONTAMINATION",
    "MIN_VALIDATION_ANOMALIES",
    "BaseTorchDetector",
    "Calibration",
    "NotFittedError",
    "check_array_finite",
    "check_labels",
    "resolve_device",
]

MIN_VALIDATION_ANOMALIES = 3
_PREDICT_CHUNK = 8192
MAX_CONTAMINATION = 0.5  # PyOD's range for contamination is (0, 0.5]

_POSITIVE_INT = Interval(Integral, 1, None, closed="left")
_NON_NEGATIVE = Interval(Real, 0, None, closed="left")
TRAINING_CONSTRAINTS: dict[str, list[Any]] = {
    "epochs": [_POSITIVE_INT],
    "warm_start_epochs": [Interval(Integral, 0, None, closed="left")],  # 0: recalibrate only
    "lr": [Interval(Real, 0, None, closed="neither")],
    "weight_decay": [_NON_NEGATIVE],
    "batch_size": [_POSITIVE_INT],
    "max_steps_per_epoch": [_POSITIVE_INT, None],
    "average_weights_from": [Interval(Real, 0, 1, closed="left"), None],
    "d_model": [_POSITIVE_INT],
    "n_layers": [_POSITIVE_INT],
    "d_state": [_POSITIVE_INT],
    "expand": [_POSITIVE_INT],
    "max_tokens": [_POSITIVE_INT],
    "validation_fraction": [Interval(Real, 0, 1, closed="left")],  # 0: no early stopping split
    "patience": [_POSITIVE_INT],
    "calibration": [StrOptions({"sigmoid", "isotonic"})],
    "range_margin": [_NON_NEGATIVE],
    "range_weight": [_NON_NEGATIVE],
    "contamination": [Interval(Real, 0, MAX_CONTAMINATION, closed="right"), None],
    "random_state": [Interval(Integral, 0, None, closed="left"), None],
    "device": [str, torch.device],
    "verbose": ["verbose"],
}
"""``_parameter_constraints`` of the training loop's settings, shared by the torch detectors."""

# Kept for callers of the old names; the one implementation lives in detectors.validation.
check_array_finite = check_features
check_labels = check_targets


def resolve_device(device: str | torch.device) -> torch.device:
    """``"auto"`` -> CUDA when available, else CPU; anything else is passed to `torch.device`."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


class Calibration:
    """Monotone map from logits to P(anomaly), applied in torch (so it is differentiable).

    ``method="sigmoid"``: ``P = sigmoid(slope * logit + intercept)`` (Platt). ``"isotonic"``:
    piecewise-linear interpolation through the isotonic regression's knots (flat outside).
    """

    def __init__(
        self,
        method: str = "sigmoid",
        slope: float = 1.0,
        intercept: float = 0.0,
        knots_x: list[float] | None = None,
        knots_y: list[float] | None = None,
    ) -> None:
        if method not in ("sigmoid", "isotonic"):
            raise ValueError(f"calibration must be 'sigmoid' or 'isotonic', got {method!r}")
        self.method, self.slope, self.intercept = method, float(slope), float(intercept)
        self.knots_x, self.knots_y = list(knots_x or []), list(knots_y or [])
        self._knots_cache: dict[torch.device, tuple[torch.Tensor, torch.Tensor]] = {}

    @classmethod
    def fit(cls, method: str, logits: np.ndarray, y: np.ndarray) -> Calibration:
        """Fit on held-out logits and labels (scikit-learn's Platt / isotonic regressions)."""
        if method == "isotonic":
            iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(logits, y)
            return cls("isotonic", knots_x=iso.X_thresholds_.tolist(), knots_y=iso.y_thresholds_.tolist())
        platt = LogisticRegression(C=1e4).fit(logits.reshape(-1, 1), y)
        return cls("sigmoid", slope=platt.coef_[0, 0], intercept=platt.intercept_[0])

    def apply_torch(self, logits: torch.Tensor) -> torch.Tensor:
        """Logits -> calibrated P(anomaly), same shape."""
        if self.method == "sigmoid":
            return torch.sigmoid(logits * self.slope + self.intercept)
        if logits.device not in self._knots_cache:
            kx = torch.tensor(self.knots_x, dtype=logits.dtype, device=logits.device)
            ky = torch.tensor(self.knots_y, dtype=logits.dtype, device=logits.device)
            self._knots_cache[logits.device] = (kx, ky)
        kx, ky = self._knots_cache[logits.device]
        if kx.numel() == 1:
            return ky.expand_as(logits).clone()
        s = logits.clamp(kx[0], kx[-1])
        hi = torch.searchsorted(kx, s.detach().contiguous()).clamp(1, kx.numel() - 1)
        lo = hi - 1
        frac = (s - kx[lo]) / (kx[hi] - kx[lo]).clamp_min(1e-12)
        return ky[lo] + frac * (ky[hi] - ky[lo])

    def to_state(self) -> dict[str, Any]:
        """Plain-typed state for `torch.save` with ``weights_only`` loading."""
        return {
            "method": self.method,
            "slope": self.slope,
            "intercept": self.intercept,
            "knots_x": self.knots_x,
            "knots_y": self.knots_y,
        }


class WeightAverage:
    """The running mean of a network's weights at the end of each epoch from ``start`` on (SWA).

    Stochastic weight averaging (Izmailov et al., UAI 2018) with the constant learning rate the loop
    already uses: the mean of the last epochs' weights sits in a flatter region than any one of them.
    Integer buffers (none in these networks today) keep the last epoch's value.
    """

    def __init__(self, start: int) -> None:
        self.start = start
        self.state: dict[str, torch.Tensor] | None = None
        self.count = 0

    @classmethod
    def for_fit(cls, average_from: float | None, epochs: int) -> WeightAverage | None:
        """The average for a fit of ``epochs`` epochs (None when averaging is off)."""
        if average_from is None:
            return None
        return cls(min(int(math.floor(average_from * epochs)), epochs - 1))

    def after_epoch(self, epoch: int, net: nn.Module) -> None:
        """Fold the weights at the end of ``epoch`` into the mean once ``epoch >= start``."""
        if epoch < self.start:
            return
        self.count += 1
        snapshot = {k: v.detach().clone() for k, v in net.state_dict().items()}
        if self.state is None:
            self.state = snapshot
            return
        for key, value in snapshot.items():
            if value.is_floating_point():
                self.state[key] += (value - self.state[key]) / self.count
            else:
                self.state[key] = value


class BaseTorchDetector(BaseDetector):
    """Training loop, calibration, prediction and persistence shared by the Mamba detectors.

    Subclasses set the hyperparameters in ``__init__`` (scikit-learn style) and implement
    `_make_network` (and optionally `_prepare_fit` / `_batch_loss`).
    """

    # ----------------------------------------------------------------- subclass hooks
    def _make_network(self, config: dict[str, Any]) -> nn.Module:
        """Build the (untrained) network from a plain config dict."""
        raise NotImplementedError

    def _prepare_fit(self, X: np.ndarray, y: np.ndarray) -> dict[str, Any]:
        """Choose the network config for a fresh fit (may look at the data)."""
        return {"n_features": X.shape[1]}

    def _row_targets(self, X_train: np.ndarray, warm: bool) -> dict[str, torch.Tensor]:
        """Extra per-row training targets (batched alongside X), e.g. router or teacher targets."""
        return {}

    def _batch_loss(
        self,
        net: nn.Module,
        xb: torch.Tensor,
        yb: torch.Tensor,
        extras: dict[str, torch.Tensor],
        pos_weight: torch.Tensor,
    ) -> torch.Tensor:
        return F.binary_cross_entropy_with_logits(net(xb), yb, pos_weight=pos_weight)

    # ----------------------------------------------------------------- fitting
    def fit(self, X: Any, y: Any = None, *, warm_start: bool = False) -> BaseTorchDetector:
        """Train on ``X`` with labels ``y`` (1 = labeled anomaly, 0 = normal or unlabeled).

        Args:
            X: ``(n_samples, n_features)`` finite numeric rows.
            y: Binary labels with at least one labeled anomaly (see the module docstring).
            warm_start: Continue from the current weights for ``warm_start_epochs`` epochs (the
                input standardisation and network shape are kept); a plain fit when not fitted yet.

        Returns:
            self
        """
        warm = warm_start and hasattr(self, "network_")
        X, y = self._validate_fit_input(X, y, reset=not warm)
        # y holds a labeled anomaly (validated), so the label share lies in (0, 1].
        contamination = (
            self.contamination if self.contamination is not None else min(float(y.mean()), MAX_CONTAMINATION)
        )
        self.device_ = resolve_device(self.device)
        base_seed = (
            self.random_state
            if self.random_state is not None
            else int(np.random.SeedSequence().entropy % 2**31)
        )
        # Each warm-start call draws fresh (but reproducible) shuffles.
        self._n_fit_calls = getattr(self, "_n_fit_calls", 0) + 1 if warm else 1
        seed = (int(base_seed) + 7919 * (self._n_fit_calls - 1)) % 2**31
        rng = np.random.RandomState(seed)
        train_idx, val_idx = self._split(y, rng)
        cuda = [self.device_.index or 0] if self.device_.type == "cuda" else []
        with torch.random.fork_rng(devices=cuda):  # seed torch without touching the caller's RNG
            torch.manual_seed(seed)
            if not warm:
                self._network_config = self._prepare_fit(X, y)
                self.network_ = self._make_network(self._network_config)
                self.network_.standardize.fit(X)
                fit_tokenizers(self.network_, X)
                self.network_.to(self.device_)
            extras = self._row_targets(X[train_idx], warm)
            epochs = self.warm_start_epochs if warm else self.epochs
            pos_weight = self._train(X, y, train_idx, val_idx, extras, epochs, seed)
        self.network_.eval()
        self._calibrate(X, y, val_idx, pos_weight)
        scores = self._logits_numpy(X)
        self._set_decision_scores(scores, quantile_threshold(scores, contamination))
        return self

    def _split(self, y: np.ndarray, rng: np.random.RandomState) -> tuple[np.ndarray, np.ndarray]:
        idx = np.arange(y.shape[0])
        expected_val_anomalies = y.sum() * self.validation_fraction
        if self.validation_fraction <= 0 or expected_val_anomalies < MIN_VALIDATION_ANOMALIES:
            return idx, idx[:0]
        return train_test_split(idx, test_size=self.validation_fraction, stratify=y, random_state=rng)

    def _train(
        self,
        X: np.ndarray,
        y: np.ndarray,
        train_idx: np.ndarray,
        val_idx: np.ndarray,
        extras: dict[str, torch.Tensor],
        epochs: int,
        seed: int,
    ) -> float:
        dev, net = self.device_, self.network_
        Xt = torch.as_tensor(X[train_idx], dtype=torch.float32, device=dev)
        yt = torch.as_tensor(y[train_idx], dtype=torch.float32, device=dev)
        extras = {k: v.to(dev) for k, v in extras.items()}
        n_pos = float(yt.sum())
        pos_weight_value = (len(yt) - n_pos) / n_pos
        pos_weight = torch.tensor(pos_weight_value, device=dev)
        validation = None
        if len(val_idx) > 0:
            validation = (
                torch.as_tensor(X[val_idx], dtype=torch.float32, device=dev),
                torch.as_tensor(y[val_idx], dtype=torch.float32, device=dev),
                pos_weight,
            )
        optimizer = self._make_optimizer(net, epochs, self._steps_per_epoch(len(yt)))
        shuffle = torch.Generator().manual_seed(seed)
        best_loss, best_state, stale = math.inf, None, 0
        batch = max(1, min(self.batch_size, len(yt)))
        max_steps = getattr(self, "max_steps_per_epoch", None)  # models saved before 0.3 lack it
        average = WeightAverage.for_fit(getattr(self, "average_weights_from", None), epochs)
        for epoch in tqdm(range(epochs), desc=type(self).__name__, disable=not self.verbose):
            net.train()
            order = torch.randperm(len(yt), generator=shuffle).to(dev)
            if max_steps is not None:  # a fixed budget of steps: cost independent of n rows
                order = order[: max_steps * batch]
            for start in range(0, len(order), batch):
                rows = order[start : start + batch]
                loss = self._batch_loss(
                    net, Xt[rows], yt[rows], {k: v[rows] for k, v in extras.items()}, pos_weight
                )
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                nn.utils.clip_grad_norm_(net.parameters(), 1.0)
                optimizer.step()
            if average is not None:
                average.after_epoch(epoch, net)
            if validation is not None:
                val_loss = self._validation_score(validation)
                if val_loss < best_loss - 1e-4:
                    best_loss, best_state, stale = val_loss, copy.deepcopy(net.state_dict()), 0
                else:
                    stale += 1
                    if stale >= self.patience:
                        break
        if average is not None and average.state is not None:
            best_state = self._averaged_or_best(average.state, best_state, best_loss, validation)
        if best_state is not None:
            net.load_state_dict(best_state)
        return pos_weight_value

    def _steps_per_epoch(self, n_rows: int) -> int:
        """Optimizer steps in one epoch over ``n_rows`` training rows (after ``max_steps_per_epoch``)."""
        batch = max(1, min(self.batch_size, n_rows))
        max_steps = getattr(self, "max_steps_per_epoch", None)
        return math.ceil(min(n_rows, (max_steps or n_rows) * batch) / batch)

    def _make_optimizer(self, net: nn.Module, epochs: int, steps_per_epoch: int) -> torch.optim.Optimizer:
        """The fit's optimizer (AdamW); ``epochs * steps_per_epoch`` steps will follow (a hook for schedules)."""
        return torch.optim.AdamW(net.parameters(), lr=self.lr, weight_decay=self.weight_decay)

    def _validation_score(self, validation: tuple[torch.Tensor, torch.Tensor, torch.Tensor]) -> float:
        """`_validation_loss` of the network as it is now on the validation rows."""
        Xv, yv, pos_weight = validation
        self.network_.eval()
        with torch.inference_mode():
            return self._validation_loss(self.network_(Xv), yv, pos_weight)

    def _averaged_or_best(
        self,
        averaged: dict[str, torch.Tensor],
        best_state: dict[str, torch.Tensor] | None,
        best_loss: float,
        validation: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None,
    ) -> dict[str, torch.Tensor]:
        """The averaged weights, unless a validation split says the best epoch's are better."""
        if validation is None or best_state is None:
            return averaged
        current = copy.deepcopy(self.network_.state_dict())
        self.network_.load_state_dict(averaged)
        averaged_loss = self._validation_score(validation)
        self.network_.load_state_dict(current)
        return averaged if averaged_loss <= best_loss else best_state

    def _validation_loss(self, logits: torch.Tensor, yv: torch.Tensor, pos_weight: torch.Tensor) -> float:
        """What early stopping minimises: the weighted BCE, or ``1 - AUC-ROC`` with ``selection_metric="auc"``."""
        if (
            getattr(self, "selection_metric", "loss") == "auc"
        ):  # a ranking metric: unlabeled anomalies hurt it less
            return 1.0 - float(roc_auc_score(yv.cpu().numpy(), logits.double().cpu().numpy()))
        return float(F.binary_cross_entropy_with_logits(logits, yv, pos_weight=pos_weight))

    def _calibrate(self, X: np.ndarray, y: np.ndarray, val_idx: np.ndarray, pos_weight: float) -> None:
        if len(val_idx) == 0:
            self.calibration_ = Calibration("sigmoid", slope=1.0, intercept=-math.log(pos_weight))
        else:
            self.calibration_ = Calibration.fit(self.calibration, self._logits_numpy(X[val_idx]), y[val_idx])

    # ----------------------------------------------------------------- inference
    def _logits_numpy(self, X: np.ndarray) -> np.ndarray:
        out = []
        with torch.inference_mode():
            for start in range(0, X.shape[0], _PREDICT_CHUNK):
                xb = torch.as_tensor(
                    X[start : start + _PREDICT_CHUNK], dtype=torch.float32, device=self.device_
                )
                out.append(self.network_(xb).double().cpu().numpy())
        return np.concatenate(out)

    def _score(self, X: np.ndarray) -> np.ndarray:
        """Raw anomaly scores (logits) of validated rows, ``(n,)`` float64; higher = more anomalous."""
        return self._logits_numpy(X)

    def _calibrated_proba(self, X: np.ndarray, scores: np.ndarray) -> np.ndarray:
        return self.calibration_.apply_torch(torch.as_tensor(scores)).numpy()

    def anomaly_proba_torch(self, x: torch.Tensor) -> torch.Tensor:
        """Calibrated P(anomaly), ``(n,)``, fully in torch: the env's hot path.

        No validation (trusted input): ``x`` must be ``(n, n_features_in_)`` float32 on the
        detector's device. Differentiable w.r.t. ``x`` unless called under inference mode.
        """
        return self.calibration_.apply_torch(self.network_(x))

    # ----------------------------------------------------------------- persistence
    def _saved_params(self) -> dict[str, Any]:
        return self.get_params(deep=False)

    def _get_state(self) -> dict[str, Any]:
        return {
            "params": self._saved_params(),
            "network_config": self._network_config,
            "state_dict": {k: v.detach().cpu() for k, v in self.network_.state_dict().items()},
            "calibration": self.calibration_.to_state(),
            "n_features_in": int(self.n_features_in_),
            "threshold": float(self.threshold_),
            "decision_scores": torch.as_tensor(self.decision_scores_),
            "n_fit_calls": int(getattr(self, "_n_fit_calls", 1)),
        }

    @classmethod
    def _from_state(cls, state: dict[str, Any], *, path: Path, device: str | None) -> BaseTorchDetector:
        """Rebuild a fitted detector from `_get_state`'s dict (checkpoints before the range guard load too)."""
        det = cls(**state["params"])
        if device is not None:
            det.device = device
        det.device_ = resolve_device(det.device)
        det._network_config = state["network_config"]
        det.network_ = det._make_network(det._network_config)
        missing, unexpected = det.network_.load_state_dict(state["state_dict"], strict=False)
        legacy = {k for k in missing if k.rsplit(".", 1)[-1] in Standardize.RANGE_BUFFERS}
        if unexpected or set(missing) - legacy:
            raise ValueError(
                f"not a saved swift-hydra detector: {path} (weights do not match {cls.__name__}: "
                f"missing {sorted(set(missing) - legacy)[:5]}, unexpected {sorted(unexpected)[:5]})"
            )
        if legacy:  # saved before the out-of-range guard: keep that checkpoint's behaviour
            det.network_.standardize.disable_range_guard()
        det.network_.to(det.device_).eval()
        det.calibration_ = Calibration(**state["calibration"])
        det.n_features_in_ = state["n_features_in"]
        det._set_decision_scores(state["decision_scores"].numpy(), state["threshold"])
        det._n_fit_calls = state["n_fit_calls"]
        return det
