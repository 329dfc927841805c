import math

import numpy as np
import pytest
import torch
from pytorch_msssim import ms_ssim

from bench.metrics.ms_ssim import MIN_SIDE
from bench.metrics.ms_ssim_y import MSSSIMY
from ctc_reference import yuv10


def test_is_pytorch_msssim_on_the_10_bit_luma_codes(kodim01, jpeg):
    reconstruction = jpeg(kodim01, 30)
    as_tensor = lambda image: torch.from_numpy(yuv10(image)[0]).float()[None, None]  # noqa: E731
    expected = float(ms_ssim(as_tensor(kodim01), as_tensor(reconstruction), data_range=1023))
    assert MSSSIMY().measure(kodim01, reconstruction)["ms_ssim_y"] == pytest.approx(expected, rel=1e-6)
    assert 0.9 < expected < 1


def test_images_below_the_minimum_size_give_nan_and_say_why():
    small = np.zeros((MIN_SIDE - 1, 300, 3), np.uint8)
    values = MSSSIMY().measure(small, small)
    assert math.isnan(values["ms_ssim_y"]) and "161 px" in values["ms_ssim_y_note"]


def test_one_prepared_reference_gives_the_library_s_value_for_each_reconstruction(kodim01, jpeg):
    from bench.metrics.ctc import PEAK, ctc_luma, to_tensor

    metric = MSSSIMY()
    prepared = metric.prepare_reference(kodim01)
    for quality in (10, 60):
        reconstruction = jpeg(kodim01, quality)
        expected = float(ms_ssim(to_tensor(ctc_luma(kodim01) * PEAK), to_tensor(ctc_luma(reconstruction) * PEAK), data_range=1023.0))
        # Equal here bit for bit; 1e-7 as for RGB MS-SSIM (tests/metrics/test_ms_ssim.py).
        assert metric.measure_prepared(prepared, reconstruction)["ms_ssim_y"] == pytest.approx(expected, rel=1e-7, abs=0)
