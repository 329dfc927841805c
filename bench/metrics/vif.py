"""Pixel-domain VIF (VIFp; Sheikh and Bovik 2006) through ``piq.vif_p``, higher is better.

Computed, as JPEG AI's common test conditions do, on the Y plane of :mod:`bench.metrics.ctc`
(BT.709, 10-bit grid, range [0, 1]) with piq's defaults (noise variance 2, four scales).
"""
from __future__ import annotations

import numpy as np

from bench.metrics.base import Column
from bench.metrics.ctc import PlaneMetric, piq, to_tensor

#: piq's four scales with a 17-pixel window need the smaller side at least this long.
MIN_SIDE = 41


def vif_p(reference: np.ndarray, reconstruction: np.ndarray, data_range: float = 1.0) -> float:
    """``piq.vif_p`` of two H x W planes (floats in ``[0, data_range]``)."""
    import torch

    with torch.no_grad():
        return float(piq().vif_p(to_tensor(reconstruction), to_tensor(reference), data_range=data_range))


class VIF(PlaneMetric):
    name = "vif"
    columns = (Column("vif", "VIF", higher_is_better=True),)
    library = "piq"
    min_side = MIN_SIDE

    def score(self, reference: np.ndarray, reconstruction: np.ndarray) -> float:
        return vif_p(reference, reconstruction)
