"""HEVC intra in a HEIF container (x265 encoder, libde265 decoder, through pillow-heif).

This is the BPG-class anchor: BPG is HEVC intra in its own container.
"""
from __future__ import annotations

from typing import Any

from bench.codecs.base import PillowCodec, Setting
from bench.codecs.reference import CommandLineDecoder


class HEVC(PillowCodec):
    name = "hevc"
    pillow_format = "HEIF"
    plugin_module = "pillow_heif"
    library = "pillow-heif"
    quality_range = (0, 100)
    default_settings = (1, 5, 12, 20, 28, 36, 44, 52)
    description = "HEVC intra in HEIF (x265/libde265), 4:2:0, one thread"
    # libheif's own tool; its YCbCr -> RGB conversion rounds differently from pillow-heif's.
    reference_decoder = CommandLineDecoder(
        tool="heif-convert", package="libheif-examples", arguments=("{input}", "{output}"), input_suffix=".heic",
        output_suffix=".png", tolerance=1,
    )
    file_extension = ".heic"

    def _import_plugin(self) -> None:
        import pillow_heif

        pillow_heif.register_heif_opener()
        # One decoder thread, like every other codec here (the runner parallelises jobs).
        pillow_heif.options.DECODE_THREADS = 1

    def save_options(self, setting: Setting) -> dict[str, Any]:
        # x265's thread pool and frame threads off: same bytes, one core, comparable timings.
        return {"quality": int(setting), "chroma": 420, "enc_params": {"x265:pools": "1", "x265:frame-threads": "1"}}
