"""High-Throughput JPEG 2000 (JPEG 2000 Part 15) through imagecodecs' OpenJPH, irreversible.

The setting is OpenJPH's quantisation step in thousandths (``setting / 1000`` is ``qstep``):
a *larger* setting gives *fewer* bits. imagecodecs applies the irreversible colour transform
to RGB and decodes with OpenJPH too.
"""
from __future__ import annotations

import numpy as np

from bench.codecs.base import Codec, CodecUnavailable, Setting

#: Settings are quantisation steps in thousandths.
STEP_UNIT = 1000


class HTJ2K(Codec):
    name = "htj2k"
    library = "imagecodecs"
    quality_range = (5, 2000)
    higher_setting_more_bits = False
    # Mean Kodak bpp from about 0.05 (qstep 0.55) to 1.9 (qstep 0.025).
    default_settings = (550, 400, 280, 200, 140, 100, 70, 50, 35, 25)
    description = "HTJ2K (imagecodecs / OpenJPH), irreversible, setting = quantisation step x 1000"

    def check_available(self) -> None:
        try:
            import imagecodecs
        except ImportError as exc:
            raise CodecUnavailable(f"{self.name}: cannot import imagecodecs ({exc}); pip install imagecodecs") from None
        if not imagecodecs.HTJ2K.available:
            raise CodecUnavailable(f"{self.name}: this imagecodecs build has no HTJ2K (OpenJPH)")

    def encode(self, image: np.ndarray, setting: Setting) -> bytes:
        import imagecodecs

        return bytes(imagecodecs.htj2k_encode(np.ascontiguousarray(image), level=int(setting) / STEP_UNIT))

    def decode(self, bitstream: bytes) -> np.ndarray:
        import imagecodecs

        decoded = imagecodecs.htj2k_decode(bitstream)
        if decoded.dtype != np.uint8 or decoded.ndim != 3:
            raise ValueError(f"HTJ2K decoder returned {decoded.dtype} {decoded.shape}, expected 8-bit RGB")
        return decoded
