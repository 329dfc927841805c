"""MS-SSIM on the luma plane, as JPEG AI's common test conditions report it, higher is better.

``pytorch_msssim.ms_ssim`` (default weights, 11-pixel window) on the 10-bit BT.709 Y plane of
:mod:`bench.metrics.ctc` as codes 0..1023 with data range 1023, as JPEG AI's reference
software computes its "MS-SSIM (PyTorch)" column. ``ms_ssim`` is the same on RGB.
"""
from __future__ import annotations

import numpy as np

from bench.metrics.base import Column
from bench.metrics.ctc import PEAK, PlaneMetric, to_tensor
from bench.metrics.ms_ssim import MIN_SIDE


def ms_ssim_y(reference: np.ndarray, reconstruction: np.ndarray) -> float:
    """MS-SSIM of two H x W planes in [0, 1], scored as 10-bit codes."""
    import torch
    from pytorch_msssim import ms_ssim

    with torch.no_grad():
        return float(ms_ssim(to_tensor(reference * PEAK), to_tensor(reconstruction * PEAK), data_range=float(PEAK)))


class MSSSIMY(PlaneMetric):
    name = "ms_ssim_y"
    columns = (Column("ms_ssim_y", "MS-SSIM (Y)", higher_is_better=True, db_scale=True),)
    library = "pytorch-msssim"
    min_side = MIN_SIDE

    def score(self, reference: np.ndarray, reconstruction: np.ndarray) -> float:
        return ms_ssim_y(reference, reconstruction)
