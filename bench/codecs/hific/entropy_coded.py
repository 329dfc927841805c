"""The entropy-coded HiFiC bitstream (magic ``HF``, format version 1), and its codec.

After the common header (``container.py``)::

    ambiguous    count, then ascending flat positions as gaps (varints; see
                 ``bench.models.hific.entropy``)
    z string     length + bytes (CompressAI rANS, factorized prior)
    y string     length + bytes (CompressAI rANS, Gaussian conditional)
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from bench.codecs.hific import container
from bench.codecs.varint import Reader, write_bytes, write_varint
from bench.codecs.hific.family_codec import HiFiCCodec

if TYPE_CHECKING:
    from bench.models.hific.model import EncodedLatents, HiFiC, LatentStrings

MAGIC = b"HF"
FORMAT_NAME = "entropy-coded HiFiC"


def pack(header: container.Header, strings: "LatentStrings") -> bytes:
    """Serialise a header and the latent strings into one bytes object."""
    out = container.write_header(MAGIC, container.FORMAT_VERSION, header)
    write_varint(out, len(strings.ambiguous))
    previous = 0
    for position in strings.ambiguous:
        write_varint(out, position - previous)
        previous = position
    write_bytes(out, strings.z_string)
    write_bytes(out, strings.y_string)
    return bytes(out)


def unpack(data: bytes) -> tuple[container.Header, "LatentStrings"]:
    """Inverse of :func:`pack`."""
    from bench.models.hific.model import LatentStrings

    reader = Reader(data, FORMAT_NAME)
    header = container.read_header(reader, MAGIC, container.READABLE_VERSIONS)
    ambiguous, position = [], 0
    for _ in range(reader.varint()):
        position += reader.varint()
        ambiguous.append(position)
    z_string = reader.sized_bytes()
    y_string = reader.sized_bytes()
    return header, LatentStrings(z_string, y_string, header.z_size, ambiguous)


def read_header(data: bytes) -> container.Header:
    """Parse only the header (to pick the model before decoding)."""
    return container.read_header(Reader(data, FORMAT_NAME), MAGIC, container.READABLE_VERSIONS)


def encode_image(model: "HiFiC", image: np.ndarray, model_id: str, fingerprint: int) -> tuple[bytes, "EncodedLatents"]:
    """Compress one image to bytes; also return the encoder's latents (``.y_hat``: what the decoder recovers)."""
    x = container.image_to_tensor(image, model.config, next(model.parameters()).device)
    strings, latents = model.compress(x)
    return pack(container.header_for(image, x, model, model_id, fingerprint, strings.z_size), strings), latents


def decode_residual(model: "HiFiC", data: bytes, fingerprint: int) -> container.DecodedLatent:
    """The header, residual symbols and means of bytes from :func:`encode_image`, with the model they were written with."""
    header, strings = unpack(data)
    container.check_model(header, model, fingerprint)
    return container.DecodedLatent(header, *model.decompress_residual(strings))


def decode_image(model: "HiFiC", data: bytes, fingerprint: int) -> np.ndarray:
    """Decode bytes from :func:`encode_image` with the model they were written with."""
    return decode_residual(model, data, fingerprint).reconstruct(model)


class EntropyCodedHiFiC(HiFiCCodec):
    """HiFiC checkpoints, both latents coded with their learned models by CompressAI's rANS."""

    description = "HiFiC (Mentzer et al. 2020), CompressAI entropy coding; settings are checkpoints"
    bitstream_suffix = ""
    file_extension = ".hfc"

    def encode_image(self, model: "HiFiC", image: np.ndarray, setting: str, model_fingerprint: int) -> tuple[bytes, "EncodedLatents"]:
        return encode_image(model, image, setting, model_fingerprint)

    def decode_residual(self, model: "HiFiC", data: bytes, model_fingerprint: int) -> container.DecodedLatent:
        return decode_residual(model, data, model_fingerprint)

    def model_id(self, data: bytes) -> str:
        return read_header(data).model_id
