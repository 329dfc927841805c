import pytest
import torch
from piq import fsim as library_fsim

from bench.metrics.fsim import FSIM, fsim
from ctc_reference import rgb10


def test_goldhill_matches_the_published_matlab_value(reference_pair):
    # 0.89691: the authors' MATLAB FeatureSIM on this pair (grey), as piq's tests/test_fsim.py states it.
    reference, distorted = reference_pair("goldhill.gif", "goldhill_jpeg.gif")
    assert fsim(reference, distorted, data_range=255, chromatic=False) == pytest.approx(0.89691, abs=1e-5)


def test_the_metric_is_fsimc_of_the_10_bit_rgb(kodim01_crop, jpeg):
    reconstruction = jpeg(kodim01_crop, 30)
    as_tensor = lambda image: torch.from_numpy(rgb10(image) / 1023).permute(2, 0, 1)[None]  # noqa: E731
    expected = float(library_fsim(as_tensor(reconstruction), as_tensor(kodim01_crop), data_range=1.0, chromatic=True))
    value = FSIM().measure(kodim01_crop, reconstruction)["fsim"]
    assert value == pytest.approx(expected, rel=1e-5)
    assert 0.9 < value < 1.0
