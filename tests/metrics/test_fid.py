"""The Fréchet distance against pytorch-fid's and torch-fidelity's on the same features."""
from __future__ import annotations

import numpy as np
import pytest
from pytorch_fid.fid_score import calculate_frechet_distance
from torch_fidelity.metric_fid import fid_statistics_to_metric

from bench.metrics.fid import feature_statistics, fid_from_features, frechet_distance


def feature_sets(samples: int, dims: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two correlated, non-negative feature sets, like ReLU-pooled network activations."""
    rng = np.random.default_rng(seed)
    mixing = rng.normal(size=(dims, dims)) / np.sqrt(dims)
    first = np.maximum(rng.normal(size=(samples, dims)) @ mixing, 0.0)
    second = np.maximum(rng.normal(loc=0.2, size=(samples, dims)) @ mixing, 0.0)
    return first, second


@pytest.mark.parametrize("samples, dims", [(500, 64), (100, 256)], ids=["full-rank", "rank-deficient"])
def test_equals_pytorch_fid(samples, dims):
    first, second = feature_sets(samples, dims)
    mu1, sigma1 = np.mean(first, axis=0), np.cov(first, rowvar=False)
    mu2, sigma2 = np.mean(second, axis=0), np.cov(second, rowvar=False)
    expected = calculate_frechet_distance(mu1, sigma1, mu2, sigma2)
    assert fid_from_features(first, second) == pytest.approx(expected, rel=1e-6)
    assert frechet_distance(mu1, sigma1, mu2, sigma2) == pytest.approx(expected, rel=1e-6)


def test_equals_torch_fidelity():
    first, second = feature_sets(300, 128, seed=1)
    stats = [dict(zip(("mu", "sigma"), feature_statistics(features))) for features in (first, second)]
    expected = fid_statistics_to_metric(*stats, verbose=False)["frechet_inception_distance"]
    assert fid_from_features(first, second) == pytest.approx(expected, rel=1e-6)


def test_distance_of_a_set_to_itself_is_zero_even_when_rank_deficient():
    first, _ = feature_sets(50, 512)
    assert fid_from_features(first, first) == pytest.approx(0.0, abs=1e-9)


def test_shifting_the_mean_adds_its_squared_norm():
    first, _ = feature_sets(200, 32)
    shift = np.full(32, 0.5)
    assert fid_from_features(first, first + shift) == pytest.approx(32 * 0.25, abs=1e-9)


def test_one_feature_is_not_enough():
    with pytest.raises(ValueError, match=r"N >= 2, got shape \(1, 8\)"):
        feature_statistics(np.zeros((1, 8)))
