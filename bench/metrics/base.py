"""The metric interfaces.

A metric returns values; the runner writes them into rows. :meth:`Metric.measure` gives one
reconstruction's named values (each a column of the results table); a :class:`DistributionMetric`
(FID, KID) compares two *sets* of images, so it has no value per row: it gives the
reconstruction's ``features(image)``, which the runner stores beside the row, the reference
images' features are cached per image content, and :mod:`bench.core.distribution` calls
``compute(reference_features, reconstruction_features)`` once per (dataset, codec, point).
:meth:`Metric.row_columns` and :meth:`Metric.feature_keys` say what a stored row must hold for
the metric to count as done. The runner knows no metric by name.

Each reference image is scored against many reconstructions (every codec at every point), so
the contract splits a row's work in two: :meth:`Metric.prepare_reference` computes whatever
depends on the reference alone (a colour transform, a pyramid, network features), and
:meth:`Metric.measure_prepared` scores one reconstruction against that. The runner prepares a
reference once per image and metric in each worker and reuses it for the image's rows. The
defaults hand the reference itself on to :meth:`Metric.measure`, so a metric (a plug-in
included) that overrides neither works unchanged; one that overrides them must give the same
values as its :meth:`Metric.measure` (tests/metrics/test_base.py checks every built-in).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Sequence

from bench.device import AUTO

if TYPE_CHECKING:
    import numpy as np


#: ``Column.per`` values: a value per results row, or per (dataset, codec, operating point) set.
PER_IMAGE, PER_SET = "image", "set"


@dataclass(frozen=True)
class Column:
    """What one column a metric fills holds: everything a table, plot or comparison needs.

    ``bench run`` stores these descriptions with the run (``metrics.json``), so the report
    shows a metric, plug-ins included, from the run folder alone.
    """

    name: str
    label: str
    higher_is_better: bool
    #: Unit shown in reports (e.g. "dB"), empty when unitless.
    unit: str = ""
    #: :data:`PER_IMAGE` (a value per results row) or :data:`PER_SET` (per set of images, in
    #: ``distribution_metrics.csv``).
    per: str = PER_IMAGE
    #: Column of this value's standard deviation in the same table (e.g. ``kid_std``), if any.
    spread: str = ""
    #: Also shown on a dB scale, ``-10 log10(1 - value)`` (for values that approach 1, like MS-SSIM).
    db_scale: bool = False
    #: False for a column that only qualifies another (a spread, a note): never plotted itself.
    plotted: bool = True

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "Column":
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{key: value for key, value in values.items() if key in known})


class Metric:
    """Base class for a metric with a value per reconstruction, on 8-bit RGB arrays: full-reference
    (PSNR, LPIPS...) or no-reference (NIQE, which ignores the reference it is given).

    Subclasses set ``name``, ``columns`` and ``library`` and implement :meth:`measure`. One
    that takes options names their dataclass as ``Options`` and receives an instance of it.
    """

    name: ClassVar[str] = ""
    #: The columns this metric fills, described (see :class:`Column`).
    columns: ClassVar[tuple[Column, ...]] = ()
    #: Distribution whose version is recorded in the run metadata.
    library: ClassVar[str] = ""
    #: The dataclass of options the constructor takes (None: it takes none).
    Options: ClassVar[type | None] = None
    #: The torch device of its networks: ``auto`` until the run gives one (:meth:`use_device`).
    device: str = AUTO
    #: Peak memory of measuring one row, in bytes per image pixel (``bench/core/memory.py``, docs/memory.md).
    peak_bytes_per_pixel: ClassVar[float] = 32.0

    def __init__(self, options: Any = None) -> None:
        self.options = options if options is not None else (self.Options() if self.Options else None)

    @classmethod
    def column_names(cls) -> tuple[str, ...]:
        return tuple(column.name for column in cls.columns)

    def check(self) -> None:
        """Fail early, in the main process, if the metric cannot run with its options.

        Called once before any job runs; raise :class:`bench.errors.BenchError` with a
        one-line reason (missing or corrupt weights). It must not initialise CUDA (the runner
        forks its workers afterwards): check files on the CPU. The default checks nothing.
        """

    def use_device(self, device: str) -> None:
        """Run on torch ``device`` from now on (the runner gives each worker its own)."""
        self.device = device

    def signature(self) -> str:
        """What the stored values depend on besides the images (network, weights hash...).

        A stored row whose signature for this metric differs is measured again, so a
        changed setting never leaves stale values. The default is the metric's name.
        """
        return self.name

    def measure(self, reference: np.ndarray, reconstruction: np.ndarray) -> dict[str, Any]:
        """Score ``reconstruction`` against ``reference`` (both H x W x 3 uint8)."""
        raise NotImplementedError

    def prepare_reference(self, reference: np.ndarray) -> Any:
        """The part of the work that depends on ``reference`` (H x W x 3 uint8, read-only) alone.

        The runner calls it once per reference image in each worker and passes the result to
        :meth:`measure_prepared` for every reconstruction of that image, so it must not be
        changed there. The default returns ``reference`` itself. A metric that overrides it
        overrides :meth:`measure_prepared` too, and keeps :meth:`measure` equal to
        ``measure_prepared(prepare_reference(reference), reconstruction)``.
        """
        return reference

    def measure_prepared(self, prepared: Any, reconstruction: np.ndarray) -> dict[str, Any]:
        """:meth:`measure` of ``reconstruction`` against the reference that ``prepared`` comes from.

        ``prepared`` is what :meth:`prepare_reference` returned. The default calls
        :meth:`measure` with it (the reference itself, unless :meth:`prepare_reference` is overridden).
        """
        return self.measure(prepared, reconstruction)

    def row_columns(self) -> tuple[str, ...]:
        """The columns a stored row must hold for this metric to be done."""
        return self.column_names()

    def feature_keys(self) -> tuple[str, ...]:
        """The features a stored row must have beside it for this metric to be done (set metrics)."""
        return ()


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

    def features_of_many(self, images: Sequence[np.ndarray]) -> list[np.ndarray]:
        """:meth:`features` of each of ``images``, in order (the runner passes a task's
        reconstructions together). The default calls :meth:`features` per image; a network
        metric may batch them, keeping each image's features equal to :meth:`features`'."""
        return [self.features(image) for image in images]

    def compute(self, reference_features: np.ndarray, reconstruction_features: np.ndarray) -> dict[str, float]:
        """The metric's columns from the pooled features of the two sets."""
        raise NotImplementedError

    def measure(self, reference: np.ndarray, reconstruction: np.ndarray) -> dict[str, float]:
        # Per-row metrics only; a distribution has no value for one image pair.
        return {}

    def row_columns(self) -> tuple[str, ...]:
        return ()

    def feature_keys(self) -> tuple[str, ...]:
        return (self.feature_key(),)
