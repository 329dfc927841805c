"""codec-bench: lossy image codecs, classical and learned, measured on the same images.

The public names load on first use, so that ``import bench`` (and ``bench --help``) stays fast::

    import bench
    result = bench.run("jpeg,webp", dataset="sample", out="runs/sample")
    result.results                      # one row per image x codec x setting (pandas)
    bench.RunDir("runs/sample").read_results()
"""
from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_PUBLIC = {
    "run": "bench.api:run",
    "RunResult": "bench.api:RunResult",
    "RunPlan": "bench.core.plan:RunPlan",
    "ImageSource": "bench.core.plan:ImageSource",
    "RunDir": "bench.core.rundir:RunDir",
    "CODECS": "bench.codecs.registry:CODECS",
    "METRICS": "bench.metrics.registry:METRICS",
    "Codec": "bench.codecs.base:Codec",
    "Metric": "bench.metrics.base:Metric",
    "BenchError": "bench.errors:BenchError",
    "read_image": "bench.imageio:read_image",
    "bits_per_pixel": "bench.codecs.base:bits_per_pixel",
    # For users' own scripts beside a CPU torch: call it before importing compressai or torchvision.
    "ensure_torchvision": "bench._torchvision:ensure_torchvision",
}
__all__ = ["__version__", *_PUBLIC]


def __getattr__(name: str) -> Any:
    if name not in _PUBLIC:
        raise AttributeError(f"module 'bench' has no attribute {name!r}")
    module_name, _, attribute = _PUBLIC[name].partition(":")
    value = getattr(importlib.import_module(module_name), attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_PUBLIC))
