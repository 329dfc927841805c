"""jpegli (Google's libjxl-derived JPEG encoder) through PyPI ``pyjpegli``; read back by libjpeg-turbo.

The bitstream is a standard baseline/progressive JPEG. It is decoded with Pillow's
libjpeg-turbo, the decoder most viewers use, not jpegli's own (more precise) decoder, so the
comparison with ``jpeg`` is between encoders. jpegli's own defaults are kept (4:2:0 at these
qualities, adaptive quantisation).
"""
from __future__ import annotations

import numpy as np

from bench.codecs.base import PillowCodec, Setting
from bench.codecs.jpeg import DJPEG


class JPEGli(PillowCodec):
    name = "jpegli"
    library = "pyjpegli"
    pillow_format = "JPEG"
    quality_range = (1, 100)
    # Mean Kodak bpp from about 0.27 (q1: jpegli's floor) to 2.1 (q90).
    default_settings = (1, 10, 20, 35, 50, 65, 80, 90)
    description = "jpegli (pyjpegli) encoder, its defaults; decoded by libjpeg-turbo (Pillow)"
    reference_decoder = DJPEG
    file_extension = ".jpg"

    def check_available(self) -> None:
        from bench.codecs.base import CodecUnavailable

        try:
            import pyjpegli  # noqa: F401
        except ImportError as exc:
            raise CodecUnavailable(f"{self.name}: cannot import pyjpegli ({exc}); pip install pyjpegli") from None

    def encode(self, image: np.ndarray, setting: Setting) -> bytes:
        import pyjpegli

        height, width = image.shape[:2]
        return pyjpegli.encode(np.ascontiguousarray(image).tobytes(), width, height, int(setting))
