"""``value`` and ``value_unseen``: what a synthetic anomaly is worth to a detector, on every env step.

"Value" means one thing in this project: the gain of a detector on held-out labeled rows of the
training split when a row joins its fit. Refitting a detector per env step is out of reach, so these
terms measure it on a proxy whose gain has a closed form, from the rows the env was given and
nothing else (the env never sees validation or test rows):

* **Proxy.** Per fold ``f``, an L2-regularised logistic regression ``s_f(x) = theta_f . phi(x)`` on
  label-free features ``phi(x) = [z(x), c(x), 1]``: ``z`` is ``x`` standardised on the term's rows
  and rotated onto their principal axes (at most ``MAX_COMPONENTS``; with ``d <= MAX_COMPONENTS``
  that is a rotation, which the L2 penalty does not see), ``c`` the standardised log of the mean
  distance to the ``k`` nearest normals (leave-one-out for the normals themselves), so a linear
  proxy can still say "far from the normal data is anomalous". The fold's fit: the normals outside
  chunk ``f`` (weight ``1 / (2 m_f)`` each), the labeled anomalies outside fold ``f`` (``u_f =
  1 / (2 max(a_f, 1))`` each) and every kept synthetic anomaly (``u_f * min(1, max(a_f, 1) / s)``
  each: together at most the labeled anomalies' weight, as in the deployment fit).
* **Held-out objective.** A smooth AUC: the mean pairwise logistic loss ``L_f = mean log(1 +
  exp(-(s_f(a) - s_f(n))))`` over the labeled anomalies of fold ``f`` and the normals of chunk ``f``.
  Cross-fitted: every labeled anomaly (and every normal) is held out exactly once.
* **Value of a candidate** ``x`` labeled anomalous (weight ``u_f``: one more labeled anomaly): the
  decrease of ``L_f`` after one Newton step of fold ``f``'s fit with ``x`` added (Pregibon's 1981
  one-step estimate, the influence function of Koh and Liang 2017 with the row's own curvature)::

      delta_f(x) = c_f(x) * H_f^-1 phi(x),   c_f(x) = u_f * (1 - q) / (1 + u_f * q * (1 - q) * phi' H_f^-1 phi)
      value_f(x) = L_f(theta_f) - L_f(theta_f + delta_f(x)),   q = sigmoid(s_f(x))

  with ``H_f`` the Hessian of fold ``f``'s fit objective. The held-out loss is evaluated exactly at
  the moved parameters (not linearised): on four ADBench sets at la = 0.1 the plain first-order
  estimate ``-grad L_f . delta_f`` ranked 40 candidates like an exact refit of the proxies with
  Spearman 0.33-0.93, this one with 0.63-0.98 (``research/probes/value/first_order.py``).
  ``theta_f``, ``H_f^-1`` and the held-out scores are cached when the term is built and when rows
  are kept, so a step costs ``phi(x)`` (one k-NN distance to the normals, like ``novelty``), one
  (n, p) x (p, p) product per fold and the (n, a_f, m_f) pairwise losses of the held-out rows. The
  raw value is the mean over folds; ``> 0`` means the row should raise the proxy's held-out AUC.
* **Twins.** The mean skips the fold that holds out the row's nearest labeled anomaly (its twin), and
  a kept row stays out of that fold's fit: the generator made its rows from every labeled anomaly, so
  a near-copy of a held-out anomaly would make it easy and score its own ease as value (oversampling
  before cross-validation). Without this rule near-copies were the most valuable rows on every set
  with more than six labels, +0.4 to +1.1 units, above the anomalies the labels hide
  (``research/probes/value/twins.py``); the value gate applies the same rule. With a single labeled
  anomaly no fold is left and the term is 0.5 everywhere: no evidence is independent of the source.
* **Scale.** ``term = (1 + tanh(value / scale)) / 2`` in (0, 1): 0.5 = no effect; ``scale`` is the
  mean ``|value|`` of the labeled anomalies themselves taken as candidates, so a synthetic row worth
  as much as a typical real labeled anomaly earns ``(1 + tanh 1) / 2 = 0.88``. Helpful rows spread
  over (0.5, 1); a row that hurts as much as a labeled anomaly helps earns 0.12, and a normal-looking
  row (which hurts far more) about 0.

``value`` draws ``min(VALUE_FOLDS, a)`` random folds of the labeled anomalies; ``value_unseen`` holds
out k-means groups of them instead (``min(UNSEEN_GROUPS, distinct anomalies)`` groups, as the
exposure gate groups them), so it pays for rows that help on a kind of anomaly the proxy never saw.

Kept rows (``add_anomalies``) join every fold's fit and the proxies are refitted (warm-started
Newton), so the value is marginal to what the loop has already kept: a copy of a kept row is worth
less than the first. ``refresh`` has nothing to do: the proxy does not depend on the env's detector
(that is the ``miss`` term's job). Folds and groups are drawn with a fixed seed (``VALUE_SEED``), so
the term is a deterministic function of its rows. Without a labeled anomaly or a normal row there is
no held-out AUC; the term is then 0.5 everywhere.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch

from hydra_env.rewards import RewardTerm

VALUE_FOLDS = 5
"""Random folds of the labeled anomalies of the ``value`` term (fewer with fewer anomalies)."""
UNSEEN_GROUPS = 4
"""k-means groups of the labeled anomalies of ``value_unseen`` (as ``agents.exposure``'s gate)."""
VALUE_L2 = 0.05
"""L2 penalty of the proxy (the fit's row weights sum to about 1; the intercept is not penalised)."""
MAX_COMPONENTS = 64
"""At most this many principal axes of the standardised rows are the proxy's raw-feature columns."""
VALUE_SEED = 0
"""Seed of the folds, the normals' chunks and the k-means groups."""
NEWTON_STEPS = 50
_TOL = 1e-9
_CHUNK_PAIRS = 1 << 22


class _FeatureMap:
    """Label-free ``phi(x) = [z(x), c(x), 1]`` (see the module docstring); differentiable in ``x``."""

    def __init__(self, normals: torch.Tensor, anomalies: torch.Tensor, k: int) -> None:
        rows = torch.cat([normals, anomalies])
        if len(rows) == 0:  # nothing to standardise on (the term is then constant anyway)
            rows = normals.new_zeros(1, normals.shape[1])
        self.mu = rows.mean(dim=0)
        sd = rows.std(dim=0, correction=0)
        self.sd = torch.where(sd > 1e-8, sd, torch.ones_like(sd))
        z = (rows - self.mu) / self.sd
        axes = torch.linalg.svd(z, full_matrices=False).Vh[:MAX_COMPONENTS]
        self.axes = axes.T.contiguous()  # (d, r)
        self.normals = normals
        self.k = max(1, min(int(k), len(normals) - 1))
        if len(normals) >= 2:
            dist = torch.cdist(normals, normals)
            dist.fill_diagonal_(float("inf"))
            loo = self._log_knn(dist)
        else:
            loo = normals.new_zeros(len(normals))
        self.c_mu = loo.mean() if len(loo) else normals.new_zeros(())
        c_sd = loo.std(correction=0) if len(loo) else normals.new_ones(())
        self.c_sd = c_sd if float(c_sd) > 1e-8 else torch.ones_like(c_sd)
        self.normal_features = self._assemble(normals, loo)  # the normals' own, leave-one-out
        self._cast: dict[torch.dtype, tuple[torch.Tensor, ...]] = {}

    def _log_knn(self, dist: torch.Tensor) -> torch.Tensor:
        near = dist.topk(self.k, dim=1, largest=False).values
        return torch.log(near.mean(dim=1) + 1e-6)

    def _assemble(self, x: torch.Tensor, log_knn: torch.Tensor, params: tuple | None = None) -> torch.Tensor:
        mu, sd, axes, c_mu, c_sd = params or (self.mu, self.sd, self.axes, self.c_mu, self.c_sd)
        z = ((x - mu) / sd) @ axes
        c = (log_knn - c_mu) / c_sd
        return torch.cat([z, c[:, None], torch.ones_like(c)[:, None]], dim=1)

    @property
    def width(self) -> int:
        return self.axes.shape[1] + 2

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """``phi`` of rows ``x`` (n, d) in ``x``'s dtype (parameters cast once per dtype)."""
        params = self._cast.get(x.dtype)
        if params is None:
            with _plain_tensors():
                params = (self.mu, self.sd, self.axes, self.c_mu, self.c_sd, self.normals)
                params = self._cast[x.dtype] = tuple(t.to(x.dtype) for t in params)
        normals = params[5]
        if len(normals) == 0:
            log_knn = x.new_zeros(x.shape[0])
        else:
            log_knn = self._log_knn(torch.cdist(x, normals))
        return self._assemble(x, log_knn, params[:5])


@contextlib.contextmanager
def _plain_tensors() -> Iterator[None]:
    """No autograd, but plain tensors even inside ``inference_mode``.

    What the term caches is used by ``smooth`` with gradients too, and inference tensors cannot be
    saved for backward; so caches are built outside inference mode, whoever calls first.
    """
    with torch.inference_mode(False), torch.no_grad():
        yield


def _chunks(n: int, k: int, generator: torch.Generator) -> torch.Tensor:
    """A random assignment of ``n`` rows to ``k`` chunks of equal size (+-1)."""
    out = torch.empty(n, dtype=torch.long)
    out[torch.randperm(n, generator=generator)] = torch.arange(n) % k
    return out


def _padded(blocks: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """(K, max rows, p) zero-padded stack of ``blocks`` and its (K, max rows) 0/1 row mask."""
    rows = max(len(b) for b in blocks)
    out = blocks[0].new_zeros(len(blocks), rows, blocks[0].shape[1])
    mask = blocks[0].new_zeros(len(blocks), rows)
    for i, block in enumerate(blocks):
        out[i, : len(block)], mask[i, : len(block)] = block, 1.0
    return out, mask


class ValueTerm(RewardTerm):
    """``value``: the one-step gain in held-out AUC of a cross-fitted proxy if ``x`` joined its fit.

    See the module docstring for the proxy, the folds, the estimate and its scale.
    """

    name = "value"

    def __init__(self, normals: torch.Tensor, anomalies: torch.Tensor, k: int, device: torch.device) -> None:
        super().__init__(normals, anomalies, k, device)
        with _plain_tensors():
            self._normals = normals.detach().to(device=device, dtype=torch.float64)
            self._anomalies = anomalies.detach().to(device=device, dtype=torch.float64)
            self.kept = self._anomalies[:0]
            self.features = _FeatureMap(self._normals, self._anomalies, k)
            self._phi_normals = self.features.normal_features
            self._phi_anomalies = self.features(self._anomalies)
            self._phi_kept = self._phi_anomalies[:0]
            self.anomaly_fold = self.anomaly_folds(self._anomalies.cpu().numpy()).to(device)
            n_folds = int(self.anomaly_fold.max()) + 1 if len(self.anomaly_fold) else 0
            generator = torch.Generator().manual_seed(VALUE_SEED)
            self.normal_chunk = _chunks(len(self._normals), max(n_folds, 2), generator).to(device)
            self.folds = [
                f for f in range(n_folds)
                if bool((self.anomaly_fold == f).any()) and bool((self.normal_chunk == f).any())
            ]  # fmt: skip
            self.theta: torch.Tensor | None = None
            self._fit()

    # ------------------------------------------------------------------ folds
    def anomaly_folds(self, anomalies: np.ndarray) -> torch.Tensor:
        """Fold of each labeled anomaly: ``min(VALUE_FOLDS, a)`` random folds of equal size."""
        a = len(anomalies)
        if a == 0:
            return torch.zeros(0, dtype=torch.long)
        return _chunks(a, min(VALUE_FOLDS, a), torch.Generator().manual_seed(VALUE_SEED + 1))

    # ------------------------------------------------------------------ the proxies
    def rows(self) -> dict[str, np.ndarray]:
        """Every row the proxies are fitted and scored on: ``normals``, ``anomalies`` (labeled), ``kept``."""
        return {
            "normals": self._normals.cpu().numpy(),
            "anomalies": self._anomalies.cpu().numpy(),
            "kept": self.kept.cpu().numpy(),
        }

    def _design(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Stacked ``phi``, labels and per-fold row weights (K, n) of the current fit rows."""
        phi = torch.cat([self._phi_normals, self._phi_anomalies, self._phi_kept])
        m, a = len(self._phi_normals), len(self._phi_anomalies)
        y = torch.cat([phi.new_zeros(m), phi.new_ones(a + len(self._phi_kept))])
        fit_n = self._outside_fold(self.normal_chunk).to(phi.dtype)  # (K, m)
        fit_a = self._outside_fold(self.anomaly_fold).to(phi.dtype)  # (K, a)
        fit_s = self.twin_mask(self.kept).T.to(phi.dtype)  # (K, s): a kept row stays out of its twin's fold
        a_f = fit_a.sum(dim=1).clamp_min(1.0)
        self.unit = 1.0 / (2.0 * a_f)  # weight of one labeled anomaly in fold f's fit
        s_f = fit_s.sum(dim=1).clamp_min(1.0)
        kept_w = fit_s * (self.unit * (a_f / s_f).clamp(max=1.0))[:, None]
        weights = torch.cat(
            [fit_n / (2.0 * fit_n.sum(dim=1, keepdim=True)), fit_a * self.unit[:, None], kept_w], 1
        )
        return phi, y, weights

    def _outside_fold(self, fold_of_row: torch.Tensor) -> torch.Tensor:
        """(K, n) True where a row (of fold ``fold_of_row``) joins fold ``f``'s fit, for each of :attr:`folds`."""
        folds = torch.as_tensor(self.folds, device=fold_of_row.device)
        return fold_of_row[None, :] != folds[:, None]

    def twin_mask(self, x: torch.Tensor) -> torch.Tensor:
        """(n, K) True for the folds that may credit each row: all but the one holding out its twin.

        A row's twin is its nearest labeled anomaly (Euclidean). The generator drew its rows from every
        labeled anomaly, so a near-copy of a held-out anomaly would make that anomaly easy and score its
        own ease as value (oversampling before cross-validation; the value gate's rule,
        :mod:`agents.value_gate`). With one labeled anomaly no fold is left: no evidence is independent
        of the row's source.
        """
        if len(x) == 0 or len(self._anomalies) == 0:
            return torch.ones(len(x), len(self.folds), dtype=torch.bool, device=self.device)
        with torch.no_grad():
            twin = torch.cdist(x.detach().to(self._anomalies.dtype), self._anomalies).argmin(dim=1)
        return self._outside_fold(self.anomaly_fold[twin]).T

    def _fit(self) -> None:
        """Fits every fold's proxy (Newton, warm start), then caches what a step needs and the scale."""
        if not self.folds:
            self.theta = None
            return
        phi, y, w = self._design()
        k, p = w.shape[0], phi.shape[1]
        reg = phi.new_full((p,), VALUE_L2)
        reg[-1] = 1e-8
        theta = self.theta if self.theta is not None else phi.new_zeros(k, p)
        for _ in range(NEWTON_STEPS):
            hessian, grad = self._newton_terms(phi, y, w, theta, reg)
            step = torch.cholesky_solve(grad[..., None], torch.linalg.cholesky(hessian))[..., 0]
            theta = theta - step
            if float(step.abs().max()) < _TOL:
                break
        hessian, _ = self._newton_terms(phi, y, w, theta, reg)
        self.theta, self.hessian = theta, hessian
        held_a, mask_a = _padded([self._phi_anomalies[self.anomaly_fold == f] for f in self.folds])
        held_n, mask_n = _padded([self._phi_normals[self.normal_chunk == f] for f in self.folds])
        margin = (held_a @ theta[:, :, None]) - (held_n @ theta[:, :, None]).transpose(1, 2)  # (K, a, m)
        pair_w = mask_a[:, :, None] * mask_n[:, None, :]
        pair_w = pair_w / pair_w.sum(dim=(1, 2), keepdim=True)
        self._params = {
            torch.float64: (
                theta.T.contiguous(),
                torch.cholesky_inverse(torch.linalg.cholesky(hessian)),
                self.unit,
                held_a.transpose(1, 2).contiguous(),  # (K, p, a)
                held_n.transpose(1, 2).contiguous(),  # (K, p, m)
                margin,
                pair_w,
                torch.nn.functional.softplus(-margin),
            )
        }
        # The unit: the mean |value| of the labeled anomalies themselves (else of the normals, else 1).
        scale = float(self._allowed_mean(self._chunked(self._phi_anomalies), self._anomalies).abs().mean())
        if not (np.isfinite(scale) and scale > 1e-12):
            scale = float(self._allowed_mean(self._chunked(self._phi_normals), self._normals).abs().mean())
        self.scale = scale if np.isfinite(scale) and scale > 1e-12 else 1.0

    @staticmethod
    def _newton_terms(phi, y, w, theta, reg) -> tuple[torch.Tensor, torch.Tensor]:
        q = torch.sigmoid(phi @ theta.T)  # (n, K)
        grad = ((q - y[:, None]) * w.T).T @ phi + reg * theta
        curvature = (q * (1.0 - q) * w.T).T  # (K, n)
        hessian = (phi.T[None] * curvature[:, None, :]) @ phi + torch.diag(reg)
        return hessian, grad

    def held_out_loss(self) -> float:
        """Mean over folds of the held-out pairwise logistic loss of the current proxies (NaN without folds)."""
        if self.theta is None:
            return float("nan")
        *_, pair_w, before = self._params[torch.float64]
        return float((pair_w * before).sum(dim=(1, 2)).mean())

    def held_out_auc(self) -> float:
        """Mean over folds of the current proxies' AUC-ROC on their held-out rows (NaN without folds)."""
        if self.theta is None:
            return float("nan")
        *_, margin, pair_w, _ = self._params[torch.float64]
        wins = (margin > 0).to(margin.dtype) + 0.5 * (margin == 0).to(margin.dtype)
        return float((pair_w * wins).sum(dim=(1, 2)).mean())

    # ------------------------------------------------------------------ the term
    def _cast(self, dtype: torch.dtype) -> tuple[torch.Tensor, ...]:
        params = self._params.get(dtype)
        if params is None:
            with _plain_tensors():
                params = self._params[dtype] = tuple(t.to(dtype) for t in self._params[torch.float64])
        return params

    def _fold_values(self, phi: torch.Tensor) -> torch.Tensor:
        """(n, K) held-out loss decrease per fold after one Newton step of the fit with each row added."""
        theta_t, hinv, unit, held_a, held_n, margin, pair_w, before = self._cast(phi.dtype)
        q = torch.sigmoid(phi @ theta_t).T  # (K, n): the proxies' P(anomaly)
        moved = phi @ hinv  # (K, n, p): H_f^-1 phi(x)
        leverage = (moved * phi).sum(dim=2)
        # Sherman-Morrison: the row's own curvature damps the step (Pregibon's one-step estimate).
        coef = unit[:, None] * (1.0 - q) / (1.0 + unit[:, None] * q * (1.0 - q) * leverage)  # (K, n)
        shift_a, shift_n = coef[:, :, None] * (moved @ held_a), coef[:, :, None] * (moved @ held_n)
        after = torch.nn.functional.softplus(
            -(margin[:, None] + shift_a[:, :, :, None] - shift_n[:, :, None, :])
        )  # (K, n, a, m)
        return ((before[:, None] - after) * pair_w[:, None]).sum(dim=(2, 3)).T

    def fold_values(self, x: torch.Tensor) -> torch.Tensor:
        """(n, K) decrease of each fold's held-out pairwise loss if each row of ``x`` joined its fit.

        Rows are taken in chunks so that the pairwise (row, held-out anomaly, held-out normal) tensor
        stays below ``_CHUNK_PAIRS`` elements.
        """
        return self._chunked(self.features(x))

    def _chunked(self, phi: torch.Tensor) -> torch.Tensor:
        pairs = self._params[torch.float64][5].numel()
        step = max(1, _CHUNK_PAIRS // max(pairs, 1))
        if len(phi) <= step:
            return self._fold_values(phi)
        return torch.cat([self._fold_values(phi[i : i + step]) for i in range(0, len(phi), step)])

    def raw_value(self, x: torch.Tensor) -> torch.Tensor:
        """(n,) the unscaled value: mean of :meth:`fold_values` over the folds :meth:`twin_mask` allows.

        0 without folds, and where no fold is allowed (a single labeled anomaly).
        """
        if self.theta is None:
            return x.new_zeros(x.shape[0])
        return self._allowed_mean(self.fold_values(x), x)

    def _allowed_mean(self, fold_values: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        allowed = self.twin_mask(x).to(fold_values.dtype)
        return (fold_values * allowed).sum(dim=1) / allowed.sum(dim=1).clamp_min(1.0)

    def __call__(self, x: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
        if self.theta is None:
            return x.new_full((x.shape[0],), 0.5)
        return 0.5 * (1.0 + torch.tanh(self.raw_value(x) / self.scale))

    def smooth(self, x: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
        """Same order, gradient that does not vanish: ``(1 + u / (1 + |u|)) / 2``, ``u = value / scale``.

        ``tanh`` saturates (in float32, exactly) for rows far worse than the labeled anomalies, which
        would leave the ``gradient`` policy nothing to climb from a normal-looking start.
        """
        if self.theta is None:
            return x.new_full((x.shape[0],), 0.5)
        u = self.raw_value(x) / self.scale
        return 0.5 * (1.0 + u / (1.0 + u.abs()))

    def add_anomalies(self, samples: torch.Tensor) -> None:
        """Kept rows join every fold's fit; the proxies and the scale are refitted."""
        with _plain_tensors():
            new = (
                samples.detach()
                .to(device=self.device, dtype=torch.float64)
                .reshape(-1, self._normals.shape[1])
            )
            self.kept = torch.cat([self.kept, new])
            self._phi_kept = torch.cat([self._phi_kept, self.features(new)])
            self._fit()

    def refresh(self, detector: Any) -> None:
        """Nothing to re-read: the proxy is independent of the env's detector."""


class UnseenValueTerm(ValueTerm):
    """``value_unseen``: :class:`ValueTerm` with k-means groups of the labeled anomalies as the folds.

    Each group is held out in turn, so a row earns when it helps the proxy on a group it never saw.
    """

    name = "value_unseen"

    def anomaly_folds(self, anomalies: np.ndarray) -> torch.Tensor:
        """k-means group of each labeled anomaly (``min(UNSEEN_GROUPS, distinct rows)`` groups)."""
        from sklearn.cluster import KMeans

        a = len(anomalies)
        k = min(UNSEEN_GROUPS, len(np.unique(anomalies, axis=0))) if a else 0
        if k < 2:
            return torch.zeros(a, dtype=torch.long)
        groups = KMeans(k, n_init=10, random_state=VALUE_SEED).fit_predict(anomalies)
        return torch.as_tensor(groups, dtype=torch.long)
