"""Shared state of the single and batched Swift Hydra envs: data, VAE, detector, reward.

Both :class:`hydra_env.env.SwiftHydraEnv` and :class:`hydra_env.vector_env.SwiftHydraVectorEnv` hold
one :class:`HydraCore` and call :meth:`HydraCore.score` on a batch of latents, so the reward is
defined once. Trained components are cached in-process, keyed by the config fields that determine
them, so several envs (a vector env, tests, SB3 copies made with ``fork``) do not retrain.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from hydra_env.config import DETECTOR_CHOICES, EnvConfig
from hydra_env.rewards import Reward, anomaly_probability
from hydra_env.vae import ConditionalVAE

# data key -> (split, vae); data+detector key -> fitted default detector.
_COMPONENT_CACHE: dict[tuple, Any] = {}


def clear_cache() -> None:
    """Forgets the cached splits, VAEs and default detectors."""
    _COMPONENT_CACHE.clear()


def make_split(config: EnvConfig, X: np.ndarray | None = None, y: np.ndarray | None = None):
    """ADBench split of ``(X, y)`` or of ``config.dataset`` with ``config.la`` and ``config.seed``."""
    from hydra_env import datasets

    if X is None:
        X, y = datasets.load(config.dataset, data_dir=config.data_dir)
    elif y is None:
        raise ValueError("pass both X and y (1 = anomaly), or neither")
    return datasets.adbench_split(X, y, config.la, config.seed, name=config.dataset)


def make_vae(config: EnvConfig) -> ConditionalVAE:
    """An unfitted VAE with the config's hyperparameters."""
    return ConditionalVAE(
        latent_dim=config.latent_dim,
        hidden=config.vae_hidden,
        beta=config.vae_beta,
        epochs=config.vae_epochs,
        lr=config.vae_lr,
        batch_size=config.vae_batch_size,
        anomaly_weight=config.vae_anomaly_weight,
        random_state=config.seed,
        device=config.device,
    )


def make_detector(config: EnvConfig) -> Any:
    """An unfitted default detector: a small Mamba detector (``config.detector``)."""
    import detectors

    cls = detectors.MambaDetector if config.detector == "mamba" else detectors.MambaMoEDetector
    kwargs: dict[str, Any] = {
        "epochs": config.detector_epochs,
        "random_state": config.seed,
        "device": config.device,
    }
    kwargs.update(_SMALL_DETECTOR.get(config.detector, {}))
    kwargs.update(config.detector_kwargs)
    return cls(**kwargs)


# Small enough that ``gym.make("SwiftHydra-v0")`` trains in seconds on a CPU: one narrow layer, at most
# 8 tokens (wider rows are patched), a short scan per step.
_SMALL_DETECTOR: dict[str, dict[str, Any]] = {
    "mamba": {"d_model": 16, "n_layers": 1, "max_tokens": 8},
    "mamba_moe": {"d_model": 16, "n_layers": 1, "max_tokens": 8},
}


def detector_argument(detector: Any, config_overrides: dict[str, Any]) -> Any:
    """The envs' ``detector=`` argument: a detector object, or a family name for `EnvConfig.detector`.

    ``gym.make("SwiftHydra-v0", detector="mamba_moe")`` reaches the env's ``detector`` argument, not
    the `EnvConfig` field of the same name: a string is moved into ``config_overrides`` (so the
    config validates it) and None is returned, so the env builds that family itself.

    Raises:
        TypeError: ``detector`` is neither None, a family name, nor a detector object.
    """
    if isinstance(detector, str):
        config_overrides["detector"] = detector
        return None
    if detector is not None and not (
        hasattr(detector, "fit")
        and (hasattr(detector, "anomaly_proba_torch") or hasattr(detector, "predict_proba"))
    ):
        raise TypeError(
            f"detector must be a detector object (with fit and predict_proba or anomaly_proba_torch) or "
            f"a family name from {list(DETECTOR_CHOICES)}, got {type(detector).__name__}"
        )
    return detector


def _is_fitted(model: Any) -> bool:
    return any(name.endswith("_") and not name.startswith("_") for name in vars(model))


def build_components(
    config: EnvConfig,
    *,
    X: np.ndarray | None = None,
    y: np.ndarray | None = None,
    split: Any = None,
    detector: Any = None,
    vae: ConditionalVAE | None = None,
) -> tuple[Any, ConditionalVAE, Any]:
    """Returns ``(split, vae, detector)``, training what is missing.

    Components derived only from ``config`` are cached; a cached detector is deep-copied so that
    retraining one env's detector never changes another env's (or the cache's).
    """
    from_config = X is None and split is None
    data_key = config.components_key(detector=False)
    full_key = config.components_key()
    cached = _COMPONENT_CACHE.get(data_key) if from_config else None
    if split is None:
        split = cached[0] if cached else make_split(config, X, y)
    if vae is None:
        vae = cached[1] if cached else make_vae(config).fit(split.X_train, split.y_train)
        if from_config and not cached:
            _COMPONENT_CACHE[data_key] = (split, vae)
    elif not _is_fitted(vae):
        vae.fit(split.X_train, split.y_train)
    if vae.latent_dim != config.latent_dim:
        raise ValueError(f"the VAE has latent_dim={vae.latent_dim} but the config says {config.latent_dim}")
    if detector is None:
        cached_detector = _COMPONENT_CACHE.get(full_key) if from_config else None
        if cached_detector is None:
            cached_detector = make_detector(config).fit(split.X_train, split.y_train)
            if from_config:
                _COMPONENT_CACHE[full_key] = cached_detector
        detector = copy.deepcopy(cached_detector)
    elif not _is_fitted(detector):
        detector.fit(split.X_train, split.y_train)
    return split, vae, detector


def detector_state(detector: Any) -> Any:
    """A picklable snapshot of a detector, for :meth:`HydraCore.set_detector_state` in other processes.

    Uses the detector's own ``get_state()`` when it has one, otherwise a deep copy of the object.
    """
    getter = getattr(detector, "get_state", None)
    return getter() if getter is not None else copy.deepcopy(detector)


@dataclass
class StepResult:
    """One batched evaluation of latents (all tensors have leading dimension n)."""

    x: torch.Tensor
    p_anomaly: torch.Tensor
    reward: torch.Tensor
    terms: dict[str, torch.Tensor]
    """Unweighted value of every active reward term."""
    stats: np.ndarray
    """(2 + n_terms, n) float32 numpy copy of ``[p_anomaly, reward, *terms]`` (one device->host copy)."""

    def term_values(self) -> dict[str, np.ndarray]:
        """The terms' rows of :attr:`stats`, by name."""
        return {name: self.stats[2 + i] for i, name in enumerate(self.terms)}


REFERENCE_NORMALS = 1024
"""At most this many unlabeled training rows are the reference set of the rank-based reward terms."""


def reference_normals(split: Any, seed: int, limit: int = REFERENCE_NORMALS) -> np.ndarray:
    """A fixed subsample (``limit`` rows at most) of the split's unlabeled training rows."""
    normals = np.asarray(split.X_train[np.asarray(split.y_train) == 0], dtype=np.float32)
    if len(normals) > limit:
        normals = normals[np.random.default_rng(seed).choice(len(normals), limit, replace=False)]
    return normals


class HydraCore:
    """Data, VAE, detector and reward of one env (or one batched env)."""

    def __init__(self, config: EnvConfig, split: Any, vae: ConditionalVAE, detector: Any) -> None:
        self.config = config
        self.split = split
        self.vae = vae
        self.detector = detector
        self.device = torch.device(config.device)
        self.detector_version = 0
        self.detector_round = 0
        anomalies = np.asarray(split.X_train[np.asarray(split.y_train) == 1], dtype=np.float32)
        self.reward = Reward(
            config.reward_weights,
            reference_normals(split, config.seed),
            anomalies,
            k=config.entropy_k,
            decay=config.entropy_decay,
            device=self.device,
        )
        self.reward.refresh(detector, 0)
        self.start_latents = np.zeros((0, config.latent_dim), dtype=np.float32)
        self.refresh_start_latents()

    def initial_latents(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Encoder means of ``n`` random labeled anomalies, or prior N(0, I) draws when there are none."""
        if len(self.start_latents):
            return self.start_latents[rng.integers(0, len(self.start_latents), size=n)].copy()
        z = rng.standard_normal((n, self.config.latent_dim)).astype(np.float32)
        return np.clip(z, -self.config.latent_clip, self.config.latent_clip)

    def score(self, z: np.ndarray) -> StepResult:
        """Decodes latents ``z`` (n, latent_dim) as anomalies and scores them, in one forward pass each."""
        with torch.inference_mode():
            x = self.vae.decode_torch(torch.from_numpy(z).to(self.device), 1)
            p = anomaly_probability(self.detector, x).to(x.dtype)
            reward, terms = self.reward(x, p)
            stats = torch.stack([p, reward, *terms.values()]).cpu().numpy()
        return StepResult(x=x, p_anomaly=p, reward=reward, terms=terms, stats=stats)

    def evaluate(self, X: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Reward and term values of rows ``X`` (n, d) that are already decoded (e.g. candidates)."""
        with torch.inference_mode():
            x = torch.as_tensor(np.asarray(X, dtype=np.float32), device=self.device)
            p = anomaly_probability(self.detector, x).to(x.dtype)
            reward, terms = self.reward(x, p)
            return reward.double().cpu().numpy(), {n: v.double().cpu().numpy() for n, v in terms.items()}

    def refresh_start_latents(self) -> None:
        """Walks start from the labeled anomalies' encoder means under the *current* VAE."""
        anomalies = np.asarray(self.split.X_train[np.asarray(self.split.y_train) == 1], dtype=np.float32)
        if len(anomalies):
            clip = self.config.latent_clip
            self.start_latents = np.clip(self.vae.encode(anomalies, 1)[0], -clip, clip).astype(np.float32)

    def smooth_reward(self, x: torch.Tensor) -> torch.Tensor:
        """Differentiable surrogate of the reward of decoded rows ``x`` (for gradient-based generation)."""
        return self.reward.smooth(x, anomaly_probability(self.detector, x))

    def set_detector_state(self, state: Any, version: int, detector_round: int | None = None) -> None:
        """Installs a new detector state and version.

        Args:
            state: From :func:`detector_state` (a detector object, or what its ``get_state`` returned);
                ``None`` when the detector object was already updated in place.
            version: New detector version reported in ``info``.
            detector_round: Entropy-decay round (default: ``version``).
        """
        if state is not None:
            setter = getattr(self.detector, "set_state", None)
            if setter is not None and not hasattr(state, "fit"):
                setter(state)
            else:
                self.detector = state
        self.detector_version = int(version)
        self.detector_round = int(version if detector_round is None else detector_round)
        self.reward.refresh(self.detector, self.detector_round)

    def add_anomalies(self, samples: np.ndarray) -> None:
        """Adds kept synthetic anomalies to the set the entropy gain is measured against."""
        self.reward.add_anomalies(samples)


class CoreAccessMixin:
    """Detector sync and inspection shared by the single and batched envs (both hold ``self.core``).

    SB3's ``env_method`` and the detector-update wrapper/callback call these by name, so the single
    env, the vector env and every subprocess copy answer the same API.
    """

    core: HydraCore

    @property
    def split(self) -> Any:
        """The ADBench train/test split the env draws its anomalies from."""
        return self.core.split

    @property
    def vae(self) -> ConditionalVAE:
        """The conditional VAE."""
        return self.core.vae

    @property
    def detector(self) -> Any:
        """The detector whose misses are rewarded."""
        return self.core.detector

    @property
    def detector_version(self) -> int:
        """Number of detector updates applied so far."""
        return self.core.detector_version

    def get_detector_state(self) -> Any:
        """Picklable snapshot of the detector (see :func:`detector_state`)."""
        return detector_state(self.core.detector)

    def set_detector_state(self, state: Any, version: int, detector_round: int | None = None) -> int:
        """Installs a new detector (state) and version; returns the version (for ``env_method`` checks)."""
        self.core.set_detector_state(state, version, detector_round)
        return self.core.detector_version

    def add_anomalies(self, samples: np.ndarray) -> int:
        """Adds kept synthetic anomalies to the entropy anomaly set; returns its size (0 without that term)."""
        self.core.add_anomalies(samples)
        entropy = self.core.reward.terms.get("entropy")
        return entropy.gain.size if entropy is not None else 0

    def score_samples(self, X: np.ndarray) -> np.ndarray:
        """The current detector's P(anomaly) of rows ``X`` (for inspection and tests)."""
        with torch.inference_mode():
            x = torch.as_tensor(np.asarray(X, dtype=np.float32), device=self.core.device)
            return anomaly_probability(self.core.detector, x).cpu().numpy().astype(np.float64)
