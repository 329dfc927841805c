"""Multi-scale SSIM on RGB: pytorch_msssim's computation, with the reference's side done once.

``pytorch_msssim.ms_ssim`` blurs five maps per scale, two of them (the reference's mean and the
mean of its square) from the reference alone. :func:`prepare_tensor` computes those and the
reference's pyramid with the library's own ``gaussian_filter`` and window, and
:func:`ms_ssim_tensor` finishes each scale with the library's operations in the library's order,
so the value is the library's, bit for bit here (tests/metrics/test_ms_ssim.py). The luma
variant, :mod:`bench.metrics.ms_ssim_y`, uses the same two functions.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from bench.metrics.base import Column, Metric

if TYPE_CHECKING:
    import torch

#: MS-SSIM's five scales with an 11-pixel window need the smaller side above (11 - 1) * 2**4.
MIN_SIDE = (11 - 1) * 2**4 + 1
#: pytorch_msssim's defaults: the Gaussian window, the constants and the five scales' weights.
WIN_SIZE, WIN_SIGMA, K1, K2 = 11, 1.5, 0.01, 0.03
WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)
DATA_RANGE = 255.0


@dataclass(frozen=True)
class ReferenceScale:
    """The reference's side of one scale: the image, its blurred mean, the mean squared, its variance."""

    image: "torch.Tensor"
    mu: "torch.Tensor"
    mu_sq: "torch.Tensor"
    sigma_sq: "torch.Tensor"


@dataclass(frozen=True)
class PreparedReference:
    """What :func:`prepare_tensor` keeps of a reference: its tensor's shape, the window, every scale's side."""

    shape: tuple[int, ...]
    window: "torch.Tensor"
    scales: tuple[ReferenceScale, ...]


def _to_tensor(image: np.ndarray) -> "torch.Tensor":
    import torch

    return torch.tensor(image, dtype=torch.float32).permute(2, 0, 1)[None]


def _half(image: "torch.Tensor") -> "torch.Tensor":
    import torch.nn.functional as F

    return F.avg_pool2d(image, kernel_size=2, padding=[side % 2 for side in image.shape[2:]])


def prepare_tensor(image: "torch.Tensor") -> PreparedReference:
    """The reference's side of every scale of a 1 x C x H x W float32 tensor (smaller side >= :data:`MIN_SIDE`)."""
    import torch
    from pytorch_msssim.ssim import _fspecial_gauss_1d, gaussian_filter

    if min(image.shape[2:]) < MIN_SIDE:
        raise ValueError(f"image is {image.shape[3]}x{image.shape[2]}; MS-SSIM needs both sides >= {MIN_SIDE}")
    shape = tuple(image.shape)
    window = _fspecial_gauss_1d(WIN_SIZE, WIN_SIGMA).repeat([image.shape[1], 1, 1, 1]).to(image.device, dtype=image.dtype)
    scales = []
    with torch.no_grad():
        for level in range(len(WEIGHTS)):
            if level:
                image = _half(image)
            mu = gaussian_filter(image, window)
            mu_sq = mu.pow(2)
            # compensation = 1.0, as the library writes it.
            scales.append(ReferenceScale(image, mu, mu_sq, 1.0 * (gaussian_filter(image * image, window) - mu_sq)))
    return PreparedReference(shape, window, tuple(scales))


def ms_ssim_tensor(prepared: PreparedReference, image: "torch.Tensor", data_range: float) -> float:
    """``pytorch_msssim.ms_ssim(reference, image, data_range)`` of a tensor against the reference
    :func:`prepare_tensor` prepared: the library's operations in its order."""
    import torch
    from pytorch_msssim.ssim import gaussian_filter

    if tuple(image.shape) != prepared.shape:
        raise ValueError(f"shape mismatch: reference {prepared.shape} vs reconstruction {tuple(image.shape)}")
    c1, c2 = (K1 * data_range) ** 2, (K2 * data_range) ** 2
    window = prepared.window
    mcs = []
    with torch.no_grad():
        for level, reference in enumerate(prepared.scales):
            if level:
                image = _half(image)
            mu = gaussian_filter(image, window)
            mu_sq = mu.pow(2)
            mu_product = reference.mu * mu
            sigma_sq = 1.0 * (gaussian_filter(image * image, window) - mu_sq)
            sigma_product = 1.0 * (gaussian_filter(reference.image * image, window) - mu_product)
            cs_map = (2 * sigma_product + c2) / (reference.sigma_sq + sigma_sq + c2)
            ssim_map = ((2 * mu_product + c1) / (reference.mu_sq + mu_sq + c1)) * cs_map
            ssim_per_channel = torch.flatten(ssim_map, 2).mean(-1)
            if level < len(prepared.scales) - 1:
                mcs.append(torch.relu(torch.flatten(cs_map, 2).mean(-1)))
        weights = image.new_tensor(WEIGHTS)
        mcs_and_ssim = torch.stack(mcs + [torch.relu(ssim_per_channel)], dim=0)
        return float(torch.prod(mcs_and_ssim ** weights.view(-1, 1, 1), dim=0).mean())


def prepare_reference(reference: np.ndarray) -> PreparedReference:
    """The reference's side of every scale of an H x W x 3 uint8 image (smaller side >= :data:`MIN_SIDE`)."""
    return prepare_tensor(_to_tensor(reference))


def ms_ssim_prepared(prepared: PreparedReference, reconstruction: np.ndarray) -> float:
    """:func:`ms_ssim` of ``reconstruction`` against the reference :func:`prepare_reference` prepared."""
    return ms_ssim_tensor(prepared, _to_tensor(reconstruction), DATA_RANGE)


def ms_ssim(reference: np.ndarray, reconstruction: np.ndarray) -> float:
    """MS-SSIM of two H x W x 3 uint8 images, data range 255, default weights.

    Equal to ``pytorch_msssim.ms_ssim(X, Y, data_range=255)`` on the float NCHW tensors.
    Raises ``ValueError`` when the smaller side is below :data:`MIN_SIDE` (161 px).
    """
    if reference.shape != reconstruction.shape:
        raise ValueError(f"shape mismatch: reference {reference.shape} vs reconstruction {reconstruction.shape}")
    return ms_ssim_prepared(prepare_reference(reference), reconstruction)


class MSSSIM(Metric):
    name = "ms_ssim"
    # Rows of images too small for five scales also get an ``ms_ssim_note`` saying so.
    columns = (Column("ms_ssim", "MS-SSIM", higher_is_better=True, db_scale=True),)
    library = "pytorch-msssim"
    # Measured for one row with its prepared reference (207: benchmarks/peak_memory.py on a 25 MP image,
    # docs/memory.md) plus a worker's second prepared reference (64 B/px: four float32 RGB maps per
    # scale, all scales; 61.7 counted on Kodak).
    peak_bytes_per_pixel = 207.0 + 64.0

    def measure(self, reference: np.ndarray, reconstruction: np.ndarray) -> dict[str, object]:
        return self.measure_prepared(self.prepare_reference(reference), reconstruction)

    def prepare_reference(self, reference: np.ndarray) -> PreparedReference | dict[str, object]:
        # Images too small for five scales get NaN, with the reason beside it, instead of
        # failing the row: its other metrics stay valid.
        if min(reference.shape[:2]) < MIN_SIDE:
            height, width = reference.shape[:2]
            return {"ms_ssim": math.nan, "ms_ssim_note": f"{width}x{height} is below MS-SSIM's minimum side of {MIN_SIDE} px"}
        return prepare_reference(reference)

    def measure_prepared(self, prepared: PreparedReference | dict[str, object], reconstruction: np.ndarray) -> dict[str, object]:
        if isinstance(prepared, dict):
            return dict(prepared)
        return {"ms_ssim": ms_ssim_prepared(prepared, reconstruction)}
