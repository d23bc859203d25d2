"""One configuration object for the Swift Hydra environment.

:class:`EnvConfig` is the single place where an environment setting gets its name: the same field
names are accepted by ``gym.make("SwiftHydra-v0", **kwargs)``, ``gym.make_vec``, the CLI and yaml
files, so a setting has one name everywhere.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from numbers import Integral, Real
from typing import Any

from sklearn.utils._param_validation import Interval, StrOptions, validate_parameter_constraints

from hydra_env.rewards import DEFAULT_REWARD_WEIGHTS, REWARD_TERMS, check_reward_weights

DETECTOR_CHOICES = ("mamba", "mamba_moe")
"""Accepted values of :attr:`EnvConfig.detector`."""

_POSITIVE_INT = Interval(Integral, 1, None, closed="left")
_POSITIVE = Interval(Real, 0, None, closed="neither")
# Type and range of every field, in scikit-learn's notation: a bad value raises InvalidParameterError
# (a ValueError and a TypeError) "The 'FIELD' parameter of EnvConfig must be ... Got ... instead."
_FIELD_CONSTRAINTS: dict[str, list[Any]] = {
    "dataset": [str, os.PathLike],
    "data_dir": [str, os.PathLike, None],
    "la": [Real],  # the range is checked after, with the hint for unlabeled data
    "seed": [Interval(Integral, 0, None, closed="left")],
    "latent_dim": [_POSITIVE_INT],
    "episode_length": [_POSITIVE_INT],
    "action_scale": [_POSITIVE],
    "latent_clip": [_POSITIVE],
    "reward_weights": [dict],
    "entropy_decay": [Interval(Real, 0, 1, closed="both")],
    "entropy_k": [_POSITIVE_INT],
    "vae_hidden": [tuple],
    "vae_beta": [Interval(Real, 0, None, closed="left")],
    "vae_epochs": [_POSITIVE_INT],
    "vae_lr": [_POSITIVE],
    "vae_batch_size": [_POSITIVE_INT],
    "vae_anomaly_weight": [StrOptions({"balanced"}), Interval(Real, 0, None, closed="left"), None],
    "detector": [StrOptions(set(DETECTOR_CHOICES))],
    "detector_epochs": [_POSITIVE_INT],
    "detector_kwargs": [dict],
    "device": [str],
}


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
        reward_weights: ``{term: weight}`` of the reward ``sum_i w_i * term_i(x)``; term names from
            :data:`hydra_env.rewards.REWARD_TERMS` (``miss``, ``novelty``, ``entropy``,
            ``miss_proba``). Terms left out (or weighted 0) are not computed. Default
            ``{"miss": 1.0, "novelty": 1.0, "entropy": 0.5}``. Given as a dict, or from the shell as
            ``reward_weights="miss:1,novelty:0.5"``.
        entropy_decay: The entropy term's weight is ``w_entropy * entropy_decay ** detector_round``:
            early rounds favour diversity, later rounds evasion.
        entropy_k: Number of nearest neighbours of the k-NN terms (entropy gain, novelty).
        vae_hidden: Hidden layer widths of the VAE encoder (mirrored in the decoder).
        vae_beta: Weight of the KL term of the beta-VAE.
        vae_epochs: Training epochs of the VAE built by the env.
        vae_lr: Adam learning rate of the VAE.
        vae_batch_size: Minibatch size of the VAE.
        vae_anomaly_weight: Sampling weight of labeled anomalies in VAE training (``"balanced"``, a
            number, or ``None``). Default 10: with only a few labeled anomalies, ``"balanced"`` makes the
            label-1 decoder collapse onto them and ignore ``z``, which leaves the agent nothing to steer.
        detector: Default detector built by the env when none is given: ``"mamba"`` or ``"mamba_moe"``
            (``gym.make("SwiftHydra-v0", detector="mamba_moe")`` sets it too).
        detector_epochs: Training epochs of the default detector (at least 1).
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
    reward_weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_REWARD_WEIGHTS))
    entropy_decay: float = 0.8
    entropy_k: int = 3
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
        self.vae_hidden = _hidden_widths(self.vae_hidden)
        if self.detector_kwargs is None:
            self.detector_kwargs = {}
        if isinstance(self.detector_kwargs, dict):
            self.detector_kwargs = dict(self.detector_kwargs)
        self.reward_weights = parse_weights(self.reward_weights)
        self.validate()

    def validate(self) -> None:
        """Raises ``ValueError`` naming the first bad field (of the wrong type or out of range).

        Type errors are ``InvalidParameterError``, which is both a ``ValueError`` and a ``TypeError``.
        """
        values = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        validate_parameter_constraints(_FIELD_CONSTRAINTS, values, caller_name="EnvConfig")
        check_reward_weights(self.reward_weights)
        if not 0.0 < self.la <= 1.0:
            raise ValueError(
                f"la must lie in (0, 1], got {self.la}: the env starts its walks from labeled anomalies "
                "(la = 0 leaves none; use an unsupervised detector such as IForest for unlabeled data)"
            )

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


def _hidden_widths(value: Any) -> Any:
    """``vae_hidden`` as a tuple of ints when it is a sequence of positive integers (else unchanged).

    Anything else is left for `EnvConfig.validate` to name, rather than failing inside ``int()``.
    """
    if not isinstance(value, (list, tuple)):
        return value
    if value and all(isinstance(w, Integral) and not isinstance(w, bool) and w >= 1 for w in value):
        return tuple(int(w) for w in value)
    raise ValueError(f"vae_hidden must be a non-empty sequence of positive integer widths, got {value!r}")


def parse_weights(value: Any) -> dict[str, float]:
    """``{"miss": 1.0}``, or the shell form ``"miss:1,novelty:0.5"``, as a ``{term: weight}`` dict."""
    if isinstance(value, str):
        pairs = [part.split(":", 1) for part in value.split(",") if part.strip()]
        if any(len(pair) != 2 for pair in pairs):
            raise ValueError(f"reward_weights must look like 'miss:1,novelty:0.5', got {value!r}")
        value = {name.strip(): pair_weight for name, pair_weight in pairs}
    if not isinstance(value, dict):
        raise ValueError(f"reward_weights must be a dict or 'term:weight,...', got {type(value).__name__}")
    try:
        return {str(name): float(weight) for name, weight in value.items()}
    except (TypeError, ValueError) as err:
        raise ValueError(f"reward_weights values must be numbers, got {value!r}") from err


__all__ = ["DETECTOR_CHOICES", "REWARD_TERMS", "EnvConfig", "parse_weights"]
