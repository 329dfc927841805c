"""Metric names: built-ins plus the entry-point group ``codec_bench.metrics``."""
from __future__ import annotations

from typing import Any, Mapping

from bench.errors import BenchError
from bench.plugins import entry_point_objects, load_object

ENTRY_POINT_GROUP = "codec_bench.metrics"

BUILTIN_METRICS: dict[str, str] = {
    "psnr": "bench.metrics.psnr:PSNR",
    "ms_ssim": "bench.metrics.ms_ssim:MSSSIM",
    "lpips": "bench.metrics.lpips:LPIPS",
    "fid": "bench.metrics.fid:FID",
    "kid": "bench.metrics.kid:KID",
}

DEFAULT_METRICS = "psnr,ms_ssim"


class UnknownMetric(BenchError):
    pass


def metric_classes() -> dict[str, type | str]:
    """Metric classes by name; a plug-in that failed to load maps to the reason."""
    classes = {name: load_object(target) for name, target in BUILTIN_METRICS.items()}
    for name, metric_class, problem in entry_point_objects(ENTRY_POINT_GROUP):
        if name not in classes:
            classes[name] = metric_class if problem is None else problem
    return classes


def create_metrics(names: str, options: Mapping[str, Any] | None = None) -> list[Any]:
    """Instantiate the metrics of a comma-separated ``--metrics`` value, in order."""
    classes = metric_classes()
    wanted = [name.strip() for name in names.split(",") if name.strip()]
    unknown = [name for name in wanted if name not in classes]
    if unknown:
        raise UnknownMetric(f"unknown metric {', '.join(unknown)}; known metrics: {', '.join(sorted(classes))}")
    broken = [f"{name}: {classes[name]}" for name in wanted if isinstance(classes[name], str)]
    if broken:
        raise UnknownMetric(f"metric plug-in unavailable: {'; '.join(broken)}")
    return [classes[name](options) for name in wanted]
