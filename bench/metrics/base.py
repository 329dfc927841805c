"""The metric interfaces.

A :class:`Metric` scores one reconstruction against its reference and returns one or more
named values, each of which becomes a column of the results table. The runner knows no
metric by name: it asks each selected metric for ``measure(reference, reconstruction)``.

A :class:`DistributionMetric` (FID, KID) compares two *sets* of images, so it has no value
per row: the runner stores each reconstruction's ``features(image)`` with its row, the
reference images' features are cached per image content, and
:mod:`bench.distribution` calls ``compute(reference_features, reconstruction_features)``
once per (dataset, codec, setting).
"""
from __future__ import annotations

from typing import Any, ClassVar, Mapping

import numpy as np


class Metric:
    """Base class for a per-image full-reference metric on 8-bit RGB arrays."""

    name: ClassVar[str] = ""
    #: Columns this metric fills in the results table; by default just ``name``.
    columns: ClassVar[tuple[str, ...]] = ()
    #: Distribution whose version is recorded in the run metadata.
    library: ClassVar[str] = ""
    higher_is_better: ClassVar[bool] = True
    #: Unit shown in reports (e.g. "dB"), empty when unitless.
    unit: ClassVar[str] = ""

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        self.options = dict(options or {})

    @classmethod
    def column_names(cls) -> tuple[str, ...]:
        return cls.columns or (cls.name,)

    def check(self) -> None:
        """Fail early, in the main process, if the metric cannot run with its options.

        Called once before any job runs; raise :class:`bench.errors.BenchError` with a
        one-line reason (missing or corrupt weights, an unusable device). The default
        checks nothing.
        """

    def signature(self) -> str:
        """What the stored values depend on besides the images (network, weights hash...).

        A stored row whose signature for this metric differs is measured again, so a
        changed setting never leaves stale values. The default is the metric's name.
        """
        return self.name

    def measure(self, reference: np.ndarray, reconstruction: np.ndarray) -> dict[str, float]:
        """Score ``reconstruction`` against ``reference`` (both H x W x 3 uint8)."""
        raise NotImplementedError


class DistributionMetric(Metric):
    """Base class for a metric between the feature distributions of two image sets.

    Metrics with the same :attr:`feature_key` share features (FID and KID both use
    Inception pool3 features of the same patches), so each image is featurised once.
    """

    def feature_key(self) -> str:
        """Identifies the features: extractor, its settings and its weights' hash.

        Stored features are reused only under the same key, so it must change whenever
        the features would (a different weights file, patch size, ...).
        """
        raise NotImplementedError

    def features(self, image: np.ndarray) -> np.ndarray:
        """N x D features of one H x W x 3 uint8 image (N may be 0 for a small image)."""
        raise NotImplementedError

    def compute(self, reference_features: np.ndarray, reconstruction_features: np.ndarray) -> dict[str, float]:
        """The metric's columns from the pooled features of the two sets."""
        raise NotImplementedError

    def measure(self, reference: np.ndarray, reconstruction: np.ndarray) -> dict[str, float]:
        # Per-row metrics only; a distribution has no value for one image pair.
        return {}
