"""Tabular anomaly detectors with a scikit-learn / PyOD API: a single Mamba model and a Mixture of Mamba Experts."""

from detectors.base import NotFittedError, check_array_finite, check_labels
from detectors.mamba import MambaBlock, mamba_ssm_available, selective_scan
from detectors.moe import MambaMoEDetector
from detectors.single import MambaDetector

__all__ = [
    "MambaBlock",
    "MambaDetector",
    "MambaMoEDetector",
    "NotFittedError",
    "check_array_finite",
    "check_labels",
    "mamba_ssm_available",
    "selective_scan",
]
