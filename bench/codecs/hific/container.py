"""What every HiFiC byte format shares: the header, varints, and image <-> tensor.

Each format (``entropy_coded.py``, ``sparse_matrix.py``) starts with the same header, under
its own magic bytes and format version, then writes its own body::

    magic        2 bytes  the format's own (b"HF", b"HS", ...)
    version      1 byte   the format's own version
    model id     1 byte length + UTF-8 name of the checkpoint (the codec setting)
    fingerprint  4 bytes  big-endian CRC-32 of the model's config and CDF tables
    rules        1 byte   the coding rules (``bench.models.hific.config.coding_rules``);
                          since the formats' version 2 (version 1: 0, codec-bench's own)
    height, width         of the original image (unsigned LEB128 varints)
    pad_bottom, pad_right 1 byte each (the image was padded to a multiple of 64, or of 16
                          under the Justin-Tan port's rules)
    z height, z width     spatial size of the hyper-latent (varints)

Decoding reads nothing but these bytes (and the model they name). A decoder whose model
follows other rules than the header states refuses the bytes instead of guessing.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from bench.codecs.varint import Reader, start_format, write_varint

# Torch and the networks load when a model codes, not when the codec is listed.
if TYPE_CHECKING:
    import torch

    from bench.models.hific.config import HiFiCConfig
    from bench.models.hific.model import HiFiC


#: The version both formats write; version 1 (no rules byte: codec-bench's own rules) is still read.
FORMAT_VERSION = 2
READABLE_VERSIONS = (1, 2)
#: The first version whose header holds the rules byte.
RULES_SINCE_VERSION = 2


@dataclass
class Header:
    model_id: str
    fingerprint: int
    height: int
    width: int
    pad_bottom: int
    pad_right: int
    #: Spatial size of z; y is four times larger in each dimension.
    z_size: tuple[int, int]
    #: The coding rules' flags (``coding_rules``).
    rules: int = 0


def write_header(magic: bytes, version: int, header: Header) -> bytearray:
    """The common header of a format with ``magic`` and ``version``."""
    out = start_format(magic, version, header.model_id, "HiFiC model id")
    out += struct.pack(">I", header.fingerprint)
    if version >= RULES_SINCE_VERSION:
        out.append(header.rules)
    for value in (header.height, header.width):
        write_varint(out, value)
    out += bytes((header.pad_bottom, header.pad_right))
    for value in header.z_size:
        write_varint(out, value)
    return out


def read_header(reader: Reader, magic: bytes, versions: tuple[int, ...]) -> Header:
    """The common header, after checking the format's magic bytes and that its version is one of ``versions``."""
    version = reader.expect_magic(magic, versions)
    model_id = reader.short_string()
    (fingerprint,) = struct.unpack(">I", reader.take(4))
    rules = reader.take(1)[0] if version >= RULES_SINCE_VERSION else 0
    height, width = reader.varint(), reader.varint()
    pad_bottom, pad_right = reader.take(2)
    z_size = (reader.varint(), reader.varint())
    return Header(model_id, fingerprint, height, width, pad_bottom, pad_right, z_size, rules)


def image_to_tensor(image: np.ndarray, config: "HiFiCConfig", device: "torch.device | str" = "cpu") -> "torch.Tensor":
    """H x W x 3 uint8 -> (1, 3, H', W') float in [0, 1], padded by the model's ``padding`` rule:
    edge-replicated to multiples of 64 (ours: it works for any size), or reflected to multiples
    of 16 (the Justin-Tan port's; its model pads y to multiples of 4 in turn)."""
    from bench.codecs.compressai_style import image_to_tensor as tensor_of
    from bench.models.hific.config import PAD_MULTIPLE
    from bench.models.hific.model import reflect_pad

    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"HiFiC codes H x W x 3 uint8 RGB images, got shape {image.shape} dtype {image.dtype}")
    height, width = image.shape[:2]
    if height == 0 or width == 0:
        raise ValueError(f"HiFiC cannot code an empty image ({height}x{width}); check the image file")
    if config.padding == "reflect16":
        return reflect_pad(tensor_of(image, 1, device), (-height) % 16, (-width) % 16)
    return tensor_of(image, PAD_MULTIPLE, device)


def header_for(image: np.ndarray, x: "torch.Tensor", model: "HiFiC", model_id: str, fingerprint: int, z_size: tuple[int, int]) -> Header:
    """The header of ``image``, coded by ``model`` as the padded tensor ``x`` from :func:`image_to_tensor`."""
    from bench.models.hific.config import coding_rules

    height, width = image.shape[:2]
    return Header(
        model_id, fingerprint, height, width, x.shape[2] - height, x.shape[3] - width, tuple(z_size), coding_rules(model.config),
    )


def check_model(header: Header, model: "HiFiC", fingerprint: int) -> None:
    """Refuse bytes written under other coding rules, or by another model, than the one about to decode them."""
    from bench.models.hific.config import coding_rules, describe_rules

    rules = coding_rules(model.config)
    if header.rules != rules:
        raise ValueError(
            f"HiFiC bitstream was coded with {describe_rules(header.rules)}, but checkpoint {header.model_id!r} "
            f"follows {describe_rules(rules)}; decode with the checkpoint that wrote it"
        )
    check_fingerprint(header, fingerprint)


def check_fingerprint(header: Header, fingerprint: int) -> None:
    """Refuse bytes written by another model than the one about to decode them."""
    if header.fingerprint != fingerprint:
        raise ValueError(
            f"HiFiC bitstream was written by another model than checkpoint {header.model_id!r} "
            f"(fingerprint {header.fingerprint:08x} != {fingerprint:08x}); decode with the same checkpoint"
        )


def reconstruct(model: "HiFiC", y_hat: "torch.Tensor", height: int, width: int) -> np.ndarray:
    """Generator output for ``y_hat``, cropped to ``height`` x ``width``, as uint8 RGB."""
    import torch

    from bench.codecs.compressai_style import tensor_to_image

    with torch.no_grad():
        return tensor_to_image(model.synthesize(y_hat), height, width)


@dataclass
class DecodedLatent:
    """What a decoder recovers from a HiFiC bitstream before the generator runs."""

    header: Header
    #: The coded symbols round(y - means): integers, identical on every machine.
    residual: "torch.Tensor"
    #: The decoder's means (floats from the hyper-synthesis network).
    means: "torch.Tensor"

    def reconstruct(self, model: "HiFiC") -> np.ndarray:
        """The decoded image: the generator's output for y_hat = residual + means."""
        return reconstruct(model, self.residual + self.means, self.header.height, self.header.width)
