"""The Swift Hydra reward, defined once: named terms with weights (:class:`Reward`).

Terms (:data:`REWARD_TERMS`): ``miss`` (the detector's miss, as a rank among the normal rows),
``novelty`` (how unusual the row is among the normal rows), ``entropy`` (k-NN entropy gain of the
anomaly set, decaying per round), ``miss_proba`` (the paper's calibrated ``1 - P(anomaly)``), and
``value`` / ``value_unseen`` (the first-order held-out AUC gain of a cross-fitted proxy detector if the
row joined its fit; :mod:`hydra_env.value`).
Everything works on batches of torch tensors, so the single env, the batched vector env, the
``gradient`` policy and the top-l selection share one definition and one hot path.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

# The matrix-multiplication shortcut of cdist loses exact zeros (duplicates) to cancellation.
_EXACT = "donot_use_mm_for_euclid_dist"


def anomaly_probability(detector: Any, x: torch.Tensor) -> torch.Tensor:
    """P(anomaly) of each row of ``x`` under ``detector``, as a (n,) tensor on ``x``'s device.

    Dispatches to the detector's torch hot path ``anomaly_proba_torch`` when it has one (no
    validation, no device round trip); otherwise calls ``predict_proba`` on numpy and takes column 1.
    """
    fast = getattr(detector, "anomaly_proba_torch", None)
    if fast is not None:
        return fast(x).reshape(-1)
    proba = detector.predict_proba(x.detach().cpu().numpy())
    return torch.as_tensor(np.asarray(proba)[:, 1], dtype=x.dtype, device=x.device)


def miss_probability(detector: Any, x: torch.Tensor) -> torch.Tensor:
    """1 - P(anomaly): how likely the detector is to miss each synthetic anomaly."""
    return 1.0 - anomaly_probability(detector, x)


class KNNEntropyGain:
    """Incremental k-NN (Kozachenko-Leonenko style) entropy gain of an anomaly set.

    The Kozachenko-Leonenko estimator of differential entropy is, up to constants,
    ``(d / n) * sum_i log eps_k(i)``, where ``eps_k(i)`` is the distance from point ``i`` to its k-th
    nearest neighbour. A new point ``x`` therefore raises the estimate by about ``log eps(x)`` relative
    to the set's typical spacing. The gain used here is

        gain(x) = log(1 + eps(x) / rho),   eps(x) = geometric mean of the distances from x to its
                                            k nearest members of the set,
                                            rho    = median of the same quantity over the set's members
                                                     (leave-one-out), the typical spacing.

    Properties: ``gain >= 0``; an exact duplicate of a member has a zero nearest distance, so its
    geometric mean and its gain are exactly 0; a point at the typical spacing earns ``log 2``; the gain
    grows like ``log(distance)`` for far points (diversity pays, but with diminishing returns, so it
    cannot swamp the miss probability). The set itself is not updated per step (that would make the
    reward depend on history); it grows when kept synthetic anomalies are added with :meth:`add`.

    Args:
        anomalies: (m, d) initial anomaly set (labeled training anomalies); may be empty.
        k: Number of neighbours (capped by the set size).
        device: Torch device of the stored set.
    """

    def __init__(self, anomalies: np.ndarray | torch.Tensor, k: int = 3, device: str | torch.device = "cpu"):
        if int(k) < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        self.k = int(k)
        self.device = torch.device(device)
        self.points = torch.as_tensor(np.asarray(anomalies, dtype=np.float32), device=self.device)
        if self.points.ndim != 2:
            raise ValueError(f"anomalies must be a 2-D array, got shape {tuple(self.points.shape)}")
        self._refresh_scale()

    @property
    def size(self) -> int:
        """Number of points in the anomaly set."""
        return int(self.points.shape[0])

    def add(self, samples: np.ndarray | torch.Tensor) -> None:
        """Adds samples (e.g. kept synthetic anomalies) to the set and re-estimates the spacing."""
        new = torch.as_tensor(np.asarray(samples, dtype=np.float32), device=self.device).reshape(
            -1, self.points.shape[1]
        )
        self.points = torch.cat([self.points, new], dim=0)
        self._refresh_scale()

    def _refresh_scale(self) -> None:
        m = self.size
        if m < 2:
            # One point or none: no spacing to measure; unit scale (features are MinMax-scaled).
            self.rho = 1.0
            return
        dist = torch.cdist(self.points, self.points, compute_mode=_EXACT)
        dist.fill_diagonal_(float("inf"))
        k = min(self.k, m - 1)
        near = dist.topk(k, dim=1, largest=False).values
        geo = torch.exp(torch.log(near.clamp_min(1e-12)).mean(dim=1))
        rho = float(geo.median())
        # Duplicated training anomalies would give rho = 0; fall back to the mean, then to 1.
        self.rho = rho if rho > 1e-9 else (float(geo.mean()) if float(geo.mean()) > 1e-9 else 1.0)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """Gain of each row of ``x`` (n, d) if it joined the set; (n,) tensor on ``x``'s device."""
        if self.size == 0:
            return torch.full((x.shape[0],), float(np.log(2.0)), dtype=x.dtype, device=x.device)
        k = min(self.k, self.size)
        near = torch.cdist(x, self.points, compute_mode=_EXACT).topk(k, dim=1, largest=False).values
        # log(0) = -inf -> geometric mean 0 for an exact duplicate, gain exactly 0.
        eps = torch.exp(torch.log(near).mean(dim=1))
        return torch.log1p(eps / self.rho)


# --------------------------------------------------------------------------------------------- named terms
class RewardTerm:
    """One named reward term, a function of decoded synthetic anomalies ``x`` and their P(anomaly) ``p``.

    Every term maps to roughly [0, 1] (the entropy gain to [0, ~log(1 + distance))) and is computed
    on a batch in one pass. ``smooth`` is a differentiable surrogate with the same ordering, used by
    the ``gradient`` policy; ``refresh`` runs after every detector update, ``add_anomalies`` when
    synthetic anomalies are kept. Subclasses register themselves in :data:`REWARD_TERMS` by ``name``.

    Args:
        normals: (m, d) reference normal rows (the env's unlabeled training rows, subsampled).
        anomalies: (a, d) labeled training anomalies.
        k: Neighbours of the k-NN based terms.
        device: Torch device.
    """

    name: str = ""
    decays: bool = False
    """Whether the term's weight shrinks by ``entropy_decay`` per detector round."""

    def __init__(self, normals: torch.Tensor, anomalies: torch.Tensor, k: int, device: torch.device) -> None:
        self.normals, self.anomalies, self.k, self.device = normals, anomalies, int(k), device

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.name:
            REWARD_TERMS[cls.name] = cls

    def refresh(self, detector: Any) -> None:
        """Re-reads what the term needs from a new detector."""

    def add_anomalies(self, samples: torch.Tensor) -> None:
        """Takes note of kept synthetic anomalies."""

    def __call__(self, x: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def smooth(self, x: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
        """Differentiable surrogate (default: the term itself, when it is differentiable)."""
        return self(x, p)


REWARD_TERMS: dict[str, type[RewardTerm]] = {}
"""Term name -> class. Adding a term = one subclass here (plus its test)."""


def _share_below(sorted_ref: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
    """Share of ``sorted_ref`` strictly below each value (an empirical CDF), in [0, 1]."""
    below = torch.searchsorted(sorted_ref, values.contiguous(), side="left")
    return below.to(values.dtype) / sorted_ref.numel()


def _soft_share_below(ref: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
    """Differentiable :func:`_share_below`: a sigmoid step whose width is a tenth of ref's spread."""
    width = (ref.std() * 0.1).clamp_min(1e-6)
    return torch.sigmoid((values[:, None] - ref[None, :]) / width).mean(dim=1)


def _logit(p: torch.Tensor) -> torch.Tensor:
    p = p.clamp(1e-12, 1.0 - 1e-7)
    return torch.log(p) - torch.log1p(-p)


class MissRank(RewardTerm):
    """``miss``: the share of reference normal rows the detector finds at least as anomalous as ``x``.

    1 when ``x`` looks more normal to the detector than every normal row, 0 when it looks more
    anomalous than all of them. A rank, not a probability: it stays informative when a detector
    trained on few labels gives P(anomaly) near 0 to everything (la = 0.1), where ``1 - P`` saturates
    at ~0.99 for any action.
    """

    name = "miss"

    def refresh(self, detector: Any) -> None:
        with torch.inference_mode():
            ref = anomaly_probability(detector, self.normals) if len(self.normals) else self.normals[:0, 0]
        self.ref_logits = torch.sort(_logit(ref.float())).values
        if self.ref_logits.numel() == 0:
            self.ref_logits = torch.zeros(1, device=self.device)

    def __call__(self, x: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
        return 1.0 - _share_below(self.ref_logits.to(p.dtype), _logit(p))

    def smooth(self, x: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
        return 1.0 - _soft_share_below(self.ref_logits.to(p.dtype), _logit(p))


class MissProbability(RewardTerm):
    """``miss_proba``: the calibrated ``1 - P(anomaly | x)`` of the paper (saturates at low la)."""

    name = "miss_proba"

    def __call__(self, x: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
        return 1.0 - p


class NoveltyRank(RewardTerm):
    """``novelty``: how unusual ``x`` is among the normal rows, as a rank in [0, 1].

    ``x``'s distance to its k-th nearest reference normal, ranked among the normals' own
    (leave-one-out) k-th neighbour distances: about 0.5 for a typical normal row, 1 beyond all of
    them. It stops "evasion by being normal": a normal-looking row labeled anomalous would poison
    training, and earns little here.
    """

    name = "novelty"

    def __init__(self, normals: torch.Tensor, anomalies: torch.Tensor, k: int, device: torch.device) -> None:
        super().__init__(normals, anomalies, k, device)
        m = len(normals)
        self.k = max(1, min(self.k, m - 1))
        if m < 2:
            self.loo = torch.zeros(1, device=device)
            return
        dist = torch.cdist(normals, normals, compute_mode=_EXACT)
        dist.fill_diagonal_(float("inf"))
        self.loo = torch.sort(dist.topk(self.k, dim=1, largest=False).values[:, -1]).values

    def _kth_distance(self, x: torch.Tensor) -> torch.Tensor:
        if len(self.normals) == 0:
            return x.new_zeros(x.shape[0])
        near = torch.cdist(x, self.normals.to(x.dtype)).topk(self.k, dim=1, largest=False).values
        return near[:, -1]

    def __call__(self, x: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
        return _share_below(self.loo.to(x.dtype), self._kth_distance(x))

    def smooth(self, x: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
        return _soft_share_below(self.loo.to(x.dtype), self._kth_distance(x))


class EntropyTerm(RewardTerm):
    """``entropy``: the k-NN entropy gain of the anomaly set (labeled + kept) if ``x`` joined it.

    See :class:`KNNEntropyGain`. Its weight decays by ``entropy_decay`` per detector round.
    """

    name = "entropy"
    decays = True

    def __init__(self, normals: torch.Tensor, anomalies: torch.Tensor, k: int, device: torch.device) -> None:
        super().__init__(normals, anomalies, k, device)
        self.gain = KNNEntropyGain(anomalies.cpu().numpy(), k=k, device=device)

    def add_anomalies(self, samples: torch.Tensor) -> None:
        self.gain.add(samples)

    def __call__(self, x: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
        return self.gain(x)

    def smooth(self, x: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
        k = min(self.gain.k, self.gain.size)
        if k == 0:
            return x.new_full((x.shape[0],), float(np.log(2.0)))
        near = torch.cdist(x, self.gain.points).topk(k, dim=1, largest=False).values
        return torch.log1p(torch.exp(torch.log(near.clamp_min(1e-6)).mean(dim=1)) / self.gain.rho)


DEFAULT_REWARD_WEIGHTS: dict[str, float] = {"miss": 1.0, "novelty": 1.0, "entropy": 0.5}
"""The default ``reward_weights`` of ``SwiftHydra-v0`` (see :class:`Reward`)."""


def check_reward_weights(weights: dict[str, float]) -> dict[str, float]:
    """Validated ``{term: weight}``: known names, finite non-negative weights, at least one positive."""
    unknown = sorted(set(weights) - set(REWARD_TERMS))
    if unknown:
        raise ValueError(f"unknown reward term(s) {unknown}; choose from {sorted(REWARD_TERMS)}")
    clean = {name: float(w) for name, w in weights.items()}
    bad = {name: w for name, w in clean.items() if not (np.isfinite(w) and w >= 0.0)}
    if bad:
        raise ValueError(f"reward weights must be finite and >= 0, got {bad}")
    if not any(w > 0 for w in clean.values()):
        raise ValueError(f"at least one reward weight must be > 0, got {clean}")
    return clean


class Reward:
    """The Swift Hydra reward, defined once: ``sum_i w_i(round) * term_i(x)``.

    ``w_i(round) = weights[i] * entropy_decay ** round`` for decaying terms (the entropy gain), else
    ``weights[i]``. Terms with weight 0 are not computed. Used by the single env, the vector env,
    the ``gradient`` policy (:meth:`smooth`) and the top-l selection (:meth:`select`).

    Args:
        weights: ``{term name: weight}``, names from :data:`REWARD_TERMS`.
        normals: (m, d) float32 reference normal rows.
        anomalies: (a, d) float32 labeled anomalies.
        k: Neighbours of the k-NN terms.
        decay: Per-round factor of the decaying terms' weights.
        device: Torch device.
    """

    def __init__(
        self,
        weights: dict[str, float],
        normals: np.ndarray,
        anomalies: np.ndarray,
        *,
        k: int = 3,
        decay: float = 1.0,
        device: str | torch.device = "cpu",
    ) -> None:
        self.base_weights = {n: w for n, w in check_reward_weights(weights).items() if w > 0}
        self.decay = float(decay)
        device = torch.device(device)
        ref = torch.as_tensor(np.asarray(normals, dtype=np.float32), device=device)
        anom = torch.as_tensor(np.asarray(anomalies, dtype=np.float32), device=device).reshape(
            -1, ref.shape[1]
        )
        self.terms = {name: REWARD_TERMS[name](ref, anom, k, device) for name in self.base_weights}
        self.round = 0

    def weights(self) -> dict[str, float]:
        """The effective weight of every active term at the current round."""
        return {
            name: w * (self.decay**self.round if self.terms[name].decays else 1.0)
            for name, w in self.base_weights.items()
        }

    def refresh(self, detector: Any, detector_round: int) -> None:
        """After a detector update: terms re-read the detector, decaying weights move to ``detector_round``."""
        self.round = int(detector_round)
        for term in self.terms.values():
            term.refresh(detector)

    def add_anomalies(self, samples: np.ndarray) -> None:
        """Kept synthetic anomalies join the anomaly set (entropy gain)."""
        x = torch.as_tensor(np.asarray(samples, dtype=np.float32))
        if x.numel():
            for term in self.terms.values():
                term.add_anomalies(x)

    def __call__(self, x: torch.Tensor, p: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """``(reward, {term: value})`` of a batch; all (n,) tensors."""
        values = {name: term(x, p) for name, term in self.terms.items()}
        return self.combine(values), values

    def combine(self, values: dict[str, torch.Tensor]) -> torch.Tensor:
        """The weighted sum of term values (the reward)."""
        weights = self.weights()
        return sum(weights[name] * value for name, value in values.items())

    def smooth(self, x: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
        """Differentiable surrogate of the reward (same weights), for gradient-based generation."""
        return self.combine({name: term.smooth(x, p) for name, term in self.terms.items()})

    def select(
        self, samples: np.ndarray, rewards: np.ndarray, values: dict[str, np.ndarray], top_l: int
    ) -> np.ndarray:
        """Indices of ``top_l`` candidates, best first, picked greedily so that they spread.

        Each pick maximises the reward in which the entropy gain counts the candidates already
        picked as part of the anomaly set (a near-copy of a pick earns no diversity); without an
        entropy term this is the plain top-l by reward.

        Args:
            samples: (n, d) candidates.
            rewards: (n,) their rewards (as computed by :meth:`__call__`).
            values: their term values (as returned by :meth:`__call__`, on numpy).
            top_l: How many to pick.
        """
        n = len(samples)
        top_l = min(int(top_l), n)
        term = self.terms.get("entropy")
        weight = self.weights().get("entropy", 0.0)
        if term is None or weight == 0.0 or top_l == 0:
            return np.argsort(-np.asarray(rewards), kind="stable")[:top_l]
        rest = np.asarray(rewards, dtype=np.float64) - weight * np.asarray(
            values["entropy"], dtype=np.float64
        )
        x = torch.as_tensor(np.asarray(samples, dtype=np.float32), device=term.gain.device)
        gain = KNNEntropyGain.__new__(KNNEntropyGain)
        gain.k, gain.device, gain.points, gain.rho = (
            term.gain.k,
            term.gain.device,
            term.gain.points,
            term.gain.rho,
        )
        picked: list[int] = []
        for _ in range(top_l):
            with torch.inference_mode():
                total = rest + weight * gain(x).double().cpu().numpy()
            total[picked] = -np.inf
            best = int(np.argmax(total))
            picked.append(best)
            gain.points = torch.cat([gain.points, x[best : best + 1]])
        return np.asarray(picked, dtype=np.int64)
