"""HiFiC's 256 x 256 patch protocol, written out for the two common image sizes."""
from __future__ import annotations

import numpy as np

from bench.metrics.patches import extract_patches, patch_positions


def test_kodak_landscape_768x512_gives_six_plus_two_shifted():
    assert patch_positions(512, 768) == [
        (0, 0), (0, 256), (0, 512),
        (256, 0), (256, 256), (256, 512),
        (128, 128), (128, 384),
    ]  # fmt: skip


def test_kodak_portrait_512x768_gives_six_plus_two_shifted():
    assert patch_positions(768, 512) == [
        (0, 0), (0, 256),
        (256, 0), (256, 256),
        (512, 0), (512, 256),
        (128, 128), (384, 128),
    ]  # fmt: skip


def test_bsds_481x321_gives_one_patch_and_no_shifted_grid():
    assert patch_positions(321, 481) == [(0, 0)]
    assert patch_positions(481, 321) == [(0, 0)]


def test_shifted_grid_needs_both_sides_at_least_384():
    assert patch_positions(383, 1024) == [(0, 0), (0, 256), (0, 512), (0, 768)]
    assert patch_positions(384, 384) == [(0, 0), (128, 128)]


def test_image_smaller_than_a_patch_gives_none():
    assert patch_positions(255, 1000) == []
    assert extract_patches(np.zeros((255, 1000, 3), np.uint8)).shape == (0, 256, 256, 3)


def test_extracted_patches_are_the_pixels_at_the_positions():
    image = np.random.default_rng(0).integers(0, 256, size=(512, 768, 3), dtype=np.uint8)
    patches = extract_patches(image)
    assert patches.shape == (8, 256, 256, 3)
    np.testing.assert_array_equal(patches[5], image[256:512, 512:768])
    np.testing.assert_array_equal(patches[7], image[128:384, 384:640])
