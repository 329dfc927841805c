"""Multi-scale SSIM on RGB through pytorch_msssim."""
from __future__ import annotations

import math

import numpy as np

from bench.metrics.base import Column, Metric

#: MS-SSIM's five scales with an 11-pixel window need the smaller side above (11 - 1) * 2**4.
MIN_SIDE = (11 - 1) * 2**4 + 1


def ms_ssim(reference: np.ndarray, reconstruction: np.ndarray) -> float:
    """MS-SSIM of two H x W x 3 uint8 images, data range 255, default weights.

    Equal to ``pytorch_msssim.ms_ssim(X, Y, data_range=255)`` on the float NCHW tensors.
    Raises ``ValueError`` when the smaller side is below :data:`MIN_SIDE` (161 px).
    """
    import torch
    from pytorch_msssim import ms_ssim as _ms_ssim

    if reference.shape != reconstruction.shape:
        raise ValueError(f"shape mismatch: reference {reference.shape} vs reconstruction {reconstruction.shape}")
    if min(reference.shape[:2]) < MIN_SIDE:
        raise ValueError(f"image is {reference.shape[1]}x{reference.shape[0]}; MS-SSIM needs both sides >= {MIN_SIDE}")

    def to_tensor(image: np.ndarray) -> "torch.Tensor":
        return torch.tensor(image, dtype=torch.float32).permute(2, 0, 1)[None]

    with torch.no_grad():
        return float(_ms_ssim(to_tensor(reference), to_tensor(reconstruction), data_range=255.0))


class MSSSIM(Metric):
    name = "ms_ssim"
    # Rows of images too small for five scales also get an ``ms_ssim_note`` saying so.
    columns = (Column("ms_ssim", "MS-SSIM", higher_is_better=True, db_scale=True),)
    library = "pytorch-msssim"
    peak_bytes_per_pixel = 190.0  # measured: 181 on a 25 MP image (docs/memory.md)

    def measure(self, reference: np.ndarray, reconstruction: np.ndarray) -> dict[str, float]:
        # Images too small for five scales get NaN, with the reason beside it, instead of
        # failing the row: its other metrics stay valid.
        if min(reference.shape[:2]) < MIN_SIDE:
            height, width = reference.shape[:2]
            return {"ms_ssim": math.nan, "ms_ssim_note": f"{width}x{height} is below MS-SSIM's minimum side of {MIN_SIDE} px"}
        return {"ms_ssim": ms_ssim(reference, reconstruction)}
