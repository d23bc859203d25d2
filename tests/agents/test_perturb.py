"""Rows perturbed off the data (outlier exposure rows, the reference sample)."""

from __future__ import annotations

import numpy as np
import pytest

from agents.perturb import perturbed_normals
from tests.agents.test_exposure import _rows


def test_perturbed_normals_shape_determinism_and_scales():
    X, y = _rows()
    rows = perturbed_normals(X, y, n_rows=300, scales=(0.5, 2.0), seed=3)
    assert rows.shape == (300, 3) and rows.dtype == np.float32
    np.testing.assert_array_equal(rows, perturbed_normals(X, y, n_rows=300, scales=(0.5, 2.0), seed=3))
    assert not np.array_equal(rows, perturbed_normals(X, y, n_rows=300, scales=(0.5, 2.0), seed=4))
    # Centres are normal rows only (the anomalies sit at 100), and rows cycle through the scales:
    # the odd rows (scale 2) spread about four times as wide as the even ones (scale 0.5), plus the centres'.
    assert np.abs(rows).max() < 20
    assert rows[1::2].std() > 1.4 * rows[::2].std()


def test_perturbed_normals_keep_discrete_features_on_their_values():
    X, y = _rows()
    X = np.column_stack([X, np.arange(len(X)) % 2])  # a 0/1 flag
    rows = perturbed_normals(X, y, n_rows=300, seed=1)
    assert set(np.unique(rows[:, -1])) <= {0.0, 1.0}
    assert len(np.unique(rows[:, 0])) == 300  # continuous features keep their noise


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_rows": 0}, "n_rows"),
        ({"scales": (0.5, 0.0)}, "scales"),
        ({"scales": ()}, "scales"),
    ],
)
def test_perturbed_normals_rejects_bad_settings(kwargs, message):
    X, y = _rows()
    with pytest.raises(ValueError, match=message):
        perturbed_normals(X, y, **kwargs)


def test_perturbed_normals_rejects_bad_rows():
    X, y = _rows()
    with pytest.raises(ValueError, match="no row labeled normal"):
        perturbed_normals(X, np.ones_like(y))
    bad = X.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="finite"):
        perturbed_normals(bad, y)
