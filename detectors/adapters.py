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
from numbers import Integral, Real
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions

from detectors.contract import BaseDetector
from detectors.validation import check_features, check_targets

__all__ = [
    "BENCH_EXTRA_HINT",
    "PYOD_DETECTORS",
    "SUPERVISED_KINDS",
    "PyODAdapter",
    "SupervisedAdapter",
    "check_features",
    "check_targets",
]

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


def _import_optional(module: str, what: str):
    try:
        return importlib.import_module(module)
    except ImportError as err:
        raise ImportError(f"The {what} baseline needs the '{module}' package: {BENCH_EXTRA_HINT}") from err


def _accepted(cls, **candidates) -> dict:
    """Keep only the keyword arguments that ``cls.__init__`` accepts (PyOD signatures differ)."""
    params = inspect.signature(cls.__init__).parameters
    return {k: v for k, v in candidates.items() if k in params and v is not None}


class _AdapterBase(BaseDetector):
    """What the adapters share: their ``**params`` as scikit-learn parameters, and pickled persistence.

    ``save`` writes the fitted third-party model pickled inside the common (atomic, checksummed,
    weights-only readable) detector file; ``load`` unpickles it, which runs code: only load files you
    wrote. The checksum is verified before the pickle is touched, so a damaged file never unpickles.

    Each adapter declares ``_declared_constraints`` for its own arguments; the library overrides in
    ``**params`` are the library's to check (``"no_validation"`` here).
    """

    _declared_constraints: ClassVar[dict[str, list[Any]]] = {}

    @property
    def _parameter_constraints(self) -> dict[str, Any]:  # type: ignore[override]
        """scikit-learn's constraints: the declared ones, plus the library overrides unchecked."""
        return self._declared_constraints | {name: "no_validation" for name in self._library_params}

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Constructor arguments, the library overrides in ``**params`` included (so `clone` keeps them)."""
        return super().get_params(deep=deep) | dict(self._library_params)

    def set_params(self, **params: Any) -> _AdapterBase:
        """Set constructor arguments; unknown names become library overrides in ``params``."""
        own = set(self._get_param_names())
        super().set_params(**{k: v for k, v in params.items() if k in own})
        self._library_params = dict(self._library_params) | {k: v for k, v in params.items() if k not in own}
        return self

    def _get_state(self) -> dict[str, Any]:
        return {"pickle": pickle.dumps(self, protocol=pickle.HIGHEST_PROTOCOL)}

    @classmethod
    def _from_state(cls, state: dict[str, Any], *, path: Path, device: str | None) -> _AdapterBase:
        try:
            det = pickle.loads(state["pickle"])
        except Exception as err:  # any unpickling failure means the file is not what it claims
            raise ValueError(f"not a saved swift-hydra detector: {path} (unpickling failed: {err})") from None
        if type(det).__name__ != state["class"]:
            raise ValueError(f"not a saved swift-hydra detector: {path} (holds a {type(det).__name__})")
        return det


class PyODAdapter(_AdapterBase):
    """An unsupervised PyOD detector behind the detector contract (labels are validated, then ignored).

    Args:
        name_or_estimator: a short name from :data:`PYOD_DETECTORS` (``"iforest"``, ``"ecod"``, ...) or an
            unfitted PyOD estimator instance (cloned on fit through its ``get_params``).
        contamination: PyOD's expected anomaly fraction, which sets ``threshold_``.
        random_state: passed to detectors that accept it.
        proba_method: PyOD's ``predict_proba`` method, ``"unify"`` (Gaussian-scaled) or ``"linear"``.
        **params: further hyperparameters of the PyOD class (defaults otherwise, as in ADBench).
    """

    _requires_labels = False
    _declared_constraints: ClassVar[dict[str, list[Any]]] = {
        "name_or_estimator": [str, HasMethods(["fit", "decision_function", "get_params"])],
        "contamination": [Interval(Real, 0, 0.5, closed="right")],
        "random_state": ["random_state"],
        "proba_method": [StrOptions({"unify", "linear"})],
    }

    def __init__(
        self,
        name_or_estimator="iforest",
        *,
        contamination: float = 0.1,
        random_state: int | None = None,
        proba_method: str = "unify",
        **params,
    ) -> None:
        self.name_or_estimator = name_or_estimator
        self.contamination = contamination
        self.random_state = random_state
        self.proba_method = proba_method
        self._library_params = params

    def _make_estimator(self):
        # Checked here, not in __init__ (scikit-learn's rule: __init__ only stores parameters).
        name = self.name_or_estimator
        if isinstance(name, str) and name.lower() not in PYOD_DETECTORS:
            raise ValueError(
                f"name_or_estimator: unknown PyOD detector {name!r}; choose from {sorted(PYOD_DETECTORS)}"
            )
        if isinstance(self.name_or_estimator, str):
            module, cls_name = PYOD_DETECTORS[self.name_or_estimator.lower()]
            cls = getattr(importlib.import_module(module), cls_name)
            base = {}
        else:
            cls = type(self.name_or_estimator)
            base = self.name_or_estimator.get_params(deep=False)
        kwargs = base | _accepted(cls, contamination=self.contamination, random_state=self.random_state)
        return cls(**(kwargs | self._library_params))

    def fit(self, X, y=None, *, warm_start: bool = False) -> PyODAdapter:
        """Fit on ``X``; ``y`` is ignored (unsupervised), ``warm_start`` refits from scratch."""
        X, _ = self._validate_fit_input(X, y)
        self.estimator_ = self._make_estimator()
        self.estimator_.fit(X)
        # PyOD's own threshold_; labels_ then follow PyOD's rule (score > threshold_) in the base.
        self._set_decision_scores(self.estimator_.decision_scores_, self.estimator_.threshold_)
        return self

    def _score(self, X: np.ndarray) -> np.ndarray:
        """Outlier scores (n,), float64; higher = more anomalous."""
        return np.asarray(self.estimator_.decision_function(X), dtype=np.float64)

    def _calibrated_proba(self, X: np.ndarray, scores: np.ndarray) -> np.ndarray:
        """PyOD's own score scaling against the training scores (``proba_method``)."""
        return np.asarray(self.estimator_.predict_proba(X, method=self.proba_method), dtype=np.float64)[:, 1]


class SupervisedAdapter(_AdapterBase):
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

    _declared_constraints: ClassVar[dict[str, list[Any]]] = {
        "kind": [StrOptions(set(SUPERVISED_KINDS))],
        "random_state": [Interval(Integral, 0, None, closed="left"), None],
        "n_jobs": [Integral, None],
    }

    def __init__(
        self, kind: str = "catboost", *, random_state: int | None = 0, n_jobs: int | None = None, **params
    ):
        self.kind = kind
        self.random_state = random_state
        self.n_jobs = n_jobs
        self._library_params = params

    def _make_estimator(self):
        if self.kind not in SUPERVISED_KINDS:
            raise ValueError(
                f"unknown supervised baseline {self.kind!r}; choose from {list(SUPERVISED_KINDS)}"
            )
        if self.kind == "catboost":
            catboost = _import_optional("catboost", "CatBoost")
            kwargs = {"verbose": 0, "random_seed": self.random_state, "allow_writing_files": False}
            if self.n_jobs is not None:
                kwargs["thread_count"] = self.n_jobs
            return catboost.CatBoostClassifier(**(kwargs | self._library_params))
        if self.kind == "lightgbm":
            lightgbm = _import_optional("lightgbm", "LightGBM")
            kwargs = {"random_state": self.random_state, "n_jobs": self.n_jobs, "verbose": -1}
            return lightgbm.LGBMClassifier(**(kwargs | self._library_params))
        xgboost = _import_optional("xgboost", "XGBoost")
        kwargs = {"random_state": self.random_state, "n_jobs": self.n_jobs}
        return xgboost.XGBClassifier(**(kwargs | self._library_params))

    def fit(self, X, y=None, *, warm_start: bool = False) -> SupervisedAdapter:
        """Fit on ``X`` with labels ``y`` (needs both classes); ``warm_start`` refits from scratch."""
        X, y = self._validate_fit_input(X, y)
        self.estimator_ = self._make_estimator()
        self.estimator_.fit(X, y)
        self._set_decision_scores(self._score(X), 0.5)
        return self

    def _score(self, X: np.ndarray) -> np.ndarray:
        """P(anomaly) (n,), float64: the classifier's probability of the anomaly class."""
        return np.asarray(self.estimator_.predict_proba(X), dtype=np.float64)[:, 1]

    def _calibrated_proba(self, X: np.ndarray, scores: np.ndarray) -> np.ndarray:
        return scores
