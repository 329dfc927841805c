"""KID against torch-fidelity's own function on the same features."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch_fidelity.metric_kid import kid_features_to_metric

from bench.metrics.kid import KID, kid_from_features


def torch_fidelity_kid(first: np.ndarray, second: np.ndarray, **options) -> tuple[float, float]:
    result = kid_features_to_metric(torch.from_numpy(first), torch.from_numpy(second), verbose=False, **options)
    return result["kernel_inception_distance_mean"], result["kernel_inception_distance_std"]


def test_equals_torch_fidelity_defaults_from_2000_features_on():
    rng = np.random.default_rng(0)
    first, second = rng.normal(size=(2100, 32)), rng.normal(loc=0.1, size=(2000, 32))
    expected_mean, expected_std = torch_fidelity_kid(first, second)
    mean, std = kid_from_features(first, second)
    assert (mean, std) == (pytest.approx(expected_mean, rel=1e-12), pytest.approx(expected_std, rel=1e-12))
    assert mean > 5 * std > 0


def test_small_sets_mean_over_the_smaller_set_std_over_half_of_it():
    rng = np.random.default_rng(1)
    first, second = rng.normal(size=(192, 16)), rng.normal(loc=0.3, size=(150, 16))
    mean, std = kid_from_features(first, second)
    assert mean == pytest.approx(torch_fidelity_kid(first, second, kid_subset_size=150)[0], rel=1e-12)
    assert std == pytest.approx(torch_fidelity_kid(first, second, kid_subset_size=75)[1], rel=1e-12)


def test_equal_small_sets_get_the_full_sample_mean_and_a_real_spread():
    # Kodak's case: both sets have the same n <= 1000, so every size-n "subset" is the whole set.
    rng = np.random.default_rng(3)
    first, second = rng.normal(size=(192, 16)), rng.normal(loc=0.3, size=(192, 16))
    whole_set_mean, whole_set_std = torch_fidelity_kid(first, second, kid_subset_size=192)
    assert whole_set_std == pytest.approx(0.0, abs=1e-12)  # only rounding differs between subsets
    mean, std = KID().compute(first.astype(np.float32), second.astype(np.float32)).values()
    assert mean == pytest.approx(whole_set_mean, rel=1e-6)
    assert std == pytest.approx(torch_fidelity_kid(first, second, kid_subset_size=96)[1], rel=1e-6)
    assert 0 < std < mean


def test_three_features_have_no_spread_estimate():
    rng = np.random.default_rng(4)
    mean, std = kid_from_features(rng.normal(size=(3, 4)), rng.normal(size=(3, 4)))
    assert math.isfinite(mean) and math.isnan(std)


def test_same_distribution_gives_kid_near_zero():
    rng = np.random.default_rng(2)
    mean, std = kid_from_features(rng.normal(size=(400, 16)), rng.normal(size=(400, 16)), subsets=50, subset_size=100)
    assert abs(mean) < 2 * std
