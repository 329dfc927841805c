"""Codecs over models with CompressAI's contract, and their bitstream (magic ``CZ``).

A model has the contract when ``model.compress(x)`` gives ``{"strings": [[bytes], ...],
"shape": (h, w)}`` for a (1, 3, H, W) image in [0, 1] and ``model.decompress(strings, shape)``
gives ``{"x_hat": ...}``: every ``compressai.models.CompressionModel`` has it. CompressAI's zoo
(``compressai_zoo.py``) and a user's own model from a checkpoint (``own_model.py``) are such
codecs; :class:`CompressAIStyleCodec` is their common part: padding, the container, decoding,
the decoded symbols (for ``--verify``), the likelihood estimate and the complexity figures.

The image is padded at the bottom and right to a multiple of ``pad_multiple`` (64 by
default: the hyperprior models downsample by 64) and cropped back after decoding: edge-padded,
or mirrored where a codec's ``pad_mode`` is ``"reflect"`` (as its authors' code pads) and the
image is large enough to mirror.

Bitstream (format version 3; versions 1 and 2, written before, are still read)::

    magic "CZ", version byte                    3 bytes
    setting id    the first 4 bytes of SHA-256 of the setting's label (a checkpoint's name, the
                  zoo's quality): 4 bytes whatever the name, so that no name changes the rate
                  (version 2: 1 byte length + the UTF-8 label; version 1: one byte, the zoo's quality)
    height, width of the original image (varints: 1 byte below 128, 2 below 16384)
    shape         the model's latent shape (two varints)
    strings       count (a varint), then each length-prefixed (a varint): the model's own strings

So the header is 7 bytes, then 4 varints (6 bytes for a 768 x 512 Kodak image and a 12 x 8 latent),
the count and one length per string (3 bytes for two strings of 128 to 16383 bytes): 16 bytes beside
the model's strings on Kodak, whatever the checkpoints are called.
"""
from __future__ import annotations

import hashlib
import math
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from bench.codecs.base import Codec, EncodeResult, Setting
from bench.codecs.entropy_symbols import decoded_symbols
from bench.codecs.varint import Reader, write_bytes, write_varint
from bench.codecs.reference import FreshProcessDecoder

if TYPE_CHECKING:
    import torch

MAGIC = b"CZ"
FORMAT_VERSION = 3
READABLE_VERSIONS = (1, 2, 3)
#: Bytes of the setting id (version 3).
SETTING_ID_BYTES = 4
FORMAT_NAME = "CompressAI-style"
#: Default padding multiple (the hyperprior models downsample by 64).
PAD_MULTIPLE = 64


def image_to_tensor(image: np.ndarray, multiple: int, device: "torch.device | str" = "cpu", mode: str = "replicate") -> "torch.Tensor":
    """H x W x 3 uint8 -> (1, 3, H', W') float in [0, 1], padded at the bottom and right to multiples of
    ``multiple``: ``mode`` ``"replicate"`` repeats the edge, ``"reflect"`` mirrors it (edge-padded
    where a side is not longer than its padding, which cannot be mirrored)."""
    import torch
    import torch.nn.functional as F

    height, width = image.shape[:2]
    x = torch.from_numpy(np.array(image, copy=True)).permute(2, 0, 1)[None].float().to(device) / 255.0
    pad_height = math.ceil(height / multiple) * multiple - height
    pad_width = math.ceil(width / multiple) * multiple - width
    if mode == "reflect" and (pad_height >= height or pad_width >= width):
        mode = "replicate"
    return F.pad(x, (0, pad_width, 0, pad_height), mode=mode)


def tensor_to_image(x_hat: "torch.Tensor", height: int, width: int) -> np.ndarray:
    """A decoded (1, 3, H', W') tensor, cropped to ``height`` x ``width``, as H x W x 3 uint8."""
    import torch

    x_hat = x_hat[0, :, :height, :width]
    return torch.round(x_hat.clamp(0, 1) * 255).to(torch.uint8).permute(1, 2, 0).cpu().numpy()


def setting_id(label: str) -> bytes:
    """The fixed-size id of a setting in the bitstream: the first bytes of SHA-256 of its label."""
    return hashlib.sha256(label.encode("utf-8")).digest()[:SETTING_ID_BYTES]


def pack(setting: str, height: int, width: int, shape: Any, strings: list[list[bytes]]) -> bytes:
    out = bytearray(MAGIC) + bytes([FORMAT_VERSION]) + setting_id(setting)
    for value in (height, width, *shape):
        write_varint(out, int(value))
    write_varint(out, len(strings))
    for entry in strings:
        write_bytes(out, entry[0])
    return bytes(out)


def unpack(bitstream: bytes) -> tuple[str | bytes, int, int, tuple[int, int], list[list[bytes]]]:
    """(setting, height, width, shape, strings) of a ``CZ`` bitstream; the setting is its id
    (:func:`setting_id`, version 3) or its label (older versions)."""
    reader = Reader(bitstream, FORMAT_NAME)
    version = reader.expect_magic(MAGIC, READABLE_VERSIONS)
    if version == 3:
        setting: str | bytes = reader.take(SETTING_ID_BYTES)
    else:
        setting = str(reader.take(1)[0]) if version == 1 else reader.short_string()
    height, width = reader.varint(), reader.varint()
    shape = (reader.varint(), reader.varint())
    strings = [[reader.sized_bytes()] for _ in range(reader.varint())]
    return setting, height, width, shape, strings


class CompressAIStyleCodec(Codec):
    """A codec whose settings each name one model with CompressAI's contract.

    Subclasses implement :meth:`model` (loaded once per process, in eval mode, entropy tables
    built, cached in ``self._models``) and give ``settings``; a setting's label
    (``str(setting)``) is what the bitstream stores, and :meth:`parse_setting` maps it back.
    """

    library: ClassVar[str] = "compressai"
    #: Networks' activations on the padded image (docs/memory.md; HiFiC measured at 394).
    peak_bytes_per_pixel: ClassVar[float] = 400.0
    reference_decoder = FreshProcessDecoder()
    file_extension = ".cz"
    #: Images are padded to a multiple of this.
    pad_multiple: int = PAD_MULTIPLE
    #: How: ``"replicate"`` (edge) or ``"reflect"`` (see :func:`image_to_tensor`).
    pad_mode: str = "replicate"

    def model(self, setting: Setting) -> Any:
        raise NotImplementedError

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_models"] = {}  # each worker loads its own
        return state

    def prepare(self, setting: Setting) -> None:
        self.model(setting)

    def setting_of(self, written: str | bytes) -> Setting:
        """The setting a bitstream names: by its id (version 3) among this codec's settings, or by its label."""
        if isinstance(written, str):
            return self.parse_setting(written)
        matches = [setting for setting in self.settings if setting_id(str(setting)) == written]
        if len(matches) != 1:
            raise ValueError(f"{self.name}: the bitstream names setting id {written.hex()}, which "
                             f"{'none' if not matches else 'more than one'} of this codec's settings has")
        return matches[0]

    def device_of(self, model: Any) -> "torch.device":
        return next(model.parameters()).device

    def encode_with_context(self, image: np.ndarray, setting: Setting) -> EncodeResult:
        import torch

        model = self.model(setting)
        x = image_to_tensor(image, self.pad_multiple, self.device_of(model), self.pad_mode)
        with torch.no_grad():
            compressed = model.compress(x)
        data = pack(str(setting), image.shape[0], image.shape[1], compressed["shape"], compressed["strings"])
        return EncodeResult(data, context=x)

    def encode(self, image: np.ndarray, setting: Setting) -> bytes:
        return self.encode_with_context(image, setting).bitstream

    def decode(self, bitstream: bytes) -> np.ndarray:
        import torch

        setting, height, width, shape, strings = unpack(bitstream)
        with torch.no_grad():
            x_hat = self.model(self.setting_of(setting)).decompress(strings, shape)["x_hat"]
        return tensor_to_image(x_hat, height, width)

    def decoded_latent(self, bitstream: bytes) -> np.ndarray:
        import torch

        setting, _, _, shape, strings = unpack(bitstream)
        model = self.model(self.setting_of(setting))
        with torch.no_grad():
            return decoded_symbols(model, strings, shape)

    analysis_columns: ClassVar[dict[str, str]] = {
        "bpp_estimate": "the bpp the model's likelihoods predict (beside the real bitstream's bpp, never instead)",
    }

    def analyse(self, image: np.ndarray, setting: Setting, encoded: EncodeResult) -> dict[str, float]:
        """``bpp_estimate`` from the forward pass's likelihoods, beside the real size (not timed)."""
        import torch

        model = self.model(setting)
        with torch.no_grad():
            output = model(encoded.context)
        likelihoods = output.get("likelihoods") if isinstance(output, dict) else None
        if not likelihoods:
            return {}
        bits = sum(float(-torch.log2(values).sum()) for values in likelihoods.values())
        return {"bpp_estimate": bits / (image.shape[0] * image.shape[1])}

    def complexity(self, image: np.ndarray, setting: Setting) -> dict[str, float]:
        from bench.codecs.complexity import measure_codec_model

        model = self.model(setting)
        x = image_to_tensor(image, self.pad_multiple, self.device_of(model), self.pad_mode)
        return measure_codec_model(
            model, lambda: model.compress(x), lambda compressed: model.decompress(compressed["strings"], compressed["shape"]),
            pixels=image.shape[0] * image.shape[1],
        )
