"""FeatureSupport: discrete features snap to the nearest training value, continuous ones stay."""

from __future__ import annotations

import numpy as np
import pytest

from hydra_env.support import FeatureSupport


def test_discrete_columns_snap_to_nearest_value_and_continuous_columns_stay():
    rng = np.random.RandomState(0)
    X = np.c_[rng.randint(0, 2, 300), rng.choice([0.0, 0.25, 1.0], 300), rng.uniform(size=300)]
    support = FeatureSupport(max_levels=5).fit(X)
    assert sorted(support.levels_) == [0, 1] and support.n_discrete == 2
    rows = np.array(
        [[0.49, 0.12, 0.3], [0.51, 0.13, 0.7], [-3.0, 0.9, 2.0], [7.0, 0.6, -1.0]], dtype=np.float32
    )
    snapped = support.snap(rows)
    assert snapped.dtype == np.float32 and snapped is not rows
    np.testing.assert_array_equal(snapped[:, 0], [0, 1, 0, 1])
    np.testing.assert_array_equal(snapped[:, 1], [0.0, 0.25, 1.0, 0.25])
    np.testing.assert_array_equal(snapped[:, 2], rows[:, 2])


def test_constant_column_and_threshold():
    X = np.c_[np.full(50, 0.5), np.arange(50) / 49]
    support = FeatureSupport(max_levels=10).fit(X)
    assert list(support.levels_) == [0]  # 50 distinct values: continuous
    np.testing.assert_array_equal(support.snap(np.array([[0.9, 0.3]]))[0], [0.5, 0.3])
    assert FeatureSupport(max_levels=50).fit(X).n_discrete == 2


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="max_levels"):
        FeatureSupport(max_levels=0)
    with pytest.raises(ValueError, match="2-D"):
        FeatureSupport().fit(np.zeros(5))
    support = FeatureSupport().fit(np.zeros((4, 3)))
    with pytest.raises(ValueError, match="3 features"):
        support.snap(np.zeros((2, 2)))
    with pytest.raises(RuntimeError, match="before fit"):
        FeatureSupport().snap(np.zeros((1, 1)))
