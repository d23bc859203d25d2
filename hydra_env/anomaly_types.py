"""ADBench's four synthetic anomaly types, generated from a dataset's normal rows.

ADBench (Han et al., NeurIPS 2022, ``DataGenerator.generate_realistic_synthetic`` in
``adbench/datasets/data_generator.py``) fits a model of the normal rows and perturbs it:

- ``local``: a Gaussian mixture fit on the normal rows (number of components 1..9 chosen by BIC, as in
  ADBench), covariances multiplied by ``alpha`` (5): anomalies near the normal clusters but too spread.
- ``global``: uniform per feature over ``[min * (1 + percentage), max * (1 + percentage)]`` with
  ``percentage`` 0.1 (the "1.1" scaling), ADBench's own bounds formula; far from any normal cluster.
- ``clustered``: the same mixture with means multiplied by ``alpha`` (5): tight clusters of anomalies
  away from the normal ones. ADBench calls this type ``cluster``; both spellings are accepted.
- ``dependency``: every feature sampled independently from a 1-D Gaussian KDE of that feature (Scott's
  bandwidth, what ``copulas.univariate.GaussianKDE`` uses): each marginal is normal-looking, but the
  joint dependency between features is broken.

Differences from ADBench, on purpose:

- ADBench replaces the whole dataset by synthetic normal rows (GMM samples, or a vine copula's samples
  for ``dependency``) plus synthetic anomalies. :func:`generate` returns only anomalies and leaves the
  real normal rows alone, so no vine copula (``pyvinecopulib``/``copulas``) is needed: ADBench's
  dependency *anomalies* are exactly the independent per-feature KDE samples implemented here.
- ``global`` bounds come from the real normal rows, not from GMM samples of them (no mixture fit).
- ADBench keeps at most 50 random features for ``dependency`` (to bound the copula fit); we keep all
  features so the anomalies fit the dataset they are meant for.
- Draws come from a local ``np.random.RandomState`` (never the global RNG), and the generated rows are
  shuffled so that slicing the first k rows does not favour one mixture component.
"""

from __future__ import annotations

import copy

import numpy as np
from sklearn.mixture import GaussianMixture

from hydra_env.datasets import check_Xy

__all__ = ["KINDS", "fit_normal_mixture", "generate", "make_typed_anomaly_set"]

KINDS: tuple[str, ...] = ("local", "global", "clustered", "dependency")
_ALIASES = {"cluster": "clustered"}
DEFAULT_ALPHA = 5.0  # ADBench's ``alpha`` for local and clustered anomalies
DEFAULT_PERCENTAGE = 0.1  # ADBench's ``percentage`` for global anomalies
MAX_COMPONENTS = 9  # ADBench tries 1..9 mixture components

RandomLike = int | np.integer | np.random.RandomState | np.random.Generator | None


def _kind(kind: str) -> str:
    canonical = _ALIASES.get(str(kind).lower(), str(kind).lower())
    if canonical not in KINDS:
        raise ValueError(f"unknown anomaly kind {kind!r}; expected one of {KINDS} (or 'cluster')")
    return canonical


def _random_state(rng: RandomLike) -> np.random.RandomState:
    """A RandomState from a seed, a RandomState (used as is), a Generator (seeds a new one) or None."""
    if isinstance(rng, np.random.RandomState):
        return rng
    if isinstance(rng, np.random.Generator):
        return np.random.RandomState(int(rng.integers(0, 2**32 - 1)))
    if rng is None or (isinstance(rng, (int, np.integer)) and not isinstance(rng, bool)):
        return np.random.RandomState(rng)
    raise TypeError(
        f"rng must be an int seed, np.random.RandomState, np.random.Generator or None, got {rng!r}"
    )


def _check_normal(X_normal) -> np.ndarray:
    X = np.asarray(X_normal, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] < 2 or X.shape[1] == 0:
        raise ValueError(f"X_normal must be 2-D with at least 2 rows and 1 feature, got shape {X.shape}")
    if not np.isfinite(X).all():
        raise ValueError("X_normal contains NaN or inf values")
    return X


def fit_normal_mixture(X_normal, rng: RandomLike = 0, n_components: int | None = None) -> GaussianMixture:
    """Fits ADBench's Gaussian mixture to normal rows.

    Args:
        X_normal: Normal rows, shape (n, d).
        rng: Seed or random state for the fits (every candidate uses the same seed, as in ADBench).
        n_components: Fixed number of components; None picks 1..9 by lowest BIC, as ADBench does
            (nine fits: slow on wide data, so pass a number there).
    """
    X = _check_normal(X_normal)
    seed = int(_random_state(rng).randint(0, 2**31 - 1))
    if n_components is not None:
        return GaussianMixture(n_components=n_components, random_state=seed).fit(X)
    best, best_bic = None, np.inf
    for k in range(1, min(MAX_COMPONENTS, X.shape[0]) + 1):
        gm = GaussianMixture(n_components=k, random_state=seed).fit(X)
        bic = gm.bic(X)
        if bic < best_bic:
            best, best_bic = gm, bic
    return best


def _sample_mixture(gm: GaussianMixture, n: int, rs: np.random.RandomState, **scaled) -> np.ndarray:
    gm = copy.deepcopy(gm)  # leave the caller's fitted mixture unchanged
    for attr, factor in scaled.items():
        setattr(gm, attr, factor * getattr(gm, attr))
    gm.random_state = rs  # GaussianMixture.sample draws from self.random_state
    return gm.sample(n)[0]


def generate(
    kind: str,
    X_normal,
    n_anomalies: int,
    rng: RandomLike = 0,
    *,
    alpha: float = DEFAULT_ALPHA,
    percentage: float = DEFAULT_PERCENTAGE,
    n_components: int | None = None,
    mixture: GaussianMixture | None = None,
) -> np.ndarray:
    """Generates ``n_anomalies`` synthetic anomalies of one ADBench type from normal rows.

    Args:
        kind: ``"local"``, ``"global"``, ``"clustered"`` (or ``"cluster"``) or ``"dependency"``.
        X_normal: Normal rows, shape (n, d), unscaled (as in ADBench, generate before the split's scaling).
        n_anomalies: Number of rows to generate (>= 1).
        rng: Seed, ``RandomState`` or ``Generator``; the same seed gives the same rows.
        alpha: Covariance (local) or mean (clustered) scaling factor.
        percentage: Bound scaling of global anomalies: ``[min, max] * (1 + percentage)``.
        n_components: Mixture components for local/clustered; None = BIC over 1..9.
        mixture: An already fitted mixture (see :func:`fit_normal_mixture`) to skip refitting.

    Returns:
        Array (n_anomalies, d), float64, finite.
    """
    kind = _kind(kind)
    X = _check_normal(X_normal)
    if isinstance(n_anomalies, bool) or not isinstance(n_anomalies, (int, np.integer)) or n_anomalies < 1:
        raise ValueError(f"n_anomalies must be a positive integer, got {n_anomalies!r}")
    rs = _random_state(rng)
    n = int(n_anomalies)
    if kind in ("local", "clustered"):
        gm = mixture if mixture is not None else fit_normal_mixture(X, rs, n_components)
        scaled = {"covariances_": alpha} if kind == "local" else {"means_": alpha}
        out = _sample_mixture(gm, n, rs, **scaled)
    elif kind == "global":
        low = X.min(axis=0) * (1 + percentage)
        high = X.max(axis=0) * (1 + percentage)
        out = rs.uniform(low, high, size=(n, X.shape[1]))
    else:  # dependency: one 1-D Gaussian KDE per feature, sampled independently
        n_rows = X.shape[0]
        bandwidth = X.std(axis=0, ddof=1) * n_rows ** (-1 / 5)  # Scott's rule in one dimension
        picks = rs.randint(0, n_rows, size=(n, X.shape[1]))  # a kernel centre per cell, per column
        out = X[picks, np.arange(X.shape[1])] + rs.standard_normal((n, X.shape[1])) * bandwidth
    return out[rs.permutation(n)]


def make_typed_anomaly_set(
    X,
    y,
    kinds: tuple[str, ...] | list[str] = KINDS,
    seed: int = 0,
    n_per_kind: int | None = None,
    *,
    include_real: bool = False,
    n_components: int | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Builds a dataset of the real normal rows plus synthetic anomalies of several types.

    Meant for leave-one-type-out experiments: train with the anomalies of some types, test on a type
    never seen. Each type's rows depend only on (``seed``, type), not on which other types are asked
    for, so a type's anomalies are the same in every fold.

    Args:
        X: Features (n, d), unscaled.
        y: Labels in {0, 1}; rows with y == 0 are the normal rows the types are generated from.
        kinds: Anomaly types to generate (see :data:`KINDS`).
        seed: Seed of every draw.
        n_per_kind: Anomalies per type; default the number of real anomalies (as ADBench does).
        include_real: Also keep the real anomalies, typed ``"real"``.
        n_components: Mixture components for local/clustered; None = BIC over 1..9.

    Returns:
        ``(X_out, y_out, types)``: normal rows first, then each type's anomalies in ``kinds`` order;
        ``types`` is a str array with ``"normal"``, ``"real"`` or the anomaly kind of each row.
    """
    X, y = check_Xy(X, y, source="make_typed_anomaly_set")
    kinds = [_kind(k) for k in kinds]
    if len(set(kinds)) != len(kinds) or not kinds:
        raise ValueError(f"kinds must be a non-empty list of distinct types, got {kinds}")
    n = int(y.sum()) if n_per_kind is None else n_per_kind
    if n < 1:
        raise ValueError("no real anomalies to size the synthetic ones from: pass n_per_kind")
    X_normal = X[y == 0]
    mixture = None
    if {"local", "clustered"} & set(kinds):
        mixture = fit_normal_mixture(X_normal, np.random.RandomState([seed, len(KINDS)]), n_components)
    parts, types = [X_normal], [np.full(len(X_normal), "normal", dtype=object)]
    if include_real:
        parts.append(X[y == 1])
        types.append(np.full(int(y.sum()), "real", dtype=object))
    for kind in kinds:
        rs = np.random.RandomState([seed, KINDS.index(kind)])  # independent of the other kinds asked for
        parts.append(generate(kind, X_normal, n, rs, mixture=mixture))
        types.append(np.full(n, kind, dtype=object))
    types_out = np.concatenate(types).astype(str)
    return np.concatenate(parts), (types_out != "normal").astype(np.int64), types_out
