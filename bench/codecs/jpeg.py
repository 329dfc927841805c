"""Baseline JPEG (libjpeg-turbo through Pillow), 4:2:0, optimized Huffman tables."""
from __future__ import annotations

from typing import Any

from bench.codecs.base import PillowCodec, Setting
from bench.codecs.reference import CommandLineDecoder

#: libjpeg-turbo's own command-line decoder; Pillow decodes with the same library, so exactly.
DJPEG = CommandLineDecoder(
    tool="djpeg", package="libjpeg-turbo-progs", arguments=("-ppm", "-outfile", "{output}", "{input}"),
    input_suffix=".jpg", version_args=("-version",),
)


class JPEG(PillowCodec):
    name = "jpeg"
    pillow_format = "JPEG"
    quality_range = (1, 100)
    # Pillow quality 1..100; on Kodak q=2 gives about 0.1 bpp and q=95 about 2.6 bpp.
    default_settings = (2, 5, 10, 20, 35, 50, 70, 85)
    description = "JPEG (libjpeg-turbo), 4:2:0 subsampling, optimized Huffman coding"
    reference_decoder = DJPEG
    file_extension = ".jpg"

    def save_options(self, setting: Setting) -> dict[str, Any]:
        return {"quality": int(setting), "subsampling": "4:2:0", "optimize": True}
