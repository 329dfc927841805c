"""Metric names: the built-ins and the entry-point group ``codec_bench.metrics`` (see
:class:`bench.plugins.Registry`, the shape codecs share)."""
from __future__ import annotations

from typing import Any, Iterable

from bench.plugins import ALL, Registry, Selection, options_for

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
    "yuv_psnr": "bench.metrics.yuv_psnr:YUVPSNR",
    "vif": "bench.metrics.vif:VIF",
    "fsim": "bench.metrics.fsim:FSIM",
    "nlpd": "bench.metrics.nlpd:NLPD",
    "iw_ssim": "bench.metrics.iw_ssim:IWSSIM",
    "psnr_hvs_m": "bench.metrics.psnr_hvs_m:PSNRHVSM",
    "dists": "bench.metrics.dists:DISTS",
    "ms_ssim_y": "bench.metrics.ms_ssim_y:MSSSIMY",
}
DEFAULT_METRICS = "psnr,ms_ssim"
#: Named sets a ``--metrics`` value may give in place of metric names. ``ctc``: the objective
#: metrics of JPEG AI's common test conditions (WG1 N92048), on the planes they name (docs/metrics.md).
METRIC_GROUPS: dict[str, tuple[str, ...]] = {
    "ctc": ("yuv_psnr", "ms_ssim_y", "vif", "fsim", "nlpd", "iw_ssim", "vmaf", "psnr_hvs_m"),
}
__all__ = ["ALL", "BUILTIN_METRICS", "DEFAULT_METRICS", "METRICS", "METRIC_GROUPS", "metric_classes", "select_metrics"]


def _metric_of(metric_class: Any, options: list[Any]) -> dict[str, Any]:
    metric_options = options_for(metric_class, options)
    metric = metric_class() if metric_options is None else metric_class(metric_options)
    return {metric.name: metric}


METRICS = Registry("metric", BUILTIN_METRICS, ENTRY_POINT_GROUP, _metric_of, lambda metric: metric.check(),
                   lambda metric_class, options: [metric_class.name] if getattr(metric_class, "name", "") else None,
                   METRIC_GROUPS)


def metric_classes() -> dict[str, Any]:
    """Metric classes by name, without building them (a plug-in that failed to load is a ``BrokenPlugin``)."""
    return METRICS.targets()


def select_metrics(names: str, options: Iterable[Any] = ()) -> Selection:
    """The metrics of a comma-separated ``--metrics`` value, in order, each checked (``all``:
    every metric that can run here, and why each other one cannot; a group name such as
    ``ctc``: its members, see :data:`METRIC_GROUPS`)."""
    return METRICS.select(names, options)
