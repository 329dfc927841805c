import math

import numpy as np
import pytest
import torch
from piq import information_weighted_ssim

from bench.metrics.iw_ssim import IWSSIM, MIN_SIDE, iw_ssim
from ctc_reference import yuv10


def test_goldhill_matches_the_published_matlab_value(reference_pair):
    # 0.886297251092821: Wang's MATLAB iwssim on this pair, as piq's tests/test_iw_ssim.py states it.
    reference, distorted = reference_pair("goldhill.gif", "goldhill_jpeg.gif")
    assert iw_ssim(reference, distorted, data_range=255) == pytest.approx(0.886297251092821, abs=1e-5)


def test_the_metric_scores_the_bt709_luma_in_8_bit_range(kodim01, jpeg):
    reconstruction = jpeg(kodim01, 30)
    as_tensor = lambda image: torch.from_numpy(yuv10(image)[0] / 1023 * 255)[None, None]  # noqa: E731
    expected = float(information_weighted_ssim(as_tensor(reconstruction), as_tensor(kodim01), data_range=255.0))
    assert IWSSIM().measure(kodim01, reconstruction)["iw_ssim"] == pytest.approx(expected, rel=1e-5)


def test_images_below_the_minimum_size_give_nan_and_say_why():
    small = np.zeros((MIN_SIDE - 1, 300, 3), np.uint8)
    values = IWSSIM().measure(small, small)
    assert math.isnan(values["iw_ssim"]) and "161 px" in values["iw_ssim_note"]
