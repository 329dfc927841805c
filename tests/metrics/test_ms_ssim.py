import math

import numpy as np
import torch
from pytorch_msssim import ms_ssim as library_ms_ssim

from bench.metrics.ms_ssim import MIN_SIDE, MSSSIM, ms_ssim


def test_ms_ssim_equals_pytorch_msssim(kodim01):
    rng = np.random.default_rng(1)
    noisy = np.clip(kodim01.astype(int) + rng.integers(-30, 31, kodim01.shape), 0, 255).astype(np.uint8)
    as_tensor = lambda image: torch.from_numpy(image.copy()).permute(2, 0, 1)[None].float()  # noqa: E731
    expected = float(library_ms_ssim(as_tensor(kodim01), as_tensor(noisy), data_range=255))
    assert abs(ms_ssim(kodim01, noisy) - expected) < 1e-7
    assert 0.8 < expected < 0.99


def test_identical_images_give_one(kodim01):
    assert abs(ms_ssim(kodim01, kodim01) - 1.0) < 1e-6


def test_images_below_the_minimum_size_give_nan_not_an_error():
    small = np.zeros((MIN_SIDE - 1, 300, 3), np.uint8)
    assert math.isnan(MSSSIM().measure(small, small)["ms_ssim"])
