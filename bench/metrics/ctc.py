"""The colour transform of JPEG AI's common test conditions, shared by the ``ctc`` metrics.

JPEG AI's Common Training and Test Conditions (ISO/IEC JTC 1/SC 29/WG1 N92048, 92nd meeting,
2021) evaluate every codec on the same planes, computed as JPEG AI's reference software
(``src/codec/metrics/metrics.py``, ``--internal-bits 10 --color-conv 709``) computes them from
an 8-bit sRGB PNG:

1. the RGB values scaled to [0, 1] and rounded to the 10-bit grid (``round(v * 1023) / 1023``);
2. BT.709 full-range Y'CbCr from those: ``Y = 0.2126 R + 0.7152 G + 0.0722 B``,
   ``U = (B - Y) / 1.8556 + 0.5``, ``V = (R - Y) / 1.5748 + 0.5``, clipped to [0, 1] and
   rounded to the 10-bit grid again.

YUV PSNR is taken on these planes at 10 bits (peak 1023); MS-SSIM, VIF, NLPD, IW-SSIM and
PSNR-HVS-M on Y; FSIM (FSIMc) and DISTS on the 10-bit RGB. See docs/metrics.md. The
reference's planes are computed once per reference image (:class:`PreparedPlanes`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from bench.metrics.base import Metric

if TYPE_CHECKING:
    import torch

#: BT.709 luma weights of R, G, B.
BT709 = (0.2126, 0.7152, 0.0722)
#: The chroma scales: ``U = (B - Y) / CB_SCALE``, ``V = (R - Y) / CR_SCALE`` (2 (1 - weight)).
CB_SCALE, CR_SCALE = 2 * (1 - BT709[2]), 2 * (1 - BT709[0])
#: Bit depth of the planes every CTC metric is computed on.
INTERNAL_BITS = 10
PEAK = (1 << INTERNAL_BITS) - 1


def to_grid(values: np.ndarray) -> np.ndarray:
    """Values in [0, 1] rounded to the nearest level of the 10-bit grid."""
    return np.round(values * PEAK) / PEAK


def ctc_rgb(image: np.ndarray) -> np.ndarray:
    """H x W x 3 uint8 -> H x W x 3 float64 RGB in [0, 1] on the 10-bit grid (step 1)."""
    return to_grid(image.astype(np.float64) / 255.0)


def ctc_yuv(image: np.ndarray) -> np.ndarray:
    """H x W x 3 uint8 -> 3 x H x W float64 BT.709 full-range Y, U, V in [0, 1] on the 10-bit grid."""
    rgb = ctc_rgb(image)
    red, green, blue = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    kr, kg, kb = BT709
    luma = kr * red + kg * green + kb * blue
    # B - Y and R - Y written as differences of the inputs, so that a neutral pixel (R = G = B)
    # has chroma exactly 0.5 (code 511.5, rounded half to even: 512) instead of 511.5 plus or
    # minus the rounding error of Y, which would pick 511 or 512 by accident.
    blue_difference = kr * (blue - red) + kg * (blue - green)
    red_difference = kg * (red - green) + kb * (red - blue)
    planes = np.stack([luma, blue_difference / CB_SCALE + 0.5, red_difference / CR_SCALE + 0.5])
    return to_grid(np.clip(planes, 0.0, 1.0))


def ctc_luma(image: np.ndarray) -> np.ndarray:
    """H x W float64 Y plane of :func:`ctc_yuv`."""
    return ctc_yuv(image)[0]


def check_pair(reference: np.ndarray, reconstruction: np.ndarray) -> None:
    """Raise ``ValueError`` unless the two images have the same shape."""
    if reference.shape != reconstruction.shape:
        raise ValueError(f"shape mismatch: reference {reference.shape} vs reconstruction {reconstruction.shape}")


def below_minimum(image: np.ndarray, minimum: int, label: str, columns: tuple[str, ...]) -> dict[str, object] | None:
    """NaN for each of ``columns``, with a ``<first column>_note`` saying why, when the smaller
    side of ``image`` is below ``minimum`` pixels; else None.

    The row's other metrics stay valid, as with MS-SSIM's minimum size.
    """
    height, width = image.shape[:2]
    if min(height, width) >= minimum:
        return None
    values: dict[str, object] = {column: math.nan for column in columns}
    values[f"{columns[0]}_note"] = f"{width}x{height} is below {label}'s minimum side of {minimum} px"
    return values


def piq() -> ModuleType:
    """The ``piq`` package; it imports torchvision, which needs :mod:`bench._torchvision`'s fix first."""
    from bench._torchvision import ensure_torchvision

    ensure_torchvision()
    import piq as _piq

    return _piq


def to_tensor(planes: np.ndarray) -> "torch.Tensor":
    """An H x W plane or an H x W x 3 image (float) -> a 1 x C x H x W float32 tensor."""
    import torch

    array = planes[None] if planes.ndim == 2 else planes.transpose(2, 0, 1)
    return torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32))[None]


@dataclass(frozen=True)
class PreparedPlanes:
    """A reference image's shape and its CTC planes as the metric's ``prepare_planes`` left them
    (None, with the values to give instead in ``too_small``, when the image is below the metric's
    minimum size)."""

    shape: tuple[int, ...]
    planes: Any
    too_small: dict[str, object] | None = None

    def check(self, reconstruction: np.ndarray) -> None:
        """Raise ``ValueError`` unless ``reconstruction`` has the reference's shape."""
        if reconstruction.shape != self.shape:
            raise ValueError(f"shape mismatch: reference {self.shape} vs reconstruction {reconstruction.shape}")


class PlaneMetric(Metric):
    """A metric of one column on one of the CTC's planes: the luma (``plane = "y"``, H x W in
    [0, 1]) or the 10-bit RGB (``"rgb"``, H x W x 3 in [0, 1]).

    Subclasses set ``name``, ``columns``, ``library``, ``plane`` and ``min_side``, and implement
    :meth:`score`. A pair whose smaller side is below ``min_side`` gets NaN and a note.
    """

    plane: ClassVar[str] = "y"
    #: The smallest side, in pixels, the metric's scales and windows need.
    min_side: ClassVar[int] = 1

    def score(self, reference: Any, reconstruction: np.ndarray) -> float:
        """The metric of the reference's planes (as :meth:`prepare_planes` left them) and the
        reconstruction's, of the kind :attr:`plane` names."""
        raise NotImplementedError

    def prepare_planes(self, planes: np.ndarray) -> Any:
        """What :meth:`score` needs of the reference's planes, once per reference; the default: the planes."""
        return planes

    def signature(self) -> str:
        return f"{self.name}:{self.library}:{self.plane}-bt709-10bit"

    def planes(self, image: np.ndarray) -> np.ndarray:
        """The plane(s) of ``image`` (H x W x 3 uint8) that :attr:`plane` names."""
        return ctc_luma(image) if self.plane == "y" else ctc_rgb(image)

    def measure(self, reference: np.ndarray, reconstruction: np.ndarray) -> dict[str, object]:
        return self.measure_prepared(self.prepare_reference(reference), reconstruction)

    def prepare_reference(self, reference: np.ndarray) -> PreparedPlanes:
        column = self.columns[0]
        too_small = below_minimum(reference, self.min_side, column.label, (column.name,))
        return PreparedPlanes(reference.shape, None if too_small else self.prepare_planes(self.planes(reference)), too_small)

    def measure_prepared(self, prepared: PreparedPlanes, reconstruction: np.ndarray) -> dict[str, object]:
        prepared.check(reconstruction)
        if prepared.too_small is not None:
            return dict(prepared.too_small)
        return {self.columns[0].name: self.score(prepared.planes, self.planes(reconstruction))}
