"""`BoostedDetector`: a gradient-boosted classifier on the features plus unsupervised outlier scores.

The XGBOD recipe (Zhao & Hryniewicki, 2018): unsupervised detectors (IForest, ECOD, k-NN by
default) are fitted on the training rows, their standardised scores become extra columns, and a
boosted classifier (CatBoost by default, library defaults) learns from the labeled anomalies on the
widened rows. The unsupervised columns carry "far from the data" into a supervised model that has
only a handful of labels (ADGym measured +1.8 to +2.8 AUC points from them at 5-20 labeled
anomalies); ``sample_weight`` lets callers down-weight rows they trust less (synthetic anomalies).

This is the detector Swift Hydra deploys by default (``deploy="catboost"``); see the README for the
32-set comparison that chose it. Persistence and the PyOD/scikit-learn API come from the shared
contract (`detectors.contract.BaseDetector`); the fitted models are pickled inside the file.
"""

from __future__ import annotations

from numbers import Integral
from typing import Any, ClassVar

import numpy as np
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions

from detectors.adapters import _AdapterBase, _import_optional
from detectors.contract import quantile_threshold

__all__ = ["BOOSTERS", "MIN_ANOMALIES_FOR_SCORES", "UNSUPERVISED_SCORES", "BoostedDetector"]

BOOSTERS = ("catboost", "lightgbm")
UNSUPERVISED_SCORES: dict[str, tuple[str, str, dict[str, Any]]] = {
    "iforest": ("pyod.models.iforest", "IForest", {}),
    "ecod": ("pyod.models.ecod", "ECOD", {}),
    "knn": ("pyod.models.knn", "KNN", {"n_neighbors": 5}),
    "copod": ("pyod.models.copod", "COPOD", {}),
    "hbos": ("pyod.models.hbos", "HBOS", {}),
}
"""Unsupervised scores a `BoostedDetector` can add as columns: name -> (module, class, kwargs)."""
MIN_ANOMALIES_FOR_SCORES = 4
"""Fewest labeled anomalies with which the score columns are added (the few-labels rule)."""


class BoostedDetector(_AdapterBase):
    """Gradient boosting on ``[X, standardised unsupervised scores of X]`` (see the module docstring).

    Args:
        booster: ``"catboost"`` or ``"lightgbm"`` (library defaults, as ADBench runs them).
        unsupervised: Names from :data:`UNSUPERVISED_SCORES` whose scores become extra columns
            (empty: the plain booster).
        random_state: Seed of the booster and of the randomised unsupervised detectors.
        n_jobs: Booster threads (None: library default).
        reference: Optional unfitted label-free scorer with the PyOD protocol (``fit(X)``,
            ``decision_scores_``, ``decision_function``), cloned on fit, whose score becomes one more
            column after the named ones. Swift Hydra passes :class:`agents.reference_score.ReferenceClassifier`,
            which learns from synthetic anomalies; this package knows nothing of them.
        min_anomalies_for_scores: The named score columns are added only when the fit has at least
            this many labeled anomalies (rows labeled 1 at full weight: synthetic rows that share the
            labeled anomalies' weight do not count); below, the plain booster is fitted. With one to
            three labels the booster cannot learn how far to trust the columns: on the 32 shared sets
            they cost 1.4 points at one labeled anomaly and 0.9 at three (rule chosen on 12 sets,
            confirmed on the other 20: ``research/probes/few_labels``). 0 always adds them.
    """

    _declared_constraints: ClassVar[dict[str, list[Any]]] = {
        "booster": [StrOptions(set(BOOSTERS))],
        "unsupervised": [tuple, list],  # the names are checked against UNSUPERVISED_SCORES on fit
        "random_state": [Interval(Integral, 0, None, closed="left"), None],
        "n_jobs": [Integral, None],
        "reference": [HasMethods(["fit", "decision_function", "get_params"]), None],
        "min_anomalies_for_scores": [Interval(Integral, 0, None, closed="left")],
    }

    def __init__(
        self,
        booster: str = "catboost",
        unsupervised: tuple[str, ...] = ("iforest", "ecod", "knn"),
        random_state: int | None = 0,
        n_jobs: int | None = 1,
        reference: Any = None,
        min_anomalies_for_scores: int = MIN_ANOMALIES_FOR_SCORES,
    ) -> None:
        self.booster = booster
        self.unsupervised = unsupervised
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.reference = reference
        self.min_anomalies_for_scores = min_anomalies_for_scores
        self._library_params: dict[str, Any] = {}

    def _make_booster(self) -> Any:
        if self.booster == "catboost":
            catboost = _import_optional("catboost", "CatBoost")
            kwargs = {"verbose": 0, "random_seed": self.random_state, "allow_writing_files": False}
            if self.n_jobs is not None:
                kwargs["thread_count"] = self.n_jobs
            return catboost.CatBoostClassifier(**kwargs)
        if self.booster == "lightgbm":
            lightgbm = _import_optional("lightgbm", "LightGBM")
            return lightgbm.LGBMClassifier(random_state=self.random_state, n_jobs=self.n_jobs, verbose=-1)
        raise ValueError(f"unknown booster {self.booster!r}; choose from {list(BOOSTERS)}")

    def _make_scorers(self, named: bool = True) -> list[Any]:
        unknown = [name for name in self.unsupervised if name not in UNSUPERVISED_SCORES]
        if unknown:
            raise ValueError(
                f"unknown unsupervised score(s) {unknown}; choose from {sorted(UNSUPERVISED_SCORES)}"
            )
        scorers = []
        for name in self.unsupervised if named else ():
            module, cls_name, kwargs = UNSUPERVISED_SCORES[name]
            cls = getattr(_import_optional(module, f"the {name} score"), cls_name)
            if name == "iforest":
                kwargs = {**kwargs, "random_state": self.random_state}
            scorers.append(cls(**kwargs))
        if self.reference is not None:
            if not all(hasattr(self.reference, attr) for attr in ("fit", "decision_function", "get_params")):
                raise ValueError(
                    f"reference must be an unfitted scorer with fit, decision_function and get_params, "
                    f"got {type(self.reference).__name__}"
                )
            from sklearn.base import clone

            scorers.append(clone(self.reference))
        return scorers

    def fit_scorers(self, X: np.ndarray, *, named: bool = True) -> BoostedDetector:
        """Fits only the unsupervised scorers (no labels) and their standardisation on rows ``X``.

        :meth:`widen` then works, so several boosters can share one set of score columns (the
        deployment gate compares fits with and without synthetic rows on the same columns).
        ``named=False`` leaves out the :attr:`unsupervised` columns (the reference column stays).

        Raises:
            InvalidParameterError: A setting breaks ``_parameter_constraints`` (named; nothing is fitted).
        """
        self._validate_params()  # also a public entry point, not only reached through fit
        X = np.asarray(X, dtype=np.float64)
        self.scorers_ = [scorer.fit(X) for scorer in self._make_scorers(named)]
        self.score_columns_ = list(self.unsupervised if named else ()) + (
            ["reference"] if self.reference is not None else []
        )
        if self.scorers_:
            train_scores = np.column_stack([s.decision_scores_ for s in self.scorers_])
            self.score_mean_ = train_scores.mean(axis=0)
            self.score_scale_ = np.where(train_scores.std(axis=0) > 1e-12, train_scores.std(axis=0), 1.0)
        return self

    def widen(self, X: np.ndarray) -> np.ndarray:
        """``[X, standardised unsupervised scores of X]``, the booster's input (after :meth:`fit_scorers`)."""
        return self._widen(np.asarray(X, dtype=np.float64))

    def _widen(self, X: np.ndarray) -> np.ndarray:
        if not self.scorers_:
            return X
        scores = np.column_stack([s.decision_function(X) for s in self.scorers_])
        return np.hstack([X, (scores - self.score_mean_) / self.score_scale_])

    def fit(
        self,
        X: Any,
        y: Any = None,
        *,
        sample_weight: Any = None,
        scorer_mask: Any = None,
        warm_start: bool = False,
    ) -> BoostedDetector:
        """Fit the unsupervised scorers on ``X`` and the booster on the widened rows.

        Args:
            X: ``(n, d)`` finite rows.
            y: 1 = labeled anomaly, 0 = normal or unlabeled (both classes needed).
            sample_weight: Optional per-row weights of the booster's loss.
            scorer_mask: Optional boolean mask of the rows the unsupervised scorers are fitted on
                (default: all). Synthetic rows that surround the data (outlier exposure) are left out,
                or the label-free scores would learn them as part of the data.
            warm_start: Accepted for the detector contract; boosting refits from scratch.
        """
        X, y = self._validate_fit_input(X, y)
        if sample_weight is not None:
            sample_weight = np.asarray(sample_weight, dtype=np.float64).reshape(-1)
            if (
                sample_weight.shape != (len(y),)
                or not np.isfinite(sample_weight).all()
                or (sample_weight < 0).any()
            ):
                raise ValueError(f"sample_weight must be {len(y)} finite non-negative numbers")
            if not sample_weight.any():
                raise ValueError("Sample weights must contain at least one non-zero number.")
        named = self._labeled_anomalies(y, sample_weight) >= self.min_anomalies_for_scores
        if scorer_mask is None:
            self.fit_scorers(X, named=named)
        else:
            scorer_mask = np.asarray(scorer_mask)
            if scorer_mask.dtype != bool or scorer_mask.shape != (len(y),) or not scorer_mask.any():
                raise ValueError(
                    f"scorer_mask must be a boolean mask of {len(y)} rows with at least one True"
                )
            self.fit_scorers(X[scorer_mask], named=named)
        self.estimator_ = self._make_booster()
        self.estimator_.fit(self._widen(X), y, sample_weight=sample_weight)
        scores = self._score(X)
        self._set_decision_scores(scores, quantile_threshold(scores, float(y.mean())))
        return self

    @staticmethod
    def _labeled_anomalies(y: np.ndarray, sample_weight: np.ndarray | None) -> int:
        """Rows labeled 1 at full weight (synthetic rows share the labeled anomalies' weight, each < 1)."""
        full = np.ones(len(y), dtype=bool) if sample_weight is None else sample_weight >= 1.0
        return int(np.sum((y == 1) & full))

    def _score(self, X: np.ndarray) -> np.ndarray:
        """The booster's P(anomaly) of validated rows, ``(n,)`` float64."""
        return np.asarray(self.estimator_.predict_proba(self._widen(X)), dtype=np.float64)[:, 1]

    def _calibrated_proba(self, X: np.ndarray, scores: np.ndarray) -> np.ndarray:
        return scores
