"""One configuration object for the Swift Hydra environment.

:class:`EnvConfig` is the single place where an environment setting gets its name: the same field
names are accepted by ``gym.make("SwiftHydra-v0", **kwargs)``, ``gym.make_vec``, the CLI and yaml
files, so a setting has one name everywhere.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

REWARD_VARIANTS = ("miss+entropy", "miss", "entropy")
"""Accepted values of :attr:`EnvConfig.reward`."""


@dataclass
class EnvConfig:
    """Settings of :class:`hydra_env.SwiftHydraEnv` (and its batched twin).

    Attributes:
        dataset: Dataset name (embedded ``"wdbc"``/``"wine"``, an ADBench name) or a ``.npz`` path.
        data_dir: Folder of ADBench ``.npz`` files (``None``: embedded data / default search).
        la: Fraction of the training anomalies that keep their label (ADBench protocol).
        seed: Seed of the train/test split and of the default detector and VAE training. The
            episode randomness is seeded separately through ``env.reset(seed=...)``.
        latent_dim: Size of the VAE latent space, hence of the action and of ``z`` in the observation.
        episode_length: Steps per episode; the env truncates itself at this step (no TimeLimit wrapper).
        action_scale: A step moves the latent by ``action_scale * action`` (actions lie in [-1, 1]).
        latent_clip: The latent is kept in the box [-latent_clip, latent_clip] after every move.
        entropy_coef: Weight of the entropy gain at detector round 0.
        entropy_decay: The weight is ``entropy_coef * entropy_decay ** detector_round``: early rounds
            favour diversity, later rounds evasion.
        entropy_k: Number of nearest neighbours of the k-NN entropy-gain estimator.
        reward: ``"miss+entropy"`` (default), ``"miss"`` or ``"entropy"``.
        vae_hidden: Hidden layer widths of the VAE encoder (mirrored in the decoder).
        vae_beta: Weight of the KL term of the beta-VAE.
        vae_epochs: Training epochs of the VAE built by the env.
        vae_lr: Adam learning rate of the VAE.
        vae_batch_size: Minibatch size of the VAE.
        vae_anomaly_weight: Sampling weight of labeled anomalies in VAE training (``"balanced"``, a
            number, or ``None``). Default 10: with only a few labeled anomalies, ``"balanced"`` makes the
            label-1 decoder collapse onto them and ignore ``z``, which leaves the agent nothing to steer.
        detector: Default detector built by the env when none is given: ``"mamba"`` or ``"mamba_moe"``.
        detector_epochs: Training epochs of the default detector.
        detector_kwargs: Extra hyperparameters passed to the default detector's constructor.
        device: Torch device of the VAE and default detector (``"cpu"``, ``"cuda"``).
    """

    dataset: str = "wdbc"
    data_dir: str | None = None
    la: float = 0.1
    seed: int = 0
    latent_dim: int = 8
    episode_length: int = 32
    action_scale: float = 0.5
    latent_clip: float = 4.0
    entropy_coef: float = 0.5
    entropy_decay: float = 0.8
    entropy_k: int = 3
    reward: str = "miss+entropy"
    vae_hidden: tuple[int, ...] = (64, 64)
    vae_beta: float = 1.0
    vae_epochs: int = 40
    vae_lr: float = 3e-3
    vae_batch_size: int = 128
    vae_anomaly_weight: str | float | None = 10.0
    detector: str = "mamba"
    detector_epochs: int = 5
    detector_kwargs: dict[str, Any] = field(default_factory=dict)
    device: str = "cpu"

    def __post_init__(self) -> None:
        self.vae_hidden = tuple(int(h) for h in self.vae_hidden)
        self.detector_kwargs = dict(self.detector_kwargs or {})
        self.validate()

    def validate(self) -> None:
        """Raises ``ValueError`` naming the first bad field."""
        if self.reward not in REWARD_VARIANTS:
            raise ValueError(f"unknown reward variant {self.reward!r}; choose one of {list(REWARD_VARIANTS)}")
        if not 0.0 < self.la <= 1.0:
            raise ValueError(
                f"la must lie in (0, 1], got {self.la}: the VAE and the detector are conditioned on "
                "labeled anomalies, so the env has no unsupervised (la=0) mode"
            )
        for name in ("latent_dim", "episode_length", "entropy_k", "vae_epochs", "vae_batch_size"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be a positive integer, got {getattr(self, name)}")
        if self.detector_epochs < 0:
            raise ValueError(f"detector_epochs must be >= 0, got {self.detector_epochs}")
        for name in ("action_scale", "latent_clip", "vae_lr"):
            if not float(getattr(self, name)) > 0.0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)}")
        if self.entropy_coef < 0.0 or not 0.0 <= self.entropy_decay <= 1.0:
            raise ValueError(
                f"entropy_coef must be >= 0 and entropy_decay in [0, 1], got {self.entropy_coef}, {self.entropy_decay}"
            )
        if self.vae_beta < 0.0:
            raise ValueError(f"vae_beta must be >= 0, got {self.vae_beta}")
        if self.detector not in DETECTOR_CHOICES:
            raise ValueError(f"unknown detector {self.detector!r}; choose one of {list(DETECTOR_CHOICES)}")

    @classmethod
    def from_kwargs(cls, config: EnvConfig | None = None, **overrides: Any) -> EnvConfig:
        """Returns ``config`` (or the defaults) with ``overrides`` applied; unknown names are an error."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(overrides) - names)
        if unknown:
            raise TypeError(f"unknown EnvConfig field(s) {unknown}; valid fields: {sorted(names)}")
        base = config if config is not None else cls()
        if not isinstance(base, cls):
            raise TypeError(f"config must be an EnvConfig, got {type(base).__name__}")
        return dataclasses.replace(base, **overrides)

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict view (for yaml/json and logging)."""
        out = dataclasses.asdict(self)
        out["vae_hidden"] = list(self.vae_hidden)
        return out

    def components_key(self, detector: bool = True) -> tuple:
        """Hashable key of the fields that determine the split and VAE (and the default detector)."""
        data = (
            self.dataset,
            self.data_dir,
            float(self.la),
            int(self.seed),
            int(self.latent_dim),
            self.vae_hidden,
            float(self.vae_beta),
            int(self.vae_epochs),
            float(self.vae_lr),
            int(self.vae_batch_size),
            self.vae_anomaly_weight,
            self.device,
        )
        if not detector:
            return data
        return (*data, self.detector, int(self.detector_epochs), repr(sorted(self.detector_kwargs.items())))


DETECTOR_CHOICES = ("mamba", "mamba_moe")
"""Accepted values of :attr:`EnvConfig.detector`."""
