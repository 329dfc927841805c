"""Matched-bpp comparison of two codecs with bootstrap confidence intervals over images.

For codec B against codec A and each per-image metric:

* **BD-rate and BD-metric** are computed on each image's own pair of curves and averaged over
  the images where both exist (the JPEG AI common test conditions average per-image BD-rates
  the same way).
* **Matched-bpp differences**: each image's curve is interpolated (PCHIP over log bpp) at a
  few bpp points inside both codecs' ranges, B - A is taken per image, then averaged.

* **At own points**, when each codec has one operating point per image (a single-rate model such
  as one HiFiC checkpoint, where no curve exists to match bpp on): per image, B's bpp against
  A's (``100 (B / A - 1)`` %) and B - A in each metric, where each codec stands.

The 95 % interval of every average is a percentile bootstrap over images
(:func:`scipy.stats.bootstrap`), so it says how much the result depends on which images were
in the test set. Dataset-level metrics (FID, KID) have no per-image values and get BD numbers
(or the difference at own points) on the mean curves without an interval.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike
import pandas as pd
from scipy.stats import bootstrap

from bench.metrics.base import Column
from bench.report.bdrate import BDValue, bd_metric, bd_rate
from bench.report.curves import interpolate_at, mean_curve, per_image_curves
from bench.report.rundata import Quantity, RunData

CONFIDENCE = 0.95
#: Bjontegaard deltas by the row kind they give.
BD_FUNCTIONS = {"BD-rate": bd_rate, "BD-metric": bd_metric}
N_RESAMPLES = 2000
#: Resampled values the bootstrap holds at once (scipy's ``batch``): 32 MB of them, whatever the
#: number of images (all 2000 resamples at once of 125,000 images took 2 GB, twice); the same
#: random stream, so the same interval.
BOOTSTRAP_VALUES = 2**22
#: The kind of the rows that compare single-point codecs where each stands.
OWN_POINTS = "at own points"
#: The rate itself as a compared quantity: B's bpp relative to A's, in percent.
BITS = Quantity(Column("bpp", "bits", higher_is_better=False, unit="%"))


@dataclass(frozen=True)
class Estimate:
    """A mean over images with its bootstrap interval (NaN bounds when there is no interval)."""

    mean: float
    low: float
    high: float
    n_images: int

    @property
    def significant(self) -> bool:
        """False when the interval contains zero (or there is no interval)."""
        return math.isfinite(self.low) and math.isfinite(self.high) and not self.low <= 0 <= self.high


@dataclass
class ComparisonRow:
    quantity: Quantity
    #: "BD-rate", "BD-metric" or "at X bpp".
    kind: str
    estimate: Estimate | None
    #: Why there is no estimate, when ``estimate`` is None.
    reason: str = ""
    bpp: float | None = None


@dataclass
class Comparison:
    codec_a: str
    codec_b: str
    bpp_points: list[float]
    rows: list[ComparisonRow] = field(default_factory=list)
    #: The codecs whose curves single-point codecs were read against, if any.
    vias: tuple[str, ...] = ()


def bootstrap_mean(values: ArrayLike, seed: int = 0) -> Estimate:
    """Mean of ``values`` with a percentile-bootstrap 95 % interval over its entries."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if len(values) == 0:
        return Estimate(math.nan, math.nan, math.nan, 0)
    if len(values) == 1 or np.all(values == values[0]):
        # Nothing to resample: the interval is the value itself when every image agrees.
        spread = values[0] if len(values) > 1 else math.nan
        return Estimate(float(values[0]), spread, spread, len(values))
    result = bootstrap(
        (values,), np.mean, confidence_level=CONFIDENCE, n_resamples=N_RESAMPLES,
        method="percentile", rng=np.random.default_rng(seed), batch=max(1, BOOTSTRAP_VALUES // len(values)),
    )
    interval = result.confidence_interval
    return Estimate(float(values.mean()), float(interval.low), float(interval.high), len(values))


def round_bpp(value: float) -> float:
    """``value`` to two significant digits: the round bpp points comparisons are read at."""
    return float(f"{value:.2g}")


def common_bpp_points(
    curves_a: dict[str, tuple[np.ndarray, np.ndarray]],
    curves_b: dict[str, tuple[np.ndarray, np.ndarray]],
    count: int = 3,
) -> list[float]:
    """A few round bpp values inside both codecs' ranges on as many images as possible.

    The common range is the intersection of every image's ranges for both codecs; when that is
    empty it is the intersection of the median ranges (some images then miss some points).
    """
    pairs = [(curves_a[i][0], curves_b[i][0]) for i in sorted(set(curves_a) & set(curves_b))]
    pairs = [(a, b) for a, b in pairs if len(a) and len(b)]
    if not pairs:
        return []
    lows = np.array([max(a[0], b[0]) for a, b in pairs])
    highs = np.array([min(a[-1], b[-1]) for a, b in pairs])
    low, high = lows.max(), highs.min()
    if not low < high:
        low, high = float(np.median(lows)), float(np.median(highs))
        if not low < high:
            return []
    fractions = np.linspace(0.2, 0.8, count) if count > 1 else np.array([0.5])
    points = {round_bpp(low * (high / low) ** f) for f in fractions}
    return sorted(p for p in points if low <= p <= high)


def _per_image_bd(function, curves_a, curves_b, images) -> tuple[np.ndarray, str]:
    values, reasons = [], []
    for image in images:
        result: BDValue = function(*curves_a[image], *curves_b[image])
        if result.value is None:
            reasons.append(result.reason)
        else:
            values.append(result.value)
    reason = f"no image had comparable curves ({reasons[0]})" if reasons and not values else ""
    return np.array(values), reason


def one_point_each(curves_a: dict[str, tuple[np.ndarray, np.ndarray]], curves_b: dict[str, tuple[np.ndarray, np.ndarray]]) -> bool:
    """True when both codecs have exactly one operating point on every image they share."""
    images = set(curves_a) & set(curves_b)
    return bool(images) and all(len(curves_a[i][0]) == 1 and len(curves_b[i][0]) == 1 for i in images)


def _own_points(run: RunData, column: str, codec: str) -> dict[str, float]:
    """Image -> the value of ``column`` at the codec's one operating point on it."""
    return {image: float(values[0]) for image, (_, values) in per_image_curves(run, column, codec).items() if len(values)}


def _dataset_level_rows(
    run: RunData, quantity: Quantity, codec_a: str, codec_b: str, bd_kinds: Sequence[str],
) -> list[ComparisonRow]:
    a, b = mean_curve(run, quantity, codec_a), mean_curve(run, quantity, codec_b)
    rows = []
    for kind in bd_kinds:
        result = BD_FUNCTIONS[kind](a["bpp"], a["value"], b["bpp"], b["value"])
        if result.value is None:
            rows.append(ComparisonRow(quantity, kind, None, result.reason))
        else:
            rows.append(ComparisonRow(quantity, kind, Estimate(result.value, math.nan, math.nan, 0),
                                      "dataset-level metric: no per-image interval"))
    return rows


def compare(
    run: RunData, codec_a: str, codec_b: str, bpp_points: list[float] | None = None, seed: int = 0,
    via: str | Sequence[str] | None = None, bd_kinds: Sequence[str] = tuple(BD_FUNCTIONS),
) -> Comparison:
    """Compare codec B against codec A on every quantity the run has (``bd_kinds``: which
    Bjontegaard deltas to compute).

    When each has one operating point per image, they are compared where each stands, and with
    ``via`` (a codec with a curve, such as a classical anchor, or several) also by their gaps to
    that codec's curve at their own bpp: ``(B - via at B's bpp) - (A - via at A's bpp)``, a
    matched-bpp difference that reads the exchange of bits for quality off ``via``'s curve. Curves
    exchange bits for quality at different rates, so the sign can depend on the curve: the verdict
    says so when it does.
    """
    vias = as_vias(via)
    for codec in (codec_a, codec_b, *vias):
        if codec not in run.codecs:
            raise ValueError(
                f"codec {codec!r} has no successful rows in {run.path}; codecs there: {', '.join(run.codecs)}"
            )
    reference = per_image_curves(run, "bpp", codec_a)
    if bpp_points is None:
        bpp_points = common_bpp_points(reference, per_image_curves(run, "bpp", codec_b))
    comparison = Comparison(codec_a, codec_b, list(bpp_points), vias=vias)
    if one_point_each(reference, per_image_curves(run, "bpp", codec_b)):
        comparison.rows = _single_point_rows(run, codec_a, codec_b, vias, seed)
        return comparison
    for quantity in run.quantities:
        if not run.available(quantity):
            continue
        if quantity.distribution:
            comparison.rows.extend(_dataset_level_rows(run, quantity, codec_a, codec_b, bd_kinds))
            continue
        curves_a = per_image_curves(run, quantity.column, codec_a)
        curves_b = per_image_curves(run, quantity.column, codec_b)
        images = sorted(set(curves_a) & set(curves_b))
        for kind in bd_kinds:
            values, reason = _per_image_bd(BD_FUNCTIONS[kind], curves_a, curves_b, images)
            estimate = bootstrap_mean(values, seed) if len(values) else None
            comparison.rows.append(ComparisonRow(quantity, kind, estimate, reason))
        for point in bpp_points:
            differences = [
                interpolate_at(*curves_b[i], [point])[0] - interpolate_at(*curves_a[i], [point])[0] for i in images
            ]
            estimate = bootstrap_mean(differences, seed)
            reason = "" if estimate.n_images else "no image has both curves at this bpp"
            comparison.rows.append(
                ComparisonRow(quantity, f"at {point:g} bpp", estimate if estimate.n_images else None, reason, point)
            )
    return comparison


def as_vias(via: str | Sequence[str] | None) -> tuple[str, ...]:
    """``via`` as a tuple of codec names: ``None`` is none, a string is one."""
    if via is None:
        return ()
    return (via,) if isinstance(via, str) else tuple(via)


def gap_kind(via: str) -> str:
    """The kind of the rows that compare single-point codecs by their gaps to ``via``'s curve."""
    return f"gap to {via} at own bpp"


def _single_point_rows(
    run: RunData, codec_a: str, codec_b: str, vias: tuple[str, ...], seed: int,
) -> list[ComparisonRow]:
    rates_a, rates_b = _own_points(run, "bpp", codec_a), _own_points(run, "bpp", codec_b)
    rows = [ComparisonRow(BITS, OWN_POINTS, bootstrap_mean(
        [100 * (rates_b[image] / rates_a[image] - 1) for image in sorted(set(rates_a) & set(rates_b))], seed))]
    for quantity in run.quantities:
        if not run.available(quantity):
            continue
        if quantity.distribution:
            curves = {codec: mean_curve(run, quantity, codec) for codec in (codec_a, codec_b, *vias)}
            if len(curves[codec_a]) != 1 or len(curves[codec_b]) != 1:
                continue
            point_a, point_b = curves[codec_a].iloc[0], curves[codec_b].iloc[0]
            no_interval = "dataset-level metric: no per-image interval"
            rows.append(ComparisonRow(quantity, OWN_POINTS, Estimate(float(point_b.value - point_a.value), math.nan, math.nan, 0),
                                      no_interval))
            for via in vias:
                anchor = (curves[via]["bpp"].to_numpy(), curves[via]["value"].to_numpy())
                gap = _gap_difference(anchor, (point_a.bpp, point_a.value), (point_b.bpp, point_b.value))
                rows.append(ComparisonRow(quantity, gap_kind(via), Estimate(gap, math.nan, math.nan, 0) if math.isfinite(gap)
                                          else None, no_interval if math.isfinite(gap) else f"outside {via}'s bpp range"))
            continue
        values_a, values_b = _own_points(run, quantity.column, codec_a), _own_points(run, quantity.column, codec_b)
        images = sorted(set(values_a) & set(values_b))
        rows.append(ComparisonRow(quantity, OWN_POINTS, bootstrap_mean([values_b[i] - values_a[i] for i in images], seed)))
        for via in vias:
            anchor = per_image_curves(run, quantity.column, via)
            differences = [_gap_difference(anchor[i], (rates_a[i], values_a[i]), (rates_b[i], values_b[i]))
                           for i in images if i in anchor]
            estimate = bootstrap_mean(differences, seed)
            rows.append(ComparisonRow(quantity, gap_kind(via), estimate if estimate.n_images else None,
                                      "" if estimate.n_images else f"no image has both points inside {via}'s bpp range"))
    return rows


def _gap_difference(
    curve: tuple[np.ndarray, np.ndarray], point_a: tuple[float, float], point_b: tuple[float, float],
) -> float:
    """``(B - curve at B's bpp) - (A - curve at A's bpp)`` for points ``(bpp, value)``; NaN when
    either bpp lies outside the curve's range."""
    at_a, at_b = interpolate_at(*curve, [point_a[0], point_b[0]])
    return float((point_b[1] - at_b) - (point_a[1] - at_a))


def _number(value: float) -> str:
    return f"{value:.3g}" if abs(value) < 1000 else f"{value:.0f}"


def format_estimate(estimate: Estimate | None, reason: str = "", unit: str = "") -> str:
    """``mean [low, high] unit`` or ``n/a (reason)``."""
    if estimate is None:
        return f"n/a ({reason})"
    unit = f" {unit}" if unit else ""
    if not math.isfinite(estimate.low):
        return f"{estimate.mean:+.3g}{unit}"
    return f"{estimate.mean:+.3g}{unit} [{_number(estimate.low)}, {_number(estimate.high)}]"


def comparison_table(comparison: Comparison) -> pd.DataFrame:
    """The comparison as a table: metric, what, B - A with its interval, images used."""
    records = []
    for row in comparison.rows:
        unit = "%" if row.kind == "BD-rate" else row.quantity.unit
        direction = "lower is better" if row.kind == "BD-rate" or not row.quantity.higher_is_better else "higher is better"
        records.append(
            {
                "metric": row.quantity.label,
                "measure": row.kind,
                f"{comparison.codec_b} - {comparison.codec_a}": format_estimate(row.estimate, row.reason, unit),
                "significant": "" if row.estimate is None or not math.isfinite(row.estimate.low)
                else ("yes" if row.estimate.significant else "no"),
                "reading": direction,
                "images": row.estimate.n_images if row.estimate else 0,
            }
        )
    return pd.DataFrame.from_records(records)


def _magnitude(estimate: Estimate, unit: str) -> str:
    """``0.4 dB [0.2, 0.6]``: magnitudes of a significant estimate (its interval has one sign)."""
    low, high = sorted((abs(estimate.low), abs(estimate.high)))
    unit = f" {unit}" if unit else ""
    return f"{_number(abs(estimate.mean))}{unit} [{_number(low)}, {_number(high)}]"


def _point_clause(row: ComparisonRow) -> str:
    estimate, quantity = row.estimate, row.quantity
    higher = estimate.mean > 0
    better = higher == quantity.higher_is_better
    if not math.isfinite(estimate.low):
        unit = f" {quantity.unit}" if quantity.unit else ""
        return (f"is {_number(abs(estimate.mean))}{unit} {'higher' if higher else 'lower'} "
                f"({'better' if better else 'worse'}) in {quantity.label} (one value each, no interval)")
    if not estimate.significant:
        return f"shows no significant difference in {quantity.label} ({format_estimate(estimate, unit=quantity.unit)})"
    return (
        f"is {_magnitude(estimate, quantity.unit)} {'higher' if higher else 'lower'} "
        f"({'better' if better else 'worse'}) in {quantity.label}"
    )


def _own_rate_clause(row: ComparisonRow) -> str:
    estimate = row.estimate
    if not estimate.significant:
        return f"uses about as many bits (no significant difference: {format_estimate(estimate, unit='%')})"
    return f"uses {_magnitude(estimate, '%')} {'fewer' if estimate.mean < 0 else 'more'} bits"


def _rate_clause(row: ComparisonRow) -> str:
    estimate = row.estimate
    if not estimate.significant:
        return (
            f"about as many bits for the same {row.quantity.label} "
            f"(no significant difference: {format_estimate(estimate, unit='%')})"
        )
    fewer = estimate.mean < 0
    return f"{_magnitude(estimate, '%')} {'fewer' if fewer else 'more'} bits for the same {row.quantity.label}"


def _rows_with_interval(comparison: Comparison, kind: str) -> list[ComparisonRow]:
    """The rows of one kind that have an estimate with an interval, without the dB twins of metrics."""
    return [
        row for row in comparison.rows
        if row.kind == kind and row.estimate is not None and math.isfinite(row.estimate.low)
        and not row.quantity.db_of
    ]


def verdict(comparison: Comparison) -> str:
    """One paragraph in plain words, generated from the comparison's numbers."""
    a, b = comparison.codec_a, comparison.codec_b
    sentences = []
    own = [row for row in comparison.rows if row.kind == OWN_POINTS and row.estimate is not None and not row.quantity.db_of]
    if own:
        n = max(row.estimate.n_images for row in own)
        clauses = [_own_rate_clause(row) if row.quantity is BITS else _point_clause(row) for row in own]
        sentences.append(
            f"Each codec has one operating point per image, so no bpp can be matched directly; where each stands, "
            f"compared with {a}, {b} " + join_clauses(clauses) + f" (means over {n} images with 95 % bootstrap intervals)."
        )
    for via in comparison.vias:
        gaps = [row for row in comparison.rows if row.kind == gap_kind(via) and row.estimate is not None
                and not row.quantity.db_of]
        if gaps:
            sentences.append(
                f"Read against {via}'s curve at each one's own bpp (its exchange of bits for quality), {b} "
                + join_clauses([_point_clause(row) for row in gaps]) + f" than {a}."
            )
    split = reading_disagreements(
        {(row.quantity.label, row.kind): row.estimate.mean for row in comparison.rows if row.estimate is not None
         and not row.quantity.db_of}, comparison.vias)
    if split:
        sentences.append(f"The sign depends on the curve read against: {join_clauses(split)}.")
    points = comparison.bpp_points
    if points:
        middle = points[len(points) // 2]
        clauses = [
            _point_clause(row)
            for row in comparison.rows
            if row.bpp == middle and row.estimate is not None and not row.quantity.db_of
        ]
        if clauses:
            n = max(row.estimate.n_images for row in comparison.rows if row.bpp == middle and row.estimate)
            sentences.append(
                f"At {middle:g} bpp, compared with {a}, {b} " + join_clauses(clauses)
                + f" (means over {n} images with 95 % bootstrap intervals)."
            )
    rate_rows = _rows_with_interval(comparison, "BD-rate")
    if rate_rows:
        sentences.append(
            f"Over the common quality range (BD-rate), {b} needs " + join_clauses([_rate_clause(r) for r in rate_rows])
            + f" compared with {a}."
        )
    if not sentences:
        # Curves that barely overlap leave no common bpp point and, being short, no BD-rate; the
        # BD-metric over each image's common range is then the only measured difference.
        metric_rows = _rows_with_interval(comparison, "BD-metric")
        if metric_rows:
            n = max(row.estimate.n_images for row in metric_rows)
            sentences.append(
                f"No single bpp lies inside both codecs' ranges; over each image's common range "
                f"(BD-metric), compared with {a}, {b} " + join_clauses([_point_clause(r) for r in metric_rows])
                + f" (means over {n} images with 95 % bootstrap intervals)."
            )
    if not sentences:
        return f"{a} and {b} could not be compared: their results do not share a bpp range on any metric."
    return " ".join(sentences)


def reading_disagreements(means: dict[tuple[str, str], float], vias: Sequence[str]) -> list[str]:
    """``label (via +x, via2 -y)`` for each metric whose gaps to the curves of ``vias`` differ in sign.

    ``means`` maps (metric label, row kind) to a mean difference."""
    clauses = []
    for label in dict.fromkeys(label for label, _ in means):
        readings = [(via, means[label, gap_kind(via)]) for via in vias
                    if math.isfinite(means.get((label, gap_kind(via)), math.nan))]
        if len({np.sign(value) for _, value in readings} - {0}) > 1:
            clauses.append(f"{label} ({', '.join(f'{via} {value:+.3g}' for via, value in readings)})")
    return clauses


def join_clauses(clauses: list[str]) -> str:
    return clauses[0] if len(clauses) == 1 else ", ".join(clauses[:-1]) + " and " + clauses[-1]
