"""JPEG XL (libjxl through pillow-jxl-plugin), VarDCT, effort 7."""
from __future__ import annotations

from typing import Any

from bench.codecs.base import PillowCodec, Setting
from bench.codecs.reference import CommandLineDecoder


class JPEGXL(PillowCodec):
    name = "jpegxl"
    pillow_format = "JXL"
    plugin_module = "pillow_jxl"
    library = "pillow-jxl-plugin"
    quality_range = (1, 99)
    default_settings = (1, 10, 25, 40, 55, 70, 80, 90)
    description = "JPEG XL (libjxl), lossy VarDCT, effort 7, one thread"
    # Another libjxl release than the plugin's: its XYB -> RGB conversion rounds differently.
    reference_decoder = CommandLineDecoder(
        tool="djxl", package="libjxl-tools", arguments=("{input}", "{output}"), input_suffix=".jxl",
        version_args=("--version",), tolerance=1,
    )
    file_extension = ".jxl"

    def _import_plugin(self) -> None:
        import pillow_jxl.JpegXLImagePlugin as plugin

        # Decode in one thread, like every other codec here (the runner parallelises jobs).
        plugin.DECODE_THREADS = 0

    def save_options(self, setting: Setting) -> dict[str, Any]:
        return {"quality": int(setting), "effort": 7, "lossless": False, "num_threads": 0}
