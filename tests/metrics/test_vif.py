import math

import numpy as np
import pytest
import torch
from piq import vif_p as library_vif_p

from bench.metrics.vif import MIN_SIDE, VIF, vif_p
from ctc_reference import yuv10


def test_goldhill_matches_the_published_matlab_value(reference_pair):
    # 0.2665: the authors' MATLAB vifvec on this pair, as piq's tests/test_vif.py states it.
    reference, distorted = reference_pair("goldhill.gif", "goldhill_jpeg.gif")
    assert vif_p(reference, distorted, data_range=255) == pytest.approx(0.2665, abs=1e-4)


def test_the_metric_scores_the_bt709_luma(kodim01_crop, jpeg):
    reconstruction = jpeg(kodim01_crop, 30)
    as_tensor = lambda image: torch.from_numpy(yuv10(image)[0] / 1023)[None, None]  # noqa: E731
    expected = float(library_vif_p(as_tensor(reconstruction), as_tensor(kodim01_crop), data_range=1.0))
    assert VIF().measure(kodim01_crop, reconstruction)["vif"] == pytest.approx(expected, rel=1e-5)
    assert VIF().measure(kodim01_crop, kodim01_crop)["vif"] == pytest.approx(1.0, abs=1e-5)


def test_images_below_the_minimum_size_give_nan_and_say_why():
    small = np.zeros((MIN_SIDE - 1, 64, 3), np.uint8)
    values = VIF().measure(small, small)
    assert math.isnan(values["vif"]) and "minimum side of 41 px" in values["vif_note"]


def test_equals_the_vif_jpeg_ais_reference_software_uses(kodim01_crop, jpeg):
    # JPEG AI's src/codec/metrics/metrics.py scores VIF with IQA-pytorch's VIFs(channels=1) on Y in [0, 1].
    from IQA_pytorch import VIFs

    from bench.metrics.ctc import ctc_luma, to_tensor

    reconstruction = jpeg(kodim01_crop, 30)
    with torch.no_grad():
        expected = float(VIFs(channels=1)(to_tensor(ctc_luma(reconstruction)), to_tensor(ctc_luma(kodim01_crop)), as_loss=False))
    assert VIF().measure(kodim01_crop, reconstruction)["vif"] == pytest.approx(expected, rel=1e-5)
