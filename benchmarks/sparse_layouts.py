"""Sizes of the sparse-matrix layouts on synthetic HiFiC-sized residuals.

Prints, for residuals with 50 %, 90 % and 99 % zeros, the bytes (positions + values) of
every layout in ``bench.codecs.hific.sparse_layouts`` and of the dense symbols (int8)
compressed whole, next to the ideal size of an i.i.d. coder (empirical entropy).

The residual has the shape of the ``small``/``paper`` latent of a 768x512 Kodak image
(220 x 32 x 48 symbols, channel-major as coded). Non-zero magnitudes follow a discretized
Laplacian (scale 1.5); the non-zeros are either scattered uniformly or concentrated in a
random subset of the channels (half of each active channel non-zero), since trained sparse models switch whole channels off.

Run: ``python benchmarks/sparse_layouts.py``
"""
from __future__ import annotations

import time

import numpy as np

from bench.codecs.hific.latent_stats import latent_symbol_entropy_bits
from bench.codecs.hific.sparse_layouts import COMPRESSORS, LAYOUTS, decode_symbols, encode_symbols

SHAPE = (220, 32, 48)


def synthetic_residual(zero_fraction: float, channel_structured: bool, rng: np.random.Generator) -> np.ndarray:
    magnitudes = np.maximum(1, np.round(rng.exponential(1.5, SHAPE))).astype(np.int64)
    signs = np.where(rng.random(SHAPE) < 0.5, -1, 1)
    if channel_structured:
        # Half of the symbols of the active channels are non-zero, the other channels are off.
        active = np.arange(SHAPE[0]) < round(SHAPE[0] * min(1.0, 2 * (1 - zero_fraction)))
        keep = (rng.random(SHAPE) < 0.5) & rng.permutation(active)[:, None, None]
    else:
        keep = rng.random(SHAPE) >= zero_fraction
    return (magnitudes * signs * keep).reshape(-1)


def main() -> None:
    rng = np.random.default_rng(0)
    names = [layout.name for layout in LAYOUTS.values()]
    print(f"{'zeros':>6} {'where':>9} {'entropy':>8} " + " ".join(f"{n:>11}" for n in names) + f" {'dense+zstd':>11} {'dense+lzma':>11}")
    for zero_fraction in (0.5, 0.9, 0.99):
        for structured in (False, True):
            symbols = synthetic_residual(zero_fraction, structured, rng)
            ideal = latent_symbol_entropy_bits(symbols) * symbols.size / 8
            sizes = []
            for layout in LAYOUTS.values():
                streams = encode_symbols(symbols, layout)
                assert np.array_equal(decode_symbols(streams, symbols.size, layout), symbols)
                sizes.append(f"{len(streams.positions):>5}+{len(streams.values):<5}")
            dense = symbols.clip(-128, 127).astype(np.int8).tobytes()
            dense_sizes = [f"{len(COMPRESSORS[name][0](dense)):>11}" for name in ("zstd", "lzma")]
            where = "channels" if structured else "scattered"
            print(f"{zero_fraction:>6.0%} {where:>9} {ideal:>8.0f} " + " ".join(sizes) + " " + " ".join(dense_sizes))
    symbols = synthetic_residual(0.9, False, rng)
    for layout in LAYOUTS.values():
        start = time.perf_counter()
        streams = encode_symbols(symbols, layout)
        middle = time.perf_counter()
        decode_symbols(streams, symbols.size, layout)
        end = time.perf_counter()
        print(f"{layout.name:<12} encode {1000 * (middle - start):6.1f} ms  decode {1000 * (end - middle):6.1f} ms (90 % zeros)")


if __name__ == "__main__":
    main()
