"""Metrics: a small base class and a registry (see :mod:`bench.metrics.registry`)."""
from bench.metrics.base import Metric
from bench.metrics.registry import METRICS, select_metrics

__all__ = ["METRICS", "Metric", "select_metrics"]
