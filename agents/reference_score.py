"""A score column learned from synthetic anomalies: real rows told apart from rows perturbed off them.

"Unsupervised as supervised learning" (Hastie, Tibshirani & Friedman, *The Elements of Statistical
Learning*, 14.2.4): a classifier that separates the data from a reference sample estimates, through its
odds, the ratio of the data's density to the reference's, so its P(reference) grows as a row leaves the
data's structure. The reference sample here is the outlier-exposure rows of
:func:`agents.perturb.perturbed_normals`: rows of the data plus Gaussian noise at 0.5, 1 and 2 feature
standard deviations, discrete features snapped to values the data takes (or the classifier would only
learn "not a 0/1 value").

Used as labels, those rows lift anomaly kinds never labeled but cost AUC on ADBench's real anomalies,
because the booster must then call every off-manifold row an anomaly (``research/probes/exposure_strength``, step
1). Used through this column, the booster learns from the *labeled* anomalies how much to trust it. On
the probe's cells that kept the gain and shed most of the cost (step 3); on the full tables it did not
hold up (``research/probes/exposure_strength/full_tables.txt``): the gain on held-out types came from the
datasets the probe had read, and ADBench still paid. So Swift Hydra's deployment fit adds it only when
asked (``LoopOptions.reference_column``, benchmark method ``swift_hydra_reference``); the
no-augmentation control, which has no synthetic anomaly, never has it.

The classifier's own training rows would score lower than unseen rows of the same kind, so the column
is cross-fitted (as :func:`sklearn.model_selection.cross_val_predict` does): a row seen in :meth:`fit`
gets the score of the fold models that did not see it, any other row the mean over the fold models.
Training and new rows then sit on one scale.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator

from agents.perturb import EXPOSURE_SCALES, perturbed_normals

__all__ = ["ReferenceClassifier"]


class ReferenceClassifier(BaseEstimator):
    """A PyOD-style label-free scorer: P(row is from the perturbed reference sample), cross-fitted.

    Plugs into :class:`detectors.boosted.BoostedDetector` as ``reference=ReferenceClassifier()``; like
    PyOD's detectors it has :meth:`fit` (no labels), ``decision_scores_`` (the training rows' scores)
    and :meth:`decision_function`.

    Args:
        n_folds: Cross-fitting folds (>= 2); also the number of classifiers averaged for new rows.
        max_reference_rows: Reference rows drawn: as many as the training rows, at most this many.
        n_estimators: Trees of each LightGBM classifier.
        num_leaves: Leaves per tree.
        random_state: Seed of the reference draw, the folds and the classifiers.
    """

    def __init__(
        self,
        n_folds: int = 5,
        max_reference_rows: int = 4000,
        n_estimators: int = 200,
        num_leaves: int = 15,
        random_state: int | None = 0,
    ) -> None:
        self.n_folds = n_folds
        self.max_reference_rows = max_reference_rows
        self.n_estimators = n_estimators
        self.num_leaves = num_leaves
        self.random_state = random_state

    def fit(self, X: np.ndarray, y: Any = None) -> ReferenceClassifier:
        """Draws the reference rows around ``X`` and fits the fold classifiers (``y`` is ignored).

        Raises:
            ValueError: fewer rows than folds, or a bad setting.
        """
        from lightgbm import LGBMClassifier
        from sklearn.model_selection import KFold

        X = np.asarray(X, dtype=np.float64)
        if int(self.n_folds) < 2 or int(self.max_reference_rows) < int(self.n_folds):
            raise ValueError(
                f"n_folds must be >= 2 and max_reference_rows >= n_folds, got {self.n_folds} and "
                f"{self.max_reference_rows}"
            )
        if X.ndim != 2 or len(X) < int(self.n_folds):
            raise ValueError(f"need a 2-D array of at least {self.n_folds} rows, got shape {X.shape}")
        seed = 0 if self.random_state is None else int(self.random_state)
        n_reference = min(len(X), int(self.max_reference_rows))
        # The scorer sees no labels: every row is a centre (at la = 0.1 the labeled anomalies are a handful).
        reference = perturbed_normals(
            X, np.zeros(len(X)), n_rows=n_reference, scales=EXPOSURE_SCALES, seed=seed
        )
        folds = KFold(int(self.n_folds), shuffle=True, random_state=seed)
        self.models_, oof = [], np.zeros(len(X))
        for (fit_x, held_x), (fit_r, _) in zip(folds.split(X), folds.split(reference), strict=True):
            model = LGBMClassifier(
                n_estimators=int(self.n_estimators), num_leaves=int(self.num_leaves), learning_rate=0.05,
                random_state=seed, n_jobs=1, verbose=-1,
            ).fit(np.vstack([X[fit_x], reference[fit_r]]), np.r_[np.zeros(len(fit_x)), np.ones(len(fit_r))])  # fmt: skip
            self.models_.append(model)
            oof[held_x] = model.predict_proba(X[held_x])[:, 1]
        self.decision_scores_ = oof
        self.seen_scores_ = {_row_key(row): score for row, score in zip(X, oof, strict=True)}
        return self

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        """P(reference) of ``X``: out-of-fold for rows seen in :meth:`fit`, the fold models' mean otherwise."""
        X = np.asarray(X, dtype=np.float64)
        scores = np.mean([model.predict_proba(X)[:, 1] for model in self.models_], axis=0)
        for i, row in enumerate(X):
            seen = self.seen_scores_.get(_row_key(row))
            if seen is not None:
                scores[i] = seen
        return scores


def _row_key(row: np.ndarray) -> bytes:
    """A 16-byte digest of a float64 row: the seen-row table stays small when pickled with a detector."""
    return hashlib.blake2b(row.tobytes(), digest_size=16).digest()
