"""MS-SSIM on the luma plane, as JPEG AI's common test conditions report it, higher is better.

``pytorch_msssim.ms_ssim`` (default weights, 11-pixel window) on the 10-bit BT.709 Y plane of
:mod:`bench.metrics.ctc` as codes 0..1023 with data range 1023, as JPEG AI's reference
software computes its "MS-SSIM (PyTorch)" column. ``ms_ssim`` is the same on RGB.
"""
from __future__ import annotations

import numpy as np

from bench.metrics.base import Column, Metric
from bench.metrics.ctc import PEAK, below_minimum, check_pair, ctc_luma, to_tensor
from bench.metrics.ms_ssim import MIN_SIDE


def ms_ssim_y(reference: np.ndarray, reconstruction: np.ndarray) -> float:
    """MS-SSIM of two H x W planes in [0, 1], scored as 10-bit codes."""
    import torch
    from pytorch_msssim import ms_ssim

    with torch.no_grad():
        return float(ms_ssim(to_tensor(reference * PEAK), to_tensor(reconstruction * PEAK), data_range=float(PEAK)))


class MSSSIMY(Metric):
    name = "ms_ssim_y"
    columns = (Column("ms_ssim_y", "MS-SSIM (Y)", higher_is_better=True, db_scale=True),)
    library = "pytorch-msssim"

    def signature(self) -> str:
        return "ms_ssim_y:y-bt709-10bit"

    def measure(self, reference: np.ndarray, reconstruction: np.ndarray) -> dict[str, object]:
        check_pair(reference, reconstruction)
        too_small = below_minimum(reference, MIN_SIDE, "MS-SSIM", ("ms_ssim_y",))
        if too_small:
            return too_small
        return {"ms_ssim_y": ms_ssim_y(ctc_luma(reference), ctc_luma(reconstruction))}
