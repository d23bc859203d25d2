"""A label-conditional beta-VAE for tabular rows (the generator Swift Hydra's agent steers).

The label (0 = normal, 1 = anomaly) is one-hot encoded and concatenated to the encoder input and to
the decoder input, so ``decode(z, label=1)`` draws from the anomaly manifold. Data are expected
MinMax-scaled to [0, 1] on the training split; the default sigmoid output keeps decoded rows there.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from numbers import Integral, Real
from typing import Any, ClassVar

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted
from torch import nn
from torch.nn import functional as F

from detectors.persistence import read_checked, write_checked
from detectors.validation import check_features, check_targets

_N_LABELS = 2


def _mlp(sizes: Sequence[int]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=True):
        layers += [nn.Linear(fan_in, fan_out), nn.SiLU()]
    return nn.Sequential(*layers)


class _CVAENet(nn.Module):
    """Encoder ``[x, onehot(y)] -> (mu, logvar)``, decoder ``[z, onehot(y)] -> x``."""

    def __init__(self, n_features: int, latent_dim: int, hidden: tuple[int, ...], sigmoid: bool) -> None:
        super().__init__()
        self.encoder = _mlp((n_features + _N_LABELS, *hidden))
        self.to_mu = nn.Linear(hidden[-1], latent_dim)
        self.to_logvar = nn.Linear(hidden[-1], latent_dim)
        self.decoder = _mlp((latent_dim + _N_LABELS, *reversed(hidden)))
        self.to_x = nn.Linear(hidden[0], n_features)
        self.sigmoid = sigmoid

    def encode(self, x: torch.Tensor, onehot: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.encoder(torch.cat([x, onehot], dim=1))
        return self.to_mu(h), self.to_logvar(h).clamp(-10.0, 10.0)

    def decode(self, z: torch.Tensor, onehot: torch.Tensor) -> torch.Tensor:
        out = self.to_x(self.decoder(torch.cat([z, onehot], dim=1)))
        return torch.sigmoid(out) if self.sigmoid else out


class ConditionalVAE(BaseEstimator):
    """Label-conditional beta-VAE with a scikit-learn API (``get_params``/``clone``; ``NotFittedError`` before fit).

    Args:
        latent_dim: Size of the latent space.
        hidden: Hidden widths of the encoder MLP (the decoder mirrors them).
        beta: Weight of the KL term (beta-VAE).
        epochs: Passes over the training data per ``fit`` call.
        lr: Adam learning rate.
        batch_size: Minibatch size.
        max_steps_per_epoch: At most this many minibatches per epoch, so a fit's cost stops growing
            with the number of rows; None = ``ceil(n / batch_size)``.
        anomaly_weight: How labeled anomalies are up-weighted so their manifold is learned:
            ``"balanced"`` samples minibatches so both classes are drawn equally often; a float
            multiplies the anomalies' sampling weight; ``None`` samples uniformly.
        output: ``"sigmoid"`` (rows in [0, 1], for MinMax-scaled data) or ``"linear"``.
        random_state: Seeds weight initialisation and minibatch/noise draws (local generators only).
        device: Torch device.

    Attributes:
        net_: The trained torch module.
        n_features_in_: Number of features seen in ``fit``.
        loss_history_: Mean training loss (reconstruction + beta * KL) per epoch, across fits.

    Raises:
        InvalidParameterError: From ``fit``, before any training, for an impossible setting (a
            ``ValueError`` naming the parameter).
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "latent_dim": [Interval(Integral, 1, None, closed="left")],
        "hidden": [tuple, list],  # each width is checked in _check_params
        "beta": [Interval(Real, 0, None, closed="left")],
        "epochs": [Interval(Integral, 1, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "max_steps_per_epoch": [Interval(Integral, 1, None, closed="left"), None],
        "anomaly_weight": [StrOptions({"balanced"}), Interval(Real, 0, None, closed="left"), None],
        "output": [StrOptions({"sigmoid", "linear"})],
        "random_state": [Integral],
        "device": [str, torch.device],
    }

    def __init__(
        self,
        latent_dim: int = 8,
        hidden: Sequence[int] = (64, 64),
        beta: float = 1.0,
        epochs: int = 40,
        lr: float = 3e-3,
        batch_size: int = 128,
        max_steps_per_epoch: int | None = None,
        anomaly_weight: str | float | None = "balanced",
        output: str = "sigmoid",
        random_state: int = 0,
        device: str = "cpu",
    ) -> None:
        self.latent_dim = latent_dim
        self.hidden = hidden
        self.beta = beta
        self.epochs = epochs
        self.lr = lr
        self.batch_size = batch_size
        self.max_steps_per_epoch = max_steps_per_epoch
        self.anomaly_weight = anomaly_weight
        self.output = output
        self.random_state = random_state
        self.device = device

    # ------------------------------------------------------------------ fitting
    def _check_params(self) -> None:
        """scikit-learn's parameter constraints, then what they cannot say: the hidden widths."""
        self._validate_params()
        widths = tuple(self.hidden)
        if not widths or not all(
            isinstance(w, Integral) and not isinstance(w, bool) and w >= 1 for w in widths
        ):
            raise ValueError(
                f"hidden must be a non-empty sequence of positive integer widths, got {self.hidden!r}"
            )

    def _sampling_weights(self, y: np.ndarray) -> np.ndarray:
        weights = np.ones(len(y))
        n_anomalies = int(y.sum())
        if n_anomalies == 0 or n_anomalies == len(y) or self.anomaly_weight is None:
            return weights
        if self.anomaly_weight == "balanced":
            weights[y == 1] = (len(y) - n_anomalies) / n_anomalies
        else:
            weights[y == 1] = float(self.anomaly_weight)
        return weights

    def fit(self, X: np.ndarray, y: np.ndarray | None = None, *, warm_start: bool = False) -> ConditionalVAE:
        """Trains on ``X`` with labels ``y`` (1 = anomaly; ``None``: all normal).

        Args:
            X: (n, d) finite array, ideally MinMax-scaled to [0, 1].
            y: (n,) labels in {0, 1}.
            warm_start: Continue from the current weights instead of re-initialising.

        Returns:
            self
        """
        self._check_params()
        warm = warm_start and hasattr(self, "net_")
        X = check_features(X, estimator=self, reset=not warm).astype(np.float32)
        y = check_targets(y, len(X), require_anomaly=False)
        device = torch.device(self.device)
        if not warm:
            # A forked RNG seeds the initialisation without touching torch's global generator.
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(self.random_state)
                self.net_ = _CVAENet(X.shape[1], int(self.latent_dim), self.hidden, self.output == "sigmoid")
            self.net_.to(device)
            self.loss_history_: list[float] = []
            self._generator = torch.Generator(device="cpu").manual_seed(self.random_state)

        x_all = torch.as_tensor(X, device=device)
        onehot_all = F.one_hot(torch.as_tensor(y, device=device), _N_LABELS).float()
        probs = torch.as_tensor(self._sampling_weights(y), dtype=torch.float64)
        batch = min(int(self.batch_size), len(X))
        steps_per_epoch = max(1, int(np.ceil(len(X) / batch)))
        cap = getattr(self, "max_steps_per_epoch", None)  # VAEs saved before 0.3 lack it
        if cap is not None:
            steps_per_epoch = min(steps_per_epoch, int(cap))
        optimizer = torch.optim.Adam(self.net_.parameters(), lr=self.lr)
        self.net_.train()
        for _ in range(int(self.epochs)):
            epoch_loss = 0.0
            idx_epoch = torch.multinomial(probs, steps_per_epoch * batch, True, generator=self._generator)
            for step in range(steps_per_epoch):
                idx = idx_epoch[step * batch : (step + 1) * batch].to(device)
                x, onehot = x_all[idx], onehot_all[idx]
                mu, logvar = self.net_.encode(x, onehot)
                noise = torch.randn(mu.shape, generator=self._generator).to(device)
                z = mu + noise * torch.exp(0.5 * logvar)
                recon = ((self.net_.decode(z, onehot) - x) ** 2).sum(dim=1).mean()
                kl = (-0.5 * (1.0 + logvar - mu**2 - logvar.exp()).sum(dim=1)).mean()
                # Squared error on [0, 1] data is small next to the KL; the 1/(2 sigma^2) factor of a
                # Gaussian likelihood with sigma=0.1 keeps the latent informative (no posterior collapse).
                loss = 50.0 * recon + self.beta * kl
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                epoch_loss += float(loss.detach())
            self.loss_history_.append(epoch_loss / steps_per_epoch)
        self.net_.eval()
        return self

    # ------------------------------------------------------------------ inference
    def _check_fitted(self) -> None:
        check_is_fitted(self, "net_")

    def _onehot(self, label: int | np.ndarray, n: int) -> torch.Tensor:
        labels = np.array(np.broadcast_to(np.asarray(label, dtype=np.int64), (n,)))
        if not np.isin(labels, (0, 1)).all():
            raise ValueError(f"label must be 0 or 1, got {label!r}")
        return F.one_hot(torch.as_tensor(labels, device=self.device), _N_LABELS).float()

    def encode(self, X: np.ndarray, label: int | np.ndarray = 1) -> tuple[np.ndarray, np.ndarray]:
        """Encoder mean and log-variance of ``X`` under ``label`` (scalar or per row)."""
        self._check_fitted()
        X = check_features(X, estimator=self, reset=False).astype(np.float32)
        with torch.inference_mode():
            mu, logvar = self.net_.encode(torch.as_tensor(X, device=self.device), self._onehot(label, len(X)))
        return mu.cpu().numpy(), logvar.cpu().numpy()

    def decode(self, z: np.ndarray, label: int | np.ndarray = 1) -> np.ndarray:
        """Decodes latents ``z`` (n, latent_dim) under ``label``; numpy in, numpy out."""
        self._check_fitted()
        z = np.asarray(z, dtype=np.float32)
        if z.ndim != 2 or z.shape[1] != self.latent_dim or not np.isfinite(z).all():
            raise ValueError(f"z must be finite with shape (n, {self.latent_dim}), got {z.shape}")
        with torch.inference_mode():
            x = self.net_.decode(torch.as_tensor(z, device=self.device), self._onehot(label, len(z)))
        return x.cpu().numpy()

    def decode_torch(self, z: torch.Tensor, label: int = 1) -> torch.Tensor:
        """Hot path: decodes a trusted (n, latent_dim) tensor on the VAE's device, no validation.

        Differentiable; call under ``torch.inference_mode()`` when no gradient is needed.
        """
        net = self.__dict__.get("net_")  # a dict lookup, not the full fitted check: this is the hot path
        if net is None:
            self._check_fitted()
        onehot = self._label_rows(label).expand(z.shape[0], _N_LABELS)
        return net.decode(z, onehot)

    def _label_rows(self, label: int) -> torch.Tensor:
        cache = self.__dict__.setdefault("_onehot_cache", {})
        if label not in cache:
            cache[label] = F.one_hot(torch.tensor([label], device=self.device), _N_LABELS).float()
        return cache[label]

    # ------------------------------------------------------------------ persistence
    def save(self, path: str | os.PathLike) -> None:
        """Writes hyperparameters, weights and loss history atomically, with a SHA-256 of them.

        The file format is the detectors' (`detectors.persistence`): loadable with
        ``weights_only=True``, and a file damaged later raises `detectors.DamagedFileError` on load.
        """
        self._check_fitted()
        payload = {
            "class": type(self).__name__,
            "params": self.get_params(deep=False),
            "n_features_in": int(self.n_features_in_),
            "loss_history": [float(v) for v in self.loss_history_],
            "state_dict": {k: v.detach().cpu() for k, v in self.net_.state_dict().items()},
        }
        write_checked(payload, path, kind=type(self).__name__)

    @classmethod
    def load(cls, path: str | os.PathLike, device: str | None = None) -> ConditionalVAE:
        """Reads a file written by :meth:`save` (verified, then torch ``weights_only`` loading).

        Files saved before the checksum load with a ``UserWarning``.

        Raises:
            FileNotFoundError: Nothing at ``path``.
            DamagedFileError: The file's bytes changed after it was saved.
            ValueError: Not a saved ConditionalVAE.
        """
        payload = read_checked(path, what="ConditionalVAE", legacy_keys=("params", "state_dict"))
        if payload.get("class", cls.__name__) != cls.__name__:
            raise ValueError(f"not a saved ConditionalVAE: {path} (holds a {payload['class']})")
        params = dict(payload["params"])
        if device is not None:
            params["device"] = device
        vae = cls(**params)
        vae.net_ = _CVAENet(
            payload["n_features_in"], int(vae.latent_dim), vae.hidden, vae.output == "sigmoid"
        ).to(vae.device)
        vae.net_.load_state_dict(payload["state_dict"])
        vae.net_.eval()
        vae.n_features_in_ = payload["n_features_in"]
        vae.loss_history_ = list(payload["loss_history"])
        vae._generator = torch.Generator(device="cpu").manual_seed(vae.random_state)
        return vae
