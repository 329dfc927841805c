"""The sparse-matrix HiFiC bitstream (magic ``HS``, format version 1), and its codec.

The same checkpoints as the entropy-coded format (``entropy_coded.py``), the same latent:
the encoder computes the residual symbols round(y - mu) exactly as the entropy coder would
code them, but writes them as a sparse matrix (positions + values, then a general-purpose
compressor, see ``sparse_layouts.py``) instead of with the Gaussian conditional model.
The hyper-latent z keeps its learned factorized model and CompressAI rANS string: it is
small (a few percent of the bytes) and the decoder needs it for the means mu.

After the common header (``container.py``)::

    reserved     one varint, always 0 (written since version 1; readers skip it)
    z string     length + bytes (CompressAI rANS, factorized prior)
    payload      length, then:
        layout id    1 byte   (``sparse_layouts.LAYOUTS``)
        nonzeros     4 bytes  big-endian, number of non-zero symbols
        positions    4 bytes  big-endian length, then the compressed positions stream
        values       the rest: the compressed values stream

Decoding gives y_hat = symbols + mu with the decoder's own mu, the same floats the
entropy-coded decoder adds, so both formats decode to the same image.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import numpy as np
import zstandard

from bench.codecs.hific import container
from bench.codecs.varint import Reader, write_bytes, write_varint
from bench.codecs.hific.family_codec import HiFiCCodec
from bench.codecs.hific.sparse_layouts import DEFAULT_LAYOUT, LAYOUTS, Layout, SparseStreams, decode_symbols, encode_symbols

# Torch and the networks load when a model codes, not when the codec is listed.
if TYPE_CHECKING:
    import torch

    from bench.models.hific.model import EncodedLatents, HiFiC

MAGIC = b"HS"
FORMAT_NAME = "sparse-matrix HiFiC"
_PAYLOAD_HEADER = struct.Struct(">BII")


def pack_payload(streams: SparseStreams, layout: Layout) -> bytes:
    header = _PAYLOAD_HEADER.pack(layout.layout_id, streams.nonzeros, len(streams.positions))
    return header + streams.positions + streams.values


def unpack_payload(payload: bytes) -> tuple[SparseStreams, Layout]:
    if len(payload) < _PAYLOAD_HEADER.size:
        raise ValueError("truncated sparse-matrix HiFiC bitstream: the symbol payload is too short")
    layout_id, nonzeros, positions_length = _PAYLOAD_HEADER.unpack_from(payload)
    if layout_id not in LAYOUTS:
        raise ValueError(f"sparse-matrix HiFiC bitstream uses unknown layout id {layout_id}; it needs a newer codec-bench")
    body = payload[_PAYLOAD_HEADER.size :]
    if positions_length > len(body):
        raise ValueError("truncated sparse-matrix HiFiC bitstream: it ends inside the positions stream")
    return SparseStreams(nonzeros, body[:positions_length], body[positions_length:]), LAYOUTS[layout_id]


@dataclass
class SparseLatents:
    """What a sparse-matrix bitstream holds besides its header."""

    z_string: bytes
    payload: bytes


def pack(header: container.Header, latents: SparseLatents) -> bytes:
    out = container.write_header(MAGIC, container.FORMAT_VERSION, header)
    write_varint(out, 0)
    write_bytes(out, latents.z_string)
    write_bytes(out, latents.payload)
    return bytes(out)


def unpack(data: bytes) -> tuple[container.Header, SparseLatents]:
    reader = Reader(data, FORMAT_NAME)
    header = container.read_header(reader, MAGIC, container.READABLE_VERSIONS)
    reader.varint()  # reserved
    z_string = reader.sized_bytes()
    return header, SparseLatents(z_string, reader.sized_bytes())


def decoded_means(model: "HiFiC", z_string: bytes, z_size: tuple[int, int]) -> "torch.Tensor":
    """The coding means mu from the z string, as the entropy-coded decoder computes them."""
    return model.decoded_entropy_parameters(z_string, z_size)[0]


def encode_image(
    model: "HiFiC", image: np.ndarray, model_id: str, fingerprint: int, layout: Layout = DEFAULT_LAYOUT
) -> tuple[bytes, "EncodedLatents"]:
    """Compress one image to sparse-matrix bytes; also return the encoder's latents.

    The latents are those of the entropy-coded format (``HiFiC.encode_latents``): the
    means come from the *decoded* z_hat, so the decoder recomputes the very same means.
    """
    x = container.image_to_tensor(image, model.config, next(model.parameters()).device)
    latents = model.encode_latents(x)
    streams = encode_symbols(latents.residual.cpu().numpy().astype(np.int64), layout)
    header = container.header_for(image, x, model, model_id, fingerprint, latents.z_size)
    return pack(header, SparseLatents(latents.z_string, pack_payload(streams, layout))), latents


def decode_residual(model: "HiFiC", data: bytes, fingerprint: int) -> container.DecodedLatent:
    """The header, residual symbols (1, C, 4 z_h, 4 z_w) and means of bytes from :func:`encode_image`."""
    import torch

    header, latents = unpack(data)
    container.check_model(header, model, fingerprint)
    means = decoded_means(model, latents.z_string, header.z_size)
    streams, layout = unpack_payload(latents.payload)
    symbols = decode_symbols(streams, means.numel(), layout)
    residual = torch.from_numpy(symbols).to(means.device, means.dtype).reshape(means.shape)
    return container.DecodedLatent(header, residual, means)


def decode_image(model: "HiFiC", data: bytes, fingerprint: int) -> np.ndarray:
    """Decode bytes from :func:`encode_image` with the model they were written with."""
    return decode_residual(model, data, fingerprint).reconstruct(model)


def stream_sizes(data: bytes) -> dict[str, float]:
    """``positions_bytes`` and ``values_bytes`` of a sparse-matrix bitstream."""
    streams, _ = unpack_payload(unpack(data)[1].payload)
    return {"positions_bytes": float(len(streams.positions)), "values_bytes": float(len(streams.values))}


class SparseMatrixHiFiC(HiFiCCodec):
    """HiFiC checkpoints with the residual written as a sparse matrix (no learned y model)."""

    description = "HiFiC checkpoints; residual as sparse matrix (run lengths + values, zstd), z entropy-coded"
    bitstream_suffix = "-sparse-matrix"
    file_extension = ".hfs"
    analysis_columns: ClassVar[dict[str, str]] = {
        **HiFiCCodec.analysis_columns,
        "positions_bytes": "bytes of the sparse matrix's positions stream",
        "values_bytes": "bytes of the sparse matrix's values stream",
    }

    def encode_image(self, model: "HiFiC", image: np.ndarray, setting: str, model_fingerprint: int) -> tuple[bytes, "EncodedLatents"]:
        return encode_image(model, image, setting, model_fingerprint)

    def decode_residual(self, model: "HiFiC", data: bytes, model_fingerprint: int) -> container.DecodedLatent:
        return decode_residual(model, data, model_fingerprint)

    def model_id(self, data: bytes) -> str:
        return container.read_header(Reader(data, FORMAT_NAME), MAGIC, container.READABLE_VERSIONS).model_id

    def bitstream_info(self, data: bytes) -> dict[str, float]:
        return stream_sizes(data)

    def version(self) -> str:
        return f"{super().version()}, zstandard {zstandard.__version__}"
