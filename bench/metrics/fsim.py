"""FSIM with chroma (FSIMc; Zhang et al. 2011) through ``piq.fsim``, higher is better.

Computed, as JPEG AI's reference software does (IQA-pytorch ``FSIM(channels=3)``), on the
10-bit RGB of :mod:`bench.metrics.ctc` in [0, 1]; piq converts it to YIQ and downsamples by
``round(min(H, W) / 256)`` first, as the authors' MATLAB code does.
"""
from __future__ import annotations

import numpy as np

from bench.metrics.base import Column
from bench.metrics.ctc import PlaneMetric, piq, to_tensor


def fsim(reference: np.ndarray, reconstruction: np.ndarray, data_range: float = 1.0, chromatic: bool = True) -> float:
    """``piq.fsim`` of two H x W planes or H x W x 3 images (floats in ``[0, data_range]``)."""
    import torch

    with torch.no_grad():
        return float(piq().fsim(to_tensor(reconstruction), to_tensor(reference), data_range=data_range, chromatic=chromatic))


class FSIM(PlaneMetric):
    name = "fsim"
    columns = (Column("fsim", "FSIMc", higher_is_better=True),)
    library = "piq"
    plane = "rgb"

    def score(self, reference: np.ndarray, reconstruction: np.ndarray) -> float:
        return fsim(reference, reconstruction)
