"""Input validation for every detector, written once on top of scikit-learn's `check_array`.

Every public boundary of every detector family (Mamba, MoME, DevNet, the PyOD and boosting
adapters) goes through `check_features` and `check_targets`, so the same bad input gets the same
named error everywhere:

- sparse, complex, empty, non-numeric, NaN and infinite input: scikit-learn's own messages (the
  ones its estimator checks expect), e.g. ``"Input X contains NaN."``;
- values beyond float32 range (``|x| > 3.4e38``): ``"X exceeds float32 range ..."`` (the networks
  compute in float32, where such values turn into inf and then NaN);
- the wrong number of features: ``"X has 3 features, but MambaDetector is expecting 4 features as
  input."``;
- labels that are not binary 0/1, or hold one class only.

Labels follow ADBench's semi-supervised convention: ``y = 1`` is a *labeled* anomaly, ``y = 0`` is a
normal row **or an unlabeled anomaly**. As scikit-learn's binary classifiers do, any two distinct
non-negative integer labels are accepted, the larger one meaning "labeled anomaly" (so ``{0, 1}``,
``{False, True}`` and scikit-learn's test labels ``{1, 2}`` all work). Negative labels are rejected
with a hint (scikit-learn's outlier convention ``-1 = outlier`` would otherwise be read the wrong way
round), and so are strings (their order says nothing about which class is the anomaly).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import check_array, validate_data

__all__ = ["FLOAT32_MAX", "UNSUPERVISED_HINT", "check_features", "check_targets", "to_numpy"]

FLOAT32_MAX = float(np.finfo(np.float32).max)
UNSUPERVISED_HINT = (
    "at least one labeled anomaly (y == 1) is needed to train this supervised detector; "
    "for unlabeled data use an unsupervised detector such as pyod.models.iforest.IForest or "
    "pyod.models.ecod.ECOD"
)


def to_numpy(a: Any) -> Any:
    """Torch tensors (any device) -> numpy; anything else unchanged."""
    if hasattr(a, "detach") and hasattr(a, "cpu"):
        return a.detach().cpu().numpy()
    return a


def _check_float32_range(X: np.ndarray, name: str) -> None:
    too_large = np.abs(X) > FLOAT32_MAX
    if too_large.any():
        rows = int(too_large.any(axis=1).sum())
        raise ValueError(
            f"{name} exceeds float32 range (|x| > {FLOAT32_MAX:.3g}) in {rows} row(s); the detectors "
            "compute in float32, so rescale (e.g. MinMaxScaler) or clip these values first"
        )


def check_features(
    X: Any,
    *,
    estimator: Any = None,
    reset: bool = True,
    n_features: int | None = None,
    name: str = "X",
) -> np.ndarray:
    """Validate a feature matrix and return it as a C-contiguous float64 array.

    Args:
        X: Array-like ``(n_samples, n_features)`` (numpy, pandas, lists, torch tensors).
        estimator: When given, `sklearn.utils.validation.validate_data` also records
            (``reset=True``) or checks (``reset=False``) ``n_features_in_`` and feature names.
        reset: See ``estimator``.
        n_features: Without an estimator, the required number of columns.
        name: Name used in error messages.

    Raises:
        ValueError: Sparse, complex, empty, non-2-D, NaN, infinite or beyond-float32 input, or the
            wrong number of features.
        TypeError: Content that cannot be converted to numbers.
    """
    X = to_numpy(X)
    kwargs = {"accept_sparse": False, "dtype": np.float64, "ensure_all_finite": True}
    try:
        if estimator is not None:
            arr = validate_data(estimator, X, reset=reset, **kwargs)
        else:
            arr = check_array(X, input_name=name, **kwargs)
    except ValueError as err:
        if "could not convert" in str(err):
            raise TypeError(f"{name} must be numeric: {err}") from err
        raise
    if n_features is not None and arr.shape[1] != n_features:
        raise ValueError(f"{name} has {arr.shape[1]} features, but the detector is expecting {n_features}")
    _check_float32_range(arr, name)
    return np.ascontiguousarray(arr)


def check_targets(y: Any, n_samples: int, *, require_anomaly: bool = True) -> np.ndarray:
    """Validate binary labels (1 = labeled anomaly, 0 = normal or unlabeled) and return them as int64.

    Args:
        y: ``(n_samples,)`` labels in {0, 1} (see the module docstring for other binary labels), or None.
        n_samples: Number of rows of the matching ``X``.
        require_anomaly: Demand both classes (supervised detectors). Without it, ``None`` means
            all rows unlabeled.

    Raises:
        ValueError: ``y`` is None (with ``require_anomaly``), complex, not binary, negative, of the
            wrong length, or holds one class only (with ``require_anomaly``).
    """
    if y is None:
        if require_anomaly:
            raise ValueError(
                f"this detector requires y to be passed, but the target y is None: {UNSUPERVISED_HINT}"
            )
        return np.zeros(n_samples, dtype=np.int64)
    arr = check_array(
        to_numpy(y),
        ensure_2d=False,
        dtype=None,
        input_name="y",
        ensure_min_samples=0,
        ensure_all_finite=False,
    )
    if arr.ndim != 1 or arr.shape[0] != n_samples:
        raise ValueError(f"y must have shape ({n_samples},) to match X, got {arr.shape}")
    type_of_target(arr, input_name="y", raise_unknown=True)  # "Unknown label type" for e.g. object arrays
    values = np.unique(arr)
    numeric = arr.dtype.kind in "biuf" and np.isfinite(values).all() and (values == np.round(values)).all()
    one_unusual = len(values) == 1 and values[0] not in (0, 1)
    if not numeric or one_unusual or len(values) > 2 or (len(values) and values.min() < 0):
        hint = (
            " (scikit-learn's outlier convention? pass (y == -1) as labels)"
            if numeric and -1 in values
            else ""
        )
        raise ValueError(
            "y must be binary labels (0 = normal/unlabeled, 1 = labeled anomaly; two non-negative integers in "
            f"general, the larger meaning anomaly); got values {values[:5]}{hint}"
        )
    if len(values) == 2:
        arr = (arr == values[1]).astype(np.int64)
    else:
        arr = (arr != 0).astype(np.int64)
    if require_anomaly and (arr.size == 0 or arr.max() == 0):
        raise ValueError(f"y contains one class only (no labeled anomaly): {UNSUPERVISED_HINT}")
    if require_anomaly and arr.min() == 1:
        raise ValueError("y contains one class only (every row labeled anomalous): normal rows are needed")
    return arr
