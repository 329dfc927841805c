"""Metric names: built-ins plus the entry-point group ``codec_bench.metrics``."""
from __future__ import annotations

from typing import Any, Iterable

from bench.errors import BenchError
from bench.plugins import BrokenPlugin, entry_point_objects, load_object, options_for

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


def metric_classes() -> dict[str, type | BrokenPlugin]:
    """Metric classes by name; a plug-in that failed to load is a :class:`BrokenPlugin`."""
    classes: dict[str, type | BrokenPlugin] = {name: load_object(target) for name, target in BUILTIN_METRICS.items()}
    for name, metric_class in entry_point_objects(ENTRY_POINT_GROUP):
        classes.setdefault(name, metric_class)
    return classes


def create_metrics(names: str, options: Iterable[Any] = ()) -> list[Any]:
    """Instantiate the metrics of a comma-separated ``--metrics`` value, in order.

    ``options`` are typed options objects; each metric class receives the one of its
    ``Options`` dataclass, or that dataclass's defaults.
    """
    options = list(options)
    classes = metric_classes()
    wanted = [name.strip() for name in names.split(",") if name.strip()]
    unknown = [name for name in wanted if name not in classes]
    if unknown:
        raise UnknownMetric(f"unknown metric {', '.join(unknown)}; known metrics: {', '.join(sorted(classes))}")
    broken = [f"{name}: {classes[name].problem}" for name in wanted if isinstance(classes[name], BrokenPlugin)]
    if broken:
        raise UnknownMetric(f"metric plug-in unavailable: {'; '.join(broken)}")
    return [_create(classes[name], options) for name in wanted]


def _create(metric_class: type, options: list[Any]) -> Any:
    metric_options = options_for(metric_class, options)
    return metric_class() if metric_options is None else metric_class(metric_options)
