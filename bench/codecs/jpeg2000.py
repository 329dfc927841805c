"""JPEG 2000 (OpenJPEG through Pillow): irreversible 9/7 wavelet, raw J2K codestream.

The setting is OpenJPEG's compression ratio (24 bits per RGB pixel divided by the target
bpp), so a *larger* setting gives *fewer* bits.
"""
from __future__ import annotations

from typing import Any

from bench.codecs.base import PillowCodec, Setting
from bench.codecs.reference import CommandLineDecoder


class JPEG2000(PillowCodec):
    name = "jpeg2000"
    pillow_format = "JPEG2000"
    quality_range = (4, 1000)
    higher_setting_more_bits = False
    default_settings = (480, 240, 120, 64, 32, 16, 12)
    description = "JPEG 2000 (OpenJPEG), 9/7 irreversible wavelet, ICT, setting = compression ratio"
    reference_decoder = CommandLineDecoder(
        tool="opj_decompress", package="libopenjp2-tools", arguments=("-i", "{input}", "-o", "{output}"),
        input_suffix=".j2k", version_args=("-h",),
    )
    file_extension = ".j2k"

    def save_options(self, setting: Setting) -> dict[str, Any]:
        return {
            "quality_mode": "rates",
            "quality_layers": [float(setting)],
            "irreversible": True,
            "no_jp2": True,
            # RGB -> YCbCr (ICT) before the wavelet; without it PSNR drops by ~5 dB.
            "mct": 1,
        }
