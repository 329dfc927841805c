"""A run directory as the tables and quantities the report sections use.

The files are read through :class:`bench.core.rundir.RunDir` (the one owner of the layout); what
is plotted, BD-rated and compared comes from the metric descriptions stored with the run
(``metrics.json``), so a plug-in metric reaches the report like a built-in one. Only rows
whose ``status`` is ``"ok"`` are used; optional columns and files may be missing, and each
report section then says what is missing instead of failing.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from bench.metrics.base import PER_SET, Column
from bench.core.rundir import RunDir, RunDirError

__all__ = ["Quantity", "RunData", "RunDirError", "load_run", "quantities_of", "to_db"]


@dataclass(frozen=True)
class Quantity:
    """One plotted / compared quantity: a metric column as its metric describes it, or its dB form."""

    metric: Column
    #: The dB form ``-10 log10(1 - value)`` of the column (for a column with ``db_scale``).
    db: bool = False

    @property
    def column(self) -> str:
        return f"{self.metric.name}_db" if self.db else self.metric.name

    @property
    def label(self) -> str:
        return f"{self.metric.label} (dB)" if self.db else self.metric.label

    @property
    def unit(self) -> str:
        return "dB" if self.db else self.metric.unit

    @property
    def higher_is_better(self) -> bool:
        return self.metric.higher_is_better

    @property
    def distribution(self) -> bool:
        """True for dataset-level metrics (FID, KID) read from ``distribution_metrics.csv``."""
        return self.metric.per == PER_SET

    @property
    def std_column(self) -> str:
        """Column holding a per-point standard deviation in the distribution table, if any."""
        return "" if self.db else self.metric.spread

    @property
    def db_of(self) -> str:
        """For the dB form, the column it is computed from; else empty."""
        return self.metric.name if self.db else ""


def to_db(values: Any) -> np.ndarray:
    """A value that approaches 1 on a dB scale, ``-10 log10(1 - value)``; 1 maps to +inf."""
    with np.errstate(divide="ignore"):
        return -10.0 * np.log10(1.0 - np.asarray(values, dtype=float))


def quantities_of(columns: Sequence[Column]) -> list[Quantity]:
    """The quantities described by metric columns: each plotted column, and its dB form where asked."""
    quantities = []
    for column in columns:
        if column.plotted:
            quantities.append(Quantity(column))
            if column.db_scale:
                quantities.append(Quantity(column, db=True))
    return quantities


@dataclass
class RunData:
    """The parts of a run directory the report reads."""

    run_dir: RunDir
    #: Rows with status "ok", plus the dB form of every column that has one.
    results: pd.DataFrame
    #: Number of rows whose status was not "ok", by codec.
    failed: dict[str, int]
    #: ``distribution_metrics.csv`` with a ``bpp`` column, or None when absent.
    distribution: pd.DataFrame | None
    quantities: list[Quantity]
    metadata: dict[str, Any] = field(default_factory=dict)
    #: Learned codecs' complexity per operating point (``complexity.csv``), or None.
    complexity: pd.DataFrame | None = None

    @property
    def path(self) -> Path:
        return self.run_dir.path

    @property
    def codecs(self) -> list[str]:
        return list(dict.fromkeys(self.results["codec"]))

    @property
    def datasets(self) -> list[str]:
        return sorted(set(self.results["dataset"].astype(str)))

    @property
    def per_image_quantities(self) -> list[Quantity]:
        return [quantity for quantity in self.quantities if not quantity.distribution]

    def available(self, quantity: Quantity) -> bool:
        table = self.distribution if quantity.distribution else self.results
        return table is not None and quantity.column in table and table[quantity.column].notna().any()

    def reconstruction(self, row: Any) -> Path | None:
        """The saved reconstruction of a results row, or None."""
        return self.run_dir.reconstruction(row)


def _add_db_columns(table: pd.DataFrame | None, quantities: list[Quantity]) -> None:
    if table is None:
        return
    for quantity in quantities:
        if quantity.db_of and quantity.db_of in table and quantity.column not in table:
            table[quantity.column] = to_db(table[quantity.db_of])


def load_run(path: str | Path) -> RunData:
    """Read a run directory; raise :class:`RunDirError` if it has no usable results table, no
    row with status ok, or a file that cannot be read."""
    run_dir = RunDir(path)
    run_dir.check_readable()
    # The statuses first (two columns), then only the ok rows: a large table is never read whole.
    statuses = run_dir.read_results(columns=())
    ok = statuses["status"].astype(str) == "ok"
    if not ok.any():
        raise RunDirError(
            f"{run_dir.path}: none of its {len(statuses)} result rows has status ok, so there is nothing to report; "
            f"see the error column of {run_dir.results_csv.name}, fix the cause and run `bench run --retry-errors`"
        )
    failed = statuses.loc[~ok, "codec"].astype(str).value_counts().to_dict()
    del statuses
    results = run_dir.read_results(ok_only=True)
    for column in ("codec", "image", "point"):
        results[column] = results[column].astype(str)
    distribution = run_dir.read_distribution()
    if distribution is not None:
        distribution["codec"] = distribution["codec"].astype(str)
        distribution["bpp"] = distribution["mean_bpp"]
    quantities = quantities_of(run_dir.read_metric_columns())
    _add_db_columns(results, quantities)
    _add_db_columns(distribution, quantities)
    return RunData(run_dir, results, failed, distribution, quantities, run_dir.read_metadata(), run_dir.read_complexity())
