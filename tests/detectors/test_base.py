"""Validation helpers and calibration."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.isotonic import IsotonicRegression

from detectors.base import Calibration, check_array_finite, check_labels, resolve_device


def test_check_array_finite_rejects_bad_input():
    with pytest.raises(ValueError, match="NaN"):
        check_array_finite(np.array([[1.0, np.nan]]))
    with pytest.raises(ValueError, match="infinity"):
        check_array_finite(np.array([[1.0, np.inf]]))
    with pytest.raises(ValueError, match="exceeds float32 range"):
        check_array_finite(np.array([[1.0, -1e39]]))
    with pytest.raises(ValueError, match="2D"):
        check_array_finite(np.ones(3))
    with pytest.raises(ValueError, match="0 sample"):
        check_array_finite(np.ones((0, 3)))
    with pytest.raises(ValueError, match="expecting 4"):
        check_array_finite(np.ones((2, 3)), n_features=4)
    with pytest.raises(TypeError, match="numeric"):
        check_array_finite([["a", "b"]])
    out = check_array_finite([[1, 2], [3, 4]])
    assert out.dtype == np.float64 and out.shape == (2, 2)


def test_check_labels():
    with pytest.raises(ValueError, match="y is None.*IForest"):
        check_labels(None, 3)
    with pytest.raises(ValueError, match="one class only.*labeled anomaly"):
        check_labels(np.zeros(3), 3)
    with pytest.raises(ValueError, match="one class only"):
        check_labels(np.ones(3), 3)
    with pytest.raises(ValueError, match="binary"):
        check_labels(np.array([2, 2, 2]), 3)
    with pytest.raises(ValueError, match="binary"):
        check_labels(np.array([0, 2, 1]), 3)
    with pytest.raises(ValueError, match="shape"):
        check_labels(np.array([0, 1]), 3)
    assert check_labels(np.array([True, False]), 2).tolist() == [1, 0]


def test_isotonic_calibration_in_torch_matches_sklearn():
    rng = np.random.RandomState(0)
    logits = rng.normal(size=200)
    y = (rng.uniform(size=200) < 1 / (1 + np.exp(-2 * logits))).astype(int)
    cal = Calibration.fit("isotonic", logits, y)
    grid = np.linspace(-4, 4, 50)
    expected = IsotonicRegression(out_of_bounds="clip", y_min=0, y_max=1).fit(logits, y).predict(grid)
    got = cal.apply_torch(torch.as_tensor(grid)).numpy()
    np.testing.assert_allclose(got, expected, atol=1e-9)


def test_sigmoid_calibration_is_monotone_probability():
    rng = np.random.RandomState(0)
    logits = rng.normal(size=300)
    y = (logits + rng.normal(scale=0.5, size=300) > 1).astype(int)
    cal = Calibration.fit("sigmoid", logits, y)
    p = cal.apply_torch(torch.linspace(-3, 3, 20)).numpy()
    assert np.all(np.diff(p) > 0) and p.min() >= 0 and p.max() <= 1
    with pytest.raises(ValueError, match="calibration"):
        Calibration("bogus")


def test_resolve_device():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")


def _count_batches(detector, monkeypatch) -> list[int]:
    calls: list[int] = []
    original = type(detector)._batch_loss

    def counting(self, net, xb, yb, extras, pos_weight):
        calls.append(len(yb))
        return original(self, net, xb, yb, extras, pos_weight)

    monkeypatch.setattr(type(detector), "_batch_loss", counting)
    return calls


@pytest.mark.parametrize("n_rows", [200, 2000])
def test_max_steps_per_epoch_fixes_the_number_of_optimizer_steps(n_rows, monkeypatch):
    from detectors import MambaDetector

    rng = np.random.RandomState(0)
    X = rng.uniform(size=(n_rows, 4))
    y = (rng.uniform(size=n_rows) < 0.05).astype(int)
    y[:2] = 1
    detector = MambaDetector(
        epochs=3,
        batch_size=32,
        max_steps_per_epoch=2,
        validation_fraction=0,
        d_model=4,
        n_layers=1,
        device="cpu",
    )
    calls = _count_batches(detector, monkeypatch)
    detector.fit(X, y)
    assert len(calls) == 3 * 2 and set(calls) == {32}
    calls.clear()
    detector.fit(X, y, warm_start=True)  # warm_start_epochs (5) of two steps each
    assert len(calls) == 5 * 2


def test_max_steps_per_epoch_rejects_non_positive():
    from detectors import MambaDetector

    X = np.random.RandomState(0).uniform(size=(40, 3))
    y = np.r_[np.zeros(36, int), np.ones(4, int)]
    with pytest.raises(ValueError, match="max_steps_per_epoch"):
        MambaDetector(epochs=1, max_steps_per_epoch=0, device="cpu").fit(X, y)


def _float_params(detector) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in detector.network_.state_dict().items() if v.is_floating_point()}


def test_average_weights_from_keeps_the_mean_of_the_last_epochs_weights():
    """Epochs are deterministic and independent of the epoch count, so a 4-epoch fit averaging from the
    half is the mean of a 3-epoch and a 4-epoch fit's weights."""
    from detectors import MambaDetector

    rng = np.random.RandomState(0)
    X = rng.uniform(size=(300, 5))
    y = (rng.uniform(size=300) < 0.05).astype(int)
    y[:3] = 1
    settings = {"batch_size": 32, "validation_fraction": 0, "d_model": 4, "n_layers": 1, "device": "cpu"}
    after = {n: _float_params(MambaDetector(epochs=n, **settings).fit(X, y)) for n in (3, 4)}
    averaged = _float_params(MambaDetector(epochs=4, average_weights_from=0.5, **settings).fit(X, y))
    for key, value in averaged.items():
        torch.testing.assert_close(value, (after[3][key] + after[4][key]) / 2, rtol=1e-5, atol=1e-6)
    assert any(not torch.allclose(value, after[4][key]) for key, value in averaged.items())


def test_weight_average_starts_at_its_epoch_and_keeps_integer_buffers():
    from detectors.base import WeightAverage

    average = WeightAverage.for_fit(0.5, epochs=4)
    assert average.start == 2 and WeightAverage.for_fit(None, epochs=4) is None
    assert WeightAverage.for_fit(0.99, epochs=4).start == 3  # the last epoch always counts
    net = torch.nn.Linear(1, 1, bias=False)
    net.register_buffer("steps", torch.tensor(0))
    for epoch, weight in enumerate([10.0, 20.0, 1.0, 3.0]):
        net.weight.data.fill_(weight)
        net.steps.fill_(epoch)
        average.after_epoch(epoch, net)
    assert average.count == 2
    assert float(average.state["weight"]) == 2.0 and int(average.state["steps"]) == 3


def test_averaged_weights_give_way_to_a_better_best_epoch_on_validation(monkeypatch):
    from detectors import MambaDetector

    detector = MambaDetector(d_model=4, n_layers=1, device="cpu", epochs=1)
    detector.network_ = torch.nn.Linear(2, 1)
    averaged = {"weight": torch.ones(1, 2), "bias": torch.ones(1)}
    best = {"weight": torch.zeros(1, 2), "bias": torch.zeros(1)}
    validation = (torch.zeros(3, 2), torch.zeros(3), torch.tensor(1.0))
    monkeypatch.setattr(MambaDetector, "_validation_score", lambda self, v: float(self.network_.bias))
    assert detector._averaged_or_best(averaged, best, best_loss=0.5, validation=validation) is best
    assert detector._averaged_or_best(averaged, best, best_loss=2.0, validation=validation) is averaged
    assert detector._averaged_or_best(averaged, None, best_loss=0.5, validation=validation) is averaged
    assert detector._averaged_or_best(averaged, best, best_loss=0.5, validation=None) is averaged
