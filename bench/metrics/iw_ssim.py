"""Information-weighted SSIM (Wang and Li 2011) through ``piq.information_weighted_ssim``.

Computed, as JPEG AI's common test conditions do, on the Y plane of :mod:`bench.metrics.ctc`
scaled to [0, 255] (the range of the authors' MATLAB code), with its defaults: five scales,
11-pixel Gaussian window, parent band, 3 x 3 blocks. Higher is better.
"""
from __future__ import annotations

import numpy as np

from bench.metrics.base import Column
from bench.metrics.ctc import PlaneMetric, piq, to_tensor

#: Five scales with an 11-pixel window need the smaller side at least (11 - 1) * 2**4 + 1.
MIN_SIDE = (11 - 1) * 2**4 + 1


def iw_ssim(reference: np.ndarray, reconstruction: np.ndarray, data_range: float = 255.0) -> float:
    """``piq.information_weighted_ssim`` of two H x W planes (floats in ``[0, data_range]``)."""
    import torch

    with torch.no_grad():
        return float(piq().information_weighted_ssim(to_tensor(reconstruction), to_tensor(reference), data_range=data_range))


class IWSSIM(PlaneMetric):
    name = "iw_ssim"
    columns = (Column("iw_ssim", "IW-SSIM", higher_is_better=True, db_scale=True),)
    library = "piq"
    min_side = MIN_SIDE

    def score(self, reference: np.ndarray, reconstruction: np.ndarray) -> float:
        # The range of the authors' MATLAB code.
        return iw_ssim(reference * 255.0, reconstruction * 255.0)
