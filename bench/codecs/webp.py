"""Lossy WebP (libwebp through Pillow) at its slowest, best-compressing method."""
from __future__ import annotations

from typing import Any

from bench.codecs.base import PillowCodec, Setting
from bench.codecs.reference import CommandLineDecoder


class WebP(PillowCodec):
    name = "webp"
    pillow_format = "WEBP"
    quality_range = (0, 100)
    default_settings = (0, 5, 15, 30, 50, 65, 80, 90)
    description = "WebP lossy (libwebp), method 6"
    reference_decoder = CommandLineDecoder(
        tool="dwebp", package="webp", arguments=("{input}", "-ppm", "-o", "{output}"), input_suffix=".webp",
        version_args=("-version",),
    )
    file_extension = ".webp"

    def save_options(self, setting: Setting) -> dict[str, Any]:
        return {"quality": int(setting), "method": 6, "lossless": False}
