"""The sparse-matrix HiFiC bitstream: the residual symbols with no learned entropy model.

The same checkpoints as the entropy-coded format (``bitstream.py``), the same latent: the
encoder computes the residual symbols round(y - mu) exactly as the entropy coder would
code them, but writes them as a sparse matrix (positions + values, then a general-purpose
compressor, see ``sparse_layouts.py``) instead of with the Gaussian conditional model.
The hyper-latent z keeps its learned factorized model and CompressAI rANS string: it is
small (a few percent of the bytes) and the decoder needs it for the means mu.

Byte format: the entropy-coded format with magic ``b"HS"`` instead of ``b"HF"``, no
ambiguous-scale list (scales are not used), and in place of the y string::

    layout id    1 byte   (``sparse_layouts.LAYOUTS``)
    nonzeros     4 bytes  big-endian, number of non-zero symbols
    positions    4 bytes  big-endian length, then the compressed positions stream
    values       the rest: the compressed values stream

Decoding gives y_hat = symbols + mu with the decoder's own mu, the same floats the
entropy-coded decoder adds, so both formats decode to the same image.
"""
from __future__ import annotations

import struct
import numpy as np
import torch
import zstandard

from bench.codecs.base import EncodeResult, Setting
from bench.codecs.hific import bitstream
from bench.codecs.hific.codec import BITSTREAM_CODECS, HiFiCCodec
from bench.codecs.hific.model import EncodedLatents, HiFiC, LatentStrings
from bench.codecs.hific.sparse_layouts import DEFAULT_LAYOUT, LAYOUTS, Layout, SparseStreams, decode_symbols, encode_symbols

MAGIC = b"HS"
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


def pack(header: bitstream.Header, z_string: bytes, z_size: tuple[int, int], payload: bytes) -> bytes:
    """The entropy-coded byte format, re-tagged ``HS``, with the sparse payload as y string."""
    data = bitstream.pack(header, LatentStrings(z_string, payload, z_size, []))
    return MAGIC + data[len(bitstream.MAGIC) :]


def unpack(data: bytes) -> tuple[bitstream.Header, LatentStrings]:
    if bytes(data[: len(MAGIC)]) != MAGIC:
        raise ValueError("not a sparse-matrix HiFiC bitstream (bad magic bytes); decode it with the codec that wrote it")
    return bitstream.unpack(bitstream.MAGIC + bytes(data[len(MAGIC) :]))


@torch.no_grad()
def decoded_means(model: HiFiC, z_string: bytes, z_size: tuple[int, int]) -> torch.Tensor:
    z_hat = model.hyperprior.z_prior.decompress([z_string], z_size)
    return model.hyperprior.entropy_parameters(z_hat)[0]


def encode_image(
    model: HiFiC, image: np.ndarray, model_id: str, fingerprint: int, layout: Layout = DEFAULT_LAYOUT
) -> tuple[bytes, EncodedLatents]:
    """Compress one image to sparse-matrix bytes; also return the encoder's latents.

    The latents are those of the entropy-coded format (``HiFiC.encode_latents``): the
    means come from the *decoded* z_hat, so the decoder recomputes the very same means.
    """
    x = bitstream.image_to_tensor(image, next(model.parameters()).device)
    latents = model.encode_latents(x)
    streams = encode_symbols(latents.residual.cpu().numpy().astype(np.int64), layout)
    header = bitstream.header_for(image, x, model_id, fingerprint)
    return pack(header, latents.z_string, latents.z_size, pack_payload(streams, layout)), latents


def decode_latent(model: HiFiC, strings: LatentStrings) -> torch.Tensor:
    """y_hat (1, C, 4 z_h, 4 z_w) from the z string and the sparse payload."""
    means = decoded_means(model, strings.z_string, strings.z_size)
    streams, layout = unpack_payload(strings.y_string)
    symbols = decode_symbols(streams, means.numel(), layout)
    residual = torch.from_numpy(symbols).to(means.device, means.dtype).reshape(means.shape)
    return residual + means


def decode_image(model: HiFiC, data: bytes, fingerprint: int) -> np.ndarray:
    """Decode bytes from :func:`encode_image` with the model they were written with."""
    header, strings = unpack(data)
    bitstream.check_fingerprint(header, fingerprint)
    return bitstream.reconstruct(model, decode_latent(model, strings), header.height, header.width)


def stream_sizes(data: bytes) -> dict[str, float]:
    """``positions_bytes`` and ``values_bytes`` of a sparse-matrix bitstream."""
    streams, _ = unpack_payload(unpack(data)[1].y_string)
    return {"positions_bytes": float(len(streams.positions)), "values_bytes": float(len(streams.values))}


class SparseMatrixHiFiCCodec(HiFiCCodec):
    """HiFiC checkpoints with the residual written as a sparse matrix (no learned y model)."""

    description = "HiFiC checkpoints; residual as sparse matrix (run lengths + values, zstd), z entropy-coded"
    bitstream_suffix = "-sparse-matrix"

    def encode_image(self, model: HiFiC, image: np.ndarray, setting: str, model_fingerprint: int) -> tuple[bytes, EncodedLatents]:
        return encode_image(model, image, setting, model_fingerprint)

    def decode_image(self, model: HiFiC, data: bytes, model_fingerprint: int) -> np.ndarray:
        return decode_image(model, data, model_fingerprint)

    def encode_with_info(self, image: np.ndarray, setting: Setting) -> EncodeResult:
        result = super().encode_with_info(image, setting)
        result.info.update(stream_sizes(result.bitstream))
        return result

    def decode(self, bitstream_bytes: bytes) -> np.ndarray:
        setting = unpack(bitstream_bytes)[0].model_id
        model, model_fingerprint, _ = self.model(setting)
        return self.decode_image(model, bitstream_bytes, model_fingerprint)

    def version(self) -> str:
        return f"{super().version()}, zstandard {zstandard.__version__}"


BITSTREAM_CODECS[SparseMatrixHiFiCCodec.bitstream_suffix] = SparseMatrixHiFiCCodec
