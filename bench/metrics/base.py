"""The metric interface.

A :class:`Metric` scores one reconstruction against its reference and returns one or more
named values, each of which becomes a column of the results table. The runner knows no
metric by name: it asks each selected metric for ``measure(reference, reconstruction)``.
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

    def measure(self, reference: np.ndarray, reconstruction: np.ndarray) -> dict[str, float]:
        """Score ``reconstruction`` against ``reference`` (both H x W x 3 uint8)."""
        raise NotImplementedError
