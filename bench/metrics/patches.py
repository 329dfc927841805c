"""HiFiC's patch protocol for FID and KID on full-resolution images.

Mentzer et al. (HiFiC, 2020) compute FID/KID on 256 x 256 crops: each image is split into
non-overlapping patches on a grid starting at the top-left corner (incomplete patches at
the right and bottom edges are dropped), and, when both height and width are at least
1.5 x 256 = 384, a second grid shifted by 128 pixels in both directions is added.

Examples: 768 x 512 (Kodak) gives 3 x 2 + 2 x 1 = 8 patches; 481 x 321 (BSDS500) gives
1 x 1 = 1 patch and no shifted grid.
"""
from __future__ import annotations

import numpy as np

PATCH_SIZE = 256


def _grid(height: int, width: int, offset: int, size: int) -> list[tuple[int, int]]:
    return [
        (top, left)
        for top in range(offset, height - size + 1, size)
        for left in range(offset, width - size + 1, size)
    ]


def patch_positions(height: int, width: int, size: int = PATCH_SIZE) -> list[tuple[int, int]]:
    """Top-left corners ``(top, left)`` of the protocol's patches, base grid first, row-major."""
    positions = _grid(height, width, 0, size)
    if min(height, width) >= size * 3 // 2:
        positions += _grid(height, width, size // 2, size)
    return positions


def extract_patches(image: np.ndarray, size: int = PATCH_SIZE) -> np.ndarray:
    """The protocol's patches of an H x W x C image as an N x size x size x C array (a copy).

    N is 0 when the image is smaller than one patch in either direction.
    """
    positions = patch_positions(image.shape[0], image.shape[1], size)
    patches = np.empty((len(positions), size, size) + image.shape[2:], dtype=image.dtype)
    for index, (top, left) in enumerate(positions):
        patches[index] = image[top : top + size, left : left + size]
    return patches
