"""YUV PSNR as JPEG AI's common test conditions report it: Y, U, V and their 6:1:1 mean.

Each plane's PSNR is taken on the 10-bit BT.709 full-range planes of :mod:`bench.metrics.ctc`
with peak 1023; ``psnr_yuv = (6 psnr_y + psnr_u + psnr_v) / 8``, the weighted mean of the
three PSNR values (not of their squared errors), as in the CTC's reporting template.
"""
from __future__ import annotations

import math

import numpy as np

from bench.metrics.base import Column, Metric
from bench.metrics.ctc import PEAK, PreparedPlanes, check_pair, ctc_yuv

#: Weights of the Y, U and V PSNRs in the mean.
WEIGHTS = (6, 1, 1)


def plane_psnr(reference: np.ndarray, reconstruction: np.ndarray) -> float:
    """PSNR in dB of two [0, 1] planes on the 10-bit grid, peak 1023; ``inf`` when identical."""
    # The planes are integers / 1023, so the squared error of the integers is exact.
    difference = np.rint(reference * PEAK) - np.rint(reconstruction * PEAK)
    mean_squared_error = float(np.mean(np.square(difference)))
    return math.inf if mean_squared_error == 0.0 else 10.0 * math.log10(PEAK**2 / mean_squared_error)


def yuv_psnr(reference: np.ndarray, reconstruction: np.ndarray) -> dict[str, float]:
    """``psnr_y``, ``psnr_u``, ``psnr_v`` and ``psnr_yuv`` of two H x W x 3 uint8 sRGB images."""
    check_pair(reference, reconstruction)
    return yuv_psnr_prepared(PreparedPlanes(reference.shape, ctc_yuv(reference)), reconstruction)


def yuv_psnr_prepared(reference: PreparedPlanes, reconstruction: np.ndarray) -> dict[str, float]:
    """:func:`yuv_psnr` against a reference's :func:`~bench.metrics.ctc.ctc_yuv` planes."""
    reference.check(reconstruction)
    values = [plane_psnr(ref, rec) for ref, rec in zip(reference.planes, ctc_yuv(reconstruction))]
    mean = sum(weight * value for weight, value in zip(WEIGHTS, values)) / sum(WEIGHTS)
    return {"psnr_y": values[0], "psnr_u": values[1], "psnr_v": values[2], "psnr_yuv": mean}


class YUVPSNR(Metric):
    name = "yuv_psnr"
    columns = (
        Column("psnr_yuv", "YUV PSNR (6:1:1)", higher_is_better=True, unit="dB"),
        Column("psnr_y", "PSNR-Y", higher_is_better=True, unit="dB"),
        Column("psnr_u", "PSNR-U", higher_is_better=True, unit="dB"),
        Column("psnr_v", "PSNR-V", higher_is_better=True, unit="dB"),
    )
    library = "numpy"

    def signature(self) -> str:
        return "yuv_psnr:bt709-full-10bit"

    def measure(self, reference: np.ndarray, reconstruction: np.ndarray) -> dict[str, float]:
        return yuv_psnr(reference, reconstruction)

    def prepare_reference(self, reference: np.ndarray) -> PreparedPlanes:
        return PreparedPlanes(reference.shape, ctc_yuv(reference))

    def measure_prepared(self, prepared: PreparedPlanes, reconstruction: np.ndarray) -> dict[str, float]:
        return yuv_psnr_prepared(prepared, reconstruction)
