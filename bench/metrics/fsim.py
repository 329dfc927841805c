"""FSIM with chroma (FSIMc; Zhang et al. 2011), piq's computation, higher is better.

Computed, as JPEG AI's reference software does (IQA-pytorch ``FSIM(channels=3)``), on the
10-bit RGB of :mod:`bench.metrics.ctc` in [0, 1]; piq converts it to YIQ and downsamples by
``round(min(H, W) / 256)`` first, as the authors' MATLAB code does.

``piq.fsim`` builds its log-Gabor filters and the reference's phase congruency and gradient map
on every call, though they depend on the reference (and its size) alone. :func:`prepare_reference`
computes them once with piq's own functions, and :func:`fsim_prepared` finishes with the rest of
``piq.fsim``'s operations in its order (piq 0.8.0), so the value is piq's, bit for bit here
(tests/metrics/test_fsim.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from bench.metrics.base import Column
from bench.metrics.ctc import PlaneMetric, piq, to_tensor

if TYPE_CHECKING:
    from types import ModuleType

    import torch

#: ``piq.fsim``'s defaults for the filters and the phase congruency (tests check them against piq's).
FILTER_OPTIONS = {"scales": 4, "orientations": 4, "min_length": 6, "mult": 2, "sigma_f": 0.55, "delta_theta": 1.2}
NOISE_K = 2.0
#: FSIM's constants (T1 phase congruency, T2 gradient, T3 / T4 chroma, lambda), as piq has them.
T1, T2, T3, T4, LAMBDA = 0.85, 160, 200, 200, 0.03


@dataclass(frozen=True)
class PreparedFSIM:
    """The reference's side: its tensor's shape, the pooling, its luma (and I, Q planes when the
    chroma term is on), the filters, its phase congruency and gradient map."""

    shape: tuple[int, ...]
    kernel_size: int
    luma: "torch.Tensor"
    i: "torch.Tensor | None"
    q: "torch.Tensor | None"
    filters: "torch.Tensor"
    phase_congruency: "torch.Tensor"
    gradient: "torch.Tensor"


def _planes(image: np.ndarray, data_range: float, kernel_size: int | None = None) -> tuple["torch.Tensor", ...]:
    """(tensor shape, pooling, luma, I, Q) of an H x W plane or H x W x 3 image as piq.fsim makes them
    (I and Q None for a plane)."""
    import torch

    tensor = to_tensor(image)
    shape = tuple(tensor.shape)
    kernel_size = kernel_size or max(1, round(min(tensor.shape[-2:]) / 256))
    pooled = torch.nn.functional.avg_pool2d(tensor / float(data_range) * 255, kernel_size)
    if pooled.size(1) != 3:
        return shape, kernel_size, pooled, None, None
    yiq = piq().functional.rgb2yiq(pooled)
    return shape, kernel_size, yiq[:, :1], yiq[:, 1:2], yiq[:, 2:]


def _gradient(luma: "torch.Tensor") -> "torch.Tensor":
    import torch

    functional = piq().functional
    scharr = functional.scharr_filter(device=luma.device, dtype=luma.dtype)
    return functional.gradient_map(luma, torch.stack([scharr, scharr.transpose(-1, -2)]))


def _piq_fsim() -> "ModuleType":
    """piq's ``fsim`` module (its package's ``fsim`` is the function), imported the way :func:`piq` does."""
    import importlib

    piq()
    return importlib.import_module("piq.fsim")


def _phase_congruency(luma: "torch.Tensor", filters: "torch.Tensor") -> "torch.Tensor":
    return _piq_fsim()._phase_congruency(
        luma, filters=filters, scales=FILTER_OPTIONS["scales"], orientations=FILTER_OPTIONS["orientations"], k=NOISE_K
    )


def prepare_reference(reference: np.ndarray, data_range: float = 1.0, chromatic: bool = True) -> PreparedFSIM:
    """The reference's side of FSIM (FSIMc with ``chromatic``, which needs H x W x 3) of an H x W
    plane or H x W x 3 image, floats in ``[0, data_range]``."""
    import torch

    with torch.no_grad():
        shape, kernel_size, luma, i, q = _planes(reference, data_range)
        if chromatic and i is None:
            raise ValueError("FSIMc's chroma term needs an H x W x 3 image; pass chromatic=False for a plane")
        filters = _piq_fsim()._construct_filters(luma, **FILTER_OPTIONS)
        return PreparedFSIM(shape, kernel_size, luma, i if chromatic else None, q if chromatic else None, filters,
                            _phase_congruency(luma, filters), _gradient(luma))


def fsim_prepared(prepared: PreparedFSIM, reconstruction: np.ndarray, data_range: float = 1.0) -> float:
    """:func:`fsim` of ``reconstruction`` against the reference :func:`prepare_reference` prepared."""
    import torch

    functional = piq().functional
    with torch.no_grad():
        shape, _, luma, i, q = _planes(reconstruction, data_range, prepared.kernel_size)
        if shape != prepared.shape:
            raise ValueError(f"shape mismatch: reference {prepared.shape} vs reconstruction {shape}")
        # piq.fsim(x=reconstruction, y=reference): each map takes the reconstruction's side first.
        phase_congruency = _phase_congruency(luma, prepared.filters)
        pc = functional.similarity_map(phase_congruency, prepared.phase_congruency, T1)
        gm = functional.similarity_map(_gradient(luma), prepared.gradient, T2)
        pc_max = torch.where(phase_congruency > prepared.phase_congruency, phase_congruency, prepared.phase_congruency)
        score = gm * pc * pc_max
        if prepared.i is not None:
            s_i = functional.similarity_map(i, prepared.i, T3)
            s_q = functional.similarity_map(q, prepared.q, T4)
            score = score * torch.abs(s_i * s_q) ** LAMBDA
        return float((score.sum(dim=[1, 2, 3]) / pc_max.sum(dim=[1, 2, 3])).mean())


def fsim(reference: np.ndarray, reconstruction: np.ndarray, data_range: float = 1.0, chromatic: bool = True) -> float:
    """``piq.fsim(reconstruction, reference)`` of two H x W planes or H x W x 3 images (floats in
    ``[0, data_range]``; ``chromatic``: FSIMc, for images)."""
    return fsim_prepared(prepare_reference(reference, data_range, chromatic), reconstruction, data_range)


class FSIM(PlaneMetric):
    name = "fsim"
    columns = (Column("fsim", "FSIMc", higher_is_better=True),)
    library = "piq"
    plane = "rgb"

    def prepare_planes(self, planes: np.ndarray) -> PreparedFSIM:
        return prepare_reference(planes)

    def score(self, reference: PreparedFSIM, reconstruction: np.ndarray) -> float:
        return fsim_prepared(reference, reconstruction)
