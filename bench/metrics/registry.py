"""Metric names: built-ins plus the entry-point group ``codec_bench.metrics``."""
from __future__ import annotations

import importlib
from importlib.metadata import entry_points
from typing import Any, Mapping

from bench.metrics.base import Metric

ENTRY_POINT_GROUP = "codec_bench.metrics"

BUILTIN_METRICS: dict[str, str] = {
    "psnr": "bench.metrics.psnr:PSNR",
    "ms_ssim": "bench.metrics.ms_ssim:MSSSIM",
    "lpips": "bench.metrics.lpips:LPIPS",
}

DEFAULT_METRICS = "psnr,ms_ssim"


class UnknownMetric(KeyError):
    def __str__(self) -> str:
        return str(self.args[0])


def metric_classes() -> dict[str, type]:
    classes: dict[str, type] = {}
    for name, target in BUILTIN_METRICS.items():
        module_name, _, attribute = target.partition(":")
        classes[name] = getattr(importlib.import_module(module_name), attribute)
    for entry_point in entry_points(group=ENTRY_POINT_GROUP):
        classes.setdefault(entry_point.name, entry_point.load())
    return classes


def create_metrics(names: str, options: Mapping[str, Any] | None = None) -> list[Any]:
    """Instantiate the metrics of a comma-separated ``--metrics`` value, in order."""
    classes = metric_classes()
    wanted = [name.strip() for name in names.split(",") if name.strip()]
    unknown = [name for name in wanted if name not in classes]
    if unknown:
        raise UnknownMetric(f"unknown metric {', '.join(unknown)}; known metrics: {', '.join(sorted(classes))}")
    return [classes[name](options) for name in wanted]
