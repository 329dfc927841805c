"""An independent statement of JPEG AI's CTC planes for the tests: BT.709 full range as a matrix.

Written from ITU-R BT.709 (Kr = 0.2126, Kb = 0.0722) and the CTC's 10-bit rounding, not from
bench.metrics.ctc, so that the tests compare two derivations.
"""
from __future__ import annotations

import numpy as np

KR, KB = 0.2126, 0.0722
KG = 1 - KR - KB
#: Rows Y, Cb, Cr of R'G'B' -> Y'CbCr, full range, chroma centred on 0.
BT709_MATRIX = np.array([
    [KR, KG, KB],
    [-KR / (2 * (1 - KB)), -KG / (2 * (1 - KB)), 0.5],
    [0.5, -KG / (2 * (1 - KR)), -KB / (2 * (1 - KR))],
])


def rgb10(image: np.ndarray) -> np.ndarray:
    """uint8 RGB -> integers 0..1023 (float), the CTC's first rounding."""
    return np.rint(image / 255.0 * 1023)


def yuv10(image: np.ndarray) -> np.ndarray:
    """uint8 RGB -> 3 x H x W integer Y, Cb, Cr codes 0..1023 (float)."""
    planes = np.einsum("ij,hwj->ihw", BT709_MATRIX, rgb10(image) / 1023)
    planes[1:] += 0.5
    return np.rint(np.clip(planes, 0, 1) * 1023)
