"""Operating points: where on its rate-distortion curve a codec is asked to work.

A point is either one of the codec's own settings (JPEG quality 50, a JPEG 2000 compression
ratio, a HiFiC checkpoint name) or a target bits per pixel, for which rate control picks the
setting per image. Its :attr:`~OperatingPoint.label` names it everywhere: the results'
``point`` column, the store's key, the reconstruction folders, the report's curves and
published reference points (``baselines/published/*/data.csv``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from bench.codecs.base import Setting

TARGET_PREFIX = "target_bpp="


@dataclass(frozen=True)
class OperatingPoint:
    """A codec setting, or a target bpp; exactly one of the two."""

    setting: Setting | None = None
    target_bpp: float | None = None

    def __post_init__(self) -> None:
        if (self.setting is None) == (self.target_bpp is None):
            raise ValueError("an operating point is a setting or a target bpp, exactly one of them")
        if self.target_bpp is not None and not (math.isfinite(self.target_bpp) and self.target_bpp > 0):
            raise ValueError(f"target bpp must be a positive number, got {self.target_bpp}")

    @classmethod
    def at_target(cls, bits_per_pixel: float) -> "OperatingPoint":
        return cls(target_bpp=float(bits_per_pixel))

    @property
    def label(self) -> str:
        """``"50"``, ``"lo"``, or ``"target_bpp=0.2"``."""
        return target_label(self.target_bpp) if self.target_bpp is not None else str(self.setting)

    def __str__(self) -> str:
        return self.label


def target_label(bits_per_pixel: float) -> str:
    """The label of the point at target ``bits_per_pixel``."""
    return f"{TARGET_PREFIX}{float(bits_per_pixel):g}"


def setting_label(value: Setting | None) -> str:
    """A setting as a point label; pandas reads ``50`` back as ``50.0`` in a column with gaps."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
