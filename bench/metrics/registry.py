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
    "ssimulacra2": "bench.metrics.ssimulacra2:SSIMULACRA2",
    "butteraugli": "bench.metrics.butteraugli:Butteraugli",
    "vmaf": "bench.metrics.vmaf:VMAF",
    "niqe": "bench.metrics.niqe:NIQE",
}
#: ``--metrics all``: every metric whose ``check()`` passes here.
ALL = "all"

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
    ``Options`` dataclass, or that dataclass's defaults. ``all`` is every metric, available or
    not: :func:`available_metrics` sorts them.
    """
    options = list(options)
    classes = metric_classes()
    wanted = [name.strip() for name in names.split(",") if name.strip()]
    if wanted == [ALL]:
        wanted = [name for name, value in classes.items() if not isinstance(value, BrokenPlugin)]
    unknown = [name for name in wanted if name not in classes]
    if unknown:
        raise UnknownMetric(f"unknown metric {', '.join(unknown)}; known metrics: {', '.join(sorted(classes))}")
    broken = [f"{name}: {classes[name].problem}" for name in wanted if isinstance(classes[name], BrokenPlugin)]
    if broken:
        raise UnknownMetric(f"metric plug-in unavailable: {'; '.join(broken)}")
    return [_create(classes[name], options) for name in wanted]


def available_metrics(metrics: list[Any]) -> tuple[list[Any], dict[str, str]]:
    """The metrics whose ``check()`` passes, and the others' one-line reasons (for ``--metrics all``)."""
    available, reasons = [], {}
    for metric in metrics:
        try:
            metric.check()
        except Exception as exc:  # noqa: BLE001 - any failure means "not here", said in one line
            reasons[metric.name] = str(exc)
        else:
            available.append(metric)
    return available, reasons


def _create(metric_class: type, options: list[Any]) -> Any:
    metric_options = options_for(metric_class, options)
    return metric_class() if metric_options is None else metric_class(metric_options)
