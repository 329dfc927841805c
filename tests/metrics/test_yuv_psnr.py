import math

import numpy as np
import pytest
from skimage.metrics import peak_signal_noise_ratio

from bench.metrics.ctc import ctc_yuv
from bench.metrics.yuv_psnr import YUVPSNR, yuv_psnr


def test_each_plane_equals_scikit_image_on_the_10_bit_planes(kodim01_crop, jpeg):
    # The planes themselves are checked against the BT.709 matrix in test_ctc.py.
    reconstruction = jpeg(kodim01_crop, 40)
    values = YUVPSNR().measure(kodim01_crop, reconstruction)
    expected = [peak_signal_noise_ratio(np.rint(ref * 1023), np.rint(rec * 1023), data_range=1023)
                for ref, rec in zip(ctc_yuv(kodim01_crop), ctc_yuv(reconstruction))]
    assert [values["psnr_y"], values["psnr_u"], values["psnr_v"]] == pytest.approx(expected, rel=1e-12)
    assert values["psnr_yuv"] == pytest.approx((6 * expected[0] + expected[1] + expected[2]) / 8, rel=1e-12)
    # JPEG at quality 40 costs luma more than chroma here, as usual.
    assert 28 < values["psnr_y"] < values["psnr_u"]


def test_a_known_error_on_grey():
    reference = np.full((16, 16, 3), 128, np.uint8)
    reconstruction = np.full((16, 16, 3), 129, np.uint8)
    values = yuv_psnr(reference, reconstruction)
    # Y codes 514 and 518 (129 / 255 * 1023 = 517.5...), an error of 4 everywhere; chroma identical.
    assert values["psnr_y"] == pytest.approx(10 * math.log10(1023**2 / 16), abs=1e-12)
    assert values["psnr_u"] == values["psnr_v"] == values["psnr_yuv"] == math.inf


def test_shape_mismatch_is_an_error():
    with pytest.raises(ValueError, match="shape mismatch"):
        yuv_psnr(np.zeros((8, 8, 3), np.uint8), np.zeros((8, 9, 3), np.uint8))
