import math

import numpy as np
import pytest
from scipy.signal import correlate2d

from bench.metrics.nlpd import MIN_SIDE, NLPD, nlpd
from ctc_reference import yuv10

# NLPD's parameters as Laparra et al. (2016) publish them (their NLP_dist.m): the 5 x 5
# low-pass filter, one 3 x 3 divisive-normalisation filter and one constant per level.
LOW_PASS = np.outer([0.05, 0.25, 0.4, 0.25, 0.05], [0.05, 0.25, 0.4, 0.25, 0.05])
NORMALISATION = [
    ([0, 0.1011, 0], [0.1493, 0, 0.1460], [0, 0.1015, 0]),
    ([0, 0.0757, 0], [0.1986, 0, 0.1846], [0, 0.0837, 0]),
    ([0, 0.0477, 0], [0.2138, 0, 0.2243], [0, 0.0467, 0]),
    ([0, 0, 0], [0.2503, 0, 0.2616], [0, 0, 0]),
    ([0, 0, 0], [0.2598, 0, 0.2552], [0, 0, 0]),
    ([0, 0, 0], [0.2215, 0, 0.0717], [0, 0, 0]),
]
SIGMAS = [0.0248, 0.0185, 0.0179, 0.0191, 0.0220, 0.2782]


def upsample_twice(plane: np.ndarray) -> np.ndarray:
    """Bilinear 2x upsampling with the corner samples kept in place (align_corners)."""

    def weights(size: int) -> np.ndarray:
        positions = np.arange(2 * size) * (size - 1) / (2 * size - 1)
        lower = np.minimum(np.floor(positions).astype(int), size - 2)
        matrix = np.zeros((2 * size, size))
        matrix[np.arange(2 * size), lower] = 1 - (positions - lower)
        matrix[np.arange(2 * size), lower + 1] = positions - lower
        return matrix

    return weights(plane.shape[0]) @ plane @ weights(plane.shape[1]).T


def normalised_pyramid(plane: np.ndarray) -> list[np.ndarray]:
    """The six normalised Laplacian levels of a plane whose sides are multiples of 64."""
    levels, current = [], plane
    for normalisation, sigma in zip(NORMALISATION, SIGMAS):
        low = correlate2d(np.pad(current, 2, mode="reflect"), LOW_PASS, mode="valid")[::2, ::2]
        band = current - correlate2d(np.pad(upsample_twice(low), 2, mode="reflect"), LOW_PASS, mode="valid")
        local_amplitude = correlate2d(np.pad(np.abs(band), 1, mode="reflect"), np.array(normalisation), mode="valid")
        levels.append(band / (sigma + local_amplitude))
        current = low
    return levels


def reference_nlpd(reference: np.ndarray, distorted: np.ndarray) -> float:
    pairs = zip(normalised_pyramid(reference), normalised_pyramid(distorted))
    return float(np.mean([np.sqrt(np.mean((a - b) ** 2)) for a, b in pairs]))


def test_nlpd_equals_an_independent_implementation_of_the_published_algorithm(reference_pair):
    reference, distorted = reference_pair("r0.png", "r1.png")
    expected = reference_nlpd(reference / 255, distorted / 255)
    assert nlpd(reference / 255, distorted / 255) == pytest.approx(expected, rel=1e-5)
    # IQA-pytorch's NLPD.py prints 0.4016 for this pair (its authors' torch, 2020).
    assert expected == pytest.approx(0.4016, abs=5e-4)


def test_the_metric_scores_the_bt709_luma(kodim01_crop, jpeg):
    reconstruction = jpeg(kodim01_crop, 30)
    expected = reference_nlpd(yuv10(kodim01_crop)[0] / 1023, yuv10(reconstruction)[0] / 1023)
    assert NLPD().measure(kodim01_crop, reconstruction)["nlpd"] == pytest.approx(expected, rel=1e-5)
    assert NLPD().measure(kodim01_crop, kodim01_crop)["nlpd"] == 0.0


def test_images_below_the_minimum_size_give_nan_and_say_why():
    small = np.zeros((MIN_SIDE - 1, 100, 3), np.uint8)
    values = NLPD().measure(small, small)
    assert math.isnan(values["nlpd"]) and "64 px" in values["nlpd_note"]
