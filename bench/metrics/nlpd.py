"""Normalised Laplacian pyramid distance (NLPD; Laparra et al. 2016), lower is better.

Through ``IQA_pytorch.NLPD`` (Keyan Ding's IQA-pytorch 0.1, the implementation JPEG AI's
reference software uses for its NLPD column; neither piq nor another maintained light
library has NLPD): six pyramid levels with the published divisive-normalisation filters, on
the Y plane of :mod:`bench.metrics.ctc` in [0, 1], one channel.
"""
from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from bench.metrics.base import Column
from bench.metrics.ctc import PlaneMetric, to_tensor

if TYPE_CHECKING:
    import torch

#: Six pyramid levels of 5 x 5 reflection-padded filters need the smaller side at least this long.
MIN_SIDE = 64


@lru_cache(maxsize=1)
def nlpd_model() -> "torch.nn.Module":
    """One ``IQA_pytorch.NLPD(channels=1)`` per process."""
    from bench._torchvision import ensure_torchvision

    # IQA_pytorch imports torchvision at import time.
    ensure_torchvision()
    from IQA_pytorch import NLPD as _NLPD

    return _NLPD(channels=1).eval()


def nlpd(reference: np.ndarray, reconstruction: np.ndarray) -> float:
    """NLPD of two H x W planes in [0, 1]."""
    return float(nlpd_model()(to_tensor(reconstruction), to_tensor(reference), as_loss=False))


class NLPD(PlaneMetric):
    name = "nlpd"
    columns = (Column("nlpd", "NLPD", higher_is_better=False),)
    library = "IQA_pytorch"
    min_side = MIN_SIDE

    def score(self, reference: np.ndarray, reconstruction: np.ndarray) -> float:
        return nlpd(reference, reconstruction)
