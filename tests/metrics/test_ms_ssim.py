import math

import numpy as np
import pytest
import torch
from pytorch_msssim import ms_ssim as library_ms_ssim

from bench.metrics.ms_ssim import MIN_SIDE, MSSSIM, ms_ssim


def as_tensor(image: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(image.copy()).permute(2, 0, 1)[None].float()


def test_ms_ssim_equals_pytorch_msssim(kodim01, jpeg):
    rng = np.random.default_rng(1)
    noisy = np.clip(kodim01.astype(int) + rng.integers(-30, 31, kodim01.shape), 0, 255).astype(np.uint8)
    # Odd sides (481 x 321, as BSDS500) take avg_pool's padding path at every scale.
    odd = kodim01[:321, :481]
    pairs = [(kodim01, noisy), (kodim01, jpeg(kodim01, 10)), (odd, jpeg(odd, 30))]
    for reference, reconstruction in pairs:
        expected = float(library_ms_ssim(as_tensor(reference), as_tensor(reconstruction), data_range=255))
        # Equal here bit for bit (the same kernels on the same shapes); 1e-7 in case a convolution
        # library picks its kernel by a tensor's memory alignment.
        assert ms_ssim(reference, reconstruction) == pytest.approx(expected, rel=1e-7, abs=0)
    assert 0.8 < float(library_ms_ssim(as_tensor(kodim01), as_tensor(noisy), data_range=255)) < 0.99


def test_one_prepared_reference_serves_many_reconstructions(kodim01, jpeg):
    metric = MSSSIM()
    prepared = metric.prepare_reference(kodim01)
    for quality in (10, 50, 90):
        reconstruction = jpeg(kodim01, quality)
        expected = float(library_ms_ssim(as_tensor(kodim01), as_tensor(reconstruction), data_range=255))
        assert metric.measure_prepared(prepared, reconstruction) == {"ms_ssim": pytest.approx(expected, rel=1e-7, abs=0)}


def test_identical_images_give_one(kodim01):
    assert abs(ms_ssim(kodim01, kodim01) - 1.0) < 1e-6


def test_images_below_the_minimum_size_give_nan_not_an_error():
    small = np.zeros((MIN_SIDE - 1, 300, 3), np.uint8)
    assert math.isnan(MSSSIM().measure(small, small)["ms_ssim"])
