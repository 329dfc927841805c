"""The HiFiC byte format (entropy-coded bitstream, format version 1).

Layout, all integers unsigned LEB128 varints unless a size is given::

    magic        2 bytes  b"HF"
    version      1 byte   FORMAT_VERSION
    model id     1 byte length + UTF-8 name of the checkpoint (the codec setting)
    fingerprint  4 bytes  big-endian CRC-32 of the model's config and CDF tables
    height, width         of the original image
    pad_bottom, pad_right 1 byte each (the image was padded to a multiple of 64)
    z height, z width     spatial size of the hyper-latent
    ambiguous    count, then ascending flat positions as gaps (see ``entropy.py``)
    z string     length + bytes (CompressAI rANS, factorized prior)
    y string     length + bytes (CompressAI rANS, Gaussian conditional)

Decoding reads nothing but these bytes (and the model they name).
"""
from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from bench.codecs.hific.config import PAD_MULTIPLE
from bench.codecs.hific.model import EncodedLatents, HiFiC, LatentStrings, padded_size

MAGIC = b"HF"
FORMAT_VERSION = 1


@dataclass
class Header:
    model_id: str
    fingerprint: int
    height: int
    width: int
    pad_bottom: int
    pad_right: int


def _write_varint(out: bytearray, value: int) -> None:
    if value < 0:
        raise ValueError(f"cannot write negative varint {value}")
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.offset = 0

    def take(self, count: int) -> bytes:
        if self.offset + count > len(self.data):
            raise ValueError("truncated HiFiC bitstream: it ends before the data its header announces")
        chunk = self.data[self.offset : self.offset + count]
        self.offset += count
        return chunk

    def varint(self) -> int:
        value, shift = 0, 0
        while True:
            byte = self.take(1)[0]
            value |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                return value


def pack(header: Header, strings: LatentStrings) -> bytes:
    """Serialise a header and the latent strings into one bytes object."""
    model_id = header.model_id.encode("utf-8")
    if len(model_id) > 255:
        raise ValueError(f"HiFiC model id longer than 255 bytes: {header.model_id!r}")
    out = bytearray(MAGIC)
    out.append(FORMAT_VERSION)
    out.append(len(model_id))
    out += model_id
    out += struct.pack(">I", header.fingerprint)
    for value in (header.height, header.width):
        _write_varint(out, value)
    out += bytes((header.pad_bottom, header.pad_right))
    for value in strings.z_size:
        _write_varint(out, value)
    _write_varint(out, len(strings.ambiguous))
    previous = 0
    for position in strings.ambiguous:
        _write_varint(out, position - previous)
        previous = position
    for string in (strings.z_string, strings.y_string):
        _write_varint(out, len(string))
        out += string
    return bytes(out)


def read_header(data: bytes) -> Header:
    """Parse only the header (to pick the model before decoding)."""
    return _unpack(data)[0]


def unpack(data: bytes) -> tuple[Header, LatentStrings]:
    return _unpack(data)


def _unpack(data: bytes) -> tuple[Header, LatentStrings]:
    reader = _Reader(bytes(data))
    if reader.take(2) != MAGIC:
        raise ValueError("not a HiFiC bitstream (bad magic bytes); was it written by another codec?")
    version = reader.take(1)[0]
    if version != FORMAT_VERSION:
        raise ValueError(f"HiFiC bitstream format version {version} is not supported (this reader: {FORMAT_VERSION})")
    model_id = reader.take(reader.take(1)[0]).decode("utf-8")
    (fingerprint,) = struct.unpack(">I", reader.take(4))
    height, width = reader.varint(), reader.varint()
    pad_bottom, pad_right = reader.take(2)
    z_size = (reader.varint(), reader.varint())
    ambiguous, position = [], 0
    for _ in range(reader.varint()):
        position += reader.varint()
        ambiguous.append(position)
    z_string = reader.take(reader.varint())
    y_string = reader.take(reader.varint())
    header = Header(model_id, fingerprint, height, width, pad_bottom, pad_right)
    return header, LatentStrings(z_string, y_string, z_size, ambiguous)


def image_to_tensor(image: np.ndarray, device: torch.device | str = "cpu") -> torch.Tensor:
    """H x W x 3 uint8 -> (1, 3, H', W') float in [0, 1], edge-padded to multiples of 64."""
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"HiFiC codes H x W x 3 uint8 RGB images, got shape {image.shape} dtype {image.dtype}")
    height, width = image.shape[:2]
    if height == 0 or width == 0:
        raise ValueError(f"HiFiC cannot code an empty image ({height}x{width}); check the image file")
    x = torch.from_numpy(np.array(image, copy=True)).to(device).permute(2, 0, 1)[None].float() / 255.0
    padded_height, padded_width = padded_size(height, width, PAD_MULTIPLE)
    # Edge replication works for any size (reflection needs the pad to be smaller than the image).
    return F.pad(x, (0, padded_width - width, 0, padded_height - height), mode="replicate")


def reconstruct(model: HiFiC, y_hat: torch.Tensor, height: int, width: int) -> np.ndarray:
    """Generator output for ``y_hat``, cropped to ``height`` x ``width``, as uint8 RGB."""
    with torch.no_grad():
        x_hat = model.generator(y_hat)[0, :, :height, :width]
    pixels = torch.round(x_hat.clamp(0.0, 1.0) * 255.0).to(torch.uint8)
    return pixels.permute(1, 2, 0).cpu().numpy()


def header_for(image: np.ndarray, x: torch.Tensor, model_id: str, fingerprint: int) -> Header:
    """The header of ``image``, coded as the padded tensor ``x`` from :func:`image_to_tensor`."""
    height, width = image.shape[:2]
    return Header(model_id, fingerprint, height, width, x.shape[2] - height, x.shape[3] - width)


def encode_image(model: HiFiC, image: np.ndarray, model_id: str, fingerprint: int) -> tuple[bytes, EncodedLatents]:
    """Compress one image to bytes; also return the encoder's latents (``.y_hat``: what the decoder recovers)."""
    x = image_to_tensor(image, next(model.parameters()).device)
    strings, latents = model.compress(x)
    return pack(header_for(image, x, model_id, fingerprint), strings), latents


def check_fingerprint(header: Header, fingerprint: int) -> None:
    """Refuse bytes written by another model than the one about to decode them."""
    if header.fingerprint != fingerprint:
        raise ValueError(
            f"HiFiC bitstream was written by another model than checkpoint {header.model_id!r} "
            f"(fingerprint {header.fingerprint:08x} != {fingerprint:08x}); decode with the same checkpoint"
        )


def decode_image(model: HiFiC, data: bytes, fingerprint: int) -> np.ndarray:
    """Decode bytes from :func:`encode_image` with the model they were written with."""
    header, strings = unpack(data)
    check_fingerprint(header, fingerprint)
    y_hat = model.decompress(strings)
    return reconstruct(model, y_hat, header.height, header.width)
