"""On a GPU: learned codecs encode there and decode on the CPU, and the complexity figures use
CUDA's own memory counters. Marked ``cuda``: skipped where torch sees no GPU (tests/conftest.py);
``benchmarks/gpu_check.sh`` runs them where a GPU is lent."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from bench.codecs.registry import all_codecs

pytestmark = pytest.mark.cuda


@pytest.fixture(scope="module")
def gpu():
    return "cuda"


@pytest.mark.parametrize("name", ["hific-cpu-dense", "hific-cpu-dense-sparse-matrix"])
def test_a_bitstream_encoded_on_the_gpu_decodes_on_the_cpu_to_the_same_symbols(gpu, name, kodim01_crop):
    codec = all_codecs()[name]
    codec.use_device(gpu)
    bitstream = codec.encode(kodim01_crop, "lo")
    on_gpu, symbols_gpu = codec.decode(bitstream), codec.decoded_latent(bitstream)
    codec.use_device("cpu")
    on_cpu, symbols_cpu = codec.decode(bitstream), codec.decoded_latent(bitstream)
    np.testing.assert_array_equal(symbols_gpu, symbols_cpu)
    assert np.abs(on_gpu.astype(int) - on_cpu).max() <= 1


def test_complexity_on_the_gpu_counts_cuda_memory(gpu, kodim01_crop):
    codec = all_codecs()["hific-cpu-dense"]
    codec.use_device(gpu)
    figures = codec.complexity(kodim01_crop, "lo")
    assert figures["peak_memory_decode_mb"] > 0 and figures["decode_seconds"] > 0
    assert figures["kmac_per_pixel_decode"] > figures["kmac_per_pixel_encode"] > 0
