"""SSIMULACRA 2 against scores of the C++ reference on synthetic image pairs.

The pairs and scores are those of imazen/ssimulacra2 ``ssimulacra2/src/reference_data.rs``
(commit 1599595, "captured from the C++ ssimulacra2", cloudinary/ssimulacra2); the images are
regenerated here by the generators of its ``examples/capture_cpp_reference.rs``, and the sha256
of their raw RGB bytes is checked against the one recorded there, so the scores are for the
very same pixels.
"""
from __future__ import annotations

import hashlib

import numpy as np
import pytest

from bench.metrics.ssimulacra2 import SSIMULACRA2, recursive_filter, recursive_gaussian, recursive_gaussian_blur, ssimulacra2


def uniform(side: int, value: int) -> np.ndarray:
    return np.full((side, side, 3), value, np.uint8)


def gradient(side: int) -> np.ndarray:
    row = (np.arange(side) * 255 // (side - 1)).astype(np.uint8)
    return np.repeat(np.tile(row[None, :, None], (side, 1, 1)), 3, axis=2)


def lcg_noise(side: int, seed: int) -> np.ndarray:
    state, values = seed, []
    for _ in range(side * side * 3):
        state = (state * 6364136223846793005 + 1442695040888963407) % 2**64
        values.append((state >> 33) & 0xFF)
    return np.array(values, np.uint8).reshape(side, side, 3)


# name: (source, distorted, C++ score, sha256 of the distorted image's raw RGB, or of the source when distorted is uniform 128)
CASES = {
    "uniform_shift_5_64x64": (uniform(64, 128), uniform(64, 133), 91.52357693, "5b0e43ac49bd5fb36490734280e3fb2d61ed608f0cc04c866b00fdc205528616"),
    "uniform_shift_10_64x64": (uniform(64, 128), uniform(64, 138), 80.24289393, "e802fe3a49ace0c2ec9b689de7d5b875d81b8e0653110b00cd8b2ee51fa40979"),
    "uniform_shift_20_64x64": (uniform(64, 128), uniform(64, 148), 56.05855584, "fe8a663ebc8cead56c6e1879d9fe43acf67ad22a1a4a08429510186f2fb51acc"),
    "uniform_shift_50_64x64": (uniform(64, 128), uniform(64, 178), -8.75942256, "e67286008fa164d1af611cd84f922e6cbe9a48e4d55e50e0665dd9b642e9a6bb"),
    "uniform_shift_20_256x256": (uniform(256, 128), uniform(256, 148), 59.77892918, "2aebb5647caa208acc8f8f3fdeb9868f828c1a82bf554bc654eb2a850406ad2a"),
    "uniform_shift_50_256x256": (uniform(256, 128), uniform(256, 178), -0.39085784, "ebf9afb21c2447887ac397990d539d9369aca02485bbac3af760da7f4132a2fc"),
    "gradient_vs_uniform_64x64": (gradient(64), uniform(64, 128), -64.56872148, "bfcfaa0618d282841d4469793253649ea6ddab2f1d0351548cb6f05a8fd79b87"),
    "noise_vs_uniform_64x64": (lcg_noise(64, 42), uniform(64, 128), -47.33572558, "7f6be7f433ccb0a006e888f827df518a15c560c44b89852441183c2f61ea59f2"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_scores_agree_with_the_cpp_reference(name):
    source, distorted, expected, sha256 = CASES[name]
    hashed = source if "_vs_" in name else distorted
    assert hashlib.sha256(hashed.tobytes()).hexdigest() == sha256  # the very images the reference scored
    assert ssimulacra2(source, distorted) == pytest.approx(expected, abs=0.25)


def test_identical_images_score_100_and_worse_jpeg_scores_lower(kodim01, jpeg):
    crop = np.ascontiguousarray(kodim01[:256, :256])
    assert ssimulacra2(crop, crop) == 100.0
    scores = [SSIMULACRA2().measure(crop, jpeg(crop, quality))["ssimulacra2"] for quality in (90, 50, 10)]
    assert scores[0] > scores[1] > scores[2]


def test_the_blur_is_a_normalised_gaussian_inside_the_image():
    radius, n2, d1 = recursive_gaussian(1.5)
    assert radius == 5
    impulse = np.zeros((41, 41, 1))
    impulse[20, 20] = 1.0
    blurred = recursive_gaussian_blur(impulse)[..., 0]
    assert blurred.sum() == pytest.approx(1.0, abs=1e-4)
    profile = blurred[20] / blurred[20, 20]
    assert profile[21] == pytest.approx(np.exp(-1 / (2 * 1.5**2)), abs=0.01)  # one pixel away
    # Zeros outside: a uniform image darkens at its border, as in the reference.
    edge = recursive_gaussian_blur(np.ones((32, 32, 1)))[..., 0]
    assert edge[16, 16] == pytest.approx(1.0, abs=1e-4) and edge[0, 16] < 0.7


@pytest.mark.parametrize("shape", [(773, 40), (1, 3), (2, 3), (3, 5, 2)])
def test_the_recursive_filter_is_scipy_lfilter(shape):
    from scipy.signal import lfilter

    inputs = np.random.default_rng(3).random(shape) * 4.0
    _, n2, d1 = recursive_gaussian(1.5)
    for k in range(3):
        expected = lfilter([n2[k]], [1.0, d1[k], 1.0], inputs, axis=0)
        # Bit for bit with x86-64 wheels (0 here, and in benchmarks/metrics_cost.py's scores); a scipy
        # built to fuse lfilter's multiply-add (FMA) rounds it once instead of twice.
        np.testing.assert_allclose(recursive_filter(inputs, n2[k], d1[k]), expected, rtol=1e-12, atol=1e-14)


def lfilter_blur(image: np.ndarray) -> np.ndarray:
    """The reference's blur written directly with scipy's lfilter, one lane at a time, rows then columns."""
    from scipy.signal import lfilter

    radius, n2, d1 = recursive_gaussian(1.5)

    def along(values: np.ndarray, axis: int) -> np.ndarray:
        values = np.moveaxis(values, axis, -1)
        width = values.shape[-1]
        # Pixel i at index i + 2N, zeros outside; input n (from 1 - N) is x[n - N - 1] + x[n + N - 1].
        padded = np.zeros(values.shape[:-1] + (width + 3 * radius,))
        padded[..., 2 * radius : 2 * radius + width] = values
        first = np.arange(1 - radius, width) - radius - 1 + 2 * radius
        summed = padded[..., first] + padded[..., first + 2 * radius]
        blurred = sum(lfilter([n2[k]], [1.0, d1[k], 1.0], summed, axis=-1) for k in range(3))
        return np.moveaxis(blurred[..., radius - 1 :], -1, axis)

    return along(along(image, 1), 0)


@pytest.mark.parametrize("shape", [(512, 768, 3), (8, 9, 3), (5, 4, 1), (1, 1, 2)])
def test_the_blur_is_the_lfilter_blur(shape):
    image = np.random.default_rng(4).random(shape)
    blurred = recursive_gaussian_blur(image)
    np.testing.assert_allclose(blurred, lfilter_blur(image), rtol=1e-12, atol=1e-14)  # 0 here; FMA as above


def test_the_prepared_maps_are_the_port_s_bit_for_bit(kodim01, jpeg):
    from ssimulacra2 import ssimulacra2 as port

    from bench.metrics.ssimulacra2 import _blur_each, _xyb_scales, edge_averages, prepare_reference, ssim_averages

    prepared = prepare_reference(kodim01)
    for reference, second in zip(prepared.scales, _xyb_scales(jpeg(kodim01, 30))):
        mu2, sigma2, sigma12 = _blur_each(second, second * second, reference.xyb * second)
        sigma1 = recursive_gaussian_blur(reference.xyb * reference.xyb)
        assert np.array_equal(ssim_averages(reference, mu2, sigma2, sigma12), port.ssim_map(reference.mu, mu2, sigma1, sigma2, sigma12))
        assert np.array_equal(edge_averages(reference, second, mu2), port.edge_diff_map(reference.xyb, reference.mu, second, mu2))


def test_images_below_eight_pixels_are_refused():
    with pytest.raises(ValueError, match="needs both sides >= 8"):
        ssimulacra2(uniform(7, 1), uniform(7, 2))
