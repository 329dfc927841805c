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

Bitstream (format version 2; version 1, written by the zoo codec before, is still read)::

    magic "CZ", version byte
    setting       1 byte length + UTF-8 (version 1: one byte, the zoo's quality index)
    height, width of the original image (varints)
    shape         the model's latent shape (two varints)
    strings       count, then each length-prefixed: the model's own strings, unchanged
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from bench.codecs.base import Codec, EncodeResult, Setting
from bench.codecs.entropy_symbols import decoded_symbols
from bench.codecs.varint import Reader, start_format, write_bytes, write_varint
from bench.core.conformance import FreshProcessDecoder

if TYPE_CHECKING:
    import torch

MAGIC = b"CZ"
FORMAT_VERSION = 2
READABLE_VERSIONS = (1, 2)
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


def pack(setting: str, height: int, width: int, shape: Any, strings: list[list[bytes]]) -> bytes:
    out = start_format(MAGIC, FORMAT_VERSION, setting, "setting name")
    for value in (height, width, *shape):
        write_varint(out, int(value))
    write_varint(out, len(strings))
    for entry in strings:
        write_bytes(out, entry[0])
    return bytes(out)


def unpack(bitstream: bytes) -> tuple[str, int, int, tuple[int, int], list[list[bytes]]]:
    """(setting, height, width, shape, strings) of a ``CZ`` bitstream."""
    reader = Reader(bitstream, FORMAT_NAME)
    version = reader.expect_magic(MAGIC, READABLE_VERSIONS)
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

        label, height, width, shape, strings = unpack(bitstream)
        with torch.no_grad():
            x_hat = self.model(self.parse_setting(label)).decompress(strings, shape)["x_hat"]
        return tensor_to_image(x_hat, height, width)

    def decoded_latent(self, bitstream: bytes) -> np.ndarray:
        import torch

        label, _, _, shape, strings = unpack(bitstream)
        model = self.model(self.parse_setting(label))
        with torch.no_grad():
            return decoded_symbols(model, strings, shape)

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
        from bench.core.complexity import measure_codec_model

        model = self.model(setting)
        x = image_to_tensor(image, self.pad_multiple, self.device_of(model), self.pad_mode)
        return measure_codec_model(
            model, lambda: model.compress(x), lambda compressed: model.decompress(compressed["strings"], compressed["shape"]),
            pixels=image.shape[0] * image.shape[1],
        )
