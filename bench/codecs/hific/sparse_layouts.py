"""Sparse-matrix layouts for integer latents: positions + values, then a general compressor.

A layout writes a flat int64 array of residual symbols as two byte streams:

* **positions** of the non-zero symbols, one of

  - ``bitmap``: one bit per symbol (``np.packbits`` of the non-zero mask);
  - ``runs``: for each non-zero symbol, the number of zeros before it (LEB128 varints);
  - ``coo``: the absolute flat index of each non-zero symbol (uint32 little-endian),
    the textbook coordinate format;

* **values**: the non-zero symbols in order, zigzag-mapped (0, -1, 1, -2... -> 0, 1, 2, 3...)
  and written as LEB128 varints, so the small integers a codec produces take one byte each;

and compresses each stream with ``zstd`` (level 19, ``zstandard`` package) or ``lzma``
(raw LZMA2, preset 9 extreme, no container header). The two streams stay separate so
their sizes can be reported apart. ``docs/sparse.md`` has the measured sizes that chose
:data:`DEFAULT_LAYOUT`; ``benchmarks/sparse_layouts.py`` reproduces them.
"""
from __future__ import annotations

import lzma
from dataclasses import dataclass
from typing import Callable

import numpy as np
import zstandard

ZSTD_LEVEL = 19
_LZMA_FILTERS = [{"id": lzma.FILTER_LZMA2, "preset": 9 | lzma.PRESET_EXTREME}]


def varint_encode(values: np.ndarray) -> bytes:
    """Unsigned LEB128 of every value of a non-negative integer array, concatenated."""
    values = np.asarray(values, dtype=np.uint64).reshape(-1)
    if values.size == 0:
        return b""
    lengths = np.ones(values.size, dtype=np.int64)
    for shift in range(7, 64, 7):
        lengths += values >= (np.uint64(1) << np.uint64(shift))
    out = np.zeros(int(lengths.sum()), dtype=np.uint8)
    starts = np.cumsum(lengths) - lengths
    for index in range(int(lengths.max())):
        has_byte = lengths > index
        chunk = (values[has_byte] >> np.uint64(7 * index)) & np.uint64(0x7F)
        more = (lengths[has_byte] > index + 1).astype(np.uint64) << np.uint64(7)
        out[starts[has_byte] + index] = (chunk | more).astype(np.uint8)
    return out.tobytes()


def varint_decode(data: bytes, count: int) -> np.ndarray:
    """Inverse of :func:`varint_encode`: exactly ``count`` values (uint64)."""
    raw = np.frombuffer(data, dtype=np.uint8)
    ends = np.flatnonzero(raw < 0x80)
    if ends.size != count or (count and ends[-1] != raw.size - 1):
        raise ValueError(f"corrupt sparse-matrix stream: expected {count} varints, found {ends.size}")
    if count == 0:
        return np.zeros(0, dtype=np.uint64)
    starts = np.concatenate(([0], ends[:-1] + 1))
    position_in_value = np.arange(raw.size) - np.repeat(starts, ends - starts + 1)
    parts = (raw & 0x7F).astype(np.uint64) << (np.uint64(7) * position_in_value.astype(np.uint64))
    return np.add.reduceat(parts, starts)


def zigzag(values: np.ndarray) -> np.ndarray:
    """Signed -> unsigned: 0, -1, 1, -2, 2 ... -> 0, 1, 2, 3, 4 ..."""
    values = np.asarray(values, dtype=np.int64)
    return ((values << 1) ^ (values >> 63)).astype(np.uint64)


def unzigzag(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, dtype=np.uint64)
    return ((values >> np.uint64(1)).astype(np.int64)) ^ -((values & np.uint64(1)).astype(np.int64))


def _bitmap_encode(mask: np.ndarray) -> bytes:
    return np.packbits(mask).tobytes()


def _bitmap_decode(data: bytes, size: int, nonzeros: int) -> np.ndarray:
    mask = np.unpackbits(np.frombuffer(data, dtype=np.uint8), count=size).astype(bool)
    return np.flatnonzero(mask)


def _runs_encode(mask: np.ndarray) -> bytes:
    positions = np.flatnonzero(mask)
    return varint_encode(np.diff(positions, prepend=-1) - 1)


def _runs_decode(data: bytes, size: int, nonzeros: int) -> np.ndarray:
    return np.cumsum(varint_decode(data, nonzeros).astype(np.int64) + 1) - 1


def _coo_encode(mask: np.ndarray) -> bytes:
    return np.flatnonzero(mask).astype("<u4").tobytes()


def _coo_decode(data: bytes, size: int, nonzeros: int) -> np.ndarray:
    return np.frombuffer(data, dtype="<u4").astype(np.int64)


#: Position formats: name -> (encode(mask) -> bytes, decode(bytes, size, nonzeros) -> flat positions).
POSITION_FORMATS: dict[str, tuple[Callable[[np.ndarray], bytes], Callable[[bytes, int, int], np.ndarray]]] = {
    "bitmap": (_bitmap_encode, _bitmap_decode),
    "runs": (_runs_encode, _runs_decode),
    "coo": (_coo_encode, _coo_decode),
}

#: General-purpose compressors: name -> (compress, decompress).
COMPRESSORS: dict[str, tuple[Callable[[bytes], bytes], Callable[[bytes], bytes]]] = {
    "zstd": (
        lambda data: zstandard.ZstdCompressor(level=ZSTD_LEVEL).compress(data),
        lambda data: zstandard.ZstdDecompressor().decompress(data),
    ),
    "lzma": (
        lambda data: lzma.compress(data, format=lzma.FORMAT_RAW, filters=_LZMA_FILTERS),
        lambda data: lzma.decompress(data, format=lzma.FORMAT_RAW, filters=_LZMA_FILTERS),
    ),
}


@dataclass(frozen=True)
class Layout:
    """One position format + one compressor; ``layout_id`` is the byte stored in bitstreams."""

    layout_id: int
    positions: str
    compressor: str

    @property
    def name(self) -> str:
        return f"{self.positions}+{self.compressor}"


LAYOUTS: dict[int, Layout] = {
    layout.layout_id: layout
    for layout in (
        Layout(0, "bitmap", "zstd"),
        Layout(1, "runs", "zstd"),
        Layout(2, "coo", "zstd"),
        Layout(3, "bitmap", "lzma"),
        Layout(4, "runs", "lzma"),
        Layout(5, "coo", "lzma"),
    )
}
#: Chosen by the measurements in docs/sparse.md.
DEFAULT_LAYOUT = LAYOUTS[1]


@dataclass(frozen=True)
class SparseStreams:
    """The compressed streams of one symbol array and how many symbols are non-zero."""

    nonzeros: int
    positions: bytes
    values: bytes


def encode_symbols(symbols: np.ndarray, layout: Layout = DEFAULT_LAYOUT) -> SparseStreams:
    """Write a flat integer array as compressed positions and values streams."""
    symbols = np.asarray(symbols, dtype=np.int64).reshape(-1)
    mask = symbols != 0
    compress = COMPRESSORS[layout.compressor][0]
    positions = POSITION_FORMATS[layout.positions][0](mask)
    values = varint_encode(zigzag(symbols[mask]))
    return SparseStreams(int(mask.sum()), compress(positions), compress(values))


def decode_symbols(streams: SparseStreams, size: int, layout: Layout) -> np.ndarray:
    """Inverse of :func:`encode_symbols`: the flat int64 array of ``size`` symbols."""
    decompress = COMPRESSORS[layout.compressor][1]
    positions = POSITION_FORMATS[layout.positions][1](decompress(streams.positions), size, streams.nonzeros)
    values = unzigzag(varint_decode(decompress(streams.values), streams.nonzeros))
    if positions.size != streams.nonzeros or (positions.size and (positions.min() < 0 or positions.max() >= size)):
        raise ValueError("corrupt sparse-matrix stream: positions do not fit the latent")
    symbols = np.zeros(size, dtype=np.int64)
    symbols[positions] = values
    return symbols
