"""MS-SSIM on the luma plane, as JPEG AI's common test conditions report it, higher is better.

``pytorch_msssim.ms_ssim`` (default weights, 11-pixel window) on the 10-bit BT.709 Y plane of
:mod:`bench.metrics.ctc` as codes 0..1023 with data range 1023, as JPEG AI's reference
software computes its "MS-SSIM (PyTorch)" column. ``ms_ssim`` is the same on RGB; both go through
:mod:`bench.metrics.ms_ssim`'s prepared computation, the library's operations with the reference's
side done once.
"""
from __future__ import annotations

import numpy as np

from bench.metrics.base import Column
from bench.metrics.ctc import PEAK, PlaneMetric, to_tensor
from bench.metrics.ms_ssim import MIN_SIDE, PreparedReference, ms_ssim_tensor, prepare_tensor


def ms_ssim_y(reference: np.ndarray, reconstruction: np.ndarray) -> float:
    """MS-SSIM of two H x W planes in [0, 1], scored as 10-bit codes."""
    return ms_ssim_tensor(prepare_tensor(to_tensor(reference * PEAK)), to_tensor(reconstruction * PEAK), float(PEAK))


class MSSSIMY(PlaneMetric):
    name = "ms_ssim_y"
    columns = (Column("ms_ssim_y", "MS-SSIM (Y)", higher_is_better=True, db_scale=True),)
    library = "pytorch-msssim"
    min_side = MIN_SIDE
    # Measured for one row with its prepared reference (156: benchmarks/peak_memory.py on a 25 MP image,
    # less jpeg + psnr's 24; docs/memory.md) plus a worker's second prepared reference (21 B/px).
    peak_bytes_per_pixel = 156.0 + 21.0

    def prepare_planes(self, planes: np.ndarray) -> PreparedReference:
        return prepare_tensor(to_tensor(planes * PEAK))

    def score(self, reference: PreparedReference, reconstruction: np.ndarray) -> float:
        return ms_ssim_tensor(reference, to_tensor(reconstruction * PEAK), float(PEAK))
