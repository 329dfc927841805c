"""Metrics: a small base class and a registry (see :mod:`bench.metrics.registry`)."""
from bench.metrics.base import Metric
from bench.metrics.registry import UnknownMetric, create_metrics

__all__ = ["Metric", "UnknownMetric", "create_metrics"]
