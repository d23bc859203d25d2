"""Tabular anomaly detectors with a scikit-learn / PyOD API: a single Mamba model and a Mixture of Mamba Experts.

Every detector family (these two, `detectors.devnet.DevNet` and the adapters in `detectors.adapters`)
derives from `detectors.contract.BaseDetector`; `load_detector` loads any of them by saved class name
(a file damaged after saving raises `DamagedFileError`).
"""

from detectors.base import NotFittedError, check_array_finite, check_labels
from detectors.contract import BaseDetector
from detectors.mamba import MambaBlock, mamba_ssm_available, selective_scan
from detectors.moe import MambaMoEDetector
from detectors.persistence import DamagedFileError
from detectors.registry import detector_class, load_detector
from detectors.single import MambaDetector
from detectors.validation import check_features, check_targets

__all__ = [
    "BaseDetector",
    "DamagedFileError",
    "MambaBlock",
    "MambaDetector",
    "MambaMoEDetector",
    "NotFittedError",
    "check_array_finite",
    "check_features",
    "check_labels",
    "check_targets",
    "detector_class",
    "load_detector",
    "mamba_ssm_available",
    "selective_scan",
]
