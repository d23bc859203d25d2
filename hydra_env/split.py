"""The ADBench train/test split, and the validation every dataset passes.

ADBench's split (:func:`adbench_split`), every rule from ``DataGenerator.generator`` in
``adbench/datasets/data_generator.py`` (Minqi824/ADBench), called as
``DataGenerator(seed=seed).generator(X, y, la=la, at_least_one_labeled=True)``:

    1. ADBench seeds NumPy's global RNG with ``seed`` (``Utils.set_seed``); we use a local
       ``np.random.RandomState(seed)`` instead and pass that one object to every draw below, which
       gives the same numbers without touching global state.
    2. Fewer than 1000 rows: resample with replacement to 1000, ``choice(arange(n), 1000, replace=True)``
       (ADBench re-seeds just before; our generator is still fresh at that point, so it is the same).
    3. More than 10000 rows: subsample, ``choice(arange(n), 10000, replace=False)`` (same remark).
    4. ``train_test_split(X, y, test_size=0.3, shuffle=True, stratify=y)``; ADBench passes no
       ``random_state``, so scikit-learn draws from the global RNG, i.e. the same stream we pass in.
    5. ``MinMaxScaler`` fit on the training rows only, applied to both sets (test values may leave [0, 1]).
    6. ``la`` is the fraction of *training* anomalies that keep label 1: ADBench's
       ``at_least_one_labeled=True`` branch draws ``choice(idx_anomaly, ceil(la * len(idx_anomaly)),
       replace=False)`` from the same stream, so any ``la > 0`` labels at least one. The other training
       anomalies are relabeled 0 and stay in the training set (unlabeled contamination). Test labels
       are untouched. ``ceil`` sees the float product, as in ADBench: ``ceil(0.7 * 10)`` is 8.
    Differences: ADBench reads an ``int`` ``la`` as a count of labeled anomalies; here ``la`` is always
    a fraction in [0, 1] (``la=1`` labels all of them), and a count is asked for by name:
    ``adbench_split(..., n_labeled=K)`` draws ``choice(idx_anomaly, min(K, n), replace=False)`` at
    step 6, from the same stream, so the rows and the scaler are those of any ``la`` at that seed. Noise and synthetic options are not reproduced
    here (synthetic anomaly types live in :mod:`hydra_env.anomaly_types`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import MinMaxScaler

# ADBench protocol constants (DataGenerator defaults).
MIN_SAMPLES = 1000
MAX_SAMPLES = 10000
TEST_SIZE = 0.3


# ----------------------------------------------------------------------------------------- validation
def check_Xy(X, y, *, source: str = "data") -> tuple[np.ndarray, np.ndarray]:  # noqa: N802 (X is the ML convention)
    """Validates a dataset and returns it as ``(X float64 (n, d), y int64 (n,))``.

    Args:
        X: Feature matrix, shape (n_samples, n_features), finite numbers.
        y: Labels, shape (n_samples,), values in {0, 1} (1 = anomaly).
        source: Where the data came from, quoted in error messages.

    Raises:
        TypeError: X or y is not numeric.
        ValueError: Wrong shape, empty, NaN or inf in X, y not binary, or different lengths.
    """
    X = np.asarray(X)
    y = np.asarray(y)
    if X.dtype.kind not in "biuf":
        raise TypeError(f"{source}: X must be numeric, got dtype {X.dtype}")
    if X.ndim != 2:
        raise ValueError(f"{source}: X must be 2-D (n_samples, n_features), got shape {X.shape}")
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"{source}: X is empty (shape {X.shape})")
    X = X.astype(np.float64, copy=False)
    finite = np.isfinite(X)
    if not finite.all():
        n_nan, n_inf = int(np.isnan(X).sum()), int(np.isinf(X).sum())
        row, col = np.argwhere(~finite)[0]
        raise ValueError(
            f"{source}: X contains {n_nan} NaN and {n_inf} inf values (first at row {row}, column {col})"
        )
    if y.ndim == 2 and y.shape[1] == 1:
        y = y.ravel()
    if y.ndim != 1:
        raise ValueError(f"{source}: y must be 1-D (n_samples,), got shape {y.shape}")
    if len(y) != X.shape[0]:
        raise ValueError(f"{source}: X has {X.shape[0]} rows but y has {len(y)} labels")
    if y.dtype.kind not in "biuf":
        raise TypeError(f"{source}: y must be numeric 0/1 labels, got dtype {y.dtype}")
    values = np.unique(y)
    if not np.isin(values, (0, 1)).all():
        shown = ", ".join(str(v) for v in values[:6]) + (", ..." if len(values) > 6 else "")
        raise ValueError(f"{source}: y must be binary (0 = normal, 1 = anomaly); found values {shown}")
    return X, y.astype(np.int64)


# ------------------------------------------------------------------------------------------ the split
@dataclass
class Split:
    """One ADBench train/test split (see the module docstring for the rules).

    Attributes:
        X_train: Training features, MinMax-scaled with :attr:`scaler` (each column in [0, 1]).
        y_train: Training labels as a semi-supervised learner sees them: 1 only for the labeled anomalies.
        X_test: Test features, scaled with the same scaler (may leave [0, 1]).
        y_test: True test labels.
        scaler: The ``MinMaxScaler`` fit on the (unscaled) training rows.
        la: Fraction of training anomalies that kept their label.
        seed: Seed of the split.
        n_labeled_anomalies: ``y_train.sum()``: ``ceil(la * training anomalies)``, or
            ``min(n_labeled, training anomalies)`` when the split was asked for a label count.
        n_labeled: The label count asked for (``None`` when the split was asked for a fraction ``la``).
        y_train_true: True training labels, before unlabeling (for analysis only, never for training).
        name: Dataset name, when known.
    """

    X_train: np.ndarray = field(repr=False)
    y_train: np.ndarray = field(repr=False)
    X_test: np.ndarray = field(repr=False)
    y_test: np.ndarray = field(repr=False)
    scaler: MinMaxScaler = field(repr=False)
    la: float
    seed: int
    n_labeled_anomalies: int
    y_train_true: np.ndarray = field(repr=False)
    name: str | None = None
    n_labeled: int | None = None

    @property
    def n_features(self) -> int:
        """Number of features."""
        return int(self.X_train.shape[1])


def _check_la(la) -> float:
    if isinstance(la, bool) or not isinstance(la, (int, float, np.integer, np.floating)):
        raise TypeError(f"la must be a number in [0, 1] (fraction of labeled anomalies), got {la!r}")
    la = float(la)
    if not 0.0 <= la <= 1.0:  # also rejects NaN
        raise ValueError(f"la must be in [0, 1] (fraction of training anomalies that keep label 1), got {la}")
    return la


def _check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an integer, got {seed!r}")
    if not 0 <= int(seed) < 2**32:
        raise ValueError(f"seed must be in [0, 2**32), got {seed}")
    return int(seed)


def _check_n_labeled(n_labeled) -> int | None:
    if n_labeled is None:
        return None
    if isinstance(n_labeled, bool) or not isinstance(n_labeled, (int, np.integer)):
        raise TypeError(
            f"n_labeled must be a positive integer (a count of labeled anomalies), got {n_labeled!r}"
        )
    if int(n_labeled) < 1:
        raise ValueError(f"n_labeled must be >= 1 (a count of labeled training anomalies), got {n_labeled}")
    return int(n_labeled)


def _resample(X: np.ndarray, y: np.ndarray, rng: np.random.RandomState, source: str):
    """ADBench's size rule (up- or subsample to [MIN_SAMPLES, MAX_SAMPLES]) on the split's stream.

    Raises:
        ValueError: Fewer than two rows of a class afterwards (a stratified split needs two).
    """
    if len(y) < MIN_SAMPLES:
        idx = rng.choice(np.arange(len(y)), MIN_SAMPLES, replace=True)
        X, y = X[idx], y[idx]
    if len(y) > MAX_SAMPLES:
        idx = rng.choice(np.arange(len(y)), MAX_SAMPLES, replace=False)
        X, y = X[idx], y[idx]
    counts = np.bincount(y, minlength=2)
    if counts.min() < 2:
        raise ValueError(
            f"{source}: a stratified split needs at least 2 normal rows and 2 anomalies "
            f"(after ADBench's resampling), got {counts[0]} normal and {counts[1]} anomalies"
        )
    return X, y


def adbench_split(
    X, y, la: float, seed: int, *, name: str | None = None, n_labeled: int | None = None
) -> Split:
    """Splits a dataset exactly as ADBench's ``DataGenerator(seed).generator(X, y, la, True)`` does.

    Args:
        X: Features, shape (n_samples, n_features), unscaled.
        y: Labels in {0, 1}, 1 = anomaly; both classes must be present.
        la: Fraction of training anomalies that keep label 1, in [0, 1]; ``ceil`` rounding, so any
            ``la > 0`` keeps at least one. Ignored when ``n_labeled`` is given.
        seed: Seed of the split; the same seed gives the same split, row for row.
        name: Dataset name stored on the result.
        n_labeled: Keep exactly this many labeled training anomalies (all of them when the split has
            fewer), as ADGym reports by count: a fraction gives a 10 000-row set hundreds of labels and
            a small set one. Drawn from the split's own random stream, in place of ADBench's
            ``ceil(la * n)`` draw, so the train/test rows are those of any ``la`` at the same seed.
            The split's ``la`` is then the fraction this count labels.

    Returns:
        A :class:`Split`.

    Raises:
        ValueError: Bad X or y (see :func:`check_Xy`), ``la`` outside [0, 1], or fewer than two rows of
            a class after resampling (a stratified split needs two).
    """
    X, y = check_Xy(X, y, source=name or "data")
    la = _check_la(la)
    seed = _check_seed(seed)
    n_labeled = _check_n_labeled(n_labeled)
    rng = np.random.RandomState(seed)  # one stream for every draw, in ADBench's order
    X, y = _resample(X, y, rng, name or "data")
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=TEST_SIZE, shuffle=True, stratify=y, random_state=rng
    )
    scaler = MinMaxScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    idx_anomaly = np.where(y_train == 1)[0]
    if n_labeled is None:
        count = math.ceil(la * len(idx_anomaly))
    else:
        count = min(n_labeled, len(idx_anomaly))
        la = count / len(idx_anomaly)
    idx_labeled = rng.choice(idx_anomaly, count, replace=False)
    y_train_true = y_train
    y_train = np.zeros_like(y_train_true)
    y_train[idx_labeled] = 1
    return Split(
        X_train=X_train,
        y_train=y_train,
        X_test=X_test,
        y_test=y_test,
        scaler=scaler,
        la=la,
        seed=seed,
        n_labeled_anomalies=len(idx_labeled),
        y_train_true=y_train_true,
        name=name,
        n_labeled=n_labeled,
    )
