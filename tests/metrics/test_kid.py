"""KID against torch-fidelity's own function on the same features."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch_fidelity.metric_kid import kid_features_to_metric

from bench.metrics.kid import kid_from_features


def test_equals_torch_fidelity_defaults_when_sets_are_large_enough():
    rng = np.random.default_rng(0)
    first, second = rng.normal(size=(1200, 32)), rng.normal(loc=0.1, size=(1100, 32))
    expected = kid_features_to_metric(torch.from_numpy(first), torch.from_numpy(second), verbose=False)
    mean, std = kid_from_features(first, second)
    assert (mean, std) == (
        pytest.approx(expected["kernel_inception_distance_mean"], rel=1e-12),
        pytest.approx(expected["kernel_inception_distance_std"], rel=1e-12),
    )
    assert mean > 5 * std > 0


def test_small_sets_cap_the_subset_size_at_the_smaller_set():
    rng = np.random.default_rng(1)
    first, second = rng.normal(size=(192, 16)), rng.normal(loc=0.3, size=(150, 16))
    expected = kid_features_to_metric(
        torch.from_numpy(first), torch.from_numpy(second), kid_subset_size=150, verbose=False
    )
    assert kid_from_features(first, second) == (
        pytest.approx(expected["kernel_inception_distance_mean"], rel=1e-12),
        pytest.approx(expected["kernel_inception_distance_std"], rel=1e-12),
    )


def test_same_distribution_gives_kid_near_zero():
    rng = np.random.default_rng(2)
    mean, std = kid_from_features(rng.normal(size=(400, 16)), rng.normal(size=(400, 16)), subsets=50, subset_size=100)
    assert abs(mean) < 2 * std
