import math

import numpy as np
from skimage.metrics import peak_signal_noise_ratio

from bench.metrics.psnr import PSNR, psnr


def test_psnr_equals_skimage_on_a_noisy_kodak_image(kodim01):
    rng = np.random.default_rng(0)
    noisy = np.clip(kodim01.astype(int) + rng.integers(-20, 21, kodim01.shape), 0, 255).astype(np.uint8)
    expected = peak_signal_noise_ratio(kodim01, noisy, data_range=255)
    assert abs(psnr(kodim01, noisy) - expected) < 1e-6
    assert 24 < expected < 30


def test_psnr_of_a_known_error_is_exact():
    reference = np.zeros((4, 4, 3), np.uint8)
    reconstruction = reference.copy()
    reconstruction[0, 0, 0] = 255  # MSE = 255^2 / 48 -> PSNR = 10 log10(48)
    assert abs(psnr(reference, reconstruction) - 10 * math.log10(48)) < 1e-12


def test_identical_images_give_inf(kodim01):
    assert PSNR().measure(kodim01, kodim01) == {"psnr": math.inf}


def test_8_bit_and_floating_point_inputs_give_the_same_psnr(kodim01):
    # uint8 takes an exact integer path, other types a float64 one: both must equal skimage.
    rng = np.random.default_rng(1)
    noisy = np.clip(kodim01.astype(int) + rng.integers(-90, 91, kodim01.shape), 0, 255).astype(np.uint8)
    expected = peak_signal_noise_ratio(kodim01, noisy, data_range=255)
    assert abs(psnr(kodim01, noisy) - expected) < 1e-9
    assert abs(psnr(kodim01.astype(np.float32), noisy.astype(np.float32)) - expected) < 1e-9
