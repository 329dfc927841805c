"""AVIF (libavif with the aom encoder, dav1d decoder, through Pillow), 4:2:0."""
from __future__ import annotations

from typing import Any

from bench.codecs.base import PillowCodec, Setting
from bench.codecs.reference import CommandLineDecoder


class AVIF(PillowCodec):
    name = "avif"
    pillow_format = "AVIF"
    quality_range = (0, 100)
    default_settings = (5, 15, 25, 35, 45, 55, 65, 75)
    description = "AVIF (libavif/aom), 4:2:0, speed 6, one thread"
    reference_decoder = CommandLineDecoder(
        tool="avifdec", package="libavif-bin", arguments=("{input}", "{output}"), input_suffix=".avif",
        output_suffix=".png", version_args=("--version",),
    )
    file_extension = ".avif"

    def save_options(self, setting: Setting) -> dict[str, Any]:
        # One encoder thread: the runner parallelises across jobs, and timings stay comparable.
        return {"quality": int(setting), "subsampling": "4:2:0", "speed": 6, "max_threads": 1}
