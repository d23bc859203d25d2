"""Impossible settings raise before any training, naming the parameter; ``labels_`` follow ``threshold_``."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from detectors import MambaDetector, MambaMoEDetector, load_detector
from detectors.adapters import PyODAdapter, SupervisedAdapter
from detectors.boosted import BoostedDetector
from detectors.devnet import DevNet
from tests.detectors.conftest import TINY_MOE, TINY_SINGLE

HAS_LIGHTGBM = importlib.util.find_spec("lightgbm") is not None

BAD_SETTINGS = [
    (MambaDetector, "epochs", -1),
    (MambaDetector, "epochs", 0),
    (MambaDetector, "epochs", 2.5),
    (MambaDetector, "batch_size", 0),
    (MambaDetector, "batch_size", -5),
    (MambaDetector, "calibration", "bogus"),
    (MambaDetector, "d_model", 0),
    (MambaDetector, "validation_fraction", 1.5),
    (MambaDetector, "validation_fraction", 1.0),
    (MambaDetector, "lr", 0.0),
    (MambaDetector, "patience", 0),
    (MambaDetector, "contamination", 0.7),
    (MambaDetector, "max_steps_per_epoch", 0),
    (MambaDetector, "range_weight", -1.0),
    (MambaDetector, "average_weights_from", 1.0),
    (MambaMoEDetector, "average_weights_from", -0.1),
    (MambaMoEDetector, "epochs", 0),
    (MambaMoEDetector, "batch_size", 0),
    (MambaMoEDetector, "calibration", "bogus"),
    (MambaMoEDetector, "d_model", 0),
    (MambaMoEDetector, "n_experts", 0),
    (MambaMoEDetector, "n_experts", "many"),
    (MambaMoEDetector, "gate_hidden", -1),
    (MambaMoEDetector, "teacher", "not a detector"),
    (DevNet, "epochs", 0),
    (DevNet, "batch_size", 1),
    (DevNet, "learning_rate", -1e-3),
    (DevNet, "margin", 0.0),
    (PyODAdapter, "contamination", 0.9),
    (PyODAdapter, "proba_method", "bogus"),
    (PyODAdapter, "name_or_estimator", 3),
    (SupervisedAdapter, "kind", "bogus"),
    (BoostedDetector, "booster", "nope"),
    (BoostedDetector, "unsupervised", "ecod"),
]


@pytest.fixture(scope="module")
def data():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(60, 4))
    y = np.r_[np.ones(6, dtype=int), np.zeros(54, dtype=int)]
    return X, y


@pytest.mark.parametrize(
    ("cls", "name", "value"), BAD_SETTINGS, ids=[f"{c.__name__}-{n}={v!r}" for c, n, v in BAD_SETTINGS]
)
def test_an_impossible_setting_raises_naming_it_before_training(cls, name, value, data, monkeypatch):
    det = cls(**{name: value})
    # Nothing may look at the data before the settings are checked.
    monkeypatch.setattr(type(det), "_validate", lambda *a, **k: pytest.fail("validated data first"))
    with pytest.raises(ValueError, match=f"'{name}' parameter of {cls.__name__}"):
        det.fit(*data)
    assert not [attr for attr in vars(det) if attr.endswith("_") and not attr.startswith("_")]


def test_boosted_scorer_columns_check_the_settings_too(data):
    det = BoostedDetector(booster="nope", unsupervised=("ecod",))
    with pytest.raises(ValueError, match="'booster' parameter of BoostedDetector"):
        det.fit_scorers(data[0])
    assert not hasattr(det, "scorers_")


def test_set_params_is_checked_on_the_next_fit(data):
    det = MambaDetector(**TINY_SINGLE).fit(*data)
    det.set_params(epochs=0)
    with pytest.raises(ValueError, match="'epochs' parameter"):
        det.fit(*data, warm_start=True)


def test_boundary_settings_that_mean_something_are_accepted(data):
    """0 = 'none' where the docs say so: no validation split, a warm start that only recalibrates."""
    det = MambaDetector(validation_fraction=0.0, warm_start_epochs=0, **TINY_SINGLE).fit(*data)
    before = det.decision_function(data[0])
    det.fit(*data, warm_start=True)
    np.testing.assert_allclose(det.decision_function(data[0]), before, rtol=1e-6, atol=1e-6)


FITTED = {
    "mamba": lambda: MambaDetector(random_state=0, **{**TINY_SINGLE, "epochs": 1}),
    "mamba_moe": lambda: MambaMoEDetector(n_experts=2, random_state=0, **{**TINY_MOE, "epochs": 1}),
    "devnet": lambda: DevNet(epochs=1, batches_per_epoch=2, batch_size=16, random_state=0),
    "iforest": lambda: PyODAdapter("iforest", random_state=0, n_estimators=10),
}
if HAS_LIGHTGBM:
    FITTED["lightgbm"] = lambda: SupervisedAdapter("lightgbm", n_estimators=5, n_jobs=1)


@pytest.mark.parametrize("name", sorted(FITTED))
def test_labels_are_the_scores_above_the_threshold_after_fit_and_load(name, data, tmp_path):
    det = FITTED[name]().fit(*data)
    assert det.labels_.dtype == np.int64 and det.decision_scores_.dtype == np.float64
    np.testing.assert_array_equal(det.labels_, (det.decision_scores_ > det.threshold_).astype(int))
    np.testing.assert_array_equal(det.labels_, det.predict(data[0]))
    det.save(tmp_path / "det.pt")
    again = load_detector(tmp_path / "det.pt")
    np.testing.assert_array_equal(again.labels_, det.labels_)
    assert again.threshold_ == det.threshold_
