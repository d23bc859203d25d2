"""Classic anomaly generators behind the policy interface: recipes that need no agent.

A generator is anything that proposes candidate anomaly rows for a round. The SB3 agents and the
latent policies of :mod:`agents.policies` decode rows from the VAE; the recipes here build them
directly in the data's feature space from the rows the env was built on (``HydraCore.split``: in the
closed loop, the fit part of the training split):

* :class:`OversamplePolicy` (``oversample``): exact copies of labeled anomalies, drawn with replacement.
* :class:`SmotePolicy` (``smote``): SMOTE (Chawla et al. 2002, imbalanced-learn's ``SMOTE``) among the
  labeled anomalies.
* :class:`MixupPolicy` (``mixup``): Mixup (Zhang et al. 2018) of two labeled anomalies.
* :class:`NNGMixPolicy` (``nng_mix``): NNG-Mix (Dong et al. 2023): labeled anomalies mixed with their
  nearest unlabeled rows or nearest labeled anomalies, with Gaussian noise.
* :class:`ExposurePolicy` (``exposure``): outlier-exposure rows, normal rows perturbed off the data
  (:func:`agents.perturb.perturbed_normals`, the rows of ``LoopOptions.exposure_weight``).

They take the same road as every other policy's candidates: the loop hands ``generate``'s rows to
:class:`hydra_env.rounds.RoundStep` (snap discrete features, distinct rows, ``min_novelty``, greedy
top-l by the env's reward, refit), then the deployment gate. ``generate`` returns each row's reward
under the env's current detector and reward (``HydraCore.evaluate``), comparable with what an SB3 agent
collects. ``learn`` is a no-op, and ``deterministic`` is accepted for the interface but changes
nothing (a recipe has no mean action). Every draw comes from one ``numpy.random.Generator``
(:meth:`reseed`), saved with the policy, so a resumed run draws what an uninterrupted one would.

Since the loop drops rows it already kept, ``oversample`` keeps at most one copy of each labeled
anomaly over a whole run (in effect, the labeled anomalies' weight rises once); Mixup and NNG-Mix's
Beta(0.2, 0.2) puts most weight near the endpoints, so many of their rows sit close to a labeled
anomaly as well.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from agents.perturb import EXPOSURE_SCALES, perturbed_normals
from agents.policies import GenerationPolicy, SeededPolicy, core_of

__all__ = [
    "GENERATORS",
    "ExposurePolicy",
    "MixupPolicy",
    "NNGMixPolicy",
    "OversamplePolicy",
    "SmotePolicy",
]

_SEED_BOUND = 2**31 - 1


class _ClassicGenerator(SeededPolicy):
    """Shared machinery: the env's rows, a seeded Generator, env-reward scoring and the saved state."""

    needs_anomalies = True

    def __init__(self, env: Any, seed: int) -> None:
        self.core = core_of(env)
        self.seed = int(seed)
        self.rng = np.random.default_rng(self.seed)
        split = self.core.split
        self.X = np.asarray(split.X_train, dtype=np.float64)
        self.y = np.asarray(split.y_train).astype(np.int64).reshape(-1)
        self.anomalies = self.X[self.y == 1]
        self.unlabeled = self.X[self.y == 0]
        if self.needs_anomalies and len(self.anomalies) == 0:
            raise ValueError(f"{self.name} needs at least one labeled anomaly (y == 1) in the env's rows")

    def _draw(self, n: int) -> np.ndarray:
        """``n`` rows (n, d) float64 in the data's feature space."""
        raise NotImplementedError

    def generate(self, n: int, *, deterministic: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """``n`` candidate rows (n, d) float32 and their env rewards (n,) float64 (``deterministic`` unused)."""
        n = int(n)
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        if n == 0:
            return np.zeros((0, self.X.shape[1]), np.float32), np.zeros(0, np.float64)
        rows = np.ascontiguousarray(self._draw(n), dtype=np.float32)
        reward, _ = self.core.evaluate(rows)
        return rows, np.asarray(reward, dtype=np.float64)

    def _copies(self, n: int) -> np.ndarray:
        return self.anomalies[self.rng.integers(0, len(self.anomalies), size=n)]


def _check_alpha(alpha: float) -> float:
    alpha = float(alpha)
    if not (np.isfinite(alpha) and alpha > 0):
        raise ValueError(f"alpha must be a positive number, got {alpha!r}")
    return alpha


class OversamplePolicy(_ClassicGenerator):
    """Random oversampling: labeled anomalies drawn with replacement, exact copies (no jitter).

    Args:
        env: A ``SwiftHydra-v0`` env (single, vector, or wrapped); its rows and reward are used.
        seed: Seed of the draws.
    """

    name = "oversample"

    def _draw(self, n: int) -> np.ndarray:
        return self._copies(n)


class SmotePolicy(_ClassicGenerator):
    """SMOTE among the labeled anomalies (imbalanced-learn's ``SMOTE``).

    Each row is ``a + u * (b - a)``, ``a`` a random labeled anomaly, ``b`` one of its
    ``min(k_neighbors, n_anomalies - 1)`` nearest labeled anomalies, ``u ~ U(0, 1)``: rows lie on
    segments between labeled anomalies. With a single labeled anomaly there is nothing to
    interpolate: SMOTE then falls back to oversampling (exact copies of that anomaly).

    Args:
        env: A ``SwiftHydra-v0`` env (single, vector, or wrapped).
        seed: Seed of the draws.
        k_neighbors: SMOTE's neighbours (imbalanced-learn's default, 5), capped at ``n_anomalies - 1``.
    """

    name = "smote"

    def __init__(self, env: Any, seed: int, k_neighbors: int = 5) -> None:
        super().__init__(env, seed)
        if int(k_neighbors) < 1:
            raise ValueError(f"k_neighbors must be >= 1, got {k_neighbors}")
        self.k_neighbors = int(k_neighbors)

    def _params(self) -> dict[str, Any]:
        return {"k_neighbors": self.k_neighbors}

    def _draw(self, n: int) -> np.ndarray:
        from imblearn.over_sampling import SMOTE

        m, d = self.anomalies.shape
        if m < 2:
            return self._copies(n)
        # One stand-in row of the other class: SMOTE needs two classes, and only the anomalies'
        # neighbourhoods matter (it interpolates within the minority class).
        X = np.vstack([self.anomalies, np.zeros((1, d))])
        y = np.r_[np.ones(m, dtype=np.int64), 0]
        smote = SMOTE(
            sampling_strategy={1: m + n},
            k_neighbors=min(self.k_neighbors, m - 1),
            random_state=int(self.rng.integers(0, _SEED_BOUND)),
        )
        X_res, _ = smote.fit_resample(X, y)
        return np.asarray(X_res[len(X) :], dtype=np.float64)


class MixupPolicy(_ClassicGenerator):
    """Mixup of two distinct labeled anomalies: ``lam * a + (1 - lam) * b``, ``lam ~ Beta(alpha, alpha)``.

    ``alpha = 0.2``, the value of the Mixup paper's ImageNet runs and of NNG-Mix's Mixup baseline on
    tabular ADBench data, so that ``mixup`` and ``nng_mix`` differ only in the partner and the noise.
    Rows lie on segments between labeled anomalies; with a single labeled anomaly every row is a copy
    of it.

    Args:
        env: A ``SwiftHydra-v0`` env (single, vector, or wrapped).
        seed: Seed of the draws.
        alpha: Both parameters of the Beta distribution of ``lam`` (> 0; 1.0 is uniform).
    """

    name = "mixup"

    def __init__(self, env: Any, seed: int, alpha: float = 0.2) -> None:
        super().__init__(env, seed)
        self.alpha = _check_alpha(alpha)

    def _params(self) -> dict[str, Any]:
        return {"alpha": self.alpha}

    def _draw(self, n: int) -> np.ndarray:
        A = self.anomalies
        m = len(A)
        i = self.rng.integers(0, m, size=n)
        # A partner other than the row itself (when there is one), uniform among the rest.
        j = (i + self.rng.integers(1, m, size=n)) % m if m > 1 else i
        lam = self.rng.beta(self.alpha, self.alpha, size=n)[:, None]
        return lam * A[i] + (1.0 - lam) * A[j]


class NNGMixPolicy(_ClassicGenerator):
    """NNG-Mix (Dong et al. 2023, "Improving Semi-supervised Anomaly Detection with Pseudo-anomaly Generation").

    Each row picks a labeled anomaly ``a``; with probability ``p_unlabeled`` its partner ``b`` is one
    of its ``k_unlabeled`` nearest unlabeled rows (Euclidean), otherwise one of its ``k_anomalies``
    nearest labeled anomalies other than itself (the published code counts ``a`` among the
    ``k_anomalies`` and redraws it, so ``a`` has ``k_anomalies - 1`` candidate partners; with no
    other labeled anomaly, ``a`` is its own partner). With ``lam ~ Beta(alpha, alpha)`` and
    ``e1, e2 ~ N(0, noise_std^2 I)``::

        x = lam * (a + e1) + (1 - lam) * (b + e2)

    so ``x`` lies on the segment from ``a`` to ``b`` plus noise no larger than ``max(|e1|, |e2|)`` per
    feature. The defaults are the published recipe for ADBench's classical datasets (``--nn_k 10
    --nn_k_anomaly 10 --nn_mix_gaussian --nn_mix_gaussian_std 0.01 --mixup_alpha 0.2 --mixup_beta
    0.2``, partner branch 50/50), whose features are MinMax-scaled to [0, 1] on the training split as
    ours are. Noise can carry a row slightly outside [0, 1]; the loop snaps discrete features.

    Args:
        env: A ``SwiftHydra-v0`` env (single, vector, or wrapped).
        seed: Seed of the draws.
        k_unlabeled: Nearest unlabeled rows a labeled anomaly is mixed with (>= 1).
        k_anomalies: Nearest labeled anomalies, the anomaly itself included (>= 1).
        alpha: Both parameters of the Beta distribution of ``lam`` (> 0).
        noise_std: Std of the Gaussian noise added to each endpoint (>= 0; 0 is plain mixing).
        p_unlabeled: Probability that the partner is an unlabeled row (the published 0.5); with no
            unlabeled row the partner is always a labeled anomaly.
    """

    name = "nng_mix"

    def __init__(
        self,
        env: Any,
        seed: int,
        k_unlabeled: int = 10,
        k_anomalies: int = 10,
        alpha: float = 0.2,
        noise_std: float = 0.01,
        p_unlabeled: float = 0.5,
    ) -> None:
        super().__init__(env, seed)
        if int(k_unlabeled) < 1 or int(k_anomalies) < 1:
            raise ValueError(f"k_unlabeled and k_anomalies must be >= 1, got {k_unlabeled}, {k_anomalies}")
        if not (np.isfinite(float(noise_std)) and float(noise_std) >= 0):
            raise ValueError(f"noise_std must be >= 0, got {noise_std!r}")
        if not 0.0 <= float(p_unlabeled) <= 1.0:
            raise ValueError(f"p_unlabeled must lie in [0, 1], got {p_unlabeled!r}")
        self.k_unlabeled, self.k_anomalies = int(k_unlabeled), int(k_anomalies)
        self.alpha = _check_alpha(alpha)
        self.noise_std, self.p_unlabeled = float(noise_std), float(p_unlabeled)
        self.unlabeled_neighbours, self.anomaly_neighbours = self._neighbours()

    def _params(self) -> dict[str, Any]:
        return {
            "k_unlabeled": self.k_unlabeled,
            "k_anomalies": self.k_anomalies,
            "alpha": self.alpha,
            "noise_std": self.noise_std,
            "p_unlabeled": self.p_unlabeled,
        }

    def _neighbours(self) -> tuple[np.ndarray, np.ndarray]:
        """Per labeled anomaly: indices of its nearest unlabeled rows (m, k_u) and of its partner anomalies."""
        from sklearn.neighbors import NearestNeighbors

        A, U = self.anomalies, self.unlabeled
        m = len(A)
        k_u = min(self.k_unlabeled, len(U))
        unlabeled = (
            NearestNeighbors(n_neighbors=k_u).fit(U).kneighbors(A, return_distance=False)
            if k_u
            else np.zeros((m, 0), dtype=np.int64)
        )
        k_a = min(self.k_anomalies, m) - 1  # the anomaly itself is one of its k_anomalies nearest
        if k_a >= 1:
            # kneighbors() without X leaves each row out of its own neighbours (by index, so a
            # duplicate row still counts as a partner).
            anomalies = NearestNeighbors(n_neighbors=k_a).fit(A).kneighbors(return_distance=False)
        else:
            anomalies = np.arange(m)[:, None]
        return np.asarray(unlabeled, dtype=np.int64), np.asarray(anomalies, dtype=np.int64)

    def _draw(self, n: int) -> np.ndarray:
        A, U = self.anomalies, self.unlabeled
        nu, na = self.unlabeled_neighbours, self.anomaly_neighbours
        rng = self.rng
        i = rng.integers(0, len(A), size=n)
        to_unlabeled = rng.random(n) < self.p_unlabeled
        if nu.shape[1] == 0:
            to_unlabeled[:] = False
        pick_u = rng.integers(0, max(nu.shape[1], 1), size=n)
        pick_a = rng.integers(0, na.shape[1], size=n)
        partner = A[na[i, pick_a]]
        if to_unlabeled.any():
            partner[to_unlabeled] = U[nu[i[to_unlabeled], pick_u[to_unlabeled]]]
        lam = rng.beta(self.alpha, self.alpha, size=n)[:, None]
        noise = rng.normal(0.0, self.noise_std, size=(2, n, A.shape[1]))
        return lam * (A[i] + noise[0]) + (1.0 - lam) * (partner + noise[1])


class ExposurePolicy(_ClassicGenerator):
    """Outlier exposure: normal rows perturbed off the data, as ``LoopOptions.exposure_weight`` adds them.

    The rows are :func:`agents.perturb.perturbed_normals` of the env's rows (rows labeled normal or
    unlabeled, resampled, plus Gaussian noise of ``scales`` x each feature's std, discrete features
    snapped to the data's values), seeded by a draw of this policy's Generator. They are meant to lie
    off the data's manifold, so they may leave the [0, 1] range of the scaled features.

    Args:
        env: A ``SwiftHydra-v0`` env (single, vector, or wrapped).
        seed: Seed of the draws.
        scales: Noise scales in feature standard deviations (rows cycle through them).
    """

    name = "exposure"
    needs_anomalies = False

    def __init__(self, env: Any, seed: int, scales: tuple[float, ...] = EXPOSURE_SCALES) -> None:
        super().__init__(env, seed)
        per_row = np.atleast_1d(np.asarray(scales, dtype=np.float64))
        if per_row.ndim != 1 or len(per_row) == 0 or not (np.isfinite(per_row).all() and (per_row > 0).all()):
            raise ValueError(f"scales must be positive finite numbers, got {scales!r}")
        if len(self.unlabeled) == 0:
            raise ValueError("exposure needs at least one row labeled normal (y == 0) in the env's rows")
        self.scales = tuple(float(s) for s in per_row)

    def _params(self) -> dict[str, Any]:
        return {"scales": list(self.scales)}

    def _draw(self, n: int) -> np.ndarray:
        seed = int(self.rng.integers(0, _SEED_BOUND))
        return perturbed_normals(self.X, self.y, n_rows=n, scales=self.scales, seed=seed)


GENERATORS: dict[str, type[GenerationPolicy]] = {
    cls.name: cls for cls in (OversamplePolicy, SmotePolicy, MixupPolicy, NNGMixPolicy, ExposurePolicy)
}
"""The classic recipes, by algo name (registered in :data:`agents.registry.NON_RL_POLICIES`)."""
