"""Bjontegaard deltas (BD-rate, BD-metric) through the ``bjontegaard`` package, PCHIP interpolation.

Sign conventions, the same for every metric:

* **BD-rate** is the average bitrate difference of the test codec against the anchor at equal
  quality, in percent. Negative means the test codec needs *fewer* bits for the same quality,
  whether the metric is higher-is-better (PSNR) or lower-is-better (LPIPS, FID, KID).
* **BD-metric** is the average metric difference *test - anchor* at equal bitrate, in the
  metric's unit. Positive is better for higher-is-better metrics and *worse* for
  lower-is-better ones: a BD-LPIPS of -0.01 means the test codec's LPIPS is 0.01 lower (better).

Exact repeats of a point (several rate-control targets clamped at the same setting) count once.
When the curves cannot be compared (no overlap, too few points, a curve that is not monotonic
in the metric), the result is "n/a" with the reason instead of a number.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import bjontegaard
import numpy as np
from numpy.typing import ArrayLike

from bench.report.curves import rd_points

INTERPOLATION = "pchip"


@dataclass(frozen=True)
class BDValue:
    """A BD number, or None with the reason it could not be computed."""

    value: float | None
    reason: str = ""

    def format(self, digits: int = 2, suffix: str = "") -> str:
        if self.value is None:
            return f"n/a ({self.reason})"
        return f"{self.value:+.{digits}f}{suffix}"


def _range(values: np.ndarray) -> str:
    return f"{values.min():.4g}-{values.max():.4g}"


def _shape_problem(name: str, bpp: np.ndarray, metric: np.ndarray) -> str:
    if len(bpp) < 2:
        return f"{name} has {len(bpp)} usable point(s), needs 2"
    if np.any(np.diff(bpp) <= 0):
        return f"{name} has two points at the same bpp"
    steps = np.diff(metric)
    if not (np.all(steps > 0) or np.all(steps < 0)):
        return f"{name}'s metric is not monotonic in bpp"
    return ""


def _checked(
    anchor_bpp: np.ndarray, anchor_metric: np.ndarray, test_bpp: np.ndarray, test_metric: np.ndarray
) -> tuple[tuple[np.ndarray, ...], str]:
    anchor = rd_points(anchor_bpp, anchor_metric)
    test = rd_points(test_bpp, test_metric)
    problem = _shape_problem("anchor", *anchor) or _shape_problem("test", *test)
    return (*anchor, *test), problem


def _overlap_problem(kind: str, anchor: np.ndarray, test: np.ndarray) -> str:
    if min(anchor.max(), test.max()) <= max(anchor.min(), test.min()):
        return f"{kind} ranges do not overlap (anchor {_range(anchor)}, test {_range(test)})"
    return ""


def bd_rate(anchor_bpp: ArrayLike, anchor_metric: ArrayLike, test_bpp: ArrayLike, test_metric: ArrayLike) -> BDValue:
    """BD-rate (%) of the test curve against the anchor; negative = fewer bits at equal quality."""
    (a_bpp, a_metric, t_bpp, t_metric), problem = _checked(anchor_bpp, anchor_metric, test_bpp, test_metric)
    problem = problem or _overlap_problem("metric", a_metric, t_metric)
    if problem:
        return BDValue(None, problem)
    # The package interpolates rate over the metric, which must increase along the arrays.
    a_order, t_order = np.argsort(a_metric), np.argsort(t_metric)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = bjontegaard.bd_rate(
            a_bpp[a_order], a_metric[a_order], t_bpp[t_order], t_metric[t_order],
            method=INTERPOLATION, require_matching_points=False, min_overlap=0,
        )
    return BDValue(float(value)) if math.isfinite(value) else BDValue(None, "interpolation failed")


def bd_metric(anchor_bpp: ArrayLike, anchor_metric: ArrayLike, test_bpp: ArrayLike, test_metric: ArrayLike) -> BDValue:
    """BD-metric (test - anchor, in the metric's unit) at equal bitrate over the common bpp range."""
    (a_bpp, a_metric, t_bpp, t_metric), problem = _checked(anchor_bpp, anchor_metric, test_bpp, test_metric)
    if problem.endswith("not monotonic in bpp"):
        problem = ""  # BD-metric interpolates the metric over bpp, which need not be monotonic
    problem = problem or _overlap_problem("bpp", a_bpp, t_bpp)
    if problem:
        return BDValue(None, problem)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = bjontegaard.bd_psnr(
            a_bpp, a_metric, t_bpp, t_metric,
            method=INTERPOLATION, require_matching_points=False, min_overlap=0,
        )
    return BDValue(float(value)) if math.isfinite(value) else BDValue(None, "interpolation failed")
