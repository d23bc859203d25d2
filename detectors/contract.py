"""`BaseDetector`: the one base every detector family shares (the contract in docs/ARCHITECTURE.md).

It owns what PyOD's ``BaseDetector`` and scikit-learn's ``BaseEstimator`` own elsewhere:

- input validation (`detectors.validation`, written once) and ``n_features_in_``;
- ``NotFittedError`` before ``fit`` (`sklearn.utils.validation.check_is_fitted`);
- scikit-learn tags: binary labels (1 = labeled anomaly, 0 = normal or unlabeled), dense finite
  numeric input of any sign;
- PyOD's API: ``decision_scores_``, ``threshold_``, ``labels_`` (set by ``fit``), ``predict``,
  ``fit_predict``, ``predict_confidence`` and ``predict_proba(X, method)`` with PyOD's ``"linear"``
  and ``"unify"`` conversions beside each family's ``"calibrated"`` default;
- hyperparameter validation: each family declares scikit-learn's ``_parameter_constraints``
  (`sklearn.utils._param_validation`) and `_validate_fit_input` checks them before anything is
  trained, so an impossible setting raises ``InvalidParameterError`` (a ``ValueError``) naming it;
- atomic, checksummed ``save`` and ``load`` by registered class name
  (`detectors.registry.load_detector`; a damaged file raises `detectors.DamagedFileError`).

Subclasses declare ``_parameter_constraints`` and implement ``fit`` (validating with
`_validate_fit_input` and ending with `_set_decision_scores`, which sets the three PyOD attributes),
`_score` (validated ``X`` -> scores), `_calibrated_proba`, `_get_state` and `_from_state`.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
from scipy.special import erf
from scipy.stats import binom
from sklearn.base import BaseEstimator
from sklearn.preprocessing import MinMaxScaler
from sklearn.utils import ClassifierTags
from sklearn.utils.validation import check_is_fitted

from detectors import registry
from detectors.persistence import atomic_torch_save, write_checked
from detectors.validation import check_features, check_targets

__all__ = ["PROBA_METHODS", "BaseDetector", "atomic_torch_save", "quantile_threshold"]

PROBA_METHODS = ("calibrated", "linear", "unify")


def quantile_threshold(scores: np.ndarray, contamination: float) -> float:
    """PyOD's ``threshold_``: the ``100 * (1 - contamination)`` th percentile of the training scores."""
    return float(np.quantile(scores, 1.0 - contamination))


class BaseDetector(BaseEstimator):
    """Validation, fitted checks, tags, PyOD's API and persistence shared by every detector."""

    #: Whether ``fit`` needs labels (False for the unsupervised PyOD adapter).
    _requires_labels: bool = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        registry.register(cls)

    # ------------------------------------------------------------------ scikit-learn plumbing
    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # Binary labels: 1 = labeled anomaly, 0 = normal row or unlabeled anomaly (not multiclass).
        tags.classifier_tags = ClassifierTags(multi_class=False)
        tags.target_tags.required = self._requires_labels
        tags.input_tags.allow_nan = False
        tags.input_tags.sparse = False
        tags.input_tags.positive_only = False
        return tags

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "threshold_")

    def _check_fitted(self) -> None:
        check_is_fitted(self)

    def _validate(self, X: Any, *, reset: bool = False) -> np.ndarray:
        """Validate ``X`` (and record ``n_features_in_`` when ``reset``)."""
        return check_features(X, estimator=self, reset=reset)

    def _validate_fit_input(self, X: Any, y: Any, *, reset: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """Validate the hyperparameters, then training rows and labels (labels optional when unsupervised).

        Raises:
            InvalidParameterError: A hyperparameter breaks ``_parameter_constraints`` (a
                ``ValueError`` naming it), raised before any data is looked at or anything trained.
        """
        self._validate_params()
        X = self._validate(X, reset=reset)
        return X, check_targets(y, X.shape[0], require_anomaly=self._requires_labels)

    def _set_decision_scores(self, scores: Any, threshold: float) -> None:
        """Set PyOD's ``decision_scores_``, ``threshold_`` and ``labels_`` (1 where a score exceeds it).

        The one place ``labels_`` is derived, as PyOD's ``_process_decision_scores``: every family's
        ``fit`` and ``_from_state`` end here, so ``labels_`` always agrees with `predict`.
        """
        self.decision_scores_ = np.asarray(scores, dtype=np.float64).reshape(-1)
        self.threshold_ = float(threshold)
        self.labels_ = (self.decision_scores_ > self.threshold_).astype(np.int64)

    # ------------------------------------------------------------------ subclass hooks
    def _score(self, X: np.ndarray) -> np.ndarray:
        """Anomaly scores of validated rows, ``(n,)`` float64."""
        raise NotImplementedError

    def _calibrated_proba(self, X: np.ndarray, scores: np.ndarray) -> np.ndarray:
        """The family's own P(anomaly) for validated rows and their scores, ``(n,)``."""
        raise NotImplementedError

    def _get_state(self) -> dict[str, Any]:
        """Everything `_from_state` needs, as plain types and tensors."""
        raise NotImplementedError

    @classmethod
    def _from_state(cls, state: dict[str, Any], *, path: Path, device: str | None) -> BaseDetector:
        raise NotImplementedError

    # ------------------------------------------------------------------ PyOD API
    def decision_function(self, X: Any) -> np.ndarray:
        """Anomaly scores ``(n,)``, float64; higher = more anomalous."""
        self._check_fitted()
        return self._score(self._validate(X))

    def predict(self, X: Any, return_confidence: bool = False) -> Any:
        """``(n,)`` int labels: 1 where the decision score exceeds ``threshold_`` (PyOD's rule).

        With ``return_confidence``, also `predict_confidence` (as PyOD).
        """
        labels = (self.decision_function(X) > self.threshold_).astype(np.int64)
        return (labels, self.predict_confidence(X)) if return_confidence else labels

    def fit_predict(self, X: Any, y: Any = None) -> np.ndarray:
        """Fit, then return ``labels_`` (the training rows' labels), as PyOD."""
        return self.fit(X, y).labels_

    def predict_proba(self, X: Any, method: str = "calibrated", return_confidence: bool = False) -> Any:
        """``(n, 2)`` probabilities; column 1 is P(anomaly), rows sum to 1.

        Args:
            X: Rows to score.
            method: ``"calibrated"`` (the family's own calibrated probability, the default),
                ``"linear"`` (PyOD: min-max scaling against the training scores, clipped to [0, 1])
                or ``"unify"`` (PyOD: ``erf((s - mean) / (std * sqrt(2)))`` of the training scores,
                clipped to [0, 1]).
            return_confidence: Also return `predict_confidence` (as PyOD).
        """
        if method not in PROBA_METHODS:
            raise ValueError(f"method must be one of {PROBA_METHODS}, got {method!r}")
        self._check_fitted()
        X = self._validate(X)
        scores = self._score(X)
        train = np.asarray(self.decision_scores_, dtype=np.float64)
        if method == "linear":
            p = MinMaxScaler().fit(train.reshape(-1, 1)).transform(scores.reshape(-1, 1)).ravel()
        elif method == "unify":
            p = erf((scores - train.mean()) / (train.std() * math.sqrt(2.0)))
        else:
            p = self._calibrated_proba(X, scores)
        p = np.clip(np.asarray(p, dtype=np.float64), 0.0, 1.0)
        proba = np.column_stack([1.0 - p, p])
        return (proba, self.predict_confidence(X)) if return_confidence else proba

    def predict_confidence(self, X: Any) -> np.ndarray:
        """PyOD's example-wise confidence (Perini et al., ECML 2020) in the predicted label, ``(n,)``.

        How consistently the detector would give the same label if its training set were
        perturbed: a Bayesian estimate of the outlier probability from the row's rank among the
        training scores, turned into a confidence with a binomial tail at the contamination rate.
        """
        self._check_fitted()
        scores = self.decision_function(X)
        train = np.sort(np.asarray(self.decision_scores_, dtype=np.float64))
        n = len(train)
        posterior = (1.0 + np.searchsorted(train, scores, side="right")) / (2.0 + n)
        contamination = getattr(self, "contamination", None)
        if not isinstance(contamination, (float, int)) or isinstance(contamination, bool):
            contamination = float(np.sum(self.labels_)) / n
        confidence = 1.0 - binom.cdf(n - int(n * contamination), n, posterior)
        return np.where(scores > self.threshold_, confidence, 1.0 - confidence)

    # ------------------------------------------------------------------ persistence
    def save(self, path: str | Path) -> None:
        """Write the fitted detector atomically, with a SHA-256 of its state (`detectors.persistence`).

        A crash never leaves a half-written file at ``path``, and a file damaged later raises
        `detectors.DamagedFileError` on load instead of loading a wrong model.
        """
        self._check_fitted()
        state = {"format": registry.FORMAT_VERSION, "class": type(self).__name__} | self._get_state()
        write_checked(state, path, kind=type(self).__name__)

    @classmethod
    def load(cls, path: str | Path, device: str | None = None) -> BaseDetector:
        """Load a detector saved by `save`; ``cls`` must be (a base of) the saved class.

        `detectors.load_detector` loads any family without naming it.

        Raises:
            FileNotFoundError: Nothing at ``path``.
            DamagedFileError: The file's bytes changed after it was saved.
            ValueError: Not a saved swift-hydra detector, or one of another class.
        """
        det = registry.load_detector(path, device=device)
        if not isinstance(det, cls):
            raise ValueError(f"{path} holds a {type(det).__name__}, not a {cls.__name__}")
        return det
