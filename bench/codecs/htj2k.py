"""High-Throughput JPEG 2000 (JPEG 2000 Part 15): encoded by OpenJPH, decoded by OpenJPEG, irreversible.

The setting is OpenJPH's quantisation step in thousandths (``setting / 1000`` is ``qstep``):
a *larger* setting gives *fewer* bits. imagecodecs applies the irreversible colour transform
to RGB and encodes with OpenJPH.

The decode goes through OpenJPEG (``imagecodecs.jpeg2k_decode``, which reads HT code-blocks),
not imagecodecs' OpenJPH binding: ``imagecodecs.htj2k_decode`` 2026.1.14 casts decoded samples
to 8 bits without clamping, so a value the quantisation pushed past 255 wraps around (a 255 of
the original came back near 118), and a working codec was measured as a broken one. OpenJPEG
clamps, and agrees with OpenJPH's own decoder ``ojph_expand`` within 1 grey level (the two
libraries round the inverse wavelet and colour transform differently).
"""
from __future__ import annotations

import numpy as np

from bench.codecs.base import Codec, CodecUnavailable, Setting
from bench.codecs.reference import CommandLineDecoder

#: Settings are quantisation steps in thousandths.
STEP_UNIT = 1000


class HTJ2K(Codec):
    name = "htj2k"
    library = "imagecodecs"
    quality_range = (5, 2000)
    higher_setting_more_bits = False
    # Mean Kodak bpp from about 0.05 (qstep 0.55) to 1.9 (qstep 0.025).
    default_settings = (550, 400, 280, 200, 140, 100, 70, 50, 35, 25)
    description = "HTJ2K (imagecodecs: OpenJPH encoder, OpenJPEG decoder), irreversible, setting = quantisation step x 1000"
    reference_decoder = CommandLineDecoder(
        tool="ojph_expand", package="openjph-tools", arguments=("-i", "{input}", "-o", "{output}"), input_suffix=".j2c",
        tolerance=1,
    )
    file_extension = ".j2c"

    def check_available(self) -> None:
        try:
            import imagecodecs
        except ImportError as exc:
            raise CodecUnavailable(f"{self.name}: cannot import imagecodecs ({exc}); pip install imagecodecs") from None
        if not imagecodecs.HTJ2K.available:
            raise CodecUnavailable(f"{self.name}: this imagecodecs build has no HTJ2K encoder (OpenJPH)")
        if not imagecodecs.JPEG2K.available:
            raise CodecUnavailable(f"{self.name}: this imagecodecs build has no JPEG 2000 decoder (OpenJPEG)")

    def version(self) -> str:
        import imagecodecs

        return f"{imagecodecs.__version__} ({imagecodecs.htj2k_version()}, {imagecodecs.jpeg2k_version()})"

    def encode(self, image: np.ndarray, setting: Setting) -> bytes:
        import imagecodecs

        return bytes(imagecodecs.htj2k_encode(np.ascontiguousarray(image), level=int(setting) / STEP_UNIT))

    def decode(self, bitstream: bytes) -> np.ndarray:
        import imagecodecs

        decoded = imagecodecs.jpeg2k_decode(bitstream)
        if decoded.dtype != np.uint8 or decoded.ndim != 3:
            raise ValueError(f"HTJ2K decoder returned {decoded.dtype} {decoded.shape}, expected 8-bit RGB")
        return decoded
