"""Baseline detectors behind the project's detector contract (see docs/ARCHITECTURE.md).

- :class:`PyODAdapter` wraps an unsupervised PyOD detector (IForest, ECOD, ...); labels are ignored.
- :class:`SupervisedAdapter` wraps CatBoost, LightGBM or XGBoost with their library defaults, as ADBench runs them.
- :class:`detectors.devnet.DevNet` is the weakly supervised deep baseline.

``warm_start`` is accepted for contract compatibility; the baselines refit from scratch because their
libraries either cannot continue training (PyOD) or would change the baseline (boosting from a previous
model is not what ADBench measures).
"""

from __future__ import annotations

import importlib
import inspect
import pickle
from pathlib import Path

import numpy as np

BENCH_EXTRA_HINT = "pip install swift-hydra[bench]"

# Short names -> (module, class) of the unsupervised PyOD detectors we expose.
PYOD_DETECTORS: dict[str, tuple[str, str]] = {
    "iforest": ("pyod.models.iforest", "IForest"),
    "ecod": ("pyod.models.ecod", "ECOD"),
    "copod": ("pyod.models.copod", "COPOD"),
    "knn": ("pyod.models.knn", "KNN"),
    "lof": ("pyod.models.lof", "LOF"),
    "hbos": ("pyod.models.hbos", "HBOS"),
    "ocsvm": ("pyod.models.ocsvm", "OCSVM"),
    "pca": ("pyod.models.pca", "PCA"),
    "cblof": ("pyod.models.cblof", "CBLOF"),
    "loda": ("pyod.models.loda", "LODA"),
    "deepsvdd": ("pyod.models.deep_svdd", "DeepSVDD"),
}
SUPERVISED_KINDS = ("catboost", "lightgbm", "xgboost")


def check_features(X, n_features: int | None = None) -> np.ndarray:
    """Validate a feature matrix at a public boundary: 2-D, numeric, finite, expected width."""
    try:
        X = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise TypeError(f"X must be a numeric array, got {type(X).__name__}: {err}") from None
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (n_samples, n_features), got shape {X.shape}")
    if X.shape[0] == 0:
        raise ValueError("X has no rows")
    if not np.isfinite(X).all():
        raise ValueError("X contains NaN or inf values")
    if n_features is not None and X.shape[1] != n_features:
        raise ValueError(f"X has {X.shape[1]} features but the detector was fitted with {n_features}")
    return X


def check_targets(y, n_rows: int) -> np.ndarray:
    """Validate labels: 1-D, one per row, values in {0, 1}."""
    y = np.asarray(y)
    if y.ndim != 1 or len(y) != n_rows:
        raise ValueError(f"y must be 1-D with one label per row ({n_rows}), got shape {y.shape}")
    if not np.isin(y, (0, 1)).all():
        raise ValueError(f"y must contain only 0 (normal/unlabeled) and 1 (anomaly), got {np.unique(y)[:10]}")
    return y.astype(int)


def _import_optional(module: str, what: str):
    try:
        return importlib.import_module(module)
    except ImportError as err:
        raise ImportError(f"The {what} baseline needs the '{module}' package: {BENCH_EXTRA_HINT}") from err


def _accepted(cls, **candidates) -> dict:
    """Keep only the keyword arguments that ``cls.__init__`` accepts (PyOD signatures differ)."""
    params = inspect.signature(cls.__init__).parameters
    return {k: v for k, v in candidates.items() if k in params and v is not None}


class _PickleMixin:
    """save/load with pickle: these wrap third-party models with no weights-only format.

    Only load files you wrote yourself; unpickling runs code.
    """

    def save(self, path: str | Path) -> None:
        path = Path(path)
        tmp = path.with_name(path.name + ".tmp")
        try:  # atomic: a failed write leaves the previous file
            with open(tmp, "wb") as fh:
                pickle.dump(self, fh)
            tmp.replace(path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    @classmethod
    def load(cls, path: str | Path):
        with open(Path(path), "rb") as fh:
            det = pickle.load(fh)
        if not isinstance(det, cls):
            raise TypeError(f"{path} holds a {type(det).__name__}, not a {cls.__name__}")
        return det

    def _check_fitted(self) -> None:
        if not hasattr(self, "estimator_"):
            raise ValueError(f"{type(self).__name__} is not fitted yet: call fit(X) first")

    def predict(self, X) -> np.ndarray:
        """Labels (n,) in {0, 1}: 1 where the decision score exceeds ``threshold_``."""
        return (self.decision_function(X) > self.threshold_).astype(int)


class PyODAdapter(_PickleMixin):
    """An unsupervised PyOD detector behind the detector contract.

    Args:
        name_or_estimator: a short name from :data:`PYOD_DETECTORS` (``"iforest"``, ``"ecod"``, ...) or an
            unfitted PyOD estimator instance (cloned on fit through its ``get_params``).
        contamination: PyOD's expected anomaly fraction, which sets ``threshold_``.
        random_state: passed to detectors that accept it.
        proba_method: PyOD's ``predict_proba`` method, ``"unify"`` (Gaussian-scaled) or ``"linear"``.
        **params: further hyperparameters of the PyOD class (defaults otherwise, as in ADBench).
    """

    def __init__(
        self,
        name_or_estimator="iforest",
        *,
        contamination: float = 0.1,
        random_state: int | None = None,
        proba_method: str = "unify",
        **params,
    ) -> None:
        if isinstance(name_or_estimator, str) and name_or_estimator.lower() not in PYOD_DETECTORS:
            raise ValueError(
                f"unknown PyOD detector {name_or_estimator!r}; choose from {sorted(PYOD_DETECTORS)}"
            )
        if proba_method not in ("unify", "linear"):
            raise ValueError(f"proba_method must be 'unify' or 'linear', got {proba_method!r}")
        self.name_or_estimator = name_or_estimator
        self.contamination = contamination
        self.random_state = random_state
        self.proba_method = proba_method
        self.params = params

    def _make_estimator(self):
        if isinstance(self.name_or_estimator, str):
            module, cls_name = PYOD_DETECTORS[self.name_or_estimator.lower()]
            cls = getattr(importlib.import_module(module), cls_name)
            base = {}
        else:
            cls = type(self.name_or_estimator)
            base = self.name_or_estimator.get_params(deep=False)
        kwargs = base | _accepted(cls, contamination=self.contamination, random_state=self.random_state)
        return cls(**(kwargs | self.params))

    def fit(self, X, y=None, *, warm_start: bool = False) -> PyODAdapter:
        """Fit on ``X``; ``y`` is ignored (unsupervised), ``warm_start`` refits from scratch."""
        X = check_features(X)
        if y is not None:
            check_targets(y, len(X))
        self.estimator_ = self._make_estimator()
        self.estimator_.fit(X)
        self.n_features_in_ = X.shape[1]
        self.decision_scores_ = np.asarray(self.estimator_.decision_scores_, dtype=np.float64)
        self.threshold_ = float(self.estimator_.threshold_)
        self.labels_ = np.asarray(self.estimator_.labels_, dtype=int)
        return self

    def decision_function(self, X) -> np.ndarray:
        """Outlier scores (n,), float64; higher = more anomalous."""
        self._check_fitted()
        X = check_features(X, self.n_features_in_)
        return np.asarray(self.estimator_.decision_function(X), dtype=np.float64)

    def predict_proba(self, X) -> np.ndarray:
        """(n, 2) probabilities from PyOD's score scaling against the training scores."""
        self._check_fitted()
        X = check_features(X, self.n_features_in_)
        proba = np.asarray(self.estimator_.predict_proba(X, method=self.proba_method), dtype=np.float64)
        proba[:, 1] = np.clip(proba[:, 1], 0.0, 1.0)
        proba[:, 0] = 1.0 - proba[:, 1]
        return proba


class SupervisedAdapter(_PickleMixin):
    """A gradient-boosted classifier (CatBoost, LightGBM or XGBoost) behind the detector contract.

    Library defaults are kept, as in ADBench; unlabeled rows count as normal. The decision score is
    the predicted P(anomaly), so ``threshold_`` is 0.5.

    Args:
        kind: ``"catboost"``, ``"lightgbm"`` or ``"xgboost"`` (the ``bench`` extra installs the first two;
            xgboost is optional because its wheel pulls a large CUDA library).
        random_state: the library seed (``random_seed`` / ``random_state``).
        n_jobs: threads (CatBoost ``thread_count``, LightGBM/XGBoost ``n_jobs``); None = library default.
        **params: overrides of the library defaults (e.g. ``iterations=50`` for quick tests).
    """

    def __init__(
        self, kind: str = "catboost", *, random_state: int | None = 0, n_jobs: int | None = None, **params
    ):
        if kind not in SUPERVISED_KINDS:
            raise ValueError(f"unknown supervised baseline {kind!r}; choose from {list(SUPERVISED_KINDS)}")
        self.kind = kind
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.params = params

    def _make_estimator(self):
        if self.kind == "catboost":
            catboost = _import_optional("catboost", "CatBoost")
            kwargs = {"verbose": 0, "random_seed": self.random_state, "allow_writing_files": False}
            if self.n_jobs is not None:
                kwargs["thread_count"] = self.n_jobs
            return catboost.CatBoostClassifier(**(kwargs | self.params))
        if self.kind == "lightgbm":
            lightgbm = _import_optional("lightgbm", "LightGBM")
            kwargs = {"random_state": self.random_state, "n_jobs": self.n_jobs, "verbose": -1}
            return lightgbm.LGBMClassifier(**(kwargs | self.params))
        xgboost = _import_optional("xgboost", "XGBoost")
        kwargs = {"random_state": self.random_state, "n_jobs": self.n_jobs}
        return xgboost.XGBClassifier(**(kwargs | self.params))

    def fit(self, X, y=None, *, warm_start: bool = False) -> SupervisedAdapter:
        """Fit on ``X`` with labels ``y`` (needs both classes); ``warm_start`` refits from scratch."""
        X = check_features(X)
        if y is None:
            raise ValueError(f"{self.kind} is supervised: fit needs labels y")
        y = check_targets(y, len(X))
        if len(np.unique(y)) < 2:
            raise ValueError(f"{self.kind} needs both classes in y (labeled anomalies and normal rows)")
        self.estimator_ = self._make_estimator()
        self.estimator_.fit(X, y)
        self.n_features_in_ = X.shape[1]
        self.threshold_ = 0.5
        self.decision_scores_ = self.decision_function(X)
        self.labels_ = (self.decision_scores_ > self.threshold_).astype(int)
        return self

    def predict_proba(self, X) -> np.ndarray:
        """(n, 2) class probabilities of the classifier."""
        self._check_fitted()
        X = check_features(X, self.n_features_in_)
        anomaly = np.asarray(self.estimator_.predict_proba(X), dtype=np.float64)[:, 1]
        return np.column_stack([1.0 - anomaly, anomaly])

    def decision_function(self, X) -> np.ndarray:
        """P(anomaly) (n,), float64."""
        return self.predict_proba(X)[:, 1]
