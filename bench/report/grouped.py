"""One comparison over several pairs of codecs, such as a dense and a sparse model trained with
each of three seeds: how much of a difference is the pair's own, and how much a second
training run would move it.

Each pair B - A is compared as :func:`bench.report.matched.compare` does (per-image BD values
and matched-bpp differences with 95 % bootstrap intervals over images), at bpp points common to
every pair. Then, per metric and measure, the pairs are the unit: their mean, their range, and a
95 % Student-t interval over the pairs' means (``mean ± t(0.975, n - 1) * sd / sqrt(n)``). A
difference **exceeds the spread between pairs** when that interval excludes zero: with three
pairs the t factor is 4.30, so only a difference large against its seed-to-seed spread does.
The bootstrap intervals say how much the result depends on the images; the interval over pairs
says how much it depends on the training run.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from bench.report.curves import per_image_curves
from bench.report.matched import (
    BITS, CONFIDENCE, OWN_POINTS, Comparison, Estimate, as_vias, compare, common_bpp_points, comparison_table,
    format_estimate, gap_kind, join_clauses, reading_disagreements, verdict,
)
from bench.report.rundata import Quantity, RunData


@dataclass
class Spread:
    """One metric and measure over the pairs: each pair's estimate, and the pairs as the unit."""

    quantity: Quantity
    #: "BD-rate", "BD-metric" or "at X bpp".
    kind: str
    #: Each pair's estimate (None where the pair has none), in the order of the pairs.
    per_pair: list[Estimate | None]
    #: Mean over the pairs with the Student-t interval over them (NaN bounds with fewer than two).
    across: Estimate
    minimum: float
    maximum: float

    @property
    def exceeds_spread(self) -> bool:
        """True when the interval over pairs excludes zero."""
        return self.across.significant

    @property
    def signs(self) -> set[int]:
        """The signs (+1, -1, 0) of the pairs' means."""
        return {int(np.sign(estimate.mean)) for estimate in self.per_pair
                if estimate is not None and math.isfinite(estimate.mean)}

    @property
    def significant_pairs(self) -> int:
        """Pairs whose own bootstrap interval excludes zero."""
        return sum(1 for estimate in self.per_pair if estimate is not None and estimate.significant)

    @property
    def unit(self) -> str:
        return "%" if self.kind == "BD-rate" else self.quantity.unit


@dataclass
class GroupedComparison:
    pairs: list[tuple[str, str]]
    bpp_points: list[float]
    comparisons: list[Comparison]
    spreads: list[Spread] = field(default_factory=list)
    vias: tuple[str, ...] = ()


def t_interval(values: Sequence[float]) -> Estimate:
    """Mean of ``values`` with the 95 % Student-t interval that treats each value as one unit."""
    values = np.asarray([value for value in values if math.isfinite(value)], dtype=float)
    if len(values) == 0:
        return Estimate(math.nan, math.nan, math.nan, 0)
    mean = float(values.mean())
    if len(values) < 2:
        return Estimate(mean, math.nan, math.nan, len(values))
    half = stats.t.ppf(0.5 + CONFIDENCE / 2, len(values) - 1) * values.std(ddof=1) / math.sqrt(len(values))
    return Estimate(mean, mean - half, mean + half, len(values))


def shared_bpp_points(run: RunData, pairs: Sequence[tuple[str, str]]) -> list[float]:
    """Round bpp points inside every pair's common range (see :func:`common_bpp_points`)."""
    curves_a, curves_b = {}, {}
    for index, (a, b) in enumerate(pairs):
        curves_a.update({(index, image): curve for image, curve in per_image_curves(run, "bpp", a).items()})
        curves_b.update({(index, image): curve for image, curve in per_image_curves(run, "bpp", b).items()})
    return common_bpp_points(curves_a, curves_b)


def compare_pairs(
    run: RunData, pairs: Sequence[tuple[str, str]], bpp_points: list[float] | None = None, seed: int = 0,
    via: str | Sequence[str] | None = None,
) -> GroupedComparison:
    """Compare B against A for each pair, then each metric and measure over the pairs (``via``:
    see :func:`bench.report.matched.compare`)."""
    if len(pairs) < 2:
        raise ValueError(f"a grouped comparison needs at least two pairs A:B, got {len(pairs)}")
    if bpp_points is None:
        bpp_points = shared_bpp_points(run, pairs)
    vias = as_vias(via)
    comparisons = [compare(run, a, b, bpp_points, seed, vias) for a, b in pairs]
    grouped = GroupedComparison(list(pairs), list(bpp_points), comparisons, vias=vias)
    keys = list(dict.fromkeys((row.quantity.column, row.kind) for row in comparisons[0].rows))
    for column, kind in keys:
        per_pair = []
        for comparison in comparisons:
            row = next((r for r in comparison.rows if (r.quantity.column, r.kind) == (column, kind)), None)
            per_pair.append(row.estimate if row is not None else None)
        means = [estimate.mean for estimate in per_pair if estimate is not None and math.isfinite(estimate.mean)]
        if not means:
            continue  # no pair has it (BD values of single-point codecs, say)
        quantity = next(row.quantity for row in comparisons[0].rows if row.quantity.column == column)
        grouped.spreads.append(Spread(quantity, kind, per_pair, t_interval(means), min(means), max(means)))
    return grouped


@dataclass
class Tabulated:
    """A comparison as shown: its table, the legend of its pairs (none for one pair) and its verdict."""

    table: pd.DataFrame
    legend: list[str]
    verdict: str
    bpp_points: list[float]


def tabulate(
    run: RunData, pairs: Sequence[tuple[str, str]], bpp_points: list[float] | None = None,
    via: str | Sequence[str] | None = None,
) -> Tabulated:
    """One pair compared (:func:`bench.report.matched.compare`), or several (:func:`compare_pairs`)."""
    if len(pairs) == 1:
        comparison = compare(run, *pairs[0], bpp_points, via=via)
        return Tabulated(comparison_table(comparison), [], verdict(comparison), comparison.bpp_points)
    grouped = compare_pairs(run, pairs, bpp_points, via=via)
    return Tabulated(grouped_table(grouped), pair_legend(grouped), grouped_verdict(grouped), grouped.bpp_points)


def grouped_table(grouped: GroupedComparison) -> pd.DataFrame:
    """Metric, measure, each pair's B - A (with its bootstrap interval), the mean over pairs with
    its t interval, the range, and whether the difference exceeds the spread between pairs."""
    records = []
    for spread in grouped.spreads:
        record = {"metric": spread.quantity.label, "measure": spread.kind}
        for index, estimate in enumerate(spread.per_pair, start=1):
            record[f"pair {index}"] = format_estimate(estimate, "none", spread.unit)
        record["over pairs [t 95 %]"] = format_estimate(spread.across, "none", spread.unit)
        record["range"] = f"{spread.minimum:+.3g} .. {spread.maximum:+.3g}" if math.isfinite(spread.minimum) else ""
        record["beyond pair spread"] = "yes" if spread.exceeds_spread else "no"
        records.append(record)
    return pd.DataFrame.from_records(records)


def pair_legend(grouped: GroupedComparison) -> list[str]:
    """``pair 1: B - A`` for each pair."""
    return [f"pair {index}: {b} - {a}" for index, (a, b) in enumerate(grouped.pairs, start=1)]


def _direction(spread: Spread, mean: float) -> str:
    if spread.kind == "BD-rate" or spread.quantity is BITS:
        return "B needs fewer bits" if mean < 0 else "B needs more bits"
    return "B is better" if (mean > 0) == spread.quantity.higher_is_better else "B is worse"


def _clause(spread: Spread) -> str:
    where = f"{spread.quantity.label} ({spread.kind})"
    text = format_estimate(spread.across, unit=spread.unit)
    n = spread.across.n_images
    if n < len(spread.per_pair):
        text += f" ({n} of {len(spread.per_pair)} pairs have a value)"
    if spread.exceeds_spread:
        return f"{where}, {_direction(spread, spread.across.mean)}: {text}"
    if len(spread.signs - {0}) > 1:
        unit = f" {spread.unit}" if spread.unit else ""
        return f"{where}: pairs from {spread.minimum:+.3g} to {spread.maximum:+.3g}{unit}"
    return (f"{where}, {_direction(spread, spread.across.mean)} in all {n} pairs ({spread.significant_pairs} with an "
            f"interval over images that excludes 0): {text}")


def grouped_verdict(grouped: GroupedComparison) -> str:
    """Which differences exceed the spread between pairs, which do not, and where pairs disagree in sign."""
    shown = [spread for spread in grouped.spreads if not spread.quantity.db_of and spread.across.n_images
             and spread.kind in ("BD-rate", "BD-metric", OWN_POINTS, _middle_kind(grouped),
                                 *(gap_kind(via) for via in grouped.vias))]
    if not shown:
        return "The pairs could not be compared: their results do not share a bpp range on any metric."
    beyond = [spread for spread in shown if spread.exceeds_spread]
    disagree = [spread for spread in shown if not spread.exceeds_spread and len(spread.signs - {0}) > 1]
    within = [spread for spread in shown if spread not in beyond and spread not in disagree]
    sentences = [f"Over {len(grouped.pairs)} pairs (B - A; the pairs are the unit, 95 % t intervals):"]
    for title, group in (("Beyond the spread between pairs", beyond),
                         ("Same sign in every pair, but within the spread between pairs", within),
                         ("Pairs disagree in sign", disagree)):
        if group:
            sentences.append(f"{title}: " + join_clauses([_clause(spread) for spread in group]) + ".")
    split = reading_disagreements({(spread.quantity.label, spread.kind): spread.across.mean for spread in shown},
                                  grouped.vias)
    if split:
        sentences.append(f"The sign of the mean over pairs depends on the curve read against: {join_clauses(split)}.")
    return " ".join(sentences)


def _middle_kind(grouped: GroupedComparison) -> str | None:
    if not grouped.bpp_points:
        return None
    return f"at {grouped.bpp_points[len(grouped.bpp_points) // 2]:g} bpp"
