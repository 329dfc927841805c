"""The complexity figures of a learned codec: parameters, multiply-accumulates, memory, time split.

A learned codec's :meth:`~bench.codecs.base.Codec.complexity` measures its model with
:func:`measure_codec_model`; the run does so once per codec and operating point, on one image (the
run's first), outside the timed encode and decode of the rows (:mod:`bench.core.complexity`;
``bench run`` writes them to ``complexity.csv``):

``params_encoder``, ``params_decoder``
    parameters of the modules that run when encoding (analysis transforms, the hyper-synthesis
    the encoder needs for the entropy parameters, the entropy models) and when decoding;
``kmac_per_pixel_encode``, ``kmac_per_pixel_decode``
    thousands of multiply-accumulates per pixel of the original image, counted by
    ``torch.utils.flop_counter.FlopCounterMode`` (convolutions, matrix products; MACs = FLOPs / 2)
    over the padded image the model really processes. Entropy coding is not MACs and is not in it;
``peak_memory_encode_mb``, ``peak_memory_decode_mb``
    on CUDA ``torch.cuda.max_memory_allocated`` above what was allocated before the call; on the
    CPU the peak resident memory of the process during the call above its level before (Linux
    ``/proc/self/statm``, sampled every millisecond, after glibc's ``malloc_trim`` returned the
    free heap to the system so that reused pages do not hide the call's needs: approximate, NaN
    elsewhere);
``encode_seconds``, ``decode_seconds``, ``entropy_seconds_encode``, ``entropy_seconds_decode``
    the median wall time of :data:`TIMING_REPEATS` encodes and decodes after one warm-up call each,
    with ``torch.cuda.synchronize`` around CUDA calls, and the median part spent inside the
    CompressAI entropy models' ``compress`` / ``decompress`` (rANS, table lookups); the rest is the
    networks. Models that code outside those methods (autoregressive context models decode
    position by position) show less entropy time than they spend;
``encode_seconds_spread``, ``decode_seconds_spread``
    the range (slowest minus fastest) of those repeats: one measurement is at the mercy of
    whatever else the machine does (identical architectures were once timed 0.043 and 0.811 s).
"""
from __future__ import annotations

import math
import os
import threading
import time
from contextlib import contextmanager
from typing import Any, Callable, Iterator

COLUMNS = (
    "params_encoder", "params_decoder", "kmac_per_pixel_encode", "kmac_per_pixel_decode", "peak_memory_encode_mb",
    "peak_memory_decode_mb", "encode_seconds", "decode_seconds", "entropy_seconds_encode", "entropy_seconds_decode",
    "encode_seconds_spread", "decode_seconds_spread",
)
#: Timed encodes and decodes per figure (their median is reported, their range beside it).
TIMING_REPEATS = 3


def _rss_bytes() -> int | None:
    try:
        with open("/proc/self/statm") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def _release_free_memory() -> None:
    """Hand the C allocator's free memory back to the system (glibc ``malloc_trim``), so that what
    a call allocates shows as resident memory that grows, not as reused pages; no-op elsewhere."""
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    try:
        ctypes.CDLL(name).malloc_trim(0)
    except (OSError, AttributeError, TypeError):
        pass


@contextmanager
def _peak_memory(device: Any) -> Iterator[dict[str, float]]:
    """Yields a dict that holds ``mb``, the peak memory above the level at entry, after the block."""
    import torch

    result = {"mb": math.nan}
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        before = torch.cuda.memory_allocated(device)
        torch.cuda.reset_peak_memory_stats(device)
        yield result
        torch.cuda.synchronize(device)
        result["mb"] = (torch.cuda.max_memory_allocated(device) - before) / 2**20
        return
    _release_free_memory()
    before = _rss_bytes()
    if before is None:
        yield result
        return
    peak = [before]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _rss_bytes() or 0)
            time.sleep(0.001)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield result
    finally:
        done.set()
        sampler.join()
        result["mb"] = (max(peak[0], _rss_bytes() or 0) - before) / 2**20


@contextmanager
def _instrumented(model: Any) -> Iterator[dict[str, Any]]:
    """Within the block: which modules run (forward hooks), and the time inside entropy models'
    ``compress`` / ``decompress`` (instance-level wrappers, removed afterwards)."""
    from bench._torchvision import ensure_torchvision

    ensure_torchvision()
    from bench.codecs.entropy_symbols import wrapped_entropy_models

    record: dict[str, Any] = {"modules": set(), "entropy_seconds": 0.0}

    def timer(module: Any, original: Any) -> Any:
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                record["entropy_seconds"] += time.perf_counter() - started
                record["modules"].update(module.modules())  # its density's parameter lists too

        return timed

    hooks = [module.register_forward_pre_hook(lambda module, inputs: record["modules"].add(module)) for module in model.modules()]
    try:
        with wrapped_entropy_models(model, ("compress", "decompress"), timer):
            yield record
    finally:
        for hook in hooks:
            hook.remove()


def _parameters(modules: set[Any]) -> int:
    return sum(parameter.numel() for module in modules for parameter in module.parameters(recurse=False))


def _macs(call: Callable[[], Any]) -> float:
    """Multiply-accumulates of ``call`` (torch counts a MAC as two FLOPs)."""
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        call()
    return counter.get_total_flops() / 2


def _timed(call: Callable[[], Any], device: Any) -> tuple[Any, float]:
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize(device)
    started = time.perf_counter()
    result = call()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return result, time.perf_counter() - started


def measure_codec_model(
    model: Any, encode: Callable[[], Any], decode: Callable[[Any], Any], pixels: int,
) -> dict[str, float]:
    """The figures of :data:`COLUMNS` for one model: ``encode()`` codes the image and returns what
    ``decode(encoded)`` needs; ``pixels`` is the original image's H x W."""
    import torch

    import statistics

    device = next(model.parameters()).device
    with torch.no_grad():
        decode(encode())  # warm-up (allocations, kernels, lazily built tables)
        # The first repeat also gives the parameters and the peak memory (one call's needs).
        encode_seconds, decode_seconds, encode_entropy, decode_entropy = [], [], [], []
        for repeat in range(TIMING_REPEATS):
            with _instrumented(model) as record, _peak_memory(device) as memory:
                encoded, seconds = _timed(encode, device)
            encode_seconds.append(seconds)
            encode_entropy.append(record["entropy_seconds"])
            if repeat == 0:
                encode_record, encode_memory = record, memory
            with _instrumented(model) as record, _peak_memory(device) as memory:
                _, seconds = _timed(lambda: decode(encoded), device)
            decode_seconds.append(seconds)
            decode_entropy.append(record["entropy_seconds"])
            if repeat == 0:
                decode_record, decode_memory = record, memory
        encode_macs = _macs(encode)
        decode_macs = _macs(lambda: decode(encoded))
    return {
        "params_encoder": _parameters(encode_record["modules"]),
        "params_decoder": _parameters(decode_record["modules"]),
        "kmac_per_pixel_encode": encode_macs / pixels / 1000,
        "kmac_per_pixel_decode": decode_macs / pixels / 1000,
        "peak_memory_encode_mb": encode_memory["mb"],
        "peak_memory_decode_mb": decode_memory["mb"],
        "encode_seconds": statistics.median(encode_seconds),
        "decode_seconds": statistics.median(decode_seconds),
        "entropy_seconds_encode": statistics.median(encode_entropy),
        "entropy_seconds_decode": statistics.median(decode_entropy),
        "encode_seconds_spread": max(encode_seconds) - min(encode_seconds),
        "decode_seconds_spread": max(decode_seconds) - min(decode_seconds),
    }
