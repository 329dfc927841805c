"""The report's answer at the top: every codec against the anchor on every metric.

* **BD matrix**: codecs x metrics, each cell the BD-rate of the codec against the anchor, by the
  one definition ``bench compare`` uses (:func:`bench.report.matched.compare`): computed on each
  image's own pair of curves, averaged over images, with a 95 % percentile-bootstrap interval
  over images. Dataset-level metrics (FID, KID) have no per-image curves: their BD-rate is on the
  mean curves, without an interval. A cell that cannot be computed carries its reason, shown
  once as a footnote.
* **Verdict**: per metric, the codecs ranked by that BD-rate (fewest bits for the same quality
  first), and which codec is best at a low, a middle and a high rate (read off each codec's
  mean curve, PCHIP over log bpp, among the codecs whose curve reaches that rate).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from bench.report.curves import interpolate_at, mean_curve
from bench.report.matched import Estimate, compare, round_bpp
from bench.report.rundata import Quantity, RunData

#: Where between the low and the high end of the rates most codecs reach the verdict reads "low",
#: "middle" and "high" (fractions of the range in log bpp).
RATE_POSITIONS = (("low", 0.15), ("middle", 0.5), ("high", 0.85))


@dataclass
class Cell:
    estimate: Estimate | None
    #: Why there is no estimate.
    reason: str = ""


@dataclass
class Overview:
    quantities: list[Quantity]
    #: codec -> quantity column -> cell (the anchor itself has none).
    cells: dict[str, dict[str, Cell]] = field(default_factory=dict)
    #: quantity column -> [(position name, bpp, best codec or "", value, codecs reaching it)].
    best_at: dict[str, list[tuple[str, float, str, float, int]]] = field(default_factory=dict)

    def ranking(self, quantity: Quantity) -> list[tuple[str, Estimate]]:
        """(codec, BD-rate) with an estimate, fewest bits first."""
        ranked = [(codec, cells[quantity.column].estimate) for codec, cells in self.cells.items()
                  if cells[quantity.column].estimate is not None]
        return sorted(ranked, key=lambda item: item[1].mean)

    def footnotes(self) -> list[str]:
        """The distinct reasons of the cells without an estimate, in first-seen order."""
        return list(dict.fromkeys(cell.reason for cells in self.cells.values() for cell in cells.values() if cell.reason))


def shown_quantities(run: RunData) -> list[Quantity]:
    """The run's metrics with data, without the dB twins of other metrics (their BD-rate is the same)."""
    return [quantity for quantity in run.quantities if run.available(quantity) and not quantity.db_of]


def overview(run: RunData, anchor: str, seed: int = 0) -> Overview:
    """The BD matrix and the verdict's rankings and best codecs per rate."""
    quantities = shown_quantities(run)
    result = Overview(quantities)
    for codec in run.codecs:
        if codec == anchor:
            continue
        comparison = compare(run, anchor, codec, bpp_points=[], seed=seed, bd_kinds=("BD-rate",))
        rows = {row.quantity.column: row for row in comparison.rows if row.kind == "BD-rate"}
        result.cells[codec] = {}
        for quantity in quantities:
            row = rows.get(quantity.column)
            if row is None:
                result.cells[codec][quantity.column] = Cell(None, "the metric has no values for this codec")
            else:
                result.cells[codec][quantity.column] = Cell(row.estimate, "" if row.estimate is not None else _short(row.reason))
    for quantity in quantities:
        result.best_at[quantity.column] = _best_at_rates(run, quantity)
    return result


def _short(reason: str) -> str:
    """A BD failure reason without its numbers, so that cells failing alike share one footnote:
    ``no image had comparable curves (metric ranges do not overlap (anchor 20-30, ...))`` ->
    ``no image had comparable curves: metric ranges do not overlap``."""
    if not reason:
        return "no estimate"
    head, _, detail = reason.partition(" (")
    detail = detail.split(" (", 1)[0].rstrip(")")
    detail = detail.replace("anchor", "the anchor's").replace("test's", "the codec's").replace("test ", "the codec's ")
    return f"{head}: {detail}" if detail else head


def _best_at_rates(run: RunData, quantity: Quantity) -> list[tuple[str, float, str, float, int]]:
    curves = {codec: mean_curve(run, quantity, codec) for codec in run.codecs}
    curves = {codec: curve for codec, curve in curves.items() if len(curve) >= 2}
    if not curves:
        return []
    lows = np.array([curve["bpp"].min() for curve in curves.values()])
    highs = np.array([curve["bpp"].max() for curve in curves.values()])
    low, high = float(np.median(lows)), float(np.median(highs))
    if not 0 < low < high:
        return []
    found = []
    for name, position in RATE_POSITIONS:
        rate = round_bpp(low * (high / low) ** position)
        values = {}
        for codec, curve in curves.items():
            value = interpolate_at(curve["bpp"].to_numpy(float), curve["value"].to_numpy(float), np.array([rate]))[0]
            if math.isfinite(value):
                values[codec] = value
        if values:
            best = (max if quantity.higher_is_better else min)(values, key=values.__getitem__)
            found.append((name, rate, best, values[best], len(values)))
        else:
            found.append((name, rate, "", math.nan, 0))
    return found
