"""Complexity figures of learned codecs: MACs counted by hand, parameters per side, and the
figures a run stores (``bench/core/complexity.py``)."""
from __future__ import annotations

import math

import numpy as np
import pytest

from bench.codecs.compressai_zoo import CompressAIOptions, CompressAIZoo
from zoo_helpers import save_random_weights


def factorized_macs(height: int, width: int, n: int, m: int) -> tuple[int, int]:
    """Multiply-accumulates of Balle et al.'s factorized-prior model (CompressAI's
    ``FactorizedPrior(N, M)``), counted from its layers: four 5x5 convolutions with stride 2
    (3->N, N->N, N->N, N->M), a GDN (a 1x1 convolution N->N on the squares) after each of the
    first three; the decoder mirrors it with transposed convolutions and inverse GDNs."""
    def pixels(level: int) -> int:  # positions after `level` halvings
        return (height // 2**level) * (width // 2**level)

    encode = (pixels(1) * n * 3 * 25 + pixels(1) * n * n
              + pixels(2) * n * n * 25 + pixels(2) * n * n
              + pixels(3) * n * n * 25 + pixels(3) * n * n
              + pixels(4) * m * n * 25)
    # A transposed convolution costs (input positions) x Cin x Cout x 25: the same sums, in reverse.
    decode = (pixels(4) * m * n * 25 + pixels(3) * n * n
              + pixels(3) * n * n * 25 + pixels(2) * n * n
              + pixels(2) * n * n * 25 + pixels(1) * n * n
              + pixels(1) * n * 3 * 25)
    return encode, decode


def test_kmac_per_pixel_of_a_zoo_architecture_equals_the_count_by_hand(tmp_path, kodim01):
    save_random_weights(tmp_path, "bmshj2018-factorized", "mse", 1)  # the zoo's quality 1: N=128, M=192
    codec = CompressAIZoo("bmshj2018-factorized", "mse", CompressAIOptions(weights_dir=tmp_path))
    image = np.ascontiguousarray(kodim01[:100, :150])  # padded to 128 x 192, as the model processes it
    figures = codec.complexity(image, 1)

    encode, decode = factorized_macs(128, 192, 128, 192)
    assert figures["kmac_per_pixel_encode"] == pytest.approx(encode / (100 * 150) / 1000, rel=1e-12)
    assert figures["kmac_per_pixel_decode"] == pytest.approx(decode / (100 * 150) / 1000, rel=1e-12)
    model = codec.model(1)
    count = lambda module: sum(p.numel() for p in module.parameters())  # noqa: E731
    assert figures["params_encoder"] == count(model.g_a) + count(model.entropy_bottleneck)
    assert figures["params_decoder"] == count(model.g_s) + count(model.entropy_bottleneck)
    assert 0 < figures["entropy_seconds_encode"] < figures["encode_seconds"]
    assert 0 < figures["entropy_seconds_decode"] < figures["decode_seconds"]
    assert figures["peak_memory_encode_mb"] >= 0 and math.isfinite(figures["peak_memory_decode_mb"])


def test_hific_counts_the_networks_each_side_runs(tmp_path, tiny_model, kodim01_crop):
    from bench.models.hific.checkpoint import save_checkpoint
    from hific_helpers import hific_codecs

    save_checkpoint(tiny_model, tmp_path / "lo.pt")
    codec = hific_codecs(checkpoints=(tmp_path / "lo.pt",))["hific"]
    figures = codec.complexity(np.ascontiguousarray(kodim01_crop[:128, :128]), "lo")
    model = codec.model("lo")[0]
    count = lambda module: sum(p.numel() for p in module.parameters())  # noqa: E731
    hyper = model.hyperprior
    shared = count(hyper.synthesis_mean) + count(hyper.synthesis_scale) + count(hyper.z_prior) + count(hyper.y_prior)
    assert figures["params_encoder"] == count(model.encoder) + count(hyper.analysis) + shared
    assert figures["params_decoder"] == count(model.generator) + shared
    assert figures["kmac_per_pixel_decode"] > figures["kmac_per_pixel_encode"] > 0


def test_peak_memory_on_the_cpu_sees_what_a_call_allocates_in_reused_heap():
    import torch

    from bench.codecs.complexity import measure_codec_model

    model = torch.nn.Conv2d(3, 4, 1)
    big = torch.empty(16 * 2**20)
    del big  # freeing a 64 MiB mapped block raises glibc's mmap threshold above 1 MiB
    heap = [torch.ones(2**18) for _ in range(100)]
    del heap  # 100 MiB of 1 MiB heap blocks, free but kept: a call reusing them does not grow the process
    encode = lambda: [torch.ones(2**18) for _ in range(100)]  # noqa: E731
    figures = measure_codec_model(model, encode, lambda blocks: len(blocks), 512 * 512)
    assert 95 <= figures["peak_memory_encode_mb"] < 200


def test_timings_are_the_median_of_the_repeats_with_their_range():
    import time

    import torch

    from bench.codecs.complexity import TIMING_REPEATS, measure_codec_model

    durations = iter([0.0, 0.01, 0.09, 0.03, 0.0, 0.0])  # the warm-up, then each timed encode; the MAC count last
    assert TIMING_REPEATS == 3

    def encode() -> int:
        time.sleep(next(durations, 0.0))
        return 0

    figures = measure_codec_model(torch.nn.Conv2d(3, 4, 1), encode, lambda encoded: encoded, 64 * 64)
    # Sleeps last at least as long as asked, and a loaded machine adds a little: 20 ms of slack.
    assert 0.03 <= figures["encode_seconds"] < 0.05
    assert 0.08 - 0.02 <= figures["encode_seconds_spread"] < 0.08 + 0.02


def test_a_complexity_measurement_past_the_row_limit_is_a_row_with_the_reason(kodak_dir):
    import time

    from bench.codecs.jpeg import JPEG
    from bench.core.complexity import complexity_rows
    from bench.core.points import OperatingPoint

    class Stuck(JPEG):
        name = "stuck"

        def complexity(self, image, setting):  # a learned codec's figures whose measurement hangs
            time.sleep(3600)

    started = time.monotonic()
    rows = complexity_rows({"stuck": Stuck()}, {"stuck": [OperatingPoint(50)]}, [kodak_dir / "kodim01.png"], "cpu", row_timeout=1)
    assert time.monotonic() - started < 20
    assert [row["complexity_error"] for row in rows] == ["ran past the per-row limit of 1 s (--row-timeout)"]
